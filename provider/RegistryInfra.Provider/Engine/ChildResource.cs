using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace RegistryInfra.Provider.Engine;

/// <summary>
/// One child a component registers through the engine's ResourceMonitor: a standard resource of another
/// package (kubernetes, aws, gcp) or a local component of ours that groups further children.
/// Inputs are plain JSON; a string holding <see cref="Computed.Sentinel"/> stands for a value not known
/// until the update, exactly as the engine's own wire format does.
/// </summary>
public sealed record ChildResource(string Type, string Name, JsonObject Inputs)
{
    /// <summary>False for the local components that only group children.</summary>
    public bool Custom { get; init; } = true;

    /// <summary>Top-level input keys registered as secret (the whole value, whatever its shape).</summary>
    public ImmutableArray<string> SecretInputs { get; init; } = [];

    public ImmutableArray<string> IgnoreChanges { get; init; } = [];

    public ImmutableArray<string> AdditionalSecretOutputs { get; init; } = [];

    public ImmutableArray<string> ReplaceOnChanges { get; init; } = [];

    public bool DeleteBeforeReplace { get; init; }

    /// <summary>Names of earlier children (of the same component) this one waits for.</summary>
    public ImmutableArray<string> DependsOn { get; init; } = [];

    /// <summary>Name of the child component this one is nested under; null means the component itself.</summary>
    public string? ParentName { get; init; }

    /// <summary>The package whose provider does the work: the first segment of the type token.</summary>
    public string Package => Type[..Type.IndexOf(':', StringComparison.Ordinal)];
}

/// <summary>The engine's marker for a value that is not known during preview.</summary>
public static class Computed
{
    public const string Sentinel = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

    public static bool IsComputed(string? value) => value is not null && value.Contains(Sentinel, StringComparison.Ordinal);
}

/// <summary>What a component's builder produces: its children in registration order and its outputs.</summary>
public sealed record ComponentPlan(string Type, string Name, ImmutableArray<ChildResource> Children, JsonObject Outputs)
{
    /// <summary>Top-level output keys that are secret.</summary>
    public ImmutableArray<string> SecretOutputs { get; init; } = [];
}
