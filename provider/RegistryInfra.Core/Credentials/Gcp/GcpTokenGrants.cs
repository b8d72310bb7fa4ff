using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RegistryInfra.Core.Credentials;

/// <summary>One way of asking Google for an access token: the request to send, and how to speak of the endpoint.</summary>
internal abstract class GcpTokenGrant
{
    /// <summary>The endpoint's host, for messages (never a secret).</summary>
    public abstract string Host { get; }

    /// <summary>True for the metadata server (no proxy, <c>Metadata-Flavor: Google</c> required on the answer).</summary>
    public virtual bool IsMetadataServer => false;

    /// <summary>What to say, after the source's description, when the endpoint cannot be reached.</summary>
    public virtual string Unreachable(HttpRequestException e) => $"cannot reach the Google token endpoint {Host}: {e.Message}";

    /// <summary>A new request (each attempt signs anew, with the time of <paramref name="now"/>).</summary>
    public abstract HttpRequestMessage CreateRequest(DateTimeOffset now);

    /// <summary>The token and its lifetime: one request by default; grants of several steps override this.</summary>
    public virtual Task<(string Token, TimeSpan? Lifetime)> FetchAsync(HttpClient? http, TimeProvider clock, string description, CancellationToken cancellationToken) =>
        GcpTokenClient.FetchAsync(this, http, clock, description, cancellationToken);

    protected static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
}

/// <summary>
/// The JWT bearer grant of a service-account key (RFC 7523 section 2.1): an RS256-signed assertion with <c>iss</c> the
/// account's e-mail, <c>aud</c> the key's <c>token_uri</c>, <c>scope</c> cloud-platform, <c>iat</c> now and <c>exp</c>
/// an hour later, and the key's <c>private_key_id</c> as <c>kid</c>, posted as
/// <c>grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&amp;assertion=…</c> to <c>token_uri</c> (as
/// googleapis/google-auth-library-python google/oauth2/service_account.py <c>_make_authorization_grant_assertion</c> and
/// google/oauth2/_client.py <c>jwt_grant</c> do).
/// </summary>
internal sealed class GcpServiceAccountGrant : GcpTokenGrant
{
    private const string JwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private static readonly TimeSpan AssertionLifetime = TimeSpan.FromHours(1);

    private readonly RSA _key;
    private readonly string? _keyId;
    private readonly Uri _tokenUri;

    private GcpServiceAccountGrant(GcpServiceAccountKey identity, RSA key, string? keyId, Uri tokenUri)
    {
        Identity = identity;
        _key = key;
        _keyId = keyId;
        _tokenUri = tokenUri;
    }

    /// <summary>The key's non-secret identity.</summary>
    public GcpServiceAccountKey Identity { get; }

    /// <inheritdoc />
    public override string Host => _tokenUri.Authority;

