namespace RegistryInfra.Protocol.Values;

/// <summary>
/// A protobuf message's bytes split in two without decoding either part: the bodies of one length-delimited field (every
/// occurrence, in order, as protobuf merges a message field given twice) and the bytes of every other field, in order, to be
/// parsed by the generated message. The monitor client reads a RegisterResourceResponse's outputs this way, and the fake
/// monitor a RegisterResourceRequest's inputs.
/// </summary>
/// <param name="RestLength">How many bytes of the other fields were written to the caller's buffer.</param>
/// <param name="Field">Where the field's one body lies in the message; null when it occurs not once.</param>
/// <param name="Joined">The field's bodies one after another when it occurs more than once; else null.</param>
public readonly record struct FieldSplit(int RestLength, Range? Field, byte[]? Joined)
{
    /// <summary>Whether the field occurs at all.</summary>
    public bool HasField => Field is not null || Joined is not null;

    /// <summary>
    /// Splits <paramref name="message"/> on the field of <paramref name="tag"/> (wire type 2), the other fields' bytes going
    /// to <paramref name="rest"/> (at least as long as the message). Null when the bytes are no well-formed message: a varint
    /// or field that runs past the end, or a wire type that protobuf 3 does not write.
    /// </summary>
    public static FieldSplit? Split(ReadOnlySpan<byte> message, uint tag, Span<byte> rest)
    {
        Range? field = null;
        byte[]? joined = null;
        var restLength = 0;
        var at = 0;
        while (at < message.Length)
        {
            var start = at;
            if (!TryReadVarint(message, ref at, out var key))
            {
                return null;
            }
            switch (key & 7)
            {
                case 0:
                    if (!TryReadVarint(message, ref at, out _))
                    {
                        return null;
                    }
                    break;
                case 1:
                    at += 8;
                    break;
                case 5:
                    at += 4;
                    break;
                case 2:
                    if (!TryReadVarint(message, ref at, out var length) || length > (ulong)(message.Length - at))
                    {
                        return null;
                    }
                    if (key == tag)
                    {
                        var body = at..(at + (int)length);
                        if (joined is not null)
                        {
                            joined = [.. joined, .. message[body]];
                        }
                        else if (field is { } first)
                        {
                            joined = [.. message[first], .. message[body]];
                            field = null;
                        }
                        else
                        {
                            field = body;
                        }
                        at += (int)length;
                        continue;
                    }
                    at += (int)length;
                    break;
                default:
                    return null;
            }
            if (at > message.Length)
            {
                return null;
            }
            message[start..at].CopyTo(rest[restLength..]);
            restLength += at - start;
        }
        return new FieldSplit(restLength, field, joined);
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> bytes, ref int at, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= bytes.Length)
            {
                return false;
            }
            var b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }
        return false;
    }
}
