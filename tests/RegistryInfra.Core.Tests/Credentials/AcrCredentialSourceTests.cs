using System.Collections.Concurrent;
using System.Text;
using Azure.Core;
using Azure.Identity;
using Microsoft.AspNetCore.Http;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Testing;

namespace RegistryInfra.Core.Tests.Credentials;

public sealed class AcrCredentialSourceTests : IAsyncLifetime
{
    private const string EntraToken = "entra-access-token-value";
    private static readonly DateTimeOffset RefreshExpiry = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private readonly ConcurrentQueue<IFormCollection> _forms = new();
    private readonly ConcurrentQueue<int> _statuses = new();
    private LoopbackHttpServer _exchange = null!;

    public async ValueTask InitializeAsync() => _exchange = await LoopbackHttpServer.StartAsync(async context =>
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        _forms.Enqueue(form);
        if (_statuses.TryDequeue(out var status))
        {
            context.Response.StatusCode = status;
            return;
        }
        if (context.Request.Path != "/oauth2/exchange" || form["grant_type"] != "access_token" || form["access_token"] != EntraToken)
        {
            context.Response.StatusCode = 401;
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync($"{{\"refresh_token\":\"{Jwt(RefreshExpiry)}\"}}", context.RequestAborted);
    }, Ct);

    public ValueTask DisposeAsync() => _exchange.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static string Jwt(DateTimeOffset exp)
    {
        static string Part(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{Part("{\"alg\":\"RS256\",\"typ\":\"JWT\"}")}.{Part($"{{\"exp\":{exp.ToUnixTimeSeconds()},\"grant_type\":\"refresh_token\"}}")}.c2lnbmF0dXJl";
    }

    private sealed class FakeEntraCredential(string token, Exception? failure = null) : TokenCredential
    {
        public ConcurrentQueue<TokenRequestContext> Requests { get; } = new();

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Requests.Enqueue(requestContext);
            return failure is null ? ValueTask.FromResult(new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1))) : ValueTask.FromException<AccessToken>(failure);
        }
    }

    [Fact]
    public async Task Exchanges_the_Entra_token_for_a_refresh_token()
    {
        var entra = new FakeEntraCredential(EntraToken);
        var source = new AcrCredentialSource("MyRegistry.azurecr.io", entra, tenantId: "tenant-1", exchangeEndpoint: _exchange.BaseAddress);

        var credential = await source.GetCredentialAsync(Ct);

        Assert.Equal(AcrCredentialSource.RefreshTokenUsername, credential.Username);
        Assert.Equal(Jwt(RefreshExpiry), credential.Password);
        Assert.Equal(credential.Password, credential.IdentityToken);
        Assert.Equal(RefreshExpiry, credential.ExpiresAt);
        var form = Assert.Single(_forms);
        Assert.Equal("myregistry.azurecr.io", form["service"]);
        Assert.Equal("tenant-1", form["tenant"]);
        Assert.Equal([AcrCredentialSource.RegistryScope], Assert.Single(entra.Requests).Scopes);
        Assert.Equal("acr(myregistry.azurecr.io)", source.Description);
    }

    [Theory]
    [InlineData(401, RegistryErrorKind.CredentialSource)]
    [InlineData(429, RegistryErrorKind.RateLimited)]
    [InlineData(503, RegistryErrorKind.Unreachable)]
    public async Task Exchange_failures_map_to_kinds_without_the_token(int status, RegistryErrorKind kind)
    {
        _statuses.Enqueue(status);
        var source = new AcrCredentialSource("r.azurecr.io", new FakeEntraCredential(EntraToken), exchangeEndpoint: _exchange.BaseAddress);

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await source.GetCredentialAsync(Ct));

        Assert.Equal(kind, e.Kind);
        Assert.Contains($"HTTP {status}", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(EntraToken, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_Entra_token_is_refused_by_the_exchange()
    {
        var source = new AcrCredentialSource("r.azurecr.io", new FakeEntraCredential("not-the-right-token"), exchangeEndpoint: _exchange.BaseAddress);

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await source.GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
    }

    [Fact]
    public async Task No_Entra_identity_is_a_credential_source_error()
    {
        var source = new AcrCredentialSource("r.azurecr.io", new FakeEntraCredential("", new CredentialUnavailableException("no identity")), exchangeEndpoint: _exchange.BaseAddress);

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await source.GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Empty(_forms);
    }

    [Theory]
    [InlineData("")]
    [InlineData("https://r.azurecr.io/")]
    public void A_bad_registry_names_the_field(string registry)
    {
        var e = Assert.Throws<RegistryException>(() => new AcrCredentialSource(registry, new FakeEntraCredential("t")));

        Assert.Contains("'registry'", e.Message, StringComparison.Ordinal);
    }
}
