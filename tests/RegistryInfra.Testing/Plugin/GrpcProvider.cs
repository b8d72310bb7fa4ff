using System.Collections.Immutable;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using Wire = Pulumirpc;

namespace RegistryInfra.Testing.Plugin;

/// <summary>
/// A plugin reached over gRPC, seen as the typed <see cref="Provider"/> records: each call is encoded as the engine
/// encodes it, sent to the plugin, and its answer decoded back. The inverse of <see cref="ResourceProviderService"/>,
/// so one scenario drives the in-process provider and the shipped binary alike. A failing RPC throws its
/// <see cref="Grpc.Core.RpcException"/>.
/// </summary>
public sealed class GrpcProvider(Wire.ResourceProvider.ResourceProviderClient client) : Provider
{
    /// <inheritdoc/>
    public override async Task<string> GetSchemaAsync(CancellationToken cancellationToken) =>
        (await client.GetSchemaAsync(new Wire.GetSchemaRequest(), cancellationToken: cancellationToken).ConfigureAwait(false)).Schema;

    /// <inheritdoc/>
    public override async Task<CheckResponse> CheckAsync(CheckRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var wire = new Wire.CheckRequest
        {
            Urn = request.Urn,
            Type = request.Type,
            Name = request.Name,
            Olds = Struct(request.OldInputs),
            News = Struct(request.NewInputs),
            RandomSeed = ByteString.CopyFrom([.. request.RandomSeed]),
        };
        var response = await client.CheckAsync(wire, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new CheckResponse(response.Inputs is null ? null : Map(response.Inputs), [.. response.Failures.Select(f => new CheckFailure(f.Property, f.Reason))]);
    }

    /// <inheritdoc/>
    public override async Task<DiffResponse> DiffAsync(DiffRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var wire = new Wire.DiffRequest
        {
            Id = request.Id,
            Urn = request.Urn,
            Type = request.Type,
            Name = request.Name,
            Olds = Struct(request.OldState),
            OldInputs = Struct(request.OldInputs),
            News = Struct(request.NewInputs),
            IgnoreChanges = { request.IgnoreChanges },
        };
        var response = await client.DiffAsync(wire, cancellationToken: cancellationToken).ConfigureAwait(false);
        bool? changes = response.Changes switch
        {
            Wire.DiffResponse.Types.DiffChanges.DiffSome => true,
            Wire.DiffResponse.Types.DiffChanges.DiffNone => false,
            _ => null,
        };
        var detailed = response.DetailedDiff.ToImmutableSortedDictionary(d => d.Key, d => new PropertyDiff(d.Value.Kind switch
        {
            Wire.PropertyDiff.Types.Kind.Add => PropertyDiffKind.Add,
            Wire.PropertyDiff.Types.Kind.AddReplace => PropertyDiffKind.AddReplace,
            Wire.PropertyDiff.Types.Kind.Delete => PropertyDiffKind.Delete,
            Wire.PropertyDiff.Types.Kind.DeleteReplace => PropertyDiffKind.DeleteReplace,
            Wire.PropertyDiff.Types.Kind.Update => PropertyDiffKind.Update,
            _ => PropertyDiffKind.UpdateReplace,
        }, d.Value.InputDiff), StringComparer.Ordinal);
        return new DiffResponse(changes, [.. response.Replaces], [.. response.Stables], response.DeleteBeforeReplace, detailed);
    }

    /// <inheritdoc/>
    public override async Task<CreateResponse> CreateAsync(CreateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = await client.CreateAsync(new Wire.CreateRequest
        {
            Urn = request.Urn,
            Type = request.Type,
            Name = request.Name,
            Properties = Struct(request.Properties),
            Timeout = request.Timeout.TotalSeconds,
            Preview = request.Preview,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new CreateResponse(response.Id, Map(response.Properties));
    }

    /// <inheritdoc/>
    public override async Task<ReadResponse> ReadAsync(ReadRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = await client.ReadAsync(new Wire.ReadRequest
        {
            Id = request.Id,
            Urn = request.Urn,
            Type = request.Type,
            Name = request.Name,
            Properties = Struct(request.Properties),
            Inputs = Struct(request.Inputs),
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new ReadResponse(response.Id, Map(response.Properties), Map(response.Inputs));
    }

    /// <inheritdoc/>
    public override async Task<UpdateResponse> UpdateAsync(UpdateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = await client.UpdateAsync(new Wire.UpdateRequest
        {
            Id = request.Id,
            Urn = request.Urn,
            Type = request.Type,
            Name = request.Name,
            Olds = Struct(request.OldState),
            OldInputs = Struct(request.OldInputs),
            News = Struct(request.NewInputs),
            Timeout = request.Timeout.TotalSeconds,
            IgnoreChanges = { request.IgnoreChanges },
            Preview = request.Preview,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new UpdateResponse(Map(response.Properties));
    }

    /// <inheritdoc/>
    public override async Task DeleteAsync(DeleteRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await client.DeleteAsync(new Wire.DeleteRequest
        {
            Id = request.Id,
            Urn = request.Urn,
            Type = request.Type,
            Name = request.Name,
            Properties = Struct(request.Properties),
            OldInputs = Struct(request.OldInputs),
            Timeout = request.Timeout.TotalSeconds,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async Task<InvokeResponse> InvokeAsync(InvokeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = await client.InvokeAsync(new Wire.InvokeRequest { Tok = request.Token, Args = Struct(request.Args), Preview = request.Preview },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return new InvokeResponse(response.Return is null ? null : Map(response.Return), [.. response.Failures.Select(f => new CheckFailure(f.Property, f.Reason))]);
    }

    /// <inheritdoc/>
    public override async Task<ConstructResponse> ConstructAsync(ConstructRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var deployment = request.Deployment;
        var wire = new Wire.ConstructRequest
        {
            Project = deployment.Project,
            Stack = deployment.Stack,
            Organization = deployment.Organization,
            DryRun = deployment.DryRun,
            Parallel = deployment.Parallel,
            MonitorEndpoint = deployment.MonitorEndpoint,
            ConfigSecretKeys = { deployment.ConfigSecretKeys },
            Type = request.Type,
            Name = request.Name,
            Parent = request.Parent,
            Inputs = Struct(request.Inputs),
            Dependencies = { request.Dependencies },
            AcceptsOutputValues = request.AcceptsOutputValues,
            AdditionalSecretOutputs = { request.Options.AdditionalSecretOutputs },
            DeletedWith = request.Options.DeletedWith,
            IgnoreChanges = { request.Options.IgnoreChanges },
            ReplaceOnChanges = { request.Options.ReplaceOnChanges },
            ReplaceWith = { request.Options.ReplaceWith },
        };
        foreach (var (key, value) in deployment.Config)
        {
            wire.Config[key] = value;
        }
        foreach (var (package, urn) in request.Providers)
        {
            wire.Providers[package] = urn;
        }
        foreach (var (key, urns) in request.InputDependencies)
        {
            wire.InputDependencies[key] = new Wire.ConstructRequest.Types.PropertyDependencies { Urns = { urns } };
        }
        if (request.Options.Protect is { } protect)
        {
            wire.Protect = protect;
        }
        if (request.Options.DeleteBeforeReplace is { } deleteBeforeReplace)
        {
            wire.DeleteBeforeReplace = deleteBeforeReplace;
        }
        if (request.Options.RetainOnDelete is { } retainOnDelete)
        {
            wire.RetainOnDelete = retainOnDelete;
        }
        if (request.Options.CustomTimeouts is { } timeouts)
        {
            wire.CustomTimeouts = new Wire.ConstructRequest.Types.CustomTimeouts { Create = timeouts.Create, Update = timeouts.Update, Delete = timeouts.Delete, Read = timeouts.Read };
        }
        foreach (var alias in request.Aliases)
        {
            wire.Aliases.Add(alias.Urn is not null ? new Wire.Alias { Urn = alias.Urn } : new Wire.Alias { Spec = Spec(alias) });
        }
        var response = await client.ConstructAsync(wire, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new ConstructResponse(response.Urn, Map(response.State),
            response.StateDependencies.ToImmutableSortedDictionary(d => d.Key, d => d.Value.Urns.ToImmutableArray(), StringComparer.Ordinal));
    }

    private static Wire.Alias.Types.Spec Spec(ResourceAlias alias)
    {
        var spec = new Wire.Alias.Types.Spec { Name = alias.Name ?? "", Type = alias.Type ?? "", Stack = alias.Stack ?? "", Project = alias.Project ?? "" };
        if (alias.ParentUrn is not null)
        {
            spec.ParentUrn = alias.ParentUrn;
        }
        else if (alias.NoParent)
        {
            spec.NoParent = true;
        }
        return spec;
    }

    private static Struct Struct(IReadOnlyDictionary<string, PropertyValue> properties) => PropertyValueSerializer.Serialize(properties);

    private static ImmutableSortedDictionary<string, PropertyValue> Map(Struct? properties) => PropertyValueSerializer.Deserialize(properties);
}
