using System.Collections.Immutable;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Pulumirpc;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Monitor;

/// <summary>
/// The client a provider's Construct uses to register a component and its children with the engine
/// (the ResourceMonitor at the endpoint given in the Construct request).
/// </summary>
public sealed class ResourceMonitorClient : IDisposable
{
    private readonly CallInvoker _invoker;
    private readonly ResourceMonitor.ResourceMonitorClient _client;
    private readonly Dictionary<string, bool> _features = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _featureLock = new(1, 1);

    /// <summary>A client calling through <paramref name="invoker"/> (a channel's, or one shared with other callers).</summary>
    public ResourceMonitorClient(CallInvoker invoker)
    {
        _invoker = invoker ?? throw new ArgumentNullException(nameof(invoker));
        _client = new ResourceMonitor.ResourceMonitorClient(invoker);
    }

    /// <summary>
    /// A client of the monitor at <paramref name="endpoint"/> (<c>host:port</c>, as the engine sends it, or a URL).
    /// Every Construct of a deployment names the same monitor, so the clients of one endpoint share one channel
    /// (its HTTP/2 connections stay open between Constructs and carry all of their registrations); disposing a
    /// client leaves the shared channel open for the next.
    /// </summary>
    public static ResourceMonitorClient Connect(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        var address = endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "http://" + endpoint;
        return new ResourceMonitorClient(Channels.GetOrAdd(address, OpenChannel).CreateCallInvoker());
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, GrpcChannel> Channels = new(StringComparer.Ordinal);

    private static GrpcChannel OpenChannel(string address) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = 400 * 1024 * 1024,
        MaxSendMessageSize = 400 * 1024 * 1024,
        HttpHandler = new System.Net.Http.SocketsHttpHandler
        {
            // Several Constructs at once each keep up to ConstructSession.DefaultConcurrency registrations in flight,
            // more than a server may allow on one connection (Kestrel: 100 streams): open another instead of queueing.
            EnableMultipleHttp2Connections = true,
            // As GrpcChannel configures its own handler when given none.
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
        },
        DisposeHttpClient = true,
    });

    /// <summary>Whether the engine supports a feature such as <c>secrets</c>, <c>resourceReferences</c> or <c>outputValues</c>; asked once per feature.</summary>
    public async Task<bool> SupportsFeatureAsync(string feature, CancellationToken cancellationToken)
    {
        await _featureLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_features.TryGetValue(feature, out var known))
            {
                return known;
            }
            var response = await _client.SupportsFeatureAsync(new SupportsFeatureRequest { Id = feature }, cancellationToken: cancellationToken).ConfigureAwait(false);
            _features[feature] = response.HasSupport;
            return response.HasSupport;
        }
        finally
        {
            _featureLock.Release();
        }
    }

    /// <summary>Registers a resource and returns its URN, ID and outputs.</summary>
    public async Task<RegisteredResource> RegisterResourceAsync(ResourceRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var request = RegistrationRequest(registration);
        if (!registration.Aliases.IsEmpty)
        {
            if (await SupportsFeatureAsync("aliasSpecs", cancellationToken).ConfigureAwait(false))
            {
                request.AliasSpecs = true;
                foreach (var alias in registration.Aliases)
                {
                    request.Aliases.Add(ToWire(alias));
                }
            }
            else
            {
                foreach (var alias in registration.Aliases)
                {
                    if (alias.Urn is not null)
                    {
                        request.AliasURNs.Add(alias.Urn);
                    }
                }
            }
        }

        RegisteredAnswer response;
        try
        {
            response = await _invoker.AsyncUnaryCall(RegisterResourceMethod, null, new CallOptions(cancellationToken: cancellationToken),
                new EncodedRegistration(registration, request)).ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            // The status detail is the engine's own message; never the inputs, which may hold secrets.
            throw new ResourceMonitorException($"registering {registration.Type} '{registration.Name}' failed: {e.Status.StatusCode}: {e.Status.Detail}", e);
        }
        // The outputs stay on the wire until the component reads one: most children's outputs are never read.
        return response.ToRegistered();
    }

    /// <summary>
    /// The request <paramref name="registration"/> makes, as the engine receives it: <see cref="RegisterResourceRequest"/> with
    /// its <c>object</c> (the inputs) encoded as <see cref="PropertyValueSerializer"/> encodes them (tests compare the bytes).
    /// </summary>
    internal static RegisterResourceRequest Request(ResourceRegistration registration)
    {
        var request = RegistrationRequest(registration);
        request.Type = registration.Type;
        request.Name = registration.Name;
        request.Parent = registration.Parent;
        request.Custom = registration.Custom;
        request.Object = PropertyValueSerializer.Serialize(registration.Inputs);
        foreach (var alias in registration.Aliases)
        {
            request.Aliases.Add(ToWire(alias));
        }
        request.AliasSpecs = !registration.Aliases.IsEmpty;
        return request;
    }

    /// <summary>The bytes <see cref="RegisterResourceAsync"/> sends for <paramref name="registration"/> to an engine with the <c>aliasSpecs</c> feature.</summary>
    internal static byte[] Encode(ResourceRegistration registration)
    {
        var rest = RegistrationRequest(registration);
        foreach (var alias in registration.Aliases)
        {
            rest.Aliases.Add(ToWire(alias));
        }
        rest.AliasSpecs = !registration.Aliases.IsEmpty;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var encoded = new EncodedRegistration(registration, rest);
        var writer = new StructWireWriter();
        try
        {
            var length = encoded.Measure(writer);
            encoded.Write(writer, buffer.GetSpan(length)[..length]);
            buffer.Advance(length);
        }
        finally
        {
            writer.Release();
        }
        return buffer.WrittenSpan.ToArray();
    }

    // Everything of the request but type, name, parent, custom and object (fields 1 to 5), which EncodedRegistration writes itself.
    private static RegisterResourceRequest RegistrationRequest(ResourceRegistration registration)
    {
        var request = new RegisterResourceRequest
        {
            Provider = registration.Provider,
            Version = registration.Version,
            DeleteBeforeReplace = registration.DeleteBeforeReplace,
            DeleteBeforeReplaceDefined = registration.DeleteBeforeReplace,
            AcceptSecrets = true,
            AcceptResources = true,
            SupportsPartialValues = true,
            SupportsResultReporting = true,
        };
        if (registration.Protect is { } protect)
        {
            request.Protect = protect;
        }
        request.Dependencies.AddRange(registration.Dependencies);
        foreach (var (key, urns) in registration.PropertyDependencies)
        {
            var deps = new RegisterResourceRequest.Types.PropertyDependencies();
            deps.Urns.AddRange(urns);
            request.PropertyDependencies[key] = deps;
        }
        foreach (var (package, reference) in registration.Providers)
        {
            request.Providers[package] = reference;
        }
        request.IgnoreChanges.AddRange(registration.IgnoreChanges);
        request.AdditionalSecretOutputs.AddRange(registration.AdditionalSecretOutputs);
        request.ReplaceOnChanges.AddRange(registration.ReplaceOnChanges);
        return request;
    }

    /// <summary>Completes a component's registration with its outputs.</summary>
    public async Task RegisterResourceOutputsAsync(string urn, ImmutableSortedDictionary<string, PropertyValue> outputs, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(urn);
        ArgumentNullException.ThrowIfNull(outputs);
        try
        {
            await _invoker.AsyncUnaryCall(RegisterResourceOutputsMethod, null, new CallOptions(cancellationToken: cancellationToken),
                new EncodedOutputs(urn, outputs)).ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw new ResourceMonitorException($"registering the outputs of '{urn}' failed: {e.Status.StatusCode}: {e.Status.Detail}", e);
        }
    }

    /// <summary>
    /// The request <see cref="RegisterResourceOutputsAsync"/> stands for, as the generated message: its <c>outputs</c> encoded as
    /// <see cref="PropertyValueSerializer"/> encodes them (tests compare the bytes with <see cref="EncodeOutputs"/>).
    /// </summary>
    internal static RegisterResourceOutputsRequest OutputsRequest(string urn, ImmutableSortedDictionary<string, PropertyValue> outputs) =>
        new() { Urn = urn, Outputs = PropertyValueSerializer.Serialize(outputs) };

    /// <summary>The bytes <see cref="RegisterResourceOutputsAsync"/> sends.</summary>
    internal static byte[] EncodeOutputs(string urn, ImmutableSortedDictionary<string, PropertyValue> outputs)
    {
        var encoded = new EncodedOutputs(urn, outputs);
        var writer = new StructWireWriter();
        try
        {
            var bytes = new byte[encoded.Measure(writer)];
            encoded.Write(writer, bytes);
            return bytes;
        }
        finally
        {
            writer.Release();
        }
    }

    /// <summary>The answer <paramref name="payload"/> (a RegisterResourceResponse's bytes) as <see cref="RegisterResourceAsync"/> reads it.</summary>
    internal static RegisteredResource Decode(byte[] payload) => RegisteredAnswer.Parse(new System.Buffers.ReadOnlySequence<byte>(payload)).ToRegistered();

    // RegisterResource with the request written by EncodedRegistration (the same bytes as the generated marshaller's, without
    // building the inputs' Struct); the answer read by RegisteredAnswer, its outputs kept as bytes until one is read.
    private static readonly Method<EncodedRegistration, RegisteredAnswer> RegisterResourceMethod = new(
        MethodType.Unary,
        ResourceMonitor.Descriptor.FullName,
        "RegisterResource",
        Marshallers.Create<EncodedRegistration>(Serialize, _ => throw new NotSupportedException("a client never reads a RegisterResourceRequest")),
        Marshallers.Create<RegisteredAnswer>(
            (_, _) => throw new NotSupportedException("a client never writes a RegisterResourceResponse"),
            context => RegisteredAnswer.Parse(context.PayloadAsReadOnlySequence())));

    // RegisterResourceOutputs with the request written by EncodedOutputs (the same bytes as the generated message's).
    private static readonly Method<EncodedOutputs, Google.Protobuf.WellKnownTypes.Empty> RegisterResourceOutputsMethod = new(
        MethodType.Unary,
        ResourceMonitor.Descriptor.FullName,
        "RegisterResourceOutputs",
        Marshallers.Create<EncodedOutputs>(Serialize, _ => throw new NotSupportedException("a client never reads a RegisterResourceOutputsRequest")),
        Marshallers.Create<Google.Protobuf.WellKnownTypes.Empty>(
            (_, _) => throw new NotSupportedException("a client never writes an Empty answer"),
            context => Google.Protobuf.WellKnownTypes.Empty.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    /// <summary>
    /// A RegisterResourceResponse as the client reads it: field 3 (<c>object</c>, the outputs) kept as its bytes, for
    /// <see cref="RegisteredResource"/> to decode one output when it is read; every other field parsed by the generated
    /// message from the bytes left (all but the outputs: the URN, the ID, property dependencies, the result). Protobuf lets
    /// a message field come more than once, the occurrences merged (for a Struct: the entries together, a later key
    /// winning), so every occurrence is kept, in order.
    /// </summary>
    private sealed class RegisteredAnswer(RegisterResourceResponse rest, byte[]? outputs)
    {
        public static RegisteredAnswer Parse(System.Buffers.ReadOnlySequence<byte> payload)
        {
            ReadOnlySpan<byte> bytes = payload.IsSingleSegment ? payload.First.Span : System.Buffers.BuffersExtensions.ToArray(payload);
            var restBytes = new byte[bytes.Length];
            // Field 3, the object: its entries, one occurrence after another (as a merged Struct holds them).
            var split = FieldSplit.Split(bytes, 0x1A, restBytes) ?? throw Malformed(bytes);
            var outputs = split.Joined ?? (split.Field is { } field ? bytes[field].ToArray() : null);
            var rest = RegisterResourceResponse.Parser.ParseFrom(restBytes, 0, split.RestLength);
            return new RegisteredAnswer(rest, outputs);
        }

        // Bytes that are no RegisterResourceResponse: the generated parser's own error (InvalidProtocolBufferException) says why.
        private static InvalidOperationException Malformed(ReadOnlySpan<byte> bytes)
        {
            RegisterResourceResponse.Parser.ParseFrom(bytes);
            return new InvalidOperationException("a RegisterResourceResponse that the generated parser reads but this reader does not");
        }

        public RegisteredResource ToRegistered()
        {
            var dependencies = ImmutableDictionary<string, ImmutableArray<string>>.Empty;
            if (rest.PropertyDependencies.Count > 0)
            {
                var builder = ImmutableDictionary.CreateBuilder<string, ImmutableArray<string>>(StringComparer.Ordinal);
                foreach (var (key, value) in rest.PropertyDependencies)
                {
                    builder[key] = [.. value.Urns];
                }
                dependencies = builder.ToImmutable();
            }
            return new RegisteredResource(rest.Urn, rest.Id, outputs) { PropertyDependencies = dependencies };
        }
    }

    /// <summary>A request this client encodes itself: its length measured first (each nested length once), then written in one pass.</summary>
    private interface IEncodedRequest
    {
        int Measure(StructWireWriter writer);

        void Write(StructWireWriter writer, Span<byte> destination);
    }

    /// <summary>Writes <paramref name="request"/> into gRPC's buffer (or through a copy when the buffer offers less than its length).</summary>
    private static void Serialize<T>(T request, SerializationContext context)
        where T : IEncodedRequest
    {
        var writer = new StructWireWriter();
        try
        {
            var length = request.Measure(writer);
            context.SetPayloadLength(length);
            var buffer = context.GetBufferWriter();
            var span = buffer.GetSpan(length);
            if (span.Length >= length)
            {
                request.Write(writer, span[..length]);
                buffer.Advance(length);
            }
            else
            {
                var bytes = new byte[length];
                request.Write(writer, bytes);
                System.Buffers.BuffersExtensions.Write(buffer, bytes);
            }
            context.Complete();
        }
        finally
        {
            writer.Release();
        }
    }

    /// <summary>A RegisterResourceOutputsRequest on its way: the URN (field 1) and the outputs' Struct (field 2, always written), straight from the property map.</summary>
    private sealed class EncodedOutputs(string urn, ImmutableSortedDictionary<string, PropertyValue> outputs) : IEncodedRequest
    {
        private int _outputs;

        public int Measure(StructWireWriter writer)
        {
            _outputs = writer.Measure(outputs);
            return EncodedRegistration.StringField(urn) + 1 + StructWireWriter.VarintLength((uint)_outputs) + _outputs;
        }

        public void Write(StructWireWriter writer, Span<byte> destination)
        {
            var at = EncodedRegistration.WriteString(destination, 0x0A, urn);
            destination[at++] = 0x12;
            at += StructWireWriter.WriteVarint(destination[at..], (uint)_outputs);
            writer.Write(outputs, destination.Slice(at, _outputs));
            if (at + _outputs != destination.Length)
            {
                throw new InvalidOperationException("the RegisterResourceOutputsRequest encoding did not match its measured length");
            }
        }

    }

    /// <summary>
    /// A RegisterResourceRequest on its way: fields 1 to 5 (type, name, parent, custom, object) written here, in field
    /// order as Google.Protobuf writes them, the inputs straight from the property map (<see cref="StructWireWriter"/>:
    /// each length measured once), then the rest of the request (fields 6 on) by Google.Protobuf.
    /// </summary>
    private sealed class EncodedRegistration(ResourceRegistration registration, RegisterResourceRequest rest) : IEncodedRequest
    {
        private int _inputs;
        private int _rest;

        public int Measure(StructWireWriter writer)
        {
            _inputs = writer.Measure(registration.Inputs);
            _rest = rest.CalculateSize();
            return StringField(registration.Type) + StringField(registration.Name) + StringField(registration.Parent)
                + (registration.Custom ? 2 : 0) + 1 + StructWireWriter.VarintLength((uint)_inputs) + _inputs + _rest;
        }

        public void Write(StructWireWriter writer, Span<byte> destination)
        {
            var at = WriteString(destination, 0x0A, registration.Type);
            at += WriteString(destination[at..], 0x12, registration.Name);
            at += WriteString(destination[at..], 0x1A, registration.Parent);
            if (registration.Custom)
            {
                destination[at++] = 0x20;
                destination[at++] = 1;
            }
            destination[at++] = 0x2A;
            at += StructWireWriter.WriteVarint(destination[at..], (uint)_inputs);
            writer.Write(registration.Inputs, destination.Slice(at, _inputs));
            at += _inputs;
            rest.WriteTo(destination.Slice(at, _rest));
            if (at + _rest != destination.Length)
            {
                throw new InvalidOperationException("the RegisterResourceRequest encoding did not match its measured length");
            }
        }

        // A proto3 string field: left out when empty.
        internal static int StringField(string text)
        {
            if (text.Length == 0)
            {
                return 0;
            }
            var bytes = StructWireWriter.Utf8.GetByteCount(text);
            return 1 + StructWireWriter.VarintLength((uint)bytes) + bytes;
        }

        internal static int WriteString(Span<byte> destination, byte tag, string text)
        {
            if (text.Length == 0)
            {
                return 0;
            }
            destination[0] = tag;
            var at = 1 + StructWireWriter.WriteVarint(destination[1..], (uint)StructWireWriter.Utf8.GetByteCount(text));
            return at + StructWireWriter.Utf8.GetBytes(text, destination[at..]);
        }
    }

    private static Alias ToWire(RegistryInfra.Protocol.Hosting.ResourceAlias alias)
    {
        if (alias.Urn is not null)
        {
            return new Alias { Urn = alias.Urn };
        }
        var spec = new Alias.Types.Spec { Name = alias.Name ?? "", Type = alias.Type ?? "", Stack = alias.Stack ?? "", Project = alias.Project ?? "" };
        if (alias.NoParent)
        {
            spec.NoParent = true;
        }
        else if (alias.ParentUrn is not null)
        {
            spec.ParentUrn = alias.ParentUrn;
        }
        return new Alias { Spec = spec };
    }

    /// <summary>Releases this client; the channel of its endpoint stays open for the deployment's other Constructs.</summary>
    public void Dispose() => _featureLock.Dispose();
}

/// <summary>The engine's ResourceMonitor refused or failed a call.</summary>
public sealed class ResourceMonitorException : Exception
{
    /// <summary>Creates the exception with a message that holds no input value.</summary>
    public ResourceMonitorException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public ResourceMonitorException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a generic message.</summary>
    public ResourceMonitorException() : base("the resource monitor failed") { }
}
