using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing.Monitor;
using YamlDotNet.RepresentationModel;

namespace RegistryInfra.Programs.Tests;

/// <summary>A program that cannot be deployed: where, and why.</summary>
internal sealed class ProgramRunException(string message) : Exception(message);

/// <summary>What one run (preview or update) of a program did.</summary>
internal sealed record ProgramRunRecord(bool Preview, IReadOnlyList<string> Calls, IReadOnlyList<FakeResourceMonitor.Registration> Registrations);

/// <summary>
/// Evaluates a Pulumi YAML program the way the YAML language host does, without a cloud, and sends every
/// <c>registryinfra:*</c> resource and function to the plugin: custom resources through Check and Create
/// (preview or not), components through Construct into a fake ResourceMonitor, functions through Invoke.
/// Semantics follow pulumi/pulumi-yaml, pkg/pulumiyaml/run.go at 36f271cf0a6199cd0cb1d363a0b0faa707936983:
/// <list type="bullet">
/// <item>config (<c>registerConfig</c>): a declared key without a value and without <c>default</c> is an error;
///   <c>secret: true</c> makes the value secret; stack values are namespaced <c>PROJECT:KEY</c>;</item>
/// <item>references (<c>evaluatePropertyAccess</c>): the root is a resource, a config key or a variable, then
///   <c>.name</c> and <c>[index]</c> accessors; an unknown receiver gives an unknown; a missing key is null;</item>
/// <item>interpolation (<c>evaluateInterpolations</c>): a string with one <c>${...}</c> and nothing else is that
///   value; otherwise the parts are joined, and any unknown part makes the string unknown;</item>
/// <item><c>fn::invoke</c> (<c>evaluateBuiltinInvoke</c> under <c>lift</c>): with an unknown argument the call
///   is not made and the result is unknown; <c>return</c> picks one field;</item>
/// <item>outputs of resources outside the package (the providers' own, aws, gcp, kubernetes) are unknown here,
///   preview and update alike: no cloud answers; every resource is still registered with the monitor, so
///   <c>dependsOn</c> and parents resolve. Functions outside the package are unknown in a preview and answered
///   by mocks in an update (the engine never sends an unknown in an update).</item>
/// </list>
/// </summary>
internal sealed partial class ProgramRun
{
    /// <summary>A stack value the test replaces: the PEM of the stand-in registries' CA.</summary>
    public const string CaPlaceholder = "-----TEST CA PEM-----";

    private const string UnknownId = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

    private readonly string _project;
    private readonly Dictionary<string, PropertyValue> _config = new(StringComparer.Ordinal);
    private readonly Dictionary<string, YamlMappingNode> _resources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, YamlNode> _variables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Resource> _done = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PropertyValue> _variableValues = new(StringComparer.Ordinal);
    private readonly HashSet<string> _evaluating = new(StringComparer.Ordinal);
    private readonly List<string> _calls = [];
    private readonly Provider _plugin;
    private readonly FakeResourceMonitor _monitor;
    private readonly bool _preview;
    private readonly IReadOnlyDictionary<string, PropertyValue> _mocks;

    private sealed record Resource(string Name, string Type, string Urn, IReadOnlyDictionary<string, PropertyValue>? Outputs, string? ProviderReference);

    private ProgramRun(YamlMappingNode program, IReadOnlyDictionary<string, YamlNode> stack, Provider plugin, FakeResourceMonitor monitor, bool preview, string caPem,
        IReadOnlyDictionary<string, PropertyValue> mocks)
    {
        _mocks = mocks;
        _plugin = plugin;
        _monitor = monitor;
        _preview = preview;
        _project = Scalar(program, "name") ?? throw new ProgramRunException("the program has no 'name'");
        foreach (var (key, declaration) in Map(program, "config"))
        {
            var spec = declaration as YamlMappingNode;
            var secret = spec is not null && Scalar(spec, "secret") == "true";
            PropertyValue value;
            if (stack.TryGetValue($"{_project}:{key}", out var given))
            {
                value = Literal(given, caPem);
            }
            else if (spec is not null && spec.Children.TryGetValue(new YamlScalarNode("default"), out var fallback))
            {
                value = Literal(fallback, caPem);
            }
            else
            {
                throw new ProgramRunException($"config '{key}': no value in the stack and no default (pulumi-yaml: missing required configuration variable)");
            }
            _config[key] = secret ? PropertyValue.CreateSecret(value) : value;
        }
        foreach (var (name, node) in Map(program, "resources"))
        {
            _resources[name] = node as YamlMappingNode ?? throw new ProgramRunException($"resource '{name}' is not a mapping");
        }
        foreach (var (name, node) in Map(program, "variables"))
        {
            _variables[name] = node;
        }
    }

