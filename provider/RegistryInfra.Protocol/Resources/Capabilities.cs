using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Resources;

/// <summary>What a handler is told about the resource it works on.</summary>
public sealed record ResourceIdentity(string Urn, string Type, string Name);

/// <summary>Inputs of a create; in preview, <see cref="UnknownInputs"/> lists the input paths not known yet.</summary>
public sealed record CreateContext<TArgs>(ResourceIdentity Resource, TArgs Args, bool Preview, ImmutableHashSet<string> UnknownInputs);

/// <summary>
/// The new resource's ID and state. <see cref="UnknownOutputs"/> names state properties that are not known
/// yet (in preview); they are sent as unknown whatever the state holds.
/// </summary>
public sealed record CreateResult<TState>(string Id, TState State, ImmutableHashSet<string>? UnknownOutputs = null);

/// <summary>
/// Inputs of a custom check, after they bound to <typeparamref name="TArgs"/>. <see cref="OldArgs"/> are the inputs
/// of the last deployment (null on a first check, or when they no longer bind), so a check can skip work on
/// inputs that did not change.
/// </summary>
public sealed record CheckContext<TArgs>(ResourceIdentity Resource, TArgs Args, ImmutableHashSet<string> UnknownInputs, TArgs? OldArgs = default);

/// <summary>The (possibly normalised) inputs and the failures of a custom check.</summary>
public sealed record CheckResult<TArgs>(TArgs Args, IReadOnlyList<CheckFailure> Failures);

/// <summary>An update: old state and inputs, new inputs.</summary>
public sealed record UpdateContext<TArgs, TState>(
    ResourceIdentity Resource, string Id, TState OldState, TArgs? OldArgs, TArgs Args, bool Preview, ImmutableHashSet<string> UnknownInputs);

/// <summary>The state after an update.</summary>
public sealed record UpdateResult<TState>(TState State, ImmutableHashSet<string>? UnknownOutputs = null);

/// <summary>A diff: old state and inputs, new inputs (which may hold unknowns).</summary>
public sealed record DiffContext<TArgs, TState>(
    ResourceIdentity Resource, string Id, TState OldState, TArgs? OldArgs, TArgs NewArgs, ImmutableHashSet<string> UnknownInputs,
    DiffRequest Request);

/// <summary>A read (refresh or import).</summary>
public sealed record ReadContext<TArgs, TState>(ResourceIdentity Resource, string Id, TState? State, TArgs? Args);

/// <summary>The resource as it is; null from a read means it no longer exists.</summary>
public sealed record ReadResult<TArgs, TState>(string Id, TState State, TArgs? Args);

/// <summary>A delete.</summary>
public sealed record DeleteContext<TState>(ResourceIdentity Resource, string Id, TState State);

/// <summary>
/// A custom resource: typed Args (inputs) and State (outputs), created by this handler. The optional
/// capabilities are the other interfaces in this namespace; a resource implements only what it needs.
/// Without <see cref="ICustomUpdate{TArgs,TState}"/> every change replaces the resource.
/// </summary>
public interface IResource<TArgs, TState> where TArgs : class where TState : class
{
    /// <summary>Creates the resource; in preview, computes the state without any side effect.</summary>
    Task<CreateResult<TState>> CreateAsync(CreateContext<TArgs> context, CancellationToken cancellationToken);
}

/// <summary>Validation and normalisation of inputs beyond their types.</summary>
public interface ICustomCheck<TArgs> where TArgs : class
{
    /// <summary>Checks (and may normalise) the bound inputs.</summary>
    Task<CheckResult<TArgs>> CheckAsync(CheckContext<TArgs> context, CancellationToken cancellationToken);
}

/// <summary>A diff other than the default input-by-input comparison.</summary>
public interface ICustomDiff<TArgs, TState> where TArgs : class where TState : class
{
    /// <summary>Diffs the resource.</summary>
    Task<DiffResponse> DiffAsync(DiffContext<TArgs, TState> context, CancellationToken cancellationToken);
}

/// <summary>In-place update.</summary>
public interface ICustomUpdate<TArgs, TState> where TArgs : class where TState : class
{
    /// <summary>Updates the resource; in preview, without any side effect.</summary>
    Task<UpdateResult<TState>> UpdateAsync(UpdateContext<TArgs, TState> context, CancellationToken cancellationToken);
}

/// <summary>
/// Rewrites inputs written in an earlier form of the schema (a boolean that became an enum, say) into the current one
/// before anything binds them: the program's new inputs, and the old inputs and state the engine sends back from
/// earlier deployments, so that an upgrade of the provider never fails on what it accepted before.
/// </summary>
public interface IUpgradeInputs
{
    /// <summary>The inputs in the current form; the same dictionary when nothing needed rewriting.</summary>
    IReadOnlyDictionary<string, PropertyValue> UpgradeInputs(IReadOnlyDictionary<string, PropertyValue> inputs);
}

/// <summary>Reading the live resource (refresh, import). Without it, refresh keeps the recorded state.</summary>
public interface ICustomRead<TArgs, TState> where TArgs : class where TState : class
{
    /// <summary>Reads the resource; null when it no longer exists.</summary>
    Task<ReadResult<TArgs, TState>?> ReadAsync(ReadContext<TArgs, TState> context, CancellationToken cancellationToken);
}

/// <summary>Deleting the resource. Without it, delete only forgets the state.</summary>
public interface ICustomDelete<TState> where TState : class
{
    /// <summary>Deletes the resource.</summary>
    Task DeleteAsync(DeleteContext<TState> context, CancellationToken cancellationToken);
}

/// <summary>A function (invoke) with typed arguments and result.</summary>
public interface IFunction<TArgs, TResult> where TArgs : class where TResult : class
{
    /// <summary>Runs the function.</summary>
    Task<TResult> InvokeAsync(TArgs args, bool preview, CancellationToken cancellationToken);
}
