using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Wire = Pulumirpc;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>
/// The table of every ResourceProvider RPC, each with its handler on the one service instance, served by
/// <see cref="GrpcServer"/>. Grpc.AspNetCore's discovery invokes the generated <c>BindService</c> by reflection, and
/// <c>BindService</c> calls a generic virtual method per RPC: under NativeAOT both are resolved by the runtime type
/// loader. Here every call is to a known instantiation that the compiler generates ahead of time. The wire names and
/// message types are the generated service descriptor's; <c>ResourceProviderMethodsTests</c> check that the table
/// covers exactly that descriptor.
/// </summary>
internal static class ResourceProviderMethods
{
    /// <summary>
    /// The service's wire name. A constant, not <c>ResourceProvider.Descriptor.FullName</c>: touching the descriptor
    /// builds the reflection model of every message in the .proto files, a third of start-up under NativeAOT.
    /// </summary>
    public const string ServiceName = "pulumirpc.ResourceProvider";

    /// <summary>The handlers by full method name (<c>/pulumirpc.ResourceProvider/NAME</c>), as the server dispatches.</summary>
    public static IReadOnlyDictionary<string, GrpcMethod> Methods(ResourceProviderService service) =>
        Table(service).ToDictionary(r => "/" + ServiceName + "/" + r.Name, r => r.Serve, StringComparer.Ordinal);

    /// <summary>One registration per RPC of the service.</summary>
    internal static IReadOnlyList<Registration> Table(ResourceProviderService service) =>
    [
        Unary<Wire.ProviderHandshakeRequest, Wire.ProviderHandshakeResponse>("Handshake", service.Handshake),
        Unary<Wire.ParameterizeRequest, Wire.ParameterizeResponse>("Parameterize", service.Parameterize),
        Prepared<Wire.GetSchemaRequest, Wire.GetSchemaResponse>("GetSchema", service.GetSchemaAnswer),
        Unary<Wire.CheckRequest, Wire.CheckResponse>("CheckConfig", service.CheckConfig),
        Unary<Wire.DiffRequest, Wire.DiffResponse>("DiffConfig", service.DiffConfig),
        Unary<Wire.ConfigureRequest, Wire.ConfigureResponse>("Configure", service.Configure),
        Unary<Wire.InvokeRequest, Wire.InvokeResponse>("Invoke", service.Invoke),
        Unary<Wire.CallRequest, Wire.CallResponse>("Call", service.Call),
        Unary<Wire.CheckRequest, Wire.CheckResponse>("Check", service.Check),
        Unary<Wire.DiffRequest, Wire.DiffResponse>("Diff", service.Diff),
        Unary<Wire.CreateRequest, Wire.CreateResponse>("Create", service.Create),
        Unary<Wire.ReadRequest, Wire.ReadResponse>("Read", service.Read),
        ServerStreaming<Wire.ListRequest, Wire.ListResponse>("List", service.List),
        Unary<Wire.UpdateRequest, Wire.UpdateResponse>("Update", service.Update),
        Unary<Wire.DeleteRequest, Empty>("Delete", service.Delete),
        Unary<Wire.ConstructRequest, Wire.ConstructResponse>("Construct", service.Construct),
        Unary<Empty, Empty>("Cancel", service.Cancel),
        Unary<Empty, Wire.PluginInfo>("GetPluginInfo", service.GetPluginInfo),
        Unary<Wire.PluginAttach, Empty>("Attach", service.Attach),
        Unary<Wire.GetMappingRequest, Wire.GetMappingResponse>("GetMapping", service.GetMapping),
        Unary<Wire.GetMappingsRequest, Wire.GetMappingsResponse>("GetMappings", service.GetMappings),
    ];

    /// <summary>An RPC: its name, kind and message types, and how a call of it is served.</summary>
    internal sealed record Registration(string Name, MethodType Type, System.Type Request, System.Type Response, GrpcMethod Serve);

    private static Registration Unary<TRequest, TResponse>(string name, UnaryServerMethod<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(name, MethodType.Unary, typeof(TRequest), typeof(TResponse), async call =>
        {
            var request = MessageParser<TRequest>.Parse(await call.ReadSingleMessageAsync().ConfigureAwait(false));
            var response = await handler(request, call).ConfigureAwait(false);
            await call.WriteMessageAsync(response).ConfigureAwait(false);
        });

    /// <summary>A unary RPC whose handler answers a <typeparamref name="TResponse"/> serialized before (see <see cref="PreparedMessage"/>).</summary>
    private static Registration Prepared<TRequest, TResponse>(string name, Func<TRequest, ServerCallContext, Task<PreparedMessage>> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(name, MethodType.Unary, typeof(TRequest), typeof(TResponse), async call =>
        {
            var request = MessageParser<TRequest>.Parse(await call.ReadSingleMessageAsync().ConfigureAwait(false));
            var response = await handler(request, call).ConfigureAwait(false);
            await call.WriteMessageAsync(response).ConfigureAwait(false);
        });

    private static Registration ServerStreaming<TRequest, TResponse>(string name, ServerStreamingServerMethod<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(name, MethodType.ServerStreaming, typeof(TRequest), typeof(TResponse), async call =>
        {
            var request = MessageParser<TRequest>.Parse(await call.ReadSingleMessageAsync().ConfigureAwait(false));
            await handler(request, new StreamWriter<TResponse>(call), call).ConfigureAwait(false);
        });

    /// <summary>The responses of a server-streaming call, each written as it comes.</summary>
    private sealed class StreamWriter<T>(GrpcCall call) : IServerStreamWriter<T>
        where T : class, IMessage<T>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(T message) => call.WriteMessageAsync(message);
    }

    /// <summary>Protobuf messages read from a request's payload.</summary>
    private static class MessageParser<T>
        where T : class, IMessage<T>, new()
    {
        // Protobuf's default limit is 100 message levels, about 33 levels of property values (Value, Struct and map
        // entry per level): past it the parse failed before any handler ran and the engine got a bare "Exception was
        // thrown by handler". Parsed with room to spare, the handler refuses deep values naming the property
        // (StatusText.TooDeep); what is deeper still is refused here with a clear status.
        private const int RecursionLimit = 400;

        public static T Parse(ReadOnlySequence<byte> payload)
        {
            var message = new T();
            try
            {
                using var stream = payload.IsSingleSegment && MemoryMarshal.TryGetArray(payload.First, out var segment)
                    ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
                    : new MemoryStream(payload.ToArray(), writable: false);
                var input = CodedInputStream.CreateWithLimits(stream, int.MaxValue, RecursionLimit);
                message.MergeFrom(input);
            }
            catch (InvalidProtocolBufferException e) when (e.Message.Contains("levels of nesting", StringComparison.Ordinal))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"the {typeof(T).Name} nests values deeper than a request may ({RecursionLimit} message levels): property values may nest at most {StatusText.MaxPropertyDepth} levels"));
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"the request is not a valid {typeof(T).Name} message: {StatusText.Cap(e.Message, 200)}"));
            }
            return message;
        }
    }
}
