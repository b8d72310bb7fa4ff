using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Provider.Components.AcrPullAccess;
using RegistryInfra.Provider.Components.EcrPullAccess;
using RegistryInfra.Provider.Components.Kubernetes;
using RegistryInfra.Provider.Components.WorkloadIdentityBinding;

namespace RegistryInfra.Provider.Components.ClusterRegistryAccess;

using PullSecret = RegistryInfra.Provider.Components.PullSecret;
using TokenRefresher = RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>Inputs of <c>registryinfra:index:ClusterRegistryAccess</c>: one cluster's whole registry access.</summary>
[PulumiModel]
public sealed partial record ClusterRegistryAccessArgs
{
    /// <summary>The registries, typically RegistryProfile outputs.</summary>
    [PulumiProperty("profiles", Description = "The cluster's registries, typically from RegistryProfile outputs (`server`, `kind`, `authEntry`). Static credentials go into the secret `secretName`, token-based registries (ECR, Artifact Registry/GCR, ACR) into `secretName`-tokens, renewed by the refresher.")]
    public InputList<ClusterRegistryProfile> Profiles { get; init; } = [];

    /// <summary>The namespaces that get the pull secrets.</summary>
    [PulumiProperty("namespaces", Description = "The namespaces that each get the pull secrets, listed: Pulumi writes the static Secret and the token Secret's owner ConfigMap in each, and a `PullSecretAttachment` per namespace attaches them. Exactly one of `namespaces`, `namespaceSelector` and `allNamespaces`.")]
    public InputList<string>? Namespaces { get; init; }

    /// <summary>The namespaces chosen by label, now and later.</summary>
    [PulumiProperty("namespaceSelector", Description = "The namespaces whose labels this selector selects, now and later: the refresher (deployed whatever the profiles) writes the pull secrets into every selected namespace, the static ones copied from one Pulumi-owned source Secret in its own namespace, and attaches them to the service accounts; one cluster-wide `PullSecretAttachment` attaches them in the namespaces selected at deploy time with the deployer's access and removes its names on destroy, when garbage collection removes every copy (their ownerReference names the refresher's ClusterRole). A namespace created later is served at the next CronJob run, or within seconds with `refresher.mode: watch`.")]
    public Output<LabelSelectorArgs?> NamespaceSelector { get; init; } = Output.Create<LabelSelectorArgs?>(null);

    /// <summary>Every namespace, now and later.</summary>
    [PulumiProperty("allNamespaces", Description = "Every namespace of the cluster, now and later (less `excludeNamespaces`), served as with `namespaceSelector`. Default false.", Default = false)]
    public Output<bool?> AllNamespaces { get; init; } = Output.Create<bool?>(null);

    /// <summary>Names or globs left out of the selection.</summary>
    [PulumiProperty("excludeNamespaces", Description = "With `namespaceSelector` or `allNamespaces`: namespaces never served, by name or glob (`*` any run of characters, `?` one), such as `kube-*`. A namespace that becomes excluded loses our Secrets and names; theirs stay.")]
    public InputList<string>? ExcludeNamespaces { get; init; }

    /// <summary>Service accounts, by name, that name the pull secrets in every namespace (a PullSecretAttachment per namespace).</summary>
    [PulumiProperty("serviceAccounts", Description = "Service accounts, by name, that are made to name the pull secrets (static and token) in `imagePullSecrets` in every namespace, by a `PullSecretAttachment` per listed namespace (one cluster-wide with a selector, and the refresher for namespaces and accounts that appear later): it keeps every name an account already has, records the names it adds, and removes exactly those when a namespace, an account or the component leaves the program or the stack is destroyed. Default `[\"default\"]` unless `allServiceAccounts` or `serviceAccountSelector` is given; an empty list attaches nothing. An account that does not exist yet is skipped and reported (the attachment's `missingServiceAccounts`; with a selector, an Event of the refresher), and attached when it appears (the next update, or the refresher's next run or watch event).")]
    public InputList<string>? ServiceAccounts { get; init; }

    /// <summary>Every service account of each namespace.</summary>
    [PulumiProperty("allServiceAccounts", Description = "Attach the pull secrets to every service account of each namespace (not with `serviceAccounts` or `serviceAccountSelector`). Default false.", Default = false)]
    public Output<bool?> AllServiceAccounts { get; init; } = Output.Create<bool?>(null);

    /// <summary>The service accounts a label selector selects in each namespace.</summary>
    [PulumiProperty("serviceAccountSelector", Description = "Attach the pull secrets to the service accounts of each namespace that this label selector selects (not with `serviceAccounts` or `allServiceAccounts`).")]
    public Output<LabelSelectorArgs?> ServiceAccountSelector { get; init; } = Output.Create<LabelSelectorArgs?>(null);


