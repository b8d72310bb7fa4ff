using RegistryInfra.Protocol.Resources;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Resources.PullSecretAttachment;

/// <summary>Inputs of <c>registryinfra:kubernetes:PullSecretAttachment</c>.</summary>
[PulumiModel]
public sealed partial record PullSecretAttachmentArgs(
    [property: PulumiProperty("secretNames", Description = "The names of the pull Secrets to add, in this order, after the names the accounts already have.")]
    IReadOnlyList<string> SecretNames,
    [property: PulumiProperty("namespace", Description = "The one namespace of the service accounts. Exactly one of `namespace`, `namespaceSelector` and `allNamespaces`; changing it replaces the attachment.")]
    [property: ReplaceOnChanges]
    string? Namespace = null,
    [property: PulumiProperty("namespaceSelector", Description = "Cluster-wide mode: every namespace whose labels match this selector (as Kubernetes' meta/v1 LabelSelector: `matchLabels` and `matchExpressions` ANDed; an empty selector matches every namespace), evaluated by the API server when the attachment is created or updated. Namespaces being deleted (`Terminating`) are skipped. Changing it is an update: accounts in namespaces that left the selection lose the names this provider added there.")]
    LabelSelectorArgs? NamespaceSelector = null,
    [property: PulumiProperty("allNamespaces", Description = "Cluster-wide mode: every namespace (but those in `excludeNamespaces`).")]
    bool? AllNamespaces = null,
    [property: PulumiProperty("excludeNamespaces", Description = "With `namespaceSelector` or `allNamespaces`: namespaces left out, by name or by a glob with `*` (any run of characters) and `?` (one character), such as `kube-*`. An excluded namespace is treated exactly like one the selector does not match.")]
    IReadOnlyList<string>? ExcludeNamespaces = null,
    [property: PulumiProperty("serviceAccounts", Description = "The service accounts, by name, that are to name the pull secrets in their `imagePullSecrets` (in each selected namespace). An account that does not exist yet is skipped (output `missingServiceAccounts`) and attached by the next update that finds it. Default `[\"default\"]`; exactly one of `serviceAccounts`, `allServiceAccounts` and `serviceAccountSelector`.")]
    IReadOnlyList<string>? ServiceAccounts = null,
    [property: PulumiProperty("allServiceAccounts", Description = "Every service account of each selected namespace.")]
    bool? AllServiceAccounts = null,
    [property: PulumiProperty("serviceAccountSelector", Description = "The service accounts of each selected namespace whose labels match this selector (meta/v1 LabelSelector semantics).")]
    LabelSelectorArgs? ServiceAccountSelector = null,
    [property: PulumiProperty("kubeconfig", Description = "The cluster to reach: the content of a kubeconfig (YAML or JSON, such as a cluster resource's `kubeconfig` output) or its path. Default: the files of `KUBECONFIG`, else `~/.kube/config`, else the pod's in-cluster configuration, as kubectl and pulumi-kubernetes choose. Kept (secret) in the state so that delete reaches the same cluster.")]
    [property: Secret]
    string? Kubeconfig = null,
    [property: PulumiProperty("kubeContext", Description = "The kubeconfig context to use. Default: its `current-context`.")]
    string? KubeContext = null)
{
    /// <summary>Whether the attachment chooses its namespaces from the cluster (a selector or all) rather than naming one.</summary>
    public bool ClusterWide => Namespace is null;
}

/// <summary>Outputs of <c>registryinfra:kubernetes:PullSecretAttachment</c>.</summary>
[PulumiModel]
public sealed partial record PullSecretAttachmentState(
    [property: PulumiProperty("secretNames", Description = "The pull Secret names asked for.")]
    IReadOnlyList<string> SecretNames,
    [property: PulumiProperty("attached", Description = "With `namespace`: for each service account, the pull Secret names this resource added to its `imagePullSecrets` and will remove on delete (recorded on the account in the `registryinfra.io/added-image-pull-secrets` annotation too). A name the account already had is not listed: it is someone else's and is never removed. Empty in cluster-wide mode, where the annotation on each account is the only record (so that the state does not grow with the cluster).")]
    IReadOnlyDictionary<string, IReadOnlyList<string>> Attached,
    [property: PulumiProperty("missingServiceAccounts", Description = "The named service accounts that did not exist when this resource was last applied; in cluster-wide mode as `namespace/name`, sorted, at most 100 (`missingCount` counts them all).")]
    IReadOnlyList<string> MissingServiceAccounts,
    [property: PulumiProperty("namespaceCount", Description = "The namespaces selected when this resource was last applied (1 with `namespace`).")]
    int NamespaceCount = 0,
    [property: PulumiProperty("serviceAccountCount", Description = "The selected service accounts that existed when this resource was last applied or refreshed.")]
    int ServiceAccountCount = 0,
    [property: PulumiProperty("attachedCount", Description = "Of those, the accounts that named every pull Secret (whoever added the names). Cluster-wide, a refresh that finds fewer than `serviceAccountCount` (a namespace or an account created since, or a name removed by hand) makes the next diff an update, which attaches them.")]
    int AttachedCount = 0,
    [property: PulumiProperty("missingCount", Description = "How many named service accounts were missing (the length of `missingServiceAccounts` before it is cut at 100).")]
    int MissingCount = 0,
    [property: PulumiProperty("namespace", Description = "The one namespace of the service accounts, when given.")]
    string? Namespace = null,
    [property: PulumiProperty("namespaceSelector", Description = "The namespace selector given.")]
    LabelSelectorArgs? NamespaceSelector = null,
    [property: PulumiProperty("allNamespaces", Description = "Whether every namespace is selected.")]
    bool? AllNamespaces = null,
    [property: PulumiProperty("excludeNamespaces", Description = "The namespaces (names or globs) left out.")]
    IReadOnlyList<string>? ExcludeNamespaces = null,
    [property: PulumiProperty("serviceAccounts", Description = "The service accounts asked for by name.")]
    IReadOnlyList<string>? ServiceAccounts = null,
    [property: PulumiProperty("allServiceAccounts", Description = "Whether every service account of the selected namespaces is attached.")]
    bool? AllServiceAccounts = null,
    [property: PulumiProperty("serviceAccountSelector", Description = "The service account selector given.")]
    LabelSelectorArgs? ServiceAccountSelector = null,
    [property: PulumiProperty("kubeconfig", Description = "The kubeconfig given (secret), kept so that delete reaches the same cluster.")]
    [property: Secret]
    string? Kubeconfig = null,
    [property: PulumiProperty("kubeContext", Description = "The kubeconfig context given.")]
    string? KubeContext = null)
{
    /// <summary>Whether the state is of a cluster-wide attachment (no per-account record in the state).</summary>
    public bool ClusterWide => Namespace is null;
}
