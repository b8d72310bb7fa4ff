using RegistryInfra.Core.Distribution;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Tests.Conformance;

/// <summary>
/// Regression tests named for the bullets of issue 12: the keys RegistryInfra writes are the ones the kubelet
/// matches for every image the user gives, and the core's own matching is the kubelet's.
/// </summary>
public sealed class KubeletViewTests
{
    private static string? KubeletKey(PullSecretKeys keys, string image) => KubeletKeyring.KeyFor(keys.Keys, ImageReference.Parse(image));

    [Theory]
    [InlineData("docker.io")]
    [InlineData("index.docker.io")]
    [InlineData("https://index.docker.io/v1/")]
    [InlineData("registry-1.docker.io")]
    [InlineData("registry.hub.docker.com")]
    public void Docker_Hub_aliases_every_Docker_Hub_server_covers_familiar_names(string server)
    {
        var keys = PullSecretKeys.For(server);

        Assert.Equal("https://index.docker.io/v1/", keys.PrimaryKey);
        Assert.NotNull(KubeletKey(keys, "nginx"));
        Assert.NotNull(KubeletKey(keys, "myorg/app:1"));
        Assert.NotNull(KubeletKey(keys, "docker.io/myorg/app"));
        Assert.NotNull(KubeletKey(keys, "index.docker.io/myorg/app"));
    }

    [Theory]
    [InlineData("registry-1.docker.io", "registry-1.docker.io/myorg/app")]
    [InlineData("registry.hub.docker.com", "registry.hub.docker.com/library/nginx:1")]
    public void Docker_Hub_aliases_an_alias_server_also_writes_its_own_key(string server, string image)
    {
        var keys = PullSecretKeys.For(server);

        Assert.Equal(["https://index.docker.io/v1/", server], keys.Keys);
        Assert.Equal(server, KubeletKey(keys, image));
    }

    [Fact]
    public void Docker_Hub_aliases_a_docker_io_server_writes_alias_keys_for_the_images_that_use_them()
    {
        var keys = PullSecretKeys.For("docker.io", ["nginx", "registry-1.docker.io/myorg/app", "ghcr.io/other/app"]);

        Assert.Equal(["https://index.docker.io/v1/", "registry-1.docker.io"], keys.Keys);
        Assert.Null(KubeletKeyring.KeyFor(["https://index.docker.io/v1/"], ImageReference.Parse("registry-1.docker.io/myorg/app")));
    }

    [Theory]
    [InlineData("Registry.Example.com", "Registry.Example.com/app")]
    [InlineData("REGISTRY.example.com:5000", "REGISTRY.example.com:5000/team/app")]
    public void Case_the_key_keeps_the_host_as_written_because_the_kubelet_compares_it_so(string server, string image)
    {
        var keys = PullSecretKeys.For(server);

        Assert.Equal([server], keys.Keys);
        Assert.Equal(server, KubeletKey(keys, image));
        Assert.Null(KubeletKey(keys, image.ToLowerInvariant()));
    }

    [Fact]
    public void Case_an_image_that_writes_the_host_in_another_case_gets_its_own_key()
    {
        var keys = PullSecretKeys.For("Registry.Example.com", ["registry.example.com/app", "Registry.Example.com/other", "REGISTRY.EXAMPLE.COM/x"]);

        Assert.Equal(["Registry.Example.com", "registry.example.com", "REGISTRY.EXAMPLE.COM"], keys.Keys);
        Assert.NotNull(KubeletKey(keys, "registry.example.com/app"));
        Assert.NotNull(KubeletKey(keys, "Registry.Example.com/other"));
        Assert.NotNull(KubeletKey(keys, "REGISTRY.EXAMPLE.COM/x"));
    }

    [Fact]
    public void Case_two_entries_that_differ_only_in_case_are_one_registry_and_refused_by_field()
    {
        var first = PullSecretKeys.For("registry.example.com", field: "registries[0].server");
        var second = PullSecretKeys.For("Registry.Example.COM", field: "registries[1].server");
        var third = PullSecretKeys.For("ghcr.io", field: "registries[2].server");

        var error = PullSecretKeys.FindDuplicate([("registries[0].server", first), ("registries[2].server", third), ("registries[1].server", second)]);

        Assert.NotNull(error);
        Assert.Equal("registries[1].server", error.Field);
        Assert.Contains("registries[0].server", error.Message, StringComparison.Ordinal);
        Assert.Null(PullSecretKeys.FindDuplicate([("a", first), ("b", third)]));
        Assert.NotNull(PullSecretKeys.FindDuplicate([("a", PullSecretKeys.For("docker.io")), ("b", PullSecretKeys.For("https://index.docker.io/v1/"))]));
    }

