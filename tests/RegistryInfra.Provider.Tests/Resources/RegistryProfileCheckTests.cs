using System.Collections.Immutable;
using System.Text.Json;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Resources.RegistryProfile;
using RegistryInfra.Testing;

namespace RegistryInfra.Provider.Tests.Resources;

/// <summary>Check failures, diffs and previews of RegistryProfile that need no registry (validation off or never reached).</summary>
public sealed class RegistryProfileCheckTests
{
    private const string Type = RegistryProfileResource.Token;
    private const string SecretCanary = "s3cret-canary-value";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static PropertyValue Secret(string value) => PropertyValue.CreateSecret(PropertyValue.Create(value));

    private static PropertyValue Object(params (string Name, PropertyValue Value)[] fields) => PropertyValue.CreateObject(fields);

    private static Dictionary<string, PropertyValue> Inputs(string server, params (string Name, PropertyValue Value)[] fields)
    {
        var inputs = new Dictionary<string, PropertyValue> { ["server"] = PropertyValue.Create(server), ["validate"] = PropertyValue.Create(false) };
        foreach (var (name, value) in fields)
        {
            inputs[name] = value;
        }
        return inputs;
    }

    private static Task<CheckResponse> CheckAsync(IReadOnlyDictionary<string, PropertyValue> news, IReadOnlyDictionary<string, PropertyValue>? olds = null) =>
        RegistryInfraPackage.CreateProvider().CheckAsync(new CheckRequest("urn:x", Type, "p", olds ?? ImmutableDictionary<string, PropertyValue>.Empty, news, []), Ct);

    public static TheoryData<string, Dictionary<string, PropertyValue>, string, string> Failures() => new()
    {
        { "validate mode", Inputs("ghcr.io", ("validate", PropertyValue.Create("sometimes"))), "validate", "expected one of \"onChange\", \"always\", \"never\"" },
        { "two sources", Inputs("ghcr.io", ("username", PropertyValue.Create("u")), ("password", Secret(SecretCanary)), ("exec", Object(("command", PropertyValue.CreateArray(PropertyValue.Create("x")))))), "exec", "exactly one credential source" },
        { "ecr region", Inputs("registry.example.com", ("ecr", Object())), "ecr.region", "is required" },
        { "ecr keys", Inputs("123456789012.dkr.ecr.eu-west-1.amazonaws.com", ("ecr", Object(("secretAccessKey", Secret(SecretCanary))))), "ecr.accessKeyId", "is required" },
        { "ecr endpoint", Inputs("123456789012.dkr.ecr.eu-west-1.amazonaws.com", ("ecr", Object(("endpoint", PropertyValue.Create("http://vpce.example"))))), "ecr.endpoint", "https://" },
        { "gcp key", Inputs("europe-docker.pkg.dev", ("gcpServiceAccountKey", Object(("key", Secret(SecretCanary))))), "gcpServiceAccountKey.key", "the service-account key is not valid JSON" },
        { "exec command", Inputs("ghcr.io", ("exec", Object(("command", PropertyValue.CreateArray())))), "exec.command", "must list the program" },
        { "helper timeout", Inputs("ghcr.io", ("credentialHelper", Object(("helper", PropertyValue.Create("gcloud")), ("timeoutSeconds", PropertyValue.Create(-1))))), "credentialHelper.timeoutSeconds", "whole number of seconds" },
        { "kind", Inputs("ghcr.io", ("kind", PropertyValue.Create("ecr")), ("username", PropertyValue.Create("u")), ("password", Secret(SecretCanary))), "kind", "disagrees with the server ghcr.io, which is ghcr" },
        { "kind value", Inputs("ghcr.io", ("kind", PropertyValue.Create("harbour")), ("username", PropertyValue.Create("u")), ("password", Secret(SecretCanary))), "kind", "" },
        { "image registry", Inputs("ghcr.io", ("username", PropertyValue.Create("u")), ("password", Secret(SecretCanary)), ("images", PropertyValue.CreateArray(PropertyValue.Create("ghcr.io/a/b:1"), PropertyValue.Create("quay.io/a/b:1")))), "images[1]", "not on this profile's server ghcr.io" },
        { "image syntax", Inputs("ghcr.io", ("username", PropertyValue.Create("u")), ("password", Secret(SecretCanary)), ("images", PropertyValue.CreateArray(PropertyValue.Create("ghcr.io/A B")))), "images[0]", "" },
        { "platform", Inputs("ghcr.io", ("username", PropertyValue.Create("u")), ("password", Secret(SecretCanary)), ("platform", PropertyValue.Create("linux"))), "platform", "os/architecture" },
        { "pem", Inputs("ghcr.io", ("username", PropertyValue.Create("u")), ("password", Secret(SecretCanary)), ("caCertificates", PropertyValue.Create("not a certificate"))), "caCertificates", "PEM" },
        { "insecure with ca", Inputs("ghcr.io", ("username", PropertyValue.Create("u")), ("password", Secret(SecretCanary)), ("insecure", PropertyValue.Create(true)), ("caCertificates", PropertyValue.Create(TestPem()))), "insecure", "not both" },
    };

