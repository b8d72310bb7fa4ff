using System.Text.Json;
using System.Text.Json.Serialization;

namespace RegistryInfra.Core.Distribution;

// The documents the client reads, typed as go-containerregistry types them (pkg/v1/manifest.go: Manifest,
// IndexManifest, Descriptor, Platform; pkg/v1/config.go: ConfigFile; pkg/v1/remote/transport/error.go: Error,
// Diagnostic; pkg/v1/remote/transport/bearer.go: token response), read with generated JSON so the NativeAOT
// plugin needs no reflection. Only the fields the client acts on are declared; unknown fields are ignored as
// the specs require.

/// <summary>An OCI content descriptor (image-spec descriptor.md), as found in manifests and indexes.</summary>
internal sealed record DescriptorDocument(
    [property: JsonPropertyName("mediaType")] string? MediaType,
    [property: JsonPropertyName("digest")] string? Digest,
    [property: JsonPropertyName("size")] long? Size,
    [property: JsonPropertyName("platform")] PlatformDocument? Platform);

/// <summary>The platform of an index entry (image-spec image-index.md).</summary>
internal sealed record PlatformDocument(
    [property: JsonPropertyName("os")] string? Os,
    [property: JsonPropertyName("architecture")] string? Architecture,
    [property: JsonPropertyName("variant")] string? Variant);

/// <summary>An OCI image manifest or Docker schema-2 manifest, or an OCI index or Docker manifest list: the fields that tell them apart.</summary>
internal sealed record ManifestDocument(
    [property: JsonPropertyName("schemaVersion")] int? SchemaVersion,
    [property: JsonPropertyName("mediaType")] string? MediaType,
    [property: JsonPropertyName("config")] DescriptorDocument? Config,
    [property: JsonPropertyName("layers")] IReadOnlyList<DescriptorDocument>? Layers,
    [property: JsonPropertyName("manifests")] IReadOnlyList<DescriptorDocument>? Manifests);

/// <summary>The platform fields of an image configuration (image-spec config.md).</summary>
internal sealed record ImageConfigDocument(
    [property: JsonPropertyName("os")] string? Os,
    [property: JsonPropertyName("architecture")] string? Architecture,
    [property: JsonPropertyName("variant")] string? Variant);

/// <summary>A token service's answer (distribution's token.md and oauth.md).</summary>
internal sealed record TokenDocument(
    [property: JsonPropertyName("token")] string? Token,
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("expires_in")] JsonElement? ExpiresIn,
    [property: JsonPropertyName("issued_at")] JsonElement? IssuedAt);

/// <summary>The distribution spec's error body <c>{"errors":[{"code","message","detail"}]}</c>.</summary>
internal sealed record ErrorBodyDocument([property: JsonPropertyName("errors")] IReadOnlyList<ErrorDocument?>? Errors);

/// <summary>One error of an error body; <c>detail</c> is free-form and never quoted.</summary>
internal sealed record ErrorDocument(
    [property: JsonPropertyName("code")] JsonElement? Code,
    [property: JsonPropertyName("message")] JsonElement? Message);

/// <summary>Generated JSON for the distribution documents.</summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = false,
    NumberHandling = JsonNumberHandling.Strict,
    MaxDepth = 32,
    ReadCommentHandling = JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(ManifestDocument))]
[JsonSerializable(typeof(ImageConfigDocument))]
[JsonSerializable(typeof(TokenDocument))]
[JsonSerializable(typeof(ErrorBodyDocument))]
internal sealed partial class DistributionJson : JsonSerializerContext;
