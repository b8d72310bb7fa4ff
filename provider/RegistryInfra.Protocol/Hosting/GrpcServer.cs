using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>
/// gRPC over Kestrel without the web host: one <see cref="KestrelServer"/> on 127.0.0.1 (HTTP/2 cleartext, a port the
/// OS chooses) whose one application dispatches on the request path to a table of RPCs. The plugin serves one
/// service to one engine; the web host's dependency injection, options, routing and Grpc.AspNetCore's endpoint
/// model cost most of its start-up under NativeAOT (a container built, dozens of generic services closed, a reverse
/// map of reflectable methods asked for) and nothing it needs. The wire is gRPC's HTTP/2 protocol
/// (grpc/grpc, doc/PROTOCOL-HTTP2.md): length-prefixed messages, <c>grpc-timeout</c>, <c>grpc-encoding</c> gzip both ways (answers of 64 KiB and more to a client that accepts it),
/// the status in trailers, or in the headers of a trailers-only answer when no message was sent, as Grpc.AspNetCore
/// answers, with the same status texts for unknown methods.
/// </summary>
internal sealed class GrpcServer : IAsyncDisposable
{
    /// <summary>The largest message either way (the engine's own limit is 400 MiB; schemas and states can be large).</summary>
    internal const int MaxMessageSize = 400 * 1024 * 1024;

    private readonly KestrelServer _kestrel;
    private readonly Application _application;

    private GrpcServer(KestrelServer kestrel, Application application)
    {
        _kestrel = kestrel;
        _application = application;
    }

    /// <summary>The port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Starts serving <paramref name="methods"/> (full method name, <c>/service/Method</c>, to its handler).</summary>
    public static async Task<GrpcServer> StartAsync(IReadOnlyDictionary<string, GrpcMethod> methods, string serviceName, CancellationToken cancellationToken)
    {
        var options = new KestrelServerOptions { ApplicationServices = NoServices.Instance };
        options.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        options.Limits.MaxRequestBodySize = null;
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), NullLoggerFactory.Instance);
        var kestrel = new KestrelServer(Options.Create(options), transport, NullLoggerFactory.Instance);
        var application = new Application(methods, "/" + serviceName + "/");
        var server = new GrpcServer(kestrel, application);
        try
        {
            await kestrel.StartAsync(application, cancellationToken).ConfigureAwait(false);
            var address = kestrel.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("Kestrel reported no address after binding");
            server.Port = new Uri(address).Port;
            return server;
        }
        catch
        {
            kestrel.Dispose();
            throw;
        }
    }

    /// <summary>Stops accepting calls and waits (up to <paramref name="cancellationToken"/>) for the running ones.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _kestrel.StopAsync(cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _kestrel.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Kestrel asks its options for application services only for configuration files and certificates; there are none.</summary>
    private sealed class NoServices : IServiceProvider
    {
        public static readonly NoServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }

    private sealed class Application(IReadOnlyDictionary<string, GrpcMethod> methods, string servicePrefix) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }

        public async Task ProcessRequestAsync(HttpContext context)
        {
            var request = context.Request;
            var response = context.Response;
            if (!HttpMethods.IsPost(request.Method) || !IsGrpcContentType(request.ContentType))
            {
                // As Grpc.AspNetCore answers a request that is not gRPC.
                response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
                GrpcCall.SetTrailersOnly(response, new Status(StatusCode.Internal, $"Content-Type '{request.ContentType}' is not supported."));
                return;
            }
            var path = request.Path.Value ?? "";
            if (!methods.TryGetValue(path, out var method))
            {
                GrpcCall.SetTrailersOnly(response, new Status(StatusCode.Unimplemented,
                    path.StartsWith(servicePrefix, StringComparison.Ordinal) ? "Method is unimplemented." : "Service is unimplemented."));
                return;
            }
            using var call = new GrpcCall(context, path);
            await call.RunAsync(method).ConfigureAwait(false);
        }

        private static bool IsGrpcContentType(string? contentType) =>
            contentType is not null && contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
                && (contentType.Length == "application/grpc".Length || contentType["application/grpc".Length] is '+' or ';');
    }
}

