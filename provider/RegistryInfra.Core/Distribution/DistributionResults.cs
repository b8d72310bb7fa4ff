using System.Net;

namespace RegistryInfra.Core.Distribution;

/// <summary>What <c>GET /v2/</c> told about a registry.</summary>
/// <param name="Registry">The registry authority (<c>host[:port]</c>).</param>
/// <param name="StatusCode">The HTTP status of <c>/v2/</c>: 200 when open, 401 when it wants credentials.</param>
/// <param name="Challenges">The <c>WWW-Authenticate</c> challenges it sent.</param>
/// <param name="ApiVersion">The <c>Docker-Distribution-API-Version</c> header, when sent.</param>
public sealed record PingResult(string Registry, HttpStatusCode StatusCode, IReadOnlyList<AuthenticationChallenge> Challenges, string? ApiVersion)
{
    /// <summary>True when the registry wants credentials or a token (HTTP 401).</summary>
    public bool RequiresAuthentication => StatusCode == HttpStatusCode.Unauthorized;

    /// <summary>The scheme the registry asks for (<c>Bearer</c> preferred over <c>Basic</c>), or null when open.</summary>
    public string? AuthScheme =>
        Challenges.FirstOrDefault(c => c.IsScheme("Bearer"))?.Scheme ?? Challenges.FirstOrDefault(c => c.IsScheme("Basic"))?.Scheme;
}

/// <summary>A content descriptor of a manifest.</summary>
/// <param name="Digest">The manifest digest, such as <c>sha256:…</c>.</param>
/// <param name="MediaType">The manifest media type (see <see cref="ManifestMediaTypes"/>).</param>
/// <param name="Size">The manifest size in bytes.</param>
public sealed record ManifestDescriptor(string Digest, string MediaType, long Size);

/// <summary>A manifest with its exact bytes.</summary>
/// <param name="Descriptor">Digest (verified against the bytes), media type and size.</param>
/// <param name="Content">The manifest bytes as served.</param>
public sealed record ManifestContent(ManifestDescriptor Descriptor, ReadOnlyMemory<byte> Content);

/// <summary>The manifest chosen from an index for one platform.</summary>
/// <param name="Platform">The platform of the child, as the index states it.</param>
/// <param name="Manifest">The child manifest's descriptor.</param>
public sealed record PlatformManifest(ImagePlatform Platform, ManifestDescriptor Manifest);

/// <summary>An image reference resolved to digests.</summary>
/// <param name="Registry">The registry authority.</param>
/// <param name="Repository">The repository name.</param>
/// <param name="Reference">The tag or digest asked for.</param>
/// <param name="Manifest">The top manifest (an index for multi-platform images).</param>
/// <param name="Platforms">The platforms the image offers: the index's entries, or the single image's own when it was checked.</param>
/// <param name="Selected">The manifest chosen for the requested platform, when one was requested and the top manifest is an index.</param>
public sealed record ResolvedImage(
    string Registry,
    string Repository,
    string Reference,
    ManifestDescriptor Manifest,
    IReadOnlyList<ImagePlatform> Platforms,
    PlatformManifest? Selected)
{
    /// <summary>The digest to pin: the selected platform's manifest when there is one, else the top manifest's.</summary>
    public string Digest => Selected?.Manifest.Digest ?? Manifest.Digest;

    /// <summary>True when the top manifest is an index or manifest list.</summary>
    public bool IsIndex => ManifestMediaTypes.IsIndex(Manifest.MediaType);
}
