using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace RegistryInfra.Protocol.Values;

/// <summary>
/// An immutable value of the Pulumi protocol: null, bool, number, string, array, object, asset, archive,
/// secret, computed (unknown), resource reference or output. Equality is structural; object keys are
/// kept in ordinal order, so two objects with the same entries are equal whatever order they were built in.
/// <see cref="ToString"/> never reveals the content of a secret.
/// </summary>
public sealed class PropertyValue : IEquatable<PropertyValue>
{
    private readonly object? _value;

    private PropertyValue(PropertyValueKind kind, object? value, string? unknownSentinel = null)
    {
        Kind = kind;
        _value = value;
        UnknownSentinel = unknownSentinel;
    }

    /// <summary>The null value.</summary>
    public static PropertyValue Null { get; } = new(PropertyValueKind.Null, null);

    /// <summary>The unknown value of preview ("computed").</summary>
    public static PropertyValue Computed { get; } = new(PropertyValueKind.Computed, null, UnknownValues.String);

    /// <summary>The kind of this value.</summary>
    public PropertyValueKind Kind { get; }

    /// <summary>
    /// For a computed value, the wire sentinel it was read from (the engine has one per expected type);
    /// kept only so that a value read from the wire is written back identically. Not part of equality.
    /// </summary>
    public string? UnknownSentinel { get; }

    /// <summary>Creates a boolean value.</summary>
    public static PropertyValue Create(bool value) => new(PropertyValueKind.Bool, value);

    /// <summary>Creates a number value.</summary>
    public static PropertyValue Create(double value) => new(PropertyValueKind.Number, value);

    /// <summary>Creates a string value; a null string gives <see cref="Null"/>.</summary>
    public static PropertyValue Create(string? value) => value is null ? Null : new(PropertyValueKind.String, value);

    /// <summary>Creates an array value.</summary>
    public static PropertyValue CreateArray(IEnumerable<PropertyValue> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return new(PropertyValueKind.Array, items.ToImmutableArray());
    }

    /// <summary>Creates an array value.</summary>
    public static PropertyValue CreateArray(params PropertyValue[] items) => CreateArray((IEnumerable<PropertyValue>)items);

    /// <summary>Creates an object value.</summary>
    public static PropertyValue CreateObject(IEnumerable<KeyValuePair<string, PropertyValue>> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        return new(PropertyValueKind.Object, ToMap(properties));
    }

    /// <summary>Creates an object value from name/value pairs.</summary>
    public static PropertyValue CreateObject(params (string Name, PropertyValue Value)[] properties) =>
        CreateObject(properties.Select(p => KeyValuePair.Create(p.Name, p.Value)));

    /// <summary>Wraps <paramref name="value"/> as a secret.</summary>
    public static PropertyValue CreateSecret(PropertyValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(PropertyValueKind.Secret, value);
    }

    /// <summary>Creates a computed value read from the wire with the given sentinel.</summary>
    public static PropertyValue CreateComputed(string sentinel) =>
        UnknownValues.IsSentinel(sentinel)
            ? new(PropertyValueKind.Computed, null, sentinel)
            : throw new ArgumentException($"'{sentinel}' is not an unknown-value sentinel", nameof(sentinel));

    /// <summary>Creates a resource reference value.</summary>
    public static PropertyValue CreateReference(ResourceReference reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return new(PropertyValueKind.ResourceReference, reference);
    }

    /// <summary>Creates an output value.</summary>
    public static PropertyValue CreateOutput(OutputReference output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return new(PropertyValueKind.Output, output);
    }

    /// <summary>Creates an asset value from its wire fields (without the signature key).</summary>
    public static PropertyValue CreateAsset(IEnumerable<KeyValuePair<string, PropertyValue>> fields) =>
        new(PropertyValueKind.Asset, ToMap(fields));

    /// <summary>Creates an archive value from its wire fields (without the signature key).</summary>
    public static PropertyValue CreateArchive(IEnumerable<KeyValuePair<string, PropertyValue>> fields) =>
        new(PropertyValueKind.Archive, ToMap(fields));

    /// <summary>Whether this is the null value.</summary>
    public bool IsNull => Kind == PropertyValueKind.Null;

    /// <summary>Whether this value is computed, or an output whose value is unknown.</summary>
    public bool IsComputed => Kind == PropertyValueKind.Computed
        || (Kind == PropertyValueKind.Output && !((OutputReference)_value!).IsKnown);

    /// <summary>Whether this value is a secret, or a secret output, at its top level.</summary>
    public bool IsSecret => Kind == PropertyValueKind.Secret
        || (Kind == PropertyValueKind.Output && ((OutputReference)_value!).IsSecret);

    /// <summary>The boolean; throws when this is not a bool.</summary>
    public bool BoolValue => Kind == PropertyValueKind.Bool ? (bool)_value! : throw WrongKind(PropertyValueKind.Bool);

