using System.Collections.Immutable;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>One invalid input: the property path (<c>images[2].platform</c>) and why it is invalid.</summary>
public sealed record CheckFailure(string Property, string Reason);

/// <summary>Check of a resource's (or of the provider's configuration) new inputs.</summary>
public sealed record CheckRequest(
    string Urn, string Type, string Name,
    IReadOnlyDictionary<string, PropertyValue> OldInputs,
    IReadOnlyDictionary<string, PropertyValue> NewInputs,
    ImmutableArray<byte> RandomSeed);

/// <summary>The checked inputs (possibly normalised) and any failures.</summary>
public sealed record CheckResponse(IReadOnlyDictionary<string, PropertyValue>? Inputs, IReadOnlyList<CheckFailure> Failures);

/// <summary>Diff of a resource's old state and old inputs against its new inputs.</summary>
public sealed record DiffRequest(
    string Urn, string Type, string Name, string Id,
    IReadOnlyDictionary<string, PropertyValue> OldState,
    IReadOnlyDictionary<string, PropertyValue> OldInputs,
    IReadOnlyDictionary<string, PropertyValue> NewInputs,
    ImmutableArray<string> IgnoreChanges);

/// <summary>How one property changed.</summary>
public enum PropertyDiffKind
{
    /// <summary>Added.</summary>
    Add,
    /// <summary>Added, and the change needs a replacement.</summary>
    AddReplace,
    /// <summary>Removed.</summary>
    Delete,
    /// <summary>Removed, and the change needs a replacement.</summary>
    DeleteReplace,
    /// <summary>Changed in place.</summary>
    Update,
    /// <summary>Changed, and the change needs a replacement.</summary>
    UpdateReplace,
}

/// <summary>One entry of a detailed diff.</summary>
public sealed record PropertyDiff(PropertyDiffKind Kind, bool InputDiff = true);

/// <summary>
/// The result of a diff. <see cref="HasChanges"/> null means "unknown" (the engine then compares itself).
/// </summary>
public sealed record DiffResponse(
    bool? HasChanges,
    ImmutableArray<string> Replaces,
    ImmutableArray<string> Stables,
    bool DeleteBeforeReplace,
    IReadOnlyDictionary<string, PropertyDiff> DetailedDiff)
{
    /// <summary>No change.</summary>
    public static DiffResponse None { get; } = new(false, [], [], false, ImmutableDictionary<string, PropertyDiff>.Empty);
}

/// <summary>Create of a resource; with <see cref="Preview"/> the handler must have no side effect.</summary>
public sealed record CreateRequest(
    string Urn, string Type, string Name,
    IReadOnlyDictionary<string, PropertyValue> Properties,
    TimeSpan Timeout, bool Preview);

/// <summary>The new resource's ID (empty in preview) and state.</summary>
public sealed record CreateResponse(string Id, IReadOnlyDictionary<string, PropertyValue> Properties);

/// <summary>Read (refresh or import) of an existing resource.</summary>
public sealed record ReadRequest(
    string Id, string Urn, string Type, string Name,
    IReadOnlyDictionary<string, PropertyValue> Properties,
    IReadOnlyDictionary<string, PropertyValue> Inputs);

/// <summary>The resource as it is now; an empty <see cref="Id"/> means it no longer exists.</summary>
public sealed record ReadResponse(string Id, IReadOnlyDictionary<string, PropertyValue> Properties, IReadOnlyDictionary<string, PropertyValue> Inputs);

/// <summary>In-place update of a resource; with <see cref="Preview"/> the handler must have no side effect.</summary>
public sealed record UpdateRequest(
    string Id, string Urn, string Type, string Name,
    IReadOnlyDictionary<string, PropertyValue> OldState,
    IReadOnlyDictionary<string, PropertyValue> OldInputs,
    IReadOnlyDictionary<string, PropertyValue> NewInputs,
    TimeSpan Timeout, ImmutableArray<string> IgnoreChanges, bool Preview);

/// <summary>The updated state.</summary>
public sealed record UpdateResponse(IReadOnlyDictionary<string, PropertyValue> Properties);

