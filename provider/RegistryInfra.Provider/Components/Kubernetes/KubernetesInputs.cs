using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.Kubernetes;

// The inputs of the pulumi-kubernetes resources the components register, as typed records: only the fields
// the components set, named as Kubernetes (and @pulumi/kubernetes) name them. A field is an Output where its
// value can be unknown in preview, so the child is still registered, with that field unknown. The child
// check (tests/RegistryInfra.Provider.Tests/ChildCheck) compares every registration with @pulumi/kubernetes'
// input types and the Kubernetes JSON schema of its kind.

/// <summary><c>metadata</c> of an object.</summary>
[PulumiModel]
public sealed partial record ObjectMetaInputs
{
    public Output<string>? Name { get; init; }

    public Output<string>? Namespace { get; init; }

    public Output<IReadOnlyDictionary<string, string>>? Labels { get; init; }

    public Output<IReadOnlyDictionary<string, string>>? Annotations { get; init; }
}

/// <summary><c>kubernetes:core/v1:Namespace</c>.</summary>
[PulumiModel]
public sealed partial record NamespaceInputs
{
    public string ApiVersion { get; init; } = "v1";

    public string Kind { get; init; } = "Namespace";

    public ObjectMetaInputs Metadata { get; init; } = new();
}

/// <summary><c>kubernetes:core/v1:Secret</c>.</summary>
[PulumiModel]
public sealed partial record SecretInputs
{
    public string ApiVersion { get; init; } = "v1";

    public string Kind { get; init; } = "Secret";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public string? Type { get; init; }

    // Always secret: a pull secret's document holds credentials (or, for a token secret, will).
    [Secret]
    public IReadOnlyDictionary<string, Output<string>>? StringData { get; init; }
}

/// <summary><c>kubernetes:core/v1:ServiceAccount</c>.</summary>
[PulumiModel]
public sealed partial record ServiceAccountInputs
{
    public string ApiVersion { get; init; } = "v1";

    public string Kind { get; init; } = "ServiceAccount";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public bool? AutomountServiceAccountToken { get; init; }
}

/// <summary><c>kubernetes:core/v1:ConfigMap</c>.</summary>
[PulumiModel]
public sealed partial record ConfigMapInputs
{
    public string ApiVersion { get; init; } = "v1";

    public string Kind { get; init; } = "ConfigMap";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public IReadOnlyDictionary<string, Output<string>>? Data { get; init; }
}

/// <summary>One RBAC rule.</summary>
[PulumiModel]
public sealed partial record PolicyRuleInputs
{
    public IReadOnlyList<string>? ApiGroups { get; init; }

    public IReadOnlyList<string>? Resources { get; init; }

    public IReadOnlyList<string>? ResourceNames { get; init; }

    public IReadOnlyList<string> Verbs { get; init; } = [];
}

/// <summary><c>kubernetes:rbac.authorization.k8s.io/v1:Role</c> and <c>ClusterRole</c>.</summary>
[PulumiModel]
public sealed partial record RoleInputs
{
    public string ApiVersion { get; init; } = "rbac.authorization.k8s.io/v1";

    public string Kind { get; init; } = "Role";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public Output<IReadOnlyList<PolicyRuleInputs>> Rules { get; init; } = Output.Create<IReadOnlyList<PolicyRuleInputs>>([]);
}

/// <summary>The role a binding grants.</summary>
[PulumiModel]
public sealed partial record RoleRefInputs
{
    public string ApiGroup { get; init; } = "rbac.authorization.k8s.io";

    public string Kind { get; init; } = "Role";

    public string Name { get; init; } = "";
}

/// <summary>Who a binding grants the role to.</summary>
[PulumiModel]
public sealed partial record SubjectInputs
{
    public string Kind { get; init; } = "ServiceAccount";

    public string Name { get; init; } = "";

    public string? Namespace { get; init; }
}

/// <summary><c>kubernetes:rbac.authorization.k8s.io/v1:RoleBinding</c> and <c>ClusterRoleBinding</c>.</summary>
[PulumiModel]
public sealed partial record RoleBindingInputs
{
    public string ApiVersion { get; init; } = "rbac.authorization.k8s.io/v1";

    public string Kind { get; init; } = "RoleBinding";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public Output<RoleRefInputs> RoleRef { get; init; } = new RoleRefInputs();

    public Output<IReadOnlyList<SubjectInputs>> Subjects { get; init; } = Output.Create<IReadOnlyList<SubjectInputs>>([]);
}

/// <summary><c>kubernetes:batch/v1:CronJob</c>.</summary>
[PulumiModel]
public sealed partial record CronJobInputs
{
    public string ApiVersion { get; init; } = "batch/v1";

