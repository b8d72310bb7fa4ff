using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Testing.Components;

/// <summary>One child as a component registered it, with its inputs as JSON for assertions (secrets unwrapped, unknown values as <see cref="ComponentPlans.Unknown"/>).</summary>
public sealed record PlannedChild(string Type, string Name, JsonObject Inputs)
{
    public bool Custom { get; init; } = true;

    /// <summary>The nested component this child belongs to; null for the component itself.</summary>
    public string? ParentName { get; init; }

    /// <summary>Top-level inputs sent as secrets.</summary>
    public ImmutableArray<string> SecretInputs { get; init; } = [];

    public ImmutableArray<string> IgnoreChanges { get; init; } = [];

    public ImmutableArray<string> AdditionalSecretOutputs { get; init; } = [];

    public bool DeleteBeforeReplace { get; init; }

    /// <summary>Names of the children (and nested components) this one waits for.</summary>
    public ImmutableArray<string> DependsOn { get; init; } = [];

    /// <summary>The registration as sent.</summary>
    public ResourceRegistration Registration { get; init; } = new("", "");
}

/// <summary>A component's children in declaration order and its outputs.</summary>
public sealed record ComponentPlan(ImmutableArray<PlannedChild> Children, JsonObject Outputs)
{
    public ImmutableArray<string> SecretOutputs { get; init; } = [];

    /// <summary>What preview left out, one line each.</summary>
    public ImmutableArray<string> LeftOut { get; init; } = [];

    /// <summary>The outputs as registered.</summary>
    public ImmutableSortedDictionary<string, PropertyValue> State { get; init; } = ImmutableSortedDictionary<string, PropertyValue>.Empty;
}

/// <summary>
/// Runs a component in process against a <see cref="RecordingRegistrar"/> (no engine, no network): the
/// builder tests' view of what Construct registers.
/// </summary>
public static class ComponentPlans
{
    /// <summary>How an unknown value reads in <see cref="PlannedChild.Inputs"/>: the engine's wire sentinel.</summary>
    public const string Unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

    public const string ComponentUrn = "urn:pulumi:test::test::component::root";

    /// <summary>Constructs <paramref name="component"/>; preview when <paramref name="preview"/>.</summary>
    /// <remarks><paramref name="answer"/>: the outputs a custom child answers with (the engine's answer); none when null.</remarks>
    public static ComponentPlan Build<TArgs, TOutputs>(IComponent<TArgs, TOutputs> component, string name, TArgs args, bool preview = false,
        Func<ResourceRegistration, ImmutableSortedDictionary<string, PropertyValue>>? answer = null)
        where TArgs : class, IPulumiModel<TArgs> where TOutputs : class, IPulumiModel<TOutputs> =>
        BuildAsync(component, name, args, preview, answer).GetAwaiter().GetResult();

    public static async Task<ComponentPlan> BuildAsync<TArgs, TOutputs>(IComponent<TArgs, TOutputs> component, string name, TArgs args, bool preview = false,
        Func<ResourceRegistration, ImmutableSortedDictionary<string, PropertyValue>>? answer = null)
        where TArgs : class, IPulumiModel<TArgs> where TOutputs : class, IPulumiModel<TOutputs>
    {
        ArgumentNullException.ThrowIfNull(component);
        var registrar = new RecordingRegistrar { Answer = answer };
        using var session = new ConstructSession(registrar, preview, CancellationToken.None);
        var scope = ComponentScope.Root(session, ComponentUrn, component.Type, name);
        var outputs = component.Construct(scope, name, args);
        await session.CompleteAsync().ConfigureAwait(false);
        var state = await PropertyBinder.UnbindAsync(outputs, new WriteContext()).ConfigureAwait(false);

        var recorded = registrar.Registrations.ToDictionary(r => (r.Registration.Type, r.Registration.Name), r => r);
        var names = registrar.Registrations.ToDictionary(r => r.Urn, r => r.Registration.Name, StringComparer.Ordinal);
        var children = ImmutableArray.CreateBuilder<PlannedChild>();
        void Walk(IEnumerable<IChild> declared, string? parent)
        {
            foreach (var child in declared)
            {
                var registration = recorded[(child.Type, child.Name)].Registration;
                var (inputs, secrets) = ToJson(registration.Inputs);
                children.Add(new PlannedChild(child.Type, child.Name, inputs)
                {
                    Custom = registration.Custom,
                    ParentName = parent,
                    SecretInputs = secrets,
                    IgnoreChanges = registration.IgnoreChanges,
                    AdditionalSecretOutputs = registration.AdditionalSecretOutputs,
                    DeleteBeforeReplace = registration.DeleteBeforeReplace,
                    DependsOn = [.. registration.Dependencies.Where(names.ContainsKey).Select(u => names[u]).Distinct()],
                    Registration = registration,
                });
                if (child is IChildScope nested)
                {
                    Walk(nested.Children, child.Name);
                }
            }
        }
        Walk(scope.Children, null);
        var (outputJson, secretOutputs) = ToJson(state);
        return new ComponentPlan(children.ToImmutable(), outputJson)
        {
            SecretOutputs = secretOutputs,
            LeftOut = [.. session.LeftOut],
            State = state,
        };
    }

