using System.Text.Json.Serialization;

namespace RegistryInfra.Provider.Resources.RegistryProfile;

/// <summary>The inputs that image resolution depends on, compared between old and new inputs.</summary>
internal sealed record ImageInputs(IReadOnlyList<string>? Images, string? Platform, string? CaCertificates, bool? Insecure);

/// <summary>
/// Source-generated serialisation of the inputs that fingerprints compare: no reflection, so the NativeAOT
/// plugin serialises them exactly as the JIT-compiled one does.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(RegistryProfileArgs))]
[JsonSerializable(typeof(ImageInputs))]
internal sealed partial class FingerprintJson : JsonSerializerContext;
