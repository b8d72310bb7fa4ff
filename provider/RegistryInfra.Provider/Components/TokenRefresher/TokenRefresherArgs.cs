using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>Inputs of <c>registryinfra:kubernetes:TokenRefresher</c>.</summary>
[PulumiModel]
public sealed partial record TokenRefresherArgs
{
    /// <summary>The namespace the refresher runs in.</summary>
    [PulumiProperty("namespace", Description = "The namespace the refresher runs in (its ServiceAccount, ConfigMap, CronJob and Job). Default: the component's name and 6 hex digits of a hash of its URN (such as `refresher-8c41d2`), so two refreshers (or two stacks) in one cluster never share one; a namespace and service account given twice in one stack for one cluster are refused, naming the other component.")]
    public Output<string?> Namespace { get; init; } = Output.Create<string?>(null);


    /// <summary>Create <see cref="Namespace"/> (false when it already exists).</summary>
    [PulumiProperty("createNamespace", Description = "Create `namespace` as a child resource. Set false when the namespace already exists. Default true.", Default = true)]
    public Output<bool?> CreateNamespace { get; init; } = Output.Create<bool?>(null);


    /// <summary>The refresher image, pinned by digest (<c>REPOSITORY@sha256:HEX</c>). Required unless this build carries a released digest (<see cref="RefresherRelease.Image"/>).</summary>
    [PulumiProperty("image", Description = "The refresher image pinned by digest (`REPOSITORY@sha256:HEX`; resolve a tag with `getImage`). Required unless this build of the provider carries a released refresher image.")]
    public Output<string?> Image { get; init; } = Output.Create<string?>(null);

    /// <summary>The refresher's Kubernetes service account.</summary>
    [PulumiProperty("serviceAccountName", Description = "The refresher's own Kubernetes service account (at most 40 characters). Default `registryinfra-refresher`.", Default = TokenRefresherComponent.DefaultServiceAccountName)]
    public Output<string?> ServiceAccountName { get; init; } = Output.Create<string?>(null);


    /// <summary>Annotations of the service account: the cloud identity (<c>eks.amazonaws.com/role-arn</c>, <c>iam.gke.io/gcp-service-account</c>, <c>azure.workload.identity/client-id</c>).</summary>
    [PulumiProperty("serviceAccountAnnotations", Description = "Annotations of the refresher's service account that give it a cloud identity: `eks.amazonaws.com/role-arn` (IRSA), `iam.gke.io/gcp-service-account` (GKE Workload Identity), `azure.workload.identity/client-id`.")]
    public InputMap<string>? ServiceAccountAnnotations { get; init; }

    /// <summary>Labels of the refresher's pods (such as <c>azure.workload.identity/use: "true"</c>).</summary>
    [PulumiProperty("podLabels", Description = "Extra labels of the refresher's pods, such as `azure.workload.identity/use: \"true\"` (added automatically when an ACR registry has a `clientId`).")]
    public InputMap<string>? PodLabels { get; init; }

    /// <summary>The token-based registries it renews.</summary>
    [PulumiProperty("registries", Description = "The token-based registries whose tokens the refresher obtains with its pod identity and renews. May be empty when every target is `attachOnly`.")]
    public InputList<RefresherRegistry>? Registries { get; init; }


    /// <summary>The secrets it keeps fresh, and where.</summary>
    [PulumiProperty("targets", Description = "The pull secrets the refresher keeps fresh (or, with `attachOnly`, only attaches to service accounts), and in which namespaces.")]
    public InputList<RefresherTarget> Targets { get; init; } = [];

    /// <summary>The CronJob schedule.</summary>
    [PulumiProperty("schedule", Description = "The CronJob schedule (five cron fields or a macro such as `@hourly`). Default: every third of the shortest token lifetime of `registries` (Artifact Registry/GCR `*/20 * * * *`, ACR `0 * * * *`, ECR `0 */4 * * *`), so each token is renewed twice before it expires; `0 */6 * * *` when every target is `attachOnly`.")]
    public Output<string?> Schedule { get; init; } = Output.Create<string?>(null);


