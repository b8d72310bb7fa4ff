using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;
using Grpc.Core;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>
/// A response message serialized once into its gRPC frame (the compressed flag, the length, the bytes), and, when it is
/// at least <see cref="GrpcCall.CompressionThreshold"/> bytes, gzip-compressed once into a second frame (on first use,
/// or ahead of it by <see cref="Compress"/>); every call that answers it writes one of the two frames as it is. For an
/// answer that does not change, as the package schema (102 KB serialized, 31 KB compressed), the serialization and
/// the compression are then done once per process, off the path of the call, instead of once per call.
/// </summary>
internal sealed class PreparedMessage
{
    private const int HeaderLength = 5;
    private readonly Lazy<byte[]>? _gzipFrame;

    private PreparedMessage(byte[] identityFrame)
    {
        IdentityFrame = identityFrame;
        if (MessageLength >= GrpcCall.CompressionThreshold)
        {
            _gzipFrame = new Lazy<byte[]>(() => GzipFrame(IdentityFrame.AsSpan(HeaderLength)));
        }
    }

    /// <summary>The frame of the message uncompressed (compressed flag 0), for a client that does not accept gzip.</summary>
    public byte[] IdentityFrame { get; }

    /// <summary>The length of the serialized message.</summary>
    public int MessageLength => IdentityFrame.Length - HeaderLength;

    /// <summary>Whether the message is large enough to go gzip-compressed to a client that accepts gzip.</summary>
    public bool Compressible => _gzipFrame is not null;

    /// <summary>The gzip-compressed frame (compressed flag 1); compressed on first use. Only when <see cref="Compressible"/>.</summary>
    public byte[] CompressedFrame => (_gzipFrame ?? throw new InvalidOperationException("the message is below the compression threshold")).Value;

    /// <summary>Serializes <paramref name="message"/> into its frame.</summary>
    public static PreparedMessage Create(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var size = message.CalculateSize();
        if (size > GrpcServer.MaxMessageSize)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, "Sending message exceeds the maximum configured message size."));
        }
        var frame = new byte[HeaderLength + size];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)size);
        message.WriteTo(frame.AsSpan(HeaderLength));
        return new PreparedMessage(frame);
    }

    /// <summary>Compresses the message now (when it is <see cref="Compressible"/>), so that no call has to.</summary>
    public PreparedMessage Compress()
    {
        _ = _gzipFrame?.Value;
        return this;
    }

    /// <summary>
    /// <paramref name="message"/> gzip-compressed (CompressionLevel.Fastest: the answer is compressed to fit the
    /// client's first HTTP/2 window, not to be small) in a frame with the compressed flag set.
    /// </summary>
    internal static byte[] GzipFrame(ReadOnlySpan<byte> message)
    {
        using var output = new MemoryStream(message.Length / 3);
        output.Write(stackalloc byte[HeaderLength]);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(message);
        }
        var frame = output.ToArray();
        frame[0] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(frame.Length - HeaderLength));
        return frame;
    }
}
