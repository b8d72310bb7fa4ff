using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>Inputs of <c>registryinfra:kubernetes:TokenRefresher</c>.</summary>
public sealed record TokenRefresherArgs
{
    /// <summary>The namespace the refresher runs in.</summary>
    [PulumiProperty("namespace", Description = "The namespace the refresher runs in (its ServiceAccount, ConfigMap, CronJob and Job). Default `registryinfra-system`.")]
    public string? Namespace { get; init; }

    internal string NamespaceOrDefault => Namespace ?? "registryinfra-system";

    /// <summary>Create <see cref="Namespace"/> (false when it already exists).</summary>
    [PulumiProperty("createNamespace", Description = "Create `namespace` as a child resource. Set false when the namespace already exists. Default true.")]
    public bool? CreateNamespace { get; init; }

    internal bool CreateNamespaceOrDefault => CreateNamespace ?? true;

    /// <summary>The refresher image, pinned by digest (<c>REPOSITORY@sha256:HEX</c>). Required unless this build carries a released digest (<see cref="RefresherRelease.Image"/>).</summary>
    [PulumiProperty("image", Description = "The refresher image pinned by digest (`REPOSITORY@sha256:HEX`; resolve a tag with `getImage`). Required unless this build of the provider carries a released refresher image.")]
    public string? Image { get; init; }

    /// <summary>The refresher's Kubernetes service account.</summary>
    [PulumiProperty("serviceAccountName", Description = "The refresher's own Kubernetes service account (at most 40 characters). Default `registryinfra-refresher`.")]
    public string? ServiceAccountName { get; init; }

    internal string ServiceAccountNameOrDefault => ServiceAccountName ?? "registryinfra-refresher";

    /// <summary>Annotations of the service account: the cloud identity (<c>eks.amazonaws.com/role-arn</c>, <c>iam.gke.io/gcp-service-account</c>, <c>azure.workload.identity/client-id</c>).</summary>
    [PulumiProperty("serviceAccountAnnotations", Description = "Annotations of the refresher's service account that give it a cloud identity: `eks.amazonaws.com/role-arn` (IRSA), `iam.gke.io/gcp-service-account` (GKE Workload Identity), `azure.workload.identity/client-id`.")]
    public IReadOnlyDictionary<string, string>? ServiceAccountAnnotations { get; init; }

    /// <summary>Labels of the refresher's pods (such as <c>azure.workload.identity/use: "true"</c>).</summary>
    [PulumiProperty("podLabels", Description = "Extra labels of the refresher's pods, such as `azure.workload.identity/use: \"true\"` (added automatically when an ACR registry has a `clientId`).")]
    public IReadOnlyDictionary<string, string>? PodLabels { get; init; }

    /// <summary>The token-based registries it renews.</summary>
    [PulumiProperty("registries", Description = "The token-based registries whose tokens the refresher obtains with its pod identity and renews. May be empty when every target is `attachOnly`.")]
    public IReadOnlyList<RefresherRegistry>? Registries { get; init; }

    internal IReadOnlyList<RefresherRegistry> RegistriesOrDefault => Registries ?? [];

    /// <summary>The secrets it keeps fresh, and where.</summary>
    [PulumiProperty("targets", Description = "The pull secrets the refresher keeps fresh (or, with `attachOnly`, only attaches to service accounts), and in which namespaces.")]
    public IReadOnlyList<RefresherTarget> Targets { get; init; } = [];

    /// <summary>The CronJob schedule.</summary>
    [PulumiProperty("schedule", Description = "The CronJob schedule (five cron fields or a macro such as `@hourly`). Default `0 */6 * * *`, every 6 hours; run more often than tokens expire (Artifact Registry: 1 hour).")]
    public string? Schedule { get; init; }

    internal string ScheduleOrDefault => Schedule ?? "0 */6 * * *";

    [PulumiProperty("startingDeadlineSeconds", Description = "Seconds after a missed schedule within which the CronJob may still start it. Default 300.")]
    public long? StartingDeadlineSeconds { get; init; }

    internal long StartingDeadlineSecondsOrDefault => StartingDeadlineSeconds ?? 300;

    [PulumiProperty("backoffLimit", Description = "Retries of a failed run (the Job's `backoffLimit`); the refresher exits non-zero when a target failed. Default 3.")]
    public int? BackoffLimit { get; init; }

    internal int BackoffLimitOrDefault => BackoffLimit ?? 3;

    [PulumiProperty("successfulJobsHistoryLimit", Description = "Finished successful Jobs the CronJob keeps. Default 3.")]
    public int? SuccessfulJobsHistoryLimit { get; init; }

    internal int SuccessfulJobsHistoryLimitOrDefault => SuccessfulJobsHistoryLimit ?? 3;

    [PulumiProperty("failedJobsHistoryLimit", Description = "Failed Jobs the CronJob keeps, for `kubectl logs`. Default 3.")]
    public int? FailedJobsHistoryLimit { get; init; }

    internal int FailedJobsHistoryLimitOrDefault => FailedJobsHistoryLimit ?? 3;

    [PulumiProperty("activeDeadlineSeconds", Description = "Seconds a run may take before Kubernetes stops it (the Job's `activeDeadlineSeconds`). Default 600.")]
    public long? ActiveDeadlineSeconds { get; init; }

    internal long ActiveDeadlineSecondsOrDefault => ActiveDeadlineSeconds ?? 600;

    [PulumiProperty("cpuRequest", Description = "The container's CPU request (a Kubernetes quantity). Default `50m`.")]
    public string? CpuRequest { get; init; }

    internal string CpuRequestOrDefault => CpuRequest ?? "50m";