    [PulumiProperty("startingDeadlineSeconds", Description = "Seconds after a missed schedule within which the CronJob may still start it. Default 300.", Default = 300)]
    public Output<long?> StartingDeadlineSeconds { get; init; } = Output.Create<long?>(null);


    [PulumiProperty("backoffLimit", Description = "Retries of a failed run (the Job's `backoffLimit`); the refresher exits non-zero when a target failed. Default 3.", Default = 3)]
    public Output<int?> BackoffLimit { get; init; } = Output.Create<int?>(null);


    [PulumiProperty("successfulJobsHistoryLimit", Description = "Finished successful Jobs the CronJob keeps. Default 3.", Default = 3)]
    public Output<int?> SuccessfulJobsHistoryLimit { get; init; } = Output.Create<int?>(null);


    [PulumiProperty("failedJobsHistoryLimit", Description = "Failed Jobs the CronJob keeps, for `kubectl logs`. Default 3.", Default = 3)]
    public Output<int?> FailedJobsHistoryLimit { get; init; } = Output.Create<int?>(null);


    [PulumiProperty("activeDeadlineSeconds", Description = "Seconds a run may take before Kubernetes stops it (the Job's `activeDeadlineSeconds`). Default 600.", Default = 600)]
    public Output<long?> ActiveDeadlineSeconds { get; init; } = Output.Create<long?>(null);


    [PulumiProperty("cpuRequest", Description = "The container's CPU request (a Kubernetes quantity). Default `50m`.", Default = "50m")]
    public Output<string?> CpuRequest { get; init; } = Output.Create<string?>(null);


    [PulumiProperty("memoryRequest", Description = "The container's memory request (a Kubernetes quantity). Default `64Mi`.", Default = "64Mi")]
    public Output<string?> MemoryRequest { get; init; } = Output.Create<string?>(null);


    [PulumiProperty("memoryLimit", Description = "The container's memory limit (a Kubernetes quantity). Default `128Mi`.", Default = "128Mi")]
    public Output<string?> MemoryLimit { get; init; } = Output.Create<string?>(null);


    /// <summary>How the refresher runs: <c>cronJob</c> (default) or <c>watch</c>.</summary>
    [PulumiProperty("mode", Description = "How the refresher runs: `cronJob` (default: a CronJob on `schedule` plus the run-on-deploy Job; a namespace created later is served at the next run) or `watch` (a Deployment that watches namespaces and service accounts and serves a new or relabelled namespace or a new service account within seconds, with Lease-based leader election; tokens are still renewed by their expiry). In watch mode the CronJob-only inputs (`schedule`, `startingDeadlineSeconds`, `backoffLimit`, `successfulJobsHistoryLimit`, `failedJobsHistoryLimit`, `activeDeadlineSeconds`, `runOnDeploy`) are refused.", Default = TokenRefresherComponent.CronJobMode)]
    public Output<string?> Mode { get; init; } = Output.Create<string?>(null);

    /// <summary>Watch mode: 1 or 2 replicas.</summary>
    [PulumiProperty("replicas", Description = "Watch mode: the Deployment's replicas, 1 or 2. One leader works at a time (Lease `<serviceAccountName>-leader` in `namespace`); with 2 the standby takes over within the lease duration (15 s) when the leader's node goes, and a PodDisruptionBudget (minAvailable 1) keeps one running through voluntary disruptions. Default 1.", Default = 1)]
    public Output<int?> Replicas { get; init; } = Output.Create<int?>(null);

    /// <summary>Run a Job at once on deploy (and whenever the configuration changes) so the secrets hold a token before workloads pull.</summary>
    [PulumiProperty("runOnDeploy", Description = "Also run a Job at once on deploy, and again whenever the configuration or image changes (the Job is named after their hash), so the secrets hold a token before workloads pull. Default true.", Default = true)]
    public Output<bool?> RunOnDeploy { get; init; } = Output.Create<bool?>(null);

}

