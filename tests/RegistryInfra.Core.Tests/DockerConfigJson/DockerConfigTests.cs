using System.Text;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Tests.DockerConfigJson;

public sealed class DockerConfigTests
{
    private static readonly string[] MixedSecrets =
    [
        "hub:pass:with:colons", "ghp_Secr3tT0ken", "acr-refresh-t0ken", "t3am-pass", "r00t-pass", "te-pass", "odd-pass",
        "aHVidXNlcjpodWI6cGFzczp3aXRoOmNvbG9ucw==", "dGVhbS1yb2JvdDp0M2FtLXBhc3M=", "cm9vdC1yb2JvdDpyMDB0LXBhc3M=",
    ];

    private static DockerConfig Mixed() =>
        DockerConfig.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "dockerconfig-mixed.json")));

    private static ImageReference Image(string reference) => ImageReference.Parse(reference);

    [Fact]
    public void Parses_auth_username_password_identity_token_and_email()
    {
        var config = Mixed();

        var hub = config.FindEntry(Image("nginx"))!;
        Assert.Equal("https://index.docker.io/v1/", hub.Key);
        Assert.Equal("hubuser", hub.Username);
        Assert.Equal("hub:pass:with:colons", hub.Password);
        Assert.Equal("hub@example.com", hub.Email);

        Assert.Equal(new RegistryCredential("octocat", "ghp_Secr3tT0ken"), config.FindCredential(Image("ghcr.io/org/app:1")));

        var acr = config.FindCredential(Image("myregistry.azurecr.io/app"))!;
        Assert.Equal("00000000-0000-0000-0000-000000000000", acr.Username);
        Assert.Equal("", acr.Password);
        Assert.Equal("acr-refresh-t0ken", acr.IdentityToken);
    }

    [Fact]
    public void Auth_wins_over_username_and_password_when_both_are_given()
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("from-auth:auth-pass"));
        var config = DockerConfig.Parse("{\"auths\":{\"ghcr.io\":{\"auth\":\"" + auth + "\",\"username\":\"from-fields\",\"password\":\"field-pass\"}}}");

        Assert.Equal(new RegistryCredential("from-auth", "auth-pass"), config.FindCredential(Image("ghcr.io/a/b")));
    }

    [Fact]
    public void Other_top_level_fields_and_unknown_entry_fields_survive_a_round_trip()
    {
        var config = Mixed();

        Assert.Equal(["HttpHeaders", "credHelpers", "credsStore"], config.OtherFieldNames);
        var text = config.Serialize();
        Assert.Contains("\"credsStore\":\"desktop\"", text, StringComparison.Ordinal);
        Assert.Contains("\"credHelpers\":{\"123456789012.dkr.ecr.eu-west-1.amazonaws.com\":\"ecr-login\"}", text, StringComparison.Ordinal);
        Assert.Contains("\"x-custom\":{\"a\":[1,2.50],\"b\":2}", text, StringComparison.Ordinal);
        Assert.Contains("\"not a host!\"", text, StringComparison.Ordinal);
        Assert.Equal(text, DockerConfig.Parse(text).Serialize());
        Assert.Equal(config, DockerConfig.Parse(text));
    }

    [Fact]
    public void Serialisation_is_sorted_compact_and_independent_of_input_order()
    {
        var a = DockerConfig.Parse("""{ "b": 1, "auths": { "z.example.com": {"password":"p","username":"u"}, "a.example.com": {"username":"u","password":"p"} }, "a": [true, null] }""");
        var b = DockerConfig.Parse("""{"a":[true,null],"auths":{"a.example.com":{"password":"p","username":"u"},"z.example.com":{"username":"u","password":"p"}},"b":1}""");

        Assert.Equal(
            """{"a":[true,null],"auths":{"a.example.com":{"password":"p","username":"u"},"z.example.com":{"password":"p","username":"u"}},"b":1}""",
            a.Serialize());
        Assert.Equal(a.Serialize(), b.Serialize());
    }

    [Fact]
    public void Built_entries_carry_auth_username_password_and_identity_token()
    {
        var config = DockerConfig.FromEntries(
        [
            DockerConfigEntry.Create(RegistryHost.Parse("index.docker.io"), new RegistryCredential("bob", "pa:ss")),
            DockerConfigEntry.Create("https://MyRegistry.azurecr.io/", new RegistryCredential("00000000-0000-0000-0000-000000000000", "", IdentityToken: "rt")),
        ]);

        Assert.Equal(
            """{"auths":{"MyRegistry.azurecr.io":{"auth":"MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==","identitytoken":"rt","password":"","username":"00000000-0000-0000-0000-000000000000"},"https://index.docker.io/v1/":{"auth":"Ym9iOnBhOnNz","password":"pa:ss","username":"bob"}}}""",
            config.Serialize());
        Assert.Equal(Encoding.UTF8.GetBytes(config.Serialize()), config.ToUtf8Bytes());
    }

    [Fact]
    public void An_empty_document_serialises_with_empty_auths()
    {
        Assert.Equal("""{"auths":{}}""", DockerConfig.Empty.Serialize());
        Assert.Equal("""{"auths":{}}""", DockerConfig.Parse("{}").Serialize());
        Assert.Equal("""{"auths":{}}""", DockerConfig.Parse("""{"auths":null}""").Serialize());
    }

    [Theory]
    [InlineData("https://index.docker.io/v1/", "nginx")]
    [InlineData("index.docker.io", "library/nginx:1")]
    [InlineData("docker.io", "docker.io/org/app")]
    [InlineData("http://registry.example.com/", "registry.example.com/app")]
    [InlineData("https://registry.example.com", "registry.example.com/app")]
    [InlineData("registry.example.com/v1/", "registry.example.com/app")]
    [InlineData("Registry.Example.com", "Registry.Example.com/a/b/c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("localhost:5000", "localhost:5000/app")]
    [InlineData("[::1]:5000", "[::1]:5000/app")]
    public void Keys_are_normalised_when_matching(string key, string image)
    {
        var config = DockerConfig.FromEntries([DockerConfigEntry.Create(key, new RegistryCredential("u", "p"))]);
        var parsed = DockerConfig.Parse("{\"auths\":{\"" + key + "\":{\"username\":\"u\",\"password\":\"p\"}}}");

        Assert.Equal(new RegistryCredential("u", "p"), config.FindCredential(Image(image)));
        Assert.Equal(new RegistryCredential("u", "p"), parsed.FindCredential(Image(image)));
    }

    [Theory]
    [InlineData("registry.example.com:5000", "registry.example.com/app")]
    [InlineData("registry.example.com", "registry.example.com:5000/app")]
    [InlineData("docker.io", "ghcr.io/app")]
    [InlineData("ghcr.io", "nginx")]
    // Issue 12, Docker Hub aliases: the kubelet looks these images up under their own host, not Docker Hub's key.
    [InlineData("https://index.docker.io/v1/", "registry-1.docker.io/org/app")]
    [InlineData("https://index.docker.io/v1/", "registry.hub.docker.com/library/nginx")]
    [InlineData("https://registry-1.docker.io/v2/", "org/app")]
    // Issue 12, case: host labels are compared as written.
    [InlineData("Registry.Example.com", "registry.example.com/app")]
    [InlineData("registry.example.com", "REGISTRY.example.com/app")]
    public void Keys_of_other_registries_do_not_match(string key, string image)
    {
        var config = DockerConfig.FromEntries([DockerConfigEntry.Create(key, new RegistryCredential("u", "p"))]);

        Assert.Null(config.FindEntry(Image(image)));
    }

    [Theory]
    [InlineData("registry.example.com/team/app:1", "team-robot")]
    [InlineData("registry.example.com/team", "team-robot")]
    [InlineData("registry.example.com/te/app", "te-robot")]
    // Issue 12, path prefixes: the kubelet compares paths as strings (keyring_test.go "match first part of path token").
    [InlineData("registry.example.com/tea/app", "te-robot")]
    [InlineData("registry.example.com/teams/app", "team-robot")]
    [InlineData("registry.example.com/other", "root-robot")]
    public void The_longest_string_prefix_wins_as_the_kubelet_matches(string image, string username)
    {
        Assert.Equal(username, Mixed().FindCredential(Image(image))!.Username);
    }

    [Fact]
    public void A_key_with_a_path_is_not_used_for_the_whole_registry()
    {
        var config = DockerConfig.FromEntries([DockerConfigEntry.Create("registry.example.com/team", new RegistryCredential("u", "p"))]);

        Assert.Null(config.FindEntry(Image("registry.example.com/other/app")));
        Assert.Null(config.FindEntry(RegistryHost.Parse("registry.example.com")));
        Assert.Equal("team", config.Entries.Single().RepositoryPrefix);
    }

    [Fact]
    public void Docker_io_beside_the_legacy_key_is_used_first_for_images_as_the_kubelet_does()
    {
        var config = DockerConfig.Parse("""{"auths":{"docker.io":{"username":"short","password":"p"},"https://index.docker.io/v1/":{"username":"canonical","password":"p"}}}""");

        // Issue 12: "docker.io" matches docker.io/library/nginx directly; the legacy key is only the fallback.
        Assert.Equal("short", config.FindCredential(Image("nginx"))!.Username);
        Assert.Equal("canonical", config.FindEntry(RegistryHost.DockerHub)!.Username);
    }

    [Fact]
    public void Merge_replaces_every_spelling_of_the_given_keys_and_keeps_everything_else()
    {
        var original = Mixed();
        var merged = original.Merge(
        [
            DockerConfigEntry.Create("docker.io", new RegistryCredential("new-hub", "np")),
            DockerConfigEntry.Create("https://registry.example.com/", new RegistryCredential("new-root", "np")),
            DockerConfigEntry.Create("quay.io", new RegistryCredential("new-quay", "np")),
        ]);

        Assert.Equal(
            ["ghcr.io", "https://index.docker.io/v1/", "myregistry.azurecr.io", "not a host!", "quay.io", "registry.example.com", "registry.example.com/te", "registry.example.com/team"],
            merged.Entries.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal("new-hub", merged.FindCredential(Image("nginx"))!.Username);
        Assert.Equal("new-root", merged.FindCredential(Image("registry.example.com/x"))!.Username);
        Assert.Equal("new-quay", merged.FindCredential(Image("quay.io/x"))!.Username);
        foreach (var key in new[] { "ghcr.io", "myregistry.azurecr.io", "not a host!", "registry.example.com/te", "registry.example.com/team" })
        {
            Assert.Equal(original.Entries.Single(e => e.Key == key), merged.Entries.Single(e => e.Key == key));
        }

        Assert.Equal(original.OtherFieldNames, merged.OtherFieldNames);
        Assert.Contains("\"credsStore\":\"desktop\"", merged.Serialize(), StringComparison.Ordinal);
        Assert.Equal(merged, merged.Merge(merged.Entries.Where(e => e.Key == "quay.io")));
    }

    [Fact]
    public void Remove_drops_every_spelling_of_the_key_only()
    {
        var removed = Mixed().Remove("docker.io").Remove("registry.example.com");

        Assert.Null(removed.FindEntry(Image("nginx")));
        Assert.Null(removed.FindEntry(Image("registry.example.com/other")));
        Assert.NotNull(removed.FindEntry(Image("registry.example.com/team/app")));
        Assert.Equal(5, removed.Entries.Count);
    }

    [Theory]
    [InlineData("""{"auths":{"ghcr.io":{"auth":"not base64 s3cr3t!"}}}""", "auths[\"ghcr.io\"].auth: not valid base64")]
    [InlineData("""{"auths":{"ghcr.io":{"auth":"czNjcjN0LW5vLWNvbG9u"}}}""", "auths[\"ghcr.io\"].auth: not of the form base64(user:password)")]
    [InlineData("""{"auths":{"ghcr.io":{"auth":"//79s3cr3t="}}}""", "auths[\"ghcr.io\"].auth:")]
    [InlineData("""{"auths":{"ghcr.io":{"username":"u","password":12345}}}""", "auths[\"ghcr.io\"].password: expected a string, found a number")]
    [InlineData("""{"auths":{"ghcr.io":"s3cr3t"}}""", "auths[\"ghcr.io\"]: expected an object, found a string")]
    [InlineData("""{"auths":["s3cr3t"]}""", "auths: expected an object, found an array")]
    [InlineData("""["s3cr3t"]""", "dockerconfigjson: expected an object at the top level, found an array")]
    [InlineData("""{"auths":{"ghcr.io":{"auth":"s3cr3t}}}""", "dockerconfigjson: not valid JSON (line 1")]
    [InlineData("""{"auths":{"ghcr.io":{"auth": s3cr3t}}}""", "dockerconfigjson: not valid JSON (line 1")]
    [InlineData("", "dockerconfigjson: not valid JSON")]
    public void Parse_errors_name_the_field_and_never_the_secret(string json, string message)
    {
        var error = Assert.Throws<RegistryException>(() => DockerConfig.Parse(json));

        Assert.Equal(RegistryErrorKind.InvalidInput, error.Kind);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("czNjcjN0", error.Message, StringComparison.Ordinal);
        Assert.Null(error.InnerException);
        Assert.False(DockerConfig.TryParse(json, out _, out var reason));
        Assert.Equal(error.Message, reason);
    }

    [Theory]
    [InlineData("""{"auths":{},"auths":{"ghcr.io":{"auth":"czNjcjN0"}}}""", "dockerconfigjson: duplicate key \"auths\"")]
    [InlineData("""{"auths":{"ghcr.io":{"username":"u","password":"p"},"ghcr.io":{"username":"v","password":"s3cr3t"}}}""", "auths: duplicate key \"ghcr.io\"")]
    [InlineData("""{"auths":{"ghcr.io":{"username":"u","password":"s3cr3t","password":"q"}}}""", "auths[\"ghcr.io\"]: duplicate key \"password\"")]
    [InlineData("""{"credHelpers":{"a":"x","a":"y"},"auths":{}}""", "dockerconfigjson[\"credHelpers\"]: duplicate key \"a\"")]
    [InlineData("""{"auths":{},"Auths":{"ghcr.io":{"auth":"czNjcjN0"}}}""", "dockerconfigjson: key \"Auths\" is read by the kubelet as \"auths\"")]
    [InlineData("""{"auths":{"ghcr.io":{"auth":"dTpw","Auth":"czNjcjN0"}}}""", "auths[\"ghcr.io\"]: key \"Auth\" is read by the kubelet as \"auth\"")]
    public void Duplicate_keys_are_refused_naming_the_key_because_the_kubelet_merges_or_overwrites_them(string json, string message)
    {
        var error = Assert.Throws<RegistryException>(() => DockerConfig.Parse(json));

        Assert.Equal(RegistryErrorKind.InvalidInput, error.Kind);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("czNjcjN0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_document_larger_than_a_Secret_can_hold_is_refused_with_the_limit()
    {
        var padding = new string(' ', DockerConfig.MaxBytes);
        var error = Assert.Throws<RegistryException>(() => DockerConfig.Parse("{\"auths\":{}}" + padding));

        Assert.StartsWith($"dockerconfigjson: {DockerConfig.MaxBytes + 12} bytes is more than a Secret can hold ({DockerConfig.MaxBytes} bytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(DockerConfig.Parse("{\"auths\":{}}" + padding[..(DockerConfig.MaxBytes - 12)]).Entries);
    }

    [Fact]
    public void Invalid_keys_are_rejected_when_building()
    {
        var error = Assert.Throws<RegistryException>(() => DockerConfigEntry.Create("https://user:s3cr3t@ghcr.io/", new RegistryCredential("u", "p")));

        Assert.StartsWith("dockerconfigjson key: registry host must not contain user information", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("registry.example.com/Team", "dockerconfigjson key: repository prefix \"Team\" is not a valid repository path (repository name \"Team\" must be lowercase)")]
    [InlineData("registry.example.com/team:1", "dockerconfigjson key: repository prefix \"team:1\" must not carry a tag or digest")]
    [InlineData("registry.example.com/a..b", "dockerconfigjson key: repository prefix \"a..b\" is not a valid repository path (repository path component \"a..b\" is invalid")]
    public void Key_prefixes_must_be_repository_paths(string key, string message)
    {
        var error = Assert.Throws<RegistryException>(() => DockerConfigEntry.Create(key, new RegistryCredential("u", "p")));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_lists_keys_and_never_a_secret()
    {
        var config = Mixed();
        var texts = config.Entries.Select(e => e.ToString()).Append(config.ToString()).ToList();

        Assert.Contains("ghcr.io", config.ToString(), StringComparison.Ordinal);
        Assert.Contains("credsStore", config.ToString(), StringComparison.Ordinal);
        Assert.Contains(texts, t => t.Contains("IdentityToken = ***", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.Contains("OtherFields = [x-custom]", StringComparison.Ordinal));
        foreach (var text in texts)
        {
            foreach (var secret in MixedSecrets)
            {
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            }
        }
    }
}
