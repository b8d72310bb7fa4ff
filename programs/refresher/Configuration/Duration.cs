using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace RegistryInfra.Refresher.Configuration;

/// <summary>
/// Durations as Kubernetes and Go users write them (<c>6h</c>, <c>30m</c>, <c>1h30m</c>, <c>90s</c>, <c>250ms</c>),
/// and, for configurations written before, .NET TimeSpan text (<c>06:00:00</c>, <c>30.00:00:00</c>).
/// </summary>
internal static class Duration
{
    /// <summary>The duration fields, as configuration paths; <c>*</c> stands for each registry.</summary>
    internal static readonly string[] Fields = ["renewBefore", "deadline", "retryBaseDelay", "requestTimeout", "registries:*:source:lifetime"];

    private const long TicksPerNanosecondDivisor = 100;

    /// <summary>Parses Go's <c>time.ParseDuration</c> syntax or a TimeSpan with at least one colon.</summary>
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

    /// <summary>The message for a value that is not a duration, naming the field.</summary>
    public static string Problem(string field, string? text) =>
        $"{field}: '{text}' is not a duration; use e.g. 6h, 30m or 1h30m";

    /// <summary>
    /// Rewrites every duration field of <paramref name="configuration"/> (file and environment overrides
    /// alike) into TimeSpan text, so the binder needs no converter of its own.
    /// </summary>
    /// <exception cref="ConfigurationException">A duration field holds something else; the message names it.</exception>
    public static IReadOnlyDictionary<string, string?> Normalize(IConfiguration configuration)
    {
        var normalized = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var problems = new List<string>();
        foreach (var (path, display) in FieldPaths(configuration))
        {
            var raw = configuration[path];
            if (raw is null)
            {
                continue;
            }
            if (TryParse(raw, out var value))
            {
                normalized[path] = value.ToString("c", CultureInfo.InvariantCulture);
            }
            else
            {
                problems.Add(Problem(display, raw));
            }
        }
        if (problems.Count > 0)
        {
            throw new ConfigurationException(string.Join(Environment.NewLine, problems));
        }
        return normalized;
    }

    private static IEnumerable<(string Path, string Display)> FieldPaths(IConfiguration configuration)
    {
        foreach (var field in Fields)
        {
            var star = field.IndexOf(":*:", StringComparison.Ordinal);
            if (star < 0)
            {
                yield return (field, field);
                continue;
            }
            var list = field[..star];
            var rest = field[(star + 3)..];
            foreach (var item in configuration.GetSection(list).GetChildren())
            {
                yield return ($"{list}:{item.Key}:{rest}", $"{list}[{item.Key}].{rest.Replace(':', '.')}");
            }
        }
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
