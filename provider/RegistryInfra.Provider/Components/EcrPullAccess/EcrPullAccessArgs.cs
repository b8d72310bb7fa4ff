namespace RegistryInfra.Provider.Components.EcrPullAccess;

/// <summary>Inputs of <c>registryinfra:aws:EcrPullAccess</c>.</summary>
public sealed record EcrPullAccessArgs
{
    /// <summary><c>irsa</c> (IAM roles for service accounts) or <c>podIdentity</c> (EKS Pod Identity).</summary>
    public string? Mode { get; init; }

    internal string ModeOrDefault => Mode ?? EcrPullAccessBuilder.Irsa;

    /// <summary>The Kubernetes namespace of the service account that assumes the role.</summary>
    public string? ServiceAccountNamespace { get; init; }

    internal string ServiceAccountNamespaceOrDefault => ServiceAccountNamespace ?? "";

    /// <summary>The Kubernetes service account that assumes the role.</summary>
    public string? ServiceAccountName { get; init; }

    internal string ServiceAccountNameOrDefault => ServiceAccountName ?? "";

    /// <summary>IRSA: the cluster's IAM OIDC provider ARN, <c>arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID</c>.</summary>
    public string? OidcProviderArn { get; init; }

    /// <summary>Pod Identity: the EKS cluster's name.</summary>
    public string? ClusterName { get; init; }

    /// <summary>The AWS account of the role (and of the repositories given by name). For IRSA it defaults to the OIDC provider's account.</summary>
    public string? AccountId { get; init; }

    /// <summary>The AWS partition: <c>aws</c>, <c>aws-cn</c>, <c>aws-us-gov</c>.</summary>
    public string? Partition { get; init; }

    internal string PartitionOrDefault => Partition ?? "aws";

    /// <summary>The region of the repositories given by name.</summary>
    public string? Region { get; init; }

    /// <summary>Repositories by name (in <see cref="AccountId"/> and <see cref="Region"/>).</summary>
    public IReadOnlyList<string>? Repositories { get; init; }

    internal IReadOnlyList<string> RepositoriesOrDefault => Repositories ?? [];

    /// <summary>Repositories by full ARN, <c>arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME</c>.</summary>
    public IReadOnlyList<string>? RepositoryArns { get; init; }

    internal IReadOnlyList<string> RepositoryArnsOrDefault => RepositoryArns ?? [];

    /// <summary>Grant pull on every repository of the account in the region; only when no repository is listed.</summary>
    public bool? AllRepositories { get; init; }

    internal bool AllRepositoriesOrDefault => AllRepositories ?? false;

    /// <summary>The IAM role's name (at most 64 characters); defaults to the component's name plus <c>-ecr-pull</c>.</summary>
    public string? RoleName { get; init; }

    /// <summary>The IAM path of the role, such as <c>/registryinfra/</c>.</summary>
    public string? Path { get; init; }

    internal string PathOrDefault => Path ?? "/";

    /// <summary>The ARN of a permissions boundary policy.</summary>
    public string? PermissionsBoundary { get; init; }

    /// <summary>Tags on the role (and the association).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}
