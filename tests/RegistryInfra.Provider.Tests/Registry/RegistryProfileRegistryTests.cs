using System.Collections.Immutable;
using System.Text.Json;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Resources.RegistryProfile;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Provider.Tests.Registry;

/// <summary>RegistryProfile against a real docker-registry on 127.0.0.1 (htpasswd over TLS, token auth over TLS).</summary>
public sealed class RegistryProfileRegistryTests(SharedRegistries registries)
{
    private const string Type = RegistryProfileResource.Token;
    private const string WrongPassword = "wrong-p4ssw0rd-canary";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Image(LocalRegistry registry, string repository, string tag = SharedRegistries.Tag) => $"{registry.Authority}/{repository}:{tag}";

    internal static Dictionary<string, PropertyValue> Profile(LocalRegistry registry, string username, string password, params string[] images)
    {
        var inputs = new Dictionary<string, PropertyValue>
        {
            ["server"] = PropertyValue.Create(registry.Authority),
            ["username"] = PropertyValue.Create(username),
            ["password"] = PropertyValue.CreateSecret(PropertyValue.Create(password)),
            ["caCertificates"] = PropertyValue.Create(registry.Ca!.Root.ExportCertificatePem()),
        };
        if (images.Length > 0)
        {
            inputs["images"] = PropertyValue.CreateArray(images.Select(i => PropertyValue.Create(i)));
        }
        return inputs;
    }

    /// <summary>A profile of <paramref name="registry"/> with no credential source (anonymous), trusting its CA.</summary>
    internal static Dictionary<string, PropertyValue> AnonymousProfile(LocalRegistry registry, params string[] images)
    {
        var inputs = Profile(registry, "", "", images);
        inputs.Remove("username");
        inputs.Remove("password");
        return inputs;
    }

    private static (PackageProvider Provider, RequestCounter Counter) CountingProvider()
    {
        var counter = new RequestCounter();
        return (RegistryInfraPackage.CreateProvider(new RegistryConnections(outerHandler: counter.CreateHandler)), counter);
    }

    private static Task<CheckResponse> CheckAsync(PackageProvider provider, IReadOnlyDictionary<string, PropertyValue> olds, IReadOnlyDictionary<string, PropertyValue> news) =>
        provider.CheckAsync(new CheckRequest("urn:pulumi:test::project::" + Type + "::p", Type, "p", olds, news, []), Ct);

    internal static async Task<string> PlatformDigestAsync(LocalRegistry registry, string repository, string architecture)
    {
        using var index = JsonDocument.Parse(await registry.InspectRawAsync(repository, SharedRegistries.Tag, Ct));
        return index.RootElement.GetProperty("manifests").EnumerateArray()
            .Single(m => m.GetProperty("platform").GetProperty("architecture").GetString() == architecture)
            .GetProperty("digest").GetString()!;
    }

    [Theory]
    [InlineData(LocalRegistryMode.HtpasswdTls)]
    [InlineData(LocalRegistryMode.TokenTls)]
    public async Task Lifecycle_validates_and_resolves_digests_equal_to_skopeo(LocalRegistryMode mode)
    {
        var registry = await registries.GetAsync(mode);
        var account = mode == LocalRegistryMode.TokenTls ? registry.Reader : registry.Admin;
        var single = Image(registry, SharedRegistries.SingleRepo);
        var multi = Image(registry, SharedRegistries.MultiRepo);
        var harness = new LifecycleHarness(RegistryInfraPackage.CreateProvider(), Type);

        var record = await harness.RunAsync(Profile(registry, account.Username, account.Password, single, multi), [], Ct);

        var singleDigest = await registry.InspectDigestAsync(SharedRegistries.SingleRepo, SharedRegistries.Tag, Ct);
        var multiDigest = await registry.InspectDigestAsync(SharedRegistries.MultiRepo, SharedRegistries.Tag, Ct);
        var outputs = record.Create.Properties;
        var digests = outputs["imageDigests"].ObjectValue;
        Assert.Equal(singleDigest, digests[single].StringValue);
        Assert.Equal(multiDigest, digests[multi].StringValue);
        var resolved = outputs["resolvedImages"].ArrayValue;
        Assert.Equal($"{registry.Authority}/{SharedRegistries.MultiRepo}@{multiDigest}", resolved[1].ObjectValue["pinned"].StringValue);
        Assert.Equal(registry.Authority, outputs["server"].StringValue);
        Assert.Equal("generic", outputs["kind"].StringValue);
        Assert.False(outputs.ContainsKey("expiresAt") && !outputs["expiresAt"].IsNull, "static credentials have no expiry");
        Assert.Contains(account.Password, outputs["dockerConfigJson"].SecretValue.StringValue, StringComparison.Ordinal);
        // Preview knew the credential entry (static) but not the digests (resolved only in Create).
        Assert.False(record.PreviewCreate.Properties["authEntry"].ContainsUnknowns());
        Assert.True(record.PreviewCreate.Properties["imageDigests"].ContainsUnknowns());
    }

