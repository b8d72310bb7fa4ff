using RegistryInfra.Protocol.Model;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>
/// The refresher's pod, as the CronJob, the run-on-deploy Job and the watch mode's Deployment run it: non-root, read-only root filesystem,
/// all capabilities dropped, the RuntimeDefault seccomp profile (the restricted Pod Security Standard), the
/// configuration mounted from the ConfigMap.
/// </summary>
public static class RefresherPod
{
    /// <summary>Where the ConfigMap is mounted and the key that holds the configuration (JSON, which the refresher reads as YAML).</summary>
    public const string ConfigDirectory = "/etc/registryinfra";
    public const string ConfigKey = "refresher.yaml";

    /// <summary>How long the run-on-deploy Job waits for a new cloud identity to propagate (<c>--identity-wait</c>), within the run's 5 min deadline.</summary>
    public const string IdentityWait = "3m";

    /// <summary>The port of the watch command's <c>/healthz</c> (alive) and <c>/readyz</c> (the leader after its first full run; a standby once a leader of its configuration has).</summary>
    public const int HealthPort = 8081;

    public static JobSpecInputs JobSpec(TokenRefresherArgs args, Output<string> image, Output<string> serviceAccountName, Output<string> configMapName,
        Output<IReadOnlyDictionary<string, string>> podLabels, bool runOnDeploy = false) => new()
        {
            BackoffLimit = args.BackoffLimit.Apply(v => v ?? 3),
            ActiveDeadlineSeconds = args.ActiveDeadlineSeconds.Apply(v => v ?? 600),
            Template = new PodTemplateInputs
            {
                Metadata = new ObjectMetaInputs { Labels = podLabels },
                Spec = PodSpec(args, image, serviceAccountName, configMapName, "Never", new ContainerInputs
                {
                    // The first run after a deployment may meet an IAM role or Workload Identity binding created
                    // seconds ago: the run-on-deploy Job retries the cloud's refusals for a while and reports its error.
                    Args = runOnDeploy
                        ? ["refresh", "--config", $"{ConfigDirectory}/{ConfigKey}", "--identity-wait", IdentityWait]
                        : ["refresh", "--config", $"{ConfigDirectory}/{ConfigKey}"],
                }),
            },
        };

    /// <summary>
    /// The watch mode's pod template: the same hardened pod running <c>watch</c>, the lease holder named by the pod's
    /// name (downward API), alive while <c>/healthz</c> answers and ready once <c>/readyz</c> does, so that a Deployment's
    /// rollout (and pulumi-kubernetes' await of it) completes only when a leader of the new configuration has finished its first
    /// full run (a standby is ready only once the Lease records that of a leader of its own configuration).
    /// </summary>
    public static PodTemplateInputs WatchTemplate(TokenRefresherArgs args, Output<string> image, Output<string> serviceAccountName, Output<string> configMapName,
        Output<IReadOnlyDictionary<string, string>> podLabels, Output<IReadOnlyDictionary<string, string>> podAnnotations) => new()
        {
            Metadata = new ObjectMetaInputs { Labels = podLabels, Annotations = podAnnotations },
            Spec = PodSpec(args, image, serviceAccountName, configMapName, "Always", new ContainerInputs
            {
                Args = ["watch", "--config", $"{ConfigDirectory}/{ConfigKey}", "--health-port", HealthPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                Env = [new ContainerEnvInputs { Name = "POD_NAME", ValueFrom = new EnvValueSourceInputs { FieldRef = new FieldRefInputs { FieldPath = "metadata.name" } } }],
                Ports = [new NamedPortInputs { Name = "health", ContainerPort = HealthPort }],
                LivenessProbe = new HttpProbeInputs { HttpGet = new HttpGetInputs { Path = "/healthz", Port = HealthPort }, PeriodSeconds = 10, TimeoutSeconds = 2, FailureThreshold = 3 },
                // The first full run of a large cluster takes a while: readiness is polled often and failing it only delays the rollout.
                ReadinessProbe = new HttpProbeInputs { HttpGet = new HttpGetInputs { Path = "/readyz", Port = HealthPort }, PeriodSeconds = 2, TimeoutSeconds = 2, FailureThreshold = 1 },
            }),
        };

    private static PodSpecInputs PodSpec(TokenRefresherArgs args, Output<string> image, Output<string> serviceAccountName, Output<string> configMapName,
        string restartPolicy, ContainerInputs command) => new()
        {
            ServiceAccountName = serviceAccountName,
            AutomountServiceAccountToken = true,
            RestartPolicy = restartPolicy,
            SecurityContext = RestrictedSecurity.Pod(),
            Containers =
            [
                command with
                {
                    Name = "refresher",
                    Image = image,
                    ImagePullPolicy = "IfNotPresent",
                    Resources = new ResourceRequirementsInputs
                    {
                        Requests = new Dictionary<string, Output<string>>
                        {
                            ["cpu"] = args.CpuRequest.Apply(v => v ?? "50m"),
                            ["memory"] = args.MemoryRequest.Apply(v => v ?? "64Mi"),
                        },
                        Limits = new Dictionary<string, Output<string>> { ["memory"] = args.MemoryLimit.Apply(v => v ?? "128Mi") },
                    },
                    SecurityContext = RestrictedSecurity.Container(),
                    VolumeMounts =
                    [
                        new VolumeMountInputs { Name = "config", MountPath = ConfigDirectory, ReadOnly = true },
                        new VolumeMountInputs { Name = "tmp", MountPath = "/tmp" },
                    ],
                },
            ],
            Volumes =
            [
                new VolumeInputs { Name = "config", ConfigMap = new ConfigMapVolumeInputs { Name = configMapName } },
                new VolumeInputs { Name = "tmp", EmptyDir = new EmptyDirVolumeInputs { SizeLimit = "16Mi" } },
            ],
        };
}
