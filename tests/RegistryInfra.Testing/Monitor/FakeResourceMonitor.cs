using System.Collections.Concurrent;
using System.Collections.Immutable;
using Google.Protobuf;
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
        if (parentUrn.Length > 0)
        {
            // urn:pulumi:STACK::PROJECT::[QUALIFIED$]TYPE::NAME: the parent's (qualified) type is its third part.
            var rest = parentUrn.AsSpan();
            for (var part = 0; part < 2; part++)
            {
                var next = rest.IndexOf("::", StringComparison.Ordinal);
                rest = next < 0 ? [] : rest[(next + 2)..];
            }
            var end = rest.IndexOf("::", StringComparison.Ordinal);
            var parentType = end < 0 ? rest : rest[..end];
            if (!parentType.SequenceEqual("pulumi:pulumi:Stack"))
            {
                return $"urn:pulumi:{Stack}::{Project}::{parentType}${type}::{name}";
            }
        }
        return $"urn:pulumi:{Stack}::{Project}::{type}::{name}";
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
        builder.Services.AddSingleton<Grpc.AspNetCore.Server.Model.IServiceMethodProvider<MonitorService>, MonitorMethods>();
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

    /// <summary>
    /// One recorded RegisterResource call and the URN it got. It keeps the request as the bytes that came (a slice of the
    /// <see cref="RequestArena"/>), parsed when a test or the plan first asks: a benchmark's monitor records every
    /// registration of a run, and the collector's work on what it holds stopped the monitor for a fifth of a run.
    /// </summary>
    public sealed record Registration
    {
        private readonly ReadOnlyMemory<byte> _bytes;
        private RegisterResourceRequest? _parsed;

        internal Registration(ReadOnlyMemory<byte> bytes, string urn)
        {
            _bytes = bytes;
            Urn = urn;
        }

        /// <summary>The URN the registration got.</summary>
        public string Urn { get; }

        /// <summary>The request as the engine received it (parsed from its bytes when first asked for).</summary>
        public RegisterResourceRequest Request => _parsed ??= RegisterResourceRequest.Parser.ParseFrom(_bytes.Span);

        public string Type => Request.Type;

        public string Name => Request.Name;

        /// <summary>The inputs as property values (secrets and unknowns as they were sent).</summary>
        public ImmutableSortedDictionary<string, PropertyValue> Inputs => PropertyValueSerializer.Deserialize(Request.Object);
    }

    /// <summary>
    /// A RegisterResourceRequest as the monitor reads it: every field but <c>object</c> (field 5, the inputs) parsed by the
    /// generated message, the inputs kept as the bytes of their Struct's body (its map entries, every occurrence of the
    /// field in order, as protobuf merges a message field given twice) to be answered back, and the whole request's bytes
    /// for the record. An engine decodes the inputs; this harness answers them back as outputs as they came (the answer the
    /// same bytes a Struct copy would give), so that a benchmark's monitor process costs what the gRPC exchange costs, the
    /// same for every provider it serves.
    /// </summary>
    internal sealed class RegistrationRequest(RegisterResourceRequest rest, ReadOnlyMemory<byte>? inputs, ReadOnlyMemory<byte> bytes)
    {
        private const uint InputsTag = (5 << 3) | 2;

        [ThreadStatic]
        private static System.Buffers.ArrayBufferWriter<byte>? s_rest;

        /// <summary>Every field but the inputs.</summary>
        public RegisterResourceRequest Rest { get; } = rest;

        /// <summary>The inputs' Struct body; null when the request had no <c>object</c> field.</summary>
        public ReadOnlyMemory<byte>? Inputs { get; } = inputs;

        /// <summary>The request's bytes as they came.</summary>
        public ReadOnlyMemory<byte> Bytes { get; } = bytes;

        public static RegistrationRequest Read(DeserializationContext context)
        {
            var bytes = RequestArena.Shared.Copy(context.PayloadAsReadOnlySequence());
            var span = bytes.Span;
            var rest = s_rest ??= new System.Buffers.ArrayBufferWriter<byte>(1024);
            rest.ResetWrittenCount();
            var restSpan = rest.GetSpan(span.Length);
            var split = FieldSplit.Split(span, InputsTag, restSpan)
                ?? throw new InvalidDataException("RegisterResourceRequest: the bytes are no well-formed protobuf message");
            ReadOnlyMemory<byte>? inputs = split.Joined is { } joined ? joined : split.Field is { } field ? bytes[field] : null;
            return new RegistrationRequest(RegisterResourceRequest.Parser.ParseFrom(restSpan[..split.RestLength]), inputs, bytes);
        }
    }

    /// <summary>
    /// A RegisterResourceResponse on its way: the URN and ID, then (for a custom resource) the outputs as the inputs' Struct
    /// body followed by the entries the monitor adds (the ID, a provider's computed outputs), a later key winning as protobuf
    /// merges a Struct; or a whole generated message (the stateful monitor's answers).
    /// </summary>
    internal sealed class RegistrationAnswer
    {
        private readonly RegisterResourceResponse? _message;
        private readonly string _urn = "";
        private readonly string _id = "";
        private readonly ReadOnlyMemory<byte>? _inputs;
        private readonly Struct? _added;

        public RegistrationAnswer(RegisterResourceResponse message) => _message = message;

        public RegistrationAnswer(string urn, string id, ReadOnlyMemory<byte>? inputs, Struct? added)
        {
            _urn = urn;
            _id = id;
            _inputs = inputs ?? ReadOnlyMemory<byte>.Empty;
            _added = added;
        }

        public RegistrationAnswer(string urn) => _urn = urn;

        /// <summary>Writes the answer straight into the call's buffer (no array of its own: the monitor answers every registration).</summary>
        public static void Write(RegistrationAnswer answer, SerializationContext context)
        {
            if (answer._message is { } message)
            {
                context.Complete(message.ToByteArray());
                return;
            }
            var head = new RegisterResourceResponse { Urn = answer._urn, Id = answer._id };
            var headLength = head.CalculateSize();
            var addedLength = answer._added?.CalculateSize() ?? 0;
            var body = answer._inputs is { } inputs ? inputs.Length + addedLength : -1;
            var prefix = body < 0 ? 0 : 1 + CodedOutputStream.ComputeLengthSize(body);
            context.SetPayloadLength(headLength + prefix + Math.Max(body, 0));
            var writer = context.GetBufferWriter();
            head.WriteTo(writer);
            if (body >= 0)
            {
                // Field 3 (object), length-delimited: the inputs' entries as they came, then the added ones.
                var span = writer.GetSpan(prefix);
                span[0] = (3 << 3) | 2;
                var length = (uint)body;
                var at = 1;
                for (; length >= 0x80; length >>= 7)
                {
                    span[at++] = (byte)(length | 0x80);
                }
                span[at] = (byte)length;
                writer.Advance(prefix);
                System.Buffers.BuffersExtensions.Write(writer, answer._inputs!.Value.Span);
                if (addedLength > 0)
                {
                    answer._added!.WriteTo(writer);
                }
            }
            context.Complete();
        }
    }

    private static readonly Method<RegistrationRequest, RegistrationAnswer> RegisterResourceMethod = new(
        MethodType.Unary, ResourceMonitor.Descriptor.FullName, "RegisterResource",
        Marshallers.Create<RegistrationRequest>((_, _) => throw new NotSupportedException(), RegistrationRequest.Read),
        Marshallers.Create<RegistrationAnswer>(RegistrationAnswer.Write, _ => throw new NotSupportedException()));

    private static Method<TRequest, TResponse> Generated<TRequest, TResponse>(string name, MessageParser<TRequest> request, MessageParser<TResponse> response)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse> =>
        new(MethodType.Unary, ResourceMonitor.Descriptor.FullName, name,
            Marshallers.Create<TRequest>(r => r.ToByteArray(), request.ParseFrom),
            Marshallers.Create<TResponse>(r => r.ToByteArray(), response.ParseFrom));

    /// <summary>The methods the fake serves (the others answer Unimplemented): RegisterResource through <see cref="RegistrationRequest"/>.</summary>
    private sealed class MonitorMethods : Grpc.AspNetCore.Server.Model.IServiceMethodProvider<MonitorService>
    {
        public void OnServiceMethodDiscovery(Grpc.AspNetCore.Server.Model.ServiceMethodProviderContext<MonitorService> context)
        {
            context.AddUnaryMethod(Generated("SupportsFeature", SupportsFeatureRequest.Parser, SupportsFeatureResponse.Parser), [],
                (service, request, call) => service.SupportsFeature(request, call));
            context.AddUnaryMethod(RegisterResourceMethod, [], (service, request, call) => service.RegisterResource(request, call));
            context.AddUnaryMethod(Generated("RegisterResourceOutputs", RegisterResourceOutputsRequest.Parser, Empty.Parser), [],
                (service, request, call) => service.RegisterResourceOutputs(request, call));
        }
    }

    private sealed class MonitorService
    {
        public volatile bool DryRun;

        public volatile bool AliasSpecs = true;

        public volatile bool Stateful;

        public ConcurrentDictionary<string, (Struct Inputs, Struct Outputs)> State { get; } = new(StringComparer.Ordinal);

        public long CreateLatencyTicks;

        public ConcurrentQueue<Registration> Registrations { get; } = new();

        public ConcurrentDictionary<string, ImmutableSortedDictionary<string, PropertyValue>> Outputs { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, byte> Urns { get; } = new(StringComparer.Ordinal);

        public Task<SupportsFeatureResponse> SupportsFeature(SupportsFeatureRequest request, ServerCallContext context) =>
            Task.FromResult(new SupportsFeatureResponse { HasSupport = request.Id is "secrets" or "resourceReferences" or "outputValues" or "deletedWith" || (request.Id is "aliasSpecs" && AliasSpecs) });

        public async Task<RegistrationAnswer> RegisterResource(RegistrationRequest received, ServerCallContext context)
        {
            var request = received.Rest;
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
            var registration = new Registration(received.Bytes, urn);
            Registrations.Enqueue(registration);
            if (!request.Custom)
            {
                return new RegistrationAnswer(urn);
            }
            var id = DryRun ? "" : request.Name + "-id";
            RegistrationAnswer answer;
            if (Stateful)
            {
                // The inputs' values as they are (nothing changes them afterwards), in a map of the answer's own.
                var full = registration.Request;
                var outputs = new Struct();
                if (full.Object is not null)
                {
                    outputs.Fields.Add(full.Object.Fields);
                }
                if (!DryRun)
                {
                    outputs.Fields["id"] = Value.ForString(id);
                    foreach (var (key, value) in ProviderAnswers.Computed(request.Type, request.Name))
                    {
                        outputs.Fields[key] = PropertyValueSerializer.Serialize(value);
                    }
                }
                answer = new RegistrationAnswer(new RegisterResourceResponse { Urn = urn, Id = id, Object = Remember(full, urn, outputs) });
            }
            else
            {
                // The inputs' bytes as they came, then what the provider adds (a later key wins, as in the Struct copy).
                Struct? added = null;
                if (!DryRun)
                {
                    added = new Struct();
                    added.Fields["id"] = Value.ForString(id);
                    foreach (var (key, value) in ProviderAnswers.Computed(request.Type, request.Name))
                    {
                        added.Fields[key] = PropertyValueSerializer.Serialize(value);
                    }
                }
                answer = new RegistrationAnswer(urn, id, received.Inputs, added);
            }
            var latency = Interlocked.Read(ref CreateLatencyTicks);
            if (!DryRun && latency > 0)
            {
                await Task.Delay(TimeSpan.FromTicks(latency), context.CancellationToken).ConfigureAwait(false);
            }
            return answer;
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

        public Task<Empty> RegisterResourceOutputs(RegisterResourceOutputsRequest request, ServerCallContext context)
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
