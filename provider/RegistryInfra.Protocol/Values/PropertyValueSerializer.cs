using System.Collections.Immutable;
using Google.Protobuf.WellKnownTypes;

namespace RegistryInfra.Protocol.Values;

/// <summary>
/// The one encoding of <see cref="PropertyValue"/> as <c>google.protobuf.Value</c>/<c>Struct</c>, with the
/// signature objects of the Pulumi protocol. Reading then writing a value gives back the same wire bytes.
/// </summary>
public static class PropertyValueSerializer
{
    /// <summary>Encodes a property map as a Struct.</summary>
    public static Struct Serialize(IEnumerable<KeyValuePair<string, PropertyValue>> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var result = new Struct();
        foreach (var (key, value) in properties)
        {
            result.Fields[key] = Serialize(value);
        }
        return result;
    }

    /// <summary>Encodes one value.</summary>
    public static Value Serialize(PropertyValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (value.Kind)
        {
            case PropertyValueKind.Null:
                return Value.ForNull();
            case PropertyValueKind.Bool:
                return Value.ForBool(value.BoolValue);
            case PropertyValueKind.Number:
                return Value.ForNumber(value.NumberValue);
            case PropertyValueKind.String:
                return Value.ForString(value.StringValue);
            case PropertyValueKind.Computed:
                return Value.ForString(value.UnknownSentinel ?? UnknownValues.String);
            case PropertyValueKind.Array:
                return Value.ForList([.. value.ArrayValue.Select(Serialize)]);
            case PropertyValueKind.Object:
                return Value.ForStruct(Serialize(value.ObjectValue));
            case PropertyValueKind.Asset:
            case PropertyValueKind.Archive:
                var fields = Serialize(value.AssetOrArchiveFields);
                fields.Fields[Signatures.Key] = Value.ForString(value.Kind == PropertyValueKind.Asset ? Signatures.Asset : Signatures.Archive);
                return Value.ForStruct(fields);
            case PropertyValueKind.Secret:
                return Signed(Signatures.Secret, ("value", Serialize(value.SecretValue)));
            case PropertyValueKind.ResourceReference:
                var reference = value.ReferenceValue;
                var referenceFields = new List<(string, Value)> { ("urn", Value.ForString(reference.Urn)) };
                if (reference.Id is not null)
                {
                    referenceFields.Add(("id", Value.ForString(reference.Id)));
                }
                if (reference.PackageVersion is not null)
                {
                    referenceFields.Add(("packageVersion", Value.ForString(reference.PackageVersion)));
                }
                if (reference.Name is not null)
                {
                    referenceFields.Add(("name", Value.ForString(reference.Name)));
                }
                if (reference.Type is not null)
                {
                    referenceFields.Add(("type", Value.ForString(reference.Type)));
                }
                return Signed(Signatures.ResourceReference, [.. referenceFields]);
            case PropertyValueKind.Output:
                var output = value.OutputValue;
                var outputFields = new List<(string, Value)>();
                if (output.Value is not null)
                {
                    outputFields.Add(("value", Serialize(output.Value)));
                }
                if (output.IsSecret)
                {
                    outputFields.Add(("secret", Value.ForBool(true)));
                }
                if (output.Dependencies.Length > 0)
                {
                    outputFields.Add(("dependencies", Value.ForList([.. output.Dependencies.Select(Value.ForString)])));
                }
                return Signed(Signatures.OutputValue, [.. outputFields]);
            default:
                throw new InvalidOperationException($"cannot encode a {value.Kind} value");
        }
    }

    /// <summary>Decodes a Struct as a property map; a null Struct is the empty map.</summary>
    /// <exception cref="FormatException">A signature object is malformed; the message names the property path.</exception>
    public static ImmutableSortedDictionary<string, PropertyValue> Deserialize(Struct? properties) =>
        properties is null ? ImmutableSortedDictionary.Create<string, PropertyValue>(StringComparer.Ordinal) : DeserializeFields(properties, "");

    /// <summary>Decodes one value.</summary>
    /// <exception cref="FormatException">A signature object is malformed; the message names the property path.</exception>
    public static PropertyValue Deserialize(Value value) => Deserialize(value, "");

    /// <summary>Decodes the field <paramref name="key"/> of a Struct alone, as <see cref="Deserialize(Struct)"/> decodes it among the others.</summary>
    /// <exception cref="FormatException">A signature object is malformed; the message names the property path.</exception>
    public static bool TryDeserializeField(Struct properties, string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out PropertyValue value)
    {
        ArgumentNullException.ThrowIfNull(properties);
        if (!properties.Fields.TryGetValue(key, out var item))
        {
            value = null;
            return false;
        }
        value = Deserialize(item, key);
        return true;
    }

