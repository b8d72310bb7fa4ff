using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.WorkloadIdentityBinding;

/// <summary>Inputs of <c>registryinfra:gcp:WorkloadIdentityBinding</c>.</summary>
[PulumiType("registryinfra:index:WorkloadIdentityBindingArgs", Description = "A Google service account with Artifact Registry reader, bound to the refresher's Kubernetes service account through GKE Workload Identity; the inputs of WorkloadIdentityBinding.")]
public sealed partial record WorkloadIdentityBindingArgs
{
    /// <summary>The Google Cloud project that holds the service account and the Artifact Registry repositories.</summary>
    [PulumiProperty("project", Description = "The Google Cloud project that holds the service account (when created) and, by default, the Artifact Registry repositories.")]
    public Output<string> Project { get; init; } = "";

    /// <summary>The project of the GKE cluster's workload identity pool (<c>PROJECT.svc.id.goog</c>); defaults to <see cref="Project"/>.</summary>
    [PulumiProperty("clusterProject", Description = "The project of the GKE cluster, whose workload identity pool is `PROJECT.svc.id.goog`. Default: `project`.")]
    public Output<string?> ClusterProject { get; init; } = Output.Create<string?>(null);

    /// <summary>Create a service account with this id (6-30 characters); exclusive with <see cref="ServiceAccountEmail"/>.</summary>
    [PulumiProperty("accountId", Description = "Create a Google service account with this id (6-30 characters: a-z, 0-9, -). At most one of `accountId` and `serviceAccountEmail`; with neither, an account is created with an id derived from the component's name (`NAME`, cut to 30 characters with a hash when longer).")]
    public Output<string?> AccountId { get; init; } = Output.Create<string?>(null);

    /// <summary>Use this existing service account instead of creating one.</summary>
    [PulumiProperty("serviceAccountEmail", Description = "Use this existing Google service account instead of creating one.")]
    public Output<string?> ServiceAccountEmail { get; init; } = Output.Create<string?>(null);

    /// <summary>The display name of a created service account.</summary>
    [PulumiProperty("displayName", Description = "The display name of a created service account. Default `registryinfra NAME`.")]
    public Output<string?> DisplayName { get; init; } = Output.Create<string?>(null);

    /// <summary>The Kubernetes namespace of the service account bound to the Google one.</summary>
    [PulumiProperty("kubernetesNamespace", Description = "The namespace of the Kubernetes service account bound to the Google one (filled in by ClusterRegistryAccess).")]
    public Output<string?> KubernetesNamespace { get; init; } = Output.Create<string?>(null);


    /// <summary>The Kubernetes service account bound to the Google one.</summary>
    [PulumiProperty("kubernetesServiceAccount", Description = "The Kubernetes service account bound to the Google one (filled in by ClusterRegistryAccess).")]
    public Output<string?> KubernetesServiceAccount { get; init; } = Output.Create<string?>(null);


    /// <summary>Artifact Registry repositories granted <c>roles/artifactregistry.reader</c>.</summary>
    [PulumiProperty("repositories", Description = "Artifact Registry repositories on which the account gets `roles/artifactregistry.reader`.")]
    public InputList<ArtifactRepository>? Repositories { get; init; }


    /// <summary>Grant the reader role on the whole project instead of listed repositories.</summary>
    [PulumiProperty("projectWide", Description = "Grant the reader role on the whole project instead of listed repositories. Default false.")]
    public Output<bool?> ProjectWide { get; init; } = Output.Create<bool?>(null);

}

/// <summary>One Artifact Registry repository: its location (such as <c>europe-west1</c>) and its id.</summary>
[PulumiType("registryinfra:index:ArtifactRepository", Description = "One Artifact Registry repository, by location and id.")]
public sealed partial record ArtifactRepository
{
    [PulumiProperty("location", Description = "The repository's location, such as `europe-west1` or the multi-region `europe`.")]
    public Output<string> Location { get; init; } = "";

    [PulumiProperty("repository", Description = "The repository's id, such as `images`.")]
    public Output<string> Repository { get; init; } = "";

    /// <summary>The repository's project; defaults to the binding's project.</summary>
    [PulumiProperty("project", Description = "The repository's project. Default: the binding's `project`.")]
    public Output<string?> Project { get; init; } = Output.Create<string?>(null);
}
