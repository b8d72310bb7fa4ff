using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Identity;

namespace RegistryInfra.Core.Credentials;

/// <summary>
/// An Azure Container Registry refresh token: a Microsoft Entra access token from Azure.Identity,
/// exchanged at <c>https://REGISTRY/oauth2/exchange</c>; user <c>00000000-0000-0000-0000-000000000000</c>,
/// the refresh token as password and identity token, expiry from the refresh token's <c>exp</c> (about 3 h).
/// </summary>
/// <remarks>
/// The Entra token is requested for <see cref="RegistryScope"/> (<c>https://containerregistry.azure.net/.default</c>),
/// which every registry accepts, including those that refuse ARM-audience tokens
/// (<c>azureADAuthenticationAsArmPolicy</c> disabled); <see cref="ArmScope"/> is the older alternative.
/// The default credential is <see cref="DefaultAzureCredential"/> (environment, workload identity as set
/// up by AKS, managed identity, Azure CLI). Each call exchanges afresh; Azure.Identity caches the Entra
/// token, so calls may overlap.
/// </remarks>
public sealed class AcrCredentialSource : ICredentialSource
{
    /// <summary>The user name ACR expects with a refresh token.</summary>
    public const string RefreshTokenUsername = "00000000-0000-0000-0000-000000000000";

    /// <summary>The ACR audience scope.</summary>
    public const string RegistryScope = "https://containerregistry.azure.net/.default";

    /// <summary>The Azure Resource Manager scope (what <c>az acr login</c> historically used).</summary>
    public const string ArmScope = "https://management.azure.com/.default";

    private static readonly HttpClient SharedHttp = new() { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    private readonly TokenCredential _credential;
    private readonly HttpClient _http;
    private readonly Uri _exchange;
    private readonly TimeSpan _timeout;

    /// <param name="registry">The login server, such as <c>myregistry.azurecr.io</c>.</param>
    /// <param name="credential">The Entra identity; null for <see cref="DefaultAzureCredential"/>.</param>
    /// <param name="tenantId">The tenant to name in the exchange, where the registry needs it.</param>
    /// <param name="scope">The Entra scope (default <see cref="RegistryScope"/>).</param>
    /// <param name="exchangeEndpoint">Base URL of the exchange (default <c>https://REGISTRY/</c>).</param>
    /// <param name="timeout">Limit for one call (default 30 s).</param>
    /// <param name="httpClient">The HTTP client to send with.</param>
    public AcrCredentialSource(string registry, TokenCredential? credential = null, string? tenantId = null, string? scope = null,
        Uri? exchangeEndpoint = null, TimeSpan? timeout = null, HttpClient? httpClient = null)
    {
        if (string.IsNullOrWhiteSpace(registry) || registry.Contains('/', StringComparison.Ordinal) || registry.Contains(' ', StringComparison.Ordinal) ||
            Uri.CheckHostName(registry.Split(':')[0]) == UriHostNameType.Unknown)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"acr: 'registry' must be a login server host such as 'myregistry.azurecr.io', got '{registry}'");
        }
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "acr: 'timeout' must be positive");
        }
        Registry = registry.ToLowerInvariant();
        TenantId = string.IsNullOrWhiteSpace(tenantId) ? null : tenantId;
        Scope = string.IsNullOrWhiteSpace(scope) ? RegistryScope : scope;
        _credential = credential ?? new DefaultAzureCredential(new DefaultAzureCredentialOptions { TenantId = TenantId });
        _exchange = new Uri(exchangeEndpoint ?? new Uri($"https://{Registry}/"), "oauth2/exchange");
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
        _http = httpClient ?? SharedHttp;
    }

    /// <summary>The login server.</summary>
    public string Registry { get; }

    /// <summary>The tenant, if given.</summary>
    public string? TenantId { get; }

    /// <summary>The Entra scope requested.</summary>
    public string Scope { get; }

    /// <inheritdoc />
    public string Description => $"acr({Registry})";

    /// <inheritdoc />
    public async ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            AccessToken entra;
            try
            {
                entra = await _credential.GetTokenAsync(new TokenRequestContext([Scope], tenantId: TenantId), deadline.Token).ConfigureAwait(false);
            }
            catch (AuthenticationFailedException e)
            {
                // Azure.Identity's messages describe the chain and never carry the token; the type says enough here.
                throw new RegistryException(RegistryErrorKind.CredentialSource,
                    $"{Description}: no Microsoft Entra token for {Scope} ({e.GetType().Name}; check workload identity, managed identity or AZURE_* variables)", e);
            }
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "access_token",
                ["service"] = Registry,
                ["access_token"] = entra.Token,
            };
            if (TenantId is not null)
            {
                form["tenant"] = TenantId;
            }
            using var content = new FormUrlEncodedContent(form);
            HttpResponseMessage response;
            try
            {
                response = await _http.PostAsync(_exchange, content, deadline.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new RegistryException(RegistryErrorKind.Unreachable, $"{Description}: cannot reach {_exchange.Host}: {e.Message}", e);
            }
            using (response)
            {
                var body = await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (!response.IsSuccessStatusCode)
                {
                    var kind = response.StatusCode == HttpStatusCode.TooManyRequests ? RegistryErrorKind.RateLimited
                        : status >= 500 ? RegistryErrorKind.Unreachable
                        : RegistryErrorKind.CredentialSource;
                    throw new RegistryException(kind, $"{Description}: the token exchange answered HTTP {status}{(status is 401 or 403 ? " (the identity has no access to the registry, or the token's audience is not accepted)" : "")}");
                }
                var refreshToken = ReadRefreshToken(body);
                return new RegistryCredential(RefreshTokenUsername, refreshToken, JwtExpiry(refreshToken), refreshToken);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable, $"{Description}: no refresh token within {_timeout.TotalSeconds} s");
        }
    }

    private string ReadRefreshToken(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("refresh_token", out var token) && token.ValueKind == JsonValueKind.String &&
                token.GetString() is { Length: > 0 } value)
            {
                return value;
            }
        }
        catch (JsonException)
        {
            // fall through to the error below, which does not quote the body
        }
        throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{Description}: the token exchange answer has no 'refresh_token'");
    }

    /// <summary>The <c>exp</c> of a JWT's payload, read without verifying it (the registry verifies).</summary>
    internal static DateTimeOffset? JwtExpiry(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length < 2)
        {
            return null;
        }
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var document = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
            return document.RootElement.TryGetProperty("exp", out var exp) && exp.ValueKind == JsonValueKind.Number
                ? DateTimeOffset.FromUnixTimeSeconds(exp.GetInt64())
                : null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}
