using System.Globalization;
using System.Text;
using Google.Protobuf.WellKnownTypes;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>
/// Bounds on what leaves the plugin as text. A gRPC status message travels in the <c>grpc-message</c> trailer,
/// percent-encoded (up to 9 bytes for one character), and HTTP/2 peers refuse header blocks past their limit
/// (SocketsHttpHandler's MaxResponseHeadersLength is 64 KiB, Go's default max header list 1 MiB with 16 KiB
/// frames in practice): a longer message made the call hang with no answer and stalled every other call on the
/// connection. Capped at <see cref="MaxStatusLength"/> characters, a message stays under 20 KB encoded.
/// </summary>
public static class StatusText
{
    /// <summary>The longest status message, in characters.</summary>
    public const int MaxStatusLength = 2048;

    /// <summary>The longest check failure reason or log message, in characters.</summary>
    public const int MaxReasonLength = 4096;

    /// <summary>Deepest nesting of property values accepted in a request.</summary>
    public const int MaxPropertyDepth = 32;

    /// <summary>
    /// <paramref name="message"/> cut to <paramref name="maxLength"/> characters (never inside a surrogate pair),
    /// saying how much was cut; NUL characters, which some peers stop at, are replaced.
    /// </summary>
    public static string Cap(string? message, int maxLength = MaxStatusLength)
    {
        if (string.IsNullOrEmpty(message))
        {
            return "";
        }
        if (message.Length <= maxLength)
        {
            return message.Contains('\0', StringComparison.Ordinal) ? message.Replace('\0', ' ') : message;
        }
        var end = maxLength;
        if (char.IsHighSurrogate(message[end - 1]))
        {
            end--;
        }
        var builder = new StringBuilder(end + 48);
        builder.Append(message, 0, end).Replace('\0', ' ');
        builder.Append("… (").Append((message.Length - end).ToString(CultureInfo.InvariantCulture)).Append(" more characters cut)");
        return builder.ToString();
    }

    /// <summary>
    /// The path of the first value in <paramref name="properties"/> nested deeper than <see cref="MaxPropertyDepth"/>
    /// levels, or null. Checked before any decoding, so a hostile request cannot run a recursive decoder out of stack.
    /// </summary>
    public static string? TooDeep(Struct? properties)
    {
        if (properties is null)
        {
            return null;
        }
        foreach (var (key, value) in properties.Fields)
        {
            if (TooDeep(value, Shorten(key), 1) is { } path)
            {
                return path;
            }
        }
        return null;
    }

    private static string? TooDeep(Value value, string path, int depth)
    {
        if (depth > MaxPropertyDepth)
        {
            return path;
        }
        switch (value.KindCase)
        {
            case Value.KindOneofCase.StructValue:
                foreach (var (key, child) in value.StructValue.Fields)
                {
                    if (TooDeep(child, path.Length > 200 ? path : path + "." + Shorten(key), depth + 1) is { } found)
                    {
                        return found;
                    }
                }
                return null;
            case Value.KindOneofCase.ListValue:
                var index = 0;
                foreach (var child in value.ListValue.Values)
                {
                    if (TooDeep(child, path.Length > 200 ? path : path + "[" + index.ToString(CultureInfo.InvariantCulture) + "]", depth + 1) is { } found)
                    {
                        return found;
                    }
                    index++;
                }
                return null;
            default:
                return null;
        }
    }

    private static string Shorten(string key) => key.Length <= 40 ? key : key[..40] + "…";

    /// <summary>The known name closest to <paramref name="name"/> (edit distance at most a third of its length, and 3), or null.</summary>
    public static string? Closest(string name, IEnumerable<string> known)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(known);
        if (name.Length > 100)
        {
            return null;
        }
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best is not null && bestDistance <= Math.Min(3, Math.Max(1, best.Length / 3)) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
