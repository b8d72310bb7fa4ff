using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.DevRegistry;

// The inputs of the pulumi-kubernetes resources DevRegistry registers beyond those in KubernetesInputs.cs, named as
// Kubernetes (and @pulumi/kubernetes) name them; checked by the child check like every other child.

/// <summary><c>kubernetes:apps/v1:Deployment</c>.</summary>
[PulumiModel]
public sealed partial record DeploymentInputs
{
    public string ApiVersion { get; init; } = "apps/v1";

    public string Kind { get; init; } = "Deployment";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public DeploymentSpecInputs Spec { get; init; } = new();
}

/// <summary>A Deployment's spec.</summary>
[PulumiModel]
public sealed partial record DeploymentSpecInputs
{
    public int Replicas { get; init; } = 1;

    public LabelSelectorInputs Selector { get; init; } = new();

    public DeploymentStrategyInputs? Strategy { get; init; }

    public RegistryPodTemplateInputs Template { get; init; } = new();
}

/// <summary>A label selector of exact labels.</summary>
[PulumiModel]
public sealed partial record LabelSelectorInputs
{
    public IReadOnlyDictionary<string, string> MatchLabels { get; init; } = new Dictionary<string, string>();
}

/// <summary>How a Deployment replaces its pods.</summary>
[PulumiModel]
public sealed partial record DeploymentStrategyInputs
{
    public string Type { get; init; } = "Recreate";
}

/// <summary>The registry's pod template.</summary>
[PulumiModel]
public sealed partial record RegistryPodTemplateInputs
{
    public ObjectMetaInputs? Metadata { get; init; }

    public RegistryPodSpecInputs Spec { get; init; } = new();
}

/// <summary>The registry's pod spec.</summary>
[PulumiModel]
public sealed partial record RegistryPodSpecInputs
{
    public bool? AutomountServiceAccountToken { get; init; }

    public PodSecurityContextInputs? SecurityContext { get; init; }

    public IReadOnlyList<RegistryContainerInputs> Containers { get; init; } = [];

    public Output<IReadOnlyList<RegistryVolumeInputs>> Volumes { get; init; } = Output.Create<IReadOnlyList<RegistryVolumeInputs>>([]);
}

/// <summary>The registry container.</summary>
[PulumiModel]
public sealed partial record RegistryContainerInputs
{
    public string Name { get; init; } = "";

    public Output<string> Image { get; init; } = "";

    public string? ImagePullPolicy { get; init; }

    public IReadOnlyList<ContainerPortInputs>? Ports { get; init; }

    public IReadOnlyList<EnvVarInputs>? Env { get; init; }

    public ProbeInputs? ReadinessProbe { get; init; }

    public ProbeInputs? LivenessProbe { get; init; }

    public ResourceRequirementsInputs? Resources { get; init; }

    public SecurityContextInputs? SecurityContext { get; init; }

    public IReadOnlyList<VolumeMountInputs>? VolumeMounts { get; init; }
}

/// <summary>A container port.</summary>
[PulumiModel]
public sealed partial record ContainerPortInputs
{
    public string? Name { get; init; }

    public int ContainerPort { get; init; }

    public string? Protocol { get; init; }
}

/// <summary>An environment variable.</summary>
[PulumiModel]
public sealed partial record EnvVarInputs
{
    public string Name { get; init; } = "";

    public string Value { get; init; } = "";
}

/// <summary>A probe by TCP connection.</summary>
[PulumiModel]
public sealed partial record ProbeInputs
{
    public TcpSocketActionInputs TcpSocket { get; init; } = new();

    public int? InitialDelaySeconds { get; init; }

    public int? PeriodSeconds { get; init; }
}

/// <summary>A TCP probe's port.</summary>
[PulumiModel]
public sealed partial record TcpSocketActionInputs
{
    public int Port { get; init; }
}

/// <summary>A pod volume of the registry: an emptyDir, a Secret or a claim.</summary>
[PulumiModel]
public sealed partial record RegistryVolumeInputs
{
    public string Name { get; init; } = "";

    public EmptyDirVolumeInputs? EmptyDir { get; init; }

    public SecretVolumeInputs? Secret { get; init; }

    public ClaimVolumeInputs? PersistentVolumeClaim { get; init; }
}

/// <summary>A Secret volume.</summary>
[PulumiModel]
public sealed partial record SecretVolumeInputs
{
    public Output<string> SecretName { get; init; } = "";

    public int? DefaultMode { get; init; }
}

/// <summary>A claim volume.</summary>
[PulumiModel]
public sealed partial record ClaimVolumeInputs
{
    public Output<string> ClaimName { get; init; } = "";
}

/// <summary><c>kubernetes:core/v1:Service</c>.</summary>
[PulumiModel]
public sealed partial record ServiceInputs
{
    public string ApiVersion { get; init; } = "v1";

    public string Kind { get; init; } = "Service";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public ServiceSpecInputs Spec { get; init; } = new();
}

/// <summary>A Service's spec.</summary>
[PulumiModel]
public sealed partial record ServiceSpecInputs
{
    public string Type { get; init; } = "NodePort";

    public IReadOnlyDictionary<string, string> Selector { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<ServicePortInputs> Ports { get; init; } = [];
}

/// <summary>A Service port.</summary>
[PulumiModel]
public sealed partial record ServicePortInputs
{
    public string? Name { get; init; }

    public int Port { get; init; }

    public int? TargetPort { get; init; }

    public Output<int>? NodePort { get; init; }

    public string? Protocol { get; init; }
}

/// <summary><c>kubernetes:core/v1:PersistentVolumeClaim</c>.</summary>
[PulumiModel]
public sealed partial record PersistentVolumeClaimInputs
{
    public string ApiVersion { get; init; } = "v1";

    public string Kind { get; init; } = "PersistentVolumeClaim";

    public ObjectMetaInputs Metadata { get; init; } = new();

    public ClaimSpecInputs Spec { get; init; } = new();
}

/// <summary>A claim's spec.</summary>
[PulumiModel]
public sealed partial record ClaimSpecInputs
{
    public IReadOnlyList<string> AccessModes { get; init; } = ["ReadWriteOnce"];

    public Output<string?>? StorageClassName { get; init; }

    public ClaimResourcesInputs Resources { get; init; } = new();
}

/// <summary>A claim's requested size.</summary>
[PulumiModel]
public sealed partial record ClaimResourcesInputs
{
    public IReadOnlyDictionary<string, Output<string>> Requests { get; init; } = new Dictionary<string, Output<string>>();
}