    /// <summary>Binds typed Args from JSON (as a program would send known inputs); a failure throws, naming the field.</summary>
    public static T Bind<T>(JsonObject json) where T : class, IPulumiModel<T>
    {
        ArgumentNullException.ThrowIfNull(json);
        var bound = PropertyBinder.Bind<T>(json.ToDictionary(kv => kv.Key, kv => FromJson(kv.Value), StringComparer.Ordinal), BindMode.Strict);
        return bound.Succeeded
            ? bound.Value!
            : throw new ArgumentException(string.Join("; ", bound.Failures.Select(f => $"{f.Property}: {f.Reason}")));
    }

    /// <summary>A JSON value as a property value; the string <see cref="Unknown"/> is an unknown value.</summary>
    public static PropertyValue FromJson(JsonNode? node) => node switch
    {
        null => PropertyValue.Null,
        JsonObject o => PropertyValue.CreateObject(o.Select(kv => KeyValuePair.Create(kv.Key, FromJson(kv.Value)))),
        JsonArray a => PropertyValue.CreateArray(a.Select(FromJson)),
        JsonValue v when v.TryGetValue<string>(out var text) => text == Unknown ? PropertyValue.Computed : PropertyValue.Create(text),
        JsonValue v when v.TryGetValue<bool>(out var flag) => PropertyValue.Create(flag),
        JsonValue v => PropertyValue.Create(v.GetValue<double>()),
        _ => throw new ArgumentException($"unexpected JSON node {node.GetValueKind()}"),
    };

    /// <summary>Properties as JSON: secrets unwrapped (their top-level keys returned), unknowns as <see cref="Unknown"/>.</summary>
    public static (JsonObject Json, ImmutableArray<string> SecretKeys) ToJson(IReadOnlyDictionary<string, PropertyValue> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var json = new JsonObject();
        var secrets = ImmutableArray.CreateBuilder<string>();
        foreach (var (key, value) in properties)
        {
            if (value.ContainsSecrets())
            {
                secrets.Add(key);
            }
            json[key] = ToJson(value);
        }
        // Read back as parsed JSON, so that numbers convert to any integer type, as parsed inputs do.
        return (JsonNode.Parse(json.ToJsonString())!.AsObject(), secrets.ToImmutable());
    }

    public static JsonNode? ToJson(PropertyValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var (inner, _) = value.Unwrap();
        return inner.Kind switch
        {
            PropertyValueKind.Null => null,
            PropertyValueKind.Bool => JsonValue.Create(inner.BoolValue),
            PropertyValueKind.Number => inner.NumberValue == Math.Floor(inner.NumberValue) && Math.Abs(inner.NumberValue) <= int.MaxValue
                ? JsonValue.Create((int)inner.NumberValue)
                : inner.NumberValue == Math.Floor(inner.NumberValue) && Math.Abs(inner.NumberValue) < 1e15
                    ? JsonValue.Create((long)inner.NumberValue)
                    : JsonValue.Create(inner.NumberValue),
            PropertyValueKind.String => JsonValue.Create(inner.StringValue),
            PropertyValueKind.Computed => JsonValue.Create(Unknown),
            PropertyValueKind.Array => new JsonArray([.. inner.ArrayValue.Select(ToJson)]),
            PropertyValueKind.Object => new JsonObject(inner.ObjectValue.Select(kv => KeyValuePair.Create(kv.Key, ToJson(kv.Value)))),
            PropertyValueKind.ResourceReference => JsonValue.Create(inner.ReferenceValue.Urn),
            _ => JsonValue.Create(inner.Kind.ToString().ToLower(CultureInfo.InvariantCulture)),
        };
    }
}
