using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;
using RegistryInfra.Core.Refresher;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace RegistryInfra.Refresher.Configuration;

/// <summary>
/// Reads the configuration file (YAML, of which JSON is a subset) into Core's <see cref="RefresherConfiguration"/>,
/// applies <c>REFRESHER_</c> environment overrides and validates the result; every problem names its field.
/// The YAML is read from the parser's event stream with an explicit stack, so nesting depth, the number of
/// values (aliases expanded) and the file size are bounded before anything is built: a 100,000-deep document
/// cannot overflow the stack and an alias bomb is refused at the first expansion past the bound.
/// </summary>
internal static class ConfigurationFile
{
    /// <summary>The prefix of environment overrides: <c>REFRESHER_CONCURRENCY=16</c>, <c>REFRESHER_TARGETS__0__SECRETNAME=pull</c>.</summary>
    public const string EnvironmentPrefix = "REFRESHER_";

    /// <summary>The variable that names the file; not an override.</summary>
    public const string PathVariable = "REFRESHER_CONFIG";

    /// <summary>A ConfigMap holds at most 1 MiB (kubernetes.io/docs/concepts/configuration/configmap: "cannot exceed 1 MiB").</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>Deeper than any configuration needs (it has four levels), far below what a stack holds.</summary>
    public const int MaxDepth = 32;

    /// <summary>Values in the document with every alias expanded.</summary>
    public const int MaxValues = 100_000;

    /// <summary>Reads, overrides and validates the file at <paramref name="path"/>.</summary>
    /// <exception cref="ConfigurationException">The file cannot be read or is invalid; one problem per field.</exception>
    public static RefresherConfiguration Load(string path, IDictionary environment) => Load(path, environment, out _);

