using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Distribution.Transport;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Distribution;

/// <summary>
/// A client of the OCI distribution API (<c>/v2/</c>): ping, Basic and Bearer authentication with a token
/// cache, manifest HEAD and GET, and digest resolution with platform selection. Create one per process:
/// it owns one pooled connection handler. Safe for concurrent use. Errors are <see cref="RegistryException"/>s
/// whose messages name the registry and repository and never carry a credential or a token.
/// </summary>
/// <remarks>
/// Shaped after google/go-containerregistry (commit 3f4ff3ca60f51c876ac4bd89e9a787157aaa4f15): this class is
/// <c>pkg/v1/remote</c> (typed operations over <see cref="ImageReference"/> and <see cref="RegistryHost"/>), under
/// it <c>Transport/</c> is <c>pkg/v1/remote/transport</c> (endpoints per host, redirects, the authenticator bound
/// to one registry and scope, one error mapping), and <see cref="ICredentialSource"/> is <c>pkg/authn</c>. Each
/// operation has an overall deadline (<see cref="DistributionClientOptions.OperationTimeout"/>) besides the
/// timeout of each exchange.
/// </remarks>
public sealed class DistributionClient : IDisposable
{
    /// <summary>Manifests larger than this are refused (the distribution spec's recommended limit).</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    private readonly DistributionClientOptions _options;
    private readonly TimeProvider _time;
    private readonly RegistryTransport _transport;
    private readonly BearerTokenCache _tokens;
    private readonly RegistryAuthenticator _authenticator;

    /// <summary>A client with the given options.</summary>
    /// <param name="options">Timeouts, trusted roots, insecure registries; defaults when null.</param>
    /// <param name="timeProvider">The clock for token expiry and timeouts; the system clock when null.</param>
    /// <param name="outerHandler">A handler put in front of the pooled connection handler (metrics, tracing); it is disposed with the client.</param>
    public DistributionClient(DistributionClientOptions? options = null, TimeProvider? timeProvider = null, DelegatingHandler? outerHandler = null)
    {
        _options = options ?? new DistributionClientOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        _transport = new RegistryTransport(_options, _time, outerHandler);
        _tokens = new BearerTokenCache(_time);
        _authenticator = new RegistryAuthenticator(_transport, _tokens, _time, _options);
    }

    /// <summary>Bearer tokens currently cached (for diagnostics and tests).</summary>
    public int CachedTokenCount => _tokens.Count;

    // ---- typed operations ------------------------------------------------------------------------------

    /// <summary><c>GET /v2/</c> of <paramref name="registry"/>'s API host; see <see cref="PingAsync(string, CancellationToken)"/>.</summary>
    public Task<PingResult> PingAsync(RegistryHost registry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return PingAsync(registry.ApiHost, cancellationToken);
    }

    /// <summary>Resolves <paramref name="image"/> on its registry's API host; see <see cref="ResolveAsync(string, string, string, ImagePlatform?, ICredentialSource?, CancellationToken)"/>.</summary>
    public Task<ResolvedImage> ResolveAsync(ImageReference image, ImagePlatform? platform = null, ICredentialSource? credentials = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        return ResolveAsync(image.Registry.ApiHost, image.Repository, image.ManifestReference, platform, credentials, cancellationToken);
    }

    /// <summary>Fetches <paramref name="image"/>'s manifest; see <see cref="GetManifestAsync(string, string, string, ICredentialSource?, CancellationToken)"/>.</summary>
    public Task<ManifestContent> GetManifestAsync(ImageReference image, ICredentialSource? credentials = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        return GetManifestAsync(image.Registry.ApiHost, image.Repository, image.ManifestReference, credentials, cancellationToken);
    }

    /// <summary>Heads <paramref name="image"/>'s manifest; see <see cref="HeadManifestAsync(string, string, string, ICredentialSource?, CancellationToken)"/>.</summary>
    public Task<ManifestDescriptor> HeadManifestAsync(ImageReference image, ICredentialSource? credentials = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        return HeadManifestAsync(image.Registry.ApiHost, image.Repository, image.ManifestReference, credentials, cancellationToken);
    }

