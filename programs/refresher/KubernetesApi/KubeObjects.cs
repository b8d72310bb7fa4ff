using System.Text.Json;
using System.Text.Json.Serialization;

namespace RegistryInfra.Refresher.KubernetesApi;

// The few core/v1 shapes the refresher reads and writes, with only the fields it looks at. Every object it writes back
// (a Secret, a ConfigMap) was read first, and each class keeps the members it does not name in Extra, so a replace sends
// back everything the API server sent (finalizers, managedFields, immutable, ...), as a full client model would.

/// <summary><c>metadata</c> of an object (and the whole answer for <c>as=PartialObjectMetadata</c>).</summary>
internal sealed class V1ObjectMeta
{
    public string? Name { get; set; }

    [JsonPropertyName("namespace")]
    public string? NamespaceProperty { get; set; }

    public string? Uid { get; set; }

    public string? ResourceVersion { get; set; }

    public Dictionary<string, string>? Labels { get; set; }

    public Dictionary<string, string>? Annotations { get; set; }

    public List<V1OwnerReference>? OwnerReferences { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

internal sealed class V1OwnerReference
{
    public string? ApiVersion { get; set; }

    public string? Kind { get; set; }

    public string? Name { get; set; }

    public string? Uid { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>An answer with <c>Accept: application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1</c>: the metadata alone.</summary>
internal sealed class PartialObjectMetadata
{
    public V1ObjectMeta? Metadata { get; set; }
}

internal sealed class V1Secret
{
    public string? ApiVersion { get; set; } = "v1";

    public string? Kind { get; set; } = "Secret";

    public V1ObjectMeta Metadata { get; set; } = new();

    public string? Type { get; set; }

    /// <summary>Values are base64 in JSON; System.Text.Json reads and writes <c>byte[]</c> as base64.</summary>
    public Dictionary<string, byte[]>? Data { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

internal sealed class V1LocalObjectReference
{
    public string? Name { get; set; }
}

internal sealed class V1ServiceAccount
{
    public V1ObjectMeta? Metadata { get; set; }

    public List<V1LocalObjectReference?>? ImagePullSecrets { get; set; }
}

internal sealed class V1ConfigMap
{
    public string? ApiVersion { get; set; } = "v1";

    public string? Kind { get; set; } = "ConfigMap";

    public V1ObjectMeta Metadata { get; set; } = new();

    public Dictionary<string, string>? Data { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

internal sealed class V1NamespaceStatus
{
    public string? Phase { get; set; }
}

internal sealed class V1Namespace
{
    public V1ObjectMeta? Metadata { get; set; }

    public V1NamespaceStatus? Status { get; set; }
}

internal sealed class V1ListMeta
{
    [JsonPropertyName("continue")]
    public string? ContinueProperty { get; set; }

    public string? ResourceVersion { get; set; }
}

internal sealed class V1NamespaceList
{
    public V1ListMeta? Metadata { get; set; }

    public List<V1Namespace> Items { get; set; } = [];
}

internal sealed class V1ServiceAccountList
{
    public V1ListMeta? Metadata { get; set; }

    public List<V1ServiceAccount> Items { get; set; } = [];
}

/// <summary>A list asked for as <c>as=PartialObjectMetadataList</c>: the items' metadata alone (a Secret's data never travels).</summary>
internal sealed class PartialObjectMetadataList
{
    public V1ListMeta? Metadata { get; set; }

    public List<PartialObjectMetadata> Items { get; set; } = [];
}

/// <summary>The <c>DeleteOptions</c> body of a DELETE: preconditions make the API server refuse it (409) if the object changed since it was read.</summary>
internal sealed class V1DeleteOptions
{
    public string ApiVersion { get; set; } = "v1";

    public string Kind { get; set; } = "DeleteOptions";

    public V1Preconditions? Preconditions { get; set; }

    public string? PropagationPolicy { get; set; }
}

internal sealed class V1Preconditions
{
    public string? Uid { get; set; }

    public string? ResourceVersion { get; set; }
}

internal sealed class V1ObjectReference
{
    public string? ApiVersion { get; set; }

    public string? Kind { get; set; }

    public string? Name { get; set; }

    [JsonPropertyName("namespace")]
    public string? NamespaceProperty { get; set; }
}

internal sealed class V1EventSource
{
    public string? Component { get; set; }
}

/// <summary>A <c>core/v1</c> Event (the refresher creates them, and patches the count of its own).</summary>
internal sealed class CoreV1Event
{
    public string ApiVersion { get; set; } = "v1";

    public string Kind { get; set; } = "Event";

    public V1ObjectMeta Metadata { get; set; } = new();

    public V1ObjectReference? InvolvedObject { get; set; }

    public string? Reason { get; set; }

    public string? Message { get; set; }

    public string? Type { get; set; }

    public V1EventSource? Source { get; set; }

    public string? ReportingComponent { get; set; }

    /// <summary>RFC 3339 in UTC, whole seconds, as the API's <c>metav1.Time</c>.</summary>
    public string? FirstTimestamp { get; set; }

    public string? LastTimestamp { get; set; }

    public int? Count { get; set; }
}

/// <summary>The ExecCredential an exec plugin prints (client.authentication.k8s.io v1 and v1beta1).</summary>
internal sealed class ExecCredential
{
    public ExecCredentialStatus? Status { get; set; }
}

internal sealed class ExecCredentialStatus
{
    public string? Token { get; set; }

    public DateTimeOffset? ExpirationTimestamp { get; set; }

    public string? ClientCertificateData { get; set; }

    public string? ClientKeyData { get; set; }
}

/// <summary>Source-generated serialisation of the shapes above: no reflection, so NativeAOT keeps it whole.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(V1Secret))]
[JsonSerializable(typeof(V1ServiceAccount))]
[JsonSerializable(typeof(V1ConfigMap))]
[JsonSerializable(typeof(PartialObjectMetadata))]
[JsonSerializable(typeof(V1NamespaceList))]
[JsonSerializable(typeof(V1ServiceAccountList))]
[JsonSerializable(typeof(PartialObjectMetadataList))]
[JsonSerializable(typeof(V1DeleteOptions))]
[JsonSerializable(typeof(CoreV1Event))]
[JsonSerializable(typeof(ExecCredential))]
internal sealed partial class KubeJson : JsonSerializerContext;
