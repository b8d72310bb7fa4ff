using System.Collections.Immutable;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Resources;

/// <summary>The one table of a provider's resources, functions and components, by type token.</summary>
public sealed class ResourceTable
{
    private readonly Dictionary<string, ResourceBinding> _resources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FunctionBinding> _functions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ComponentBinding> _components = new(StringComparer.Ordinal);

    /// <summary>Registers a custom resource.</summary>
    public ResourceTable Resource<TArgs, TState>(string token, IResource<TArgs, TState> handler, string description)
        where TArgs : class, IPulumiModel<TArgs> where TState : class, IPulumiModel<TState>
    {
        _resources.Add(token, new ResourceBinding<TArgs, TState>(token, handler, description));
        return this;
    }

    /// <summary>Registers a function.</summary>
    public ResourceTable Function<TArgs, TResult>(string token, IFunction<TArgs, TResult> handler, string description)
        where TArgs : class, IPulumiModel<TArgs> where TResult : class, IPulumiModel<TResult>
    {
        _functions.Add(token, new FunctionBinding<TArgs, TResult>(token, handler, description));
        return this;
    }

    /// <summary>Registers a component.</summary>
    public ResourceTable Component<TArgs, TOutputs>(IComponent<TArgs, TOutputs> component, string description)
        where TArgs : class, IPulumiModel<TArgs> where TOutputs : class, IPulumiModel<TOutputs>
    {
        ArgumentNullException.ThrowIfNull(component);
        _components.Add(component.Type, new ComponentBinding<TArgs, TOutputs>(component, description));
        return this;
    }

    internal IReadOnlyDictionary<string, ResourceBinding> Resources => _resources;
    internal IReadOnlyDictionary<string, FunctionBinding> Functions => _functions;
    internal IReadOnlyDictionary<string, ComponentBinding> Components => _components;

    internal ResourceBinding GetResource(string token) =>
        _resources.TryGetValue(token, out var binding) ? binding : throw new UnknownTokenException("resource type", token);

    internal FunctionBinding GetFunction(string token) =>
        _functions.TryGetValue(token, out var binding) ? binding : throw new UnknownTokenException("function", token);

    internal ComponentBinding GetComponent(string token) =>
        _components.TryGetValue(token, out var binding) ? binding : throw new UnknownTokenException("component type", token);
}

internal abstract record Declaration(string Token,
    ModelShape Inputs, ModelShape Outputs, string Description);

internal abstract class ResourceBinding(string token, ModelShape args, ModelShape state, string description)
{
    public Declaration Declaration { get; } = new ResourceDeclaration(token, args, state, description);
    public abstract Task<CheckResponse> CheckAsync(CheckRequest request, CancellationToken cancellationToken);
    public abstract Task<DiffResponse> DiffAsync(DiffRequest request, CancellationToken cancellationToken);
    public abstract Task<CreateResponse> CreateAsync(CreateRequest request, CancellationToken cancellationToken);
    public abstract Task<ReadResponse> ReadAsync(ReadRequest request, CancellationToken cancellationToken);
    public abstract Task<UpdateResponse> UpdateAsync(UpdateRequest request, CancellationToken cancellationToken);
    public abstract Task DeleteAsync(DeleteRequest request, CancellationToken cancellationToken);
}

internal sealed record ResourceDeclaration(string Token, ModelShape Inputs, ModelShape Outputs, string Description)
    : Declaration(Token, Inputs, Outputs, Description);

internal sealed record FunctionDeclaration(string Token, ModelShape Inputs, ModelShape Outputs, string Description)
    : Declaration(Token, Inputs, Outputs, Description);

internal sealed record ComponentDeclaration(string Token, ModelShape Inputs, ModelShape Outputs, string Description)
    : Declaration(Token, Inputs, Outputs, Description);