    /// <summary>Validates <paramref name="keyJson"/> (fields, <c>token_uri</c> under <see cref="GcpTokenEndpoints"/>, the
    /// RSA private key) and keeps the key ready to sign.</summary>
    /// <exception cref="RegistryException">A <see cref="RegistryException.ForField"/> failure on <paramref name="field"/>,
    /// naming the key's member at fault and never its content.</exception>
    public static GcpServiceAccountGrant Create(string keyJson, string field)
    {
        var identity = GcpServiceAccountKey.Parse(keyJson, field);
        GcpCredentialFile file;
        try
        {
            file = JsonSerializer.Deserialize(keyJson, GcpJsonContext.Default.GcpCredentialFile)!;
        }
        catch (JsonException e)
        {
            // The message would quote the key; only the member's path is kept.
            throw RegistryException.ForField(field, $"the service-account key has a member of the wrong type at '{e.Path ?? "$"}'");
        }
        var tokenUri = file.TokenUri is { Length: > 0 } given ? given : GcpTokenEndpoints.DefaultTokenUri;
        if (GcpTokenEndpoints.Refusal(tokenUri) is { } refusal)
        {
            throw RegistryException.ForField(field, $"the service-account key's 'token_uri' {refusal}");
        }
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(file.PrivateKey);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw RegistryException.ForField(field, "the service-account key's 'private_key' is not a PEM RSA private key");
        }
        return new GcpServiceAccountGrant(identity, rsa, file.PrivateKeyId, new Uri(tokenUri));
    }

    /// <inheritdoc />
    public override HttpRequestMessage CreateRequest(DateTimeOffset now)
    {
        var issuedAt = now.ToUnixTimeSeconds();
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new GcpJwtHeader("RS256", "JWT", _keyId), GcpJsonContext.Default.GcpJwtHeader));
        var claims = Base64Url(JsonSerializer.SerializeToUtf8Bytes(
            new GcpJwtClaims(Identity.ClientEmail, GcpAccessTokenSource.CloudPlatformScope, _tokenUri.AbsoluteUri, issuedAt, issuedAt + (long)AssertionLifetime.TotalSeconds),
            GcpJsonContext.Default.GcpJwtClaims));
        var signingInput = header + "." + claims;
        var signature = Base64Url(_key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        return new HttpRequestMessage(HttpMethod.Post, _tokenUri)
        {
            Content = Form(("grant_type", JwtBearerGrantType), ("assertion", signingInput + "." + signature)),
        };
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// The refresh-token grant of gcloud user credentials (<c>type</c> <c>authorized_user</c>, as written by
/// <c>gcloud auth application-default login</c>): <c>grant_type=refresh_token</c> with the file's <c>client_id</c>,
/// <c>client_secret</c> and <c>refresh_token</c> (RFC 6749 section 6; googleapis/google-auth-library-python
/// google/oauth2/_client.py <c>refresh_grant</c>). No scope is sent: the refresh token carries the scopes the user
/// granted (cloud-platform for application-default login).
/// </summary>
internal sealed class GcpAuthorizedUserGrant : GcpTokenGrant
{
    private readonly string _clientId;
    private readonly string _clientSecret;
    private readonly string _refreshToken;
    private readonly Uri _tokenUri;

    private GcpAuthorizedUserGrant(string clientId, string clientSecret, string refreshToken, Uri tokenUri)
    {
        _clientId = clientId;
        _clientSecret = clientSecret;
        _refreshToken = refreshToken;
        _tokenUri = tokenUri;
    }

    /// <inheritdoc />
    public override string Host => _tokenUri.Authority;

    /// <exception cref="RegistryException">A <see cref="RegistryException.ForField"/> failure on <paramref name="where"/> naming
    /// the member that is missing or refused.</exception>
    public static GcpAuthorizedUserGrant Create(GcpCredentialFile file, string where)
    {
        static string Required(string? value, string where, string name) => value is { Length: > 0 } v
            ? v
            : throw RegistryException.ForField(where, $"the authorized_user credentials have no '{name}'");
        var clientId = Required(file.ClientId, where, "client_id");
        var clientSecret = Required(file.ClientSecret, where, "client_secret");
        var refreshToken = Required(file.RefreshToken, where, "refresh_token");
        var tokenUri = file.TokenUri is { Length: > 0 } given ? given : GcpTokenEndpoints.DefaultTokenUri;
        if (GcpTokenEndpoints.Refusal(tokenUri) is { } refusal)
        {
            throw RegistryException.ForField(where, $"the authorized_user credentials' 'token_uri' {refusal}");
        }
        return new GcpAuthorizedUserGrant(clientId, clientSecret, refreshToken, new Uri(tokenUri));
    }

    /// <inheritdoc />
    public override HttpRequestMessage CreateRequest(DateTimeOffset now) => new(HttpMethod.Post, _tokenUri)
    {
        Content = Form(("grant_type", "refresh_token"), ("client_id", _clientId), ("client_secret", _clientSecret), ("refresh_token", _refreshToken)),
    };
}

/// <summary>
/// The metadata server of GCE, GKE (Workload Identity's gke-metadata-server), Cloud Run and the like:
/// <c>GET http://HOST/computeMetadata/v1/instance/service-accounts/default/token?scopes=…</c> with
/// <c>Metadata-Flavor: Google</c>, HOST from <c>GCE_METADATA_HOST</c> (then the older <c>GCE_METADATA_ROOT</c>, then
/// <c>metadata.google.internal</c>), as googleapis/google-auth-library-python google/auth/compute_engine/_metadata.py
/// (commit 026bee43a14216f5ba9dd4183ce7c8c8cea89084) does; the answer must carry <c>Metadata-Flavor: Google</c> too.
/// </summary>
internal sealed class GcpMetadataGrant : GcpTokenGrant
{
    /// <summary>The variable that names the metadata server's host (and port).</summary>
    public const string HostVariable = "GCE_METADATA_HOST";

    /// <summary>Its older name.</summary>
    public const string LegacyHostVariable = "GCE_METADATA_ROOT";

    /// <summary>The metadata server's name on Google Cloud.</summary>
    public const string DefaultHost = "metadata.google.internal";

    private readonly Uri _tokenUri;
    private readonly string? _notFound;

    private GcpMetadataGrant(Uri tokenUri, string? notFound)
    {
        _tokenUri = tokenUri;
        _notFound = notFound;
    }

    /// <inheritdoc />
    public override string Host => _tokenUri.Authority;

    /// <inheritdoc />
    public override bool IsMetadataServer => true;

    /// <summary>The metadata server of this environment; <paramref name="notFound"/> is what to add when it cannot be
    /// reached (the other places Application Default Credentials looked).</summary>
    public static GcpMetadataGrant FromEnvironment(string? notFound = null)
    {
        var (variable, host) = Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } h ? (HostVariable, h)
            : Environment.GetEnvironmentVariable(LegacyHostVariable) is { Length: > 0 } legacy ? (LegacyHostVariable, legacy)
            : ("", DefaultHost);
        if (!Uri.TryCreate($"http://{host}/computeMetadata/v1/instance/service-accounts/default/token?scopes={Uri.EscapeDataString(GcpAccessTokenSource.CloudPlatformScope)}", UriKind.Absolute, out var uri)
            || uri.Authority.Length == 0 || uri.AbsolutePath != "/computeMetadata/v1/instance/service-accounts/default/token")
        {
            throw RegistryException.ForField(variable, $"must be a host or host:port, got '{Redaction.Excerpt(host, maxLength: 80)}'");
        }
        return new GcpMetadataGrant(uri, notFound);
    }

    /// <inheritdoc />
    public override string Unreachable(HttpRequestException e) => _notFound is null
        ? $"cannot reach the metadata server {Host}: {e.Message}"
        : $"no Google Application Default Credentials: {_notFound}, and the metadata server {Host} cannot be reached ({e.Message}); " +
          "set GOOGLE_APPLICATION_CREDENTIALS, or run on Google Cloud (GKE with Workload Identity)";

    /// <inheritdoc />
    public override HttpRequestMessage CreateRequest(DateTimeOffset now)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, _tokenUri);
        request.Headers.Add("Metadata-Flavor", "Google");
        return request;
    }
}

