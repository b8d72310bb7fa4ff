using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.WorkloadIdentityBinding;

/// <summary>Outputs of <c>registryinfra:gcp:WorkloadIdentityBinding</c>.</summary>
[PulumiModel]
public sealed partial record WorkloadIdentityBindingOutputs
{
    [PulumiProperty("email", Description = "The Google service account's e-mail address.")]
    public Output<string> Email { get; init; } = Output.Unknown<string>();

    [PulumiProperty("member", Description = "The Google service account as an IAM member, `serviceAccount:EMAIL`, as granted the Artifact Registry reader role.")]
    public Output<string> Member { get; init; } = Output.Unknown<string>();

    [PulumiProperty("serviceAccountAnnotations", Description = "The annotation to put on the Kubernetes service account: `iam.gke.io/gcp-service-account`.")]
    public Output<IReadOnlyDictionary<string, string>> ServiceAccountAnnotations { get; init; } = Output.Unknown<IReadOnlyDictionary<string, string>>();
}

/// <summary>Inputs of <c>gcp:serviceaccount/account:Account</c> (pulumi-gcp).</summary>
[PulumiModel]
public sealed partial record GoogleServiceAccountInputs
{
    public Output<string> AccountId { get; init; } = "";

    public Output<string> Project { get; init; } = "";

    public Output<string>? DisplayName { get; init; }

    public Output<string>? Description { get; init; }
}

/// <summary>Inputs of <c>gcp:projects/iAMMember:IAMMember</c> (pulumi-gcp).</summary>
[PulumiModel]
public sealed partial record ProjectIamMemberInputs
{
    public Output<string> Project { get; init; } = "";

    public string Role { get; init; } = "";

    public Output<string> Member { get; init; } = "";
}

/// <summary>Inputs of <c>gcp:artifactregistry/repositoryIamMember:RepositoryIamMember</c> (pulumi-gcp).</summary>
[PulumiModel]
public sealed partial record RepositoryIamMemberInputs
{
    public Output<string> Project { get; init; } = "";

    public Output<string> Location { get; init; } = "";

    public Output<string> Repository { get; init; } = "";

    public string Role { get; init; } = "";

    public Output<string> Member { get; init; } = "";
}

/// <summary>Inputs of <c>gcp:serviceaccount/iAMMember:IAMMember</c> (pulumi-gcp).</summary>
[PulumiModel]
public sealed partial record ServiceAccountIamMemberInputs
{
    public Output<string> ServiceAccountId { get; init; } = "";

    public string Role { get; init; } = "";

    public Output<string> Member { get; init; } = "";
}
