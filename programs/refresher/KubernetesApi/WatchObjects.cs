using System.Text.Json;
using System.Text.Json.Serialization;

namespace RegistryInfra.Refresher.KubernetesApi;

// The shapes the watch command reads and writes besides the core ones in KubeObjects.cs: watch events, the Status an
// ERROR event carries and the coordination.k8s.io/v1 Lease of the leader election.

/// <summary>The type of one watch event (kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).</summary>
internal enum WatchEventType
{
    Added,
    Modified,
    Deleted,
    Bookmark,
    Error,
}

/// <summary>One event of a watch stream: the object (for a BOOKMARK only its <c>metadata.resourceVersion</c>), or the Status of an ERROR.</summary>
internal sealed record WatchEvent<T>(WatchEventType Type, T? Object, V1Status? Status)
    where T : class;

/// <summary>A <c>meta/v1</c> Status, as an error answer or an ERROR watch event carries it.</summary>
internal sealed class V1Status
{
    public string? Status { get; set; }

    public string? Reason { get; set; }

    public int? Code { get; set; }

    public string? Message { get; set; }
}

/// <summary>A <c>coordination.k8s.io/v1</c> Lease: the leader election's lock (client-go resourcelock/leaselock.go).</summary>
internal sealed class V1Lease
{
    public string? ApiVersion { get; set; } = "coordination.k8s.io/v1";

    public string? Kind { get; set; } = "Lease";

    public V1ObjectMeta Metadata { get; set; } = new();

    public V1LeaseSpec Spec { get; set; } = new();
}

/// <summary>The Lease's spec; times are <c>metav1.MicroTime</c> (RFC 3339 with microseconds).</summary>
internal sealed class V1LeaseSpec
{
    public string? HolderIdentity { get; set; }

    public int? LeaseDurationSeconds { get; set; }

    public string? AcquireTime { get; set; }

    public string? RenewTime { get; set; }

    public int? LeaseTransitions { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>A list of Secrets (the source Secret by name, for its watch).</summary>
internal sealed class V1SecretList
{
    public V1ListMeta? Metadata { get; set; }

    public List<V1Secret> Items { get; set; } = [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(V1Status))]
[JsonSerializable(typeof(V1Namespace))]
[JsonSerializable(typeof(V1NamespaceList))]
[JsonSerializable(typeof(V1ServiceAccount))]
[JsonSerializable(typeof(V1ServiceAccountList))]
[JsonSerializable(typeof(V1Lease))]
[JsonSerializable(typeof(V1Secret))]
[JsonSerializable(typeof(V1SecretList))]
internal sealed partial class KubeWatchJson : JsonSerializerContext;