    /// <summary>Runs <paramref name="programPath"/> with the stack file beside it, once, as a preview or an update.</summary>
    public static async Task<ProgramRunRecord> RunAsync(string programPath, string stackPath, Provider plugin, bool preview, string caPem,
        IReadOnlyDictionary<string, PropertyValue> mocks, CancellationToken cancellationToken)
    {
        var program = Load(programPath);
        var stack = Map(Load(stackPath), "config").ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        await using var monitor = await FakeResourceMonitor.StartAsync(cancellationToken);
        monitor.DryRun = preview;
        var run = new ProgramRun(program, stack, plugin, monitor, preview, caPem, mocks);
        foreach (var name in run._resources.Keys)
        {
            await run.ResourceAsync(name, cancellationToken);
        }
        foreach (var name in run._variables.Keys)
        {
            await run.VariableAsync(name, cancellationToken);
        }
        foreach (var (name, output) in Map(program, "outputs"))
        {
            await run.EvaluateAsync(output, $"output '{name}'", cancellationToken);
        }
        return new ProgramRunRecord(preview, run._calls, monitor.Registrations);
    }

    private async Task<Resource> ResourceAsync(string name, CancellationToken cancellationToken)
    {
        if (_done.TryGetValue(name, out var done))
        {
            return done;
        }
        if (!_evaluating.Add(name))
        {
            throw new ProgramRunException($"resource '{name}' depends on itself");
        }
        var node = _resources[name];
        var type = Scalar(node, "type") ?? throw new ProgramRunException($"resource '{name}' has no type");
        var where = $"resource '{name}' ({type})";
        var inputs = node.Children.TryGetValue(new YamlScalarNode("properties"), out var properties)
            ? (await EvaluateAsync(properties, where, cancellationToken)).ObjectValue
            : ImmutableSortedDictionary<string, PropertyValue>.Empty;
        var options = node.Children.TryGetValue(new YamlScalarNode("options"), out var o) ? o as YamlMappingNode : null;
        var providers = new Dictionary<string, string>(StringComparer.Ordinal);
        var dependencies = new List<string>();
        if (options is not null)
        {
            foreach (var reference in References(options, "providers").Concat(References(options, "provider")))
            {
                var provider = await ReferencedResourceAsync(reference, where, cancellationToken);
                providers[provider.Type["pulumi:providers:".Length..]] = provider.ProviderReference ?? throw new ProgramRunException($"{where}: '{provider.Name}' in options is not a provider");
            }
            foreach (var reference in References(options, "dependsOn"))
            {
                dependencies.Add((await ReferencedResourceAsync(reference, where, cancellationToken)).Urn);
            }
        }

        Resource resource;
        var urn = FakeResourceMonitor.UrnOf(type, name);
        if (type.StartsWith("registryinfra:", StringComparison.Ordinal) && IsComponent(type))
        {
            var request = new ConstructRequest(type, name, StackUrn, inputs, ImmutableDictionary<string, ImmutableArray<string>>.Empty,
                new DeploymentContext(FakeResourceMonitor.Project, FakeResourceMonitor.Stack, "organization", ImmutableDictionary<string, string>.Empty, [], _preview, 4, _monitor.Endpoint),
                providers, [.. dependencies], [], new ConstructOptions(null, [], null, "", null, [], [], null, []), AcceptsOutputValues: true);
            var response = await CallAsync($"Construct {where}", () => _plugin.ConstructAsync(request, cancellationToken));
            resource = new Resource(name, type, response.Urn, response.State, null);
        }
        else if (type.StartsWith("registryinfra:", StringComparison.Ordinal))
        {
            var check = await CallAsync($"Check {where}", () => _plugin.CheckAsync(new CheckRequest(urn, type, name, ImmutableDictionary<string, PropertyValue>.Empty, inputs, []), cancellationToken));
            if (check.Failures.Count > 0)
            {
                throw new ProgramRunException($"{where}: Check failed: {string.Join("; ", check.Failures.Select(f => $"{f.Property}: {f.Reason}"))}");
            }
            var created = await CallAsync($"Create{(_preview ? " (preview)" : "")} {where}",
                () => _plugin.CreateAsync(new CreateRequest(urn, type, name, check.Inputs!, TimeSpan.Zero, _preview), cancellationToken));
            await RegisterAsync(type, name, dependencies, cancellationToken);
            resource = new Resource(name, type, urn, created.Properties, null);
        }
        else
        {
            // A resource of another package: registered (so it has a URN), its outputs unknown without a cloud.
            await RegisterAsync(type, name, dependencies, cancellationToken);
            var reference = type.StartsWith("pulumi:providers:", StringComparison.Ordinal) ? $"{urn}::{(_preview ? UnknownId : name + "-id")}" : null;
            resource = new Resource(name, type, urn, null, reference);
        }
        _evaluating.Remove(name);
        _done[name] = resource;
        return resource;
    }