    /// <summary>The number; throws when this is not a number.</summary>
    public double NumberValue => Kind == PropertyValueKind.Number ? (double)_value! : throw WrongKind(PropertyValueKind.Number);

    /// <summary>The string; throws when this is not a string.</summary>
    public string StringValue => Kind == PropertyValueKind.String ? (string)_value! : throw WrongKind(PropertyValueKind.String);

    /// <summary>The items; throws when this is not an array.</summary>
    public ImmutableArray<PropertyValue> ArrayValue =>
        Kind == PropertyValueKind.Array ? (ImmutableArray<PropertyValue>)_value! : throw WrongKind(PropertyValueKind.Array);

    /// <summary>The properties; throws when this is not an object.</summary>
    public ImmutableSortedDictionary<string, PropertyValue> ObjectValue =>
        Kind == PropertyValueKind.Object ? (ImmutableSortedDictionary<string, PropertyValue>)_value! : throw WrongKind(PropertyValueKind.Object);

    /// <summary>The fields of an asset or archive; throws for other kinds.</summary>
    public ImmutableSortedDictionary<string, PropertyValue> AssetOrArchiveFields =>
        Kind is PropertyValueKind.Asset or PropertyValueKind.Archive
            ? (ImmutableSortedDictionary<string, PropertyValue>)_value!
            : throw WrongKind(PropertyValueKind.Asset);

    /// <summary>The value inside a secret; throws when this is not a secret.</summary>
    public PropertyValue SecretValue => Kind == PropertyValueKind.Secret ? (PropertyValue)_value! : throw WrongKind(PropertyValueKind.Secret);

    /// <summary>The resource reference; throws when this is not one.</summary>
    public ResourceReference ReferenceValue =>
        Kind == PropertyValueKind.ResourceReference ? (ResourceReference)_value! : throw WrongKind(PropertyValueKind.ResourceReference);

    /// <summary>The output; throws when this is not an output.</summary>
    public OutputReference OutputValue => Kind == PropertyValueKind.Output ? (OutputReference)_value! : throw WrongKind(PropertyValueKind.Output);

    /// <summary>Whether a secret appears anywhere in this value.</summary>
    public bool ContainsSecrets() => Kind switch
    {
        PropertyValueKind.Secret => true,
        PropertyValueKind.Output => OutputValue.IsSecret || OutputValue.Value?.ContainsSecrets() == true,
        PropertyValueKind.Array => ArrayValue.Any(v => v.ContainsSecrets()),
        PropertyValueKind.Object => ObjectValue.Values.Any(v => v.ContainsSecrets()),
        _ => false,
    };

    /// <summary>Whether an unknown value appears anywhere in this value.</summary>
    public bool ContainsUnknowns() => Kind switch
    {
        PropertyValueKind.Computed => true,
        PropertyValueKind.Output => OutputValue.Value?.ContainsUnknowns() ?? true,
        PropertyValueKind.Secret => SecretValue.ContainsUnknowns(),
        PropertyValueKind.Array => ArrayValue.Any(v => v.ContainsUnknowns()),
        PropertyValueKind.Object => ObjectValue.Values.Any(v => v.ContainsUnknowns()),
        _ => false,
    };

    /// <summary>
    /// This value without its secret and output wrappers (at this level only), and whether any wrapper was
    /// secret. An unknown output unwraps to <see cref="Computed"/>.
    /// </summary>
    public (PropertyValue Value, bool IsSecret) Unwrap()
    {
        var value = this;
        var secret = false;
        while (true)
        {
            switch (value.Kind)
            {
                case PropertyValueKind.Secret:
                    secret = true;
                    value = value.SecretValue;
                    break;
                case PropertyValueKind.Output:
                    secret |= value.OutputValue.IsSecret;
                    if (value.OutputValue.Value is null)
                    {
                        return (Computed, secret);
                    }
                    value = value.OutputValue.Value;
                    break;
                default:
                    return (value, secret);
            }
        }
    }

    /// <summary>Wraps this value as a secret unless it already is one.</summary>
    public PropertyValue AsSecret() => IsSecret ? this : CreateSecret(this);

