using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace RegistryInfra.Testing.Google;

/// <summary>What the fake saw of one token request.</summary>
public sealed record FakeGoogleOAuthRequest(string? GrantType, bool SignatureValid, string? Issuer, string? Scope, string? Audience, string? Rejected);

/// <summary>
/// A Google OAuth2 token endpoint on 127.0.0.1 for service-account JWT bearer grants: it verifies the
/// assertion's RS256 signature with the public half of the key, checks issuer, audience (its own URL),
/// scope and times, and answers <c>{"access_token","expires_in","token_type"}</c>. Put <see cref="TokenUri"/>
/// into a key's <c>token_uri</c>. It also takes the refresh-token grant of gcloud user credentials
/// (<see cref="AuthorizedUserJson"/>: its own client id, secret and refresh token).
/// </summary>
public sealed class FakeGoogleOAuth : IAsyncDisposable
{
    private readonly RSA _publicKey;
    private readonly string _clientEmail;
    private readonly ConcurrentQueue<FakeGoogleOAuthRequest> _requests = new();
    private readonly ConcurrentQueue<string> _issued = new();
    private readonly ConcurrentQueue<(int Status, string Error)> _errors = new();
    private LoopbackHttpServer? _server;

    private FakeGoogleOAuth(RSA publicKey, string clientEmail, int expiresInSeconds)
    {
        _publicKey = publicKey;
        _clientEmail = clientEmail;
        ExpiresInSeconds = expiresInSeconds;
    }

    public Uri TokenUri => new(_server!.BaseAddress, "token");

    public int ExpiresInSeconds { get; }

    public IReadOnlyList<FakeGoogleOAuthRequest> Requests => _requests.ToArray();

    public IReadOnlyList<string> IssuedTokens => _issued.ToArray();

    /// <summary>The refresh token of <see cref="AuthorizedUserJson"/>.</summary>
    public string RefreshToken { get; } = "1//fake-refresh-" + RandomNumberGenerator.GetHexString(32);

    /// <summary>The client secret of <see cref="AuthorizedUserJson"/>.</summary>
    public string ClientSecret { get; } = "fake-client-secret-" + RandomNumberGenerator.GetHexString(16);

    /// <summary>gcloud user credentials (<c>authorized_user</c>) that this endpoint accepts, naming it as <c>token_uri</c>.</summary>
    public string AuthorizedUserJson() => JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["type"] = "authorized_user",
        ["client_id"] = "764086051850-fake.apps.googleusercontent.com",
        ["client_secret"] = ClientSecret,
        ["refresh_token"] = RefreshToken,
        ["token_uri"] = TokenUri.ToString(),
    });

    public static async Task<FakeGoogleOAuth> StartAsync(RSA publicKey, string clientEmail, int expiresInSeconds = 3599, CancellationToken cancellationToken = default)
    {
        var fake = new FakeGoogleOAuth(publicKey, clientEmail, expiresInSeconds);
        fake._server = await LoopbackHttpServer.StartAsync(fake.HandleAsync, cancellationToken).ConfigureAwait(false);
        return fake;
    }

    /// <summary>A service-account key file's JSON for <paramref name="rsa"/> (its PKCS#8 PEM) with <paramref name="tokenUri"/>.</summary>
    public static string ServiceAccountKeyJson(RSA rsa, string clientEmail, string tokenUri) => JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["type"] = "service_account",
        ["project_id"] = "demo-project",
        ["private_key_id"] = "0123abcd",
        ["private_key"] = rsa.ExportPkcs8PrivateKeyPem(),
        ["client_email"] = clientEmail,
        ["client_id"] = "1234567890",
        ["token_uri"] = tokenUri,
    });

    /// <summary>The next request gets an OAuth error answer (<c>{"error": error}</c>).</summary>
    public void EnqueueError(int status, string error) => _errors.Enqueue((status, error));

    /// <summary>While set and not completed, every token request waits for it before it is answered (a slow token endpoint, held by the test).</summary>
    public TaskCompletionSource? Hold { get; set; }

    private async Task HandleAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var grant = form["grant_type"].ToString();
        var (valid, issuer, scope, audience, reason) = grant == "refresh_token"
            ? (form["refresh_token"] == RefreshToken && form["client_secret"] == ClientSecret, form["client_id"].ToString(), form["scope"].ToString(), (string?)null, form["refresh_token"] == RefreshToken ? null : "unknown refresh token")
            : Check(form["assertion"].ToString(), context);
        _requests.Enqueue(new FakeGoogleOAuthRequest(grant, valid, issuer, scope, audience, reason));
        if (Hold is { } hold)
        {
            await hold.Task.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        }
        if (_errors.TryDequeue(out var error))
        {
            await Write(context, error.Status, new { error = error.Error, error_description = "scripted" }).ConfigureAwait(false);
            return;
        }
        if (grant is not ("urn:ietf:params:oauth:grant-type:jwt-bearer" or "refresh_token") || !valid)
        {
            await Write(context, 400, new { error = "invalid_grant", error_description = reason ?? "unsupported grant_type" }).ConfigureAwait(false);
            return;
        }
        var token = "ya29.fake-" + RandomNumberGenerator.GetHexString(40);
        _issued.Enqueue(token);
        await Write(context, 200, new { access_token = token, expires_in = ExpiresInSeconds, token_type = "Bearer" }).ConfigureAwait(false);
    }

    private (bool, string?, string?, string?, string?) Check(string assertion, HttpContext context)
    {
        var parts = assertion.Split('.');
        if (parts.Length != 3)
        {
            return (false, null, null, null, "assertion is not a JWS");
        }
        try
        {
            using var header = JsonDocument.Parse(Base64Url(parts[0]));
            if (header.RootElement.GetProperty("alg").GetString() != "RS256")
            {
                return (false, null, null, null, "alg must be RS256");
            }
            var signed = _publicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var payload = JsonDocument.Parse(Base64Url(parts[1]));
            var claims = payload.RootElement;
            var issuer = claims.GetProperty("iss").GetString();
            var scope = claims.TryGetProperty("scope", out var s) ? s.GetString() : null;
            var audience = claims.GetProperty("aud").GetString();
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var selfUrl = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.Path}";
            string? reason = !signed ? "invalid JWT signature"
                : issuer != _clientEmail ? "unknown issuer"
                : audience != selfUrl && audience != "https://oauth2.googleapis.com/token" ? $"audience {audience} is not this token endpoint {selfUrl}"
                : claims.GetProperty("exp").GetInt64() < now || claims.GetProperty("iat").GetInt64() > now + 300 ? "assertion outside its validity"
                : null;
            return (reason is null, issuer, scope, audience, reason);
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return (false, null, null, null, "malformed assertion");
        }
    }

    private static byte[] Base64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }

    private static Task Write(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