internal sealed class ResourceBinding<TArgs, TState>(string token, IResource<TArgs, TState> handler, string description)
    : ResourceBinding(token, TArgs.Shape, TState.Shape, description)
    where TArgs : class, IPulumiModel<TArgs> where TState : class, IPulumiModel<TState>
{
    private IReadOnlyDictionary<string, PropertyValue> Upgrade(IReadOnlyDictionary<string, PropertyValue> inputs) =>
        handler is IUpgradeInputs upgrade ? upgrade.UpgradeInputs(inputs) : inputs;

    public override async Task<CheckResponse> CheckAsync(CheckRequest request, CancellationToken cancellationToken)
    {
        request = request with { OldInputs = Upgrade(request.OldInputs), NewInputs = Upgrade(request.NewInputs) };
        var bound = PropertyBinder.Bind<TArgs>(request.NewInputs, BindMode.AllowUnknowns);
        if (!bound.Succeeded)
        {
            return new CheckResponse(request.NewInputs, bound.Failures);
        }
        if (handler is not ICustomCheck<TArgs> custom)
        {
            return new CheckResponse(request.NewInputs, []);
        }
        var olds = request.OldInputs.Count > 0 ? PropertyBinder.Bind<TArgs>(request.OldInputs, BindMode.AllowUnknowns) : null;
        var oldArgs = olds is { Succeeded: true, UnknownPaths.Count: 0 } ? olds.Value : null;
        var checkedArgs = await custom.CheckAsync(new CheckContext<TArgs>(Identity(request.Urn, request.Type, request.Name), bound.Value!, bound.UnknownPaths, oldArgs), cancellationToken).ConfigureAwait(false);
        // Normalised inputs keep the secretness and unknownness of what came in.
        var inputs = Restore(PropertyBinder.Unbind(checkedArgs.Args), request.NewInputs, bound);
        return new CheckResponse(inputs, checkedArgs.Failures);
    }

    public override async Task<DiffResponse> DiffAsync(DiffRequest request, CancellationToken cancellationToken)
    {
        request = request with { OldState = Upgrade(request.OldState), OldInputs = Upgrade(request.OldInputs), NewInputs = Upgrade(request.NewInputs) };
        if (handler is ICustomDiff<TArgs, TState> custom)
        {
            var news = PropertyBinder.Bind<TArgs>(request.NewInputs, BindMode.AllowUnknowns);
            ThrowIfFailed(news, "new inputs");
            var olds = PropertyBinder.Bind<TArgs>(request.OldInputs, BindMode.AllowUnknowns);
            var state = PropertyBinder.Bind<TState>(request.OldState, BindMode.AllowUnknowns);
            ThrowIfFailed(state, "old state");
            return await custom.DiffAsync(new DiffContext<TArgs, TState>(Identity(request.Urn, request.Type, request.Name), request.Id,
                state.Value!, olds.Value, news.Value!, news.UnknownPaths, request), cancellationToken).ConfigureAwait(false);
        }
        return InputDiff.Compute(TArgs.Shape, request.OldInputs.Count > 0 ? request.OldInputs : request.OldState, request.NewInputs,
            request.IgnoreChanges, replaceEveryChange: handler is not ICustomUpdate<TArgs, TState>);
    }

    public override async Task<CreateResponse> CreateAsync(CreateRequest request, CancellationToken cancellationToken)
    {
        request = request with { Properties = Upgrade(request.Properties) };
        var args = PropertyBinder.Bind<TArgs>(request.Properties, request.Preview ? BindMode.AllowUnknowns : BindMode.Strict);
        ThrowIfFailed(args, "inputs");
        var result = await handler.CreateAsync(new CreateContext<TArgs>(Identity(request.Urn, request.Type, request.Name), args.Value!, request.Preview, args.UnknownPaths),
            cancellationToken).ConfigureAwait(false);
        return new CreateResponse(request.Preview ? "" : result.Id, ToState(result.State, request.Properties, result.UnknownOutputs));
    }

    public override async Task<UpdateResponse> UpdateAsync(UpdateRequest request, CancellationToken cancellationToken)
    {
        request = request with { OldState = Upgrade(request.OldState), OldInputs = Upgrade(request.OldInputs), NewInputs = Upgrade(request.NewInputs) };
        if (handler is not ICustomUpdate<TArgs, TState> update)
        {
            throw new NotImplementedException($"Update of {Declaration.Token} (every change replaces it)");
        }
        var news = PropertyBinder.Bind<TArgs>(request.NewInputs, request.Preview ? BindMode.AllowUnknowns : BindMode.Strict);
        ThrowIfFailed(news, "new inputs");
        var olds = PropertyBinder.Bind<TArgs>(request.OldInputs, BindMode.AllowUnknowns);
        var state = PropertyBinder.Bind<TState>(request.OldState, BindMode.AllowUnknowns);
        ThrowIfFailed(state, "old state");
        var result = await update.UpdateAsync(new UpdateContext<TArgs, TState>(Identity(request.Urn, request.Type, request.Name), request.Id,
            state.Value!, olds.Value, news.Value!, request.Preview, news.UnknownPaths), cancellationToken).ConfigureAwait(false);
        return new UpdateResponse(ToState(result.State, request.NewInputs, result.UnknownOutputs));
    }

    public override async Task<ReadResponse> ReadAsync(ReadRequest request, CancellationToken cancellationToken)
    {
        request = request with { Properties = Upgrade(request.Properties), Inputs = Upgrade(request.Inputs) };
        if (handler is not ICustomRead<TArgs, TState> read)
        {
            return new ReadResponse(request.Id, request.Properties, request.Inputs);
        }
        // No properties is an import (nothing recorded yet). A recorded state that does not bind (written by another
        // version, or by hand) is kept as it is, as a refresh without a reader keeps it: nothing is lost or rewritten.
        // Inputs that do not bind (an engine or state that recorded none) reach the handler as null.
        var state = PropertyBinder.Bind<TState>(request.Properties, BindMode.AllowUnknowns);
        if (request.Properties.Count > 0 && !state.Succeeded)
        {
            return new ReadResponse(request.Id, request.Properties, request.Inputs);
        }
        var args = PropertyBinder.Bind<TArgs>(request.Inputs, BindMode.AllowUnknowns);
        var result = await read.ReadAsync(new ReadContext<TArgs, TState>(Identity(request.Urn, request.Type, request.Name), request.Id,
            request.Properties.Count > 0 ? state.Value : null, args.Succeeded ? args.Value : null),
            cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return new ReadResponse("", ImmutableDictionary<string, PropertyValue>.Empty, ImmutableDictionary<string, PropertyValue>.Empty);
        }
        // Null args: the handler read the state alone, and the inputs stay as recorded.
        IReadOnlyDictionary<string, PropertyValue> inputs = result.Args is null ? request.Inputs : Restore(PropertyBinder.Unbind(result.Args), request.Inputs, args);
        return new ReadResponse(result.Id, ToState(result.State, inputs, null), inputs);
    }

    public override async Task DeleteAsync(DeleteRequest request, CancellationToken cancellationToken)
    {
        if (handler is ICustomDelete<TState> delete)
        {
            var state = PropertyBinder.Bind<TState>(request.Properties, BindMode.AllowUnknowns);
            ThrowIfFailed(state, "state");
            await delete.DeleteAsync(new DeleteContext<TState>(Identity(request.Urn, request.Type, request.Name), request.Id, state.Value!), cancellationToken).ConfigureAwait(false);
        }
    }

    private static ResourceIdentity Identity(string urn, string type, string name) => new(urn, type, name);

    private static void ThrowIfFailed<T>(BindResult<T> result, string what)
    {
        if (!result.Succeeded)
        {
            throw new ArgumentException($"invalid {what}: " + string.Join("; ", result.Failures.Select(f => $"{f.Property}: {f.Reason}")));
        }
    }

    /// <summary>
    /// State as sent: properties marked secret are secrets, a state property named like a secret input stays
    /// secret, and unknown outputs are computed.
    /// </summary>
    internal static ImmutableSortedDictionary<string, PropertyValue> ToState(
        TState state, IReadOnlyDictionary<string, PropertyValue> inputs, ImmutableHashSet<string>? unknownOutputs)
    {
        var map = PropertyBinder.Unbind(state).ToBuilder();
        foreach (var field in TState.Shape.Fields)
        {
            if (unknownOutputs?.Contains(field.Name) == true)
            {
                map[field.Name] = field.Secret ? PropertyValue.CreateSecret(PropertyValue.Computed) : PropertyValue.Computed;
            }
            if (map.TryGetValue(field.Name, out var value) && inputs.TryGetValue(field.Name, out var input) && input.ContainsSecrets())
            {
                map[field.Name] = value.AsSecret();
            }
        }
        return map.ToImmutable();
    }

    /// <summary>Puts back the secret wrappers and unknowns of the original inputs onto normalised inputs.</summary>
    private static ImmutableSortedDictionary<string, PropertyValue> Restore(
        ImmutableSortedDictionary<string, PropertyValue> normalised, IReadOnlyDictionary<string, PropertyValue> original, BindResult<TArgs> bound)
    {
        var builder = normalised.ToBuilder();
        foreach (var (key, value) in original)
        {
            if (bound.UnknownPaths.Contains(key) || value.ContainsUnknowns())
            {
                builder[key] = value;
            }
            else if (builder.TryGetValue(key, out var current) && value.ContainsSecrets())
            {
                builder[key] = current.AsSecret();
            }
        }
        return builder.ToImmutable();
    }
}

