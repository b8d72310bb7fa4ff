using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;
using RegistryInfra.Protocol.Hosting;
using Wire = Pulumirpc;

namespace RegistryInfra.Protocol.Tests.Hosting;

/// <summary>A message serialized once into its gRPC frames: the identity frame always, the gzip frame from the threshold on.</summary>
public sealed class PreparedMessageTests
{
    private static byte[] Gunzip(ReadOnlySpan<byte> compressed)
    {
        using var gzip = new GZipStream(new MemoryStream(compressed.ToArray()), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }

    [Fact]
    public void A_small_message_has_only_its_identity_frame()
    {
        var message = new Wire.GetSchemaResponse { Schema = "{\"name\":\"small\"}" };
        var prepared = PreparedMessage.Create(message);

        Assert.False(prepared.Compressible);
        byte[] frame = [0, 0, 0, 0, (byte)message.CalculateSize(), .. message.ToByteArray()];
        Assert.Equal(frame, prepared.IdentityFrame);
        Assert.Throws<InvalidOperationException>(() => prepared.CompressedFrame);
    }

    [Theory]
    [InlineData(GrpcCall.CompressionThreshold - 5, false)] // the message is its text's tag, 3-byte length and bytes: 1 byte below
    [InlineData(GrpcCall.CompressionThreshold - 4, true)]
    [InlineData(400_000, true)]
    public void From_the_threshold_on_the_gzip_frame_decodes_to_exactly_the_identity_bytes(int textLength, bool compressible)
    {
        var message = new Wire.GetSchemaResponse { Schema = new string('s', textLength - 2) + "é" };
        var prepared = PreparedMessage.Create(message).Compress();

        Assert.Equal(compressible, prepared.Compressible);
        var identity = prepared.IdentityFrame;
        Assert.Equal(0, identity[0]);
        Assert.Equal(prepared.MessageLength, (int)BinaryPrimitives.ReadUInt32BigEndian(identity.AsSpan(1)));
        Assert.Equal(message.ToByteArray(), identity[5..]);
        if (compressible)
        {
            var gzip = prepared.CompressedFrame;
            Assert.Equal(1, gzip[0]);
            Assert.Equal(gzip.Length - 5, (int)BinaryPrimitives.ReadUInt32BigEndian(gzip.AsSpan(1)));
            Assert.Equal(identity[5..], Gunzip(gzip.AsSpan(5)));
            Assert.Equal(message.Schema, Wire.GetSchemaResponse.Parser.ParseFrom(Gunzip(gzip.AsSpan(5))).Schema);
            Assert.Same(gzip, prepared.CompressedFrame);
        }
    }
}
