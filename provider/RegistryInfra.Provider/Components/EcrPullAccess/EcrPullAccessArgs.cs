using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.EcrPullAccess;

/// <summary>Inputs of <c>registryinfra:aws:EcrPullAccess</c>.</summary>
[PulumiType("registryinfra:index:EcrPullAccessArgs", Description = "An IAM role for the refresher's service account (IRSA or EKS Pod Identity) with ECR pull on the listed repositories; the inputs of EcrPullAccess.")]
public sealed record EcrPullAccessArgs
{
    /// <summary><c>irsa</c> (IAM roles for service accounts) or <c>podIdentity</c> (EKS Pod Identity).</summary>
    [PulumiProperty("mode", Description = "How the service account assumes the role: `irsa` (IAM roles for service accounts, through the cluster's OIDC provider) or `podIdentity` (EKS Pod Identity, with an association). Default `irsa`.")]
    public string? Mode { get; init; }

    internal string ModeOrDefault => Mode ?? EcrPullAccessBuilder.Irsa;

    /// <summary>The Kubernetes namespace of the service account that assumes the role.</summary>
    [PulumiProperty("serviceAccountNamespace", Description = "The Kubernetes namespace of the service account that assumes the role (filled in by ClusterRegistryAccess).")]
    public string? ServiceAccountNamespace { get; init; }

    internal string ServiceAccountNamespaceOrDefault => ServiceAccountNamespace ?? "";

    /// <summary>The Kubernetes service account that assumes the role.</summary>
    [PulumiProperty("serviceAccountName", Description = "The Kubernetes service account that assumes the role (filled in by ClusterRegistryAccess).")]
    public string? ServiceAccountName { get; init; }

    internal string ServiceAccountNameOrDefault => ServiceAccountName ?? "";

    /// <summary>IRSA: the cluster's IAM OIDC provider ARN, <c>arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID</c>.</summary>
    [PulumiProperty("oidcProviderArn", Description = "irsa: the cluster's IAM OIDC provider ARN, `arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID`. Required for `irsa`.")]
    public string? OidcProviderArn { get; init; }

    /// <summary>Pod Identity: the EKS cluster's name.</summary>
    [PulumiProperty("clusterName", Description = "podIdentity: the EKS cluster's name, for the Pod Identity association. Required for `podIdentity`.")]
    public string? ClusterName { get; init; }

    /// <summary>The AWS account of the role (and of the repositories given by name). For IRSA it defaults to the OIDC provider's account.</summary>
    [PulumiProperty("accountId", Description = "The 12-digit AWS account of the role and of the repositories given by name. Default for `irsa`: the OIDC provider's account; required for `podIdentity`.")]
    public string? AccountId { get; init; }

    /// <summary>The AWS partition: <c>aws</c>, <c>aws-cn</c>, <c>aws-us-gov</c>.</summary>
    [PulumiProperty("partition", Description = "The AWS partition: `aws`, `aws-cn` or `aws-us-gov`. Default `aws`.")]
    public string? Partition { get; init; }

    internal string PartitionOrDefault => Partition ?? "aws";

    /// <summary>The region of the repositories given by name.</summary>
    [PulumiProperty("region", Description = "The region of the repositories given by name (or of `allRepositories`).")]
    public string? Region { get; init; }

    /// <summary>Repositories by name (in <see cref="AccountId"/> and <see cref="Region"/>).</summary>
    [PulumiProperty("repositories", Description = "ECR repositories by name (in `accountId` and `region`), such as `team/app`, granted pull.")]
    public IReadOnlyList<string>? Repositories { get; init; }

    internal IReadOnlyList<string> RepositoriesOrDefault => Repositories ?? [];

    /// <summary>Repositories by full ARN, <c>arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME</c>.</summary>
    [PulumiProperty("repositoryArns", Description = "ECR repositories by full ARN, `arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME`, granted pull.")]
    public IReadOnlyList<string>? RepositoryArns { get; init; }

    internal IReadOnlyList<string> RepositoryArnsOrDefault => RepositoryArns ?? [];

    /// <summary>Grant pull on every repository of the account in the region; only when no repository is listed.</summary>
    [PulumiProperty("allRepositories", Description = "Grant pull on every repository of the account in the region instead of listed ones. Default false.")]
    public bool? AllRepositories { get; init; }

    internal bool AllRepositoriesOrDefault => AllRepositories ?? false;

    /// <summary>The IAM role's name (at most 64 characters); defaults to the component's name plus <c>-ecr-pull</c>.</summary>
    [PulumiProperty("roleName", Description = "The IAM role's name (at most 64 characters). Default: the component's name plus `-ecr-pull`.")]
    public string? RoleName { get; init; }

    /// <summary>The IAM path of the role, such as <c>/registryinfra/</c>.</summary>
    [PulumiProperty("path", Description = "The IAM path of the role, beginning and ending with `/`, such as `/registryinfra/`. Default `/`.")]
    public string? Path { get; init; }

    internal string PathOrDefault => Path ?? "/";

    /// <summary>The ARN of a permissions boundary policy.</summary>
    [PulumiProperty("permissionsBoundary", Description = "The ARN of a permissions boundary policy for the role.")]
    public string? PermissionsBoundary { get; init; }

    /// <summary>Tags on the role (and the association).</summary>
    [PulumiProperty("tags", Description = "Tags on the role (and on the Pod Identity association).")]
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}