    /// <summary>Checks credentials on <paramref name="registry"/>'s API host; see <see cref="CheckCredentialsAsync(string, IReadOnlyList{string}, ICredentialSource?, CancellationToken)"/>.</summary>
    public Task<string?> CheckCredentialsAsync(RegistryHost registry, IReadOnlyList<string> repositories, ICredentialSource? credentials, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return CheckCredentialsAsync(registry.ApiHost, repositories, credentials, cancellationToken);
    }

    // ---- operations on API hosts -----------------------------------------------------------------------

    /// <summary>
    /// <c>GET /v2/</c> without credentials: whether the registry is open or wants authentication, and how.
    /// </summary>
    /// <exception cref="RegistryException">Unreachable (network, TLS, timeout, 5xx), RateLimited, or InvalidResponse when it is not a registry.</exception>
    public Task<PingResult> PingAsync(string registry, CancellationToken cancellationToken = default)
    {
        RegistryInput.Authority(registry, nameof(registry));
        var operation = new RegistryOperation(registry, null, null, null);
        return WithinDeadlineAsync(operation, async ct =>
        {
            var uri = new Uri(_transport.Endpoints.BaseUri(registry), "/v2/");
            using var response = await _transport.SendAsync(operation, () => new HttpRequestMessage(HttpMethod.Get, uri), uri, null, followRedirects: false, 0, ct).ConfigureAwait(false);
            var apiVersion = response.Message.Headers.TryGetValues("Docker-Distribution-API-Version", out var v) ? v.FirstOrDefault() : null;
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    _authenticator.Remember(registry, null);
                    return new PingResult(registry, response.StatusCode, [], apiVersion);
                case HttpStatusCode.Unauthorized:
                    var challenges = RegistryAuthenticator.Parse(operation, response.Message);
                    _authenticator.Remember(registry, RegistryAuthenticator.Choose(challenges));
                    return new PingResult(registry, response.StatusCode, challenges, apiVersion);
                case HttpStatusCode.NotFound:
                    throw new RegistryException(RegistryErrorKind.InvalidResponse,
                        $"registry {registry} answered 404 on /v2/: it does not serve the OCI distribution API");
                default:
                    throw RegistryErrors.For(operation, response.Message, RegistryErrorBody.Empty, "ping");
            }
        }, cancellationToken);
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
    public Task<ResolvedImage> ResolveAsync(
        string registry,
        string repository,
        string reference,
        ImagePlatform? platform = null,
        ICredentialSource? credentials = null,
        CancellationToken cancellationToken = default)
    {
        var operation = Validate(registry, repository, reference, credentials);
        return WithinDeadlineAsync(operation, async ct =>
        {
            var (manifest, document) = await FetchManifestAsync(operation, ct).ConfigureAwait(false);
            var mediaType = manifest.Descriptor.MediaType;
            if (ManifestMediaTypes.IsIndex(mediaType))
            {
                var children = IndexEntries(operation, document);
                var platforms = children.Where(c => c.Platform is not null && c.Platform.Os != "unknown")
                    .Select(c => c.Platform!).Distinct().ToList();
                PlatformManifest? selected = null;
                if (platform is not null)
                {
                    var match = platform.SelectFrom(children, c => c.Platform);
                    if (match is null)
                    {
                        throw new RegistryException(RegistryErrorKind.ManifestNotFound,
                            $"{operation.Describe()} has no manifest for platform {platform}; available: {(platforms.Count == 0 ? "none" : Listed(platforms))}");
                    }
                    selected = new PlatformManifest(match.Platform!, match.Descriptor);
                }
                return new ResolvedImage(registry, repository, reference, manifest.Descriptor, platforms, selected);
            }
            if (platform is null)
            {
                return new ResolvedImage(registry, repository, reference, manifest.Descriptor, [], null);
            }
            var own = await ReadImagePlatformAsync(operation, document, ct).ConfigureAwait(false);
            if (!platform.Runs(own))
            {
                throw new RegistryException(RegistryErrorKind.ManifestNotFound,
                    $"{operation.Describe()} is a single-platform image for {own}, not for platform {platform}; available: {own}");
            }
            return new ResolvedImage(registry, repository, reference, manifest.Descriptor, [own], null);
        }, cancellationToken);
    }

