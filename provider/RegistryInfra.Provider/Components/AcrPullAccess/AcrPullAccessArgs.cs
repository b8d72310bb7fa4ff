using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.AcrPullAccess;

/// <summary>Inputs of <c>registryinfra:azure:AcrPullAccess</c>.</summary>
[PulumiType("registryinfra:index:AcrPullAccessArgs", Description = "A user-assigned managed identity (created, or an existing one) trusted through a federated identity credential by the refresher's Kubernetes service account (Azure workload identity), with AcrPull on the listed registries; the inputs of AcrPullAccess.")]
public sealed partial record AcrPullAccessArgs
{
    /// <summary>The cluster's OIDC issuer URL (AKS <c>oidcIssuerProfile.issuerURL</c>).</summary>
    [PulumiProperty("oidcIssuerUrl", Description = "The cluster's OIDC issuer URL, such as AKS's `oidcIssuerProfile.issuerURL` (`https://REGION.oic.prod-aks.azure.com/TENANT/GUID/`); the federated identity credential trusts tokens of this issuer.")]
    public Output<string> OidcIssuerUrl { get; init; } = "";

    /// <summary>The registries by Azure resource id.</summary>
    [PulumiProperty("registryIds", Description = "The container registries by Azure resource id, `/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.ContainerRegistry/registries/NAME`; the identity gets the built-in role AcrPull on each.")]
    public InputList<string> RegistryIds { get; init; } = [];

    /// <summary>The resource group of a created identity.</summary>
    [PulumiProperty("resourceGroupName", Description = "The resource group in which the identity is created. Required unless `identityResourceId` names an existing identity.")]
    public Output<string?> ResourceGroupName { get; init; } = Output.Create<string?>(null);

    /// <summary>The name of a created identity.</summary>
    [PulumiProperty("identityName", Description = "The name of the created identity (3-128 of A-Z a-z 0-9 - _, starting with a letter or digit). Default: the component's name made such a name.")]
    public Output<string?> IdentityName { get; init; } = Output.Create<string?>(null);

    /// <summary>The location of a created identity.</summary>
    [PulumiProperty("location", Description = "The Azure location of the created identity, such as `westeurope`. Default: as the azure-native provider decides (its `location`, or the resource group's).")]
    public Output<string?> Location { get; init; } = Output.Create<string?>(null);

    /// <summary>Tags of a created identity.</summary>
    [PulumiProperty("tags", Description = "Tags of the created identity.")]
    public InputMap<string>? Tags { get; init; }

    /// <summary>Use this existing user-assigned identity instead of creating one.</summary>
    [PulumiProperty("identityResourceId", Description = "Use this existing user-assigned identity instead of creating one: its resource id, `/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME`. With it, `clientId` and `principalId` are required.")]
    public Output<string?> IdentityResourceId { get; init; } = Output.Create<string?>(null);

    /// <summary>The existing identity's client id.</summary>
    [PulumiProperty("clientId", Description = "The existing identity's client (application) id, a GUID; only with `identityResourceId`.")]
    public Output<string?> ClientId { get; init; } = Output.Create<string?>(null);

    /// <summary>The existing identity's principal (object) id.</summary>
    [PulumiProperty("principalId", Description = "The existing identity's principal (object) id, a GUID, to which AcrPull is assigned; only with `identityResourceId`.")]
    public Output<string?> PrincipalId { get; init; } = Output.Create<string?>(null);

    /// <summary>The existing identity's tenant.</summary>
    [PulumiProperty("tenantId", Description = "The existing identity's Microsoft Entra tenant, a GUID; only with `identityResourceId` (optional: the workload identity webhook injects the cluster's tenant).")]
    public Output<string?> TenantId { get; init; } = Output.Create<string?>(null);

    /// <summary>The name of the federated identity credential.</summary>
    [PulumiProperty("federatedCredentialName", Description = "The name of the federated identity credential (3-120 of A-Z a-z 0-9 - _, starting with a letter or digit). Default: the component's name made such a name.")]
    public Output<string?> FederatedCredentialName { get; init; } = Output.Create<string?>(null);

    /// <summary>The Kubernetes namespace of the service account that the identity trusts.</summary>
    [PulumiProperty("serviceAccountNamespace", Description = "The Kubernetes namespace of the service account that the identity trusts (filled in by ClusterRegistryAccess).")]
    public Output<string?> ServiceAccountNamespace { get; init; } = Output.Create<string?>(null);

    /// <summary>The Kubernetes service account that the identity trusts.</summary>
    [PulumiProperty("serviceAccountName", Description = "The Kubernetes service account that the identity trusts (filled in by ClusterRegistryAccess).")]
    public Output<string?> ServiceAccountName { get; init; } = Output.Create<string?>(null);
}