/// <summary>One token-based registry and its credential source, as the refresher's configuration names them.</summary>
[PulumiType("registryinfra:index:RefresherRegistry", Description = "A token-based registry the refresher renews, and how it obtains the token with its pod's cloud identity.")]
public sealed partial record RefresherRegistry
{
    [PulumiProperty("name", Description = "The name that targets' `registries` use. Default: the server.")]
    public Output<string?> Name { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("server", Description = "The registry host as it goes into `.dockerconfigjson`, such as `123456789012.dkr.ecr.eu-west-1.amazonaws.com`.")]
    public Output<string> Server { get; init; } = "";

    /// <summary><c>ecr</c>, <c>gcp</c> or <c>acr</c>.</summary>
    [PulumiProperty("type", Description = "The credential source: `ecr` (AWS IRSA or EKS Pod Identity), `gcp` (GKE Workload Identity, Artifact Registry and GCR) or `acr` (Azure workload identity).")]
    public Output<string> Type { get; init; } = "";

    [PulumiProperty("region", Description = "ecr: the registry's AWS region. Required for `ecr`.")]
    public Output<string?> Region { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("accountId", Description = "ecr: the registry's 12-digit AWS account. Required for `ecr`.")]
    public Output<string?> AccountId { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("endpoint", Description = "ecr: an ECR API endpoint override, such as a VPC endpoint URL.")]
    public Output<string?> Endpoint { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("tenantId", Description = "acr: the Microsoft Entra tenant named in the ACR token exchange.")]
    public Output<string?> TenantId { get; init; } = Output.Create<string?>(null);

    /// <summary>acr: the client id of the Azure managed identity the refresher runs as; it becomes the service account's <c>azure.workload.identity/client-id</c> annotation (one per refresher).</summary>
    [PulumiProperty("clientId", Description = "acr: the client id of the managed identity the refresher runs as; it becomes the service account's `azure.workload.identity/client-id` annotation. All ACR registries of one refresher share it.")]
    public Output<string?> ClientId { get; init; } = Output.Create<string?>(null);
}

/// <summary>One pull secret name the refresher keeps fresh, in listed namespaces, by selector, or everywhere.</summary>
[PulumiType("registryinfra:index:RefresherTarget", Description = "A pull secret (by name) the refresher keeps fresh, copies from a source or only attaches, and where: listed namespaces, a namespace label selector (`namespaceSelector` or `namespaceLabelSelector`), or all namespaces (exactly one). Every Secret the refresher creates for a selector or all-namespaces target carries the label `registryinfra.io/instance` (the refresher's namespace) and an ownerReference to the refresher's ClusterRole, so destroying the refresher deletes every copy by garbage collection, in namespaces created after the deploy too.")]
public sealed partial record RefresherTarget
{
    [PulumiProperty("secretName", Description = "The Secret's name in each namespace.")]
    public Output<string> SecretName { get; init; } = "";

    [PulumiProperty("registries", Description = "The names of the registries whose entries go into this secret. Default: all the refresher's registries. Not allowed with `attachOnly`.")]
    public InputList<string>? Registries { get; init; }


    [PulumiProperty("namespaces", Description = "The namespaces, listed. RBAC is then a Role per namespace, limited to the named secrets and service accounts.")]
    public InputList<string>? Namespaces { get; init; }


    [PulumiProperty("namespaceSelector", Description = "A label selector over namespaces as a string, such as `team=payments,env!=dev` or `tier in (web,api),!legacy` (the grammar of kubectl's `-l`), resolved at each run (needs a ClusterRole that can list namespaces). Not with `namespaceLabelSelector`.")]
    public Output<string?> NamespaceSelector { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("namespaceLabelSelector", Description = "A label selector over namespaces (matchLabels and matchExpressions, as Kubernetes' LabelSelector), resolved at each run and, in watch mode, within seconds of a namespace being created or relabelled. Not with `namespaceSelector`.")]
    public Output<LabelSelectorArgs?> NamespaceLabelSelector { get; init; } = Output.Create<LabelSelectorArgs?>(null);

