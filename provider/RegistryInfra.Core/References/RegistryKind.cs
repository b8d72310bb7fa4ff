namespace RegistryInfra.Core.References;

/// <summary>The family of a registry, detected from its host name; it decides how credentials are obtained.</summary>
public enum RegistryKind
{
    /// <summary>Any other registry: Harbor, Nexus, Artifactory, GitLab, a self-hosted distribution.</summary>
    Generic,
    /// <summary>Docker Hub (<c>docker.io</c>, and <c>registry-1.docker.io</c>, <c>registry.hub.docker.com</c> which serve it under their own names).</summary>
    DockerHub,
    /// <summary>Amazon ECR private registry, <c>ACCOUNT.dkr.ecr.REGION.amazonaws.com</c> and its FIPS, China and dual-stack forms.</summary>
    EcrPrivate,
    /// <summary>Amazon ECR Public, <c>public.ecr.aws</c> and its dual-stack <c>ecr-public.aws.com</c>.</summary>
    EcrPublic,
    /// <summary>Google Container Registry, <c>gcr.io</c> and its regional hosts.</summary>
    Gcr,
    /// <summary>Google Artifact Registry, <c>REGION-docker.pkg.dev</c>.</summary>
    ArtifactRegistry,
    /// <summary>Azure Container Registry, <c>NAME.azurecr.io</c> and the sovereign clouds.</summary>
    Acr,
    /// <summary>GitHub Container Registry, <c>ghcr.io</c>.</summary>
    Ghcr,
    /// <summary>Red Hat Quay, <c>quay.io</c>.</summary>
    Quay,
    /// <summary>Microsoft Artifact Registry, <c>mcr.microsoft.com</c>.</summary>
    Mcr,
}

/// <summary>Facts about each <see cref="RegistryKind"/> that the refresher and the components decide on.</summary>
public static class RegistryKindFacts
{
    /// <summary>
    /// True for kinds whose pull credentials are short-lived tokens obtained from a cloud identity
    /// (ECR authorization tokens, Google access tokens, ACR refresh/access tokens), so a pull secret
    /// for them must be renewed by the refresher.
    /// </summary>
    public static bool UsesShortLivedTokens(this RegistryKind kind) =>
        kind is RegistryKind.EcrPrivate or RegistryKind.EcrPublic or RegistryKind.Gcr
            or RegistryKind.ArtifactRegistry or RegistryKind.Acr;

    /// <summary>The user name that the registry expects with a token credential, where it is fixed.</summary>
    /// <returns><c>AWS</c> for ECR, <c>oauth2accesstoken</c> for GCR and Artifact Registry, the null GUID for
    /// ACR refresh tokens, or null where the user name is the account's own.</returns>
    public static string? TokenUsername(this RegistryKind kind) => kind switch
    {
        RegistryKind.EcrPrivate or RegistryKind.EcrPublic => "AWS",
        RegistryKind.Gcr or RegistryKind.ArtifactRegistry => "oauth2accesstoken",
        RegistryKind.Acr => "00000000-0000-0000-0000-000000000000",
        _ => null,
    };
}

/// <summary>
/// What the host name of a registry tells about it, beyond its <see cref="RegistryKind"/>.
/// </summary>
/// <param name="Kind">The detected family.</param>
/// <param name="AccountId">ECR private: the 12-digit AWS account id.</param>
/// <param name="Region">ECR private: the AWS region; Artifact Registry: the location (<c>europe-west1</c>, <c>us</c>).</param>
/// <param name="RegistryName">ACR: the registry name (the first label of the login server).</param>
/// <param name="Partition">ECR private: the DNS suffix: <c>amazonaws.com</c>, <c>amazonaws.com.cn</c>, <c>amazonaws.eu</c>,
/// <c>on.aws</c>, <c>on.amazonwebservices.com.cn</c>, <c>c2s.ic.gov</c>, <c>sc2s.sgov.gov</c>, <c>cloud.adc-e.uk</c> or <c>csp.hci.ic.gov</c>.</param>
/// <param name="IsFips">ECR private: the FIPS endpoint (<c>dkr.ecr-fips</c>).</param>
/// <param name="IsDualStack">ECR: the dual-stack IPv4/IPv6 endpoint (<c>on.aws</c>, <c>on.amazonwebservices.com.cn</c>, <c>ecr-public.aws.com</c>).</param>
public sealed record RegistryKindDetails(
    RegistryKind Kind,
    string? AccountId = null,
    string? Region = null,
    string? RegistryName = null,
    string? Partition = null,
    bool IsFips = false,
    bool IsDualStack = false)
{
    /// <summary>See <see cref="RegistryKindFacts.UsesShortLivedTokens"/>.</summary>
    public bool UsesShortLivedTokens => Kind.UsesShortLivedTokens();

    /// <summary>ECR: the <c>GetAuthorizationToken</c> endpoint that fits this host: its region's partition, FIPS and
    /// dual-stack as the host is (ECR Public: us-east-1). Null for other kinds.</summary>
    public Uri? EcrApiEndpoint => Kind switch
    {
        RegistryKind.EcrPrivate when Region is { } region => AwsPartition.OfRegion(region).EcrEndpoint(region, isPublic: false, IsFips, IsDualStack),
        RegistryKind.EcrPublic => AwsPartition.OfRegion("us-east-1").EcrEndpoint("us-east-1", isPublic: true, fips: false, IsDualStack),
        _ => null,
    };
}
