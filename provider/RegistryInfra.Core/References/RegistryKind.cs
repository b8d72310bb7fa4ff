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

/// <summary>The cloud identity a token-based registry kind needs where the refresher runs.</summary>
public enum RegistryIdentity
{
    /// <summary>None: the credential is static (or the images pull anonymously).</summary>
    None,
    /// <summary>An AWS IAM role (IRSA or EKS Pod Identity) allowed <c>ecr:GetAuthorizationToken</c>.</summary>
    AwsIamRole,
    /// <summary>A Google service account (GKE Workload Identity) with reader access to the registry.</summary>
    GoogleServiceAccount,
    /// <summary>A Microsoft Entra identity (AKS workload identity or a managed identity) with AcrPull.</summary>
    EntraIdentity,
}

/// <summary>The facts of one <see cref="RegistryKind"/>: the one table that decides names, token-based or
/// static, token lifetime, identity and the refresher's source type.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="Name">Its name in schemas and configuration (<c>ecr</c>, <c>dockerHub</c>).</param>
/// <param name="Aliases">Other names users write for it (<c>ecrPrivate</c>, <c>gar</c>).</param>
/// <param name="TokenBased">True when pull credentials are short-lived tokens obtained from a cloud identity,
/// so a pull secret for it must be renewed; false when the registry takes a fixed password or token.</param>
/// <param name="TokenLifetime">How long the kind's token lasts, for token-based kinds.</param>
/// <param name="Identity">The identity the refresher needs to obtain a token.</param>
/// <param name="RefresherSource">The refresher's source type that renews it (<c>ecr</c>, <c>gcp</c>, <c>acr</c>),
/// or null where the refresher does not renew it.</param>
/// <param name="TokenUsername">The user name the registry expects with a token credential, where it is fixed.</param>
/// <param name="Description">One line for docs.</param>
public sealed record RegistryKindInfo(
    RegistryKind Kind,
    string Name,
    IReadOnlyList<string> Aliases,
    bool TokenBased,
    TimeSpan? TokenLifetime,
    RegistryIdentity Identity,
    string? RefresherSource,
    string? TokenUsername,
    string Description);

/// <summary>The registry-kind table (see <see cref="RegistryKindInfo"/>).</summary>
public static class RegistryKindFacts
{
    /// <summary>Every kind. Lifetimes are the clouds' documented ones: an ECR authorization token is valid for
    /// 12 hours (ECR API reference, <c>GetAuthorizationToken</c>); a Google OAuth2 access token for 1 hour
    /// (<c>expires_in</c> 3599 from the metadata server and the token endpoint); an ACR refresh token for 3 hours
    /// (ACR docs, "Authenticate with an Azure container registry", refresh-token lifetime).</summary>
    public static readonly IReadOnlyList<RegistryKindInfo> All =
    [
        new(RegistryKind.Generic, "generic", [], false, null, RegistryIdentity.None, null, null, "Any other registry (Harbor, Nexus, Artifactory, distribution)."),
        new(RegistryKind.DockerHub, "dockerHub", [], false, null, RegistryIdentity.None, null, null, "Docker Hub."),
        new(RegistryKind.EcrPrivate, "ecr", ["ecrPrivate"], true, TimeSpan.FromHours(12), RegistryIdentity.AwsIamRole, "ecr", "AWS", "Amazon ECR (private)."),
        // ECR Public issues 12-hour tokens too, but its images pull anonymously; the refresher has no source for it.
        new(RegistryKind.EcrPublic, "ecrPublic", [], true, TimeSpan.FromHours(12), RegistryIdentity.AwsIamRole, null, "AWS", "Amazon ECR Public."),
        new(RegistryKind.Gcr, "gcr", [], true, TimeSpan.FromHours(1), RegistryIdentity.GoogleServiceAccount, "gcp", "oauth2accesstoken", "Google Container Registry."),
        new(RegistryKind.ArtifactRegistry, "artifactRegistry", ["gar"], true, TimeSpan.FromHours(1), RegistryIdentity.GoogleServiceAccount, "gcp", "oauth2accesstoken", "Google Artifact Registry."),
        new(RegistryKind.Acr, "acr", [], true, TimeSpan.FromHours(3), RegistryIdentity.EntraIdentity, "acr", "00000000-0000-0000-0000-000000000000", "Azure Container Registry."),
        new(RegistryKind.Ghcr, "ghcr", [], false, null, RegistryIdentity.None, null, null, "GitHub Container Registry."),
        new(RegistryKind.Quay, "quay", [], false, null, RegistryIdentity.None, null, null, "Quay."),
        new(RegistryKind.Mcr, "mcr", [], false, null, RegistryIdentity.None, null, null, "Microsoft Container Registry."),
    ];

    /// <summary>The facts of <paramref name="kind"/>.</summary>
    public static RegistryKindInfo Info(this RegistryKind kind) => All[(int)kind];

    /// <summary>See <see cref="RegistryKindInfo.TokenBased"/>.</summary>
    public static bool UsesShortLivedTokens(this RegistryKind kind) => kind.Info().TokenBased;

    /// <summary>See <see cref="RegistryKindInfo.TokenUsername"/>.</summary>
    public static string? TokenUsername(this RegistryKind kind) => kind.Info().TokenUsername;

    /// <summary>The kind named <paramref name="name"/>: its <see cref="RegistryKindInfo.Name"/>, an alias, or the
    /// enum member's name, in any case, with dashes or underscores ignored (<c>artifact-registry</c>).</summary>
    public static bool TryParse(string? name, out RegistryKind kind)
    {
        kind = RegistryKind.Generic;
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }
        static string Fold(string text) => text.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        var folded = Fold(name);
        foreach (var info in All)
        {
            if (Fold(info.Name) == folded || Fold(info.Kind.ToString()) == folded || info.Aliases.Any(a => Fold(a) == folded))
            {
                kind = info.Kind;
                return true;
            }
        }
        return false;
    }
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