    private static string StackUrn => $"urn:pulumi:{FakeResourceMonitor.Stack}::{FakeResourceMonitor.Project}::pulumi:pulumi:Stack::{FakeResourceMonitor.Project}-{FakeResourceMonitor.Stack}";

    private static bool IsComponent(string type) => type is not "registryinfra:index:RegistryProfile";

    private async Task RegisterAsync(string type, string name, List<string> dependencies, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress("http://" + _monitor.Endpoint);
        var monitor = new Pulumirpc.ResourceMonitor.ResourceMonitorClient(channel);
        await monitor.RegisterResourceAsync(new Pulumirpc.RegisterResourceRequest
        {
            Type = type,
            Name = name,
            Parent = StackUrn,
            Custom = true,
            Object = new Struct(),
            Dependencies = { dependencies },
        }, cancellationToken: cancellationToken);
    }

    private async Task<T> CallAsync<T>(string what, Func<Task<T>> call)
    {
        _calls.Add(what);
        try
        {
            return await call();
        }
        catch (Exception e) when (e is not ProgramRunException and not OperationCanceledException)
        {
            var status = ProviderErrors.ToStatus(e);
            throw new ProgramRunException($"{what}: {status.StatusCode}: {status.Detail}");
        }
    }

    private async Task<PropertyValue> VariableAsync(string name, CancellationToken cancellationToken)
    {
        if (_variableValues.TryGetValue(name, out var value))
        {
            return value;
        }
        if (!_evaluating.Add("variable " + name))
        {
            throw new ProgramRunException($"variable '{name}' depends on itself");
        }
        value = await EvaluateAsync(_variables[name], $"variable '{name}'", cancellationToken);
        _evaluating.Remove("variable " + name);
        _variableValues[name] = value;
        return value;
    }

    private async Task<PropertyValue> EvaluateAsync(YamlNode node, string where, CancellationToken cancellationToken)
    {
        switch (node)
        {
            case YamlScalarNode scalar:
                return await InterpolateAsync(scalar, where, cancellationToken);
            case YamlSequenceNode sequence:
                var items = new List<PropertyValue>();
                foreach (var item in sequence.Children)
                {
                    items.Add(await EvaluateAsync(item, where, cancellationToken));
                }
                return PropertyValue.CreateArray(items);
            case YamlMappingNode mapping when mapping.Children.Count == 1 && mapping.Children.Keys.First() is YamlScalarNode { Value: { } fn } &&
                                              fn.StartsWith("fn::", StringComparison.OrdinalIgnoreCase):
                return await FunctionAsync(fn, mapping.Children.Values.First(), where, cancellationToken);
            case YamlMappingNode mapping:
                var fields = new List<KeyValuePair<string, PropertyValue>>();
                foreach (var (key, value) in mapping.Children)
                {
                    fields.Add(KeyValuePair.Create(((YamlScalarNode)key).Value!, await EvaluateAsync(value, where, cancellationToken)));
                }
                return PropertyValue.CreateObject(fields);
            default:
                throw new ProgramRunException($"{where}: unexpected YAML node");
        }
    }

