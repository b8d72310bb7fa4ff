using System.Text.Json.Serialization;
using k8s.Models;

namespace RegistryInfra.Provider.Components;

/// <summary>
/// Source-generated JSON of the Kubernetes objects that components register, with the settings of
/// KubernetesClient's own <c>KubernetesJson</c> (camelCase, nulls left out; the converters of
/// <c>ResourceQuantity</c> and <c>IntOrString</c> come from attributes on those types). Generated rather
/// than reflection-based so that the NativeAOT plugin keeps only the models it uses: rooting all of
/// KubernetesClient for reflection made the binary three times larger and its start-up slower.
/// <c>KubernetesObjectTests</c> prove the output is what <c>KubernetesJson</c> reads and writes.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(V1Namespace))]
[JsonSerializable(typeof(V1Secret))]
[JsonSerializable(typeof(V1ServiceAccount))]
[JsonSerializable(typeof(V1ConfigMap))]
[JsonSerializable(typeof(V1Role))]
[JsonSerializable(typeof(V1RoleBinding))]
[JsonSerializable(typeof(V1ClusterRole))]
[JsonSerializable(typeof(V1ClusterRoleBinding))]
[JsonSerializable(typeof(V1CronJob))]
[JsonSerializable(typeof(V1Job))]
internal sealed partial class KubernetesModelJson : JsonSerializerContext;
