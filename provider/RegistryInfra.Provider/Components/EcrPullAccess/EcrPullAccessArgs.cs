using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.EcrPullAccess;

/// <summary>Inputs of <c>registryinfra:aws:EcrPullAccess</c>.</summary>
[PulumiType("registryinfra:index:EcrPullAccessArgs", Description = "An IAM role for the refresher's service account (IRSA or EKS Pod Identity) with ECR pull on the listed repositories; the inputs of EcrPullAccess.")]
public sealed partial record EcrPullAccessArgs
{
    /// <summary><c>irsa</c> (IAM roles for service accounts) or <c>podIdentity</c> (EKS Pod Identity).</summary>
    [PulumiProperty("mode", Description = "How the service account assumes the role: `irsa` (IAM roles for service accounts, through the cluster's OIDC provider) or `podIdentity` (EKS Pod Identity, with an association). Default `irsa`.", Default = EcrPullAccessComponent.Irsa)]
    public Output<string?> Mode { get; init; } = Output.Create<string?>(null);


    /// <summary>The Kubernetes namespace of the service account that assumes the role.</summary>
    [PulumiProperty("serviceAccountNamespace", Description = "The Kubernetes namespace of the service account that assumes the role (filled in by ClusterRegistryAccess).")]
    public Output<string?> ServiceAccountNamespace { get; init; } = Output.Create<string?>(null);


    /// <summary>The Kubernetes service account that assumes the role.</summary>
    [PulumiProperty("serviceAccountName", Description = "The Kubernetes service account that assumes the role (filled in by ClusterRegistryAccess).")]
    public Output<string?> ServiceAccountName { get; init; } = Output.Create<string?>(null);


    /// <summary>IRSA: the cluster's IAM OIDC provider ARN, <c>arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID</c>.</summary>
    [PulumiProperty("oidcProviderArn", Description = "irsa: the cluster's IAM OIDC provider ARN, `arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID`. Required for `irsa`.")]
    public Output<string?> OidcProviderArn { get; init; } = Output.Create<string?>(null);

    /// <summary>Pod Identity: the EKS cluster's name.</summary>
    [PulumiProperty("clusterName", Description = "podIdentity: the EKS cluster's name, for the Pod Identity association. Required for `podIdentity`.")]
    public Output<string?> ClusterName { get; init; } = Output.Create<string?>(null);

    /// <summary>The AWS account of the role (and of the repositories given by name). For IRSA it defaults to the OIDC provider's account.</summary>
    [PulumiProperty("accountId", Description = "The 12-digit AWS account of the role and of the repositories given by name. Default for `irsa`: the OIDC provider's account; required for `podIdentity`.")]
    public Output<string?> AccountId { get; init; } = Output.Create<string?>(null);

    /// <summary>The AWS partition: <c>aws</c>, <c>aws-cn</c>, <c>aws-us-gov</c>.</summary>
    [PulumiProperty("partition", Description = "The AWS partition: `aws`, `aws-cn` or `aws-us-gov`. Default `aws`.", Default = "aws")]
    public Output<string?> Partition { get; init; } = Output.Create<string?>(null);


    /// <summary>The region of the repositories given by name.</summary>
    [PulumiProperty("region", Description = "The region of the repositories given by name (or of `allRepositories`).")]
    public Output<string?> Region { get; init; } = Output.Create<string?>(null);

    /// <summary>Repositories by name (in <see cref="AccountId"/> and <see cref="Region"/>).</summary>
    [PulumiProperty("repositories", Description = "ECR repositories by name (in `accountId` and `region`), such as `team/app`, granted pull.")]
    public InputList<string>? Repositories { get; init; }


    /// <summary>Repositories by full ARN, <c>arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME</c>.</summary>
    [PulumiProperty("repositoryArns", Description = "ECR repositories by full ARN, `arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME`, granted pull.")]
    public InputList<string>? RepositoryArns { get; init; }


    /// <summary>Grant pull on every repository of the account in the region; only when no repository is listed.</summary>
    [PulumiProperty("allRepositories", Description = "Grant pull on every repository of the account in the region instead of listed ones. Default false.", Default = false)]
    public Output<bool?> AllRepositories { get; init; } = Output.Create<bool?>(null);


    /// <summary>The IAM role's name (at most 64 characters); defaults to the component's name plus <c>-ecr-pull</c>.</summary>
    [PulumiProperty("roleName", Description = "The IAM role's name (at most 64 characters). Default: the component's name plus `-ecr-pull`.")]
    public Output<string?> RoleName { get; init; } = Output.Create<string?>(null);

    /// <summary>The IAM path of the role, such as <c>/registryinfra/</c>.</summary>
    [PulumiProperty("path", Description = "The IAM path of the role, beginning and ending with `/`, such as `/registryinfra/`. Default `/`.", Default = "/")]
    public Output<string?> Path { get; init; } = Output.Create<string?>(null);


    /// <summary>The ARN of a permissions boundary policy.</summary>
    [PulumiProperty("permissionsBoundary", Description = "The ARN of a permissions boundary policy for the role.")]
    public Output<string?> PermissionsBoundary { get; init; } = Output.Create<string?>(null);

    /// <summary>Tags on the role (and the association).</summary>
    [PulumiProperty("tags", Description = "Tags on the role (and on the Pod Identity association).")]
    public InputMap<string>? Tags { get; init; }
}
