using System.Text.Json.Serialization;

namespace RegistryInfra.Core.DockerConfigJson;

/// <summary>Source-generated (trim- and NativeAOT-safe) JSON of a plain string, for quoting keys in error paths.</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class JsonStringContext : JsonSerializerContext;