    /// <summary>Fetches a manifest with the given credentials (or anonymously when null).</summary>
    public Task<ManifestContent> GetManifestAsync(string registry, string repository, string reference, RegistryCredential? credential, CancellationToken cancellationToken = default) =>
        GetManifestAsync(registry, repository, reference, credential is null ? null : new FixedCredential(credential), cancellationToken);

    /// <summary>
    /// <c>GET</c> of a manifest (OCI manifest or index, Docker manifest or manifest list). The digest is computed
    /// from the exact bytes and checked against <c>Docker-Content-Digest</c> and against the reference when it is a
    /// digest; the bytes must be a JSON manifest of the type the registry states.
    /// </summary>
    /// <exception cref="RegistryException">As for <see cref="ResolveAsync(string, string, string, ImagePlatform?, ICredentialSource?, CancellationToken)"/>.</exception>
    public Task<ManifestContent> GetManifestAsync(
        string registry,
        string repository,
        string reference,
        ICredentialSource? credentials = null,
        CancellationToken cancellationToken = default)
    {
        var operation = Validate(registry, repository, reference, credentials);
        return WithinDeadlineAsync(operation, async ct => (await FetchManifestAsync(operation, ct).ConfigureAwait(false)).Content, cancellationToken);
    }

    /// <summary>Heads a manifest with the given credentials (or anonymously when null).</summary>
    public Task<ManifestDescriptor> HeadManifestAsync(string registry, string repository, string reference, RegistryCredential? credential, CancellationToken cancellationToken = default) =>
        HeadManifestAsync(registry, repository, reference, credential is null ? null : new FixedCredential(credential), cancellationToken);

