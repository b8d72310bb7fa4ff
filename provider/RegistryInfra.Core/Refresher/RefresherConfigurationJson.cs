using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace RegistryInfra.Core.Refresher;

/// <summary>
/// The JSON form of <see cref="RefresherConfiguration"/> (camelCase, durations in Go's form, nulls and empty lists
/// left out), with source-generated serialisation so NativeAOT programs can write and read it. Reading goes
/// through <see cref="Read"/>, which checks the document's shape against the records first: unknown keys (with
/// "did you mean"), scalars of the wrong kind and lists where mappings belong are problems with their path,
/// never an exception.
/// </summary>
public static class RefresherConfigurationJson
{
    private static readonly JsonSerializerOptions Options = new(RefresherConfigurationJsonContext.Default.Options)
    {
        TypeInfoResolver = RefresherConfigurationJsonContext.Default.WithAddedModifier(LeaveOutEmptyLists),
    };

    private static JsonTypeInfo<RefresherConfiguration> TypeInfo => (JsonTypeInfo<RefresherConfiguration>)Options.GetTypeInfo(typeof(RefresherConfiguration));

    /// <summary>The configuration as JSON, which the refresher reads as YAML or JSON alike.</summary>
    public static string ToJson(RefresherConfiguration configuration, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var node = JsonSerializer.SerializeToNode(configuration, TypeInfo)!;
        return node.ToJsonString(indented ? IndentedOptions : Options);
    }

    private static readonly JsonSerializerOptions IndentedOptions = new(Options) { WriteIndented = true };