    /// <inheritdoc/>
    public bool Equals(PropertyValue? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }
        if (other is null || other.Kind != Kind)
        {
            return false;
        }
        return Kind switch
        {
            PropertyValueKind.Null or PropertyValueKind.Computed => true,
            PropertyValueKind.Bool => BoolValue == other.BoolValue,
            PropertyValueKind.Number => NumberValue.Equals(other.NumberValue),
            PropertyValueKind.String => string.Equals(StringValue, other.StringValue, StringComparison.Ordinal),
            PropertyValueKind.Array => ArrayValue.SequenceEqual(other.ArrayValue),
            PropertyValueKind.Object or PropertyValueKind.Asset or PropertyValueKind.Archive =>
                MapEquals((ImmutableSortedDictionary<string, PropertyValue>)_value!, (ImmutableSortedDictionary<string, PropertyValue>)other._value!),
            PropertyValueKind.Secret => SecretValue.Equals(other.SecretValue),
            PropertyValueKind.ResourceReference => ReferenceValue.Equals(other.ReferenceValue),
            PropertyValueKind.Output => OutputValue.Equals(other.OutputValue),
            _ => false,
        };
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PropertyValue);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Kind);
        switch (Kind)
        {
            case PropertyValueKind.Bool:
            case PropertyValueKind.Number:
            case PropertyValueKind.Secret:
            case PropertyValueKind.ResourceReference:
            case PropertyValueKind.Output:
                hash.Add(_value);
                break;
            case PropertyValueKind.String:
                hash.Add(StringValue, StringComparer.Ordinal);
                break;
            case PropertyValueKind.Array:
                foreach (var item in ArrayValue)
                {
                    hash.Add(item);
                }
                break;
            case PropertyValueKind.Object:
            case PropertyValueKind.Asset:
            case PropertyValueKind.Archive:
                foreach (var (key, value) in (ImmutableSortedDictionary<string, PropertyValue>)_value!)
                {
                    hash.Add(key, StringComparer.Ordinal);
                    hash.Add(value);
                }
                break;
        }
        return hash.ToHashCode();
    }

    /// <summary>A JSON-like rendering for diagnostics; secrets render as <c>[secret]</c>.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        Render(builder);
        return builder.ToString();
    }

    /// <summary>Equality operator (structural).</summary>
    public static bool operator ==(PropertyValue? left, PropertyValue? right) => Equals(left, right);

    /// <summary>Inequality operator (structural).</summary>
    public static bool operator !=(PropertyValue? left, PropertyValue? right) => !Equals(left, right);

    private void Render(StringBuilder builder)
    {
        switch (Kind)
        {
            case PropertyValueKind.Null:
                builder.Append("null");
                break;
            case PropertyValueKind.Bool:
                builder.Append(BoolValue ? "true" : "false");
                break;
            case PropertyValueKind.Number:
                builder.Append(NumberValue.ToString("R", CultureInfo.InvariantCulture));
                break;
            case PropertyValueKind.String:
                builder.Append('"').Append(StringValue).Append('"');
                break;
            case PropertyValueKind.Computed:
                builder.Append("[unknown]");
                break;
            case PropertyValueKind.Secret:
                builder.Append("[secret]");
                break;
            case PropertyValueKind.ResourceReference:
                builder.Append("ref(").Append(ReferenceValue.Urn).Append(')');
                break;
            case PropertyValueKind.Output:
                builder.Append(OutputValue.ToString());
                break;
            case PropertyValueKind.Asset:
                builder.Append("[asset]");
                break;
            case PropertyValueKind.Archive:
                builder.Append("[archive]");
                break;
            case PropertyValueKind.Array:
                builder.Append('[');
                var first = true;
                foreach (var item in ArrayValue)
                {
                    builder.Append(first ? "" : ",");
                    first = false;
                    item.Render(builder);
                }
                builder.Append(']');
                break;
            case PropertyValueKind.Object:
                builder.Append('{');
                var firstProperty = true;
                foreach (var (key, value) in ObjectValue)
                {
                    builder.Append(firstProperty ? "" : ",").Append('"').Append(key).Append("\":");
                    firstProperty = false;
                    value.Render(builder);
                }
                builder.Append('}');
                break;
        }
    }

    private static ImmutableSortedDictionary<string, PropertyValue> ToMap(IEnumerable<KeyValuePair<string, PropertyValue>> properties)
    {
        // A map already in ordinal order (what the binder writes and the serializer reads) is kept as it is, not rebuilt.
        if (properties is ImmutableSortedDictionary<string, PropertyValue> map && ReferenceEquals(map.KeyComparer, StringComparer.Ordinal)
            && ReferenceEquals(map.ValueComparer, EqualityComparer<PropertyValue>.Default))
        {
            foreach (var (_, value) in map)
            {
                ArgumentNullException.ThrowIfNull(value);
            }
            return map;
        }
        var builder = ImmutableSortedDictionary.CreateBuilder<string, PropertyValue>(StringComparer.Ordinal);
        foreach (var (key, value) in properties)
        {
            ArgumentNullException.ThrowIfNull(value);
            builder[key] = value;
        }
        return builder.ToImmutable();
    }

    private static bool MapEquals(ImmutableSortedDictionary<string, PropertyValue> left, ImmutableSortedDictionary<string, PropertyValue> right) =>
        left.Count == right.Count
        && left.All(entry => right.TryGetValue(entry.Key, out var other) && entry.Value.Equals(other));

    private InvalidOperationException WrongKind(PropertyValueKind expected) =>
        new($"expected a {expected} value but this is a {Kind} value");
}