/// <summary>Sends a grant and reads the answer: retries what is worth retrying, maps failures to
/// <see cref="RegistryException"/>s that carry no token, key or refresh token.</summary>
internal static class GcpTokenClient
{
    private const int Attempts = 3;
    private const int MaxBody = 64 * 1024;

    /// <summary>For token endpoints: no redirects, so a POST carrying an assertion is never re-sent to another host.</summary>
    public static readonly HttpClient OAuthHttp = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>For the metadata server: link-local and plain http by design, never through a proxy.</summary>
    public static readonly HttpClient MetadataHttp = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>The token and its lifetime as the endpoint gave it (null when it gave none).</summary>
    public static async Task<(string Token, TimeSpan? Lifetime)> FetchAsync(GcpTokenGrant grant, HttpClient? http, TimeProvider clock, string description, CancellationToken cancellationToken)
    {
        http = grant.IsMetadataServer ? MetadataHttp : http ?? OAuthHttp;
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            using (var request = grant.CreateRequest(clock.GetUtcNow()))
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                try
                {
                    response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                }
                catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
                {
                    if (attempt < Attempts && e.HttpRequestError != HttpRequestError.NameResolutionError)
                    {
                        await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    throw new RegistryException(RegistryErrorKind.Unreachable, $"{description}: {grant.Unreachable(e)}", e);
                }
            }
            using (response)
            {
                var status = (int)response.StatusCode;
                var body = await ReadAsync(response.Content, cancellationToken).ConfigureAwait(false);
                if (grant.IsMetadataServer && !(response.Headers.TryGetValues("Metadata-Flavor", out var flavor) && flavor.Contains("Google", StringComparer.Ordinal)))
                {
                    throw new RegistryException(RegistryErrorKind.CredentialSource,
                        $"{description}: {grant.Host} answered HTTP {status} without 'Metadata-Flavor: Google': it is not a Google metadata server");
                }
                if (response.IsSuccessStatusCode)
                {
                    return Token(body, description, grant, status, clock.GetUtcNow());
                }
                if (attempt < Attempts && (status is 408 or 429 || status >= 500))
                {
                    await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                throw Refused(body, status, description, grant);
            }
        }
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(250 * (1 << (attempt - 1)));

    private static (string, TimeSpan?) Token(byte[] body, string description, GcpTokenGrant grant, int status, DateTimeOffset now)
    {
        GcpTokenAnswer? answer;
        try
        {
            answer = JsonSerializer.Deserialize(body, GcpJsonContext.Default.GcpTokenAnswer);
        }
        catch (JsonException)
        {
            answer = null;
        }
        if ((answer?.AccessToken ?? answer?.AccessTokenCamel) is not { Length: > 0 } token)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{description}: {grant.Host} answered HTTP {status} without an access token ({body.Length} bytes)");
        }
        TimeSpan? lifetime = answer!.ExpiresIn is > 0 and < 1e7 and { } seconds ? TimeSpan.FromSeconds(seconds)
            : answer.ExpireTime is { } expires && expires > now ? expires - now
            : null;
        return (token, lifetime);
    }