    /// <summary>
    /// As <see cref="Load(string, IDictionary)"/>, with the hash of the configuration this replica runs
    /// (<see cref="HashOf"/>): the text read once, so the hash is of exactly what was parsed (a ConfigMap volume swaps its
    /// files when the ConfigMap changes; a second read could see the next configuration).
    /// </summary>
    /// <exception cref="ConfigurationException">The file cannot be read or is invalid; one problem per field.</exception>
    public static RefresherConfiguration Load(string path, IDictionary environment, out string configurationHash)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxBytes)
            {
                throw new ConfigurationException(new ConfigurationProblem("config", $"'{path}' is larger than {MaxBytes / 1024} KiB (a ConfigMap's limit)"));
            }
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException(new ConfigurationProblem("config", $"cannot read '{path}': {e.Message}"));
        }
        var configuration = Parse(text, path, environment);
        configurationHash = HashOf(text, environment);
        return configuration;
    }

    /// <summary>
    /// The configuration's hash: Core's <see cref="ConfigurationHash.Of"/> of the text, which is the TokenRefresher
    /// component's <c>registryinfra.io/configuration-hash</c> of the ConfigMap it mounts (the component sets no override).
    /// With <c>REFRESHER_</c> overrides the hash covers them too (the text, then one <c>NAME=value</c> line each, sorted), so an
    /// override changed alone is another configuration as well.
    /// </summary>
    public static string HashOf(string text, IDictionary environment)
    {
        var overrides = Overrides(environment);
        return overrides.Count == 0
            ? ConfigurationHash.Of(text)
            : ConfigurationHash.Of(text + "\n" + string.Join("\n", overrides.Select(o => o.Key + "=" + o.Value)));
    }

    private static SortedDictionary<string, string> Overrides(IDictionary environment)
    {
        var overrides = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry variable in environment)
        {
            if (variable.Key is string name && variable.Value is string value
                && name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && !name.Equals(PathVariable, StringComparison.OrdinalIgnoreCase))
            {
                overrides[name] = value;
            }
        }
        return overrides;
    }

    /// <summary>Reads, overrides and validates configuration text; <paramref name="origin"/> names it in messages.</summary>
    /// <exception cref="ConfigurationException">It is invalid; one problem per field.</exception>
    public static RefresherConfiguration Parse(string yaml, string origin, IDictionary environment)
    {
        var root = ToJson(yaml, origin);
        var problems = new List<ConfigurationProblem>();
        ApplyOverrides(root, environment, problems);
        var configuration = problems.Count == 0 ? RefresherConfigurationJson.Read(root, problems) : null;
        if (configuration is not null)
        {
            problems.AddRange(RefresherConfigurationValidator.Validate(configuration));
        }
        return problems.Count == 0 ? configuration! : throw new ConfigurationException(problems);
    }

    /// <summary>The YAML as a JSON tree with every scalar a string (the reader gives numbers and booleans their type by field).</summary>
    /// <exception cref="ConfigurationException">It is not YAML, is empty, is not a mapping, or exceeds a bound.</exception>
    public static JsonObject ToJson(string yaml, string origin)
    {
        if (yaml.Length > MaxBytes)
        {
            throw Problem($"'{origin}' is larger than {MaxBytes / 1024} KiB (a ConfigMap's limit)");
        }
        var parser = new Parser(new StringReader(yaml));
        var anchors = new Dictionary<string, (JsonNode? Node, int Values)>(StringComparer.Ordinal);
        var stack = new Stack<Frame>();
        JsonNode? document = null;
        var documents = 0;
        var values = 0;
        try
        {
            while (Next(parser, origin))
            {
                var current = parser.Current!;
                switch (current)
                {
                    case DocumentStart:
                        if (++documents > 1)
                        {
                            throw Problem($"'{origin}' holds more than one YAML document (line {Line(current)})");
                        }
                        break;
                    case MappingStart or SequenceStart:
                        if (stack.Count >= MaxDepth)
                        {
                            throw Problem($"'{origin}' is nested deeper than {MaxDepth} levels (line {Line(current)})");
                        }
                        RequireValuePosition(stack, current);
                        Count(ref values, 1, origin, current);
                        var anchor = current is MappingStart m ? m.Anchor : ((SequenceStart)current).Anchor;
                        stack.Push(new Frame(current is MappingStart ? new JsonObject() : new JsonArray(), anchor.IsEmpty ? null : anchor.Value, values));
                        break;
                    case MappingEnd or SequenceEnd:
                        var done = stack.Pop();
                        if (done.Anchor is not null)
                        {
                            anchors[done.Anchor] = (done.Node, values - done.ValuesAtStart + 1);
                        }
                        Deliver(stack, done.Node, ref document);
                        break;
                    case Scalar scalar:
                        if (stack.TryPeek(out var top) && top.Node is JsonObject && top.Key is null)
                        {
                            top.Key = scalar.Value;
                            if (((JsonObject)top.Node).ContainsKey(scalar.Value))
                            {
                                throw Problem($"duplicate key '{scalar.Value}' (line {Line(current)})");
                            }
                            break;
                        }
                        Count(ref values, 1, origin, current);
                        var value = IsNull(scalar) ? null : JsonValue.Create(scalar.Value);
                        if (!scalar.Anchor.IsEmpty)
                        {
                            anchors[scalar.Anchor.Value] = (value, 1);
                        }
                        Deliver(stack, value, ref document);
                        break;
                    case AnchorAlias alias:
                        RequireValuePosition(stack, current);
                        if (!anchors.TryGetValue(alias.Value.Value, out var anchored))
                        {
                            throw Problem($"alias '*{alias.Value.Value}' names no anchor (line {Line(current)})");
                        }
                        // Counted before copying: an alias bomb is refused here, before it is built.
                        Count(ref values, anchored.Values, origin, current);
                        Deliver(stack, anchored.Node?.DeepClone(), ref document);
                        break;
                }
            }
        }
        catch (YamlException e)
        {
            throw Problem($"'{origin}' is not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }
        return document switch
        {
            null when documents == 0 || yaml.Trim().Length == 0 => throw Problem($"'{origin}' is empty"),
            JsonObject root => root,
            _ => throw Problem($"'{origin}' must hold a mapping at the top level"),
        };
    }

    /// <summary>
    /// The parser's next event. YamlDotNet (18.1.0) reports some malformed input not as a <see cref="YamlException"/> but
    /// as what its own code ran into: an <see cref="InvalidOperationException"/> from the scanner (a plain scalar
    /// after a control character in a flow collection, found by fuzzing) or an <see cref="ArgumentException"/>
    /// from <c>TagName</c> (a tag like <c>!!![</c> that is not a URI). Both are the file's fault, so both become
    /// the same clear problem, at the position of the last event read.
    /// </summary>
    private static bool Next(Parser parser, string origin)
    {
        try
        {
            return parser.MoveNext();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            var at = parser.Current is { } last ? $"after line {last.End.Line}, column {last.End.Column}" : "at its start";
            throw Problem($"'{origin}' is not valid YAML {at} (the YAML parser stopped: {(e is ArgumentException ? "a tag that is not a valid URI" : "a malformed scalar")})");
        }
    }

    /// <summary>Applies each <c>REFRESHER_</c> variable (levels separated by <c>__</c>, names in any case) onto <paramref name="root"/>.</summary>
    public static void ApplyOverrides(JsonObject root, IDictionary environment, List<ConfigurationProblem> problems)
    {
        foreach (var (name, value) in Overrides(environment))
        {
            var path = name[EnvironmentPrefix.Length..].Split("__");
            RefresherConfigurationJson.Override(root, path, value, name, problems);
        }
    }

    private static void RequireValuePosition(Stack<Frame> stack, ParsingEvent current)
    {
        if (stack.TryPeek(out var top) && top.Node is JsonObject && top.Key is null)
        {
            throw Problem($"a mapping key must be a plain value, not a {(current is AnchorAlias ? "alias" : "mapping or list")} (line {Line(current)})");
        }
    }

    private static void Deliver(Stack<Frame> stack, JsonNode? value, ref JsonNode? document)
    {
        if (!stack.TryPeek(out var parent))
        {
            document = value;
            return;
        }
        if (parent.Node is JsonObject map)
        {
            map[parent.Key!] = value;
            parent.Key = null;
        }
        else
        {
            ((JsonArray)parent.Node).Add(value);
        }
    }

    private static void Count(ref int values, int more, string origin, ParsingEvent at)
    {
        values += more;
        if (values > MaxValues)
        {
            throw Problem($"'{origin}' holds more than {MaxValues} values with its aliases expanded (line {Line(at)}); refused");
        }
    }

    // YAML 1.2 core schema: an untagged plain empty, ~ or null scalar is null.
    private static bool IsNull(Scalar scalar) =>
        scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty && scalar.Value is "" or "~" or "null" or "Null" or "NULL";

    private static string Line(ParsingEvent e) => e.Start.Line.ToString(CultureInfo.InvariantCulture);

    private static ConfigurationException Problem(string message) => new(new ConfigurationProblem("config", message));

    private sealed class Frame(JsonNode node, string? anchor, int valuesAtStart)
    {
        public JsonNode Node { get; } = node;

        public string? Anchor { get; } = anchor;

        public int ValuesAtStart { get; } = valuesAtStart;

        public string? Key { get; set; }
    }
}

/// <summary>The configuration cannot be read or is invalid; each problem names its field.</summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException(IReadOnlyList<ConfigurationProblem> problems)
        : base(string.Join(Environment.NewLine, problems)) => Problems = problems;

    public ConfigurationException(ConfigurationProblem problem) : this([problem]) { }

    public ConfigurationException(string message) : this(new ConfigurationProblem("config", message)) { }

    public ConfigurationException(string message, Exception innerException) : base(message, innerException) =>
        Problems = [new ConfigurationProblem("config", message)];

    public ConfigurationException() : this("invalid configuration") { }

    /// <summary>What is wrong, one entry per field.</summary>
    public IReadOnlyList<ConfigurationProblem> Problems { get; }
}
