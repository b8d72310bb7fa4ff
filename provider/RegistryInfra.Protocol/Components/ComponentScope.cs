using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Components;

/// <summary>Where a scope's registrations go: the engine's ResourceMonitor, or a recorder in tests.</summary>
public interface IRegistrar
{
    /// <summary>Registers a resource and returns the engine's answer.</summary>
    Task<RegisteredResource> RegisterResourceAsync(ResourceRegistration registration, CancellationToken cancellationToken);

    /// <summary>Completes a component's registration with its outputs.</summary>
    Task RegisterResourceOutputsAsync(string urn, ImmutableSortedDictionary<string, PropertyValue> outputs, CancellationToken cancellationToken);
}

/// <summary>The registrar of a Construct call: the engine's ResourceMonitor.</summary>
public sealed class MonitorRegistrar(ResourceMonitorClient monitor) : IRegistrar
{
    /// <inheritdoc/>
    public Task<RegisteredResource> RegisterResourceAsync(ResourceRegistration registration, CancellationToken cancellationToken) =>
        monitor.RegisterResourceAsync(registration, cancellationToken);

    /// <inheritdoc/>
    public Task RegisterResourceOutputsAsync(string urn, ImmutableSortedDictionary<string, PropertyValue> outputs, CancellationToken cancellationToken) =>
        monitor.RegisterResourceOutputsAsync(urn, outputs, cancellationToken);
}

/// <summary>What one Construct call shares between its scopes.</summary>
public sealed class ConstructSession : IDisposable
{
    /// <summary>At most this many registrations wait on the engine at once unless told otherwise.</summary>
    public const int DefaultConcurrency = 64;

    private readonly SemaphoreSlim _inFlight;
    private readonly ConcurrentQueue<Task> _work = new();
    private readonly ConcurrentQueue<string> _leftOut = new();

    /// <summary>A session registering through <paramref name="registrar"/>.</summary>
    public ConstructSession(IRegistrar registrar, bool preview, CancellationToken cancellationToken, int concurrency = DefaultConcurrency)
    {
        Registrar = registrar ?? throw new ArgumentNullException(nameof(registrar));
        Preview = preview;
        CancellationToken = cancellationToken;
        _inFlight = new SemaphoreSlim(concurrency, concurrency);
    }

    /// <summary>Where registrations go.</summary>
    public IRegistrar Registrar { get; }

    /// <summary>Whether this is a preview (dry run).</summary>
    public bool Preview { get; }

    /// <summary>Cancels the session's work.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Provider references (<c>URN::ID</c>) by package, for custom children.</summary>
    public ImmutableDictionary<string, string> Providers { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Which deployment this is (the engine's monitor endpoint, stack and project): what components claim is kept per deployment.</summary>
    public string Deployment { get; init; } = "";

    /// <summary>URNs the top-level component depends on; every child depends on them too.</summary>
    public ImmutableArray<string> Dependencies { get; init; } = [];

    /// <summary>What preview left out, and why (one line each).</summary>
    public IReadOnlyCollection<string> LeftOut => _leftOut;

    internal void NoteLeftOut(string line) => _leftOut.Enqueue(line);

    internal void Track(Task task) => _work.Enqueue(task);

    // One registration, once fewer than the bound are in flight.
    internal async Task<RegisteredResource> RegisterAsync(ResourceRegistration registration)
    {
        await _inFlight.WaitAsync(CancellationToken).ConfigureAwait(false);
        try
        {
            return await Registrar.RegisterResourceAsync(registration, CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _inFlight.Dispose();

    /// <summary>Waits for every registration the session started, ignoring failures (after the component itself failed).</summary>
    public async Task CompleteQuietlyAsync()
    {
        while (_work.TryDequeue(out var task))
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Consequences of the failure already being reported.
            }
        }
    }

    /// <summary>Waits for every registration the session started (including those started while waiting); the first failure is thrown.</summary>
    public async Task CompleteAsync()
    {
        var failures = new List<Exception>();
        while (_work.TryDequeue(out var task))
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }
        if (failures.Count > 0)
        {
            // The first failure is the cause; the others are often its consequences (a child waiting on it).
            throw failures.FirstOrDefault(f => f is not DependencyFailedException) ?? failures[0];
        }
    }
}

/// <summary>A child could not be registered because one it waits for failed.</summary>
public sealed class DependencyFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DependencyFailedException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception.</summary>
    public DependencyFailedException() { }

    /// <summary>Creates the exception.</summary>
    public DependencyFailedException(string message) : base(message) { }
}

/// <summary>
/// Where a component declares its children: custom resources of other packages (with the user's provider
/// for that package) and nested components. Each child is registered as soon as its parent and its
/// dependencies have URNs and its inputs are resolved, with a bound on registrations in flight, as the
/// Pulumi SDKs do; secretness and property dependencies come from the inputs' outputs.
/// </summary>
public sealed class ComponentScope
{
    private readonly ConstructSession _session;
    private readonly Task<string> _parent;
    private readonly ConcurrentQueue<IChild> _children = new();