    private static RegistryException Refused(byte[] body, int status, string description, GcpTokenGrant grant)
    {
        var kind = status == 429 ? RegistryErrorKind.RateLimited
            : status >= 500 ? RegistryErrorKind.Unreachable
            : RegistryErrorKind.CredentialSource;
        var (code, text) = ErrorOf(body);
        var detail = text is { Length: > 0 } d ? $" ({Redaction.Excerpt(d, maxLength: 160)})" : "";
        var who = grant.IsMetadataServer ? $"the metadata server {grant.Host}" : $"the Google token endpoint {grant.Host}";
        return new RegistryException(kind, $"{description}: {who} refused the request: {Redaction.Excerpt(code ?? "unknown error", maxLength: 60)}{detail} (HTTP {status})");
    }

    /// <summary>An OAuth error (<c>{"error": "invalid_grant", "error_description"}</c>, RFC 6749 section 5.2) or a Google
    /// API error (<c>{"error": {"status": "PERMISSION_DENIED", "message"}}</c>, as IAM Credentials answers).</summary>
    private static (string? Code, string? Text) ErrorOf(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("error", out var error))
            {
                return (null, null);
            }
            if (error.ValueKind == JsonValueKind.String)
            {
                return (error.GetString(), document.RootElement.TryGetProperty("error_description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null);
            }
            if (error.ValueKind == JsonValueKind.Object)
            {
                return (error.TryGetProperty("status", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null,
                    error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null);
            }
            return (null, null);
        }
        catch (JsonException)
        {
            // Not a JSON error answer: the status says enough.
            return (null, null);
        }
    }

    private static async Task<byte[]> ReadAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, Math.Min(read, MaxBody - (int)buffer.Length));
            if (buffer.Length >= MaxBody)
            {
                break;
            }
        }
        return buffer.ToArray();
    }
}