/// <summary>How one RPC is served: reads its request from the call, answers through it.</summary>
internal delegate Task GrpcMethod(GrpcCall call);

/// <summary>
/// One gRPC call on an HTTP/2 stream: its request messages, its response messages and its status. Also the
/// <see cref="ServerCallContext"/> the handlers see (method, deadline, cancellation, headers).
/// </summary>
internal sealed class GrpcCall : ServerCallContext, IDisposable
{
    private const string GrpcStatus = "grpc-status";
    private const string GrpcMessage = "grpc-message";
    private readonly HttpContext _http;
    private readonly string _method;
    private readonly CancellationTokenSource? _deadlineSource;
    private readonly DateTime _deadline = DateTime.MaxValue;
    private readonly CancellationToken _cancellation;
    private Metadata? _requestHeaders;
    private bool _headersSent;
    private bool _gzipResponses;

    public GrpcCall(HttpContext http, string method)
    {
        _http = http;
        _method = method;
        _cancellation = http.RequestAborted;
        var timeout = http.Request.Headers["grpc-timeout"].ToString();
        if (timeout.Length > 0)
        {
            var span = TryParseTimeout(timeout) ?? throw new RpcException(new Status(StatusCode.Internal, $"invalid grpc-timeout '{timeout}'"));
            _deadline = span >= TimeSpan.FromDays(365) ? DateTime.MaxValue : DateTime.UtcNow + span;
            if (_deadline != DateTime.MaxValue)
            {
                _deadlineSource = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
                _deadlineSource.CancelAfter(span);
                _cancellation = _deadlineSource.Token;
            }
        }
    }

    /// <summary>Whether the call's deadline has passed.</summary>
    private bool DeadlinePassed => _deadlineSource is not null && _deadlineSource.IsCancellationRequested && !_http.RequestAborted.IsCancellationRequested;