    internal ComponentScope(ConstructSession session, Task<string> parent, string type, string name, string urn)
    {
        _session = session;
        _parent = parent;
        Type = type;
        Name = name;
        Urn = urn;
    }

    /// <summary>The root scope of a component already registered as <paramref name="urn"/>.</summary>
    public static ComponentScope Root(ConstructSession session, string urn, string type, string name) => Root(session, Task.FromResult(urn), type, name, urn);

    /// <summary>
    /// The root scope of a component registered as <paramref name="urn"/> resolves to; <paramref name="expectedUrn"/> is the
    /// URN it will get (<see cref="UrnOf"/>), known before the registration answers.
    /// </summary>
    public static ComponentScope Root(ConstructSession session, Task<string> urn, string type, string name, string? expectedUrn = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new ComponentScope(session, urn, type, name, expectedUrn ?? UrnOf("", "", "", type, name));
    }

    /// <summary>
    /// The URN the engine gives a resource, as pulumi/pulumi computes it (sdk/go/common/resource/urn.go, <c>NewURN</c>, and
    /// pkg/resource/deploy/source_eval.go, which qualifies the type with the parent's unless the parent is the stack):
    /// <c>urn:pulumi:STACK::PROJECT::[PARENT-TYPE$]TYPE::NAME</c>.
    /// </summary>
    public static string UrnOf(string stack, string project, string parentUrn, string type, string name)
    {
        var parentType = "";
        var separator = parentUrn.LastIndexOf("::", StringComparison.Ordinal);
        if (separator > 0)
        {
            var qualified = parentUrn[..separator];
            qualified = qualified[(qualified.LastIndexOf("::", StringComparison.Ordinal) + 2)..];
            parentType = qualified == "pulumi:pulumi:Stack" ? "" : qualified + "$";
        }
        return $"urn:pulumi:{stack}::{project}::{parentType}{type}::{name}";
    }

    private static string UrnStack(string urn) => urn.StartsWith("urn:pulumi:", StringComparison.Ordinal) ? urn["urn:pulumi:".Length..urn.IndexOf("::", StringComparison.Ordinal)] : "";

    private static string UrnProject(string urn)
    {
        var parts = urn.Split("::");
        return parts.Length > 1 ? parts[1] : "";
    }

    /// <summary>This component's URN (the one its registration gets), known at once.</summary>
    public string Urn { get; }

    /// <summary>The URN a child of this component named <paramref name="name"/> of type <paramref name="type"/> gets.</summary>
    public string ChildUrn(string type, string name) => UrnOf(UrnStack(Urn), UrnProject(Urn), Urn, type, name);

    /// <summary>The provider reference (<c>URN::ID</c>) that children of <paramref name="package"/> are registered with; empty for the default provider.</summary>
    public string ProviderFor(string package) => _session.Providers.TryGetValue(package, out var reference) ? reference : "";

    /// <summary>Which deployment this scope is part of (the engine's monitor): names claimed in one deployment never meet another's.</summary>
    public string Deployment => _session.Deployment;

    /// <summary>The component's type token.</summary>
    public string Type { get; }

    /// <summary>The component's name.</summary>
    public string Name { get; }

    /// <summary>Whether this is a preview.</summary>
    public bool IsPreview => _session.Preview;

    /// <summary>The children declared in this scope so far.</summary>
    public IEnumerable<IChild> Children => _children;

    /// <summary>Records that preview leaves out <paramref name="children"/> because <paramref name="because"/> is not known yet.</summary>
    public void LeaveOut(string children, string because) =>
        _session.NoteLeftOut($"{Type} '{Name}': {children} left out of the preview: {because} is not known until the update");