    private async Task<PropertyValue> FunctionAsync(string fn, YamlNode body, string where, CancellationToken cancellationToken)
    {
        if (!string.Equals(fn, "fn::invoke", StringComparison.OrdinalIgnoreCase))
        {
            throw new ProgramRunException($"{where}: {fn} is not one that this evaluator implements (the programs use fn::invoke only)");
        }
        var invoke = body as YamlMappingNode ?? throw new ProgramRunException($"{where}: fn::invoke takes a mapping");
        var function = Scalar(invoke, "function") ?? throw new ProgramRunException($"{where}: fn::invoke has no 'function'");
        var arguments = invoke.Children.TryGetValue(new YamlScalarNode("arguments"), out var a)
            ? await EvaluateAsync(a, where, cancellationToken)
            : PropertyValue.CreateObject(new Dictionary<string, PropertyValue>());
        if (invoke.Children.TryGetValue(new YamlScalarNode("options"), out var options) && options is YamlMappingNode optionMap)
        {
            foreach (var reference in References(optionMap, "provider").Concat(References(optionMap, "parent")).Concat(References(optionMap, "dependsOn")))
            {
                await ReferencedResourceAsync(reference, where, cancellationToken);
            }
        }
        PropertyValue result;
        if (arguments.ContainsUnknowns())
        {
            // An unknown argument defers the call (lift): its result is unknown.
            result = PropertyValue.Computed;
        }
        else if (!function.StartsWith("registryinfra:", StringComparison.Ordinal))
        {
            // Another package's function: no cloud answers it. A preview shows it unknown (as when the cluster is
            // created by the same program); an update takes what the cloud would answer from the program's mocks,
            // as Pulumi's own mock tests do, since the engine never sends an unknown in an update.
            result = _preview ? PropertyValue.Computed
                : _mocks.TryGetValue(function, out var mock) ? mock
                : throw new ProgramRunException($"{where}: {function} is another package's function and the update needs its answer: give the test a mock result for it");
        }
        else
        {
            var response = await CallAsync($"Invoke {function} ({where})", () => _plugin.InvokeAsync(new InvokeRequest(function, arguments.ObjectValue, _preview), cancellationToken));
            if (response.Failures.Count > 0)
            {
                throw new ProgramRunException($"{where}: Invoke {function} failed: {string.Join("; ", response.Failures.Select(f => $"{f.Property}: {f.Reason}"))}");
            }
            result = PropertyValue.CreateObject(response.Return!);
        }
        var pick = Scalar(invoke, "return");
        return pick is null ? result : Access(result, [pick]);
    }

    [GeneratedRegex(@"\$\{([^}]*)\}")]
    private static partial Regex Interpolation();

