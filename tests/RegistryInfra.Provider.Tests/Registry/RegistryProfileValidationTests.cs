using System.Collections.Immutable;
using RegistryInfra.Core;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Resources.RegistryProfile;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Provider.Tests.Registry;

/// <summary>
/// Issue 12, anonymous profiles and <c>validate</c>: against the token registry on 127.0.0.1, whose issuer grants
/// anonymous pull on <c>public/*</c> only and lets a test add and revoke its own user. Each "preview" is a new provider,
/// as each <c>pulumi preview</c> starts a new plugin process (so no token cached by an earlier one hides a revocation).
/// </summary>
public sealed class RegistryProfileValidationTests(SharedRegistries registries)
{
    private const string Type = RegistryProfileResource.Token;
    private const string Urn = "urn:pulumi:test::project::" + Type + "::p";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Image(LocalRegistry registry, string repository) => $"{registry.Authority}/{repository}:{SharedRegistries.Tag}";

    private static Task<CheckResponse> CheckAsync(IReadOnlyDictionary<string, PropertyValue> olds, IReadOnlyDictionary<string, PropertyValue> news) =>
        RegistryInfraPackage.CreateProvider().CheckAsync(new CheckRequest(Urn, Type, "p", olds, news, []), Ct);

    /// <summary>A user of the token registry's issuer that only this test knows, with pull on <c>team/*</c>.</summary>
    private static TokenUser OwnUser(LocalRegistry registry)
    {
        var user = new TokenUser($"revocable-{Guid.NewGuid():N}"[..24], $"pw-{Guid.NewGuid():N}", repository => repository.StartsWith("team/", StringComparison.Ordinal) ? ["pull"] : []);
        registry.TokenIssuer!.AddUser(user);
        return user;
    }

    [Fact]
    public async Task Anonymous_a_public_image_is_validated_and_pinned_without_credentials_and_writes_no_entry()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        var image = Image(registry, SharedRegistries.PublicRepo);

        var record = await new LifecycleHarness(RegistryInfraPackage.CreateProvider(), Type).RunAsync(RegistryProfileRegistryTests.AnonymousProfile(registry, image), [], Ct);

        var outputs = record.Create.Properties;
        Assert.Equal(await registry.InspectDigestAsync(SharedRegistries.PublicRepo, SharedRegistries.Tag, Ct), outputs["imageDigests"].ObjectValue[image].StringValue);
        Assert.Equal("anonymous", outputs["credentialSource"].StringValue);
        Assert.True(outputs["anonymous"].BoolValue);
        Assert.Equal("", outputs["authEntry"].SecretValue.StringValue);
        Assert.Equal("{\"auths\":{}}", outputs["dockerConfigJson"].SecretValue.StringValue);
        Assert.Equal([registry.Authority], outputs["pullSecretKeys"].ArrayValue.Select(v => v.StringValue));
    }

    [Fact]
    public async Task Anonymous_a_private_image_fails_the_preview_on_its_index()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);

        var check = await CheckAsync(ImmutableDictionary<string, PropertyValue>.Empty,
            RegistryProfileRegistryTests.AnonymousProfile(registry, Image(registry, SharedRegistries.PublicRepo), Image(registry, SharedRegistries.SingleRepo)));

        var failure = Assert.Single(check.Failures);
        Assert.Equal("images[1]", failure.Property);
        Assert.Contains("cannot be pulled anonymously", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anonymous_a_registry_that_demands_a_login_fails_the_preview_on_server()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);

        var check = await CheckAsync(ImmutableDictionary<string, PropertyValue>.Empty, RegistryProfileRegistryTests.AnonymousProfile(registry, Image(registry, SharedRegistries.SingleRepo)));

        var failure = Assert.Single(check.Failures);
        Assert.Equal("server", failure.Property);
        Assert.Contains("does not allow anonymous access", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("give the profile credentials", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoked_credential_at_preview_fails_with_validate_always_and_passes_unnoticed_with_on_change()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        var user = OwnUser(registry);
        var always = RegistryProfileRegistryTests.Profile(registry, user.Username, user.Password, Image(registry, SharedRegistries.SingleRepo));
        always["validate"] = PropertyValue.Create("always");
        var onChange = new Dictionary<string, PropertyValue>(always) { ["validate"] = PropertyValue.Create("onChange") };
        Assert.Empty((await CheckAsync(ImmutableDictionary<string, PropertyValue>.Empty, always)).Failures);

        registry.TokenIssuer!.Revoke(user.Username);
        // The next previews of the unchanged program: the engine sends the last checked inputs as olds.
        var withAlways = await CheckAsync(always, always);
        var withOnChange = await CheckAsync(onChange, onChange);

        var failure = Assert.Single(withAlways.Failures);
        Assert.Equal("password", failure.Property);
        Assert.Contains("did not accept the credentials", failure.Reason, StringComparison.Ordinal);
        Assert.Contains(user.Username, failure.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(user.Password, failure.Reason, StringComparison.Ordinal);
        Assert.Empty(withOnChange.Failures);
    }

    [Fact]
    public async Task Revoked_credential_at_refresh_fails_naming_the_field_and_changes_nothing()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        var user = OwnUser(registry);
        var inputs = RegistryProfileRegistryTests.Profile(registry, user.Username, user.Password, Image(registry, SharedRegistries.SingleRepo));
        var created = await RegistryInfraPackage.CreateProvider().CreateAsync(new CreateRequest(Urn, Type, "p", inputs, TimeSpan.Zero, Preview: false), Ct);

        var refreshed = await RegistryInfraPackage.CreateProvider().ReadAsync(new ReadRequest(created.Id, Urn, Type, "p", created.Properties, inputs), Ct);
        Assert.Equal(created.Id, refreshed.Id);
        Assert.Equal(created.Properties["authEntry"], refreshed.Properties["authEntry"]);
        Assert.Equal(created.Properties["imageDigests"], refreshed.Properties["imageDigests"]);

        registry.TokenIssuer!.Revoke(user.Username);
        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            RegistryInfraPackage.CreateProvider().ReadAsync(new ReadRequest(created.Id, Urn, Type, "p", created.Properties, inputs), Ct));
        var never = new Dictionary<string, PropertyValue>(inputs) { ["validate"] = PropertyValue.Create("never") };
        var skipped = await RegistryInfraPackage.CreateProvider().ReadAsync(new ReadRequest(created.Id, Urn, Type, "p", created.Properties, never), Ct);

        Assert.Contains("no longer valid (state left unchanged)", error.Message, StringComparison.Ordinal);
        Assert.Contains("password: registry", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(user.Password, error.Message, StringComparison.Ordinal);
        Assert.Equal(created.Properties["authEntry"], skipped.Properties["authEntry"]);
    }
}
