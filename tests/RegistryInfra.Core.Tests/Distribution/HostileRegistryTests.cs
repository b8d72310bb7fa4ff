using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Distribution;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Core.Tests.Distribution;

/// <summary>
/// The client against misbehaving loopback registries: redirects to other hosts, foreign and plain-HTTP realms,
/// echoed credentials, oversized, malformed and late answers. Every test asserts that no credential byte reached
/// a host it does not belong to and that no message carries one.
/// </summary>
public sealed class HostileRegistryTests
{
    private const string Repo = "team/app";
    private const string User = "robot";
    private static readonly byte[] Manifest = Encoding.UTF8.GetBytes(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" + new string('a', 64) + "\",\"size\":2},\"layers\":[]}");
    private static readonly string ManifestDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Manifest));
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _password = "Pw-" + Guid.NewGuid().ToString("N");
    private readonly string _tokenA = "tokA-" + Guid.NewGuid().ToString("N");

    private string BasicValue => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{_password}"));

    private RegistryCredential Credential => new(User, _password);

    /// <summary>Every form in which A's credentials and token travel.</summary>
    private string[] SecretsOfA => [_password, BasicValue, _tokenA, Convert.ToBase64String(Encoding.UTF8.GetBytes(_password))];

    private static DistributionClient ClientFor(params string[] insecure) =>
        new(new DistributionClientOptions { InsecureRegistries = insecure, RequestTimeout = TimeSpan.FromSeconds(10) });

    private void AssertNoSecretOfA(string text, string where)
    {
        foreach (var secret in SecretsOfA)
        {
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} holds a credential of registry A");
        }
    }

    private static async Task ServeManifest(HttpContext context)
    {
        context.Response.ContentType = ManifestMediaTypes.OciManifest;
        context.Response.Headers["Docker-Content-Digest"] = ManifestDigest;
        await context.Response.Body.WriteAsync(Manifest);
    }

    /// <summary>Registry A: Bearer on its own /token for the test's credentials, then <paramref name="manifest"/> for authorised requests.</summary>
    private Func<HostileRegistry, HttpContext, Task> RegistryA(Func<HostileRegistry, HttpContext, Task> manifest) => async (self, context) =>
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (context.Request.Path == "/token")
        {
            if (authorization != "Basic " + BasicValue)
            {
                await HostileRegistry.JsonAsync(context, 401, "{}");
                return;
            }
            await HostileRegistry.JsonAsync(context, 200, $"{{\"token\":\"{_tokenA}\",\"expires_in\":300}}");
            return;
        }
        if (authorization != "Bearer " + _tokenA)
        {
            await HostileRegistry.ChallengeAsync(context, $"Bearer realm=\"{self.Origin}/token\",service=\"a\"");
            return;
        }
        await manifest(self, context);
    };

    [Fact]
    public async Task A_redirect_target_with_its_own_realm_gets_no_credential_of_the_registry_and_its_token_stays_there()
    {
        var tokenB = "tokB-" + Guid.NewGuid().ToString("N");
        await using var b = await HostileRegistry.StartAsync(async (self, context) =>
        {
            var authorization = context.Request.Headers.Authorization.ToString();
            if (context.Request.Path == "/token")
            {
                await HostileRegistry.JsonAsync(context, 200, $"{{\"token\":\"{tokenB}\"}}");
                return;
            }
            if (authorization != "Bearer " + tokenB)
            {
                await HostileRegistry.ChallengeAsync(context, $"Bearer realm=\"{self.Origin}/token\",service=\"b\",scope=\"blob:read\"");
                return;
            }
            await ServeManifest(context);
        });
        await using var a = await HostileRegistry.StartAsync(RegistryA((_, context) => HostileRegistry.RedirectAsync(context, b.Origin + "/blobs/manifest")));
        using var client = ClientFor(a.Authority, b.Authority);

        var first = await client.GetManifestAsync(a.Authority, Repo, "1.0", Credential, Ct);
        var second = await client.GetManifestAsync(a.Authority, Repo, "1.0", Credential, Ct);

        Assert.Equal(ManifestDigest, first.Descriptor.Digest);
        Assert.Equal(ManifestDigest, second.Descriptor.Digest);
        AssertNoSecretOfA(b.Received, "what host B received");
        Assert.DoesNotContain(tokenB, a.Received, StringComparison.Ordinal);
        // B's challenge was never taken for A's: A's own token endpoint was asked once, B's token never cached.
        Assert.Single(a.Paths, p => p.StartsWith("/token", StringComparison.Ordinal));
        Assert.Equal(1, client.CachedTokenCount);
    }

    [Fact]
    public async Task A_redirect_target_asking_for_Basic_gets_nothing_and_the_error_says_why()
    {
        await using var b = await HostileRegistry.StartAsync((_, context) => HostileRegistry.ChallengeAsync(context, "Basic realm=\"b\""));
        await using var a = await HostileRegistry.StartAsync(RegistryA((_, context) => HostileRegistry.RedirectAsync(context, b.Origin + "/steal")));
        using var client = ClientFor(a.Authority, b.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(a.Authority, Repo, "1.0", Credential, Ct));

        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        Assert.Contains("never sent to another host", error.Message, StringComparison.Ordinal);
        Assert.Contains(b.Authority, error.Message, StringComparison.Ordinal);
        AssertNoSecretOfA(b.Received, "what host B received");
        AssertNoSecretOfA(error.ToString(), "the error");
        Assert.DoesNotContain("Authorization", b.Received, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_redirect_target_whose_realm_is_the_registry_token_service_gets_no_credential()
    {
        // B names A's own token endpoint: the anonymous exchange goes there without A's password, and A's token never reaches B.
        HostileRegistry? redirector = null;
        await using var b = await HostileRegistry.StartAsync((_, context) => HostileRegistry.ChallengeAsync(context, $"Bearer realm=\"{redirector!.Origin}/token\",service=\"a\""));
        await using var a = redirector = await HostileRegistry.StartAsync(RegistryA((_, context) => HostileRegistry.RedirectAsync(context, b.Origin + "/m")));
        using var client = ClientFor(a.Authority, b.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(a.Authority, Repo, "1.0", Credential, Ct));

        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        AssertNoSecretOfA(b.Received, "what host B received");
        AssertNoSecretOfA(error.ToString(), "the error");
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(418)]
    public async Task A_registry_echoing_the_credentials_in_its_error_body_is_never_quoted_with_them(int status)
    {
        await using var a = await HostileRegistry.StartAsync(RegistryA((_, context) =>
        {
            var echo = $"you sent {context.Request.Headers.Authorization} for {User}:{_password} (Basic {BasicValue}) password={_password} " + new string('x', 100_000);
            return HostileRegistry.JsonAsync(context, status,
                "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"" + echo + "\"}]}");
        }));
        using var client = ClientFor(a.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(a.Authority, Repo, "1.0", null, Credential, Ct));

        AssertNoSecretOfA(error.ToString(), "the error");
        Assert.DoesNotContain("Bearer tokA", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 1_000, $"message of {error.Message.Length} characters");
    }

    [Fact]
    public async Task A_token_service_echoing_the_credentials_is_never_quoted_with_them()
    {
        await using var a = await HostileRegistry.StartAsync((self, context) => context.Request.Path == "/token"
            ? HostileRegistry.JsonAsync(context, 500, $"{{\"errors\":[{{\"code\":\"BOOM\",\"message\":\"bad {context.Request.Headers.Authorization} / {_password}\"}}]}}")
            : HostileRegistry.ChallengeAsync(context, $"Bearer realm=\"{self.Origin}/token\""));
        using var client = ClientFor(a.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.CheckCredentialsAsync(a.Authority, [Repo], Credential, Ct));

        Assert.Equal(RegistryErrorKind.Unreachable, error.Kind);
        Assert.Contains("BOOM", error.Message, StringComparison.Ordinal);
        AssertNoSecretOfA(error.ToString(), "the error");
    }

    [Fact]
    public async Task A_plain_HTTP_realm_on_another_host_is_refused_for_an_insecure_registry()
    {
        await using var b = await HostileRegistry.StartAsync((_, context) => HostileRegistry.JsonAsync(context, 200, "{\"token\":\"t\"}"));
        await using var a = await HostileRegistry.StartAsync((_, context) => HostileRegistry.ChallengeAsync(context, $"Bearer realm=\"{b.Origin}/token\""));
        using var client = ClientFor(a.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.CheckCredentialsAsync(a.Authority, [Repo], Credential, Ct));

        Assert.Equal(RegistryErrorKind.InvalidResponse, error.Kind);
        Assert.Contains("plain-HTTP token realm", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, b.RequestCount);
    }

    [Fact]
    public async Task A_plain_HTTP_realm_on_the_insecure_registry_own_host_is_used()
    {
        await using var a = await HostileRegistry.StartAsync(RegistryA((_, context) => ServeManifest(context)));
        using var client = ClientFor(a.Authority);

        var manifest = await client.GetManifestAsync(a.Authority, Repo, "1.0", Credential, Ct);

        Assert.Equal(ManifestDigest, manifest.Descriptor.Digest);
    }

    [Fact]
    public async Task A_foreign_HTTPS_realm_that_does_not_speak_TLS_gets_no_credential()
    {
        await using var b = await HostileRegistry.StartAsync((_, context) => HostileRegistry.JsonAsync(context, 200, "{\"token\":\"t\"}"));
        await using var a = await HostileRegistry.StartAsync((_, context) => HostileRegistry.ChallengeAsync(context, $"Bearer realm=\"https://{b.Authority}/token\""));
        using var client = ClientFor(a.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.CheckCredentialsAsync(a.Authority, [Repo], Credential, Ct));

        Assert.Equal(RegistryErrorKind.Unreachable, error.Kind);
        AssertNoSecretOfA(b.Received, "what host B received");
        AssertNoSecretOfA(error.ToString(), "the error");
    }

    [Fact]
    public async Task An_oversized_manifest_is_refused_without_being_read_whole()
    {
        await using var a = await HostileRegistry.StartAsync(async (_, context) =>
        {
            context.Response.ContentType = ManifestMediaTypes.OciManifest;
            var chunk = new byte[64 * 1024];
            for (var i = 0; i < 160 && !context.RequestAborted.IsCancellationRequested; i++)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }
        });
        using var client = ClientFor(a.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(a.Authority, Repo, "1.0", (ICredentialSource?)null, Ct));

        Assert.Equal(RegistryErrorKind.InvalidResponse, error.Kind);
        Assert.Contains("larger than the limit", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all", ManifestMediaTypes.OciManifest, "not valid JSON")]
    [InlineData("<html>hello</html>", ManifestMediaTypes.OciIndex, "not valid JSON")]
    [InlineData("null", ManifestMediaTypes.OciManifest, "JSON null")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}", ManifestMediaTypes.OciManifest, "the manifest says it is")]
    [InlineData("{\"schemaVersion\":2,\"layers\":\"many\"}", ManifestMediaTypes.OciManifest, "not valid JSON")]
    [InlineData("{\"schemaVersion\":2}", "text/plain", "unsupported manifest media type")]
    public async Task A_manifest_that_does_not_parse_as_its_type_is_refused(string body, string contentType, string expected)
    {
        await using var a = await HostileRegistry.StartAsync((_, context) =>
        {
            context.Response.ContentType = contentType;
            return context.Response.WriteAsync(body);
        });
        using var client = ClientFor(a.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(a.Authority, Repo, "1.0", cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.InvalidResponse, error.Kind);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sha512:{0}{0}", "algorithm sha512")]
    [InlineData("md5:0123456789abcdef0123456789abcdef", "not a sha256 or sha512 digest")]
    [InlineData("garbage", "not a sha256 or sha512 digest")]
    public async Task A_digest_header_of_another_algorithm_or_form_is_refused(string header, string expected)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(Manifest));
        await using var a = await HostileRegistry.StartAsync(async (_, context) =>
        {
            context.Response.ContentType = ManifestMediaTypes.OciManifest;
            context.Response.Headers["Docker-Content-Digest"] = string.Format(System.Globalization.CultureInfo.InvariantCulture, header, hex);
            await context.Response.Body.WriteAsync(Manifest);
        });
        using var client = ClientFor(a.Authority);

        var byDigest = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(a.Authority, Repo, ManifestDigest, (ICredentialSource?)null, Ct));
        var head = await Assert.ThrowsAsync<RegistryException>(() => client.HeadManifestAsync(a.Authority, Repo, ManifestDigest, (ICredentialSource?)null, Ct));

        Assert.Contains(expected, byDigest.Message, StringComparison.Ordinal);
        Assert.Equal(RegistryErrorKind.InvalidResponse, head.Kind);
    }

    [Theory]
    [InlineData("{\"token\":\"a\\r\\nX-Injected: 1\"}")]
    [InlineData("{\"token\":42}")]
    [InlineData("{\"token\":\"\"}")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"access_token\":[\"t\"]}")]
    public async Task A_token_answer_that_is_not_a_usable_token_is_refused(string answer)
    {
        await using var a = await HostileRegistry.StartAsync((self, context) => context.Request.Path == "/token"
            ? HostileRegistry.JsonAsync(context, 200, answer)
            : HostileRegistry.ChallengeAsync(context, $"Bearer realm=\"{self.Origin}/token\""));
        using var client = ClientFor(a.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.CheckCredentialsAsync(a.Authority, [Repo], Credential, Ct));

        Assert.Equal(RegistryErrorKind.InvalidResponse, error.Kind);
        Assert.DoesNotContain("X-Injected", a.Received, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Late_answers_are_cut_by_the_operation_deadline()
    {
        await using var a = await HostileRegistry.StartAsync(RegistryA(async (_, context) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1.2), context.RequestAborted);
            await ServeManifest(context);
        }));
        var options = new DistributionClientOptions
        {
            InsecureRegistries = [a.Authority],
            RequestTimeout = TimeSpan.FromSeconds(1.5),
            OperationTimeout = TimeSpan.FromSeconds(2),
        };
        using var client = new DistributionClient(options);
        // Each answer is within the timeout of one exchange; a platform check needs the manifest and then the config.
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(a.Authority, Repo, "1.0", new ImagePlatform("linux", "amd64"), Credential, Ct));

        Assert.Equal(RegistryErrorKind.Unreachable, error.Kind);
        Assert.Contains("operation deadline of 2 s", error.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));
    }

    [Fact]
    public async Task A_hostile_WWW_Authenticate_header_is_an_error_that_quotes_nothing_of_it()
    {
        await using var a = await HostileRegistry.StartAsync((_, context) => HostileRegistry.ChallengeAsync(context, $"Bearer realm=\"{_password}"));
        using var client = ClientFor(a.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.CheckCredentialsAsync(a.Authority, [Repo], Credential, Ct));

        Assert.Equal(RegistryErrorKind.InvalidResponse, error.Kind);
        AssertNoSecretOfA(error.ToString(), "the error");
    }
}