    /// <summary>Declares a custom resource of another package.</summary>
    public ChildResource Resource<TInputs>(string type, string name, TInputs inputs, ChildOptions? options = null)
        where TInputs : class, IPulumiModel<TInputs>
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new ChildOptions();
        var registration = RegisterAsync(type, name, options, async (parent, dependencies) =>
        {
            var context = new WriteContext();
            var properties = await PropertyBinder.UnbindAsync(inputs, context).ConfigureAwait(false);
            var package = type[..type.IndexOf(':', StringComparison.Ordinal)];
            dependencies.UnionWith(context.Dependencies);
            return new ResourceRegistration(type, name)
            {
                Custom = true,
                Parent = parent,
                Inputs = properties,
                Dependencies = Sorted(dependencies),
                PropertyDependencies = context.ToPropertyDependencies(),
                Provider = _session.Providers.TryGetValue(package, out var reference) ? reference : "",
                IgnoreChanges = options.IgnoreChanges,
                AdditionalSecretOutputs = options.AdditionalSecretOutputs,
                ReplaceOnChanges = options.ReplaceOnChanges,
                DeleteBeforeReplace = options.DeleteBeforeReplace,
            };
        });
        var child = new ChildResource(type, name, registration, _session.Preview);
        _children.Enqueue(child);
        return child;
    }

    /// <summary>Declares a nested component and builds its children under it.</summary>
    public ComponentChild<TOutputs> Component<TArgs, TOutputs>(IComponent<TArgs, TOutputs> component, string name, TArgs args, ChildOptions? options = null)
        where TArgs : class, IPulumiModel<TArgs> where TOutputs : class, IPulumiModel<TOutputs>
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentException.ThrowIfNullOrEmpty(name);
        options ??= new ChildOptions();
        var registration = RegisterAsync(component.Type, name, options, (parent, dependencies) => Task.FromResult(new ResourceRegistration(component.Type, name)
        {
            Custom = false,
            Parent = parent,
            Dependencies = Sorted(dependencies),
            Providers = _session.Providers,
        }));
        var urn = registration.ContinueWith(t => t.Result.Urn, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var scope = new ComponentScope(_session, urn, component.Type, name, ChildUrn(component.Type, name));
        var outputs = component.Construct(scope, name, args);
        var completion = CompleteAsync(scope, urn, outputs);
        _session.Track(completion);
        var child = new ComponentChild<TOutputs>(component.Type, name, urn, scope, outputs, completion);
        _children.Enqueue(child);
        return child;
    }

