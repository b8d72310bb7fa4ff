using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Core.Distribution.Transport;

/// <summary>
/// Authentication to registries, shaped after go-containerregistry's <c>pkg/authn</c> and
/// <c>pkg/v1/remote/transport/bearer.go</c> (commit 3f4ff3ca60f51c876ac4bd89e9a787157aaa4f15): a challenge is
/// bound to the registry host that sent it, a bearer token to that registry, its realm and service, the set of
/// scopes and who asked; a rejected token is renewed once; credentials go only to the registry they belong to
/// and to the token realm that registry named.
/// </summary>
/// <remarks>
/// A 401 from a redirect target on another origin (a blob store, a CDN, a hostile server) is that host's
/// challenge, not the registry's: like upstream's <c>handleCrossHostChallenge</c>, it is answered at most with an
/// anonymous token from that host's own (validated) realm, applied to that one request and never stored, and the
/// registry's credentials and tokens are never sent there. Realms are checked as upstream's
/// <c>validateRealmURL</c> does for the scheme, stricter for plain HTTP (only on the insecure registry's own host:
/// the password would travel in clear text to any other); its private-address rule is not taken, since private
/// registries and their token services commonly live on private addresses.
/// </remarks>
internal sealed class RegistryAuthenticator(RegistryTransport transport, BearerTokenCache tokens, TimeProvider time, DistributionClientOptions options)
{
    /// <summary>Token answers larger than this are refused.</summary>
    public const int MaxTokenBodyBytes = 1024 * 1024;

    // The challenge last seen per registry (null: the registry is open), so later requests authenticate up front.
    private readonly ConcurrentDictionary<string, AuthenticationChallenge?> _challenges = new(StringComparer.OrdinalIgnoreCase);

    private sealed record Authorization(AuthenticationHeaderValue Header, AuthenticationChallenge Challenge, BearerToken? Token, bool Fresh);

    public void Remember(string registry, AuthenticationChallenge? challenge) => _challenges[registry] = challenge;

    public AuthenticationChallenge? Known(string registry) => _challenges.TryGetValue(registry, out var c) ? c : null;

    public void Clear()
    {
        tokens.Clear();
        _challenges.Clear();
    }

    /// <summary>
    /// One request with authentication: up front when the registry's challenge is known, otherwise after its
    /// 401; a rejected cached token is renewed once. The answer of another origin reached by a redirect is handled
    /// as that origin's (see the remarks of the class).
    /// </summary>
    public async Task<RegistryResponse> ExchangeAsync(
        RegistryOperation operation,
        Func<HttpRequestMessage> build,
        Uri uri,
        bool authenticate,
        bool followRedirects,
        int maxBody,
        CancellationToken cancellationToken)
    {
        Authorization? authorization = null;
        if (authenticate && _challenges.TryGetValue(operation.Registry, out var known))
        {
            authorization = await AuthorizeAsync(operation, known, rejected: null, cancellationToken).ConfigureAwait(false);
        }
        var response = await transport.SendAsync(operation, build, uri, authorization?.Header, followRedirects, maxBody, cancellationToken).ConfigureAwait(false);
        if (!authenticate || response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }
        if (!response.CrossedOrigin)
        {
            var challenge = Choose(Parse(operation, response.Message));
            _challenges[operation.Registry] = challenge;
            if (challenge is null || (authorization is { Fresh: true } && SameAuthority(authorization.Challenge, challenge)))
            {
                return response;
            }
            response.Dispose();
            authorization = await AuthorizeAsync(operation, challenge, authorization?.Token, cancellationToken).ConfigureAwait(false);
            response = await transport.SendAsync(operation, build, uri, authorization?.Header, followRedirects, maxBody, cancellationToken).ConfigureAwait(false);
        }
        return response is { StatusCode: HttpStatusCode.Unauthorized, CrossedOrigin: true }
            ? await CrossOriginAsync(operation, response, build, maxBody, cancellationToken).ConfigureAwait(false)
            : response;
    }

