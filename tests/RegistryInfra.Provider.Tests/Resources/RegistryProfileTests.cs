using System.Collections.Immutable;
using System.Text.Json;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Resources.RegistryProfile;
using RegistryInfra.Testing;

namespace RegistryInfra.Provider.Tests.Resources;

public sealed class RegistryProfileTests
{
    private const string Type = RegistryProfileResource.Token;
    private const string Server = "server";
    private const string Username = "username";
    private const string Password = "password";
    private const string AuthEntry = "authEntry";
    private const string DockerConfigJson = "dockerConfigJson";
    private const string Validate = "validate";
    private const string FirstPassword = "first-p4ssw0rd-canary";
    private const string SecondPassword = "second-p4ssw0rd-canary";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ImmutableDictionary<string, PropertyValue> Inputs(string server, string? user = "robot", PropertyValue? password = null) =>
        new Dictionary<string, PropertyValue>
        {
            [Server] = PropertyValue.Create(server),
            [Username] = PropertyValue.Create(user),
            [Password] = password ?? PropertyValue.CreateSecret(PropertyValue.Create(FirstPassword)),
            // These tests are about the profile's own computation; the registry tests validate against a real registry.
            [Validate] = PropertyValue.Create(false),
        }.Where(e => !e.Value.IsNull).ToImmutableDictionary();

    private static LifecycleHarness Harness() => new(RegistryInfraPackage.CreateProvider(), Type);

    [Theory]
    // The host keeps its case: the kubelet compares key and image hosts as written (issue 12, case).
    [InlineData("GHCR.io", "GHCR.io")]
    [InlineData("https://Registry.Example.com:5000/", "Registry.Example.com:5000")]
    [InlineData("docker.io", "https://index.docker.io/v1/")]
    [InlineData("index.docker.io", "https://index.docker.io/v1/")]
    [InlineData("registry-1.docker.io", "https://index.docker.io/v1/")]
    [InlineData("https://index.docker.io/v1/", "https://index.docker.io/v1/")]
    public async Task Create_outputs_the_normalised_server_and_secret_auth_entry(string server, string expected)
    {
        var record = await Harness().RunAsync(Inputs(server), [], Ct);

        var outputs = record.Create.Properties;
        Assert.Equal(PropertyValue.Create(expected), outputs[Server]);
        Assert.True(outputs[AuthEntry].IsSecret);
        Assert.True(outputs[DockerConfigJson].IsSecret);
        Assert.True(outputs[Password].IsSecret);
        var config = JsonDocument.Parse(outputs[DockerConfigJson].SecretValue.StringValue);
        var entry = config.RootElement.GetProperty("auths").GetProperty(expected);
        Assert.Equal("robot", entry.GetProperty("username").GetString());
        Assert.Equal(Convert.ToBase64String("robot:first-p4ssw0rd-canary"u8.ToArray()), entry.GetProperty("auth").GetString());
    }

    [Fact]
    public async Task Password_change_is_an_update_whose_diff_reveals_neither_value()
    {
        var record = await Harness().RunAsync(Inputs("ghcr.io"),
        [
            new LifecycleStep(Inputs("ghcr.io", password: PropertyValue.CreateSecret(PropertyValue.Create(SecondPassword))),
                ExpectDiff: diff =>
                {
                    Assert.True(diff.HasChanges);
                    Assert.Empty(diff.Replaces);
                    Assert.Equal(PropertyDiffKind.Update, diff.DetailedDiff[Password].Kind);
                    var shown = string.Join(" ", diff.DetailedDiff.Select(d => $"{d.Key}={d.Value}")) + diff;
                    Assert.DoesNotContain(FirstPassword, shown, StringComparison.Ordinal);
                    Assert.DoesNotContain(SecondPassword, shown, StringComparison.Ordinal);
                },
                ExpectOutputs: outputs =>
                {
                    Assert.Contains(SecondPassword, outputs[DockerConfigJson].SecretValue.StringValue, StringComparison.Ordinal);
                    Assert.DoesNotContain(SecondPassword, PropertyValue.CreateObject(outputs).ToString(), StringComparison.Ordinal);
                }),
        ], Ct);

        Assert.Equal(record.Create.Id, record.Steps[0].Id);
    }

    [Fact]
    public async Task Server_change_replaces_the_resource()
    {
        var record = await Harness().RunAsync(Inputs("ghcr.io"),
        [
            new LifecycleStep(Inputs("quay.io"), ExpectDiff: diff =>
            {
                Assert.Equal([Server], diff.Replaces);
                Assert.Equal(PropertyDiffKind.UpdateReplace, diff.DetailedDiff[Server].Kind);
            }),
        ], Ct);

        Assert.Equal("quay.io", record.Steps[0].Id);
    }

    [Fact]
    public async Task Unchanged_inputs_have_no_diff()
    {
        await Harness().RunAsync(Inputs("ghcr.io"), [new LifecycleStep(Inputs("ghcr.io"), ExpectDiff: diff => Assert.False(diff.HasChanges))], Ct);
    }

