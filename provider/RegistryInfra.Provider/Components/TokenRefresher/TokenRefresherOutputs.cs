using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>Outputs of <c>registryinfra:kubernetes:TokenRefresher</c>.</summary>
[PulumiModel]
public sealed partial record TokenRefresherOutputs
{
    [PulumiProperty("namespace", Description = "The namespace the refresher runs in.")]
    public Output<string> Namespace { get; init; } = Output.Unknown<string>();

    [PulumiProperty("serviceAccountName", Description = "The refresher's service account.")]
    public Output<string> ServiceAccountName { get; init; } = Output.Unknown<string>();

    [PulumiProperty("configMapName", Description = "The ConfigMap holding the refresher's configuration.")]
    public Output<string> ConfigMapName { get; init; } = Output.Unknown<string>();

    [PulumiProperty("cronJobName", Description = "The CronJob's name; absent in watch mode.")]
    public Output<string?> CronJobName { get; init; } = Output.Unknown<string?>();

    [PulumiProperty("jobName", Description = "The run-on-deploy Job's name (it carries a hash of the configuration and image); absent when `runOnDeploy` is false and in watch mode.")]
    public Output<string?> JobName { get; init; } = Output.Unknown<string?>();

    [PulumiProperty("deploymentName", Description = "Watch mode: the Deployment's name. It is known once pulumi-kubernetes has seen its rollout complete: every replica ready, which the leader is only after its first full run has filled the Secrets.")]
    public Output<string?> DeploymentName { get; init; } = Output.Unknown<string?>();

    [PulumiProperty("image", Description = "The refresher image the CronJob and Job (or the Deployment) run.")]
    public Output<string> Image { get; init; } = Output.Unknown<string>();

    [PulumiProperty("configuration", Description = "The refresher's configuration file as written into the ConfigMap (JSON; no credential: tokens come from the pod's identity).")]
    public Output<string> Configuration { get; init; } = Output.Unknown<string>();
}