    private static string TestPem()
    {
        using var ca = new RegistryInfra.Testing.Registry.TestCertificateAuthority();
        return ca.Root.ExportCertificatePem();
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task Check_fails_on_the_named_field_without_secrets(string label, Dictionary<string, PropertyValue> inputs, string field, string reason)
    {
        var check = await CheckAsync(inputs);

        var failure = Assert.Single(check.Failures);
        Assert.True(field == failure.Property, $"{label}: expected failure on {field}, got {failure.Property}: {failure.Reason}");
        Assert.Contains(reason, failure.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretCanary, failure.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, "onChange")]
    [InlineData(false, "never")]
    public async Task Validate_given_as_the_boolean_it_once_was_is_upgraded_in_check_diff_and_refresh(bool given, string mode)
    {
        var provider = RegistryInfraPackage.CreateProvider();
        var stored = Inputs("mcr.microsoft.com", ("validate", PropertyValue.Create(given)));
        var news = Inputs("mcr.microsoft.com", ("validate", PropertyValue.Create(mode)));

        // The stored inputs of a deployment made when it was a boolean, checked again unchanged: neither mode makes a
        // request then (mcr.microsoft.com is not reachable from the tests, so a validation would fail).
        var check = await CheckAsync(stored, stored);
        var state = (await provider.CreateAsync(new CreateRequest("urn:x", Type, "p", stored, TimeSpan.Zero, Preview: true), Ct)).Properties;
        var diff = await provider.DiffAsync(new DiffRequest("urn:x", Type, "p", "id", state, stored, news, []), Ct);

        Assert.Empty(check.Failures);
        Assert.Equal(mode, check.Inputs!["validate"].StringValue);
        Assert.False(diff.HasChanges, "true is onChange and false is never: the same inputs");
    }

    [Fact]
    public async Task Anonymous_a_profile_without_credentials_previews_no_entry_and_says_so()
    {
        var provider = RegistryInfraPackage.CreateProvider();
        var inputs = Inputs("mcr.microsoft.com", ("images", PropertyValue.CreateArray(PropertyValue.Create("mcr.microsoft.com/dotnet/runtime:10.0"))));

        var check = await CheckAsync(inputs);
        var preview = await provider.CreateAsync(new CreateRequest("urn:x", Type, "p", check.Inputs!, TimeSpan.Zero, Preview: true), Ct);

        Assert.Empty(check.Failures);
        var outputs = preview.Properties;
        Assert.Equal("anonymous", outputs["credentialSource"].StringValue);
        Assert.True(outputs["anonymous"].BoolValue);
        Assert.False(outputs["tokenBased"].BoolValue);
        Assert.Equal("", outputs["authEntry"].SecretValue.StringValue);
        Assert.Equal("{\"auths\":{}}", outputs["dockerConfigJson"].SecretValue.StringValue);
        Assert.Equal(["mcr.microsoft.com"], outputs["pullSecretKeys"].ArrayValue.Select(v => v.StringValue));
        Assert.True(outputs["imageDigests"].ContainsUnknowns(), "digests are resolved at up");
    }

    [Fact]
    public async Task Ecr_takes_account_and_region_from_the_host_and_is_token_based()
    {
        var provider = RegistryInfraPackage.CreateProvider();
        var inputs = Inputs("123456789012.dkr.ecr.eu-west-1.amazonaws.com", ("ecr", Object()));
        var check = await provider.CheckAsync(new CheckRequest("urn:x", Type, "p", ImmutableDictionary<string, PropertyValue>.Empty, inputs, []), Ct);
        Assert.Empty(check.Failures);

        var preview = await provider.CreateAsync(new CreateRequest("urn:x", Type, "p", check.Inputs!, TimeSpan.Zero, Preview: true), Ct);

        Assert.Equal("ecr", preview.Properties["kind"].StringValue);
        Assert.Equal("ecr", preview.Properties["credentialSource"].StringValue);
        Assert.True(preview.Properties["authEntry"].IsSecret);
        Assert.True(preview.Properties["authEntry"].ContainsUnknowns());
        Assert.True(preview.Properties["expiresAt"].ContainsUnknowns());
    }

    [Fact]
    public async Task Diff_of_secret_inputs_names_them_without_their_values()
    {
        var olds = Inputs("123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            ("ecr", Object(("accessKeyId", PropertyValue.Create("AKIAEXAMPLE")), ("secretAccessKey", Secret(SecretCanary + "-old")))));
        var news = Inputs("123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            ("ecr", Object(("accessKeyId", PropertyValue.Create("AKIAEXAMPLE")), ("secretAccessKey", Secret(SecretCanary + "-new")))));
        var provider = RegistryInfraPackage.CreateProvider();
        var state = (await provider.CreateAsync(new CreateRequest("urn:x", Type, "p", olds, TimeSpan.Zero, Preview: true), Ct)).Properties;

        var diff = await provider.DiffAsync(new DiffRequest("urn:x", Type, "p", "id", state, olds, news, []), Ct);

        Assert.True(diff.HasChanges);
        Assert.Empty(diff.Replaces);
        Assert.Equal(PropertyDiffKind.Update, diff.DetailedDiff["ecr"].Kind);
        var serialised = JsonSerializer.Serialize(diff) + diff;
        Assert.DoesNotContain(SecretCanary, serialised, StringComparison.Ordinal);
    }

    [Theory]
    // A case change changes the key the kubelet matches (issue 12, case): a real change of the server.
    [InlineData("ghcr.io", "GHCR.io", null, true)]
    [InlineData("ghcr.io", "https://ghcr.io/", "ghcr", false)]
    [InlineData("ghcr.io", "quay.io", null, true)]
    [InlineData("registry.corp.example", "registry.corp.example", "generic", false)]
    [InlineData("registry.corp.example", "registry.corp.example", "quay", true)]
    public async Task Server_and_kind_replace_only_when_they_really_change(string firstServer, string server, string? kind, bool replaces)
    {
        var credentials = new[] { ("username", PropertyValue.Create("u")), ("password", Secret(SecretCanary)) };
        var first = Inputs(firstServer, credentials);
        var second = Inputs(server, [.. credentials, .. kind is null ? Array.Empty<(string, PropertyValue)>() : [("kind", PropertyValue.Create(kind))]]);

        await new LifecycleHarness(RegistryInfraPackage.CreateProvider(), Type).RunAsync(first,
        [
            new LifecycleStep(second, ExpectDiff: diff =>
            {
                Assert.Equal(replaces, diff.HasChanges);
                Assert.Equal(replaces, diff.Replaces.Length > 0);
            }),
        ], Ct);
    }

    [Fact]
    public async Task Kind_may_name_the_family_of_a_generic_host()
    {
        var record = await new LifecycleHarness(RegistryInfraPackage.CreateProvider(), Type).RunAsync(
            Inputs("registry.corp.example", ("kind", PropertyValue.Create("quay")), ("username", PropertyValue.Create("u")), ("password", Secret(SecretCanary))), [], Ct);

        Assert.Equal("quay", record.Create.Properties["kind"].StringValue);
        Assert.Equal("static", record.Create.Properties["credentialSource"].StringValue);
        Assert.False(record.Create.Properties.TryGetValue("expiresAt", out var expiry) && !expiry.IsNull);
    }
}