    public string Kind { get; init; } = "CronJob";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public CronJobSpecInputs Spec { get; init; } = new();
}

/// <summary>A CronJob's spec.</summary>
[PulumiModel]
public sealed partial record CronJobSpecInputs
{
    public Output<string> Schedule { get; init; } = "";

    public string? ConcurrencyPolicy { get; init; }

    public Output<long>? StartingDeadlineSeconds { get; init; }

    public Output<int>? SuccessfulJobsHistoryLimit { get; init; }

    public Output<int>? FailedJobsHistoryLimit { get; init; }

    public JobTemplateInputs JobTemplate { get; init; } = new();
}

/// <summary>The Job a CronJob creates.</summary>
[PulumiModel]
public sealed partial record JobTemplateInputs
{
    public ObjectMetaInputs? Metadata { get; init; }

    public JobSpecInputs Spec { get; init; } = new();
}

/// <summary><c>kubernetes:batch/v1:Job</c>.</summary>
[PulumiModel]
public sealed partial record JobInputs
{
    public string ApiVersion { get; init; } = "batch/v1";

    public string Kind { get; init; } = "Job";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public JobSpecInputs Spec { get; init; } = new();
}

/// <summary>A Job's spec.</summary>
[PulumiModel]
public sealed partial record JobSpecInputs
{
    public Output<int>? BackoffLimit { get; init; }

    public Output<long>? ActiveDeadlineSeconds { get; init; }

    public PodTemplateInputs Template { get; init; } = new();
}

/// <summary>A pod template.</summary>
[PulumiModel]
public sealed partial record PodTemplateInputs
{
    public ObjectMetaInputs? Metadata { get; init; }

    public PodSpecInputs Spec { get; init; } = new();
}

/// <summary>A pod's spec.</summary>
[PulumiModel]
public sealed partial record PodSpecInputs
{
    public Output<string>? ServiceAccountName { get; init; }

    public bool? AutomountServiceAccountToken { get; init; }

    public string? RestartPolicy { get; init; }

    public PodSecurityContextInputs? SecurityContext { get; init; }

    public IReadOnlyList<ContainerInputs> Containers { get; init; } = [];

    public IReadOnlyList<VolumeInputs>? Volumes { get; init; }
}

/// <summary>A pod's security context.</summary>
[PulumiModel]
public sealed partial record PodSecurityContextInputs
{
    public bool? RunAsNonRoot { get; init; }

    public long? RunAsUser { get; init; }

    public long? RunAsGroup { get; init; }

    public long? FsGroup { get; init; }

    public SeccompProfileInputs? SeccompProfile { get; init; }
}

/// <summary>A seccomp profile.</summary>
[PulumiModel]
public sealed partial record SeccompProfileInputs
{
    public string Type { get; init; } = "RuntimeDefault";
}

/// <summary>A container.</summary>
[PulumiModel]
public sealed partial record ContainerInputs
{
    public string Name { get; init; } = "";

    public Output<string> Image { get; init; } = "";

    public string? ImagePullPolicy { get; init; }

    public IReadOnlyList<string>? Args { get; init; }

    public IReadOnlyList<ContainerEnvInputs>? Env { get; init; }

    public IReadOnlyList<NamedPortInputs>? Ports { get; init; }

    public HttpProbeInputs? LivenessProbe { get; init; }

    public HttpProbeInputs? ReadinessProbe { get; init; }

    public ResourceRequirementsInputs? Resources { get; init; }

    public SecurityContextInputs? SecurityContext { get; init; }

    public IReadOnlyList<VolumeMountInputs>? VolumeMounts { get; init; }
}

/// <summary>A container's requests and limits (Kubernetes quantities).</summary>
[PulumiModel]
public sealed partial record ResourceRequirementsInputs
{
    public IReadOnlyDictionary<string, Output<string>>? Requests { get; init; }

    public IReadOnlyDictionary<string, Output<string>>? Limits { get; init; }
}

/// <summary>A container's security context.</summary>
[PulumiModel]
public sealed partial record SecurityContextInputs
{
    public bool? AllowPrivilegeEscalation { get; init; }

    public bool? ReadOnlyRootFilesystem { get; init; }

    public bool? RunAsNonRoot { get; init; }

    public long? RunAsUser { get; init; }

    public CapabilitiesInputs? Capabilities { get; init; }

    public SeccompProfileInputs? SeccompProfile { get; init; }
}

/// <summary>Linux capabilities.</summary>
[PulumiModel]
public sealed partial record CapabilitiesInputs
{
    public IReadOnlyList<string>? Drop { get; init; }
}

/// <summary>Where a volume is mounted.</summary>
[PulumiModel]
public sealed partial record VolumeMountInputs
{
    public string Name { get; init; } = "";

