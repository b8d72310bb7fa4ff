using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Resources.PullSecretAttachment;

/// <summary>Inputs of <c>registryinfra:kubernetes:PullSecretAttachment</c>.</summary>
[PulumiModel]
public sealed partial record PullSecretAttachmentArgs(
    [property: PulumiProperty("namespace", Description = "The namespace of the service accounts.")]
    [property: ReplaceOnChanges]
    string Namespace,
    [property: PulumiProperty("serviceAccounts", Description = "The service accounts that are to name the pull secrets in their `imagePullSecrets`. An account that does not exist yet is skipped (output `missingServiceAccounts`) and attached by the next update that finds it.")]
    IReadOnlyList<string> ServiceAccounts,
    [property: PulumiProperty("secretNames", Description = "The names of the pull Secrets to add, in this order, after the names the accounts already have.")]
    IReadOnlyList<string> SecretNames,
    [property: PulumiProperty("kubeconfig", Description = "The cluster to reach: the content of a kubeconfig (YAML or JSON, such as a cluster resource's `kubeconfig` output) or its path. Default: the files of `KUBECONFIG`, else `~/.kube/config`, else the pod's in-cluster configuration, as kubectl and pulumi-kubernetes choose. Kept (secret) in the state so that delete reaches the same cluster.")]
    [property: Secret]
    string? Kubeconfig = null,
    [property: PulumiProperty("kubeContext", Description = "The kubeconfig context to use. Default: its `current-context`.")]
    string? KubeContext = null);

/// <summary>Outputs of <c>registryinfra:kubernetes:PullSecretAttachment</c>.</summary>
[PulumiModel]
public sealed partial record PullSecretAttachmentState(
    [property: PulumiProperty("namespace", Description = "The namespace of the service accounts.")]
    string Namespace,
    [property: PulumiProperty("serviceAccounts", Description = "The service accounts asked for.")]
    IReadOnlyList<string> ServiceAccounts,
    [property: PulumiProperty("secretNames", Description = "The pull Secret names asked for.")]
    IReadOnlyList<string> SecretNames,
    [property: PulumiProperty("attached", Description = "For each service account, the pull Secret names this resource added to its `imagePullSecrets` and will remove on delete (recorded on the account in the `registryinfra.io/added-image-pull-secrets` annotation too). A name the account already had is not listed: it is someone else's and is never removed.")]
    IReadOnlyDictionary<string, IReadOnlyList<string>> Attached,
    [property: PulumiProperty("missingServiceAccounts", Description = "The listed service accounts that did not exist when this resource was last applied.")]
    IReadOnlyList<string> MissingServiceAccounts,
    [property: PulumiProperty("kubeconfig", Description = "The kubeconfig given (secret), kept so that delete reaches the same cluster.")]
    [property: Secret]
    string? Kubeconfig = null,
    [property: PulumiProperty("kubeContext", Description = "The kubeconfig context given.")]
    string? KubeContext = null);
