using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Core.Distribution;

/// <summary>
/// A client of the OCI distribution API (<c>/v2/</c>): ping, Basic and Bearer authentication with a token
/// cache, manifest HEAD and GET, and digest resolution with platform selection. Create one per process:
/// it owns one pooled connection handler. Safe for concurrent use. Errors are <see cref="RegistryException"/>s
/// whose messages name the registry and repository and never carry a credential or a token.
/// </summary>
public sealed class DistributionClient : IDisposable
{
    /// <summary>Manifests larger than this are refused (the distribution spec's recommended limit).</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    private const string RetryAfterKey = "RetryAfter";
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    private readonly DistributionClientOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly HashSet<string> _insecure;
    private readonly BearerTokenCache _tokens;
    // The challenge last seen per registry (null: the registry is open), so later requests authenticate up front.
    private readonly ConcurrentDictionary<string, AuthenticationChallenge?> _challenges = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A client with the given options.</summary>
    /// <param name="options">Timeouts, trusted roots, insecure registries; defaults when null.</param>
    /// <param name="timeProvider">The clock for token expiry and timeouts; the system clock when null.</param>
    /// <param name="outerHandler">A handler put in front of the pooled connection handler (metrics, tracing); it is disposed with the client.</param>
    public DistributionClient(DistributionClientOptions? options = null, TimeProvider? timeProvider = null, DelegatingHandler? outerHandler = null)
    {
        _options = options ?? new DistributionClientOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        _insecure = new HashSet<string>(_options.InsecureRegistries, StringComparer.OrdinalIgnoreCase);
        _tokens = new BearerTokenCache(_time);
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // followed by hand so that Authorization never crosses hosts
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = _options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = true,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = ValidateServerCertificate },
        };
        HttpMessageHandler handler = sockets;
        if (outerHandler is not null)
        {
            outerHandler.InnerHandler = sockets;
            handler = outerHandler;
        }
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(_options.UserAgent);
    }

    /// <summary>Bearer tokens currently cached (for diagnostics and tests).</summary>
    public int CachedTokenCount => _tokens.Count;

    /// <summary>
    /// <c>GET /v2/</c> without credentials: whether the registry is open or wants authentication, and how.
    /// </summary>
    /// <exception cref="RegistryException">Unreachable (network, TLS, timeout, 5xx), RateLimited, or InvalidResponse when it is not a registry.</exception>
    public async Task<PingResult> PingAsync(string registry, CancellationToken cancellationToken = default)
    {
        RegistryInput.Authority(registry, nameof(registry));
        var context = new Operation(registry, null, null, null, this);
        var uri = new Uri(BaseUri(registry), "/v2/");
        var (response, _) = await ExchangeAsync(context, () => new HttpRequestMessage(HttpMethod.Get, uri), uri, null, followRedirects: false, 0, cancellationToken);
        using (response)
        {
            var apiVersion = response.Headers.TryGetValues("Docker-Distribution-API-Version", out var v) ? v.FirstOrDefault() : null;
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    _challenges[registry] = null;
                    return new PingResult(registry, response.StatusCode, [], apiVersion);
                case HttpStatusCode.Unauthorized:
                    var challenges = ParseChallenges(context, response);
                    _challenges[registry] = ChooseChallenge(challenges);
                    return new PingResult(registry, response.StatusCode, challenges, apiVersion);
                case HttpStatusCode.NotFound:
                    throw new RegistryException(RegistryErrorKind.InvalidResponse,
                        $"registry {registry} answered 404 on /v2/: it does not serve the OCI distribution API");
                default:
                    throw ErrorFor(context, response, RegistryErrorBody.Empty, "ping");
            }
        }
    }

    /// <summary>Resolves a tag or digest with the given credentials (or anonymously when null).</summary>
    public Task<ResolvedImage> ResolveAsync(string registry, string repository, string reference, ImagePlatform? platform, RegistryCredential? credential, CancellationToken cancellationToken = default) =>
        ResolveAsync(registry, repository, reference, platform, credential is null ? null : new FixedCredential(credential), cancellationToken);

    /// <summary>
    /// Resolves a tag or digest to the manifest digest, media type and size; for an index, lists its platforms
    /// and, when <paramref name="platform"/> is given, selects that platform's manifest. For a single image with
    /// a platform requested, the image's config is read to check that it is that platform.
    /// </summary>
    /// <exception cref="RegistryException">Kinds Unreachable, Unauthorized, Forbidden, RepositoryNotFound,
    /// ManifestNotFound (also when the platform is not offered: the message lists those that are), RateLimited,
    /// InvalidResponse, InvalidInput.</exception>
    public async Task<ResolvedImage> ResolveAsync(
        string registry,
        string repository,
        string reference,
        ImagePlatform? platform = null,
        ICredentialSource? credentials = null,
        CancellationToken cancellationToken = default)
    {
        var manifest = await GetManifestAsync(registry, repository, reference, credentials, cancellationToken);
        var context = new Operation(registry, repository, reference, credentials, this);
        var mediaType = manifest.Descriptor.MediaType;
        if (ManifestMediaTypes.IsIndex(mediaType))
        {
            var children = ParseIndex(context, manifest.Content);
            var platforms = children.Where(c => c.Platform is not null && c.Platform.Os != "unknown")
                .Select(c => c.Platform!).Distinct().ToList();
            PlatformManifest? selected = null;
            if (platform is not null)
            {
                var match = platform.SelectFrom(children, c => c.Platform);
                if (match is null)
                {
                    throw new RegistryException(RegistryErrorKind.ManifestNotFound,
                        $"{context.Describe()} has no manifest for platform {platform}; available: {(platforms.Count == 0 ? "none" : string.Join(", ", platforms))}");
                }
                selected = new PlatformManifest(match.Platform!, match.Descriptor);
            }
            return new ResolvedImage(registry, repository, reference, manifest.Descriptor, platforms, selected);
        }
        if (platform is null)
        {
            return new ResolvedImage(registry, repository, reference, manifest.Descriptor, [], null);
        }
        var own = await ReadImagePlatformAsync(context, manifest.Content, cancellationToken);
        if (!platform.Runs(own))
        {
            throw new RegistryException(RegistryErrorKind.ManifestNotFound,
                $"{context.Describe()} is a single-platform image for {own}, not for platform {platform}; available: {own}");
        }
        return new ResolvedImage(registry, repository, reference, manifest.Descriptor, [own], null);
    }

    /// <summary>Fetches a manifest with the given credentials (or anonymously when null).</summary>
    public Task<ManifestContent> GetManifestAsync(string registry, string repository, string reference, RegistryCredential? credential, CancellationToken cancellationToken = default) =>
        GetManifestAsync(registry, repository, reference, credential is null ? null : new FixedCredential(credential), cancellationToken);

    /// <summary>
    /// <c>GET</c> of a manifest (OCI manifest or index, Docker manifest or manifest list). The digest is computed
    /// from the exact bytes and checked against <c>Docker-Content-Digest</c> and against the reference when it is a digest.
    /// </summary>
    /// <exception cref="RegistryException">As for <see cref="ResolveAsync(string, string, string, ImagePlatform?, ICredentialSource?, CancellationToken)"/>.</exception>
    public async Task<ManifestContent> GetManifestAsync(
        string registry,
        string repository,
        string reference,
        ICredentialSource? credentials = null,
        CancellationToken cancellationToken = default)
    {
        var context = Validate(registry, repository, reference, credentials);
        var uri = ManifestUri(context);
        var (response, body) = await ExchangeAsync(context, () => ManifestRequest(HttpMethod.Get, uri), uri, context, followRedirects: true, MaxManifestBytes, cancellationToken);
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw await ManifestErrorAsync(context, response, body, cancellationToken);
            }
            var digest = VerifiedDigest(context, response, body);
            var mediaType = MediaTypeOf(context, response, body);
            return new ManifestContent(new ManifestDescriptor(digest, mediaType, body.Length), body);
        }
    }

    /// <summary>Heads a manifest with the given credentials (or anonymously when null).</summary>
    public Task<ManifestDescriptor> HeadManifestAsync(string registry, string repository, string reference, RegistryCredential? credential, CancellationToken cancellationToken = default) =>
        HeadManifestAsync(registry, repository, reference, credential is null ? null : new FixedCredential(credential), cancellationToken);

    /// <summary>
    /// <c>HEAD</c> of a manifest: digest from <c>Docker-Content-Digest</c>, media type and size from the headers.
    /// When the registry sends no digest header, falls back to <c>GET</c> and computes it.
    /// </summary>
    /// <exception cref="RegistryException">As for <see cref="ResolveAsync(string, string, string, ImagePlatform?, ICredentialSource?, CancellationToken)"/>.</exception>
    public async Task<ManifestDescriptor> HeadManifestAsync(
        string registry,
        string repository,
        string reference,
        ICredentialSource? credentials = null,
        CancellationToken cancellationToken = default)
    {
        var context = Validate(registry, repository, reference, credentials);
        var uri = ManifestUri(context);
        var (response, body) = await ExchangeAsync(context, () => ManifestRequest(HttpMethod.Head, uri), uri, context, followRedirects: true, 0, cancellationToken);
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw await ManifestErrorAsync(context, response, body, cancellationToken);
            }
            var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault()?.Trim() : null;
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            var size = response.Content.Headers.ContentLength;
            if (digest is null || !RegistryInput.IsDigest(digest) || mediaType is null || !ManifestMediaTypes.All.Contains(mediaType) || size is null)
            {
                return (await GetManifestAsync(registry, repository, reference, credentials, cancellationToken)).Descriptor;
            }
            if (RegistryInput.IsDigest(reference) && !string.Equals(digest, reference, StringComparison.Ordinal))
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse,
                    $"{context.Describe()}: the registry reports digest {digest} for a manifest asked by digest {reference}");
            }
            return new ManifestDescriptor(digest, mediaType, size.Value);
        }
    }

    /// <summary>
    /// Checks that the credentials (or anonymous access when null) are accepted by the registry, the way
    /// <c>docker login</c> does: <c>GET /v2/</c> with Basic credentials, or with a bearer token requested for
    /// pull on every repository in <paramref name="repositories"/> in one token request (several scopes).
    /// The token is cached under that set of scopes; resolves use their own single-repository tokens.
    /// </summary>
    /// <returns>The scheme used: <c>Bearer</c>, <c>Basic</c>, or null for an open registry.</returns>
    /// <exception cref="RegistryException">Unauthorized when the credentials are rejected, Forbidden when the token
    /// service refuses them, Unreachable, RateLimited, InvalidResponse, InvalidInput.</exception>
    public async Task<string?> CheckCredentialsAsync(
        string registry,
        IReadOnlyList<string> repositories,
        ICredentialSource? credentials,
        CancellationToken cancellationToken = default)
    {
        RegistryInput.Authority(registry, nameof(registry));
        ArgumentNullException.ThrowIfNull(repositories);
        foreach (var repository in repositories)
        {
            RegistryInput.Repository(repository, nameof(repositories));
        }
        var scopes = repositories.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(r => $"repository:{r}:pull").ToList();
        var context = new Operation(registry, null, null, credentials, this) { Scopes = scopes };
        var uri = new Uri(BaseUri(registry), "/v2/");
        var (response, body) = await ExchangeAsync(context, () => new HttpRequestMessage(HttpMethod.Get, uri), uri, context, followRedirects: false, 0, cancellationToken);
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return _challenges.TryGetValue(registry, out var challenge) ? challenge?.Scheme : null;
            }
            throw ErrorFor(context, response, RegistryErrorBody.Parse(body), "credential check");
        }
    }

    /// <summary>Checks credentials given as a <see cref="RegistryCredential"/>; see the overload with a credential source.</summary>
    public Task<string?> CheckCredentialsAsync(string registry, IReadOnlyList<string> repositories, RegistryCredential? credential, CancellationToken cancellationToken = default) =>
        CheckCredentialsAsync(registry, repositories, credential is null ? null : new FixedCredential(credential), cancellationToken);

    /// <summary>Forgets cached tokens and challenges (after credentials were rotated, for example).</summary>
    public void ClearAuthenticationCache()
    {
        _tokens.Clear();
        _challenges.Clear();
    }

    /// <summary>Closes the pooled connections.</summary>
    public void Dispose() => _http.Dispose();

    // ---- exchanges -------------------------------------------------------------------------------------

    /// <summary>
    /// One request with authentication: up front when the registry's challenge is known, otherwise after its
    /// 401; a rejected cached token is renewed once. Returns the final response and its body (bounded).
    /// </summary>
    private async Task<(HttpResponseMessage Response, byte[] Body)> ExchangeAsync(
        Operation context,
        Func<HttpRequestMessage> build,
        Uri uri,
        Operation? authorize,
        bool followRedirects,
        int maxBody,
        CancellationToken cancellationToken)
    {
        Authorization? authorization = null;
        if (authorize is not null && _challenges.TryGetValue(context.Registry, out var known))
        {
            authorization = await AuthorizeAsync(context, known, rejected: null, cancellationToken);
        }
        var (response, body) = await SendAsync(context, build, uri, authorization?.Header, followRedirects, maxBody, cancellationToken);
        if (authorize is null || response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return (response, body);
        }
        var challenge = ChooseChallenge(ParseChallenges(context, response));
        _challenges[context.Registry] = challenge;
        if (challenge is null)
        {
            return (response, body);
        }
        if (authorization is { Fresh: true } && SameAuthority(authorization.Challenge, challenge))
        {
            return (response, body);
        }
        response.Dispose();
        authorization = await AuthorizeAsync(context, challenge, authorization?.Token, cancellationToken);
        return await SendAsync(context, build, uri, authorization?.Header, followRedirects, maxBody, cancellationToken);
    }

    private async Task<(HttpResponseMessage Response, byte[] Body)> SendAsync(
        Operation context,
        Func<HttpRequestMessage> build,
        Uri uri,
        AuthenticationHeaderValue? authorization,
        bool followRedirects,
        int maxBody,
        CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var origin = uri;
        var current = uri;
        try
        {
            for (var hop = 0; ; hop++)
            {
                var request = build();
                request.RequestUri = current;
                if (authorization is not null && SameOrigin(origin, current))
                {
                    request.Headers.Authorization = authorization;
                }
                var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
                if (followRedirects && IsRedirect(response.StatusCode))
                {
                    var location = response.Headers.Location;
                    response.Dispose();
                    if (hop >= _options.MaxRedirects)
                    {
                        throw new RegistryException(RegistryErrorKind.InvalidResponse,
                            $"{context.Describe()}: more than {_options.MaxRedirects} redirects");
                    }
                    current = NextHop(context, current, location);
                    continue;
                }
                var body = await ReadBodyAsync(context, response, maxBody, linked.Token);
                return (response, body);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable,
                $"{context.Describe()}: no answer from {current.Authority} within {_options.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable, $"{context.Describe()}: cannot reach {current.Authority}: {Describe(ex)}", ex);
        }
    }

    private Uri NextHop(Operation context, Uri current, Uri? location)
    {
        if (location is null)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: redirect without a Location header");
        }
        var next = location.IsAbsoluteUri ? location : new Uri(current, location);
        // A plain HTTP hop is allowed only to a host the user declared insecure, never as a downgrade to another host.
        if (next.Scheme == Uri.UriSchemeHttps || (next.Scheme == Uri.UriSchemeHttp && _insecure.Contains(next.Authority)))
        {
            return next;
        }
        throw new RegistryException(RegistryErrorKind.InvalidResponse,
            $"{context.Describe()}: refused a redirect to {next.Scheme}://{next.Authority} (only HTTPS, or HTTP to a host listed in InsecureRegistries)");
    }

    private static async Task<byte[]> ReadBodyAsync(Operation context, HttpResponseMessage response, int maxBody, CancellationToken cancellationToken)
    {
        // Error bodies are read up to a small bound even when the success body is not wanted.
        var limit = response.IsSuccessStatusCode ? maxBody : 64 * 1024;
        if (limit == 0)
        {
            return [];
        }
        if (response.Content.Headers.ContentLength is { } declared && declared > limit && response.IsSuccessStatusCode)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{context.Describe()}: response of {declared} bytes is larger than the limit of {limit}");
        }
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                if (!response.IsSuccessStatusCode)
                {
                    break;
                }
                throw new RegistryException(RegistryErrorKind.InvalidResponse,
                    $"{context.Describe()}: response is larger than the limit of {limit} bytes");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    // ---- authentication --------------------------------------------------------------------------------

    private sealed record Authorization(AuthenticationHeaderValue Header, AuthenticationChallenge Challenge, BearerToken? Token, bool Fresh);

    private async Task<Authorization?> AuthorizeAsync(Operation context, AuthenticationChallenge? challenge, BearerToken? rejected, CancellationToken cancellationToken)
    {
        if (challenge is null)
        {
            return null;
        }
        var credential = await context.CredentialAsync(cancellationToken);
        if (challenge.IsScheme("Basic"))
        {
            if (credential is null)
            {
                throw new RegistryException(RegistryErrorKind.Unauthorized,
                    $"{context.Describe()}: the registry requires credentials (Basic) and none were given");
            }
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}"));
            return new Authorization(new AuthenticationHeaderValue("Basic", basic), challenge, null, Fresh: true);
        }
        var scopes = context.Scopes;
        var key = new TokenKey(context.Registry.ToUpperInvariant() + " " + (challenge["realm"] ?? "") + " " + (challenge["service"] ?? ""),
            string.Join(' ', scopes), Identity(credential));
        var fetched = false;
        var token = await _tokens.GetAsync(key, ct =>
        {
            fetched = true;
            return FetchTokenAsync(context, challenge, scopes, credential, ct);
        }, rejected, cancellationToken);
        return new Authorization(new AuthenticationHeaderValue("Bearer", token.Value), challenge, token, fetched);
    }

    private async Task<BearerToken> FetchTokenAsync(
        Operation context,
        AuthenticationChallenge challenge,
        IReadOnlyList<string> scopes,
        RegistryCredential? credential,
        CancellationToken cancellationToken)
    {
        var realm = challenge["realm"];
        if (string.IsNullOrEmpty(realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri)
            || !(realmUri.Scheme == Uri.UriSchemeHttps
                 || (realmUri.Scheme == Uri.UriSchemeHttp && (_insecure.Contains(realmUri.Authority) || _insecure.Contains(context.Registry)))))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{context.Describe()}: the registry's Bearer challenge has no usable realm (an absolute HTTPS URL is required; HTTP only for insecure registries)");
        }
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
                    request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
                }
                return request;
            };
        }
        var (response, body) = await SendAsync(context, build, target, null, followRedirects: false, 1024 * 1024, cancellationToken);
        using (response)
        {
            var who = credential is null ? "anonymous access" : $"the credentials of user '{credential.Username}'";
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    break;
                case HttpStatusCode.Unauthorized:
                    throw new RegistryException(RegistryErrorKind.Unauthorized,
                        $"{context.Describe()}: the token service {realmUri.Authority} rejected {who}");
                case HttpStatusCode.Forbidden:
                    throw new RegistryException(RegistryErrorKind.Forbidden,
                        $"{context.Describe()}: the token service {realmUri.Authority} refused {who} for scope {string.Join(' ', scopes)}");
                default:
                    throw ErrorFor(context, response, RegistryErrorBody.Parse(body), $"token request to {realmUri.Authority}");
            }
            return ParseToken(context, realmUri, body);
        }
    }

    private BearerToken ParseToken(Operation context, Uri realm, byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            string? value = null;
            foreach (var name in (string[])["token", "access_token"])
            {
                if (root.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } s)
                {
                    value = s;
                    break;
                }
            }
            if (value is null)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse,
                    $"{context.Describe()}: the token service {realm.Authority} answered without 'token' or 'access_token'");
            }
            // The distribution spec's default lifetime when expires_in is absent.
            var lifetime = TimeSpan.FromSeconds(60);
            if (root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var seconds) && seconds > 0)
            {
                lifetime = TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.FromDays(365).TotalSeconds));
            }
            var now = _time.GetUtcNow();
            var start = now;
            // issued_at is used only when it agrees with our clock; a skewed issuer must not make tokens look expired or immortal.
            if (root.TryGetProperty("issued_at", out var i) && i.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(i.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var issued)
                && issued <= now && now - issued < lifetime)
            {
                start = issued;
            }
            var expires = start + lifetime;
            var margin = TimeSpan.FromTicks(Math.Min(_options.TokenRenewalMargin.Ticks, lifetime.Ticks / 2));
            return new BearerToken(value, expires, expires - margin);
        }
        catch (JsonException)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{context.Describe()}: the token service {realm.Authority} answered with invalid JSON");
        }
    }

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

    private static AuthenticationChallenge? ChooseChallenge(IReadOnlyList<AuthenticationChallenge> challenges) =>
        challenges.FirstOrDefault(c => c.IsScheme("Bearer")) ?? challenges.FirstOrDefault(c => c.IsScheme("Basic"));

    private static IReadOnlyList<AuthenticationChallenge> ParseChallenges(Operation context, HttpResponseMessage response)
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
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: {ex.Message}", ex);
        }
    }

    // ---- manifests -------------------------------------------------------------------------------------

    private Operation Validate(string registry, string repository, string reference, ICredentialSource? credentials)
    {
        RegistryInput.Authority(registry, nameof(registry));
        RegistryInput.Repository(repository, nameof(repository));
        RegistryInput.Reference(reference, nameof(reference));
        return new Operation(registry, repository, reference, credentials, this);
    }

    private Uri ManifestUri(Operation context) =>
        new(BaseUri(context.Registry), $"/v2/{context.Repository}/manifests/{context.Reference}");

    private static HttpRequestMessage ManifestRequest(HttpMethod method, Uri uri)
    {
        var request = new HttpRequestMessage(method, uri);
        foreach (var mediaType in ManifestMediaTypes.All)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        }
        return request;
    }

    private static string VerifiedDigest(Operation context, HttpResponseMessage response, byte[] body)
    {
        var header = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault()?.Trim() : null;
        var reference = context.Reference!;
        var algorithm = RegistryInput.IsDigest(reference) ? reference[..reference.IndexOf(':', StringComparison.Ordinal)] : "sha256";
        var computed = ComputeDigest(algorithm, body)
            ?? throw new RegistryException(RegistryErrorKind.InvalidInput, $"{context.Describe()}: digest algorithm '{algorithm}' is not supported (sha256, sha512)");
        if (header is not null && header.StartsWith(algorithm + ":", StringComparison.Ordinal) && !string.Equals(header, computed, StringComparison.Ordinal))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{context.Describe()}: Docker-Content-Digest {header} does not match the manifest bytes ({computed})");
        }
        if (RegistryInput.IsDigest(reference) && !string.Equals(reference, computed, StringComparison.Ordinal))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{context.Describe()}: the manifest bytes hash to {computed}, not to the digest asked for");
        }
        return computed;
    }

    internal static string? ComputeDigest(string algorithm, ReadOnlySpan<byte> content) => algorithm switch
    {
        "sha256" => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content)),
        "sha512" => "sha512:" + Convert.ToHexStringLower(SHA512.HashData(content)),
        _ => null,
    };

    private static string MediaTypeOf(Operation context, HttpResponseMessage response, byte[] body)
    {
        var header = response.Content.Headers.ContentType?.MediaType;
        if (header is not null && ManifestMediaTypes.All.Contains(header))
        {
            return header;
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("mediaType", out var m) && m.ValueKind == JsonValueKind.String && ManifestMediaTypes.All.Contains(m.GetString()!))
                {
                    return m.GetString()!;
                }
                if (root.TryGetProperty("manifests", out _))
                {
                    return ManifestMediaTypes.OciIndex;
                }
                if (root.TryGetProperty("layers", out _) && root.TryGetProperty("config", out _))
                {
                    return ManifestMediaTypes.OciManifest;
                }
            }
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: the manifest is not valid JSON", ex);
        }
        throw new RegistryException(RegistryErrorKind.InvalidResponse,
            $"{context.Describe()}: unsupported manifest media type '{header ?? "(none)"}' (expected an OCI or Docker v2 manifest or index)");
    }

    private sealed record IndexEntry(ImagePlatform? Platform, ManifestDescriptor Descriptor);

    private static List<IndexEntry> ParseIndex(Operation context, ReadOnlyMemory<byte> content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            if (!document.RootElement.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: the index has no 'manifests' array");
            }
            var entries = new List<IndexEntry>();
            foreach (var m in manifests.EnumerateArray())
            {
                var digest = m.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                if (digest is null || !RegistryInput.IsDigest(digest))
                {
                    throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: an index entry has no valid digest");
                }
                var mediaType = m.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString()! : "";
                var size = m.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var sz) ? sz : 0;
                ImagePlatform? platform = null;
                if (m.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object
                    && p.TryGetProperty("os", out var os) && os.ValueKind == JsonValueKind.String
                    && p.TryGetProperty("architecture", out var arch) && arch.ValueKind == JsonValueKind.String)
                {
                    var variant = p.TryGetProperty("variant", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                    platform = new ImagePlatform(os.GetString()!, arch.GetString()!, variant);
                }
                entries.Add(new IndexEntry(platform, new ManifestDescriptor(digest, mediaType, size)));
            }
            return entries;
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: the index is not valid JSON", ex);
        }
    }

    private async Task<ImagePlatform> ReadImagePlatformAsync(Operation context, ReadOnlyMemory<byte> manifest, CancellationToken cancellationToken)
    {
        string configDigest;
        try
        {
            using var document = JsonDocument.Parse(manifest);
            configDigest = document.RootElement.TryGetProperty("config", out var c) && c.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String
                ? d.GetString()! : "";
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: the manifest is not valid JSON", ex);
        }
        if (!RegistryInput.IsDigest(configDigest))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: the manifest has no valid config digest");
        }
        var uri = new Uri(BaseUri(context.Registry), $"/v2/{context.Repository}/blobs/{configDigest}");
        var (response, body) = await ExchangeAsync(context, () => new HttpRequestMessage(HttpMethod.Get, uri), uri, context, followRedirects: true, MaxManifestBytes, cancellationToken);
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw ErrorFor(context, response, RegistryErrorBody.Parse(body), "image config");
            }
        }
        var algorithm = configDigest[..configDigest.IndexOf(':', StringComparison.Ordinal)];
        if (ComputeDigest(algorithm, body) is { } computed && computed != configDigest)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: the image config does not match its digest {configDigest}");
        }
        try
        {
            using var config = JsonDocument.Parse(body);
            var root = config.RootElement;
            var os = root.TryGetProperty("os", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null;
            var arch = root.TryGetProperty("architecture", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            var variant = root.TryGetProperty("variant", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (string.IsNullOrEmpty(os) || string.IsNullOrEmpty(arch))
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: the image config states no os/architecture");
            }
            return new ImagePlatform(os, arch, variant);
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{context.Describe()}: the image config is not valid JSON", ex);
        }
    }

    // ---- errors ----------------------------------------------------------------------------------------

    private async Task<RegistryException> ManifestErrorAsync(Operation context, HttpResponseMessage response, byte[] body, CancellationToken cancellationToken)
    {
        var errors = RegistryErrorBody.Parse(body);
        if (response.StatusCode != HttpStatusCode.NotFound || errors.Has("NAME_UNKNOWN"))
        {
            return ErrorFor(context, response, errors, "manifest");
        }
        // Registries answer a missing repository with MANIFEST_UNKNOWN too (and HEAD has no body): the tag list tells them apart.
        var uri = new Uri(BaseUri(context.Registry), $"/v2/{context.Repository}/tags/list?n=1");
        var (tags, tagBody) = await ExchangeAsync(context, () => new HttpRequestMessage(HttpMethod.Get, uri), uri, context, followRedirects: true, 0, cancellationToken);
        using (tags)
        {
            if (tags.StatusCode == HttpStatusCode.NotFound)
            {
                return new RegistryException(RegistryErrorKind.RepositoryNotFound,
                    $"{context.Describe()}: repository not found{RegistryErrorBody.Parse(tagBody).Describe()}");
            }
            return new RegistryException(RegistryErrorKind.ManifestNotFound,
                $"{context.Describe()}: manifest not found (no such {(RegistryInput.IsDigest(context.Reference!) ? "digest" : "tag")}){errors.Describe()}");
        }
    }

    private static RegistryException ErrorFor(Operation context, HttpResponseMessage response, RegistryErrorBody errors, string what)
    {
        var status = (int)response.StatusCode;
        var detail = $"{context.Describe()}: {what}: HTTP {status}{errors.Describe()}";
        if (response.StatusCode == HttpStatusCode.TooManyRequests || errors.Has("TOOMANYREQUESTS"))
        {
            var retryAfter = RetryAfter(response);
            var exception = new RegistryException(RegistryErrorKind.RateLimited,
                detail + (retryAfter is { } r ? $"; retry after {Math.Ceiling(r.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s" : ""));
            if (retryAfter is not null)
            {
                exception.Data[RetryAfterKey] = retryAfter.Value;
            }
            return exception;
        }
        return response.StatusCode switch
        {
            HttpStatusCode.Unauthorized when context.HadCredential && Challenged(response, "insufficient_scope") =>
                new RegistryException(RegistryErrorKind.Forbidden, $"{context.Describe()}: the credentials may not pull this repository (insufficient_scope){errors.Describe()}"),
            HttpStatusCode.Unauthorized => new RegistryException(RegistryErrorKind.Unauthorized,
                context.HadCredential
                    ? $"{context.Describe()}: the registry rejected the credentials{errors.Describe()}"
                    : $"{context.Describe()}: the registry requires credentials and none were given{errors.Describe()}"),
            HttpStatusCode.Forbidden => new RegistryException(RegistryErrorKind.Forbidden, $"{context.Describe()}: access denied{errors.Describe()}"),
            HttpStatusCode.NotFound when errors.Has("NAME_UNKNOWN") => new RegistryException(RegistryErrorKind.RepositoryNotFound, $"{context.Describe()}: repository not found{errors.Describe()}"),
            HttpStatusCode.NotFound => new RegistryException(RegistryErrorKind.ManifestNotFound, $"{context.Describe()}: {what} not found{errors.Describe()}"),
            _ when status >= 500 => new RegistryException(RegistryErrorKind.Unreachable, detail),
            _ => new RegistryException(RegistryErrorKind.InvalidResponse, detail),
        };
    }

    /// <summary>The <c>Retry-After</c> a rate-limited failure carried, when the registry sent one.</summary>
    public static TimeSpan? RetryAfterOf(RegistryException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.Data[RetryAfterKey] is TimeSpan t ? t : null;
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }
        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null;
    }

    private static bool Challenged(HttpResponseMessage response, string error) =>
        response.Headers.TryGetValues("WWW-Authenticate", out var values)
        && AuthenticationChallenge.TryParse(values, out var challenges)
        && challenges.Any(c => string.Equals(c["error"], error, StringComparison.OrdinalIgnoreCase));

    private static string Describe(HttpRequestException ex)
    {
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException)
            {
                return "TLS handshake failed: the server certificate is not trusted or does not match the host "
                    + "(for a private CA, give its root in TrustedRootCertificates)";
            }
        }
        return ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : $"{ex.HttpRequestError}: {ex.Message}";
    }

    // ---- transport -------------------------------------------------------------------------------------

    private Uri BaseUri(string registry) => new((_insecure.Contains(registry) ? "http://" : "https://") + registry + "/");

    private static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        // Only an untrusted chain can be rescued by the extra roots; a wrong host name or no certificate never is.
        if (certificate is not X509Certificate2 leaf || _options.TrustedRootCertificates.Count == 0 || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_options.TrustedRootCertificates);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        custom.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        if (chain is not null)
        {
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        }
        return custom.Build(leaf);
    }

    /// <summary>One operation's context: what it is about and its credentials, fetched at most once.</summary>
    private sealed class Operation(string registry, string? repository, string? reference, ICredentialSource? credentials, DistributionClient client)
    {
        private Task<RegistryCredential>? _credential;

        public string Registry { get; } = registry;

        public string? Repository { get; } = repository;

        public string? Reference { get; } = reference;

        public bool HadCredential => credentials is not null;

        /// <summary>The token scopes: pull on the repository, or those given for a credential check (sorted, so the cache key is a set).</summary>
        public IReadOnlyList<string> Scopes { get; init; } = repository is null ? [] : [$"repository:{repository}:pull"];

        public async Task<RegistryCredential?> CredentialAsync(CancellationToken cancellationToken)
        {
            if (credentials is null)
            {
                return null;
            }
            _credential ??= credentials.GetCredentialAsync(cancellationToken).AsTask();
            return await _credential;
        }

        public string Describe() => Repository is null
            ? $"registry {Registry}"
            : Reference is null ? $"registry {Registry}, repository {Repository}" : $"registry {Registry}, repository {Repository}, reference {Reference}";

        public override string ToString() => Describe() + (client._insecure.Contains(Registry) ? " (insecure)" : "");
    }

    private sealed class FixedCredential(RegistryCredential credential) : ICredentialSource
    {
        public string Description => $"static({credential.Username})";

        public ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(credential);
    }
}