    public string MountPath { get; init; } = "";

    public bool? ReadOnly { get; init; }
}

/// <summary>A pod volume: a ConfigMap or an emptyDir.</summary>
[PulumiModel]
public sealed partial record VolumeInputs
{
    public string Name { get; init; } = "";

    public ConfigMapVolumeInputs? ConfigMap { get; init; }

    public EmptyDirVolumeInputs? EmptyDir { get; init; }
}

/// <summary>A ConfigMap volume.</summary>
[PulumiModel]
public sealed partial record ConfigMapVolumeInputs
{
    public Output<string> Name { get; init; } = "";
}

/// <summary>An emptyDir volume.</summary>
[PulumiModel]
public sealed partial record EmptyDirVolumeInputs
{
    public string? SizeLimit { get; init; }
}

/// <summary>An environment variable of a container: a value, or a field of the pod (the downward API).</summary>
[PulumiModel]
public sealed partial record ContainerEnvInputs
{
    public string Name { get; init; } = "";

    public string? Value { get; init; }

    public EnvValueSourceInputs? ValueFrom { get; init; }
}

/// <summary>Where an environment variable's value comes from.</summary>
[PulumiModel]
public sealed partial record EnvValueSourceInputs
{
    public FieldRefInputs? FieldRef { get; init; }
}

/// <summary>A field of the pod, such as <c>metadata.name</c>.</summary>
[PulumiModel]
public sealed partial record FieldRefInputs
{
    public string FieldPath { get; init; } = "";
}

/// <summary>A container port with a name.</summary>
[PulumiModel]
public sealed partial record NamedPortInputs
{
    public string Name { get; init; } = "";

    public int ContainerPort { get; init; }

    public string Protocol { get; init; } = "TCP";
}

/// <summary>A probe that GETs a path on a container port.</summary>
[PulumiModel]
public sealed partial record HttpProbeInputs
{
    public HttpGetInputs HttpGet { get; init; } = new();

    public int? InitialDelaySeconds { get; init; }

    public int? PeriodSeconds { get; init; }

    public int? TimeoutSeconds { get; init; }

    public int? FailureThreshold { get; init; }
}

/// <summary>The request of an HTTP probe.</summary>
[PulumiModel]
public sealed partial record HttpGetInputs
{
    public string Path { get; init; } = "/";

    public int Port { get; init; }
}

/// <summary><c>kubernetes:apps/v1:Deployment</c> of a pod spec as <see cref="PodSpecInputs"/>.</summary>
[PulumiModel]
public sealed partial record WorkloadDeploymentInputs
{
    public string ApiVersion { get; init; } = "apps/v1";

    public string Kind { get; init; } = "Deployment";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public WorkloadDeploymentSpecInputs Spec { get; init; } = new();
}

/// <summary>A Deployment's spec.</summary>
[PulumiModel]
public sealed partial record WorkloadDeploymentSpecInputs
{
    public Output<int> Replicas { get; init; } = 1;

    public MatchLabelsInputs Selector { get; init; } = new();

    public Output<WorkloadStrategyInputs>? Strategy { get; init; }

    public PodTemplateInputs Template { get; init; } = new();
}

/// <summary>A selector by labels only (a Deployment's or a PodDisruptionBudget's pods).</summary>
[PulumiModel]
public sealed partial record MatchLabelsInputs
{
    public IReadOnlyDictionary<string, string> MatchLabels { get; init; } = new Dictionary<string, string>();
}

/// <summary>A Deployment's strategy: <c>Recreate</c>, or <c>RollingUpdate</c> with its bounds.</summary>
[PulumiModel]
public sealed partial record WorkloadStrategyInputs
{
    public string Type { get; init; } = "RollingUpdate";

    public RollingUpdateInputs? RollingUpdate { get; init; }
}

/// <summary>How many pods a rolling update may add and take away at once.</summary>
[PulumiModel]
public sealed partial record RollingUpdateInputs
{
    public int MaxSurge { get; init; }

    public int MaxUnavailable { get; init; }
}

/// <summary><c>kubernetes:policy/v1:PodDisruptionBudget</c>.</summary>
[PulumiModel]
public sealed partial record PodDisruptionBudgetInputs
{
    public string ApiVersion { get; init; } = "policy/v1";

    public string Kind { get; init; } = "PodDisruptionBudget";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public PodDisruptionBudgetSpecInputs Spec { get; init; } = new();
}

/// <summary>A PodDisruptionBudget's spec.</summary>
[PulumiModel]
public sealed partial record PodDisruptionBudgetSpecInputs
{
    public int MinAvailable { get; init; } = 1;

    public MatchLabelsInputs Selector { get; init; } = new();
}
