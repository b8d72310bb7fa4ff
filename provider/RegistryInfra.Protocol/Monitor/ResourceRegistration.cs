using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Google.Protobuf.WellKnownTypes;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Monitor;

/// <summary>A resource to register with the engine's ResourceMonitor (a component's child, or the component itself).</summary>
/// <param name="Type">The type token, such as <c>kubernetes:core/v1:Secret</c>.</param>
/// <param name="Name">The logical name; with the type and parent it makes the URN.</param>
public sealed record ResourceRegistration(string Type, string Name)
{
    /// <summary>True for a resource a provider manages; false for a component that only groups children.</summary>
    public bool Custom { get; init; }

    /// <summary>The parent's URN; empty for the stack.</summary>
    public string Parent { get; init; } = "";

    /// <summary>The inputs; secrets and unknowns are kept as such on the wire.</summary>
    public ImmutableSortedDictionary<string, PropertyValue> Inputs { get; init; } = ImmutableSortedDictionary<string, PropertyValue>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>URNs this resource depends on.</summary>
    public ImmutableArray<string> Dependencies { get; init; } = [];

    /// <summary>For each input, the URNs its value came from.</summary>
    public ImmutableDictionary<string, ImmutableArray<string>> PropertyDependencies { get; init; } = ImmutableDictionary<string, ImmutableArray<string>>.Empty;

    /// <summary>The provider reference <c>URN::ID</c>; empty for the default provider of the package.</summary>
    public string Provider { get; init; } = "";

    /// <summary>Provider references by package, passed to a component so its children inherit them.</summary>
    public ImmutableDictionary<string, string> Providers { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The version of the resource's package, when known.</summary>
    public string Version { get; init; } = "";

    /// <summary>Input paths whose changes the engine ignores on diff.</summary>
    public ImmutableArray<string> IgnoreChanges { get; init; } = [];

    /// <summary>Outputs the engine keeps secret whatever the provider returns.</summary>
    public ImmutableArray<string> AdditionalSecretOutputs { get; init; } = [];

    /// <summary>Input paths whose change forces a replacement.</summary>
    public ImmutableArray<string> ReplaceOnChanges { get; init; } = [];

    /// <summary>Delete the old resource before creating its replacement.</summary>
    public bool DeleteBeforeReplace { get; init; }

    /// <summary>
    /// What this resource was known as before (renames, re-parenting): full URNs or specs. Specs are sent
    /// only to an engine with the <c>aliasSpecs</c> feature, which then also carries a parent's aliases over
    /// to its children; an older engine gets the URN aliases alone.
    /// </summary>
    public ImmutableArray<RegistryInfra.Protocol.Hosting.ResourceAlias> Aliases { get; init; } = [];

    /// <summary>Protect the resource from deletion; null leaves the engine's default.</summary>
    public bool? Protect { get; init; }
}

/// <summary>
/// The engine's answer to a registration: URN, ID, outputs (unknown during preview when not yet known). Outputs
/// answered over the wire are decoded when read, one key at a time (<see cref="TryGetOutput"/>), so outputs no
/// component reads cost nothing; a malformed value is reported when it is read.
/// </summary>
public sealed record RegisteredResource
{
    private readonly Struct? _wire;
    private ImmutableSortedDictionary<string, PropertyValue>? _outputs;

    /// <summary>An answer with decoded outputs.</summary>
    public RegisteredResource(string urn, string id, ImmutableSortedDictionary<string, PropertyValue> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        Urn = urn;
        Id = id;
        _outputs = outputs;
    }

    /// <summary>An answer whose outputs are the engine's <paramref name="wire"/> Struct, decoded when read.</summary>
    public RegisteredResource(string urn, string id, Struct? wire)
    {
        Urn = urn;
        Id = id;
        _wire = wire;
        if (wire is null)
        {
            _outputs = ImmutableSortedDictionary<string, PropertyValue>.Empty.WithComparers(StringComparer.Ordinal);
        }
    }

    /// <summary>The resource's URN.</summary>
    public string Urn { get; init; }

    /// <summary>The resource's ID; empty for a component, and in preview for a resource not yet created.</summary>
    public string Id { get; init; }

    /// <summary>Every output, decoded.</summary>
    /// <exception cref="FormatException">An output is malformed; the message names the property path.</exception>
    public ImmutableSortedDictionary<string, PropertyValue> Outputs => _outputs ??= PropertyValueSerializer.Deserialize(_wire);

    /// <summary>The output <paramref name="key"/>, decoded alone; false when the answer has no such output.</summary>
    /// <exception cref="FormatException">The output is malformed; the message names the property path.</exception>
    public bool TryGetOutput(string key, [MaybeNullWhen(false)] out PropertyValue value)
    {
        if (_outputs is { } outputs)
        {
            return outputs.TryGetValue(key, out value);
        }
        return PropertyValueSerializer.TryDeserializeField(_wire!, key, out value);
    }

    /// <summary>For each output, the URNs it depends on.</summary>
    public ImmutableDictionary<string, ImmutableArray<string>> PropertyDependencies { get; init; } = ImmutableDictionary<string, ImmutableArray<string>>.Empty;
}