    [Fact]
    public async Task Platform_picks_the_child_manifest_of_an_index()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        var multi = Image(registry, SharedRegistries.MultiRepo);
        var inputs = Profile(registry, registry.Admin.Username, registry.Admin.Password, multi);
        inputs["platform"] = PropertyValue.Create("linux/arm64");

        var record = await new LifecycleHarness(RegistryInfraPackage.CreateProvider(), Type).RunAsync(inputs, [], Ct);

        var arm64 = await PlatformDigestAsync(registry, SharedRegistries.MultiRepo, "arm64");
        Assert.Equal(arm64, record.Create.Properties["imageDigests"].ObjectValue[multi].StringValue);
    }

    [Theory]
    [InlineData(LocalRegistryMode.HtpasswdTls)]
    [InlineData(LocalRegistryMode.TokenTls)]
    public async Task Rejected_password_fails_check_on_password_naming_server_and_user_but_not_the_password(LocalRegistryMode mode)
    {
        var registry = await registries.GetAsync(mode);
        var (provider, _) = CountingProvider();

        var check = await CheckAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty,
            Profile(registry, registry.Reader.Username, WrongPassword, Image(registry, SharedRegistries.SingleRepo)));

        var failure = Assert.Single(check.Failures);
        Assert.Equal("password", failure.Property);
        Assert.Contains("unauthorised", failure.Reason, StringComparison.Ordinal);
        Assert.Contains(registry.Authority, failure.Reason, StringComparison.Ordinal);
        Assert.Contains("'reader'", failure.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongPassword, failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_and_forbidden_images_fail_check_on_their_index()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        var (provider, _) = CountingProvider();

        var check = await CheckAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Profile(registry, registry.Reader.Username, registry.Reader.Password,
            Image(registry, SharedRegistries.SingleRepo), Image(registry, SharedRegistries.SingleRepo, "no-such-tag"), Image(registry, "team/no-such-repo"),
            Image(registry, SharedRegistries.SecretRepo)));

        Assert.Equal(["images[1]", "images[2]", "images[3]"], check.Failures.Select(f => f.Property));
        Assert.Contains("forbidden", check.Failures[2].Reason, StringComparison.Ordinal);
        Assert.Contains("tag missing", check.Failures[0].Reason, StringComparison.Ordinal);
        Assert.Contains("no-such-tag", check.Failures[0].Reason, StringComparison.Ordinal);
        Assert.Contains("repository missing", check.Failures[1].Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(registry.Reader.Password, string.Join(" ", check.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Untrusted_certificate_fails_check_as_unreachable()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        var (provider, _) = CountingProvider();
        var inputs = Profile(registry, registry.Admin.Username, registry.Admin.Password);
        inputs.Remove("caCertificates");

        var check = await CheckAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, inputs);

        var failure = Assert.Single(check.Failures);
        Assert.Equal("password", failure.Property);
        Assert.Contains("unreachable", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unchanged_profile_makes_no_request_and_a_changed_password_does()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        var (provider, counter) = CountingProvider();
        var images = new[] { Image(registry, SharedRegistries.SingleRepo) };
        var first = await CheckAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Profile(registry, registry.Reader.Username, registry.Reader.Password, images));
        Assert.Empty(first.Failures);
        Assert.True(counter.Count > 0, "the first check validates against the registry");
        var before = counter.Count;

        // The engine sends the last deployment's checked inputs as olds; the same program gives the same news.
        var again = await CheckAsync(provider, first.Inputs!, Profile(registry, registry.Reader.Username, registry.Reader.Password, images));

        Assert.Empty(again.Failures);
        // The counter sees every request this provider sends, token requests included; the shared token issuer's own
        // count also includes other test classes' requests running in parallel, so it is not asserted here.
        Assert.Equal(before, counter.Count);

        var changed = await CheckAsync(provider, first.Inputs!, Profile(registry, registry.Reader.Username, WrongPassword, images));

        Assert.True(counter.Count > before, "a changed password is validated");
        Assert.Equal("password", Assert.Single(changed.Failures).Property);
    }

    [Fact]
    public async Task Preview_makes_no_request()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        var (provider, counter) = CountingProvider();
        var inputs = Profile(registry, registry.Admin.Username, registry.Admin.Password, Image(registry, SharedRegistries.SingleRepo));
        inputs["validate"] = PropertyValue.Create(false);
        var check = await CheckAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, inputs);

        var preview = await provider.CreateAsync(new CreateRequest("urn:x", Type, "p", check.Inputs!, TimeSpan.Zero, Preview: true), Ct);

        Assert.Equal(0, counter.Count);
        Assert.True(preview.Properties["imageDigests"].ContainsUnknowns());
        Assert.True(preview.Properties["resolvedImages"].ContainsUnknowns());
    }

    [Fact]
    public async Task Exec_source_gets_its_token_in_create_not_in_preview_and_outputs_its_expiry()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        var (provider, _) = CountingProvider();
        var inputs = Profile(registry, "", "", Image(registry, SharedRegistries.SingleRepo));
        inputs.Remove("username");
        inputs.Remove("password");
        var printed = JsonSerializer.Serialize(new { username = registry.Admin.Username, password = registry.Admin.Password, expiresAt = "2031-01-02T03:04:05Z" });
        inputs["exec"] = PropertyValue.CreateObject(new Dictionary<string, PropertyValue>
        {
            ["command"] = PropertyValue.CreateArray([PropertyValue.Create("/bin/echo"), PropertyValue.Create(printed)]),
        });
        var harness = new LifecycleHarness(provider, Type);

        var record = await harness.RunAsync(inputs, [new LifecycleStep(inputs, ExpectDiff: diff => Assert.False(diff.HasChanges))], Ct);

        Assert.True(record.PreviewCreate.Properties["authEntry"].ContainsUnknowns());
        Assert.True(record.PreviewCreate.Properties["expiresAt"].ContainsUnknowns());
        Assert.Equal("2031-01-02T03:04:05Z", record.Create.Properties["expiresAt"].StringValue);
        Assert.Equal("exec", record.Create.Properties["credentialSource"].StringValue);
        Assert.Contains(registry.Admin.Password, record.Create.Properties["authEntry"].SecretValue.StringValue, StringComparison.Ordinal);
        Assert.Equal(await registry.InspectDigestAsync(SharedRegistries.SingleRepo, SharedRegistries.Tag, Ct),
            record.Create.Properties["resolvedImages"].ArrayValue[0].ObjectValue["digest"].StringValue);
    }

    [Fact]
    public async Task Update_preview_keeps_unchanged_digests_known_and_makes_changed_ones_unknown()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        var (provider, counter) = CountingProvider();
        var single = Image(registry, SharedRegistries.SingleRepo);
        var olds = Profile(registry, registry.Admin.Username, registry.Admin.Password, single);
        olds["validate"] = PropertyValue.Create(false);
        var created = await provider.CreateAsync(new CreateRequest("urn:x", Type, "p", olds, TimeSpan.Zero, Preview: false), Ct);
        var before = counter.Count;
        var emailOnly = new Dictionary<string, PropertyValue>(olds) { ["email"] = PropertyValue.Create("ops@example.com") };
        var moreImages = new Dictionary<string, PropertyValue>(olds)
        {
            ["images"] = PropertyValue.CreateArray(PropertyValue.Create(single), PropertyValue.Create(Image(registry, SharedRegistries.MultiRepo))),
        };

        var kept = await provider.UpdateAsync(new UpdateRequest(created.Id, "urn:x", Type, "p", created.Properties, olds, emailOnly, TimeSpan.Zero, [], Preview: true), Ct);
        var changed = await provider.UpdateAsync(new UpdateRequest(created.Id, "urn:x", Type, "p", created.Properties, olds, moreImages, TimeSpan.Zero, [], Preview: true), Ct);

        Assert.Equal(before, counter.Count);
        Assert.Equal(created.Properties["imageDigests"], kept.Properties["imageDigests"]);
        Assert.Contains("ops@example.com", kept.Properties["authEntry"].SecretValue.StringValue, StringComparison.Ordinal);
        Assert.True(changed.Properties["imageDigests"].ContainsUnknowns());

        var updated = await provider.UpdateAsync(new UpdateRequest(created.Id, "urn:x", Type, "p", created.Properties, olds, moreImages, TimeSpan.Zero, [], Preview: false), Ct);

        Assert.Equal(2, updated.Properties["imageDigests"].ObjectValue.Count);
    }

    [Fact]
    public async Task Plain_http_registry_is_reached_only_when_marked_insecure()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.PlainHttp);
        var (provider, _) = CountingProvider();
        var inputs = new Dictionary<string, PropertyValue>
        {
            ["server"] = PropertyValue.Create(registry.Authority),
            ["username"] = PropertyValue.Create("anyone"),
            ["password"] = PropertyValue.CreateSecret(PropertyValue.Create("anything")),
            ["images"] = PropertyValue.CreateArray(PropertyValue.Create(Image(registry, SharedRegistries.SingleRepo))),
        };

        var overTls = await CheckAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, inputs);
        inputs["insecure"] = PropertyValue.Create(true);
        var overHttp = await CheckAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, inputs);

        Assert.Contains("unreachable", Assert.Single(overTls.Failures).Reason, StringComparison.Ordinal);
        Assert.Empty(overHttp.Failures);
    }

    [Fact]
    public async Task Rejected_token_of_a_source_fails_check_on_that_source()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        var (provider, _) = CountingProvider();
        var inputs = Profile(registry, "", "");
        inputs.Remove("username");
        inputs.Remove("password");
        inputs["exec"] = PropertyValue.CreateObject(new Dictionary<string, PropertyValue>
        {
            ["command"] = PropertyValue.CreateArray([PropertyValue.Create("/bin/echo"), PropertyValue.Create($"{registry.Reader.Username}:{WrongPassword}")]),
        });

        var check = await CheckAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, inputs);

        var failure = Assert.Single(check.Failures);
        Assert.Equal("exec", failure.Property);
        Assert.Contains("unauthorised", failure.Reason, StringComparison.Ordinal);
        Assert.Contains(registry.Authority, failure.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongPassword, failure.Reason, StringComparison.Ordinal);
    }
}