    /// <summary>Attach the pull secrets to <see cref="ServiceAccounts"/>; false when workloads name them through the <c>imagePullSecrets</c> output.</summary>
    [PulumiProperty("attachServiceAccounts", Description = "Make `serviceAccounts` name the pull secrets. Set false when workloads name the secrets themselves through the `imagePullSecrets` output: then no service account is touched and no cluster access beyond the kubernetes provider's is needed. Default true.", Default = true)]
    public Output<bool?> AttachServiceAccounts { get; init; } = Output.Create<bool?>(null);

    /// <summary>The cluster the attachments reach (the kubernetes provider's cluster).</summary>
    [PulumiProperty("kubeconfig", Description = "The cluster the service-account attachments patch, the same one the kubernetes provider of this component deploys to: the content of a kubeconfig (YAML or JSON, such as a cluster resource's `kubeconfig` output) or its path. Default: as kubectl and pulumi-kubernetes choose (the files of `KUBECONFIG`, else `~/.kube/config`, else in-cluster). Secret; kept in each attachment's state so that removal reaches the same cluster.")]
    [Secret]
    public Output<string?> Kubeconfig { get; init; } = Output.Create<string?>(null);

    /// <summary>The kubeconfig context for the attachments.</summary>
    [PulumiProperty("kubeContext", Description = "The kubeconfig context the service-account attachments use. Default: its `current-context`.")]
    public Output<string?> KubeContext { get; init; } = Output.Create<string?>(null);


    /// <summary>The static secret's name; the refresher-owned one adds <c>-tokens</c>.</summary>
    [PulumiProperty("secretName", Description = "The name of the static-credentials Secret in each namespace; the token Secret is this plus `-tokens`. Default: the component's name and 6 hex digits of a hash of its URN (such as `access-3f9a1c`), which differ between components and between stacks, so two of them in one cluster never share a Secret; a name given twice in one stack for one cluster is refused, naming the other component.")]
    public Output<string?> SecretName { get; init; } = Output.Create<string?>(null);


    /// <summary>The refresher, deployed when a token-based registry is listed or namespaces are selected.</summary>
    [PulumiProperty("refresher", Description = "How the refresher runs. It is deployed when a token-based registry is listed, and with `namespaceSelector` or `allNamespaces` whatever the profiles (it copies the static credentials into the selected namespaces); its `image` is then required.")]
    public Output<ClusterRefresherSettings?> Refresher { get; init; } = Output.Create<ClusterRefresherSettings?>(null);


    /// <summary>The AWS identity of the refresher (for ECR); its service account fields are filled in.</summary>
    [PulumiProperty("aws", Description = "The refresher's AWS identity for ECR (an EcrPullAccess: IRSA or EKS Pod Identity); its service-account namespace and name are filled in from `refresher`. Only with an ECR profile.")]
    public Output<EcrPullAccessArgs?> Aws { get; init; } = Output.Create<EcrPullAccessArgs?>(null);

    /// <summary>The GCP identity of the refresher (for Artifact Registry); its Kubernetes fields are filled in.</summary>
    [PulumiProperty("gcp", Description = "The refresher's Google identity for Artifact Registry or GCR (a WorkloadIdentityBinding); its Kubernetes namespace and service account are filled in from `refresher`. Only with such a profile.")]
    public Output<WorkloadIdentityBindingArgs?> Gcp { get; init; } = Output.Create<WorkloadIdentityBindingArgs?>(null);

    /// <summary>The Azure identity of the refresher (for ACR); its service account fields are filled in.</summary>
    [PulumiProperty("azure", Description = "The refresher's Azure identity for ACR (an AcrPullAccess: a managed identity with a federated credential for the refresher's service account and AcrPull on the registries); its service-account namespace and name are filled in from `refresher`, and its client id and tenant become the ACR profiles' `clientId` and `tenantId` (the service account's `azure.workload.identity/client-id` annotation and the pods' `azure.workload.identity/use` label). Only with an ACR profile.")]
    public Output<AcrPullAccessArgs?> Azure { get; init; } = Output.Create<AcrPullAccessArgs?>(null);
}

/// <summary>One registry of the cluster.</summary>
[PulumiType("registryinfra:index:ClusterRegistryProfile", Description = "One registry of a cluster: its server and either static credentials (`authEntry`, or `username` and `password`) or, for a token-based registry, nothing more (the refresher obtains tokens).")]
public sealed partial record ClusterRegistryProfile
{
    [PulumiProperty("server", Description = "The registry host as it goes into `.dockerconfigjson` (RegistryProfile's `server` output).")]
    public Output<string> Server { get; init; } = "";

    /// <summary>The keys to write a static credential under (RegistryProfile's <c>pullSecretKeys</c>).</summary>
    [PulumiProperty("keys", Description = "The `.dockerconfigjson` keys to write a static credential under (RegistryProfile's `pullSecretKeys`); see PullSecretRegistry's `keys`. The keys derived from `server` are always written.")]
    public InputList<string>? Keys { get; init; }

    /// <summary>Pulled without credentials (RegistryProfile's <c>anonymous</c>).</summary>
    [PulumiProperty("anonymous", Description = "The registry is pulled from without credentials (RegistryProfile's `anonymous` output): nothing is written for it, no refresher is needed for it, and it is listed in the `anonymousRegistries` output.")]
    public Output<bool?> Anonymous { get; init; } = Output.Create<bool?>(null);

