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

        /// <summary>The string and number leaves found under a secret, as text.</summary>
        public HashSet<string> SecretValues { get; } = new(StringComparer.Ordinal);

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
                return Remember(ToJson(value.SecretValue, path, findings), findings);
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
                var inner = ToJson(output.Value, path, findings);
                return output.IsSecret ? Remember(inner, findings) : inner;
            case PropertyValueKind.ResourceReference:
                return JsonValue.Create(value.ReferenceValue.Urn);
            default:
                throw new ArgumentException($"{path}: a {value.Kind} is not accepted here");
        }
    }

    private static readonly char[] SegmentSeparators = [':', '/', '@', '=', ',', ' ', '"'];

    // Shorter parts are words such as "aws" or "iam" that would make unrelated values secret.
    private const int MinimumSegment = 8;

    private static JsonNode? Remember(JsonNode? node, Findings findings)
    {
        foreach (var leaf in Leaves(node))
        {
            findings.SecretValues.Add(leaf);
            // Builders also take parts of a value (the account of an ARN, a host); long parts count as the secret too.
            foreach (var part in leaf.Split(SegmentSeparators, StringSplitOptions.RemoveEmptyEntries).Where(p => p.Length >= MinimumSegment && p != leaf))
            {
                findings.SecretValues.Add(part);
            }
        }
        return node;
    }

    private static IEnumerable<string> Leaves(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(kv => Leaves(kv.Value)),
        JsonArray a => a.SelectMany(Leaves),
        JsonValue v when v.TryGetValue<string>(out var text) => text.Length == 0 || Computed.IsComputed(text) ? [] : [text],
        JsonValue v when v.TryGetValue<bool>(out _) => [],
        JsonValue v => [v.ToJsonString()],
        _ => [],
    };

    /// <summary>
    /// The top-level keys of <paramref name="json"/> whose value carries a secret input: a string leaf that
    /// contains one of <paramref name="secretValues"/> (a secret input's value or a part of it of 8 or more
    /// characters between <c>: / @ = ,</c>). The builders copy input values into children and outputs
    /// verbatim, embed them in a larger string (a JSON document, an ARN), or take parts of them (the account
    /// of an OIDC provider ARN), so containment is what "derived from a secret" means for them. Values
    /// derived by one-way functions (the run-on-deploy Job's name hashes the configuration) are not secret.
    /// </summary>
    public static IEnumerable<string> KeysCarrying(JsonObject json, IReadOnlySet<string> secretValues)
    {
        if (secretValues.Count == 0)
        {
            return [];
        }
        return json.Where(kv => Strings(kv.Value).Any(text => secretValues.Any(secret => text.Contains(secret, StringComparison.Ordinal))))
            .Select(kv => kv.Key).ToList();
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(kv => Strings(kv.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.TryGetValue<string>(out var text) => [text],
        JsonValue v when v.TryGetValue<bool>(out _) => [],
        JsonValue v => [v.ToJsonString()],
        _ => [],
    };

    public static ImmutableSortedDictionary<string, PropertyValue> ToProperties(JsonObject json, IEnumerable<string> secretKeys)
    {
        var secret = new HashSet<string>(secretKeys, StringComparer.Ordinal);
        var builder = ImmutableSortedDictionary.CreateBuilder<string, PropertyValue>(StringComparer.Ordinal);
        foreach (var (key, node) in json)
        {
            var value = ToProperty(node);
            builder[key] = secret.Contains(key) ? PropertyValue.CreateSecret(value) : value;
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
