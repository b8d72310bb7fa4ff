using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RegistryInfra.Testing.Registry;

/// <summary>Who may do what at the test token issuer: actions granted on a repository.</summary>
/// <param name="Username">The user, or empty for anonymous requests.</param>
/// <param name="Password">The password checked with Basic auth.</param>
/// <param name="Grants">The actions (pull, push) this user gets on a repository.</param>
public sealed record TokenUser(string Username, string Password, Func<string, IReadOnlyList<string>> Grants);

/// <summary>
/// A docker-distribution token server on 127.0.0.1 over HTTPS (Kestrel): checks Basic credentials, grants the
/// subset of the requested scopes the user may have, and issues ES256 JWTs whose x5c chain ends at the test CA
/// that the registry trusts (<c>rootcertbundle</c>). Counts requests so tests can see cache hits.
/// </summary>
public sealed class TestTokenIssuer : IAsyncDisposable
{
    public const string Issuer = "registryinfra-test-issuer";
    public const string Service = "registryinfra-test-registry";

    private readonly WebApplication _app;
    private readonly X509Certificate2 _signing;
    private readonly X509Certificate2 _root;
    private readonly ConcurrentDictionary<string, TokenUser> _users;
    private readonly Func<string, IReadOnlyList<string>> _anonymous;
    private int _requests;

    private TestTokenIssuer(WebApplication app, X509Certificate2 signing, X509Certificate2 root, IEnumerable<TokenUser> users, Func<string, IReadOnlyList<string>> anonymous)
    {
        _app = app;
        _signing = signing;
        _root = root;
        _users = new ConcurrentDictionary<string, TokenUser>(users.Select(u => KeyValuePair.Create(u.Username, u)), StringComparer.Ordinal);
        _anonymous = anonymous;
    }

    /// <summary>The token endpoint, <c>https://127.0.0.1:PORT/token</c>.</summary>
    public Uri Realm { get; private set; } = null!;

    /// <summary>Token requests received (good or bad).</summary>
    public int RequestCount => Volatile.Read(ref _requests);

    /// <summary>The scope parameters of every request, in order.</summary>
    public ConcurrentQueue<string> RequestedScopes { get; } = new();

    /// <summary>Lifetime of issued tokens (expires_in). Default 300 s.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>Adds (or replaces) a user: a test's own account, so that revoking it touches no other test.</summary>
    public void AddUser(TokenUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        _users[user.Username] = user;
    }

    /// <summary>Revokes a user: its next token request is refused as a wrong password would be (tokens already issued stay valid until they expire).</summary>
    public void Revoke(string username) => _users.TryRemove(username, out _);

    public static async Task<TestTokenIssuer> StartAsync(
        TestCertificateAuthority ca,
        IEnumerable<TokenUser> users,
        Func<string, IReadOnlyList<string>> anonymousGrants,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ca);
        var serverCertificate = ca.IssueServerCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(serverCertificate)));
        var app = builder.Build();
        var issuer = new TestTokenIssuer(app, ca.IssueSigningCertificate(), ca.Root, users, anonymousGrants);
        app.MapGet("/token", issuer.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        issuer.Realm = new Uri(new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), "/token");
        return issuer;
    }

    private async Task HandleAsync(HttpContext http)
    {
        Interlocked.Increment(ref _requests);
        var scopes = http.Request.Query["scope"].Where(s => !string.IsNullOrEmpty(s)).SelectMany(s => s!.Split(' ')).ToList();
        RequestedScopes.Enqueue(string.Join(' ', scopes));
        if (http.Request.Query["service"] != Service)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsJsonAsync(new { errors = new[] { new { code = "INVALID_REQUEST", message = "unknown service" } } });
            return;
        }
        string subject;
        Func<string, IReadOnlyList<string>> grants;
        var authorization = http.Request.Headers.Authorization.ToString();
        if (authorization.Length == 0)
        {
            subject = "";
            grants = _anonymous;
        }
        else if (TryBasic(authorization, out var username, out var password)
            && _users.TryGetValue(username, out var user)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(user.Password)))
        {
            subject = username;
            grants = user.Grants;
        }
        else
        {
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"registryinfra-test-issuer\"";
            await http.Response.WriteAsJsonAsync(new { errors = new[] { new { code = "UNAUTHORIZED", message = "authentication required" } } });
            return;
        }
        var access = new List<object>();
        foreach (var scope in scopes)
        {
            var parts = scope.Split(':');
            if (parts.Length != 3 || parts[0] != "repository")
            {
                continue;
            }
            var allowed = grants(parts[1]);
            var granted = parts[2].Split(',').Where(allowed.Contains).ToArray();
            if (granted.Length > 0)
            {
                access.Add(new { type = "repository", name = parts[1], actions = granted });
            }
        }
        var now = DateTimeOffset.UtcNow;
        var token = Sign(subject, access, now);
        await http.Response.WriteAsJsonAsync(new
        {
            token,
            access_token = token,
            expires_in = (int)TokenLifetime.TotalSeconds,
            issued_at = now.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        });
    }

    private string Sign(string subject, List<object> access, DateTimeOffset now)
    {
        // distribution 2.8 accepts the signing key through x5c: the chain must verify against rootcertbundle.
        var header = new Dictionary<string, object>
        {
            ["typ"] = "JWT",
            ["alg"] = "ES256",
            ["x5c"] = new[] { Convert.ToBase64String(_signing.RawData), Convert.ToBase64String(_root.RawData) },
        };
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = subject,
            ["aud"] = Service,
            ["exp"] = (now + TokenLifetime).ToUnixTimeSeconds(),
            ["nbf"] = now.AddSeconds(-10).ToUnixTimeSeconds(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["jti"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(12)),
            ["access"] = access,
        };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        using var key = _signing.GetECDsaPrivateKey()!;
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryBasic(string header, out string username, out string password)
    {
        username = password = "";
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                return false;
            }
            (username, password) = (decoded[..colon], decoded[(colon + 1)..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _signing.Dispose();
    }
}
