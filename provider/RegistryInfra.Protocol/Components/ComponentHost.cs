using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Components;

/// <summary>
/// Runs one Construct: registers the component where the engine said, lets it declare its children in a
/// <see cref="ComponentScope"/>, waits until every child is registered, and completes the component with its
/// outputs and their property dependencies, as the Pulumi SDKs' remote-component hosts do.
/// </summary>
public static class ComponentHost
{
    /// <summary>Constructs <paramref name="component"/> from <paramref name="args"/> through <paramref name="registrar"/>.</summary>
    public static async Task<ConstructResponse> ConstructAsync<TArgs, TOutputs>(
        IComponent<TArgs, TOutputs> component, TArgs args, ConstructRequest request, IRegistrar registrar, CancellationToken cancellationToken)
        where TArgs : class, IPulumiModel<TArgs> where TOutputs : class, IPulumiModel<TOutputs>
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(registrar);
        using var session = new ConstructSession(registrar, request.Deployment.DryRun, cancellationToken)
        {
            Providers = request.Providers.ToImmutableDictionary(StringComparer.Ordinal),
            Dependencies = request.Dependencies,
            // One plugin process serves one deployment, but a long-lived host can see a monitor address reused by a later one.
            Deployment = $"{request.Deployment.MonitorEndpoint} {request.Deployment.Stack}::{request.Deployment.Project}",
        };
        // The component declares its children first, so that an input it refuses fails the Construct before
        // anything is registered; the children wait for the component's URN.
        var urn = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var scope = ComponentScope.Root(session, urn.Task, request.Type, request.Name,
            ComponentScope.UrnOf(request.Deployment.Stack, request.Deployment.Project, request.Parent, request.Type, request.Name));
        TOutputs outputs;
        try
        {
            outputs = component.Construct(scope, request.Name, args);
        }
        catch (Exception e)
        {
            urn.SetException(new OperationCanceledException("the component failed before it was registered", e));
            await session.CompleteQuietlyAsync().ConfigureAwait(false);
            throw;
        }
        RegisteredResource registered;
        try
        {
            registered = await registrar.RegisterResourceAsync(new ResourceRegistration(request.Type, request.Name)
            {
                Custom = false,
                Parent = request.Parent,
                Dependencies = request.Dependencies,
                Providers = request.Providers.ToImmutableDictionary(StringComparer.Ordinal),
                Aliases = request.Aliases,
                Protect = request.Options.Protect,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            urn.SetException(e);
            await session.CompleteQuietlyAsync().ConfigureAwait(false);
            throw;
        }
        urn.SetResult(registered.Urn);
        await session.CompleteAsync().ConfigureAwait(false);
        if (request.Log is { } log)
        {
            foreach (var line in session.LeftOut)
            {
                await log.LogAsync(LogLevel.Info, line, registered.Urn, cancellationToken).ConfigureAwait(false);
            }
        }

        var context = new WriteContext();
        var state = await PropertyBinder.UnbindAsync(outputs, context).ConfigureAwait(false);
        await registrar.RegisterResourceOutputsAsync(registered.Urn, state, cancellationToken).ConfigureAwait(false);
        var dependencies = context.ToPropertyDependencies();
        return new ConstructResponse(registered.Urn, state,
            state.Keys.ToImmutableDictionary(k => k, k => dependencies.TryGetValue(k, out var urns) ? urns : [], StringComparer.Ordinal));
    }
}

/// <summary>One registration a <see cref="RecordingRegistrar"/> saw, with the URN it answered.</summary>
public sealed record RecordedRegistration(ResourceRegistration Registration, string Urn);

/// <summary>
/// A registrar that records every registration and answers at once, as the engine would in preview
/// (outputs unknown) or as <see cref="Answer"/> says; for builder tests that need no engine and no network.
/// </summary>
public sealed class RecordingRegistrar : IRegistrar
{
    private readonly List<RecordedRegistration> _registrations = [];
    private readonly Dictionary<string, ImmutableSortedDictionary<string, PropertyValue>> _outputs = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The stack URN prefix of the URNs this registrar makes.</summary>
    public string Stack { get; init; } = "urn:pulumi:test::test::";

    /// <summary>The outputs a custom resource answers with; the default answers none.</summary>
    public Func<ResourceRegistration, ImmutableSortedDictionary<string, PropertyValue>>? Answer { get; init; }

    /// <summary>The registrations in the order they were made.</summary>
    public IReadOnlyList<RecordedRegistration> Registrations
    {
        get
        {
            lock (_lock)
            {
                return [.. _registrations];
            }
        }
    }

    /// <summary>The outputs registered for each component URN.</summary>
    public IReadOnlyDictionary<string, ImmutableSortedDictionary<string, PropertyValue>> ComponentOutputs
    {
        get
        {
            lock (_lock)
            {
                return _outputs.ToImmutableDictionary(StringComparer.Ordinal);
            }
        }
    }

    /// <inheritdoc/>
    public Task<RegisteredResource> RegisterResourceAsync(ResourceRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var urn = $"{Stack}{registration.Type}::{registration.Name}";
        lock (_lock)
        {
            _registrations.Add(new RecordedRegistration(registration, urn));
        }
        var outputs = registration.Custom && Answer is { } answer
            ? answer(registration)
            : ImmutableSortedDictionary<string, PropertyValue>.Empty.WithComparers(StringComparer.Ordinal);
        return Task.FromResult(new RegisteredResource(urn, registration.Custom ? registration.Name + "-id" : "", outputs));
    }

    /// <inheritdoc/>
    public Task RegisterResourceOutputsAsync(string urn, ImmutableSortedDictionary<string, PropertyValue> outputs, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _outputs[urn] = outputs;
        }
        return Task.CompletedTask;
    }
}
