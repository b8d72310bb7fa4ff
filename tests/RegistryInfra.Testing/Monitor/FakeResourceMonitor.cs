using System.Collections.Concurrent;
using System.Collections.Immutable;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pulumirpc;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Testing.Monitor;

/// <summary>
/// A real ResourceMonitor gRPC server on 127.0.0.1 that plays the engine's side of a component's Construct:
/// it makes URNs the way the engine does, refuses a URN registered twice, answers with the inputs as outputs
/// (unknown during preview for what a provider would compute; in an update with <see cref="ProviderAnswers"/>' computed
/// outputs too), and records every request.
/// </summary>
public sealed class FakeResourceMonitor : IAsyncDisposable
{
    public const string Stack = "test";
    public const string Project = "fleet";

    private readonly WebApplication _app;
    private readonly MonitorService _service;

    private FakeResourceMonitor(WebApplication app, MonitorService service, string endpoint)
    {
        _app = app;
        _service = service;
        Endpoint = endpoint;
    }

    /// <summary><c>127.0.0.1:PORT</c>, as the engine puts it in a Construct request.</summary>
    public string Endpoint { get; }

    /// <summary>Preview (true) or update (false): decides whether outputs that a provider computes are unknown.</summary>
    public bool DryRun
    {
        get => _service.DryRun;
        set => _service.DryRun = value;
    }

    /// <summary>
    /// Keep state across runs, as the engine keeps a stack's: each custom resource's last inputs and outputs by URN
    /// (<see cref="Clear"/> keeps them). A registration whose inputs equal the stored ones is answered with the stored
    /// outputs, in preview too (the engine's same step returns the old state's outputs). A Kubernetes object
    /// (<c>kubernetes:</c> types) answers <c>metadata.resourceVersion</c> and <c>metadata.uid</c> as the API server gives
    /// them: a new resourceVersion at each create or changed update, the uid kept. In preview a changed
    /// object is answered as pulumi-kubernetes answers it: its inputs alone when they hold unknowns, else its server-side
    /// dry run, which keeps the stored resourceVersion (pulumi/pulumi-kubernetes 997c0a88 provider/pkg/provider/provider.go
    /// <c>Update</c>; kubernetes/apiserver pkg/registry/generic/registry/dryrun.go <c>GuaranteedUpdate</c>).
    /// </summary>
    public bool Stateful
    {
        get => _service.Stateful;
        set => _service.Stateful = value;
    }

    /// <summary>With <see cref="Stateful"/>: the outputs stored for <paramref name="urn"/> by the last update that wrote it, or null.</summary>
    public ImmutableSortedDictionary<string, PropertyValue>? StoredOutputs(string urn) =>
        _service.State.TryGetValue(urn, out var stored) ? PropertyValueSerializer.Deserialize(stored.Outputs) : null;

    /// <summary>Whether it answers yes to the <c>aliasSpecs</c> feature (older engines answer no).</summary>
    public bool AliasSpecs
    {
        get => _service.AliasSpecs;
        set => _service.AliasSpecs = value;
    }

