namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>Inputs of <c>registryinfra:kubernetes:TokenRefresher</c>.</summary>
public sealed record TokenRefresherArgs
{
    /// <summary>The namespace the refresher runs in.</summary>
    public string? Namespace { get; init; }

    internal string NamespaceOrDefault => Namespace ?? "registryinfra-system";

    /// <summary>Create <see cref="Namespace"/> (false when it already exists).</summary>
    public bool? CreateNamespace { get; init; }

    internal bool CreateNamespaceOrDefault => CreateNamespace ?? true;

    /// <summary>The refresher image, pinned by digest (<c>REPOSITORY@sha256:HEX</c>). Required unless this build carries a released digest (<see cref="RefresherRelease.Image"/>).</summary>
    public string? Image { get; init; }

    /// <summary>The refresher's Kubernetes service account.</summary>
    public string? ServiceAccountName { get; init; }

    internal string ServiceAccountNameOrDefault => ServiceAccountName ?? "registryinfra-refresher";

    /// <summary>Annotations of the service account: the cloud identity (<c>eks.amazonaws.com/role-arn</c>, <c>iam.gke.io/gcp-service-account</c>, <c>azure.workload.identity/client-id</c>).</summary>
    public IReadOnlyDictionary<string, string>? ServiceAccountAnnotations { get; init; }

    /// <summary>Labels of the refresher's pods (such as <c>azure.workload.identity/use: "true"</c>).</summary>
    public IReadOnlyDictionary<string, string>? PodLabels { get; init; }

    /// <summary>The token-based registries it renews.</summary>
    public IReadOnlyList<RefresherRegistry> Registries { get; init; } = [];

    /// <summary>The secrets it keeps fresh, and where.</summary>
    public IReadOnlyList<RefresherTarget> Targets { get; init; } = [];

    /// <summary>The CronJob schedule.</summary>
    public string? Schedule { get; init; }

    internal string ScheduleOrDefault => Schedule ?? "0 */6 * * *";

    public long? StartingDeadlineSeconds { get; init; }

    internal long StartingDeadlineSecondsOrDefault => StartingDeadlineSeconds ?? 300;

    public int? BackoffLimit { get; init; }

    internal int BackoffLimitOrDefault => BackoffLimit ?? 3;

    public int? SuccessfulJobsHistoryLimit { get; init; }

    internal int SuccessfulJobsHistoryLimitOrDefault => SuccessfulJobsHistoryLimit ?? 3;

    public int? FailedJobsHistoryLimit { get; init; }

    internal int FailedJobsHistoryLimitOrDefault => FailedJobsHistoryLimit ?? 3;

    public long? ActiveDeadlineSeconds { get; init; }

    internal long ActiveDeadlineSecondsOrDefault => ActiveDeadlineSeconds ?? 600;

    public string? CpuRequest { get; init; }

    internal string CpuRequestOrDefault => CpuRequest ?? "50m";

    public string? MemoryRequest { get; init; }

    internal string MemoryRequestOrDefault => MemoryRequest ?? "64Mi";

    public string? MemoryLimit { get; init; }

    internal string MemoryLimitOrDefault => MemoryLimit ?? "128Mi";

    /// <summary>Run a Job at once on deploy (and whenever the configuration changes) so the secrets hold a token before workloads pull.</summary>
    public bool? RunOnDeploy { get; init; }

    internal bool RunOnDeployOrDefault => RunOnDeploy ?? true;
}

/// <summary>One token-based registry and its credential source, as the refresher's configuration names them.</summary>
public sealed record RefresherRegistry
{
    public string? Name { get; init; }

    public string Server { get; init; } = "";

    /// <summary><c>ecr</c>, <c>gcp</c> or <c>acr</c>.</summary>
    public string Type { get; init; } = "";

    public string? Region { get; init; }

    public string? AccountId { get; init; }

    public string? Endpoint { get; init; }

    public string? TenantId { get; init; }

    /// <summary>acr: the client id of the Azure managed identity the refresher runs as; it becomes the service account's <c>azure.workload.identity/client-id</c> annotation (one per refresher).</summary>
    public string? ClientId { get; init; }
}

/// <summary>One pull secret name the refresher keeps fresh, in listed namespaces, by selector, or everywhere.</summary>
public sealed record RefresherTarget
{
    public string SecretName { get; init; } = "";

    public IReadOnlyList<string>? Registries { get; init; }

    internal IReadOnlyList<string> RegistriesOrDefault => Registries ?? [];

    public IReadOnlyList<string>? Namespaces { get; init; }

    internal IReadOnlyList<string> NamespacesOrDefault => Namespaces ?? [];

    public string? NamespaceSelector { get; init; }

    public bool? AllNamespaces { get; init; }

    internal bool AllNamespacesOrDefault => AllNamespaces ?? false;

    public IReadOnlyList<string>? ServiceAccounts { get; init; }

    internal IReadOnlyList<string> ServiceAccountsOrDefault => ServiceAccounts ?? [];
}
