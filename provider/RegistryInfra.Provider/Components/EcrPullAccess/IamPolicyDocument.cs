using System.Text.Json;
using System.Text.Json.Serialization;

namespace RegistryInfra.Provider.Components.EcrPullAccess;

/// <summary>An IAM policy or trust document; serialised with IAM's own element names.</summary>
public sealed record IamPolicyDocument(IReadOnlyList<IamStatement> Statement)
{
    public string Version { get; init; } = "2012-10-17";

    public string ToJson() => JsonSerializer.Serialize(this, IamJson.Default.IamPolicyDocument);
}

/// <summary>One statement. Condition is operator → key → value, as IAM writes it.</summary>
public sealed record IamStatement(string Effect, IReadOnlyList<string> Action)
{
    public string? Sid { get; init; }

    public IamPrincipal? Principal { get; init; }

    public IReadOnlyList<string>? Resource { get; init; }

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? Condition { get; init; }
}

/// <summary>The principal of a trust statement.</summary>
public sealed record IamPrincipal
{
    public string? Federated { get; init; }

    public string? Service { get; init; }
}

// IAM's element names are PascalCase, as the records' properties are; absent elements are left out.
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IamPolicyDocument))]
internal sealed partial class IamJson : JsonSerializerContext;