    private async Task<PropertyValue> InterpolateAsync(YamlScalarNode scalar, string where, CancellationToken cancellationToken)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is YamlDotNet.Core.ScalarStyle.Plain)
        {
            if (text is "true" or "false")
            {
                return PropertyValue.Create(text == "true");
            }
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && Regex.IsMatch(text, @"^-?[0-9]"))
            {
                return PropertyValue.Create(number);
            }
            if (text is "null" or "~")
            {
                return PropertyValue.Null;
            }
        }
        var matches = Interpolation().Matches(text);
        if (matches.Count == 1 && matches[0].Index == 0 && matches[0].Length == text.Length)
        {
            return await ReferenceAsync(matches[0].Groups[1].Value, where, cancellationToken);
        }
        var builder = new StringBuilder();
        var secret = false;
        var at = 0;
        foreach (Match match in matches)
        {
            builder.Append(text, at, match.Index - at);
            var part = await ReferenceAsync(match.Groups[1].Value, where, cancellationToken);
            if (part.IsSecret)
            {
                secret = true;
                part = part.SecretValue;
            }
            if (part.ContainsUnknowns())
            {
                return PropertyValue.Computed;
            }
            builder.Append(part.Kind switch
            {
                PropertyValueKind.String => part.StringValue,
                PropertyValueKind.Number => part.NumberValue.ToString(CultureInfo.InvariantCulture),
                PropertyValueKind.Bool => part.BoolValue ? "true" : "false",
                _ => throw new ProgramRunException($"{where}: ${{{match.Groups[1].Value}}} is not a string, number or bool and cannot be interpolated"),
            });
            at = match.Index + match.Length;
        }
        builder.Append(text, at, text.Length - at);
        var value = PropertyValue.Create(builder.ToString());
        return secret ? PropertyValue.CreateSecret(value) : value;
    }

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\]|\[""[^""]*""\])*)$")]
    private static partial Regex AccessPath();

    [GeneratedRegex(@"\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]|\[""([^""]*)""\]")]
    private static partial Regex Accessor();

    private async Task<PropertyValue> ReferenceAsync(string expression, string where, CancellationToken cancellationToken)
    {
        var path = AccessPath().Match(expression.Trim());
        if (!path.Success)
        {
            throw new ProgramRunException($"{where}: '${{{expression}}}' is not a property access");
        }
        var root = path.Groups[1].Value;
        var accessors = Accessor().Matches(path.Groups[2].Value).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Success ? "#" + m.Groups[2].Value : m.Groups[3].Value).ToList();
        PropertyValue receiver;
        if (_resources.ContainsKey(root))
        {
            var resource = await ResourceAsync(root, cancellationToken);
            if (accessors.Count == 0)
            {
                // The resource itself, as a value: its URN (used by options, resolved there).
                return PropertyValue.Create(resource.Urn);
            }
            if (resource.Outputs is null)
            {
                return PropertyValue.Computed;
            }
            receiver = PropertyValue.CreateObject(resource.Outputs);
        }
        else if (_config.TryGetValue(root, out var config))
        {
            receiver = config;
        }
        else if (_variables.ContainsKey(root))
        {
            receiver = await VariableAsync(root, cancellationToken);
        }
        else
        {
            throw new ProgramRunException($"{where}: resource or variable named \"{root}\" could not be found");
        }
        return Access(receiver, accessors);
    }

    private static PropertyValue Access(PropertyValue receiver, IReadOnlyList<string> accessors)
    {
        var secret = false;
        foreach (var accessor in accessors)
        {
            while (receiver.Kind is PropertyValueKind.Secret or PropertyValueKind.Output)
            {
                if (receiver.Kind is PropertyValueKind.Secret)
                {
                    secret = true;
                    receiver = receiver.SecretValue;
                }
                else if (receiver.OutputValue.Value is { } known)
                {
                    secret |= receiver.OutputValue.IsSecret;
                    receiver = known;
                }
                else
                {
                    return PropertyValue.Computed;
                }
            }
            if (receiver.IsComputed)
            {
                return PropertyValue.Computed;
            }
            if (receiver.IsNull)
            {
                return PropertyValue.Null;
            }
            receiver = accessor.StartsWith('#') && receiver.Kind is PropertyValueKind.Array
                ? int.Parse(accessor[1..], CultureInfo.InvariantCulture) is var i && i < receiver.ArrayValue.Length ? receiver.ArrayValue[i] : PropertyValue.Null
                : receiver.Kind is PropertyValueKind.Object
                    ? receiver.ObjectValue.TryGetValue(accessor, out var field) ? field : PropertyValue.Null
                    : throw new ProgramRunException($"cannot access '{accessor}' of a {receiver.Kind}");
        }
        return secret && !receiver.IsSecret ? PropertyValue.CreateSecret(receiver) : receiver;
    }

    private async Task<Resource> ReferencedResourceAsync(string reference, string where, CancellationToken cancellationToken)
    {
        var match = Interpolation().Match(reference);
        var name = match.Success ? match.Groups[1].Value.Trim() : reference;
        if (!_resources.ContainsKey(name))
        {
            throw new ProgramRunException($"{where}: options name '{reference}', which is no resource of the program");
        }
        return await ResourceAsync(name, cancellationToken);
    }

    private static IEnumerable<string> References(YamlMappingNode options, string key) =>
        !options.Children.TryGetValue(new YamlScalarNode(key), out var node) ? [] :
        node is YamlSequenceNode list ? list.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "") :
        node is YamlScalarNode one ? [one.Value ?? ""] : [];

    /// <summary>A stack or default value: YAML as it is, no interpolation (pulumi-yaml reads config values as data).</summary>
    private static PropertyValue Literal(YamlNode node, string caPem) => node switch
    {
        YamlScalarNode { Value: CaPlaceholder } => PropertyValue.Create(caPem),
        YamlScalarNode s when s.Style is YamlDotNet.Core.ScalarStyle.Plain && s.Value is "true" or "false" => PropertyValue.Create(s.Value == "true"),
        YamlScalarNode s when s.Style is YamlDotNet.Core.ScalarStyle.Plain && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) => PropertyValue.Create(n),
        YamlScalarNode s => PropertyValue.Create(s.Value ?? ""),
        YamlSequenceNode list => PropertyValue.CreateArray(list.Children.Select(c => Literal(c, caPem))),
        YamlMappingNode map => PropertyValue.CreateObject(map.Children.Select(e => KeyValuePair.Create(((YamlScalarNode)e.Key).Value!, Literal(e.Value, caPem)))),
        _ => PropertyValue.Null,
    };

    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;

    private static IEnumerable<(string Key, YamlNode Value)> Map(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlMappingNode map
            ? map.Children.Select(e => (((YamlScalarNode)e.Key).Value!, e.Value))
            : [];
}