internal abstract class FunctionBinding(Declaration declaration)
{
    public Declaration Declaration { get; } = declaration;
    public abstract Task<InvokeResponse> InvokeAsync(InvokeRequest request, CancellationToken cancellationToken);
}

internal sealed class FunctionBinding<TArgs, TResult>(string token, IFunction<TArgs, TResult> handler, string description)
    : FunctionBinding(new FunctionDeclaration(token, TArgs.Shape, TResult.Shape, description))
    where TArgs : class, IPulumiModel<TArgs> where TResult : class, IPulumiModel<TResult>
{
    public override async Task<InvokeResponse> InvokeAsync(InvokeRequest request, CancellationToken cancellationToken)
    {
        var args = PropertyBinder.Bind<TArgs>(request.Args, BindMode.Strict);
        if (!args.Succeeded)
        {
            return new InvokeResponse(null, args.Failures);
        }
        var result = await handler.InvokeAsync(args.Value!, request.Preview, cancellationToken).ConfigureAwait(false);
        var map = PropertyBinder.Unbind(result);
        // Secret only where secret data is carried (issue 10 item 2): [Secret] result properties (Unbind marks them) and
        // any property whose text contains the text of a secret argument. A digest resolved with a password is not secret.
        var secretTexts = new List<string>();
        foreach (var value in request.Args.Values)
        {
            CollectSecretTexts(value, false, secretTexts);
        }
        if (secretTexts.Count > 0)
        {
            map = map.ToImmutableSortedDictionary(e => e.Key, e => Carries(e.Value, secretTexts) ? e.Value.AsSecret() : e.Value, StringComparer.Ordinal);
        }
        return new InvokeResponse(map, []);
    }

    private static void CollectSecretTexts(PropertyValue value, bool inSecret, List<string> into)
    {
        switch (value.Kind)
        {
            case PropertyValueKind.Secret:
                CollectSecretTexts(value.SecretValue, true, into);
                break;
            case PropertyValueKind.String when inSecret && value.StringValue.Length > 0:
                into.Add(value.StringValue);
                break;
            case PropertyValueKind.Array:
                foreach (var item in value.ArrayValue)
                {
                    CollectSecretTexts(item, inSecret, into);
                }
                break;
            case PropertyValueKind.Object:
                foreach (var item in value.ObjectValue.Values)
                {
                    CollectSecretTexts(item, inSecret, into);
                }
                break;
            case PropertyValueKind.Output when value.OutputValue.Value is { } inner:
                CollectSecretTexts(inner, inSecret || value.OutputValue.IsSecret, into);
                break;
        }
    }

    private static bool Carries(PropertyValue value, List<string> secretTexts) => value.Kind switch
    {
        PropertyValueKind.String => secretTexts.Any(t => value.StringValue.Contains(t, StringComparison.Ordinal)),
        PropertyValueKind.Secret => true,
        PropertyValueKind.Array => value.ArrayValue.Any(v => Carries(v, secretTexts)),
        PropertyValueKind.Object => value.ObjectValue.Values.Any(v => Carries(v, secretTexts)),
        PropertyValueKind.Output => value.OutputValue.Value is { } inner && Carries(inner, secretTexts),
        _ => false,
    };
}