    private static PropertyValue Deserialize(Value value, string path)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (value.KindCase)
        {
            case Value.KindOneofCase.None:
            case Value.KindOneofCase.NullValue:
                return PropertyValue.Null;
            case Value.KindOneofCase.BoolValue:
                return PropertyValue.Create(value.BoolValue);
            case Value.KindOneofCase.NumberValue:
                return PropertyValue.Create(value.NumberValue);
            case Value.KindOneofCase.StringValue:
                return UnknownValues.IsSentinel(value.StringValue)
                    ? PropertyValue.CreateComputed(value.StringValue)
                    : PropertyValue.Create(value.StringValue);
            case Value.KindOneofCase.ListValue:
                return PropertyValue.CreateArray(value.ListValue.Values.Select((item, index) => Deserialize(item, $"{path}[{index}]")));
            case Value.KindOneofCase.StructValue:
                return DeserializeObject(value.StructValue, path);
            default:
                throw new FormatException($"{Describe(path)}: unsupported value kind {value.KindCase}");
        }
    }

    private static PropertyValue DeserializeObject(Struct structValue, string path)
    {
        if (!structValue.Fields.TryGetValue(Signatures.Key, out var signature))
        {
            return PropertyValue.CreateObject(DeserializeFields(structValue, path));
        }
        if (signature.KindCase != Value.KindOneofCase.StringValue)
        {
            throw new FormatException($"{Describe(path)}: the signature key must hold a string");
        }
        var fields = structValue.Fields;
        switch (signature.StringValue)
        {
            case Signatures.Secret:
                return PropertyValue.CreateSecret(Deserialize(Required(fields, "value", path, "secret"), path));
            case Signatures.ResourceReference:
                return PropertyValue.CreateReference(new ResourceReference(
                    Urn: RequiredString(fields, "urn", path),
                    Id: OptionalString(fields, "id", path),
                    PackageVersion: OptionalString(fields, "packageVersion", path),
                    Name: OptionalString(fields, "name", path),
                    Type: OptionalString(fields, "type", path)));
            case Signatures.OutputValue:
                var known = fields.TryGetValue("value", out var element);
                var secret = false;
                if (fields.TryGetValue("secret", out var secretValue))
                {
                    secret = secretValue.KindCase == Value.KindOneofCase.BoolValue
                        ? secretValue.BoolValue
                        : throw new FormatException($"{Describe(path)}: output 'secret' must be a bool");
                }
                var dependencies = new List<string>();
                if (fields.TryGetValue("dependencies", out var dependencyList))
                {
                    if (dependencyList.KindCase != Value.KindOneofCase.ListValue
                        || dependencyList.ListValue.Values.Any(d => d.KindCase != Value.KindOneofCase.StringValue))
                    {
                        throw new FormatException($"{Describe(path)}: output 'dependencies' must be a list of URN strings");
                    }
                    dependencies.AddRange(dependencyList.ListValue.Values.Select(d => d.StringValue));
                }
                return PropertyValue.CreateOutput(new OutputReference(known ? Deserialize(element!, path) : null, secret, dependencies));
            case Signatures.Asset:
                return PropertyValue.CreateAsset(DeserializeFields(structValue, path).Remove(Signatures.Key));
            case Signatures.Archive:
                return PropertyValue.CreateArchive(DeserializeFields(structValue, path).Remove(Signatures.Key));
            default:
                throw new FormatException($"{Describe(path)}: unrecognized signature '{signature.StringValue}'");
        }
    }

    private static ImmutableSortedDictionary<string, PropertyValue> DeserializeFields(Struct structValue, string path)
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<string, PropertyValue>(StringComparer.Ordinal);
        foreach (var (key, item) in structValue.Fields)
        {
            builder[key] = Deserialize(item, path.Length == 0 ? key : $"{path}.{key}");
        }
        return builder.ToImmutable();
    }

    private static Value Signed(string signature, params (string Key, Value Value)[] fields)
    {
        var result = new Struct();
        result.Fields[Signatures.Key] = Value.ForString(signature);
        foreach (var (key, fieldValue) in fields)
        {
            result.Fields[key] = fieldValue;
        }
        return Value.ForStruct(result);
    }

    private static Value Required(Google.Protobuf.Collections.MapField<string, Value> fields, string key, string path, string what) =>
        fields.TryGetValue(key, out var value) ? value : throw new FormatException($"{Describe(path)}: malformed {what}: missing '{key}'");

    private static string RequiredString(Google.Protobuf.Collections.MapField<string, Value> fields, string key, string path) =>
        OptionalString(fields, key, path) ?? throw new FormatException($"{Describe(path)}: malformed resource reference: missing '{key}'");

    private static string? OptionalString(Google.Protobuf.Collections.MapField<string, Value> fields, string key, string path)
    {
        if (!fields.TryGetValue(key, out var value))
        {
            return null;
        }
        return value.KindCase == Value.KindOneofCase.StringValue
            ? value.StringValue
            : throw new FormatException($"{Describe(path)}: malformed resource reference: '{key}' must be a string");
    }

    private static string Describe(string path) => path.Length == 0 ? "value" : path;
}
