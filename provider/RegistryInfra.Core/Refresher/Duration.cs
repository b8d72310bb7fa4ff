using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RegistryInfra.Core.Refresher;

/// <summary>
/// Durations as Kubernetes and Go users write them (<c>6h</c>, <c>30m</c>, <c>1h30m</c>, <c>90s</c>, <c>250ms</c>),
/// and, for configurations written before, .NET TimeSpan text (<c>06:00:00</c>, <c>30.00:00:00</c>).
/// The syntax is Go's <c>time.ParseDuration</c> (golang/go, src/time/format.go, <c>ParseDuration</c>).
/// </summary>
public static class Duration
{
    private const long TicksPerNanosecondDivisor = 100;

    /// <summary>Parses Go's <c>time.ParseDuration</c> syntax, or a TimeSpan when the text has a colon.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var s = text.Trim();
        // A bare number means days to TimeSpan.Parse and nothing to Go; refusing it avoids a silent "6" = 6 days.
        if (s.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out value);
        }
        return TryParseGo(s, out value);
    }

    /// <summary>Go's <c>Duration.String</c> form, such as <c>1h30m0s</c>, <c>250ms</c>, <c>0s</c>: what <see cref="TryParse"/> reads back exactly to the tick (100 ns).</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }
        var text = new StringBuilder();
        var ticks = value.Ticks;
        if (ticks < 0)
        {
            text.Append('-');
        }
        // Magnitudes as unsigned so TimeSpan.MinValue does not overflow.
        var magnitude = ticks < 0 ? (ulong)(-(ticks + 1)) + 1 : (ulong)ticks;
        if (magnitude < (ulong)TimeSpan.TicksPerSecond)
        {
            // Below a second Go picks one unit; ticks are 100 ns, so ms or µs with a fraction is exact.
            var (unit, per) = magnitude >= (ulong)TimeSpan.TicksPerMillisecond ? ("ms", (ulong)TimeSpan.TicksPerMillisecond) : ("us", (ulong)TimeSpan.TicksPerMicrosecond);
            if (magnitude < (ulong)TimeSpan.TicksPerMicrosecond)
            {
                return text.Append(CultureInfo.InvariantCulture, $"{magnitude * TicksPerNanosecondDivisor}ns").ToString();
            }
            return text.Append(Fraction(magnitude, per)).Append(unit).ToString();
        }
        var hours = magnitude / (ulong)TimeSpan.TicksPerHour;
        var minutes = magnitude / (ulong)TimeSpan.TicksPerMinute % 60;
        var secondTicks = magnitude % (ulong)TimeSpan.TicksPerMinute;
        if (hours > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{hours}h");
        }
        if (hours > 0 || minutes > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{minutes}m");
        }
        return text.Append(Fraction(secondTicks, (ulong)TimeSpan.TicksPerSecond)).Append('s').ToString();
    }

    private static string Fraction(ulong ticks, ulong perUnit)
    {
        var whole = ticks / perUnit;
        var rest = ticks % perUnit;
        if (rest == 0)
        {
            return whole.ToString(CultureInfo.InvariantCulture);
        }
        var digits = perUnit.ToString(CultureInfo.InvariantCulture).Length - 1;
        return $"{whole.ToString(CultureInfo.InvariantCulture)}.{rest.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0')}";
    }

    private static bool TryParseGo(string s, out TimeSpan value)
    {
        value = default;
        var i = 0;
        var negative = false;
        if (s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            i++;
        }
        if (s.AsSpan(i).SequenceEqual("0"))
        {
            return true;
        }
        if (i == s.Length)
        {
            return false;
        }
        decimal total = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
            var wholeDigits = i - start;
            var fractionDigits = 0;
            if (i < s.Length && s[i] == '.')
            {
                i++;
                var fractionStart = i;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }
                fractionDigits = i - fractionStart;
            }
            if (wholeDigits + fractionDigits == 0 || wholeDigits > 18 || fractionDigits > 18)
            {
                return false;
            }
            var number = decimal.Parse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
            {
                i++;
            }
            decimal? ticksPerUnit = s.AsSpan(unitStart, i - unitStart) switch
            {
                "ns" => 1m / TicksPerNanosecondDivisor,
                "us" or "\u00b5s" or "\u03bcs" => TimeSpan.TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => null,
            };
            if (ticksPerUnit is not { } perUnit)
            {
                return false;
            }
            total += number * perUnit;
            if (total > TimeSpan.MaxValue.Ticks)
            {
                return false;
            }
        }
        var ticks = (long)decimal.Truncate(total);
        value = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }
}

/// <summary>Writes durations in Go's form (<see cref="Duration.Format"/>) and reads what <see cref="Duration.TryParse"/> reads.</summary>
public sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    /// <inheritdoc />
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("a duration must be a string such as 6h, 30m or 1h30m");
        }
        return Duration.TryParse(reader.GetString(), out var value)
            ? value
            : throw new JsonException("not a duration; use e.g. 6h, 30m or 1h30m");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Duration.Format(value));
}
