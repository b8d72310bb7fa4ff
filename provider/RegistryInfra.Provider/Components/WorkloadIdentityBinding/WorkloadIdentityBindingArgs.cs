namespace RegistryInfra.Provider.Components.WorkloadIdentityBinding;

/// <summary>Inputs of <c>registryinfra:gcp:WorkloadIdentityBinding</c>.</summary>
public sealed record WorkloadIdentityBindingArgs
{
    /// <summary>The Google Cloud project that holds the service account and the Artifact Registry repositories.</summary>
    public string Project { get; init; } = "";

    /// <summary>The project of the GKE cluster's workload identity pool (<c>PROJECT.svc.id.goog</c>); defaults to <see cref="Project"/>.</summary>
    public string? ClusterProject { get; init; }

    /// <summary>Create a service account with this id (6-30 characters); exclusive with <see cref="ServiceAccountEmail"/>.</summary>
    public string? AccountId { get; init; }

    /// <summary>Use this existing service account instead of creating one.</summary>
    public string? ServiceAccountEmail { get; init; }

    /// <summary>The display name of a created service account.</summary>
    public string? DisplayName { get; init; }

    /// <summary>The Kubernetes namespace of the service account bound to the Google one.</summary>
    public string? KubernetesNamespace { get; init; }

    internal string KubernetesNamespaceOrDefault => KubernetesNamespace ?? "";

    /// <summary>The Kubernetes service account bound to the Google one.</summary>
    public string? KubernetesServiceAccount { get; init; }

    internal string KubernetesServiceAccountOrDefault => KubernetesServiceAccount ?? "";

    /// <summary>Artifact Registry repositories granted <c>roles/artifactregistry.reader</c>.</summary>
    public IReadOnlyList<ArtifactRepository>? Repositories { get; init; }

    internal IReadOnlyList<ArtifactRepository> RepositoriesOrDefault => Repositories ?? [];

    /// <summary>Grant the reader role on the whole project instead of listed repositories.</summary>
    public bool? ProjectWide { get; init; }

    internal bool ProjectWideOrDefault => ProjectWide ?? false;
}

/// <summary>One Artifact Registry repository: its location (such as <c>europe-west1</c>) and its id.</summary>
public sealed record ArtifactRepository
{
    public string Location { get; init; } = "";

    public string Repository { get; init; } = "";

    /// <summary>The repository's project; defaults to the binding's project.</summary>
    public string? Project { get; init; }
}
