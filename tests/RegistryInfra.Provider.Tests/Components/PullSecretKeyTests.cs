using System.Text.Json.Nodes;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.References;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Provider.Components;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Components.PullSecret;
using RegistryInfra.Testing.Components;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>
/// Issue 12: the keys PullSecret and ClusterRegistryAccess write are the ones the kubelet matches for the images users
/// pull (checked with Core's <see cref="KubeletKeyring"/>, the kubelet's matcher that the ported keyring_test.go table
/// holds to), not the server text as given; anonymous registries write nothing and are named in the outputs.
/// </summary>
public sealed class PullSecretKeyTests
{
    private const string Password = "s3cret-key-test-pw";

    private static PullSecretArgs Args(params PullSecretRegistry[] registries) => new() { Registries = [.. registries], Namespaces = ["apps"] };

    private static PullSecretRegistry Static(string server) => new() { Server = server, Username = "robot", Password = Password };

    private static JsonObject Auths(ComponentPlan plan) =>
        JsonNode.Parse(plan.Children.Single(c => c.Type == PullSecretComponent.SecretType).Inputs["stringData"]![".dockerconfigjson"]!.GetValue<string>())!["auths"]!.AsObject();

    private static string? KubeletKey(JsonObject auths, string image) => KubeletKeyring.KeyFor(auths.Select(a => a.Key), ImageReference.Parse(image));

    [Theory]
    [InlineData("registry-1.docker.io")]
    [InlineData("registry.hub.docker.com")]
    public void Docker_Hub_aliases_through_PullSecret_cover_images_written_with_the_alias_and_familiar_names(string server)
    {
        var auths = Auths(ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args(Static(server))));

        Assert.Equal(["https://index.docker.io/v1/", server], auths.Select(a => a.Key));
        Assert.NotNull(KubeletKey(auths, "nginx"));
        Assert.Equal(server, KubeletKey(auths, $"{server}/org/app:1"));
        Assert.Equal(auths["https://index.docker.io/v1/"]!.ToJsonString(), auths[server]!.ToJsonString());
    }

    [Fact]
    public void Docker_Hub_aliases_through_ClusterRegistryAccess_reach_the_static_secret()
    {
        var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "prod", new ClusterRegistryAccessArgs
        {
            Profiles = [new ClusterRegistryProfile { Server = "registry-1.docker.io", Username = "robot", Password = Password }],
            Namespaces = ["apps"],
            AttachServiceAccounts = false,
        });

        var auths = Auths(plan);
        Assert.Equal("registry-1.docker.io", KubeletKey(auths, "registry-1.docker.io/org/app:1"));
        Assert.Equal("https://index.docker.io/v1/", KubeletKey(auths, "org/app:1"));
    }

    [Fact]
    public void Docker_Hub_aliases_keys_from_a_profile_add_the_spellings_its_images_use()
    {
        // RegistryProfile(server: docker.io, images: [registry-1.docker.io/org/app]) outputs both keys as pullSecretKeys.
        var profileKeys = PullSecretKeys.For("docker.io", ["registry-1.docker.io/org/app:1"]).Keys;
        var registry = Static("https://index.docker.io/v1/") with { Keys = [.. profileKeys] };

        var auths = Auths(ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args(registry)));

        Assert.Equal(["https://index.docker.io/v1/", "registry-1.docker.io"], auths.Select(a => a.Key));
        Assert.Equal("registry-1.docker.io", KubeletKey(auths, "registry-1.docker.io/org/app:1"));
    }

    [Fact]
    public void Keys_that_name_another_registry_are_refused_by_field()
    {
        var registry = Static("ghcr.io") with { Keys = ["ghcr.io", "quay.io"] };

        var error = Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args(registry)));

        Assert.Equal("registries[0].keys[1]", error.Field);
        Assert.Contains("names another registry than server ghcr.io", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://Registry.Example.com/", "Registry.Example.com")]
    [InlineData("registry.example.com:5000", "registry.example.com:5000")]
    [InlineData("https://ghcr.io/v2/", "ghcr.io")]
    [InlineData("registry.example.com/team", "registry.example.com/team")]
    public void Case_the_server_is_normalised_through_the_core_and_keeps_the_host_as_written(string server, string key)
    {
        var auths = Auths(ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args(Static(server))));

        Assert.Equal([key], auths.Select(a => a.Key));
    }

    [Fact]
    public void Case_two_spellings_of_one_host_are_one_registry_and_refused_naming_both()
    {
        var error = Assert.Throws<ComponentInputException>(() =>
            ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args(Static("registry.example.com"), Static("Registry.Example.com"))));

        Assert.Equal("registries[1].server", error.Field);
        Assert.Contains("registries[0].server", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Docker_Hub_aliases_two_entries_that_write_one_key_are_refused_naming_both()
    {
        var error = Assert.Throws<ComponentInputException>(() =>
            ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args(Static("docker.io"), Static("registry-1.docker.io"))));

        Assert.Equal("registries[1].server", error.Field);
        Assert.Contains("https://index.docker.io/v1/ that registries[0].server writes too", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("registry.example.com/Team")]
    [InlineData("ftp://registry.example.com")]
    public void Bad_servers_are_refused_by_field_without_the_credential(string server)
    {
        var error = Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args(Static(server))));

        Assert.Equal("registries[0].server", error.Field);
        Assert.DoesNotContain(Password, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Anonymous_entries_write_nothing_and_are_listed_in_the_outputs()
    {
        var plan = ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args(
            Static("registry.example.com"),
            new PullSecretRegistry { Server = "mcr.microsoft.com", Anonymous = true, TokenBased = false, AuthEntry = Output.CreateSecret<string?>("") }));

        Assert.Equal(["registry.example.com"], Auths(plan).Select(a => a.Key));
        Assert.Equal(["mcr.microsoft.com"], plan.Outputs["anonymousRegistries"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public void Anonymous_only_a_cluster_of_public_registries_gets_no_secret_and_no_refresher()
    {
        var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "prod", new ClusterRegistryAccessArgs
        {
            Profiles = [new ClusterRegistryProfile { Server = "mcr.microsoft.com", Anonymous = true }, new ClusterRegistryProfile { Server = "docker.io", Anonymous = true }],
            Namespaces = ["apps"],
        });

        Assert.Equal([PullSecretComponent.TypeToken], plan.Children.Select(c => c.Type));
        Assert.Equal(["mcr.microsoft.com", "docker.io"], plan.Outputs["anonymousRegistries"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Empty(plan.Outputs["imagePullSecrets"]!.AsArray());
    }

    [Fact]
    public void Anonymous_with_a_credential_is_refused_by_field()
    {
        var error = Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(PullSecretComponent.Instance, "ps",
            Args(new PullSecretRegistry { Server = "ghcr.io", AuthEntry = Output.CreateSecret<string?>("{\"auth\":\"" + Password + "\"}"), Anonymous = true })));

        Assert.Equal("registries[0]", error.Field);
        Assert.Contains("an anonymous registry has no credential", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.Message, StringComparison.Ordinal);
    }
}