    /// <summary>
    /// How long a custom resource's registration takes to answer in an update (what the provider's Create costs).
    /// The engine answers a RegisterResource only once the resource's step is done: pulumi/pulumi at
    /// 1b5949891b3cefcb9974752b24a5ecef0acc86c8, <c>pkg/resource/deploy/source_eval.go</c> (<c>RegisterResource</c>
    /// waits on the registration's done channel) and <c>pkg/resource/deploy/step.go</c> (<c>CreateStep.Apply</c> calls
    /// the provider's Create, then the executor signals done). Preview answers at once (no Create runs).
    /// </summary>
    public TimeSpan CreateLatency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _service.CreateLatencyTicks));
        set => Interlocked.Exchange(ref _service.CreateLatencyTicks, value.Ticks);
    }

    /// <summary>
    /// The most custom resources on one chain of parent and dependency edges among the registrations: with every
    /// create taking <see cref="CreateLatency"/>, no provider can finish sooner than this many creates one after another.
    /// </summary>
    public int CriticalPath()
    {
        var byUrn = _service.Registrations.ToDictionary(r => r.Urn, StringComparer.Ordinal);
        var depth = new Dictionary<string, int>(StringComparer.Ordinal);
        int Depth(string urn)
        {
            if (depth.TryGetValue(urn, out var known))
            {
                return known;
            }
            if (!byUrn.TryGetValue(urn, out var registration))
            {
                return 0;
            }
            var request = registration.Request;
            var before = request.Parent.Length > 0 ? Depth(request.Parent) : 0;
            foreach (var dependency in request.Dependencies.Concat(request.PropertyDependencies.Values.SelectMany(d => d.Urns)))
            {
                before = Math.Max(before, Depth(dependency));
            }
            return depth[urn] = before + (request.Custom ? 1 : 0);
        }
        return byUrn.Keys.Select(Depth).DefaultIfEmpty(0).Max();
    }

    /// <summary>Every registration, in arrival order.</summary>
    public IReadOnlyList<Registration> Registrations => [.. _service.Registrations];

    /// <summary>Outputs registered for components, by URN.</summary>
    public IReadOnlyDictionary<string, ImmutableSortedDictionary<string, PropertyValue>> ComponentOutputs => _service.Outputs;

    /// <summary>The URN the engine would give a resource of <paramref name="type"/> named <paramref name="name"/> under <paramref name="parentUrn"/>.</summary>
    public static string UrnOf(string type, string name, string parentUrn = "")
    {
        var qualified = type;
        if (parentUrn.Length > 0)
        {
            var parts = parentUrn.Split("::");
            var parentType = parts[2];
            if (parentType != "pulumi:pulumi:Stack")
            {
                qualified = parentType + "$" + type;
            }
        }
        return $"urn:pulumi:{Stack}::{Project}::{qualified}::{name}";
    }

    public void Clear()
    {
        _service.Registrations.Clear();
        _service.Outputs.Clear();
        _service.Urns.Clear();
    }

    public static async Task<FakeResourceMonitor> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            k.Limits.MaxRequestBodySize = null;
        });
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null;
            o.MaxSendMessageSize = null;
        });
        var service = new MonitorService();
        builder.Services.AddSingleton(service);
        var app = builder.Build();
        app.MapGrpcService<MonitorService>();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var endpoint = new Uri(address).Authority;
        return new FakeResourceMonitor(app, service, endpoint);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>One recorded RegisterResource call and the URN it got.</summary>
    public sealed record Registration(RegisterResourceRequest Request, string Urn)
    {
        public string Type => Request.Type;

        public string Name => Request.Name;

        /// <summary>The inputs as property values (secrets and unknowns as they were sent).</summary>
        public ImmutableSortedDictionary<string, PropertyValue> Inputs => PropertyValueSerializer.Deserialize(Request.Object);
    }

    private sealed class MonitorService : ResourceMonitor.ResourceMonitorBase
    {
        public volatile bool DryRun;

        public volatile bool AliasSpecs = true;

        public volatile bool Stateful;

        public ConcurrentDictionary<string, (Struct Inputs, Struct Outputs)> State { get; } = new(StringComparer.Ordinal);

        public long CreateLatencyTicks;

        public ConcurrentQueue<Registration> Registrations { get; } = new();

        public ConcurrentDictionary<string, ImmutableSortedDictionary<string, PropertyValue>> Outputs { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, byte> Urns { get; } = new(StringComparer.Ordinal);

        public override Task<SupportsFeatureResponse> SupportsFeature(SupportsFeatureRequest request, ServerCallContext context) =>
            Task.FromResult(new SupportsFeatureResponse { HasSupport = request.Id is "secrets" or "resourceReferences" or "outputValues" or "deletedWith" || (request.Id is "aliasSpecs" && AliasSpecs) });

        public override async Task<RegisterResourceResponse> RegisterResource(RegisterResourceRequest request, ServerCallContext context)
        {
            if (request.Parent.Length > 0 && !Urns.ContainsKey(request.Parent) && !request.Parent.Contains("pulumi:pulumi:Stack", StringComparison.Ordinal))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"parent {request.Parent} is not registered"));
            }
            foreach (var dependency in request.Dependencies)
            {
                if (!Urns.ContainsKey(dependency))
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"dependency {dependency} is not registered"));
                }
            }
            var urn = UrnOf(request.Type, request.Name, request.Parent);
            if (!Urns.TryAdd(urn, 0))
            {
                throw new RpcException(new Status(StatusCode.AlreadyExists, $"Duplicate resource URN '{urn}'; try giving it a unique name"));
            }
            Registrations.Enqueue(new Registration(request, urn));
            var response = new RegisterResourceResponse { Urn = urn };
            if (request.Custom)
            {
                response.Id = DryRun ? "" : request.Name + "-id";
                // The inputs' values as they are (nothing changes them afterwards), in a map of the answer's own.
                var outputs = new Struct();
                if (request.Object is not null)
                {
                    outputs.Fields.Add(request.Object.Fields);
                }
                if (!DryRun)
                {
                    outputs.Fields["id"] = Value.ForString(response.Id);
                    foreach (var (key, value) in ProviderAnswers.Computed(request.Type, request.Name))
                    {
                        outputs.Fields[key] = PropertyValueSerializer.Serialize(value);
                    }
                }
                if (Stateful)
                {
                    outputs = Remember(request, urn, outputs);
                }
                response.Object = outputs;
                var latency = Interlocked.Read(ref CreateLatencyTicks);
                if (!DryRun && latency > 0)
                {
                    await Task.Delay(TimeSpan.FromTicks(latency), context.CancellationToken).ConfigureAwait(false);
                }
            }
            return response;
        }

        private Struct Remember(RegisterResourceRequest request, string urn, Struct answered)
        {
            var inputs = request.Object ?? new Struct();
            var known = State.TryGetValue(urn, out var stored);
            if (known && stored.Inputs.Equals(inputs))
            {
                return stored.Outputs;
            }
            if (!request.Type.StartsWith("kubernetes:", StringComparison.Ordinal))
            {
                if (!DryRun)
                {
                    State[urn] = (inputs.Clone(), answered.Clone());
                }
                return answered;
            }
            var storedMetadata = known && stored.Outputs.Fields.TryGetValue("metadata", out var m) && m.KindCase == Value.KindOneofCase.StructValue ? m.StructValue : null;
            string? version;
            string? uid;
            if (DryRun)
            {
                if (!known || PropertyValueSerializer.Deserialize(inputs).Values.Any(v => v.ContainsUnknowns()))
                {
                    return answered;
                }
                version = storedMetadata?.Fields.GetValueOrDefault("resourceVersion")?.StringValue;
                uid = storedMetadata?.Fields.GetValueOrDefault("uid")?.StringValue;
            }
            else
            {
                // Per object rather than from one counter for the cluster, so that concurrent registrations in any order get the
                // same values (the versions are opaque: only whether one object's version changed matters).
                var previous = long.TryParse(storedMetadata?.Fields.GetValueOrDefault("resourceVersion")?.StringValue, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 1000;
                version = (previous + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                uid = storedMetadata?.Fields.GetValueOrDefault("uid")?.StringValue ?? ProviderAnswers.GuidOf("uid", urn);
            }
            var metadata = answered.Fields.TryGetValue("metadata", out var given) && given.KindCase == Value.KindOneofCase.StructValue ? given.StructValue.Clone() : new Struct();
            if (version is not null)
            {
                metadata.Fields["resourceVersion"] = Value.ForString(version);
            }
            if (uid is not null)
            {
                metadata.Fields["uid"] = Value.ForString(uid);
            }
            var outputs = answered.Clone();
            outputs.Fields["metadata"] = Value.ForStruct(metadata);
            if (!DryRun)
            {
                State[urn] = (inputs.Clone(), outputs.Clone());
            }
            return outputs;
        }

        public override Task<Empty> RegisterResourceOutputs(RegisterResourceOutputsRequest request, ServerCallContext context)
        {
            if (!Urns.ContainsKey(request.Urn))
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"{request.Urn} is not registered"));
            }
            Outputs[request.Urn] = PropertyValueSerializer.Deserialize(request.Outputs);
            return Task.FromResult(new Empty());
        }
    }
}
