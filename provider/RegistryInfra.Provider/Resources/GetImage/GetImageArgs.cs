using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Resources.GetImage;

/// <summary>Arguments of <c>registryinfra:index:getImage</c>.</summary>
[PulumiModel]
public sealed partial record GetImageArgs(
    [property: PulumiProperty("image", Description = "The image reference, such as `ghcr.io/org/app:1.2` or `nginx` (Docker Hub, tag `latest`).")]
    string Image,
    [property: PulumiProperty("username", Description = "The user name to pull with (with `password`).")]
    string? Username = null,
    [property: PulumiProperty("password", Description = "The password or token to pull with.")]
    [property: Secret]
    string? Password = null,
    [property: PulumiProperty("dockerConfigJson", Description = "A `.dockerconfigjson` document (such as a RegistryProfile's `dockerConfigJson`); the entry matching the image by longest prefix is used.")]
    [property: Secret]
    string? DockerConfigJson = null,
    [property: PulumiProperty("platform", Description = "The platform (`os/arch[/variant]`) to select from a multi-platform index; outputs `platformDigest`.")]
    string? Platform = null,
    [property: PulumiProperty("caCertificates", Description = "PEM certificates of the CAs that issued the registry's TLS certificate.")]
    string? CaCertificates = null,
    [property: PulumiProperty("insecure", Description = "Reach the registry over plain HTTP.")]
    bool? Insecure = null);

/// <summary>Result of <c>registryinfra:index:getImage</c>.</summary>
[PulumiModel]
public sealed partial record GetImageResult(
    [property: PulumiProperty("digest", Description = "The digest of the manifest the reference names (the index for a multi-platform image).")]
    string Digest,
    [property: PulumiProperty("mediaType", Description = "The media type of that manifest.")]
    string MediaType,
    [property: PulumiProperty("platforms", Description = "The platforms the image offers (`os/arch[/variant]`); for a single-platform image, its own platform when `platform` was given, else empty.")]
    IReadOnlyList<string> Platforms,
    [property: PulumiProperty("pinned", Description = "`name@digest` in canonical form (the tag dropped), for pinning a deployment.")]
    string Pinned,
    [property: PulumiProperty("platformDigest", Description = "The digest of the chosen platform's manifest, when `platform` was given.")]
    string? PlatformDigest = null,
    [property: PulumiProperty("pullSecretKey", Description = "The dockerconfigjson key the kubelet would use for this image: of `dockerConfigJson`, the key it matches first (globs, path prefixes, host case as written); with `username`, the key RegistryInfra writes for the image's registry. Absent when the kubelet would pull anonymously.")]
    string? PullSecretKey = null);