    /// <summary>Parses JSON text and reads it with <see cref="Read"/>.</summary>
    public static RefresherConfiguration? FromJson(string json, List<ConfigurationProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            problems.Add(new("config", $"not valid JSON at line {(e.LineNumber + 1)?.ToString(CultureInfo.InvariantCulture) ?? "?"}"));
            return null;
        }
        return Read(root, problems);
    }

    /// <summary>
    /// Reads a configuration from a JSON tree (parsed JSON, or YAML turned into JSON with every scalar a string:
    /// strings are turned into numbers, booleans and durations where the field takes one). Returns null and adds
    /// to <paramref name="problems"/> when the shape is wrong; the result still needs
    /// <see cref="RefresherConfigurationValidator.Validate"/>. A null value means "not set".
    /// </summary>
    public static RefresherConfiguration? Read(JsonNode? root, List<ConfigurationProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (root is not JsonObject)
        {
            problems.Add(new("config", $"must hold a mapping at the top level (got {Describe(root)})"));
            return null;
        }
        var before = problems.Count;
        var normalized = Normalize(root.DeepClone(), TypeInfo, "", problems);
        if (problems.Count > before)
        {
            return null;
        }
        try
        {
            return normalized.Deserialize(TypeInfo);
        }
        catch (JsonException e)
        {
            // The shape check above should leave nothing for the serialiser to refuse; this keeps it a problem, not a crash.
            problems.Add(new(e.Path is { Length: > 2 } p ? p[2..] : "config", "cannot be read"));
            return null;
        }
    }

    /// <summary>
    /// Sets one value given as text (an environment override such as <c>REFRESHER_TARGETS__0__SECRETNAME</c>) at
    /// <paramref name="path"/> in <paramref name="root"/>, matching each key to a field without regard to case and
    /// creating mappings and list items on the way. A path that names no field is a problem named after <paramref name="origin"/>.
    /// </summary>
    public static void Override(JsonObject root, IReadOnlyList<string> path, string value, string origin, List<ConfigurationProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(problems);
        JsonNode container = root;
        JsonTypeInfo info = TypeInfo;
        for (var i = 0; i < path.Count; i++)
        {
            var last = i == path.Count - 1;
            if (info.Kind == JsonTypeInfoKind.Object && container is JsonObject map)
            {
                var property = info.Properties.FirstOrDefault(p => string.Equals(p.Name, path[i], StringComparison.OrdinalIgnoreCase));
                if (property is null)
                {
                    problems.Add(new(origin, $"names no configuration field ('{path[i]}'{Suggestion(path[i], info)})"));
                    return;
                }
                info = Options.GetTypeInfo(property.PropertyType);
                if (last)
                {
                    map[property.Name] = JsonValue.Create(value);
                    return;
                }
                if (map[property.Name] is not { } child)
                {
                    child = info.Kind == JsonTypeInfoKind.Enumerable ? new JsonArray() : new JsonObject();
                    map[property.Name] = child;
                }
                container = child;
            }
            else if (info.Kind == JsonTypeInfoKind.Enumerable && container is JsonArray list && info.ElementType is { } elementType
                && int.TryParse(path[i], NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index <= list.Count)
            {
                info = Options.GetTypeInfo(elementType);
                if (index == list.Count)
                {
                    list.Add((JsonNode?)(last || info.Kind != JsonTypeInfoKind.Object ? null : new JsonObject()));
                }
                if (last)
                {
                    list[index] = JsonValue.Create(value);
                    return;
                }
                list[index] ??= new JsonObject();
                container = list[index]!;
            }
            else
            {
                problems.Add(new(origin, $"'{path[i]}' does not fit there (a list index must be at most the list's length; a mapping needs a field name)"));
                return;
            }
        }
        problems.Add(new(origin, "names a mapping or list, not a value"));
    }

    private static JsonNode? Normalize(JsonNode? node, JsonTypeInfo info, string path, List<ConfigurationProblem> problems)
    {
        var at = path.Length == 0 ? "config" : path;
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                if (node is not JsonObject map)
                {
                    problems.Add(new(at, $"must be a mapping (got {Describe(node)})"));
                    return node;
                }
                var result = new JsonObject();
                foreach (var (key, value) in map)
                {
                    var childPath = path.Length == 0 ? key : $"{path}.{key}";
                    var property = info.Properties.FirstOrDefault(p => p.Name == key);
                    if (property is null)
                    {
                        problems.Add(new(childPath, $"unknown key{Suggestion(key, info)}"));
                        continue;
                    }
                    if (value is null)
                    {
                        continue;
                    }
                    result[key] = Normalize(value.DeepClone(), Options.GetTypeInfo(property.PropertyType), childPath, problems);
                }
                return result;
            case JsonTypeInfoKind.Enumerable:
                if (node is not JsonArray list || info.ElementType is not { } elementType)
                {
                    problems.Add(new(at, $"must be a list (got {Describe(node)})"));
                    return node;
                }
                var elementInfo = Options.GetTypeInfo(elementType);
                var items = new JsonArray();
                for (var i = 0; i < list.Count; i++)
                {
                    items.Add(Normalize(list[i]?.DeepClone(), elementInfo, $"{at}[{i.ToString(CultureInfo.InvariantCulture)}]", problems));
                }
                return items;
            default:
                return Scalar(node, Nullable.GetUnderlyingType(info.Type) ?? info.Type, at, problems);
        }
    }

    private static JsonNode? Scalar(JsonNode? node, Type type, string at, List<ConfigurationProblem> problems)
    {
        if (node is not JsonValue value)
        {
            if (node is not null)
            {
                problems.Add(new(at, $"must be a single value (got {Describe(node)})"));
            }
            return node;
        }
        var text = value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => value.ToJsonString(),
        };
        if (type == typeof(string))
        {
            return JsonValue.Create(text);
        }
        if (type == typeof(int))
        {
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                return JsonValue.Create(number);
            }
            problems.Add(new(at, $"'{Shorten(text)}' is not a whole number"));
            return node;
        }
        if (type == typeof(bool))
        {
            // YAML 1.2's core schema spellings of the two booleans.
            switch (text)
            {
                case "true" or "True" or "TRUE":
                    return JsonValue.Create(true);
                case "false" or "False" or "FALSE":
                    return JsonValue.Create(false);
            }
            problems.Add(new(at, $"'{Shorten(text)}' is not true or false"));
            return node;
        }
        if (type == typeof(TimeSpan))
        {
            if (Duration.TryParse(text, out var duration))
            {
                return JsonValue.Create(Duration.Format(duration));
            }
            problems.Add(new(at, $"'{Shorten(text)}' is not a duration; use e.g. 6h, 30m or 1h30m"));
            return node;
        }
        problems.Add(new(at, "has a type this reader does not know"));
        return node;
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "nothing",
        JsonObject => "a mapping",
        JsonArray => "a list",
        _ => $"'{Shorten(node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString())}'",
    };

    // A value quoted in a message is cut: a message goes to logs and stderr and must stay one readable line.
    private static string Shorten(string text) => text.Length <= 64 ? text : text[..61] + "...";

    private static string Suggestion(string key, JsonTypeInfo info)
    {
        var names = info.Properties.Select(p => p.Name).ToList();
        var best = names.Select(n => (Name: n, Distance: EditDistance(key.ToLowerInvariant(), n.ToLowerInvariant())))
            .OrderBy(c => c.Distance).FirstOrDefault();
        if (best.Name is not null && best.Distance <= Math.Max(2, key.Length / 4))
        {
            return $"; did you mean '{best.Name}'?";
        }
        return $" (known keys: {string.Join(", ", names)})";
    }

    private static int EditDistance(string a, string b)
    {
        if (a.Length > 128 || b.Length > 128)
        {
            return int.MaxValue;
        }
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private static void LeaveOutEmptyLists(JsonTypeInfo info)
    {
        foreach (var property in info.Properties)
        {
            if (property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
            {
                property.ShouldSerialize = static (_, value) => value is not System.Collections.ICollection { Count: 0 };
            }
            else if (property.PropertyType == typeof(bool))
            {
                property.ShouldSerialize = static (_, value) => value is true;
            }
        }
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    Converters = [typeof(DurationJsonConverter)])]
[JsonSerializable(typeof(RefresherConfiguration))]
internal sealed partial class RefresherConfigurationJsonContext : JsonSerializerContext;
