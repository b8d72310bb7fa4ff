using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Moq;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Distribution;

namespace RegistryInfra.Core.Tests.Distribution;

/// <summary>The client against scripted loopback servers: error mapping, redirects, tokens, limits.</summary>
public sealed class DistributionClientTests
{
    private const string Repo = "team/app";
    private static readonly byte[] Manifest = Encoding.UTF8.GetBytes(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" + new string('a', 64) + "\",\"size\":2},\"layers\":[]}");
    private static readonly string ManifestDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Manifest));
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DistributionClient ClientFor(params string[] insecure) => ClientFor(null, insecure);

    private static DistributionClient ClientFor(TimeProvider? time, params string[] insecure) =>
        new(new DistributionClientOptions { InsecureRegistries = insecure, RequestTimeout = TimeSpan.FromSeconds(10) }, time);

    private static async Task ServeManifest(HttpContext context, string? digestHeader = null)
    {
        context.Response.ContentType = ManifestMediaTypes.OciManifest;
        context.Response.Headers["Docker-Content-Digest"] = digestHeader ?? ManifestDigest;
        await context.Response.Body.WriteAsync(Manifest);
    }

    private static Task Json(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }

    [Fact]
    public async Task Rate_limiting_is_RateLimited_with_Retry_After()
    {
        await using var server = await StubServer.StartAsync(context =>
        {
            context.Response.Headers.RetryAfter = "7";
            return Json(context, 429, "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}");
        });
        using var client = ClientFor(server.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.RateLimited, error.Kind);
        Assert.True(error.IsTransient);
        Assert.Equal(TimeSpan.FromSeconds(7), DistributionClient.RetryAfterOf(error));
        Assert.Contains("retry after 7 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("TOOMANYREQUESTS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_TOOMANYREQUESTS_body_on_another_status_is_RateLimited()
    {
        await using var server = await StubServer.StartAsync(context =>
            Json(context, 403, "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"pull limit\"}]}"));
        using var client = ClientFor(server.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(server.Authority, Repo, "1.0", (ICredentialSource?)null, Ct));

        Assert.Equal(RegistryErrorKind.RateLimited, error.Kind);
        Assert.Null(DistributionClient.RetryAfterOf(error));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task Server_errors_are_Unreachable_and_transient(int status)
    {
        await using var server = await StubServer.StartAsync(context => Json(context, status, "oops"));
        using var client = ClientFor(server.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.Unreachable, error.Kind);
        Assert.True(error.IsTransient);
        Assert.Contains($"HTTP {status}", error.Message, StringComparison.Ordinal);
        Assert.Contains(Repo, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_403_DENIED_is_Forbidden_and_NAME_UNKNOWN_is_RepositoryNotFound()
    {
        await using var server = await StubServer.StartAsync(context => context.Request.Path.Value!.Contains("/denied/", StringComparison.Ordinal)
            ? Json(context, 403, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}")
            : Json(context, 404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"}]}"));
        using var client = ClientFor(server.Authority);

        var denied = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, "team/denied/x", "1.0", cancellationToken: Ct));
        var unknown = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, "team/x", "1.0", cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.Forbidden, denied.Kind);
        Assert.Contains("DENIED", denied.Message, StringComparison.Ordinal);
        Assert.Equal(RegistryErrorKind.RepositoryNotFound, unknown.Kind);
    }

    [Fact]
    public async Task A_manifest_that_is_not_JSON_is_InvalidResponse()
    {
        await using var server = await StubServer.StartAsync(context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("{not json");
        });
        using var client = ClientFor(server.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.InvalidResponse, error.Kind);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_index_whose_entries_lack_digests_is_InvalidResponse()
    {
        await using var server = await StubServer.StartAsync(context =>
        {
            context.Response.ContentType = ManifestMediaTypes.OciIndex;
            return context.Response.WriteAsync("{\"schemaVersion\":2,\"manifests\":[{\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}");
        });
        using var client = ClientFor(server.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.InvalidResponse, error.Kind);
    }

    [Fact]
    public async Task A_Docker_Content_Digest_that_does_not_match_the_bytes_is_InvalidResponse()
    {
        await using var server = await StubServer.StartAsync(context => ServeManifest(context, "sha256:" + new string('0', 64)));
        using var client = ClientFor(server.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.InvalidResponse, error.Kind);
        Assert.Contains("does not match", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bytes_that_do_not_hash_to_the_requested_digest_are_InvalidResponse()
    {
        await using var server = await StubServer.StartAsync(context => ServeManifest(context, "sha256:" + new string('1', 64)));
        using var client = ClientFor(server.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "sha256:" + new string('1', 64), cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.InvalidResponse, error.Kind);
    }

    [Fact]
    public async Task Without_a_digest_header_the_digest_is_computed_and_the_Accept_and_User_Agent_headers_are_sent()
    {
        await using var server = await StubServer.StartAsync(async context =>
        {
            context.Response.ContentType = ManifestMediaTypes.OciManifest;
            await context.Response.Body.WriteAsync(Manifest);
        });
        using var client = ClientFor(server.Authority);

        var image = await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct);

        Assert.Equal(ManifestDigest, image.Digest);
        var seen = server.Requests.Single();
        Assert.Equal(DistributionClientOptions.DefaultUserAgent, seen.UserAgent);
        Assert.StartsWith("registryinfra/", seen.UserAgent, StringComparison.Ordinal);
        foreach (var type in ManifestMediaTypes.All)
        {
            Assert.Contains(type, seen.Accept, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Redirects_keep_Authorization_on_the_same_host_and_drop_it_across_hosts()
    {
        StubServer? server = null;
        server = await StubServer.StartAsync(context =>
        {
            var path = context.Request.Path.Value!;
            var host = context.Request.Host.Host;
            if (context.Request.Headers.Authorization.Count == 0 && host == "127.0.0.1")
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"stub\"";
                return Task.CompletedTask;
            }
            if (path.EndsWith("/manifests/1.0", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 307;
                context.Response.Headers.Location = "/v2/team/app/manifests/moved";
                return Task.CompletedTask;
            }
            if (path.EndsWith("/manifests/moved", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 302;
                context.Response.Headers.Location = $"http://{server!.LocalhostAuthority}/storage/manifest";
                return Task.CompletedTask;
            }
            return ServeManifest(context);
        });
        await using var _ = server;
        using var client = ClientFor(server.Authority, server.LocalhostAuthority);

        var image = await client.ResolveAsync(server.Authority, Repo, "1.0", null, new RegistryCredential("u", "p4ss"), Ct);

        Assert.Equal(ManifestDigest, image.Digest);
        var seen = server.Requests.ToList();
        Assert.Null(seen[0].Authorization); // before the challenge
        Assert.Equal("/v2/team/app/manifests/1.0", seen[1].PathAndQuery);
        Assert.StartsWith("Basic ", seen[1].Authorization, StringComparison.Ordinal);
        Assert.Equal("/v2/team/app/manifests/moved", seen[2].PathAndQuery);
        Assert.StartsWith("Basic ", seen[2].Authorization, StringComparison.Ordinal);
        Assert.Equal("/storage/manifest", seen[3].PathAndQuery);
        Assert.Null(seen[3].Authorization);
    }

    [Fact]
    public async Task Redirect_loops_stop_at_the_limit_and_plain_HTTP_redirects_are_refused_for_secure_hosts()
    {
        StubServer? server = null;
        server = await StubServer.StartAsync(context =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = context.Request.Path.Value!.Contains("loop", StringComparison.Ordinal)
                ? context.Request.Path.Value
                : $"http://{server!.LocalhostAuthority}/elsewhere";
            return Task.CompletedTask;
        });
        await using var _ = server;
        using var client = ClientFor(server.Authority);

        var loop = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, "team/loop", "1.0", cancellationToken: Ct));
        var downgrade = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.InvalidResponse, loop.Kind);
        Assert.Contains("redirects", loop.Message, StringComparison.Ordinal);
        Assert.Equal(6, server.Requests.Count(r => r.PathAndQuery.Contains("loop", StringComparison.Ordinal)));
        Assert.Equal(RegistryErrorKind.InvalidResponse, downgrade.Kind);
        Assert.Contains("refused a redirect", downgrade.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_registry_that_does_not_answer_in_time_is_Unreachable()
    {
        await using var server = await StubServer.StartAsync(context => Task.Delay(Timeout.Infinite, context.RequestAborted));
        using var client = new DistributionClient(new DistributionClientOptions
        {
            InsecureRegistries = [server.Authority],
            RequestTimeout = TimeSpan.FromMilliseconds(300),
        });

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.Unreachable, error.Kind);
        Assert.Contains("no answer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_when_nothing_listens()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var authority = $"127.0.0.1:{port}";
        using var client = ClientFor(authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.PingAsync(authority, Ct));

        Assert.Equal(RegistryErrorKind.Unreachable, error.Kind);
        Assert.Contains(authority, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://registry.example", "team/app", "1.0", "registry")]
    [InlineData("user:pw@registry.example", "team/app", "1.0", "registry")]
    [InlineData("", "team/app", "1.0", "registry")]
    [InlineData("registry.example", "Team/App", "1.0", "repository")]
    [InlineData("registry.example", "team//app", "1.0", "repository")]
    [InlineData("registry.example", "team/app", "-bad", "reference")]
    [InlineData("registry.example", "team/app", "sha256:short", "reference")]
    public async Task Invalid_input_is_InvalidInput_naming_the_field(string registry, string repository, string reference, string field)
    {
        using var client = ClientFor();

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(registry, repository, reference, cancellationToken: Ct));

        Assert.Equal(RegistryErrorKind.InvalidInput, error.Kind);
        Assert.StartsWith(field, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw@", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_options_are_rejected_naming_the_option()
    {
        var error = Assert.Throws<RegistryException>(() => new DistributionClient(new DistributionClientOptions { RequestTimeout = TimeSpan.Zero }));

        Assert.Contains(nameof(DistributionClientOptions.RequestTimeout), error.Message, StringComparison.Ordinal);
    }

    // ---- bearer tokens ---------------------------------------------------------------------------------

    private sealed class TokenRegistry
    {
        public int TokenRequests;
        public string TokenJson = "{\"token\":\"tok-1\",\"expires_in\":300}";
        public TaskCompletionSource? Gate;
        public List<string> Queries { get; } = [];

        public async Task Handle(HttpContext context, StubServer server)
        {
            if (context.Request.Path == "/token")
            {
                Interlocked.Increment(ref TokenRequests);
                lock (Queries)
                {
                    Queries.Add(context.Request.QueryString.Value!);
                }
                if (Gate is not null)
                {
                    await Gate.Task;
                }
                await Json(context, 200, TokenJson);
                return;
            }
            var authorization = context.Request.Headers.Authorization.ToString();
            if (!authorization.StartsWith("Bearer tok-", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{server.Authority}/token\",service=\"stub\"";
                return;
            }
            await ServeManifest(context);
        }
    }

    private static async Task<(StubServer, TokenRegistry)> StartTokenRegistry()
    {
        var state = new TokenRegistry();
        StubServer? server = null;
        server = await StubServer.StartAsync(context => state.Handle(context, server!));
        return (server, state);
    }

    [Fact]
    public async Task The_token_request_carries_service_scope_and_Basic_credentials()
    {
        var (server, state) = await StartTokenRegistry();
        await using var _ = server;
        using var client = ClientFor(server.Authority);

        await client.ResolveAsync(server.Authority, Repo, "1.0", null, new RegistryCredential("bob", "s3cret"), Ct);

        Assert.Equal("?service=stub&scope=repository%3Ateam%2Fapp%3Apull", state.Queries.Single());
        var tokenRequest = server.Requests.Single(r => r.PathAndQuery.StartsWith("/token", StringComparison.Ordinal));
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:s3cret")), tokenRequest.Authorization);
        Assert.Equal("Bearer tok-1", server.Requests.Last().Authorization);
    }

    [Fact]
    public async Task Anonymous_token_requests_carry_no_Authorization()
    {
        var (server, _) = await StartTokenRegistry();
        await using var __ = server;
        using var client = ClientFor(server.Authority);

        await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct);

        Assert.Null(server.Requests.Single(r => r.PathAndQuery.StartsWith("/token", StringComparison.Ordinal)).Authorization);
    }

    [Fact]
    public async Task Access_token_is_accepted_and_expires_in_defaults_to_60_seconds()
    {
        var (server, state) = await StartTokenRegistry();
        await using var _ = server;
        state.TokenJson = "{\"access_token\":\"tok-a\"}";
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        using var client = ClientFor(clock, server.Authority);

        await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct);
        clock.Advance(TimeSpan.FromSeconds(49)); // renewed 10 s before the 60 s default expiry
        await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct);
        Assert.Equal(1, state.TokenRequests);
        clock.Advance(TimeSpan.FromSeconds(2));
        await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct);

        Assert.Equal(2, state.TokenRequests);
    }

    [Fact]
    public async Task Issued_at_in_the_past_shortens_the_cached_lifetime()
    {
        var (server, state) = await StartTokenRegistry();
        await using var _ = server;
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        state.TokenJson = "{\"token\":\"tok-b\",\"expires_in\":120,\"issued_at\":\"2026-11-23T11:59:00Z\"}";
        using var client = ClientFor(clock, server.Authority);

        await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct);
        clock.Advance(TimeSpan.FromSeconds(45)); // 60 s + 45 s after issue: still before the renewal point (110 s)
        await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct);
        Assert.Equal(1, state.TokenRequests);
        clock.Advance(TimeSpan.FromSeconds(6)); // 111 s after issue: within the 10 s margin of the 120 s lifetime
        await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct);

        Assert.Equal(2, state.TokenRequests);
    }

    [Fact]
    public async Task Concurrent_requests_share_one_token_request()
    {
        var (server, state) = await StartTokenRegistry();
        await using var _ = server;
        state.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var client = ClientFor(server.Authority);
        await client.PingAsync(server.Authority, Ct); // learn the challenge so every resolve goes straight to the token

        var resolves = Enumerable.Range(0, 10).Select(_ => client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct)).ToList();
        while (Volatile.Read(ref state.TokenRequests) == 0)
        {
            await Task.Yield();
        }
        state.Gate.SetResult();
        var images = await Task.WhenAll(resolves);

        Assert.Equal(1, state.TokenRequests);
        Assert.All(images, i => Assert.Equal(ManifestDigest, i.Digest));
    }

    [Fact]
    public async Task A_token_response_without_a_token_is_InvalidResponse_and_is_not_cached()
    {
        var (server, state) = await StartTokenRegistry();
        await using var _ = server;
        state.TokenJson = "{\"expires_in\":300}";
        using var client = ClientFor(server.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct));
        state.TokenJson = "{\"token\":\"tok-2\"}";
        await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct);

        Assert.Equal(RegistryErrorKind.InvalidResponse, error.Kind);
        Assert.Contains("'token'", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, state.TokenRequests);
    }

    [Fact]
    public async Task A_cached_token_the_registry_rejects_is_renewed_once_and_no_token_is_ever_shown()
    {
        var tokens = 0;
        var revoked = "";
        StubServer? server = null;
        server = await StubServer.StartAsync(async context =>
        {
            if (context.Request.Path == "/token")
            {
                var n = Interlocked.Increment(ref tokens);
                await Json(context, 200, $"{{\"token\":\"secret-token-{n}\",\"expires_in\":300}}");
                return;
            }
            var authorization = context.Request.Headers.Authorization.ToString();
            if (authorization.StartsWith("Bearer ", StringComparison.Ordinal) && authorization != "Bearer " + Volatile.Read(ref revoked)
                && !context.Request.Path.Value!.Contains("never", StringComparison.Ordinal))
            {
                await ServeManifest(context);
                return;
            }
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{server!.Authority}/token\",service=\"stub\",error=\"invalid_token\"";
        });
        await using var _ = server;
        using var client = ClientFor(server.Authority);

        await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct); // secret-token-1, cached
        Volatile.Write(ref revoked, "secret-token-1");
        var image = await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct); // rejected, renewed: secret-token-2
        await client.ResolveAsync(server.Authority, Repo, "1.0", cancellationToken: Ct); // cached secret-token-2
        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.ResolveAsync(server.Authority, "team/never", "1.0", null, new RegistryCredential("u", "pw-never-shown"), Ct));

        Assert.Equal(ManifestDigest, image.Digest);
        Assert.Equal(3, tokens); // a freshly fetched token that is refused is not fetched again
        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        Assert.Contains("rejected the credentials", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-token", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("pw-never-shown", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_service_that_rejects_the_credentials_is_Unauthorized_and_a_403_is_Forbidden()
    {
        StubServer? server = null;
        server = await StubServer.StartAsync(context =>
        {
            if (context.Request.Path == "/token")
            {
                return Json(context, context.Request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:pw-bob")) ? 403 : 401, "{}");
            }
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{server!.Authority}/token\",service=\"stub\"";
            return Task.CompletedTask;
        });
        await using var _ = server;
        using var client = ClientFor(server.Authority);

        var unauthorized = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", null, new RegistryCredential("eve", "pw-eve"), Ct));
        var forbidden = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", null, new RegistryCredential("bob", "pw-bob"), Ct));

        Assert.Equal(RegistryErrorKind.Unauthorized, unauthorized.Kind);
        Assert.Contains("'eve'", unauthorized.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw-eve", unauthorized.Message, StringComparison.Ordinal);
        Assert.Equal(RegistryErrorKind.Forbidden, forbidden.Kind);
    }

    [Fact]
    public async Task An_identity_token_is_exchanged_with_the_OAuth2_refresh_token_grant()
    {
        string? form = null;
        StubServer? server = null;
        server = await StubServer.StartAsync(async context =>
        {
            if (context.Request.Path == "/oauth2/token")
            {
                form = await new StreamReader(context.Request.Body).ReadToEndAsync();
                await Json(context, 200, "{\"access_token\":\"tok-oauth\",\"expires_in\":300}");
                return;
            }
            if (context.Request.Headers.Authorization.ToString() == "Bearer tok-oauth")
            {
                await ServeManifest(context);
                return;
            }
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{server!.Authority}/oauth2/token\",service=\"stub\"";
        });
        await using var _ = server;
        using var client = ClientFor(server.Authority);

        var image = await client.ResolveAsync(server.Authority, Repo, "1.0", null,
            new RegistryCredential("00000000-0000-0000-0000-000000000000", "", IdentityToken: "refresh-me"), Ct);

        Assert.Equal(ManifestDigest, image.Digest);
        var tokenRequest = server.Requests.Single(r => r.PathAndQuery.StartsWith("/oauth2/token", StringComparison.Ordinal));
        Assert.Equal("POST", tokenRequest.Method);
        Assert.Null(tokenRequest.Authorization);
        Assert.Equal("grant_type=refresh_token&refresh_token=refresh-me&client_id=registryinfra&service=stub&scope=repository%3Ateam%2Fapp%3Apull", form);
    }

    [Fact]
    public async Task A_credential_source_is_asked_only_when_the_registry_wants_credentials_and_once_per_operation()
    {
        var (server, state) = await StartTokenRegistry();
        await using var _ = server;
        await using var open = await StubServer.StartAsync(context => ServeManifest(context));
        var source = new Mock<ICredentialSource>();
        source.Setup(s => s.GetCredentialAsync(It.IsAny<CancellationToken>())).ReturnsAsync(new RegistryCredential("bob", "pw"));
        using var client = ClientFor(server.Authority, open.Authority);

        await client.ResolveAsync(open.Authority, Repo, "1.0", null, source.Object, Ct);
        source.Verify(s => s.GetCredentialAsync(It.IsAny<CancellationToken>()), Times.Never);
        await client.ResolveAsync(server.Authority, Repo, "1.0", null, source.Object, Ct);

        source.Verify(s => s.GetCredentialAsync(It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal(1, state.TokenRequests);
    }

    [Fact]
    public async Task A_failing_credential_source_surfaces_its_own_error()
    {
        var (server, _) = await StartTokenRegistry();
        await using var __ = server;
        var source = new Mock<ICredentialSource>();
        source.Setup(s => s.GetCredentialAsync(It.IsAny<CancellationToken>()))
            .ThrowsAsync(new RegistryException(RegistryErrorKind.CredentialSource, "ecr(123456789012, eu-west-1): no web identity token"));
        using var client = ClientFor(server.Authority);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(server.Authority, Repo, "1.0", null, source.Object, Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, error.Kind);
    }
}
