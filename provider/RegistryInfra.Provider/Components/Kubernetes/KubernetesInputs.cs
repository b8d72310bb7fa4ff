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
