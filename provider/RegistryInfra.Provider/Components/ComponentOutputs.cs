namespace RegistryInfra.Provider.Components;

/// <summary>A reference to a pull secret, as it goes into a workload's <c>imagePullSecrets</c>.</summary>
public sealed record PullSecretReference(string Name);

/// <summary>Outputs of <c>registryinfra:kubernetes:PullSecret</c>.</summary>
public sealed record PullSecretOutputs(
    IReadOnlyDictionary<string, IReadOnlyList<string>> SecretNames,
    IReadOnlyList<PullSecretReference> ImagePullSecrets,
    string? StaticSecretName,
    string? TokenSecretName);

/// <summary>Outputs of <c>registryinfra:aws:EcrPullAccess</c>.</summary>
public sealed record EcrPullAccessOutputs(string RoleArn, string RoleName, IReadOnlyDictionary<string, string> ServiceAccountAnnotations);

/// <summary>Outputs of <c>registryinfra:gcp:WorkloadIdentityBinding</c>.</summary>
public sealed record WorkloadIdentityBindingOutputs(string Email, string Member, IReadOnlyDictionary<string, string> ServiceAccountAnnotations);

/// <summary>Outputs of <c>registryinfra:kubernetes:TokenRefresher</c>.</summary>
public sealed record TokenRefresherOutputs(
    string Namespace, string ServiceAccountName, string ConfigMapName, string CronJobName, string? JobName, string Image, string Configuration);

/// <summary>Outputs of <c>registryinfra:index:ClusterRegistryAccess</c>.</summary>
public sealed record ClusterRegistryAccessOutputs(
    IReadOnlyDictionary<string, IReadOnlyList<string>> SecretNames,
    IReadOnlyList<PullSecretReference> ImagePullSecrets,
    string? RoleArn,
    string? GcpServiceAccountEmail,
    string? RefresherNamespace,
    string? RefresherServiceAccount);