internal abstract class ComponentBinding(Declaration declaration)
{
    public Declaration Declaration { get; } = declaration;
    public abstract Task<ConstructResponse> ConstructAsync(ConstructRequest request, CancellationToken cancellationToken);
}

internal sealed class ComponentBinding<TArgs, TOutputs>(IComponent<TArgs, TOutputs> component, string description)
    : ComponentBinding(new ComponentDeclaration(component.Type, TArgs.Shape, TOutputs.Shape, description))
    where TArgs : class, IPulumiModel<TArgs> where TOutputs : class, IPulumiModel<TOutputs>
{
    public override async Task<ConstructResponse> ConstructAsync(ConstructRequest request, CancellationToken cancellationToken)
    {
        // Unknown values bind into the Args' outputs in preview; outside preview every input is known.
        var args = PropertyBinder.Bind<TArgs>(request.Inputs, request.Deployment.DryRun ? BindMode.AllowUnknowns : BindMode.Strict);
        if (!args.Succeeded)
        {
            throw new ArgumentException($"invalid inputs of {request.Type} '{request.Name}': " + string.Join("; ", args.Failures.Select(f => $"{f.Property}: {f.Reason}")));
        }
        using var monitor = ResourceMonitorClient.Connect(request.Deployment.MonitorEndpoint);
        return await ComponentHost.ConstructAsync(component, args.Value!, request, new MonitorRegistrar(monitor), cancellationToken).ConfigureAwait(false);
    }
}
