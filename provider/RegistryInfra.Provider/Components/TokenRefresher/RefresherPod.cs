using RegistryInfra.Protocol.Model;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>
/// The refresher's pod, as the CronJob and the run-on-deploy Job run it: non-root, read-only root filesystem,
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

    public static JobSpecInputs JobSpec(TokenRefresherArgs args, Output<string> image, Output<string> serviceAccountName, Output<string> configMapName,
        Output<IReadOnlyDictionary<string, string>> podLabels, bool runOnDeploy = false) => new()
        {
            BackoffLimit = args.BackoffLimit.Apply(v => v ?? 3),
            ActiveDeadlineSeconds = args.ActiveDeadlineSeconds.Apply(v => v ?? 600),
            Template = new PodTemplateInputs
            {
                Metadata = new ObjectMetaInputs { Labels = podLabels },
                Spec = new PodSpecInputs
                {
                    ServiceAccountName = serviceAccountName,
                    AutomountServiceAccountToken = true,
                    RestartPolicy = "Never",
                    SecurityContext = RestrictedSecurity.Pod(),
                    Containers =
                    [
                        new ContainerInputs
                        {
                            Name = "refresher",
                            Image = image,
                            ImagePullPolicy = "IfNotPresent",
                            // The first run after a deployment may meet an IAM role or Workload Identity binding created
                            // seconds ago: the run-on-deploy Job retries the cloud's refusals for a while and reports its error.
                            Args = runOnDeploy
                                ? ["refresh", "--config", $"{ConfigDirectory}/{ConfigKey}", "--identity-wait", IdentityWait]
                                : ["refresh", "--config", $"{ConfigDirectory}/{ConfigKey}"],
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
                },
            },
        };
}
