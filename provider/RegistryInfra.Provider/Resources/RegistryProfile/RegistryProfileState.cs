using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Resources.RegistryProfile;

/// <summary>Outputs of <c>registryinfra:index:RegistryProfile</c>.</summary>
[PulumiModel]
public sealed partial record RegistryProfileState(
    [property: PulumiProperty("server", Description = "The normalised registry key: the lowercase host (and port), or `https://index.docker.io/v1/` for Docker Hub.")]
    string Server,
    [property: PulumiProperty("kind", Description = "The registry family.")]
    RegistryProfileKind Kind,
    [property: PulumiProperty("credentialSource", Description = "How the credential is obtained: `static`, `ecr`, `gcpServiceAccountKey`, `gcpAccessToken`, `acr`, `credentialHelper`, `exec`, or `anonymous` when none is set.")]
    string CredentialSource,
    [property: PulumiProperty("username", Description = "The user name (static credentials).")]
    string? Username,
    [property: PulumiProperty("password", Description = "The password or token (static credentials).")]
    [property: Secret]
    string? Password,
    [property: PulumiProperty("email", Description = "The e-mail address.")]
    string? Email,
    [property: PulumiProperty("authEntry", Description = "The JSON of this registry's entry in the `auths` map of a dockerconfigjson; empty for an anonymous profile.")]
    [property: Secret]
    string AuthEntry,
    [property: PulumiProperty("dockerConfigJson", Description = "A complete `.dockerconfigjson` document holding only this registry, under each of `pullSecretKeys`; `{\"auths\":{}}` for an anonymous profile.")]
    [property: Secret]
    string DockerConfigJson,
    [property: PulumiProperty("expiresAt", Description = "When the credential in `authEntry` expires (RFC 3339), for token-based sources; absent for static credentials. The refresher renews tokens in clusters.")]
    string? ExpiresAt = null,
    [property: PulumiProperty("imageDigests", Description = "Each reference of `images` and the digest it resolved to.")]
    IReadOnlyDictionary<string, string>? ImageDigests = null,
    [property: PulumiProperty("resolvedImages", Description = "Each reference of `images`, in order, with its digest and its pinned form `name@digest`.")]
    IReadOnlyList<ResolvedImageOutput>? ResolvedImages = null,
    [property: PulumiProperty("tokenBased", Description = "True when the credential is a short-lived token obtained at use time (`ecr`, `gcpAccessToken`, `acr`, `credentialHelper`, `exec`), false for a fixed value (`username`/`password`, `gcpServiceAccountKey`). Pass it to a `PullSecret` or `ClusterRegistryAccess` entry's `tokenBased` so that its preview knows who owns the entry.")]
    bool? TokenBased = null,
    [property: PulumiProperty("anonymous", Description = "True when the profile has no credentials: its images are checked and resolved anonymously, and a `PullSecret` or `ClusterRegistryAccess` entry given `anonymous` writes nothing for it. Pass it to such an entry's `anonymous`.")]
    bool? Anonymous = null,
    [property: PulumiProperty("pullSecretKeys", Description = "The `.dockerconfigjson` keys that carry this registry's credential: the ones the kubelet matches for every image of `images` (Docker Hub's `https://index.docker.io/v1/`, an alias host such as `registry-1.docker.io` beside it, each case spelling of the host the images use). Pass it to a `PullSecret` or `ClusterRegistryAccess` entry's `keys`.")]
    IReadOnlyList<string>? PullSecretKeys = null);

/// <summary>One image of a profile, resolved.</summary>
[PulumiType("registryinfra:index:ResolvedImage", Description = "An image reference resolved to its digest.")]
public sealed partial record ResolvedImageOutput(
    [property: PulumiProperty("image", Description = "The reference as given in `images`.")]
    string Image,
    [property: PulumiProperty("digest", Description = "The digest to pin: the chosen platform's manifest when `platform` was given for an index, else the top manifest's.")]
    string Digest,
    [property: PulumiProperty("pinned", Description = "`name@digest` in canonical form, the tag dropped.")]
    string Pinned);
