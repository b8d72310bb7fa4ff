using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components;

/// <summary>A reference to a pull secret, as it goes into a workload's <c>imagePullSecrets</c>.</summary>
[PulumiType("registryinfra:index:PullSecretReference", Description = "A reference to a pull secret, in the shape of a pod spec's `imagePullSecrets` entry.")]
public sealed record PullSecretReference(
    [property: PulumiProperty("name", Description = "The Secret's name (in the pod's namespace).")] string Name);

/// <summary>Outputs of <c>registryinfra:kubernetes:PullSecret</c>.</summary>
public sealed record PullSecretOutputs(
    [property: PulumiProperty("secretNames", Description = "For each namespace, the names of the Secrets created there.")] IReadOnlyDictionary<string, IReadOnlyList<string>> SecretNames,
    [property: PulumiProperty("imagePullSecrets", Description = "The Secrets as a pod spec's `imagePullSecrets` list: put it in workloads' pod templates.")] IReadOnlyList<PullSecretReference> ImagePullSecrets,
    [property: PulumiProperty("staticSecretName", Description = "The name of the static-credentials Secret (data owned by Pulumi); absent when no registry has static credentials.")] string? StaticSecretName,
    [property: PulumiProperty("tokenSecretName", Description = "The name of the token Secret (data owned by the refresher); absent when no registry is token-based.")] string? TokenSecretName);

/// <summary>Outputs of <c>registryinfra:aws:EcrPullAccess</c>.</summary>
public sealed record EcrPullAccessOutputs(
    [property: PulumiProperty("roleArn", Description = "The IAM role's ARN.")] string RoleArn,
    [property: PulumiProperty("roleName", Description = "The IAM role's name.")] string RoleName,
    [property: PulumiProperty("serviceAccountAnnotations", Description = "The annotations to put on the Kubernetes service account: `eks.amazonaws.com/role-arn` for IRSA; none for EKS Pod Identity (the association does it).")] IReadOnlyDictionary<string, string> ServiceAccountAnnotations);

/// <summary>Outputs of <c>registryinfra:gcp:WorkloadIdentityBinding</c>.</summary>
public sealed record WorkloadIdentityBindingOutputs(
    [property: PulumiProperty("email", Description = "The Google service account's e-mail address.")] string Email,
    [property: PulumiProperty("member", Description = "The Google service account as an IAM member, `serviceAccount:EMAIL`, as granted the Artifact Registry reader role.")] string Member,
    [property: PulumiProperty("serviceAccountAnnotations", Description = "The annotation to put on the Kubernetes service account: `iam.gke.io/gcp-service-account`.")] IReadOnlyDictionary<string, string> ServiceAccountAnnotations);

/// <summary>Outputs of <c>registryinfra:kubernetes:TokenRefresher</c>.</summary>
public sealed record TokenRefresherOutputs(
    [property: PulumiProperty("namespace", Description = "The namespace the refresher runs in.")] string Namespace,
    [property: PulumiProperty("serviceAccountName", Description = "The refresher's service account.")] string ServiceAccountName,
    [property: PulumiProperty("configMapName", Description = "The ConfigMap holding the refresher's configuration.")] string ConfigMapName,
    [property: PulumiProperty("cronJobName", Description = "The CronJob's name.")] string CronJobName,
    [property: PulumiProperty("jobName", Description = "The run-on-deploy Job's name (it carries a hash of the configuration and image); absent when `runOnDeploy` is false.")] string? JobName,
    [property: PulumiProperty("image", Description = "The refresher image the CronJob and Job run.")] string Image,
    [property: PulumiProperty("configuration", Description = "The refresher's configuration file as written into the ConfigMap (JSON; no credential: tokens come from the pod's identity).")] string Configuration);

/// <summary>Outputs of <c>registryinfra:index:ClusterRegistryAccess</c>.</summary>
public sealed record ClusterRegistryAccessOutputs(
    [property: PulumiProperty("secretNames", Description = "For each namespace, the names of the pull Secrets created there.")] IReadOnlyDictionary<string, IReadOnlyList<string>> SecretNames,
    [property: PulumiProperty("imagePullSecrets", Description = "The pull Secrets as a pod spec's `imagePullSecrets` list, for workloads that do not rely on service-account attachment.")] IReadOnlyList<PullSecretReference> ImagePullSecrets,
    [property: PulumiProperty("roleArn", Description = "The ARN of the refresher's IAM role, when `aws` is given.")] string? RoleArn,
    [property: PulumiProperty("gcpServiceAccountEmail", Description = "The e-mail address of the refresher's Google service account, when `gcp` is given.")] string? GcpServiceAccountEmail,
    [property: PulumiProperty("refresherNamespace", Description = "The refresher's namespace, when a refresher is deployed.")] string? RefresherNamespace,
    [property: PulumiProperty("refresherServiceAccount", Description = "The refresher's service account, when a refresher is deployed.")] string? RefresherServiceAccount);
