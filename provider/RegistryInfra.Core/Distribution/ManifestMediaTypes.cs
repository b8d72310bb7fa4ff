namespace RegistryInfra.Core.Distribution;

/// <summary>The manifest media types the client asks for and understands.</summary>
public static class ManifestMediaTypes
{
    /// <summary>OCI image manifest.</summary>
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";

    /// <summary>OCI image index (multi-platform).</summary>
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";

    /// <summary>Docker image manifest, schema 2.</summary>
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

    /// <summary>Docker manifest list (multi-platform).</summary>
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

    /// <summary>The four types, in the order of preference sent in <c>Accept</c>.</summary>
    public static IReadOnlyList<string> All { get; } = [OciIndex, DockerManifestList, OciManifest, DockerManifest];

    /// <summary>True for an index or manifest list.</summary>
    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;

    /// <summary>True for a single-platform image manifest.</summary>
    public static bool IsImageManifest(string mediaType) => mediaType is OciManifest or DockerManifest;
}
