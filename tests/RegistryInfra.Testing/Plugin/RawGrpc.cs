using System.Buffers.Binary;
using System.IO.Compression;

namespace RegistryInfra.Testing.Plugin;

/// <summary>
/// One unary gRPC call over HTTP/2 without a gRPC client library, to see the wire: which grpc-encoding the server
/// chose, the message frames of its body, its grpc-status. The request headers are what the engine's grpc-go client
/// sends (grpc/grpc-go 4793ad0474669eafbd5346c8a3d098fdfa542498, internal/transport/http2_client.go createHeaderFields:
/// content-type application/grpc, te trailers, grpc-accept-encoding with the registered compressors, which in the
/// pulumi CLI include gzip through the OpenTelemetry exporter it links).
/// </summary>
public static class RawGrpc
{
    /// <summary>Calls <paramref name="method"/> (<c>/service/Method</c>) with <paramref name="message"/> (serialized), sending
    /// <paramref name="acceptEncoding"/> as grpc-accept-encoding unless null.</summary>
    public static async Task<(string? Encoding, byte[] Body, string? Status)> UnaryAsync(
        int port, string method, byte[] message, string? acceptEncoding, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame.AsSpan(5));
        using var http = new HttpClient(new SocketsHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://127.0.0.1:{port}{method}"))
        {
            Content = new ByteArrayContent(frame),
            Version = new Version(2, 0),
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("grpc-accept-encoding", acceptEncoding);
        }
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var encoding = response.Headers.TryGetValues("grpc-encoding", out var values) ? values.Single() : null;
        // A trailers-only answer carries its status in the headers.
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.Single()
            : response.Headers.TryGetValues("grpc-status", out var header) ? header.Single() : null;
        return (encoding, body, status);
    }

    /// <summary>The one message of a response body, decompressed when its frame's flag says so; throws when the body is not exactly one frame.</summary>
    public static byte[] SingleMessage(byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (body.Length < 5 || BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1, 4)) != body.Length - 5)
        {
            throw new InvalidDataException($"a body of {body.Length} bytes is not one message frame");
        }
        switch (body[0])
        {
            case 0:
                return body[5..];
            case 1:
                using (var gzip = new GZipStream(new MemoryStream(body, 5, body.Length - 5), CompressionMode.Decompress))
                using (var output = new MemoryStream())
                {
                    gzip.CopyTo(output);
                    return output.ToArray();
                }
            default:
                throw new InvalidDataException($"compressed flag {body[0]}");
        }
    }
}