    private async Task<RegistryResponse> CrossOriginAsync(RegistryOperation operation, RegistryResponse response, Func<HttpRequestMessage> build,
        int maxBody, CancellationToken cancellationToken)
    {
        var target = response.Final;
        var challenge = Parse(operation, response.Message).FirstOrDefault(c => c.IsScheme("Bearer") && c["realm"] is not null);
        if (challenge is null)
        {
            return response;
        }
        var foreign = new RegistryOperation(target.Authority, operation.Repository, operation.Reference, null);
        BearerToken token;
        try
        {
            var scope = challenge["scope"];
            token = await FetchTokenAsync(foreign, challenge, scope is null ? [] : [scope], null, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException)
        {
            return response;
        }
        operation.Issued(token.Value);
        response.Dispose();
        // Only to that origin, only for this request, never cached: the redirect target's own anonymous token.
        return await transport.SendAsync(operation, build, target, new AuthenticationHeaderValue("Bearer", token.Value), followRedirects: false, maxBody, cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task<Authorization?> AuthorizeAsync(RegistryOperation operation, AuthenticationChallenge? challenge, BearerToken? rejected, CancellationToken cancellationToken)
    {
        if (challenge is null)
        {
            return null;
        }
        var credential = await operation.CredentialAsync(cancellationToken).ConfigureAwait(false);
        if (challenge.IsScheme("Basic"))
        {
            if (credential is null)
            {
                throw new RegistryException(RegistryErrorKind.Unauthorized,
                    $"{operation.Describe()}: the registry requires credentials (Basic) and none were given");
            }
            return new Authorization(new AuthenticationHeaderValue("Basic", BasicValue(credential)), challenge, null, Fresh: true);
        }
        var scopes = operation.Scopes;
        var key = new TokenKey(operation.Registry.ToUpperInvariant() + " " + (challenge["realm"] ?? "") + " " + (challenge["service"] ?? ""),
            string.Join(' ', scopes), Identity(credential));
        var fetched = false;
        var token = await tokens.GetAsync(key, ct =>
        {
            fetched = true;
            return FetchTokenAsync(operation, challenge, scopes, credential, ct);
        }, rejected, cancellationToken).ConfigureAwait(false);
        operation.Issued(token.Value);
        return new Authorization(new AuthenticationHeaderValue("Bearer", token.Value), challenge, token, fetched);
    }

    /// <summary>
    /// The realm a registry named, if credentials may go there: HTTPS anywhere; plain HTTP only on the insecure
    /// registry's own host and port, or on a host the user declared insecure itself.
    /// </summary>
    private Uri Realm(RegistryOperation operation, AuthenticationChallenge challenge)
    {
        var realm = challenge["realm"];
        if (string.IsNullOrEmpty(realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.UserInfo.Length > 0)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{operation.Describe()}: the registry's Bearer challenge has no usable realm (an absolute HTTPS URL without user info is required)");
        }
        if (realmUri.Scheme == Uri.UriSchemeHttps)
        {
            return realmUri;
        }
        if (realmUri.Scheme == Uri.UriSchemeHttp)
        {
            if (transport.Endpoints.IsInsecure(realmUri.Authority)
                || (transport.Endpoints.IsInsecure(operation.Registry) && string.Equals(realmUri.Authority, operation.Registry, StringComparison.OrdinalIgnoreCase)))
            {
                return realmUri;
            }
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{operation.Describe()}: refused the plain-HTTP token realm on {RegistryErrors.Shorten(realmUri.Authority)}: credentials go over HTTP only to the insecure registry's own host (list that host in InsecureRegistries to allow it)");
        }
        throw new RegistryException(RegistryErrorKind.InvalidResponse,
            $"{operation.Describe()}: the token realm's scheme '{RegistryErrors.Shorten(realmUri.Scheme)}' is not allowed (HTTPS, or HTTP for insecure registries)");
    }

    private async Task<BearerToken> FetchTokenAsync(
        RegistryOperation operation,
        AuthenticationChallenge challenge,
        IReadOnlyList<string> scopes,
        RegistryCredential? credential,
        CancellationToken cancellationToken)
    {
        var realmUri = Realm(operation, challenge);
        var service = challenge["service"];
        Func<HttpRequestMessage> build;
        var target = realmUri;
        if (credential?.IdentityToken is { Length: > 0 } refreshToken)
        {
            var form = new List<KeyValuePair<string, string>>
            {
                new("grant_type", "refresh_token"),
                new("refresh_token", refreshToken),
                new("client_id", "registryinfra"),
            };
            if (service is not null)
            {
                form.Add(new("service", service));
            }
            if (scopes.Count > 0)
            {
                form.Add(new("scope", string.Join(' ', scopes)));
            }
            build = () => new HttpRequestMessage(HttpMethod.Post, realmUri) { Content = new FormUrlEncodedContent(form) };
        }
        else
        {
            var query = new StringBuilder(realmUri.Query.Length > 1 ? realmUri.Query[1..] : "");
            if (service is not null)
            {
                Append(query, "service", service);
            }
            foreach (var scope in scopes)
            {
                Append(query, "scope", scope);
            }
            var tokenUri = new UriBuilder(realmUri) { Query = query.ToString() }.Uri;
            target = tokenUri;
            build = () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, tokenUri);
                if (credential is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Basic", BasicValue(credential));
                }
                return request;
            };
        }
        using var response = await transport.SendAsync(operation, build, target, null, followRedirects: false, MaxTokenBodyBytes, cancellationToken).ConfigureAwait(false);
        var realmHost = RegistryErrors.Shorten(realmUri.Authority);
        var who = credential is null ? "anonymous access" : $"the credentials of user '{RegistryErrors.Shorten(credential.Username)}'";
        switch (response.StatusCode)
        {
            case HttpStatusCode.OK:
                break;
            case HttpStatusCode.Unauthorized:
                throw new RegistryException(RegistryErrorKind.Unauthorized,
                    $"{operation.Describe()}: the token service {realmHost} rejected {who}");
            case HttpStatusCode.Forbidden:
                throw new RegistryException(RegistryErrorKind.Forbidden,
                    $"{operation.Describe()}: the token service {realmHost} refused {who} for scope {string.Join(' ', scopes)}");
            default:
                throw RegistryErrors.For(operation, response, $"token request to {realmHost}");
        }
        return ParseToken(operation, realmHost, response.Body);
    }

    private BearerToken ParseToken(RegistryOperation operation, string realmHost, byte[] body)
    {
        TokenDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(body, DistributionJson.Default.TokenDocument);
        }
        catch (JsonException)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{operation.Describe()}: the token service {realmHost} answered with invalid JSON");
        }
        var value = document?.Token is { Length: > 0 } t ? t : document?.AccessToken is { Length: > 0 } a ? a : null;
        if (value is null)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{operation.Describe()}: the token service {realmHost} answered without 'token' or 'access_token'");
        }
        if (value.Length > 64 * 1024 || value.Any(c => c < 0x21 || c > 0x7e))
        {
            // A token goes into an Authorization header: a header-breaking or huge one is not a token.
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{operation.Describe()}: the token service {realmHost} answered with a token that is not a header-safe string of at most 64 KiB");
        }
        // The distribution spec's default lifetime when expires_in is absent.
        var lifetime = TimeSpan.FromSeconds(60);
        if (document!.ExpiresIn is { ValueKind: JsonValueKind.Number } e && e.TryGetInt64(out var seconds) && seconds > 0)
        {
            lifetime = TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.FromDays(365).TotalSeconds));
        }
        var now = time.GetUtcNow();
        var start = now;
        // issued_at is used only when it agrees with our clock; a skewed issuer must not make tokens look expired or immortal.
        if (document.IssuedAt is { ValueKind: JsonValueKind.String } i
            && DateTimeOffset.TryParse(i.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var issued)
            && issued <= now && now - issued < lifetime)
        {
            start = issued;
        }
        var expires = start + lifetime;
        var margin = TimeSpan.FromTicks(Math.Min(options.TokenRenewalMargin.Ticks, lifetime.Ticks / 2));
        return new BearerToken(value, expires, expires - margin);
    }

    private static string BasicValue(RegistryCredential credential) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}"));

    private static void Append(StringBuilder query, string name, string value)
    {
        if (query.Length > 0)
        {
            query.Append('&');
        }
        query.Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
    }

    private static string Identity(RegistryCredential? credential)
    {
        if (credential is null)
        {
            return "anonymous";
        }
        // A hash stands for the secret so that the cache key can be compared and logged without carrying it.
        var secret = SHA256.HashData(Encoding.UTF8.GetBytes(credential.Password + "\n" + credential.IdentityToken));
        return credential.Username + "#" + Convert.ToHexString(secret, 0, 16);
    }

    private static bool SameAuthority(AuthenticationChallenge a, AuthenticationChallenge b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a["realm"], b["realm"], StringComparison.Ordinal)
        && string.Equals(a["service"], b["service"], StringComparison.Ordinal);

    /// <summary>Bearer preferred over Basic, as the docker CLI and go-containerregistry's ping do.</summary>
    public static AuthenticationChallenge? Choose(IReadOnlyList<AuthenticationChallenge> challenges) =>
        challenges.FirstOrDefault(c => c.IsScheme("Bearer")) ?? challenges.FirstOrDefault(c => c.IsScheme("Basic"));

    public static IReadOnlyList<AuthenticationChallenge> Parse(RegistryOperation operation, HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("WWW-Authenticate", out var values))
        {
            return [];
        }
        try
        {
            return AuthenticationChallenge.Parse(values);
        }
        catch (FormatException ex)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: {Redaction.Excerpt(ex.Message, operation.Secrets)}", ex);
        }
    }
}