    [PulumiProperty("excludeNamespaces", Description = "Namespaces never served, by name or glob (`*` any run of characters, `?` one character), such as `kube-*`; only with a namespace selector or `allNamespaces`. An excluded namespace is treated exactly as one not selected: our Secret there is removed, theirs is kept.")]
    public InputList<string>? ExcludeNamespaces { get; init; }

    [PulumiProperty("allNamespaces", Description = "Every namespace of the cluster, resolved at each run (needs a ClusterRole that can list namespaces). Default false.", Default = false)]
    public Output<bool?> AllNamespaces { get; init; } = Output.Create<bool?>(null);


    [PulumiProperty("serviceAccounts", Description = "Service accounts in each namespace to which the refresher adds the secret in `imagePullSecrets`, recording the names it added in the account's `registryinfra.io/added-image-pull-secrets` annotation and in its ledger; a later run removes exactly those names once they are no longer configured. Entries it did not add are never touched. Required with `attachOnly`.")]
    public InputList<string>? ServiceAccounts { get; init; }


    [PulumiProperty("allServiceAccounts", Description = "Attach the secret to every service account of each selected namespace (not with `serviceAccounts` or `serviceAccountSelector`). Default false.", Default = false)]
    public Output<bool?> AllServiceAccounts { get; init; } = Output.Create<bool?>(null);

    [PulumiProperty("serviceAccountSelector", Description = "Attach the secret to the service accounts of each selected namespace that this label selector selects (not with `serviceAccounts` or `allServiceAccounts`).")]
    public Output<LabelSelectorArgs?> ServiceAccountSelector { get; init; } = Output.Create<LabelSelectorArgs?>(null);

    [PulumiProperty("source", Description = "A copy target: the refresher writes the data of this `kubernetes.io/dockerconfigjson` Secret (owned by Pulumi, in the refresher's own namespace) into `secretName` in every selected namespace, rewriting a copy only when the source changed. Not with `registries` or `attachOnly`. RBAC then grants `get` on the source by name.")]
    public Output<RefresherSecretSource?> Source { get; init; } = Output.Create<RefresherSecretSource?>(null);

    /// <summary>The ConfigMap in each namespace that owns the secret (PullSecret's token-secret owner, of the same name as its <c>tokenSecretName</c>).</summary>
    [PulumiProperty("owner", Description = "The ConfigMap, in each namespace, that owns the secret: PullSecret creates one named like its `tokenSecretName`. The refresher then creates the Secret with an ownerReference to it (so deleting the ConfigMap deletes the Secret), writes only a Secret that carries that reference (another owner's Secret of the same name is refused, that owner named), and skips namespaces where it does not exist. Not with `attachOnly`.")]
    public Output<string?> Owner { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("attachOnly", Description = "The secret's data is owned elsewhere (such as the static-credentials secret of a PullSecret): the refresher only adds it to `serviceAccounts` in the namespaces where it exists, and never reads its data, creates or writes it. RBAC then grants `get` on the secret by name and no secret write. Default false.", Default = false)]
    public Output<bool?> AttachOnly { get; init; } = Output.Create<bool?>(null);

}

/// <summary>The Secret a copy target copies.</summary>
[PulumiType("registryinfra:index:RefresherSecretSource", Description = "The `kubernetes.io/dockerconfigjson` Secret a copy target copies into every selected namespace.")]
public sealed partial record RefresherSecretSource
{
    [PulumiProperty("namespace", Description = "The source Secret's namespace: the refresher's own.")]
    public Output<string> Namespace { get; init; } = "";

    [PulumiProperty("name", Description = "The source Secret's name.")]
    public Output<string> Name { get; init; } = "";

    [PulumiProperty("version", Description = "The source Secret's version: its `metadata.resourceVersion`, as PullSecret's `sourceSecretVersion` gives it. In mode `cronJob` a changed version names a new run-on-deploy Job, so a changed source reaches the copies at `pulumi up` rather than at the next scheduled run. It is not part of the refresher's configuration (mode `watch` watches the source itself, and a changed source does not roll the Deployment).")]
    public Output<string?> Version { get; init; } = Output.Create<string?>(null);
}
