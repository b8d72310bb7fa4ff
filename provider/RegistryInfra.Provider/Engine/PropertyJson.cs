using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Provider.Engine;

/// <summary>
/// Between the protocol's property values and the plain JSON the component builders work on. Unknown
/// values become <see cref="Computed.Sentinel"/> strings and back; secrets are unwrapped on the way in
/// (the caller is told which paths were secret) and re-applied on the way out by key.
/// </summary>
internal static class PropertyJson
{
    /// <summary>What reading the inputs found besides the values.</summary>
    public sealed class Findings
    {
        public List<string> SecretPaths { get; } = [];

        public bool HasUnknowns { get; set; }
    }

    public static JsonObject ToJson(ImmutableSortedDictionary<string, PropertyValue> properties, Findings findings)
    {
        var result = new JsonObject();
        foreach (var (key, value) in properties)
        {
            result[key] = ToJson(value, key, findings);
        }
        return result;
    }

    private static JsonNode? ToJson(PropertyValue value, string path, Findings findings)
    {
        switch (value.Kind)
        {
            case PropertyValueKind.Null:
                return null;
            case PropertyValueKind.Bool:
                return JsonValue.Create(value.BoolValue);
            case PropertyValueKind.Number:
                var number = value.NumberValue;
                return number == Math.Floor(number) && Math.Abs(number) < 1e15 ? JsonValue.Create((long)number) : JsonValue.Create(number);
            case PropertyValueKind.String:
                return JsonValue.Create(value.StringValue);
            case PropertyValueKind.Array:
                return new JsonArray([.. value.ArrayValue.Select((v, i) => ToJson(v, $"{path}[{i}]", findings))]);
            case PropertyValueKind.Object:
                var obj = new JsonObject();
                foreach (var (key, item) in value.ObjectValue)
                {
                    obj[key] = ToJson(item, $"{path}.{key}", findings);
                }
                return obj;
            case PropertyValueKind.Secret:
                findings.SecretPaths.Add(path);
                return ToJson(value.SecretValue, path, findings);
            case PropertyValueKind.Computed:
                findings.HasUnknowns = true;
                return JsonValue.Create(Computed.Sentinel);
            case PropertyValueKind.Output:
                var output = value.OutputValue;
                if (output.IsSecret)
                {
                    findings.SecretPaths.Add(path);
                }
                if (output.Value is null)
                {
                    findings.HasUnknowns = true;
                    return JsonValue.Create(Computed.Sentinel);
                }
                return ToJson(output.Value, path, findings);
            case PropertyValueKind.ResourceReference:
                return JsonValue.Create(value.ReferenceValue.Urn);
            default:
                throw new ArgumentException($"{path}: a {value.Kind} is not accepted here");
        }
    }

    public static ImmutableSortedDictionary<string, PropertyValue> ToProperties(JsonObject json, IEnumerable<string> secretKeys, bool allSecret = false)
    {
        var secret = new HashSet<string>(secretKeys, StringComparer.Ordinal);
        var builder = ImmutableSortedDictionary.CreateBuilder<string, PropertyValue>(StringComparer.Ordinal);
        foreach (var (key, node) in json)
        {
            var value = ToProperty(node);
            builder[key] = allSecret || secret.Contains(key) ? PropertyValue.CreateSecret(value) : value;
        }
        return builder.ToImmutable();
    }

    public static PropertyValue ToProperty(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return PropertyValue.Null;
            case JsonObject obj:
                return PropertyValue.CreateObject(obj.Select(kv => KeyValuePair.Create(kv.Key, ToProperty(kv.Value))));
            case JsonArray array:
                return PropertyValue.CreateArray(array.Select(ToProperty));
            case JsonValue value:
                if (value.TryGetValue<string>(out var text))
                {
                    return Computed.IsComputed(text) ? PropertyValue.Computed : PropertyValue.Create(text);
                }
                if (value.TryGetValue<bool>(out var flag))
                {
                    return PropertyValue.Create(flag);
                }
                if (value.TryGetValue<double>(out var number))
                {
                    return PropertyValue.Create(number);
                }
                return PropertyValue.Create(double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture));
            default:
                throw new ArgumentException("unsupported JSON node");
        }
    }
}