    /// <summary>Runs <paramref name="method"/> and ends the call with its status.</summary>
    public async Task RunAsync(GrpcMethod method)
    {
        Status status;
        try
        {
            await method(this).ConfigureAwait(false);
            status = DeadlinePassed ? new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded") : Status.DefaultSuccess;
        }
        catch (RpcException e)
        {
            status = DeadlinePassed ? new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded") : e.Status;
        }
        catch (Exception) when (DeadlinePassed)
        {
            status = new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
        }
        catch (Exception) when (_http.RequestAborted.IsCancellationRequested)
        {
            // The client is gone (it cancelled, or its connection closed): no one reads the status.
            return;
        }
        catch (Exception)
        {
            // What Grpc.AspNetCore answers without detailed errors: the exception's text stays in the plugin.
            status = new Status(StatusCode.Unknown, "Exception was thrown by handler.");
        }
        if (_http.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        if (!_headersSent && !_http.Response.HasStarted)
        {
            SetTrailersOnly(_http.Response, status);
            return;
        }
        foreach (var entry in ResponseTrailers)
        {
            _http.Response.AppendTrailer(entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
        }
        _http.Response.AppendTrailer(GrpcStatus, ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture));
        if (status.Detail.Length > 0)
        {
            _http.Response.AppendTrailer(GrpcMessage, PercentEncode(status.Detail));
        }
    }

    /// <summary>A status without messages: in the response headers, which end the stream (gRPC's trailers-only answer).</summary>
    internal static void SetTrailersOnly(HttpResponse response, Status status)
    {
        response.ContentType = "application/grpc";
        response.Headers[GrpcStatus] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        if (status.Detail.Length > 0)
        {
            response.Headers[GrpcMessage] = PercentEncode(status.Detail);
        }
    }

    /// <summary>Reads the one request message of a unary or server-streaming call.</summary>
    public async Task<ReadOnlySequence<byte>> ReadSingleMessageAsync()
    {
        var reader = _http.Request.BodyReader;
        byte[]? message = null;
        while (true)
        {
            var result = await reader.ReadAsync(_cancellation).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (message is null && TryReadFrame(ref buffer, out var frame))
            {
                message = frame;
            }
            if (message is not null && !buffer.IsEmpty)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw new RpcException(new Status(StatusCode.Internal, "Additional data after the message received."));
            }
            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                return message is not null
                    ? new ReadOnlySequence<byte>(message)
                    : throw new RpcException(new Status(StatusCode.Internal, buffer.IsEmpty ? "No message returned from method." : "Incomplete message."));
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out byte[]? message)
    {
        message = null;
        if (buffer.Length < 5)
        {
            return false;
        }
        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > GrpcServer.MaxMessageSize)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size."));
        }
        if (buffer.Length < 5 + length)
        {
            return false;
        }
        var payload = buffer.Slice(5, length).ToArray();
        buffer = buffer.Slice(5 + length);
        message = header[0] switch
        {
            0 => payload,
            1 => Decompress(payload),
            _ => throw new RpcException(new Status(StatusCode.Internal, $"Unexpected compressed flag value {header[0]} in the message header.")),
        };
        return true;
    }

    private byte[] Decompress(byte[] payload)
    {
        var encoding = _http.Request.Headers["grpc-encoding"].ToString();
        if (encoding.Length == 0 || encoding == "identity")
        {
            throw new RpcException(new Status(StatusCode.Internal, "Request did not include grpc-encoding value with compressed message."));
        }
        if (encoding != "gzip")
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, $"Unsupported grpc-encoding value '{encoding}'. Supported encodings: identity, gzip"));
        }
        using var input = new GZipStream(new MemoryStream(payload, writable: false), CompressionMode.Decompress);
        using var output = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = input.Read(chunk)) > 0)
        {
            if (output.Length + read > GrpcServer.MaxMessageSize)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size."));
            }
            output.Write(chunk, 0, read);
        }
        return output.ToArray();
    }

    /// <summary>Writes one response message (the headers first, with the first message).</summary>
    public async Task WriteMessageAsync(IMessage message)
    {
        var size = message.CalculateSize();
        if (size > GrpcServer.MaxMessageSize)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, "Sending message exceeds the maximum configured message size."));
        }
        var writer = _http.Response.BodyWriter;
        if (StartResponse(size >= CompressionThreshold) && size >= CompressionThreshold)
        {
            var bytes = new byte[size];
            message.WriteTo(bytes);
            writer.Write(PreparedMessage.GzipFrame(bytes));
            await writer.FlushAsync(_cancellation).ConfigureAwait(false);
            return;
        }
        var span = writer.GetSpan(5 + size);
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)size);
        message.WriteTo(span.Slice(5, size));
        writer.Advance(5 + size);
        await writer.FlushAsync(_cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes one response message serialized (and compressed) before: its gzip frame to a client that accepts gzip
    /// when the message is large enough, else its identity frame; the same choice as for any other message.
    /// </summary>
    public async Task WriteMessageAsync(PreparedMessage message)
    {
        var writer = _http.Response.BodyWriter;
        writer.Write(StartResponse(message.Compressible) && message.Compressible ? message.CompressedFrame : message.IdentityFrame);
        await writer.FlushAsync(_cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Sets the response headers before the first message (gzip when the first message is
    /// <paramref name="compressible"/> and the client accepts gzip); whether the call's answers go gzip-compressed.
    /// </summary>
    private bool StartResponse(bool compressible)
    {
        if (!_headersSent)
        {
            _headersSent = true;
            _http.Response.ContentType = "application/grpc";
            if (compressible && AcceptsGzip())
            {
                _gzipResponses = true;
                _http.Response.Headers["grpc-encoding"] = "gzip";
            }
        }
        return _gzipResponses;
    }

    /// <summary>
    /// Messages from this size on go gzip-compressed to a client that accepts gzip: past the 64 KiB that HTTP/2 lets a
    /// stream send before the client's first window update (RFC 9113, section 6.9.2), an answer waits a round trip for
    /// it, and on a loaded machine that wait is most of a large answer's time (the schema: 102 KB, 31 KB compressed).
    /// </summary>
    internal const int CompressionThreshold = 65_535 - 5;

    private bool AcceptsGzip()
    {
        foreach (var value in _http.Request.Headers["grpc-accept-encoding"])
        {
            foreach (var encoding in (value ?? "").Split(','))
            {
                if (encoding.Trim() == "gzip")
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>gRPC's timeout: at most 8 digits and a unit (H, M, S, m, u, n).</summary>
    internal static TimeSpan? TryParseTimeout(string value)
    {
        if (value.Length is < 2 or > 9 || !long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }
        return value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromTicks(amount * TimeSpan.TicksPerMicrosecond),
            'n' => TimeSpan.FromTicks(amount / 100),
            _ => null,
        };
    }

    /// <summary>gRPC's percent-encoding of a status message: UTF-8, every byte outside printable ASCII and '%' as %XX.</summary>
    internal static string PercentEncode(string text)
    {
        var plain = true;
        foreach (var c in text)
        {
            if (c is < ' ' or > '~' or '%')
            {
                plain = false;
                break;
            }
        }
        if (plain)
        {
            return text;
        }
        var builder = new StringBuilder(text.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b is < 0x20 or > 0x7E or (byte)'%')
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append((char)b);
            }
        }
        return builder.ToString();
    }

    /// <inheritdoc/>
    public void Dispose() => _deadlineSource?.Dispose();

    /// <inheritdoc/>
    protected override string MethodCore => _method;

    /// <inheritdoc/>
    protected override string HostCore => _http.Request.Host.Value ?? "";

    /// <inheritdoc/>
    protected override string PeerCore
    {
        get
        {
            var connection = _http.Connection;
            return connection.RemoteIpAddress is null ? "" : $"ipv4:{connection.RemoteIpAddress}:{connection.RemotePort}";
        }
    }

    /// <inheritdoc/>
    protected override DateTime DeadlineCore => _deadline;

    /// <inheritdoc/>
    protected override Metadata RequestHeadersCore
    {
        get
        {
            if (_requestHeaders is null)
            {
                var headers = new Metadata();
                foreach (var (key, values) in _http.Request.Headers)
                {
                    if (key.StartsWith(':') || key.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }
                    foreach (var value in values)
                    {
                        if (key.EndsWith("-bin", StringComparison.OrdinalIgnoreCase))
                        {
                            headers.Add(key, Convert.FromBase64String(value ?? ""));
                        }
                        else
                        {
                            headers.Add(key, value ?? "");
                        }
                    }
                }
                _requestHeaders = headers;
            }
            return _requestHeaders;
        }
    }

    /// <inheritdoc/>
    protected override CancellationToken CancellationTokenCore => _cancellation;

    /// <inheritdoc/>
    protected override Metadata ResponseTrailersCore { get; } = new();

    /// <inheritdoc/>
    protected override Status StatusCore { get; set; }

    /// <inheritdoc/>
    protected override WriteOptions? WriteOptionsCore { get; set; }

    /// <inheritdoc/>
    protected override AuthContext AuthContextCore => new(null, new Dictionary<string, List<AuthProperty>>());

    /// <inheritdoc/>
    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("context propagation is not supported by the plugin's gRPC server");

    /// <inheritdoc/>
    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders)
    {
        foreach (var entry in responseHeaders)
        {
            _http.Response.Headers.Append(entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
        }
        _headersSent = true;
        _http.Response.ContentType = "application/grpc";
        return _http.Response.StartAsync(_cancellation);
    }
}