    [PulumiProperty("memoryRequest", Description = "The container's memory request (a Kubernetes quantity). Default `64Mi`.")]
    public string? MemoryRequest { get; init; }

    internal string MemoryRequestOrDefault => MemoryRequest ?? "64Mi";

    [PulumiProperty("memoryLimit", Description = "The container's memory limit (a Kubernetes quantity). Default `128Mi`.")]
    public string? MemoryLimit { get; init; }

    internal string MemoryLimitOrDefault => MemoryLimit ?? "128Mi";

    /// <summary>Run a Job at once on deploy (and whenever the configuration changes) so the secrets hold a token before workloads pull.</summary>
    [PulumiProperty("runOnDeploy", Description = "Also run a Job at once on deploy, and again whenever the configuration or image changes (the Job is named after their hash), so the secrets hold a token before workloads pull. Default true.")]
    public bool? RunOnDeploy { get; init; }

    internal bool RunOnDeployOrDefault => RunOnDeploy ?? true;
}

/// <summary>One token-based registry and its credential source, as the refresher's configuration names them.</summary>
[PulumiType("registryinfra:index:RefresherRegistry", Description = "A token-based registry the refresher renews, and how it obtains the token with its pod's cloud identity.")]
public sealed record RefresherRegistry
{
    [PulumiProperty("name", Description = "The name that targets' `registries` use. Default: the server.")]
    public string? Name { get; init; }

    [PulumiProperty("server", Description = "The registry host as it goes into `.dockerconfigjson`, such as `123456789012.dkr.ecr.eu-west-1.amazonaws.com`.")]
    public string Server { get; init; } = "";

    /// <summary><c>ecr</c>, <c>gcp</c> or <c>acr</c>.</summary>
    [PulumiProperty("type", Description = "The credential source: `ecr` (AWS IRSA or EKS Pod Identity), `gcp` (GKE Workload Identity, Artifact Registry and GCR) or `acr` (Azure workload identity).")]
    public string Type { get; init; } = "";

    [PulumiProperty("region", Description = "ecr: the registry's AWS region. Required for `ecr`.")]
    public string? Region { get; init; }

    [PulumiProperty("accountId", Description = "ecr: the registry's 12-digit AWS account. Required for `ecr`.")]
    public string? AccountId { get; init; }

    [PulumiProperty("endpoint", Description = "ecr: an ECR API endpoint override, such as a VPC endpoint URL.")]
    public string? Endpoint { get; init; }

    [PulumiProperty("tenantId", Description = "acr: the Microsoft Entra tenant named in the ACR token exchange.")]
    public string? TenantId { get; init; }

    /// <summary>acr: the client id of the Azure managed identity the refresher runs as; it becomes the service account's <c>azure.workload.identity/client-id</c> annotation (one per refresher).</summary>
    [PulumiProperty("clientId", Description = "acr: the client id of the managed identity the refresher runs as; it becomes the service account's `azure.workload.identity/client-id` annotation. All ACR registries of one refresher share it.")]
    public string? ClientId { get; init; }
}

/// <summary>One pull secret name the refresher keeps fresh, in listed namespaces, by selector, or everywhere.</summary>
[PulumiType("registryinfra:index:RefresherTarget", Description = "A pull secret (by name) the refresher keeps fresh or only attaches, and where: listed namespaces, a namespace label selector, or all namespaces (exactly one).")]
public sealed record RefresherTarget
{
    [PulumiProperty("secretName", Description = "The Secret's name in each namespace.")]
    public string SecretName { get; init; } = "";

    [PulumiProperty("registries", Description = "The names of the registries whose entries go into this secret. Default: all the refresher's registries. Not allowed with `attachOnly`.")]
    public IReadOnlyList<string>? Registries { get; init; }

    internal IReadOnlyList<string> RegistriesOrDefault => Registries ?? [];

    [PulumiProperty("namespaces", Description = "The namespaces, listed. RBAC is then a Role per namespace, limited to the named secrets and service accounts.")]
    public IReadOnlyList<string>? Namespaces { get; init; }

    internal IReadOnlyList<string> NamespacesOrDefault => Namespaces ?? [];

    [PulumiProperty("namespaceSelector", Description = "A label selector over namespaces, such as `team=payments,env!=dev`, resolved at each run (needs a ClusterRole that can list namespaces).")]
    public string? NamespaceSelector { get; init; }

    [PulumiProperty("allNamespaces", Description = "Every namespace of the cluster, resolved at each run (needs a ClusterRole that can list namespaces). Default false.")]
    public bool? AllNamespaces { get; init; }

    internal bool AllNamespacesOrDefault => AllNamespaces ?? false;

    [PulumiProperty("serviceAccounts", Description = "Service accounts in each namespace to which the refresher adds the secret in `imagePullSecrets`; existing entries are kept, nothing is ever removed. Required with `attachOnly`.")]
    public IReadOnlyList<string>? ServiceAccounts { get; init; }

    internal IReadOnlyList<string> ServiceAccountsOrDefault => ServiceAccounts ?? [];

    /// <summary>The secret's data is owned elsewhere (Pulumi, for static credentials): the refresher only attaches it to <see cref="ServiceAccounts"/>.</summary>
    [PulumiProperty("attachOnly", Description = "The secret's data is owned elsewhere (such as the static-credentials secret of a PullSecret): the refresher only adds it to `serviceAccounts` in the namespaces where it exists, and never reads its data, creates or writes it. RBAC then grants `get` on the secret by name and no secret write. Default false.")]
    public bool? AttachOnly { get; init; }

    internal bool AttachOnlyOrDefault => AttachOnly ?? false;
}