/// <summary>Delete of a resource.</summary>
public sealed record DeleteRequest(
    string Id, string Urn, string Type, string Name,
    IReadOnlyDictionary<string, PropertyValue> Properties,
    IReadOnlyDictionary<string, PropertyValue> OldInputs,
    TimeSpan Timeout);

/// <summary>A function call.</summary>
public sealed record InvokeRequest(string Token, IReadOnlyDictionary<string, PropertyValue> Args, bool Preview);

/// <summary>A function's result, or its failures.</summary>
public sealed record InvokeResponse(IReadOnlyDictionary<string, PropertyValue>? Return, IReadOnlyList<CheckFailure> Failures);

/// <summary>What a program runs in: project, stack, config and the engine's monitor.</summary>
public sealed record DeploymentContext(
    string Project, string Stack, string Organization,
    IReadOnlyDictionary<string, string> Config,
    ImmutableArray<string> ConfigSecretKeys,
    bool DryRun, int Parallel, string MonitorEndpoint);

/// <summary>A method call on a component resource.</summary>
public sealed record CallRequest(
    string Token,
    IReadOnlyDictionary<string, PropertyValue> Args,
    IReadOnlyDictionary<string, ImmutableArray<string>> ArgDependencies,
    DeploymentContext Deployment,
    bool AcceptsOutputValues);

/// <summary>A method call's result, its dependencies and any failures.</summary>
public sealed record CallResponse(
    IReadOnlyDictionary<string, PropertyValue>? Return,
    IReadOnlyDictionary<string, ImmutableArray<string>> ReturnDependencies,
    IReadOnlyList<CheckFailure> Failures);

/// <summary>Custom timeouts as the engine gives them (Go duration strings, may be empty).</summary>
public sealed record CustomTimeouts(string Create, string Update, string Delete, string Read);

/// <summary>A previous identity of a component: a URN, or the parts of one.</summary>
public sealed record ResourceAlias(string? Urn, string? Name, string? Type, string? Stack, string? Project, string? ParentUrn, bool NoParent);

/// <summary>The resource options a component was registered with, to pass on to its children.</summary>
public sealed record ConstructOptions(
    bool? Protect,
    ImmutableArray<string> AdditionalSecretOutputs,
    CustomTimeouts? CustomTimeouts,
    string DeletedWith,
    bool? DeleteBeforeReplace,
    ImmutableArray<string> IgnoreChanges,
    ImmutableArray<string> ReplaceOnChanges,
    bool? RetainOnDelete,
    ImmutableArray<string> ReplaceWith);

/// <summary>
/// Construct of a component: everything the engine gives, so that the component can register its
/// children with the engine's ResourceMonitor at <see cref="DeploymentContext.MonitorEndpoint"/>.
/// </summary>
public sealed record ConstructRequest(
    string Type, string Name, string Parent,
    IReadOnlyDictionary<string, PropertyValue> Inputs,
    IReadOnlyDictionary<string, ImmutableArray<string>> InputDependencies,
    DeploymentContext Deployment,
    IReadOnlyDictionary<string, string> Providers,
    ImmutableArray<string> Dependencies,
    ImmutableArray<ResourceAlias> Aliases,
    ConstructOptions Options,
    bool AcceptsOutputValues)
{
    /// <summary>The engine's log, for what a component wants the user to see (such as children left out of a preview).</summary>
    public IEngineLog? Log { get; init; }
}

/// <summary>The component's URN and its outputs with their dependencies.</summary>
public sealed record ConstructResponse(
    string Urn,
    IReadOnlyDictionary<string, PropertyValue> State,
    IReadOnlyDictionary<string, ImmutableArray<string>> StateDependencies);

/// <summary>The provider's configuration.</summary>
public sealed record ConfigureRequest(IReadOnlyDictionary<string, PropertyValue> Args, IReadOnlyDictionary<string, string> Variables);

/// <summary>What the engine tells the provider at handshake.</summary>
public sealed record HandshakeRequest(string EngineAddress, string? RootDirectory, string? ProgramDirectory);