    [PulumiProperty("kind", Description = "The registry kind (RegistryProfile's `kind`, such as `ecr`, `artifactRegistry`, `acr`, `generic`); detected from the server when absent. It decides whether the refresher renews the registry's token.")]
    public Output<string?> Kind { get; init; } = Output.Create<string?>(null);

    /// <summary>Secret: the dockerconfigjson auth entry (RegistryProfile's <c>authEntry</c>).</summary>
    [Secret]
    [PulumiProperty("authEntry", Description = "Secret: the registry's `auths` entry as JSON (RegistryProfile's `authEntry`). For a token-based registry, the first token, used until the refresher's first run.")]
    public Output<string?> AuthEntry { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("tokenBased", Description = "Whether this registry's credential is a short-lived token the refresher renews (RegistryProfile's `tokenBased` output) rather than a static credential Pulumi writes; see PullSecretRegistry's `tokenBased` for the default.")]
    public Output<bool?> TokenBased { get; init; } = Output.Create<bool?>(null);

    [PulumiProperty("username", Description = "Static credentials: the user name (with `password`).")]
    public Output<string?> Username { get; init; } = Output.Create<string?>(null);

    /// <summary>Secret.</summary>
    [Secret]
    [PulumiProperty("password", Description = "Secret. Static credentials: the password or token (with `username`).")]
    public Output<string?> Password { get; init; } = Output.Create<string?>(null);

    /// <summary>ECR: region and account; parsed from the server when absent.</summary>
    [PulumiProperty("region", Description = "ECR: the registry's region. Default: from the server's host name.")]
    public Output<string?> Region { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("accountId", Description = "ECR: the registry's 12-digit account. Default: from the server's host name.")]
    public Output<string?> AccountId { get; init; } = Output.Create<string?>(null);

    /// <summary>ACR: the workload identity's tenant and client.</summary>
    [PulumiProperty("tenantId", Description = "ACR: the Microsoft Entra tenant of the token exchange.")]
    public Output<string?> TenantId { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("clientId", Description = "ACR: the client id of the managed identity the refresher runs as (Azure workload identity).")]
    public Output<string?> ClientId { get; init; } = Output.Create<string?>(null);
}

/// <summary>How the cluster's refresher runs.</summary>
[PulumiType("registryinfra:index:ClusterRefresherSettings", Description = "How a cluster's refresher runs (see TokenRefresher for the details and defaults).")]
public sealed partial record ClusterRefresherSettings
{
    [PulumiProperty("image", Description = "The refresher image pinned by digest (`REPOSITORY@sha256:HEX`). Required whenever the refresher is deployed, unless this build of the provider carries a released image.")]
    public Output<string?> Image { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("namespace", Description = "The refresher's namespace, created unless `createNamespace` is false. Default: the refresher component's name and a hash of its URN (such as `access-refresher-8c41d2`), one namespace per ClusterRegistryAccess, so that two of them (or two stacks) in one cluster never share the refresher's objects and removing one deletes only its own.")]
    public Output<string?> Namespace { get; init; } = Output.Create<string?>(null);


    [PulumiProperty("createNamespace", Description = "Create the refresher's namespace. Default true.", Default = true)]
    public Output<bool?> CreateNamespace { get; init; } = Output.Create<bool?>(null);


    [PulumiProperty("serviceAccountName", Description = "The refresher's own service account, which the cloud identity trusts. Default `registryinfra-refresher`.", Default = TokenRefresher.TokenRefresherComponent.DefaultServiceAccountName)]
    public Output<string?> ServiceAccountName { get; init; } = Output.Create<string?>(null);


    [PulumiProperty("schedule", Description = "The CronJob schedule. Default: every third of the shortest token lifetime of the token-based profiles (Artifact Registry/GCR every 20 minutes, ACR hourly, ECR every 4 hours; every 6 hours with static profiles only). Not with mode `watch`.")]
    public Output<string?> Schedule { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("mode", Description = "`cronJob` (default: a CronJob plus the run-on-deploy Job) or `watch` (a Deployment that serves a new or relabelled namespace or a new service account within seconds); see TokenRefresher's `mode`.", Default = "cronJob")]
    public Output<string?> Mode { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("replicas", Description = "Mode `watch`: 1 or 2 replicas (2 adds a PodDisruptionBudget with minAvailable 1). Default 1.", Default = 1)]
    public Output<int?> Replicas { get; init; } = Output.Create<int?>(null);


    /// <summary>Further service-account annotations (such as <c>azure.workload.identity/client-id</c>).</summary>
    [PulumiProperty("serviceAccountAnnotations", Description = "Further annotations of the refresher's service account; the `aws` and `gcp` identities add theirs.")]
    public InputMap<string>? ServiceAccountAnnotations { get; init; }

    [PulumiProperty("podLabels", Description = "Extra labels of the refresher's pods.")]
    public InputMap<string>? PodLabels { get; init; }
}
