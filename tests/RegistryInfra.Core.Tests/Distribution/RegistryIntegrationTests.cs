using System.Net;
using System.Security.Cryptography;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Distribution;
using RegistryInfra.Testing.Registry;
using static RegistryInfra.Core.Tests.Distribution.SharedRegistries;

namespace RegistryInfra.Core.Tests.Distribution;

/// <summary>The client against the real docker-registry in its three modes.</summary>
public sealed class RegistryIntegrationTests(SharedRegistries registries)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ping_tells_an_open_registry()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.PlainHttp);
        using var client = ClientFor(registry);

        var ping = await client.PingAsync(registry.Authority, Ct);

        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.False(ping.RequiresAuthentication);
        Assert.Null(ping.AuthScheme);
        Assert.Equal("registry/2.0", ping.ApiVersion);
    }

    [Fact]
    public async Task Ping_tells_Basic_for_htpasswd()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        using var client = ClientFor(registry);

        var ping = await client.PingAsync(registry.Authority, Ct);

        Assert.True(ping.RequiresAuthentication);
        Assert.Equal("Basic", ping.AuthScheme);
        Assert.Equal("registryinfra-test", ping.Challenges.Single()["realm"]);
    }

    [Fact]
    public async Task Ping_tells_Bearer_with_realm_and_service_for_token_auth()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        using var client = ClientFor(registry);

        var ping = await client.PingAsync(registry.Authority, Ct);

        Assert.Equal("Bearer", ping.AuthScheme);
        var challenge = ping.Challenges.Single(c => c.IsScheme("Bearer"));
        Assert.Equal(registry.TokenIssuer!.Realm.ToString(), challenge["realm"]);
        Assert.Equal(TestTokenIssuer.Service, challenge["service"]);
    }

    [Fact]
    public async Task Anonymous_resolve_on_an_open_registry_gives_the_digest_skopeo_sees()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.PlainHttp);
        using var client = ClientFor(registry);

        var image = await client.ResolveAsync(registry.Authority, SingleRepo, Tag, cancellationToken: Ct);

        var raw = await registry.InspectRawAsync(SingleRepo, Tag, Ct);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(raw)), image.Digest);
        Assert.Equal(await registry.InspectDigestAsync(SingleRepo, Tag, Ct), image.Digest);
        Assert.Equal(ManifestMediaTypes.OciManifest, image.Manifest.MediaType);
        Assert.Equal(raw.Length, image.Manifest.Size);
        Assert.False(image.IsIndex);
    }

    [Theory]
    [InlineData(LocalRegistryMode.PlainHttp)]
    [InlineData(LocalRegistryMode.HtpasswdTls)]
    [InlineData(LocalRegistryMode.TokenTls)]
    public async Task Head_and_get_and_get_by_digest_agree(LocalRegistryMode mode)
    {
        var registry = await registries.GetAsync(mode);
        using var client = ClientFor(registry);
        var admin = mode == LocalRegistryMode.PlainHttp ? null : Credential(registry.Admin);

        var head = await client.HeadManifestAsync(registry.Authority, Multi, Tag, admin, Ct);
        var get = await client.GetManifestAsync(registry.Authority, Multi, Tag, admin, Ct);
        var byDigest = await client.GetManifestAsync(registry.Authority, Multi, head.Digest, admin, Ct);

        Assert.Equal(head, get.Descriptor);
        Assert.Equal(head, byDigest.Descriptor);
        Assert.Equal(ManifestMediaTypes.OciIndex, head.MediaType);
        Assert.Equal(await registry.InspectRawAsync(Multi, Tag, Ct), get.Content.ToArray());
    }

    [Fact]
    public async Task Htpasswd_good_password_resolves()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        using var client = ClientFor(registry);

        var image = await client.ResolveAsync(registry.Authority, SingleRepo, Tag, null, Credential(registry.Reader), Ct);

        Assert.Equal(await registry.InspectDigestAsync(SingleRepo, Tag, Ct), image.Digest);
    }

    [Fact]
    public async Task Htpasswd_bad_password_is_Unauthorized_without_the_password_in_the_message()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        using var client = ClientFor(registry);
        var wrong = new RegistryCredential(registry.Reader.Username, "wrong-" + registry.Reader.Password);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(registry.Authority, SingleRepo, Tag, null, wrong, Ct));

        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        Assert.Contains(registry.Authority, error.Message, StringComparison.Ordinal);
        Assert.Contains(SingleRepo, error.Message, StringComparison.Ordinal);
        AssertNoSecret(error, wrong.Password, registry.Reader.Password);
    }

    [Fact]
    public async Task Htpasswd_anonymous_is_Unauthorized()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        using var client = ClientFor(registry);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(registry.Authority, SingleRepo, Tag, cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        Assert.Contains("none were given", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_auth_with_good_credentials_resolves()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        using var client = ClientFor(registry);

        var image = await client.ResolveAsync(registry.Authority, SingleRepo, Tag, null, Credential(registry.Reader), Ct);

        Assert.Equal(await registry.InspectDigestAsync(SingleRepo, Tag, Ct), image.Digest);
    }

    [Fact]
    public async Task Token_auth_with_a_bad_password_is_Unauthorized_without_secrets()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        using var client = ClientFor(registry);
        var wrong = new RegistryCredential(registry.Reader.Username, "bad-" + registry.Reader.Password);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(registry.Authority, SingleRepo, Tag, null, wrong, Ct));

        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        Assert.Contains("token service", error.Message, StringComparison.Ordinal);
        AssertNoSecret(error, wrong.Password, registry.Reader.Password);
    }

    [Fact]
    public async Task Token_auth_for_a_repository_the_user_may_not_pull_is_Forbidden()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        using var client = ClientFor(registry);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(registry.Authority, Secret, Tag, null, Credential(registry.Reader), Ct));

        Assert.Equal(RegistryErrorKind.Forbidden, error.Kind);
        Assert.Contains(Secret, error.Message, StringComparison.Ordinal);
        AssertNoSecret(error, registry.Reader.Password);
    }

    [Fact]
    public async Task Token_auth_anonymous_pull_is_allowed_for_public_and_denied_elsewhere()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        using var client = ClientFor(registry);

        var image = await client.ResolveAsync(registry.Authority, Public, Tag, cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(registry.Authority, SingleRepo, Tag, cancellationToken: Ct));

        Assert.Equal(await registry.InspectDigestAsync(Public, Tag, Ct), image.Digest);
        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
    }

    [Theory]
    [InlineData(LocalRegistryMode.PlainHttp)]
    [InlineData(LocalRegistryMode.HtpasswdTls)]
    [InlineData(LocalRegistryMode.TokenTls)]
    public async Task A_missing_tag_and_a_missing_repository_are_told_apart(LocalRegistryMode mode)
    {
        var registry = await registries.GetAsync(mode);
        using var client = ClientFor(registry);
        var admin = mode == LocalRegistryMode.PlainHttp ? null : Credential(registry.Admin);

        var tag = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(registry.Authority, SingleRepo, "no-such-tag", null, admin, Ct));
        var repository = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(registry.Authority, "team/no-such-repo", Tag, null, admin, Ct));
        var head = await Assert.ThrowsAsync<RegistryException>(() => client.HeadManifestAsync(registry.Authority, SingleRepo, "no-such-tag", admin, Ct));

        Assert.Equal(RegistryErrorKind.ManifestNotFound, tag.Kind);
        Assert.Contains("no-such-tag", tag.Message, StringComparison.Ordinal);
        Assert.Equal(RegistryErrorKind.RepositoryNotFound, repository.Kind);
        Assert.Contains("team/no-such-repo", repository.Message, StringComparison.Ordinal);
        Assert.Equal(RegistryErrorKind.ManifestNotFound, head.Kind);
    }

    [Theory]
    [InlineData("linux/amd64", "amd64")]
    [InlineData("linux/arm64", "arm64")]
    [InlineData("linux/arm64/v8", "arm64")]
    [InlineData("linux/aarch64", "arm64")]
    [InlineData("Linux/x86_64", "amd64")]
    public async Task Index_platform_selection_picks_the_digest_skopeo_picks(string platform, string skopeoArch)
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        using var client = ClientFor(registry);

        var image = await client.ResolveAsync(registry.Authority, Multi, Tag, ImagePlatform.Parse(platform), Credential(registry.Reader), Ct);

        Assert.True(image.IsIndex);
        Assert.Equal(["linux/amd64", "linux/arm64"], image.Platforms.Select(p => p.ToString()));
        Assert.Equal(await registry.InspectDigestAsync(Multi, Tag, Ct), image.Manifest.Digest);
        Assert.Equal(image.Selected!.Manifest.Digest, image.Digest);
        Assert.NotEqual(image.Manifest.Digest, image.Digest);
        // skopeo reads the chosen child's config: it must be the architecture asked for
        Assert.Equal(skopeoArch, await registry.InspectFormatAsync(Multi, image.Digest, "{{.Architecture}}", Ct));
        var raw = await registry.InspectRawAsync(Multi, image.Digest, Ct);
        Assert.Equal(image.Digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(raw)));
    }

    [Fact]
    public async Task An_absent_platform_is_a_clear_error_listing_the_available_ones()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.PlainHttp);
        using var client = ClientFor(registry);

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.ResolveAsync(registry.Authority, Multi, Tag, ImagePlatform.Parse("linux/s390x"), cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.ManifestNotFound, error.Kind);
        Assert.Contains("linux/s390x", error.Message, StringComparison.Ordinal);
        Assert.Contains("available: linux/amd64, linux/arm64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_single_platform_image_is_checked_against_the_requested_platform_through_its_config()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        using var client = ClientFor(registry);
        var admin = Credential(registry.Admin);

        var image = await client.ResolveAsync(registry.Authority, SingleRepo, Tag, ImagePlatform.Parse("linux/amd64"), admin, Ct);
        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.ResolveAsync(registry.Authority, SingleRepo, Tag, ImagePlatform.Parse("linux/arm64"), admin, Ct));

        Assert.Equal(["linux/amd64"], image.Platforms.Select(p => p.ToString()));
        Assert.Equal(RegistryErrorKind.ManifestNotFound, error.Kind);
        Assert.Contains("available: linux/amd64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_with_the_test_CA_passes_and_without_it_fails_as_Unreachable()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        using var trusting = ClientFor(registry);
        using var untrusting = ClientFor(registry, trustCa: false);

        var ping = await trusting.PingAsync(registry.Authority, Ct);
        var error = await Assert.ThrowsAsync<RegistryException>(() => untrusting.PingAsync(registry.Authority, Ct));

        Assert.True(ping.RequiresAuthentication);
        Assert.Equal(RegistryErrorKind.Unreachable, error.Kind);
        Assert.Contains("TLS", error.Message, StringComparison.Ordinal);
        Assert.Contains(registry.Authority, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cached_token_serves_later_requests_and_concurrent_requests_share_one_token_request()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        var issuer = registry.TokenIssuer!;
        using var client = ClientFor(registry);
        var reader = Credential(registry.Reader);

        var before = issuer.RequestCount;
        var first = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.ResolveAsync(registry.Authority, Multi, Tag, null, reader, Ct)));
        var afterConcurrent = issuer.RequestCount;
        for (var i = 0; i < 5; i++)
        {
            await client.ResolveAsync(registry.Authority, Multi, Tag, null, reader, Ct);
        }
        var afterSequential = issuer.RequestCount;
        await client.ResolveAsync(registry.Authority, SingleRepo, Tag, null, reader, Ct);

        Assert.Single(first.Select(i => i.Digest).Distinct());
        Assert.Equal(before + 1, afterConcurrent);
        Assert.Equal(afterConcurrent, afterSequential);
        Assert.Equal(afterSequential + 1, issuer.RequestCount); // another repository is another scope
        Assert.Equal(2, client.CachedTokenCount);
        Assert.Contains($"repository:{Multi}:pull", issuer.RequestedScopes);
    }

    [Fact]
    public async Task Different_credentials_get_different_tokens()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        using var client = ClientFor(registry);

        await client.ResolveAsync(registry.Authority, Public, Tag, null, Credential(registry.Reader), Ct);
        await client.ResolveAsync(registry.Authority, Public, Tag, null, Credential(registry.Admin), Ct);
        await client.ResolveAsync(registry.Authority, Public, Tag, cancellationToken: Ct);

        Assert.Equal(3, client.CachedTokenCount);
    }

    [Fact]
    public async Task Checking_credentials_asks_one_token_for_several_repositories()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        var issuer = registry.TokenIssuer!;
        using var client = ClientFor(registry);
        var reader = Credential(registry.Reader);

        var before = issuer.RequestCount;
        var scheme = await client.CheckCredentialsAsync(registry.Authority, [SingleRepo, Multi, SingleRepo], reader, Ct);
        var after = issuer.RequestCount;
        var bad = await Assert.ThrowsAsync<RegistryException>(() =>
            client.CheckCredentialsAsync(registry.Authority, [Multi], new RegistryCredential(registry.Reader.Username, "nope-" + registry.Reader.Password), Ct));

        Assert.Equal("Bearer", scheme);
        Assert.Equal(before + 1, after);
        Assert.Contains($"repository:{Multi}:pull repository:{SingleRepo}:pull", issuer.RequestedScopes);
        Assert.Equal(RegistryErrorKind.Unauthorized, bad.Kind);
        AssertNoSecret(bad, registry.Reader.Password);
    }

    [Fact]
    public async Task Checking_credentials_against_htpasswd_and_an_open_registry()
    {
        var htpasswd = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        var plain = await registries.GetAsync(LocalRegistryMode.PlainHttp);
        using var client = ClientFor(htpasswd);
        using var plainClient = ClientFor(plain);

        var good = await client.CheckCredentialsAsync(htpasswd.Authority, [], Credential(htpasswd.Admin), Ct);
        var bad = await Assert.ThrowsAsync<RegistryException>(() =>
            client.CheckCredentialsAsync(htpasswd.Authority, [], new RegistryCredential("admin", "wrong"), Ct));
        var open = await plainClient.CheckCredentialsAsync(plain.Authority, [SingleRepo], (RegistryCredential?)null, Ct);

        Assert.Equal("Basic", good);
        Assert.Equal(RegistryErrorKind.Unauthorized, bad.Kind);
        Assert.Null(open);
    }

    private static void AssertNoSecret(Exception error, params string[] secrets)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, e.ToString(), StringComparison.Ordinal);
            }
        }
    }
}
