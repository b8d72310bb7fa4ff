using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Components;

namespace RegistryInfra.Provider.Engine;

/// <summary>What the engine's Construct call gives a component.</summary>
public sealed record ComponentConstructRequest(
    string Type,
    string Name,
    string Parent,
    ImmutableSortedDictionary<string, PropertyValue> Inputs,
    bool DryRun)
{
    /// <summary>Provider references (<c>URN::ID</c>) by package, such as <c>kubernetes</c>, <c>aws</c>, <c>gcp</c>.</summary>
    public ImmutableDictionary<string, string> Providers { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>URNs the component itself depends on.</summary>
    public ImmutableArray<string> Dependencies { get; init; } = [];

    /// <summary>What the component was known as before: URNs or specs, passed on to the engine as given.</summary>
    public ImmutableArray<RegistryInfra.Protocol.Hosting.ResourceAlias> Aliases { get; init; } = [];

    public bool? Protect { get; init; }
}

/// <summary>What Construct returns: the component's URN and its outputs with their dependencies.</summary>
public sealed record ComponentConstructResult(string Urn, ImmutableSortedDictionary<string, PropertyValue> State)
{
    public ImmutableDictionary<string, ImmutableArray<string>> StateDependencies { get; init; } = ImmutableDictionary<string, ImmutableArray<string>>.Empty;

    /// <summary>Every URN registered, in order (the component first).</summary>
    public ImmutableArray<string> Registered { get; init; } = [];
}

/// <summary>One component type: how its inputs bind and how its children are built.</summary>
public sealed record ComponentDefinition(string Type, Func<string, JsonObject, ComponentPlan> Build);

/// <summary>
/// Construct for every component of the package: binds the inputs, builds the children, registers the
/// component (parented where the engine said) and then each child through the ResourceMonitor with the
/// user's provider for its package, and returns the component's outputs.
/// </summary>
public sealed class ComponentConstruct
{
    // Args records are bound by reflection-based System.Text.Json, turned on for these options only: the
    // plugin roots its own assembly (TrimmerRootAssembly), and reflection serialisation needs no generated
    // code under NativeAOT. PluginBinaryTests construct a component in the NativeAOT binary.
    internal const string ReflectionJson = "The plugin's own assembly is rooted (TrimmerRootAssembly); see ComponentConstruct.";

    private static readonly JsonSerializerOptions BindOptions = new()
    {
        TypeInfoResolver = ReflectionResolver(),
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    private readonly Dictionary<string, ComponentDefinition> _definitions;

    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = ReflectionJson)]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = ReflectionJson)]
    internal static System.Text.Json.Serialization.Metadata.IJsonTypeInfoResolver ReflectionResolver() =>
        new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver();

    public ComponentConstruct(IEnumerable<ComponentDefinition> definitions)
    {
        _definitions = definitions.ToDictionary(d => d.Type, StringComparer.Ordinal);
    }

    /// <summary>The package's components.</summary>
    public static ComponentConstruct Default { get; } = new(ComponentCatalog.All);

    public IReadOnlyCollection<string> Types => _definitions.Keys;

    /// <summary>Binds typed Args from JSON inputs; a wrong or unknown field is a <see cref="ComponentInputException"/> naming it.</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = ReflectionJson)]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = ReflectionJson)]
    public static T Bind<T>(JsonObject inputs)
    {
        try
        {
            return inputs.Deserialize<T>(BindOptions) ?? throw new ComponentInputException("inputs", "required");
        }
        catch (JsonException e)
        {
            var path = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            // The serializer's own message can quote the value, which may be a credential.
            var problem = e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "is not an input of this component" : "has the wrong type";
            throw new ComponentInputException(path.Length == 0 ? "inputs" : path, problem);
        }
    }

    public async Task<ComponentConstructResult> ConstructAsync(ComponentConstructRequest request, ResourceMonitorClient monitor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(monitor);
        if (!_definitions.TryGetValue(request.Type, out var definition))
        {
            throw new ComponentInputException("type", $"'{request.Type}' is not a component of this package");
        }
        var findings = new PropertyJson.Findings();
        var inputs = PropertyJson.ToJson(request.Inputs, findings);
        // Secretness follows the data: a child input or an output that carries a secret input's value is secret.
        var secretValues = findings.SecretValues;

        ComponentPlan? plan;
        try
        {
            plan = definition.Build(request.Name, inputs);
        }
        catch (ComponentInputException) when (request.DryRun && findings.HasUnknowns)
        {
            // A name or a structure is not known until the update: preview shows the component alone.
            plan = null;
        }
        if (plan is not null && plan.Children.Any(c => Computed.IsComputed(c.Name)))
        {
            if (!request.DryRun)
            {
                throw new ComponentInputException("inputs", "a value that names a child resource is unknown outside preview");
            }
            // A name or a structure is not known until the update: preview shows the component alone.
            plan = null;
        }

        var component = await monitor.RegisterResourceAsync(new ResourceRegistration(request.Type, request.Name)
        {
            Custom = false,
            Parent = request.Parent,
            Dependencies = request.Dependencies,
            Providers = request.Providers,
            Aliases = request.Aliases,
            Protect = request.Protect,
        }, cancellationToken).ConfigureAwait(false);
        var registered = ImmutableArray.CreateBuilder<string>();
        registered.Add(component.Urn);

        if (plan is null)
        {
            var unknown = ImmutableSortedDictionary<string, PropertyValue>.Empty.WithComparers(StringComparer.Ordinal);
            await monitor.RegisterResourceOutputsAsync(component.Urn, unknown, cancellationToken).ConfigureAwait(false);
            return new ComponentConstructResult(component.Urn, unknown) { Registered = registered.ToImmutable() };
        }

        // Children depend on what the component depends on; a dependency on a nested component is one on all its descendants.
        var urns = new Dictionary<string, string>(StringComparer.Ordinal);
        var descendants = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var child in plan.Children)
        {
            var dependencies = new List<string>(request.Dependencies);
            foreach (var dependency in child.DependsOn)
            {
                dependencies.Add(urns[dependency]);
                if (descendants.TryGetValue(dependency, out var inner))
                {
                    dependencies.AddRange(inner);
                }
            }
            var parent = child.ParentName is null ? component.Urn : urns[child.ParentName];
            var provider = child.Custom && request.Providers.TryGetValue(child.Package, out var reference) ? reference : "";
            var result = await monitor.RegisterResourceAsync(new ResourceRegistration(child.Type, child.Name)
            {
                Custom = child.Custom,
                Parent = parent,
                Inputs = PropertyJson.ToProperties(child.Inputs, child.SecretInputs.Concat(PropertyJson.KeysCarrying(child.Inputs, secretValues))),
                Dependencies = [.. dependencies.Distinct(StringComparer.Ordinal)],
                Provider = provider,
                Providers = child.Custom ? ImmutableDictionary<string, string>.Empty : request.Providers,
                IgnoreChanges = child.IgnoreChanges,
                AdditionalSecretOutputs = child.AdditionalSecretOutputs,
                ReplaceOnChanges = child.ReplaceOnChanges,
                DeleteBeforeReplace = child.DeleteBeforeReplace,
            }, cancellationToken).ConfigureAwait(false);
            urns[child.Name] = result.Urn;
            registered.Add(result.Urn);
            if (!child.Custom)
            {
                descendants[child.Name] = [];
            }
            for (var p = child.ParentName; p is not null; p = plan.Children.FirstOrDefault(c => c.Name == p)?.ParentName)
            {
                descendants[p].Add(result.Urn);
            }
        }

        // Nested components are complete once their children are registered.
        foreach (var nested in plan.Children.Where(c => !c.Custom))
        {
            await monitor.RegisterResourceOutputsAsync(urns[nested.Name], ImmutableSortedDictionary<string, PropertyValue>.Empty, cancellationToken).ConfigureAwait(false);
        }

        var state = PropertyJson.ToProperties(plan.Outputs, plan.SecretOutputs.Concat(PropertyJson.KeysCarrying(plan.Outputs, secretValues)));
        await monitor.RegisterResourceOutputsAsync(component.Urn, state, cancellationToken).ConfigureAwait(false);
        // The outputs are computed from the inputs; they depend on what the inputs came from, and on the children.
        var children = registered.Skip(1).ToImmutableArray();
        var stateDependencies = state.Keys.ToImmutableDictionary(k => k, _ => children.AddRange(request.Dependencies).Distinct().ToImmutableArray(), StringComparer.Ordinal);
        return new ComponentConstructResult(component.Urn, state)
        {
            StateDependencies = stateDependencies,
            Registered = registered.ToImmutable(),
        };
    }
}
