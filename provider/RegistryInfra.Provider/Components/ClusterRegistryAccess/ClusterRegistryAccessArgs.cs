using RegistryInfra.Provider.Components.EcrPullAccess;
using RegistryInfra.Provider.Components.WorkloadIdentityBinding;

namespace RegistryInfra.Provider.Components.ClusterRegistryAccess;

/// <summary>Inputs of <c>registryinfra:index:ClusterRegistryAccess</c>: one cluster's whole registry access.</summary>
public sealed record ClusterRegistryAccessArgs
{
    /// <summary>The registries, typically RegistryProfile outputs.</summary>
    public IReadOnlyList<ClusterRegistryProfile> Profiles { get; init; } = [];

    /// <summary>The namespaces that get the pull secrets.</summary>
    public IReadOnlyList<string> Namespaces { get; init; } = [];

    /// <summary>
    /// Service accounts, by name, to which the refresher adds the token secret in every namespace (it
    /// never removes an entry; see <c>PullSecretBuilder</c> for why Pulumi does not patch them). The static
    /// secret is not attached: workloads name it through the <c>imagePullSecrets</c> output.
    /// </summary>
    public IReadOnlyList<string>? ServiceAccounts { get; init; }

    internal IReadOnlyList<string> ServiceAccountsOrDefault => ServiceAccounts ?? ["default"];

    /// <summary>The static secret's name; the refresher-owned one adds <c>-tokens</c>.</summary>
    public string? SecretName { get; init; }

    internal string SecretNameOrDefault => SecretName ?? "registryinfra-pull";

    /// <summary>The refresher, deployed when a token-based registry is listed.</summary>
    public ClusterRefresherSettings? Refresher { get; init; }

    internal ClusterRefresherSettings RefresherOrDefault => Refresher ?? new();

    /// <summary>The AWS identity of the refresher (for ECR); its service account fields are filled in.</summary>
    public EcrPullAccessArgs? Aws { get; init; }

    /// <summary>The GCP identity of the refresher (for Artifact Registry); its Kubernetes fields are filled in.</summary>
    public WorkloadIdentityBindingArgs? Gcp { get; init; }
}

/// <summary>One registry of the cluster.</summary>
public sealed record ClusterRegistryProfile
{
    public string Server { get; init; } = "";

    public string? Kind { get; init; }

    /// <summary>Secret: the dockerconfigjson auth entry (RegistryProfile's <c>authEntry</c>).</summary>
    [RegistryInfra.Protocol.Resources.Secret]
    public string? AuthEntry { get; init; }

    public string? Username { get; init; }

    /// <summary>Secret.</summary>
    [RegistryInfra.Protocol.Resources.Secret]
    public string? Password { get; init; }

    /// <summary>ECR: region and account; parsed from the server when absent.</summary>
    public string? Region { get; init; }

    public string? AccountId { get; init; }

    /// <summary>ACR: the workload identity's tenant and client.</summary>
    public string? TenantId { get; init; }

    public string? ClientId { get; init; }
}

/// <summary>How the cluster's refresher runs.</summary>
public sealed record ClusterRefresherSettings
{
    public string? Image { get; init; }

    public string? Namespace { get; init; }

    internal string NamespaceOrDefault => Namespace ?? "registryinfra-system";

    public bool? CreateNamespace { get; init; }

    internal bool CreateNamespaceOrDefault => CreateNamespace ?? true;

    public string? ServiceAccountName { get; init; }

    internal string ServiceAccountNameOrDefault => ServiceAccountName ?? "registryinfra-refresher";

    public string? Schedule { get; init; }

    internal string ScheduleOrDefault => Schedule ?? "0 */6 * * *";

    /// <summary>Further service-account annotations (such as <c>azure.workload.identity/client-id</c>).</summary>
    public IReadOnlyDictionary<string, string>? ServiceAccountAnnotations { get; init; }

    public IReadOnlyDictionary<string, string>? PodLabels { get; init; }
}
