using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.AcrPullAccess;

/// <summary>Outputs of <c>registryinfra:azure:AcrPullAccess</c>.</summary>
[PulumiModel]
public sealed partial record AcrPullAccessOutputs
{
    [PulumiProperty("clientId", Description = "The identity's client id: the service account's `azure.workload.identity/client-id` annotation, and `clientId` of an ACR profile.")]
    public Output<string> ClientId { get; init; } = Output.Unknown<string>();

    [PulumiProperty("principalId", Description = "The identity's principal (object) id, to which AcrPull is assigned.")]
    public Output<string> PrincipalId { get; init; } = Output.Unknown<string>();

    [PulumiProperty("tenantId", Description = "The identity's Microsoft Entra tenant (for an existing identity, when given).")]
    public Output<string?> TenantId { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("subject", Description = "The subject the federated identity credential trusts, `system:serviceaccount:NAMESPACE:NAME`.")]
    public Output<string> Subject { get; init; } = Output.Unknown<string>();

    [PulumiProperty("serviceAccountAnnotations", Description = "The annotation to put on the Kubernetes service account: `azure.workload.identity/client-id`.")]
    public Output<IReadOnlyDictionary<string, string>> ServiceAccountAnnotations { get; init; } = Output.Unknown<IReadOnlyDictionary<string, string>>();

    [PulumiProperty("podLabels", Description = "The label to put on the pods that use the identity: `azure.workload.identity/use: \"true\"` (the webhook then injects the token).")]
    public Output<IReadOnlyDictionary<string, string>> PodLabels { get; init; } = Output.Unknown<IReadOnlyDictionary<string, string>>();
}

/// <summary>Inputs of <c>azure-native:managedidentity:UserAssignedIdentity</c> (pulumi-azure-native).</summary>
[PulumiModel]
public sealed partial record UserAssignedIdentityInputs
{
    public Output<string> ResourceGroupName { get; init; } = "";

    public Output<string> ResourceName { get; init; } = "";

    public Output<string?>? Location { get; init; }

    public Output<IReadOnlyDictionary<string, string>>? Tags { get; init; }
}

/// <summary>Inputs of <c>azure-native:managedidentity:FederatedIdentityCredential</c> (pulumi-azure-native).</summary>
[PulumiModel]
public sealed partial record FederatedIdentityCredentialInputs
{
    public Output<string> ResourceGroupName { get; init; } = "";

    /// <summary>The identity's name.</summary>
    public Output<string> ResourceName { get; init; } = "";

    public Output<string> FederatedIdentityCredentialResourceName { get; init; } = "";

    public Output<string> Issuer { get; init; } = "";

    public Output<string> Subject { get; init; } = "";

    public IReadOnlyList<string> Audiences { get; init; } = [];
}

/// <summary>Inputs of <c>azure-native:authorization:RoleAssignment</c> (pulumi-azure-native).</summary>
[PulumiModel]
public sealed partial record RoleAssignmentInputs
{
    public Output<string> RoleAssignmentName { get; init; } = "";

    public Output<string> Scope { get; init; } = "";

    public Output<string> RoleDefinitionId { get; init; } = "";

    public Output<string> PrincipalId { get; init; } = "";

    public string PrincipalType { get; init; } = "";

    public Output<string>? Description { get; init; }
}
