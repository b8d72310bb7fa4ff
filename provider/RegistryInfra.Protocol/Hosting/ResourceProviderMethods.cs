using System.Buffers;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Wire = Pulumirpc;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>
/// Registers every ResourceProvider RPC with ASP.NET Core gRPC, each with its handler on the one service
/// instance. Grpc.AspNetCore's default discovery invokes the generated <c>BindService</c> by reflection, and
/// <c>BindService</c> calls a generic virtual method per RPC: under NativeAOT both are resolved by the runtime
/// type loader, which cost a third of the plugin's start-up. Here every call is to a known instantiation that
/// the compiler generates ahead of time. The wire names and message types are the generated service
/// descriptor's; <c>ResourceProviderMethodsTests</c> check that the table covers exactly that descriptor.
/// </summary>
internal sealed class ResourceProviderMethods(ResourceProviderService service) : IServiceMethodProvider<ResourceProviderService>
{
    /// <summary>
    /// The service's wire name. A constant, not <c>ResourceProvider.Descriptor.FullName</c>: touching the descriptor
    /// builds the reflection model of every message in the .proto files, a third of start-up under NativeAOT.
    /// </summary>
    public const string ServiceName = "pulumirpc.ResourceProvider";

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<ResourceProviderService> context)
    {
        foreach (var register in Table(service))
        {
            register.Add(context);
        }
    }

    /// <summary>One registration per RPC of the service.</summary>
    internal static IReadOnlyList<Registration> Table(ResourceProviderService service) =>
    [
        Unary<Wire.ProviderHandshakeRequest, Wire.ProviderHandshakeResponse>("Handshake", service.Handshake),
        Unary<Wire.ParameterizeRequest, Wire.ParameterizeResponse>("Parameterize", service.Parameterize),
        Unary<Wire.GetSchemaRequest, Wire.GetSchemaResponse>("GetSchema", service.GetSchema),
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

    /// <summary>An RPC: its name, kind and message types, and how to add it to the service's endpoints.</summary>
    internal sealed record Registration(string Name, MethodType Type, System.Type Request, System.Type Response, Action<ServiceMethodProviderContext<ResourceProviderService>> Add);

    private static Registration Unary<TRequest, TResponse>(string name, UnaryServerMethod<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(name, MethodType.Unary, typeof(TRequest), typeof(TResponse),
            context => context.AddUnaryMethod(Method<TRequest, TResponse>(MethodType.Unary, name), [], (_, request, call) => handler(request, call)));

    private static Registration ServerStreaming<TRequest, TResponse>(string name, ServerStreamingServerMethod<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(name, MethodType.ServerStreaming, typeof(TRequest), typeof(TResponse),
            context => context.AddServerStreamingMethod(Method<TRequest, TResponse>(MethodType.ServerStreaming, name), [], (_, request, responses, call) => handler(request, responses, call)));

    private static Method<TRequest, TResponse> Method<TRequest, TResponse>(MethodType type, string name)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(type, ServiceName, name, MessageMarshaller<TRequest>.Instance, MessageMarshaller<TResponse>.Instance);

    /// <summary>Protobuf messages written straight into gRPC's buffers and read from its payload sequence.</summary>
    private static class MessageMarshaller<T>
        where T : class, IMessage<T>, new()
    {
        // Protobuf's default limit is 100 message levels, about 33 levels of property values (Value, Struct and map
        // entry per level): past it the parse failed before any handler ran and the engine got a bare "Exception was
        // thrown by handler". Parsed with room to spare, the handler refuses deep values naming the property
        // (StatusText.TooDeep); what is deeper still is refused here with a clear status.
        private const int RecursionLimit = 400;

        public static readonly Marshaller<T> Instance = Marshallers.Create<T>(
            (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                message.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            context => Parse(context.PayloadAsReadOnlySequence()));

        private static T Parse(ReadOnlySequence<byte> payload)
        {
            var message = new T();
            try
            {
                using var stream = new MemoryStream(payload.IsSingleSegment ? payload.First.ToArray() : payload.ToArray(), writable: false);
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