    private async Task CompleteAsync<TOutputs>(ComponentScope scope, Task<string> urn, TOutputs outputs) where TOutputs : class, IPulumiModel<TOutputs>
    {
        var registered = await urn.ConfigureAwait(false);
        await scope.WhenChildrenRegisteredAsync().ConfigureAwait(false);
        var properties = await PropertyBinder.UnbindAsync(outputs, new WriteContext()).ConfigureAwait(false);
        await _session.Registrar.RegisterResourceOutputsAsync(registered, properties, _session.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until every child of this scope (and of nested scopes) is registered.</summary>
    internal async Task WhenChildrenRegisteredAsync()
    {
        foreach (var child in _children)
        {
            await child.DependencyUrnsAsync().ConfigureAwait(false);
        }
    }

    private Task<RegisteredResource> RegisterAsync(string type, string name, ChildOptions options,
        Func<string, HashSet<string>, Task<ResourceRegistration>> build)
    {
        var task = RegisterCoreAsync(type, name, options, build);
        _session.Track(task);
        return task;
    }

    private async Task<RegisteredResource> RegisterCoreAsync(string type, string name, ChildOptions options,
        Func<string, HashSet<string>, Task<ResourceRegistration>> build)
    {
        // Let the component declare the rest of its children before this one's registration starts. In a Construct the
        // parent's URN is never known yet while the component declares (the component registers after it), so the await on
        // it below yields already; a parent known from the start (a scope made from a URN) yields here instead.
        if (_parent.IsCompleted)
        {
            await Task.Yield();
        }
        var parent = await _parent.ConfigureAwait(false);
        var dependencies = new HashSet<string>(_session.Dependencies, StringComparer.Ordinal);
        foreach (var dependency in options.DependsOn)
        {
            try
            {
                dependencies.UnionWith(await dependency.DependencyUrnsAsync().ConfigureAwait(false));
            }
            catch (Exception e)
            {
                throw new DependencyFailedException($"{type} '{name}' was not registered: {dependency.Type} '{dependency.Name}', which it depends on, failed", e);
            }
        }
        var registration = await build(parent, dependencies).ConfigureAwait(false);
        return await _session.RegisterAsync(registration).ConfigureAwait(false);
    }

    private static ImmutableArray<string> Sorted(HashSet<string> urns)
    {
        if (urns.Count == 0)
        {
            return [];
        }
        var sorted = new string[urns.Count];
        urns.CopyTo(sorted);
        Array.Sort(sorted, StringComparer.Ordinal);
        return ImmutableCollectionsMarshal.AsImmutableArray(sorted);
    }
}

/// <summary>A custom child: its URN and the outputs the engine answers with.</summary>
public sealed class ChildResource : IChild
{
    private readonly Task<RegisteredResource> _registration;
    private readonly bool _preview;

    internal ChildResource(string type, string name, Task<RegisteredResource> registration, bool preview)
    {
        Type = type;
        Name = name;
        _registration = registration;
        _preview = preview;
        Urn = global::RegistryInfra.Protocol.Model.Output.FromTask(UrnAsync());
    }

    /// <inheritdoc/>
    public string Type { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public Output<string> Urn { get; }

    private async Task<OutputData<string>> UrnAsync()
    {
        var registered = await _registration.ConfigureAwait(false);
        return new OutputData<string>(registered.Urn, true, false, [registered.Urn]);
    }

    /// <inheritdoc/>
    public async Task<ImmutableArray<string>> DependencyUrnsAsync() => [(await _registration.ConfigureAwait(false)).Urn];

    /// <summary>
    /// The output <paramref name="key"/> as the engine answers it: unknown in preview until the resource
    /// exists, secret when the engine says so, and depending on this resource. Only the outputs asked for
    /// are decoded.
    /// </summary>
    public Output<T> Output<T>(string key, PropertyConverter<T> converter)
    {
        ArgumentNullException.ThrowIfNull(converter);
        return global::RegistryInfra.Protocol.Model.Output.FromTask(ReadAsync(key, converter));
    }

    private async Task<OutputData<T>> ReadAsync<T>(string key, PropertyConverter<T> converter)
    {
        var registered = await _registration.ConfigureAwait(false);
        ImmutableHashSet<string> resources = [registered.Urn];
        if (!registered.TryGetOutput(key, out var raw) || raw.IsNull)
        {
            return _preview
                ? new OutputData<T>(default!, false, false, resources)
                : new OutputData<T>(converter.ReadMissing(), true, false, resources);
        }
        var context = new ReadContext(BindMode.AllowUnknowns);
        var output = global::RegistryInfra.Protocol.Model.Converters.Output(converter).Read(raw, key, context);
        if (context.Failures.Count > 0)
        {
            throw new InvalidOperationException($"{Type} '{Name}' answered output '{key}' that is not {converter.Type.Kind}: {context.Failures[0].Reason}");
        }
        var data = output.Data;
        return data with { Resources = global::RegistryInfra.Protocol.Model.Dependencies.Union(data.Resources, resources) };
    }
}

/// <summary>A nested component: its typed outputs, and its URN.</summary>
public sealed class ComponentChild<TOutputs> : IChildScope where TOutputs : class
{
    private readonly ComponentScope _scope;
    private readonly Task _completion;
    private readonly Task<string> _urn;

    internal ComponentChild(string type, string name, Task<string> urn, ComponentScope scope, TOutputs outputs, Task completion)
    {
        Type = type;
        Name = name;
        _urn = urn;
        _scope = scope;
        Outputs = outputs;
        _completion = completion;
        Urn = Output.FromTask(urn.ContinueWith(t => new OutputData<string>(t.Result, true, false, [t.Result]), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
    }

    /// <inheritdoc/>
    public string Type { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public Output<string> Urn { get; }

    /// <summary>The component's outputs, exchanged in process (typed, with their secretness and dependencies).</summary>
    public TOutputs Outputs { get; }

    /// <inheritdoc/>
    public IEnumerable<IChild> Children => _scope.Children;

    /// <inheritdoc/>
    public async Task<ImmutableArray<string>> DependencyUrnsAsync()
    {
        var urns = ImmutableArray.CreateBuilder<string>();
        urns.Add(await _urn.ConfigureAwait(false));
        foreach (var child in _scope.Children)
        {
            urns.AddRange(await child.DependencyUrnsAsync().ConfigureAwait(false));
        }
        await _completion.ConfigureAwait(false);
        return urns.ToImmutable();
    }
}
