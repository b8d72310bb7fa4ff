using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RegistryInfra.Programs.Tests;

/// <summary>One thing wrong in a program, with where it is.</summary>
public sealed record ProgramProblem(string File, int Line, int Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>
/// Type-checks the <c>registryinfra:*</c> resources and function calls of a Pulumi YAML program against a
/// package schema: the token exists, required inputs are present, no unknown inputs, and literal values
/// have the schema's types (interpolations and most <c>fn::</c> results are accepted as any type, as the
/// YAML runtime only knows them at run time).
/// </summary>
public sealed partial class ProgramChecker
{
    private readonly JsonObject _schema;
    private readonly string _package;

    public ProgramChecker(JsonObject schema)
    {
        _schema = schema;
        _package = schema["name"]?.GetValue<string>() ?? throw new ArgumentException("schema has no name", nameof(schema));
    }

    public static ProgramChecker FromFile(string schemaPath) =>
        new((JsonNode.Parse(File.ReadAllText(schemaPath)) as JsonObject) ?? throw new InvalidDataException($"{schemaPath}: not a JSON object"));

    /// <summary>How many resources and calls of this package the last checked program declared.</summary>
    public sealed record Result(IReadOnlyList<ProgramProblem> Problems, int PackageResources, int PackageCalls);

    public Result Check(string displayName, string yaml)
    {
        var problems = new List<ProgramProblem>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            problems.Add(new ProgramProblem(displayName, (int)e.Start.Line, (int)e.Start.Column, "not valid YAML: " + e.Message));
            return new Result(problems, 0, 0);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            problems.Add(new ProgramProblem(displayName, 1, 1, "a Pulumi YAML program is a mapping at the top level"));
            return new Result(problems, 0, 0);
        }
        var context = new Context(displayName, problems);
        var resources = 0;
        if (Child(root, "resources") is YamlMappingNode resourceMap)
        {
            foreach (var (key, value) in resourceMap.Children)
            {
                if (value is YamlMappingNode resource && Scalar(Child(resource, "type")) is { } type && IsOurs(type))
                {
                    resources++;
                    CheckResource(context, ((YamlScalarNode)key).Value ?? "", type, resource);
                }
            }
        }
        var calls = 0;
        foreach (var invoke in FindInvokes(root))
        {
            calls += CheckInvoke(context, invoke) ? 1 : 0;
        }
        return new Result(problems, resources, calls);
    }

    private bool IsOurs(string token) => token.StartsWith(_package + ":", StringComparison.Ordinal);

    private sealed record Context(string File, List<ProgramProblem> Problems)
    {
        public void Add(YamlNode node, string message) =>
            Problems.Add(new ProgramProblem(File, (int)node.Start.Line, (int)node.Start.Column, message));
    }

    private void CheckResource(Context context, string name, string type, YamlMappingNode resource)
    {
        var subject = $"resource '{name}' ({type})";
        if (_schema["resources"]?[type] is not JsonObject spec)
        {
            context.Add(resource, $"{subject}: the package has no resource '{type}'{Suggest(type, Keys(_schema["resources"]))}");
            return;
        }
        if (Child(resource, "get") is not null)
        {
            return; // a read of an existing resource takes an id and state, not inputs
        }
        var properties = Child(resource, "properties");
        CheckInputs(context, subject, type, properties ?? resource, properties as YamlMappingNode,
            spec["inputProperties"] as JsonObject, spec["requiredInputs"] as JsonArray);
    }

    private bool CheckInvoke(Context context, YamlMappingNode invoke)
    {
        var function = Scalar(Child(invoke, "function"));
        if (function is null || !IsOurs(function))
        {
            return false;
        }
        var subject = $"call of {function}";
        if (_schema["functions"]?[function] is not JsonObject spec)
        {
            context.Add(invoke, $"{subject}: the package has no function '{function}'{Suggest(function, Keys(_schema["functions"]))}");
            return true;
        }
        var inputs = spec["inputs"] as JsonObject;
        var arguments = Child(invoke, "arguments");
        CheckInputs(context, subject, function, arguments ?? invoke, arguments as YamlMappingNode,
            inputs?["properties"] as JsonObject, inputs?["required"] as JsonArray);
        if (Child(invoke, "return") is YamlScalarNode returned && returned.Value is { } field)
        {
            var outputs = spec["outputs"]?["properties"] as JsonObject;
            if (outputs is null || !outputs.ContainsKey(field))
            {
                context.Add(returned, $"{subject}: 'return: {field}' is not an output of {function}{Suggest(field, Keys(outputs))}");
            }
        }
        return true;
    }

    private void CheckInputs(Context context, string subject, string token, YamlNode at, YamlMappingNode? given,
        JsonObject? declared, JsonArray? required)
    {
        declared ??= [];
        var present = new HashSet<string>(StringComparer.Ordinal);
        if (given is not null)
        {
            foreach (var (key, value) in given.Children)
            {
                var property = ((YamlScalarNode)key).Value ?? "";
                present.Add(property);
                if (declared[property] is not JsonObject propertySpec)
                {
                    context.Add(key, $"{subject}: property '{property}' is not an input of {token}{Suggest(property, Keys(declared))}");
                    continue;
                }
                CheckValue(context, $"{subject}: property '{property}'", value, propertySpec);
            }
        }
        foreach (var name in required?.Select(r => r!.GetValue<string>()) ?? [])
        {
            if (!present.Contains(name))
            {
                context.Add(at, $"{subject}: required property '{name}' is missing");
            }
        }
    }

    private void CheckValue(Context context, string path, YamlNode value, JsonObject spec)
    {
        var actual = KindOf(value);
        if (actual == ValueKind.Any)
        {
            return;
        }
        if (actual == ValueKind.Secret)
        {
            CheckValue(context, path, ((YamlMappingNode)value).Children.Single().Value, spec);
            return;
        }
        if (spec["oneOf"] is JsonArray alternatives)
        {
            foreach (var alternative in alternatives.OfType<JsonObject>())
            {
                var trial = context with { Problems = [] };
                CheckValue(trial, path, value, alternative);
                if (trial.Problems.Count == 0)
                {
                    return;
                }
            }
            context.Add(value, $"{path}: matches none of the allowed types");
            return;
        }
        if (spec["$ref"]?.GetValue<string>() is { } reference)
        {
            CheckReference(context, path, value, actual, reference);
            return;
        }
        switch (spec["type"]?.GetValue<string>())
        {
            case "string":
                Expect(context, path, value, actual, ValueKind.String, "a string");
                break;
            case "integer":
                if (Expect(context, path, value, actual, ValueKind.Number, "an integer") &&
                    !long.TryParse(((YamlScalarNode)value).Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                {
                    context.Add(value, $"{path}: expected an integer, got '{((YamlScalarNode)value).Value}'");
                }
                break;
            case "number":
                Expect(context, path, value, actual, ValueKind.Number, "a number");
                break;
            case "boolean":
                Expect(context, path, value, actual, ValueKind.Boolean, "true or false");
                break;
            case "array":
                if (Expect(context, path, value, actual, ValueKind.Array, "a list") && spec["items"] is JsonObject items)
                {
                    var i = 0;
                    foreach (var item in ((YamlSequenceNode)value).Children)
                    {
                        CheckValue(context, $"{path}[{i++}]", item, items);
                    }
                }
                break;
            case "object":
                if (Expect(context, path, value, actual, ValueKind.Object, "a map") && spec["additionalProperties"] is JsonObject values)
                {
                    foreach (var (key, item) in ((YamlMappingNode)value).Children)
                    {
                        CheckValue(context, $"{path}.{((YamlScalarNode)key).Value}", item, values);
                    }
                }
                break;
        }
    }

    private void CheckReference(Context context, string path, YamlNode value, ValueKind actual, string reference)
    {
        const string local = "#/types/";
        if (!reference.StartsWith(local, StringComparison.Ordinal))
        {
            return; // pulumi.json#/Any, Asset, Archive, Json, or another package's type: not ours to check
        }
        var token = Uri.UnescapeDataString(reference[local.Length..]);
        if (_schema["types"]?[token] is not JsonObject type)
        {
            context.Add(value, $"{path}: the schema refers to a type '{token}' that it does not define");
            return;
        }
        if (type["enum"] is JsonArray choices)
        {
            if (actual is ValueKind.String or ValueKind.Number or ValueKind.Boolean)
            {
                var text = ((YamlScalarNode)value).Value;
                var allowed = choices.Select(c => c?["value"]?.ToString()).ToList();
                if (!allowed.Contains(text, StringComparer.Ordinal))
                {
                    context.Add(value, $"{path}: '{text}' is not one of {string.Join(", ", allowed.Select(a => $"'{a}'"))}");
                }
            }
            else
            {
                context.Add(value, $"{path}: expected one of the values of {token}, got {Describe(actual)}");
            }
            return;
        }
        if (Expect(context, path, value, actual, ValueKind.Object, $"an object of type {token}"))
        {
            CheckInputs(context, path, token, value, (YamlMappingNode)value, type["properties"] as JsonObject, type["required"] as JsonArray);
        }
    }

    private static bool Expect(Context context, string path, YamlNode value, ValueKind actual, ValueKind expected, string description)
    {
        if (actual == expected)
        {
            return true;
        }
        context.Add(value, $"{path}: expected {description}, got {Describe(actual)}");
        return false;
    }

    private enum ValueKind { Any, Secret, String, Number, Boolean, Null, Array, Object }

    private static string Describe(ValueKind kind) => kind switch
    {
        ValueKind.String => "a string",
        ValueKind.Number => "a number",
        ValueKind.Boolean => "a boolean",
        ValueKind.Null => "null",
        ValueKind.Array => "a list",
        ValueKind.Object => "a map",
        _ => kind.ToString(),
    };

    // Built-in functions whose result type is known without running the program.
    private static readonly Dictionary<string, ValueKind> FunctionResults = new(StringComparer.Ordinal)
    {
        ["fn::toJSON"] = ValueKind.String,
        ["fn::join"] = ValueKind.String,
        ["fn::toBase64"] = ValueKind.String,
        ["fn::fromBase64"] = ValueKind.String,
        ["fn::readFile"] = ValueKind.String,
        ["fn::split"] = ValueKind.Array,
    };

    private static ValueKind KindOf(YamlNode node)
    {
        switch (node)
        {
            case YamlSequenceNode:
                return ValueKind.Array;
            case YamlMappingNode map when map.Children.Count == 1 && map.Children.Keys.Single() is YamlScalarNode { Value: { } key } && key.StartsWith("fn::", StringComparison.Ordinal):
                return key == "fn::secret" ? ValueKind.Secret : FunctionResults.GetValueOrDefault(key, ValueKind.Any);
            case YamlMappingNode:
                return ValueKind.Object;
            case YamlScalarNode scalar:
                var text = scalar.Value ?? "";
                if (WholeInterpolation().IsMatch(text))
                {
                    return ValueKind.Any;
                }
                if (text.Contains("${", StringComparison.Ordinal) || scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
                {
                    return ValueKind.String;
                }
                if (text is "true" or "false" or "True" or "False" or "TRUE" or "FALSE")
                {
                    return ValueKind.Boolean;
                }
                if (text is "" or "~" or "null" or "Null" or "NULL")
                {
                    return ValueKind.Null;
                }
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? ValueKind.Number : ValueKind.String;
            default:
                return ValueKind.Any;
        }
    }

    private static IEnumerable<YamlMappingNode> FindInvokes(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    if (key is YamlScalarNode { Value: "fn::invoke" } && value is YamlMappingNode invoke)
                    {
                        yield return invoke;
                    }
                    foreach (var nested in FindInvokes(value))
                    {
                        yield return nested;
                    }
                }
                break;
            case YamlSequenceNode sequence:
                foreach (var nested in sequence.Children.SelectMany(FindInvokes))
                {
                    yield return nested;
                }
                break;
        }
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? Scalar(YamlNode? node) => (node as YamlScalarNode)?.Value;

    private static IEnumerable<string> Keys(JsonNode? node) => (node as JsonObject)?.Select(p => p.Key) ?? [];

    private static string Suggest(string given, IEnumerable<string> known)
    {
        var best = known.Select(k => (k, d: Distance(given, k))).Where(x => x.d <= Math.Max(2, given.Length / 4)).OrderBy(x => x.d).FirstOrDefault();
        return best.k is null ? "" : $" (did you mean '{best.k}'?)";
    }

    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            previous = current;
        }
        return previous[b.Length];
    }

    [GeneratedRegex(@"^\$\{[^{}]+\}$")]
    private static partial Regex WholeInterpolation();
}