    [Fact]
    public async Task Token_based_is_an_output_from_the_credential_kind_table_known_in_preview()
    {
        var provider = RegistryInfraPackage.CreateProvider();
        var staticInputs = Inputs("ghcr.io", password: PropertyValue.Computed);
        var execInputs = new Dictionary<string, PropertyValue>
        {
            [Server] = PropertyValue.Create("registry.example.com"),
            ["exec"] = PropertyValue.CreateObject([("command", PropertyValue.Computed)]),
            [Validate] = PropertyValue.Create(false),
        }.ToImmutableDictionary();

        foreach (var (inputs, expected) in new[] { (staticInputs, false), (execInputs, true) })
        {
            var check = await provider.CheckAsync(new CheckRequest("urn:x", Type, "p", ImmutableDictionary<string, PropertyValue>.Empty, inputs, []), Ct);
            Assert.Empty(check.Failures);
            var preview = await provider.CreateAsync(new CreateRequest("urn:x", Type, "p", check.Inputs!, TimeSpan.Zero, Preview: true), Ct);

            Assert.Equal(PropertyValue.Create(expected), preview.Properties["tokenBased"]);
        }
        var created = await Harness().RunAsync(Inputs("ghcr.io"), [], Ct);
        Assert.Equal(PropertyValue.Create(false), created.Create.Properties["tokenBased"]);
    }

    [Fact]
    public async Task Preview_create_with_unknown_password_has_no_id_and_unknown_secret_outputs()
    {
        var provider = RegistryInfraPackage.CreateProvider();
        var inputs = Inputs("ghcr.io", password: PropertyValue.Computed);
        var check = await provider.CheckAsync(new CheckRequest("urn:x", Type, "p", ImmutableDictionary<string, PropertyValue>.Empty, inputs, []), Ct);
        Assert.Empty(check.Failures);

        var preview = await provider.CreateAsync(new CreateRequest("urn:x", Type, "p", check.Inputs!, TimeSpan.Zero, Preview: true), Ct);

        Assert.Equal("", preview.Id);
        Assert.Equal(PropertyValue.Create("ghcr.io"), preview.Properties[Server]);
        Assert.True(preview.Properties[AuthEntry].IsSecret);
        Assert.True(preview.Properties[AuthEntry].ContainsUnknowns());
        Assert.True(preview.Properties[DockerConfigJson].ContainsUnknowns());
    }

    [Fact]
    public async Task Secret_username_makes_the_username_output_secret()
    {
        var record = await Harness().RunAsync(new Dictionary<string, PropertyValue>
        {
            [Server] = PropertyValue.Create("ghcr.io"),
            [Username] = PropertyValue.CreateSecret(PropertyValue.Create("hidden-user")),
            [Password] = PropertyValue.Create("plain-password"),
            [Validate] = PropertyValue.Create(false),
        }, [], Ct);

        Assert.True(record.Check.Inputs![Username].IsSecret);
        Assert.True(record.Create.Properties[Username].IsSecret);
        // Marked [Secret], so secret even when the input was sent in plain text.
        Assert.True(record.Create.Properties[Password].IsSecret);
    }

    [Theory]
    [InlineData("", "robot", "pw", "server", "must not be empty")]
    [InlineData("ghcr.io/org/repo", "robot", "pw", "server", "must not contain a path")]
    [InlineData("ftp://ghcr.io", "robot", "pw", "server", "unsupported scheme \"ftp\"")]
    [InlineData("ghcr.io:99999", "robot", "pw", "server", "port")]
    [InlineData("ghcr.io", null, "pw", "username", "required when a password is given")]
    [InlineData("ghcr.io", "robot", null, "password", "required when a username is given")]
    [InlineData("ghcr.io", "ro:bot", "pw", "username", "must not contain ':'")]
    public async Task Check_fails_naming_the_field(string server, string? user, string? password, string field, string reason)
    {
        var provider = RegistryInfraPackage.CreateProvider();
        var inputs = Inputs(server, user, password is null ? PropertyValue.Null : PropertyValue.CreateSecret(PropertyValue.Create(password)));

        var check = await provider.CheckAsync(new CheckRequest("urn:x", Type, "p", ImmutableDictionary<string, PropertyValue>.Empty, inputs, []), Ct);

        var failure = Assert.Single(check.Failures);
        Assert.Equal(field, failure.Property);
        Assert.Contains(reason, failure.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("pw", failure.Reason.Replace("password", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_reports_a_wrong_type_by_path()
    {
        var provider = RegistryInfraPackage.CreateProvider();
        var inputs = new Dictionary<string, PropertyValue> { [Server] = PropertyValue.Create(42) };

        var check = await provider.CheckAsync(new CheckRequest("urn:x", Type, "p", ImmutableDictionary<string, PropertyValue>.Empty, inputs, []), Ct);

        Assert.Equal(new CheckFailure(Server, "expected string, got number"), Assert.Single(check.Failures));
    }
}