    /// <summary>
    /// <c>HEAD</c> of a manifest: digest from <c>Docker-Content-Digest</c>, media type and size from the headers.
    /// When the registry sends no digest header, falls back to <c>GET</c> and computes it.
    /// </summary>
    /// <exception cref="RegistryException">As for <see cref="ResolveAsync(string, string, string, ImagePlatform?, ICredentialSource?, CancellationToken)"/>.</exception>
    public Task<ManifestDescriptor> HeadManifestAsync(
        string registry,
        string repository,
        string reference,
        ICredentialSource? credentials = null,
        CancellationToken cancellationToken = default)
    {
        var operation = Validate(registry, repository, reference, credentials);
        return WithinDeadlineAsync(operation, async ct =>
        {
            var uri = ManifestUri(operation);
            using var response = await _authenticator.ExchangeAsync(operation, () => ManifestRequest(HttpMethod.Head, uri), uri, authenticate: true, followRedirects: true, 0, ct).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw await ManifestErrorAsync(operation, response, ct).ConfigureAwait(false);
            }
            var digest = DigestHeader(operation, response.Message);
            var mediaType = response.Message.Content.Headers.ContentType?.MediaType;
            var size = response.Message.Content.Headers.ContentLength;
            if (digest is null || mediaType is null || !ManifestMediaTypes.All.Contains(mediaType) || size is null)
            {
                return (await FetchManifestAsync(operation, ct).ConfigureAwait(false)).Content.Descriptor;
            }
            if (RegistryInput.IsDigest(operation.Reference!) && !string.Equals(digest, operation.Reference, StringComparison.Ordinal))
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse,
                    $"{operation.Describe()}: the registry reports digest {digest} for a manifest asked by digest {operation.Reference}");
            }
            return new ManifestDescriptor(digest, mediaType, size.Value);
        }, cancellationToken);
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
    public Task<string?> CheckCredentialsAsync(
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
        var operation = new RegistryOperation(registry, null, null, credentials) { Scopes = scopes };
        return WithinDeadlineAsync(operation, async ct =>
        {
            var uri = new Uri(_transport.Endpoints.BaseUri(registry), "/v2/");
            using var response = await _authenticator.ExchangeAsync(operation, () => new HttpRequestMessage(HttpMethod.Get, uri), uri, authenticate: true, followRedirects: false, 0, ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return _authenticator.Known(registry)?.Scheme;
            }
            throw RegistryErrors.For(operation, response, "credential check");
        }, cancellationToken);
    }

    /// <summary>Checks credentials given as a <see cref="RegistryCredential"/>; see the overload with a credential source.</summary>
    public Task<string?> CheckCredentialsAsync(string registry, IReadOnlyList<string> repositories, RegistryCredential? credential, CancellationToken cancellationToken = default) =>
        CheckCredentialsAsync(registry, repositories, credential is null ? null : new FixedCredential(credential), cancellationToken);

    /// <summary>The <c>Retry-After</c> a rate-limited failure carried, when the registry sent one.</summary>
    public static TimeSpan? RetryAfterOf(RegistryException exception) => RegistryErrors.RetryAfterOf(exception);

    /// <summary>Forgets cached tokens and challenges (after credentials were rotated, for example).</summary>
    public void ClearAuthenticationCache() => _authenticator.Clear();

    /// <summary>Closes the pooled connections.</summary>
    public void Dispose() => _transport.Dispose();

    // ---- the operation deadline ------------------------------------------------------------------------

    private async Task<T> WithinDeadlineAsync<T>(RegistryOperation operation, Func<CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.OperationTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await body(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable,
                $"{operation.Describe()}: no complete answer within the operation deadline of {_options.OperationTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
    }

    // ---- manifests -------------------------------------------------------------------------------------

    private static RegistryOperation Validate(string registry, string repository, string reference, ICredentialSource? credentials)
    {
        RegistryInput.Authority(registry, nameof(registry));
        RegistryInput.Repository(repository, nameof(repository));
        RegistryInput.Reference(reference, nameof(reference));
        return new RegistryOperation(registry, repository, reference, credentials);
    }

    private Uri ManifestUri(RegistryOperation operation) =>
        new(_transport.Endpoints.BaseUri(operation.Registry), $"/v2/{operation.Repository}/manifests/{operation.Reference}");

    private static HttpRequestMessage ManifestRequest(HttpMethod method, Uri uri)
    {
        var request = new HttpRequestMessage(method, uri);
        foreach (var mediaType in ManifestMediaTypes.All)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        }
        return request;
    }

    private async Task<(ManifestContent Content, ManifestDocument Document)> FetchManifestAsync(RegistryOperation operation, CancellationToken cancellationToken)
    {
        var uri = ManifestUri(operation);
        using var response = await _authenticator.ExchangeAsync(operation, () => ManifestRequest(HttpMethod.Get, uri), uri, authenticate: true, followRedirects: true, MaxManifestBytes, cancellationToken)
            .ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await ManifestErrorAsync(operation, response, cancellationToken).ConfigureAwait(false);
        }
        var body = response.Body;
        var digest = VerifiedDigest(operation, response.Message, body);
        var document = ParseManifest(operation, body);
        var mediaType = MediaTypeOf(operation, response.Message, document);
        return (new ManifestContent(new ManifestDescriptor(digest, mediaType, body.Length), body), document);
    }

    private static ManifestDocument ParseManifest(RegistryOperation operation, byte[] body)
    {
        try
        {
            return JsonSerializer.Deserialize(body, DistributionJson.Default.ManifestDocument)
                ?? throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: the manifest is JSON null, not a manifest");
        }
        catch (JsonException)
        {
            // Whatever the Content-Type says: bytes that are not a JSON manifest are not a manifest.
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: the manifest is not valid JSON (whatever its Content-Type says, not a manifest)");
        }
    }

    /// <summary>
    /// The <c>Docker-Content-Digest</c> header when present: it must be a digest of a supported algorithm, and the
    /// same algorithm as the reference's when the manifest was asked by digest.
    /// </summary>
    private static string? DigestHeader(RegistryOperation operation, HttpResponseMessage response)
    {
        var header = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault()?.Trim() : null;
        if (string.IsNullOrEmpty(header))
        {
            return null;
        }
        if (!RegistryInput.IsDigest(header) || ComputeDigest(AlgorithmOf(header), []) is null)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{operation.Describe()}: Docker-Content-Digest '{RegistryErrors.Shorten(Redaction.Excerpt(header, operation.Secrets, 100))}' is not a sha256 or sha512 digest");
        }
        if (RegistryInput.IsDigest(operation.Reference!) && AlgorithmOf(header) != AlgorithmOf(operation.Reference!))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{operation.Describe()}: Docker-Content-Digest uses algorithm {AlgorithmOf(header)}, but the manifest was asked by a {AlgorithmOf(operation.Reference!)} digest");
        }
        return header;
    }

    private static string VerifiedDigest(RegistryOperation operation, HttpResponseMessage response, byte[] body)
    {
        var header = DigestHeader(operation, response);
        var reference = operation.Reference!;
        var algorithm = RegistryInput.IsDigest(reference) ? AlgorithmOf(reference) : header is not null ? AlgorithmOf(header) : "sha256";
        var computed = ComputeDigest(algorithm, body)
            ?? throw new RegistryException(RegistryErrorKind.InvalidInput, $"{operation.Describe()}: digest algorithm '{algorithm}' is not supported (sha256, sha512)");
        if (header is not null && !string.Equals(header, computed, StringComparison.Ordinal))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{operation.Describe()}: Docker-Content-Digest {header} does not match the manifest bytes ({computed})");
        }
        if (RegistryInput.IsDigest(reference) && !string.Equals(reference, computed, StringComparison.Ordinal))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{operation.Describe()}: the manifest bytes hash to {computed}, not to the digest asked for");
        }
        return computed;
    }

    private static string AlgorithmOf(string digest) => digest[..digest.IndexOf(':', StringComparison.Ordinal)];

    internal static string? ComputeDigest(string algorithm, ReadOnlySpan<byte> content) => algorithm switch
    {
        "sha256" => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content)),
        "sha512" => "sha512:" + Convert.ToHexStringLower(SHA512.HashData(content)),
        _ => null,
    };

    private static string MediaTypeOf(RegistryOperation operation, HttpResponseMessage response, ManifestDocument document)
    {
        var header = response.Content.Headers.ContentType?.MediaType;
        var stated = document.MediaType;
        if (header is not null && ManifestMediaTypes.All.Contains(header))
        {
            if (stated is not null && ManifestMediaTypes.All.Contains(stated) && stated != header)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse,
                    $"{operation.Describe()}: the registry serves the manifest as {header} but the manifest says it is {stated}");
            }
            return header;
        }
        if (stated is not null && ManifestMediaTypes.All.Contains(stated))
        {
            return stated;
        }
        if (document.Manifests is not null)
        {
            return ManifestMediaTypes.OciIndex;
        }
        if (document.Layers is not null && document.Config is not null)
        {
            return ManifestMediaTypes.OciManifest;
        }
        throw new RegistryException(RegistryErrorKind.InvalidResponse,
            $"{operation.Describe()}: unsupported manifest media type '{RegistryErrors.Shorten(header ?? "(none)")}' (expected an OCI or Docker v2 manifest or index)");
    }

    private sealed record IndexEntry(ImagePlatform? Platform, ManifestDescriptor Descriptor);

    private static List<IndexEntry> IndexEntries(RegistryOperation operation, ManifestDocument document)
    {
        if (document.Manifests is not { } manifests)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: the index has no 'manifests' array");
        }
        var entries = new List<IndexEntry>();
        foreach (var m in manifests)
        {
            if (m?.Digest is not { } digest || !RegistryInput.IsDigest(digest))
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: an index entry has no valid digest");
            }
            ImagePlatform? platform = null;
            if (m.Platform is { Os: { } os, Architecture: { } arch })
            {
                platform = new ImagePlatform(os, arch, m.Platform.Variant);
            }
            entries.Add(new IndexEntry(platform, new ManifestDescriptor(digest, m.MediaType ?? "", m.Size is > 0 ? m.Size.Value : 0)));
        }
        return entries;
    }

    private static string Listed(List<ImagePlatform> platforms) =>
        platforms.Count <= 20 ? string.Join(", ", platforms) : string.Join(", ", platforms.Take(20)) + $" and {(platforms.Count - 20).ToString(CultureInfo.InvariantCulture)} more";

    private async Task<ImagePlatform> ReadImagePlatformAsync(RegistryOperation operation, ManifestDocument manifest, CancellationToken cancellationToken)
    {
        var configDigest = manifest.Config?.Digest ?? "";
        if (!RegistryInput.IsDigest(configDigest))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: the manifest has no valid config digest");
        }
        var algorithm = AlgorithmOf(configDigest);
        if (ComputeDigest(algorithm, []) is null)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: the config digest uses algorithm '{RegistryErrors.Shorten(algorithm)}', which is not supported (sha256, sha512)");
        }
        var uri = new Uri(_transport.Endpoints.BaseUri(operation.Registry), $"/v2/{operation.Repository}/blobs/{configDigest}");
        using var response = await _authenticator.ExchangeAsync(operation, () => new HttpRequestMessage(HttpMethod.Get, uri), uri, authenticate: true, followRedirects: true, MaxManifestBytes, cancellationToken)
            .ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw RegistryErrors.For(operation, response, "image config");
        }
        if (ComputeDigest(algorithm, response.Body) != configDigest)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: the image config does not match its digest {configDigest}");
        }
        ImageConfigDocument? config;
        try
        {
            config = JsonSerializer.Deserialize(response.Body, DistributionJson.Default.ImageConfigDocument);
        }
        catch (JsonException)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: the image config is not valid JSON");
        }
        if (string.IsNullOrEmpty(config?.Os) || string.IsNullOrEmpty(config.Architecture))
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: the image config states no os/architecture");
        }
        return new ImagePlatform(config.Os, config.Architecture, config.Variant);
    }

    private async Task<RegistryException> ManifestErrorAsync(RegistryOperation operation, RegistryResponse response, CancellationToken cancellationToken)
    {
        if (response.CrossedOrigin && response.StatusCode == HttpStatusCode.Unauthorized)
        {
            return RegistryErrors.ForeignChallenge(operation, response);
        }
        var errors = RegistryErrorBody.Parse(response.Body);
        if (response.StatusCode != HttpStatusCode.NotFound || errors.Has("NAME_UNKNOWN"))
        {
            return RegistryErrors.For(operation, response.Message, errors, "manifest");
        }
        // Registries answer a missing repository with MANIFEST_UNKNOWN too (and HEAD has no body): the tag list tells them apart.
        var uri = new Uri(_transport.Endpoints.BaseUri(operation.Registry), $"/v2/{operation.Repository}/tags/list?n=1");
        using var tags = await _authenticator.ExchangeAsync(operation, () => new HttpRequestMessage(HttpMethod.Get, uri), uri, authenticate: true, followRedirects: true, 0, cancellationToken)
            .ConfigureAwait(false);
        if (tags.StatusCode == HttpStatusCode.NotFound)
        {
            return new RegistryException(RegistryErrorKind.RepositoryNotFound,
                $"{operation.Describe()}: repository not found{RegistryErrorBody.Parse(tags.Body).Describe(operation.Secrets)}");
        }
        return new RegistryException(RegistryErrorKind.ManifestNotFound,
            $"{operation.Describe()}: manifest not found (no such {(RegistryInput.IsDigest(operation.Reference!) ? "digest" : "tag")}){errors.Describe(operation.Secrets)}");
    }

    private sealed class FixedCredential(RegistryCredential credential) : ICredentialSource
    {
        public string Description => $"static({credential.Username})";

        public ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(credential);
    }
}
