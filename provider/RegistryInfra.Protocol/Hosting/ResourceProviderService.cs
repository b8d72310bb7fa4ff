using System.Collections.Immutable;
using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using RegistryInfra.Protocol.Values;
using Wire = Pulumirpc;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>
/// The one adapter between the generated wire types of <c>pulumirpc.ResourceProvider</c> and the typed
/// records of <see cref="Provider"/>. Every RPC goes through <see cref="Run{T}"/>, the single place where
/// exceptions become gRPC statuses and where <c>Cancel</c> reaches running operations.
/// </summary>
public sealed class ResourceProviderService : Wire.ResourceProvider.ResourceProviderBase
{
    private readonly Provider _provider;
    private readonly CancellationTokenSource _cancel;
    private readonly IEngineLog _log;
    private readonly Lock _schemaGate = new();
    private Task<PreparedMessage>? _schemaAnswer;

    /// <summary>Serves <paramref name="provider"/>; <paramref name="cancel"/> is cancelled by the Cancel RPC.</summary>
    public ResourceProviderService(Provider provider, CancellationTokenSource cancel, IEngineLog log)
    {
        _provider = provider;
        _cancel = cancel;
        _log = log;
    }

    /// <summary>The version reported by GetPluginInfo: the provider assembly's informational version.</summary>
    public string Version =>
        (_provider.GetType().Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
            .Split('+')[0];

    /// <inheritdoc/>
    public override Task<Wire.ProviderHandshakeResponse> Handshake(Wire.ProviderHandshakeRequest request, ServerCallContext context) =>
        Run(context, "", async ct =>
        {
            await _provider.HandshakeAsync(new HandshakeRequest(request.EngineAddress,
                request.HasRootDirectory ? request.RootDirectory : null,
                request.HasProgramDirectory ? request.ProgramDirectory : null), ct).ConfigureAwait(false);
            return new Wire.ProviderHandshakeResponse { AcceptSecrets = true, AcceptResources = true, AcceptOutputs = true };
        });

    /// <inheritdoc/>
    public override Task<Wire.PluginInfo> GetPluginInfo(Empty request, ServerCallContext context) =>
        Task.FromResult(new Wire.PluginInfo { Version = Version });

    /// <inheritdoc/>
    public override Task<Wire.GetSchemaResponse> GetSchema(Wire.GetSchemaRequest request, ServerCallContext context) =>
        Run(context, "", async ct =>
        {
            CheckSchemaRequest(request);
            return new Wire.GetSchemaResponse { Schema = await _provider.GetSchemaAsync(ct).ConfigureAwait(false) };
        });

    /// <summary>
    /// GetSchema as the plugin serves it (<see cref="ResourceProviderMethods"/>): the same refusals as
    /// <see cref="GetSchema"/>, and for a provider whose schema <see cref="Provider.SchemaIsFixed">is fixed</see> the
    /// one answer prepared at start (or, when it is not ready yet, as soon as it is), else the answer serialized now.
    /// </summary>
    internal Task<PreparedMessage> GetSchemaAnswer(Wire.GetSchemaRequest request, ServerCallContext context) =>
        Run(context, "", async ct =>
        {
            CheckSchemaRequest(request);
            return _provider.SchemaIsFixed
                ? await FixedSchemaAnswer().WaitAsync(ct).ConfigureAwait(false)
                : PreparedMessage.Create(new Wire.GetSchemaResponse { Schema = await _provider.GetSchemaAsync(ct).ConfigureAwait(false) });
        });

    /// <summary>
    /// When the provider's schema is fixed, starts reading it and serializing and gzip-compressing its GetSchema answer
    /// on a thread-pool thread; the host calls this once its port is printed, so that the first GetSchema writes a
    /// ready frame and the first answers are not kept waiting for it.
    /// </summary>
    public void PrepareSchema()
    {
        if (_provider.SchemaIsFixed)
        {
            _ = FixedSchemaAnswer();
        }
    }

    /// <summary>The prepared answer of a fixed schema; prepared again after a failure (the next GetSchema retries).</summary>
    private Task<PreparedMessage> FixedSchemaAnswer()
    {
        lock (_schemaGate)
        {
            if (_schemaAnswer is null || _schemaAnswer.IsFaulted || _schemaAnswer.IsCanceled)
            {
                _schemaAnswer = Task.Run(async () => PreparedMessage.Create(new Wire.GetSchemaResponse
                {
                    Schema = await _provider.GetSchemaAsync(_cancel.Token).ConfigureAwait(false),
                }).Compress());
            }
            return _schemaAnswer;
        }
    }

    private static void CheckSchemaRequest(Wire.GetSchemaRequest request)
    {
        if (request.Version > 0 || request.SubpackageName.Length > 0)
        {
            throw new ArgumentException($"schema version {request.Version} / subpackage '{request.SubpackageName}' is not served; only version 0 of the package itself");
        }
    }

    /// <inheritdoc/>
    public override Task<Wire.CheckResponse> CheckConfig(Wire.CheckRequest request, ServerCallContext context) =>
        Run(context, request.Urn, async ct => FromCheck(await _provider.CheckConfigAsync(ToCheck(request), ct).ConfigureAwait(false)));

    /// <inheritdoc/>
    public override Task<Wire.DiffResponse> DiffConfig(Wire.DiffRequest request, ServerCallContext context) =>
        Run(context, request.Urn, async ct => FromDiff(await _provider.DiffConfigAsync(ToDiff(request), ct).ConfigureAwait(false)));

    /// <inheritdoc/>
    public override Task<Wire.ConfigureResponse> Configure(Wire.ConfigureRequest request, ServerCallContext context) =>
        Run(context, "", async ct =>
        {
#pragma warning disable CS0612 // Older engines send only the deprecated variables map.
            var variables = request.Variables.ToImmutableDictionary();
#pragma warning restore CS0612
            await _provider.ConfigureAsync(new ConfigureRequest(Map(request.Args), variables), ct).ConfigureAwait(false);
            await _log.LogAsync(LogLevel.Debug, $"provider version {Version} configured", request.HasUrn ? request.Urn : "", ct).ConfigureAwait(false);
            return new Wire.ConfigureResponse { AcceptSecrets = true, AcceptResources = true, AcceptOutputs = true, SupportsPreview = true };
        });

    /// <inheritdoc/>
    public override Task<Wire.CheckResponse> Check(Wire.CheckRequest request, ServerCallContext context) =>
        Run(context, request.Urn, async ct => FromCheck(await _provider.CheckAsync(ToCheck(request), ct).ConfigureAwait(false)));

    /// <inheritdoc/>
    public override Task<Wire.DiffResponse> Diff(Wire.DiffRequest request, ServerCallContext context) =>
        Run(context, request.Urn, async ct => FromDiff(await _provider.DiffAsync(ToDiff(request), ct).ConfigureAwait(false)));

    /// <inheritdoc/>
    public override Task<Wire.CreateResponse> Create(Wire.CreateRequest request, ServerCallContext context) =>
        Run(context, request.Urn, async ct =>
        {
            var response = await _provider.CreateAsync(new CreateRequest(request.Urn, TypeOf(request.Type, request.Urn), NameOf(request.Name, request.Urn),
                Map(request.Properties), TimeSpan.FromSeconds(request.Timeout), request.Preview), ct).ConfigureAwait(false);
            return new Wire.CreateResponse { Id = response.Id, Properties = PropertyValueSerializer.Serialize(response.Properties) };
        });

    /// <inheritdoc/>
    public override Task<Wire.ReadResponse> Read(Wire.ReadRequest request, ServerCallContext context) =>
        Run(context, request.Urn, async ct =>
        {
            var response = await _provider.ReadAsync(new ReadRequest(request.Id, request.Urn, TypeOf(request.Type, request.Urn), NameOf(request.Name, request.Urn),
                Map(request.Properties), Map(request.Inputs)), ct).ConfigureAwait(false);
            return new Wire.ReadResponse
            {
                Id = response.Id,
                Properties = PropertyValueSerializer.Serialize(response.Properties),
                Inputs = PropertyValueSerializer.Serialize(response.Inputs),
            };
        });

    /// <inheritdoc/>
    public override Task<Wire.UpdateResponse> Update(Wire.UpdateRequest request, ServerCallContext context) =>
        Run(context, request.Urn, async ct =>
        {
            var response = await _provider.UpdateAsync(new UpdateRequest(request.Id, request.Urn, TypeOf(request.Type, request.Urn), NameOf(request.Name, request.Urn),
                Map(request.Olds), Map(request.OldInputs), Map(request.News), TimeSpan.FromSeconds(request.Timeout),
                [.. request.IgnoreChanges], request.Preview), ct).ConfigureAwait(false);
            return new Wire.UpdateResponse { Properties = PropertyValueSerializer.Serialize(response.Properties) };
        });

    /// <inheritdoc/>
    public override Task<Empty> Delete(Wire.DeleteRequest request, ServerCallContext context) =>
        Run(context, request.Urn, async ct =>
        {
            await _provider.DeleteAsync(new DeleteRequest(request.Id, request.Urn, TypeOf(request.Type, request.Urn), NameOf(request.Name, request.Urn),
                Map(request.Properties), Map(request.OldInputs), TimeSpan.FromSeconds(request.Timeout)), ct).ConfigureAwait(false);
            return new Empty();
        });

    /// <inheritdoc/>
    public override Task<Wire.InvokeResponse> Invoke(Wire.InvokeRequest request, ServerCallContext context) =>
        Run(context, "", async ct =>
        {
            var response = await _provider.InvokeAsync(new InvokeRequest(request.Tok, Map(request.Args), request.Preview), ct).ConfigureAwait(false);
            var wire = new Wire.InvokeResponse { Return = response.Return is null ? null : PropertyValueSerializer.Serialize(response.Return) };
            wire.Failures.AddRange(response.Failures.Select(FromFailure));
            return wire;
        });

    /// <inheritdoc/>
    public override Task<Wire.CallResponse> Call(Wire.CallRequest request, ServerCallContext context) =>
        Run(context, "", async ct =>
        {
            var response = await _provider.CallAsync(new CallRequest(request.Tok, Map(request.Args),
                request.ArgDependencies.ToImmutableDictionary(e => e.Key, e => e.Value.Urns.ToImmutableArray()),
                new DeploymentContext(request.Project, request.Stack, request.Organization, request.Config.ToImmutableDictionary(),
                    [.. request.ConfigSecretKeys], request.DryRun, request.Parallel, request.MonitorEndpoint),
                request.AcceptsOutputValues), ct).ConfigureAwait(false);
            var wire = new Wire.CallResponse { Return = response.Return is null ? null : PropertyValueSerializer.Serialize(response.Return) };
            foreach (var (key, urns) in response.ReturnDependencies)
            {
                wire.ReturnDependencies[key] = new Wire.CallResponse.Types.ReturnDependencies { Urns = { urns } };
            }
            wire.Failures.AddRange(response.Failures.Select(FromFailure));
            return wire;
        });

    /// <inheritdoc/>
    public override Task<Wire.ConstructResponse> Construct(Wire.ConstructRequest request, ServerCallContext context) =>
        Run(context, "", async ct =>
        {
            var timeouts = request.CustomTimeouts is { } t ? new CustomTimeouts(t.Create, t.Update, t.Delete, t.Read) : null;
            var options = new ConstructOptions(
                request.HasProtect ? request.Protect : null, [.. request.AdditionalSecretOutputs], timeouts, request.DeletedWith,
                request.HasDeleteBeforeReplace ? request.DeleteBeforeReplace : null, [.. request.IgnoreChanges], [.. request.ReplaceOnChanges],
                request.HasRetainOnDelete ? request.RetainOnDelete : null, [.. request.ReplaceWith]);
            var aliases = request.Aliases.Select(a => a.AliasCase == Wire.Alias.AliasOneofCase.Urn
                ? new ResourceAlias(a.Urn, null, null, null, null, null, false)
                : new ResourceAlias(null, a.Spec.Name, a.Spec.Type, a.Spec.Stack, a.Spec.Project,
                    a.Spec.ParentCase == Wire.Alias.Types.Spec.ParentOneofCase.ParentUrn ? a.Spec.ParentUrn : null,
                    a.Spec.ParentCase == Wire.Alias.Types.Spec.ParentOneofCase.NoParent && a.Spec.NoParent));
            var response = await _provider.ConstructAsync(new ConstructRequest(request.Type, request.Name, request.Parent, Map(request.Inputs),
                request.InputDependencies.ToImmutableDictionary(e => e.Key, e => e.Value.Urns.ToImmutableArray()),
                new DeploymentContext(request.Project, request.Stack, request.Organization, request.Config.ToImmutableDictionary(),
                    [.. request.ConfigSecretKeys], request.DryRun, request.Parallel, request.MonitorEndpoint),
                request.Providers.ToImmutableDictionary(), [.. request.Dependencies], [.. aliases], options, request.AcceptsOutputValues)
            { Log = _log }, ct).ConfigureAwait(false);
            var wire = new Wire.ConstructResponse { Urn = response.Urn, State = PropertyValueSerializer.Serialize(response.State) };
            foreach (var (key, urns) in response.StateDependencies)
            {
                wire.StateDependencies[key] = new Wire.ConstructResponse.Types.PropertyDependencies { Urns = { urns } };
            }
            return wire;
        });

    /// <inheritdoc/>
    public override Task<Empty> Cancel(Empty request, ServerCallContext context)
    {
        // Cancel asks for running operations to stop and the plugin to shut down; answer first, then stop.
        _ = Task.Run(_cancel.Cancel);
        return Task.FromResult(new Empty());
    }

    /// <inheritdoc/>
    public override Task<Empty> Attach(Wire.PluginAttach request, ServerCallContext context) =>
        Run(context, "", async ct =>
        {
            await _provider.HandshakeAsync(new HandshakeRequest(request.Address, null, null), ct).ConfigureAwait(false);
            return new Empty();
        });

    private async Task<T> Run<T>(ServerCallContext context, string urn, Func<CancellationToken, Task<T>> operation)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _cancel.Token);
        try
        {
            return await operation(linked.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Every failure leaves through here, RpcExceptions of handlers included, so that every status
            // message is capped (see StatusText).
            var status = ProviderErrors.ToStatus(e);
            if (status.StatusCode is StatusCode.Unknown or StatusCode.Internal)
            {
                await _log.LogAsync(LogLevel.Debug, $"{context.Method} failed: {e.GetType().Name}: {status.Detail}", StatusText.Cap(urn, 512), CancellationToken.None).ConfigureAwait(false);
            }
            throw new RpcException(status);
        }
    }