    [Theory]
    [InlineData("a b", "whitespace")]
    [InlineData("registry.example.com/Team", "not a repository path")]
    [InlineData("registry.example.com/team:1", "not a repository path")]
    [InlineData("256.256.256.256", "not a valid IPv4 address")]
    [InlineData("", "must not be empty")]
    public void Bad_servers_are_refused_with_the_field_named(string server, string reason)
    {
        Assert.False(PullSecretKeys.TryFor(server, null, "registries[3].server", out _, out var error));
        Assert.Equal("registries[3].server", error.Field);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        var thrown = Assert.Throws<RegistryException>(() => PullSecretKeys.For(server, field: "registries[3].server"));
        Assert.StartsWith("registries[3].server: ", thrown.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("registry.example.com/team", "registry.example.com/team")]
    [InlineData("https://registry.example.com/v1/team", "registry.example.com/team")]
    [InlineData("registry.example.com/v2/", "registry.example.com")]
    [InlineData("index.docker.io/myorg", "docker.io/myorg")]
    public void Path_prefixes_are_written_as_the_kubelet_reduces_them(string server, string key)
    {
        var keys = PullSecretKeys.For(server);

        Assert.Equal([key], keys.Keys);
    }

    [Fact]
    public void Path_prefixes_index_docker_io_with_a_path_would_match_nothing_so_docker_io_is_written()
    {
        Assert.Null(KubeletKeyring.KeyFor(["index.docker.io/myorg"], ImageReference.Parse("myorg/app")));
        Assert.Equal("docker.io/myorg", KubeletKeyring.KeyFor(["docker.io/myorg"], ImageReference.Parse("myorg/app")));
    }

    [Theory]
    [InlineData("*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app", true)]
    [InlineData("*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn/app", false)]
    [InlineData("*.azurecr.io", "myregistry.azurecr.io/team/app", true)]
    [InlineData("*.azurecr.io", "azurecr.io/app", false)]
    [InlineData("registry-[0-9].example.com", "registry-7.example.com/app", true)]
    [InlineData("registry-[0-9].example.com", "registry-x.example.com/app", false)]
    // '?' begins the query for Go's url.Parse, so keyring.go indexes this key as the host "registry-".
    [InlineData("registry-?.example.com:5000", "registry-a.example.com:5000/app", false)]
    [InlineData("registry-[a-c].example.com:5000", "registry-a.example.com:5000/app", true)]
    [InlineData("[.example.com", "a.example.com/app", false)]
    public void Globs_match_per_host_label_as_filepath_Match(string key, string image, bool matches)
    {
        Assert.Equal(matches, KubeletKeyring.Covers(key, ImageReference.Parse(image)));
    }

    [Fact]
    public void Globs_a_dockerconfigjson_read_from_a_user_uses_glob_keys_as_the_kubelet_does()
    {
        var config = DockerConfig.Parse("""{"auths":{"*.dkr.ecr.*.amazonaws.com":{"username":"AWS","password":"token"},"ghcr.io":{"username":"u","password":"p"}}}""");

        Assert.Equal("*.dkr.ecr.*.amazonaws.com", config.FindEntry(ImageReference.Parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"))!.Key);
    }

    [Theory]
    [InlineData("registry.example.com/v1/team", "registry.example.com/team/app", true)]
    [InlineData("registry.example.com/team/", "registry.example.com/team/app", true)]
    [InlineData("registry.example.com/team/", "registry.example.com/team", false)]
    [InlineData("registry.example.com/team", "registry.example.com/teammate/app", true)]
    [InlineData("https://quay.io/v1", "quay.io/v1team/app", true)]
    public void Globs_and_path_prefixes_keys_from_users_match_as_keyring_go(string key, string image, bool matches)
    {
        Assert.Equal(matches, KubeletKeyring.Covers(key, ImageReference.Parse(image)));
    }

    [Fact]
    public void Length_the_255_limit_is_on_the_repository_path_not_host_plus_path()
    {
        var host = "registry." + new string('a', 60) + ".example.com";
        Assert.True(ImageReference.TryParse($"{host}/{new string('b', 255)}", out _));
        Assert.False(ImageReference.TryParse($"{host}/{new string('b', 256)}", out _, out var error));
        Assert.Contains("255", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Platform_fallback_no_newer_variant_is_chosen_when_none_was_asked()
    {
        List<ImagePlatform> index = [.. ((string[])["linux/amd64/v2", "linux/amd64/v3", "linux/arm64/v9", "linux/arm/v7"]).Select(ImagePlatform.Parse)];

        Assert.Null(ImagePlatform.Parse("linux/amd64").SelectFrom(index, p => p));
        Assert.Equal("linux/arm/v7", ImagePlatform.Parse("linux/arm64").SelectFrom(index, p => p)!.ToString());
        Assert.Equal("linux/amd64/v2", ImagePlatform.Parse("linux/amd64/v3").SelectFrom(index.Where(p => p.ToString() != "linux/amd64/v3"), p => p)!.ToString());
    }

    [Fact]
    public void Platform_fallback_the_exact_platform_beats_an_older_variant_in_any_index_order()
    {
        List<ImagePlatform> index = [.. ((string[])["linux/386", "linux/amd64", "linux/amd64/v3"]).Select(ImagePlatform.Parse)];

        Assert.Equal("linux/amd64/v3", ImagePlatform.Parse("linux/amd64/v3").SelectFrom(index, p => p)!.ToString());
        Assert.Equal("linux/amd64", ImagePlatform.Parse("linux/amd64/v2").SelectFrom(index, p => p)!.ToString());
        Assert.Equal("linux/amd64", ImagePlatform.Parse("linux/amd64").SelectFrom(index, p => p)!.ToString());
        Assert.Equal("linux/386", ImagePlatform.Parse("linux/amd64").SelectFrom(index.Take(1), p => p)!.ToString());
    }
}
