using System.Collections.Immutable;

namespace RegistryInfra.Protocol.Values;

/// <summary>
/// An output value as the engine sends it to providers that accept outputs: the value when known, whether
/// it is secret, and the URNs of the resources it depends on.
/// </summary>
public sealed class OutputReference : IEquatable<OutputReference>
{
    /// <summary>Creates an output reference; a null <paramref name="value"/> means the value is unknown.</summary>
    public OutputReference(PropertyValue? value, bool isSecret, IEnumerable<string>? dependencies = null)
    {
        Value = value;
        IsSecret = isSecret;
        Dependencies = dependencies is null ? [] : [.. dependencies];
    }

    /// <summary>The value, or null when it is not known yet.</summary>
    public PropertyValue? Value { get; }

    /// <summary>Whether the value is known.</summary>
    public bool IsKnown => Value is not null;

    /// <summary>Whether the value is secret.</summary>
    public bool IsSecret { get; }

    /// <summary>URNs of the resources this output depends on, in the order given.</summary>
    public ImmutableArray<string> Dependencies { get; }

    /// <inheritdoc/>
    public bool Equals(OutputReference? other) =>
        other is not null
        && IsSecret == other.IsSecret
        && Equals(Value, other.Value)
        && Dependencies.SequenceEqual(other.Dependencies, StringComparer.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as OutputReference);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Value);
        hash.Add(IsSecret);
        foreach (var dependency in Dependencies)
        {
            hash.Add(dependency, StringComparer.Ordinal);
        }
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"output({(Value is null ? "unknown" : IsSecret ? "[secret]" : Value.ToString())}, deps=[{string.Join(", ", Dependencies)}])";
}