    private static CheckRequest ToCheck(Wire.CheckRequest request) =>
        new(request.Urn, TypeOf(request.Type, request.Urn), NameOf(request.Name, request.Urn), Map(request.Olds), Map(request.News),
            [.. request.RandomSeed.ToByteArray()]);

    private static DiffRequest ToDiff(Wire.DiffRequest request) =>
        new(request.Urn, TypeOf(request.Type, request.Urn), NameOf(request.Name, request.Urn), request.Id, Map(request.Olds),
            Map(request.OldInputs), Map(request.News), [.. request.IgnoreChanges]);

    private static Wire.CheckResponse FromCheck(CheckResponse response)
    {
        var wire = new Wire.CheckResponse { Inputs = response.Inputs is null ? null : PropertyValueSerializer.Serialize(response.Inputs) };
        wire.Failures.AddRange(response.Failures.Select(FromFailure));
        return wire;
    }

    private static Wire.CheckFailure FromFailure(CheckFailure failure) =>
        new() { Property = StatusText.Cap(failure.Property, 512), Reason = StatusText.Cap(failure.Reason, StatusText.MaxReasonLength) };

    private static Wire.DiffResponse FromDiff(DiffResponse response)
    {
        var wire = new Wire.DiffResponse
        {
            Changes = response.HasChanges switch
            {
                null => Wire.DiffResponse.Types.DiffChanges.DiffUnknown,
                true => Wire.DiffResponse.Types.DiffChanges.DiffSome,
                false => Wire.DiffResponse.Types.DiffChanges.DiffNone,
            },
            DeleteBeforeReplace = response.DeleteBeforeReplace,
            HasDetailedDiff = response.HasChanges is not null,
        };
        wire.Replaces.AddRange(response.Replaces);
        wire.Stables.AddRange(response.Stables);
        foreach (var (path, diff) in response.DetailedDiff.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            wire.Diffs.Add(path);
            wire.DetailedDiff[path] = new Wire.PropertyDiff
            {
                InputDiff = diff.InputDiff,
                Kind = diff.Kind switch
                {
                    PropertyDiffKind.Add => Wire.PropertyDiff.Types.Kind.Add,
                    PropertyDiffKind.AddReplace => Wire.PropertyDiff.Types.Kind.AddReplace,
                    PropertyDiffKind.Delete => Wire.PropertyDiff.Types.Kind.Delete,
                    PropertyDiffKind.DeleteReplace => Wire.PropertyDiff.Types.Kind.DeleteReplace,
                    PropertyDiffKind.Update => Wire.PropertyDiff.Types.Kind.Update,
                    _ => Wire.PropertyDiff.Types.Kind.UpdateReplace,
                },
            };
        }
        return wire;
    }

    private static ImmutableSortedDictionary<string, PropertyValue> Map(Struct? properties)
    {
        if (StatusText.TooDeep(properties) is { } path)
        {
            throw new ArgumentException($"property '{path}' is nested more than {StatusText.MaxPropertyDepth} levels deep; inputs may nest at most {StatusText.MaxPropertyDepth} levels");
        }
        return PropertyValueSerializer.Deserialize(properties);
    }

    // Older engines send only the URN (urn:pulumi:stack::project::[parent$]type::name); newer ones also send type and name.
    private static string TypeOf(string type, string urn) =>
        type.Length > 0 ? type : UrnPart(urn, 2).Split('$')[^1];

    private static string NameOf(string name, string urn) => name.Length > 0 ? name : UrnPart(urn, 3);

    private static string UrnPart(string urn, int index)
    {
        var parts = urn.Split("::", 4);
        return parts.Length > index ? parts[index] : "";
    }
}
