using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.EcrPullAccess;

/// <summary>Outputs of <c>registryinfra:aws:EcrPullAccess</c>.</summary>
[PulumiModel]
public sealed partial record EcrPullAccessOutputs
{
    [PulumiProperty("roleArn", Description = "The IAM role's ARN.")]
    public Output<string> RoleArn { get; init; } = Output.Unknown<string>();

    [PulumiProperty("roleName", Description = "The IAM role's name.")]
    public Output<string> RoleName { get; init; } = Output.Unknown<string>();

    [PulumiProperty("serviceAccountAnnotations", Description = "The annotations to put on the Kubernetes service account: `eks.amazonaws.com/role-arn` for IRSA; none for EKS Pod Identity (the association does it).")]
    public Output<IReadOnlyDictionary<string, string>> ServiceAccountAnnotations { get; init; } = Output.Unknown<IReadOnlyDictionary<string, string>>();
}

/// <summary>Inputs of <c>aws:iam/role:Role</c> (pulumi-aws).</summary>
[PulumiModel]
public sealed partial record IamRoleInputs
{
    public Output<string> Name { get; init; } = "";

    public Output<string> Path { get; init; } = "/";

    public Output<string>? Description { get; init; }

    public Output<string> AssumeRolePolicy { get; init; } = "";

    public Output<string?>? PermissionsBoundary { get; init; }

    public Output<IReadOnlyDictionary<string, string>>? Tags { get; init; }
}

/// <summary>Inputs of <c>aws:iam/rolePolicy:RolePolicy</c> (pulumi-aws).</summary>
[PulumiModel]
public sealed partial record IamRolePolicyInputs
{
    public string Name { get; init; } = "";

    public Output<string> Role { get; init; } = "";

    public Output<string> Policy { get; init; } = "";
}

/// <summary>Inputs of <c>aws:eks/podIdentityAssociation:PodIdentityAssociation</c> (pulumi-aws).</summary>
[PulumiModel]
public sealed partial record PodIdentityAssociationInputs
{
    public Output<string> ClusterName { get; init; } = "";

    public Output<string> Namespace { get; init; } = "";

    public Output<string> ServiceAccount { get; init; } = "";

    public Output<string> RoleArn { get; init; } = "";

    public Output<IReadOnlyDictionary<string, string>>? Tags { get; init; }
}
