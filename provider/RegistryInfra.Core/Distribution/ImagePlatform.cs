using System.Globalization;

namespace RegistryInfra.Core.Distribution;

/// <summary>
/// An image platform (<c>os/architecture[/variant]</c>) in its normal form, following containerd's
/// <c>platforms</c> package: <c>x86_64</c> is <c>amd64</c>, <c>aarch64</c> and <c>arm64/v8</c> are
/// <c>arm64</c>, <c>arm</c> alone is <c>arm/v7</c>, <c>macos</c> is <c>darwin</c>.
/// </summary>
public sealed record ImagePlatform
{
    /// <summary>A platform from its parts, normalised.</summary>
    public ImagePlatform(string os, string architecture, string? variant = null)
    {
        ArgumentNullException.ThrowIfNull(os);
        ArgumentNullException.ThrowIfNull(architecture);
        (Os, Architecture, Variant) = Normalise(os, architecture, variant ?? "");
    }

    /// <summary>The operating system, such as <c>linux</c>.</summary>
    public string Os { get; }

    /// <summary>The CPU architecture, such as <c>amd64</c> or <c>arm64</c>.</summary>
    public string Architecture { get; }

    /// <summary>The architecture variant, such as <c>v7</c>; empty when none.</summary>
    public string Variant { get; }

    /// <summary>Parses <c>os/arch</c> or <c>os/arch/variant</c>.</summary>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/> when the text is not a platform.</exception>
    public static ImagePlatform Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Not trimmed: containerd's platforms.Parse matches each part against ^[A-Za-z0-9_.-]+$ (Go's $ is the end of
        // the text), so "linux/amd64\n" is no platform to it, and a newline must not reach a message or a log line.
        if (text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput,
                "platform must not contain whitespace or control characters: expected os/architecture[/variant], such as linux/amd64 or linux/arm64/v8");
        }
        var parts = text.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0 || !p.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            var shown = text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 77), "...");
            throw new RegistryException(RegistryErrorKind.InvalidInput,
                $"platform '{shown}' is not valid: expected os/architecture[/variant], such as linux/amd64 or linux/arm64/v8");
        }
        return new ImagePlatform(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }

    /// <summary>
    /// The platforms an image may have to run here, best first, as containerd/platforms <c>Only</c> orders them
    /// (compare.go <c>platformVector</c>, commit 09756f59): the platform itself, then older variants of its
    /// architecture (amd64/v3 → v2, v1; arm/v7 → v6, v5; arm64/v9.x → v9 … v8.x … v8), then the 32-bit
    /// architecture it also runs (amd64 → 386; arm64 → arm/v8 and below). A platform asked without a variant
    /// is the baseline (amd64 = v1, arm64 = v8): never a newer variant.
    /// </summary>
    public IReadOnlyList<ImagePlatform> CompatiblePlatforms()
    {
        var vector = new List<ImagePlatform>();
        AddCompatible(vector, Os, Architecture, Variant);
        return vector;
    }

    /// <summary>The rank of <paramref name="candidate"/> in <see cref="CompatiblePlatforms"/> (0 is this platform), or -1
    /// when an image for <paramref name="candidate"/> cannot run here.</summary>
    public int RankOf(ImagePlatform candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return IndexOf(CompatiblePlatforms(), candidate);
    }

    /// <summary>True when an image for <paramref name="candidate"/> runs on this platform (containerd's <c>Only(this).Match</c>).</summary>
    public bool Runs(ImagePlatform candidate) => RankOf(candidate) >= 0;

    /// <summary>
    /// The item that containerd would pull for this platform from an index: of those whose platform this one
    /// runs, the best ranked, the first in index order among equals (images.Manifest sorts stably by
    /// <c>Less</c> and takes the first). Null when none runs here.
    /// </summary>
    public T? SelectFrom<T>(IEnumerable<T> items, Func<T, ImagePlatform?> platformOf)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(platformOf);
        var vector = CompatiblePlatforms();
        T? best = null;
        var bestRank = int.MaxValue;
        foreach (var item in items)
        {
            if (platformOf(item) is not { } platform)
            {
                continue;
            }

            var rank = IndexOf(vector, platform);
            if (rank >= 0 && rank < bestRank)
            {
                best = item;
                bestRank = rank;
            }
        }

        return best;
    }

    private static int IndexOf(IReadOnlyList<ImagePlatform> vector, ImagePlatform platform)
    {
        for (var i = 0; i < vector.Count; i++)
        {
            if (vector[i] == platform)
            {
                return i;
            }
        }

        return -1;
    }

    private static void AddCompatible(List<ImagePlatform> vector, string os, string architecture, string variant)
    {
        switch (architecture)
        {
            case "amd64":
                vector.Add(new ImagePlatform(os, architecture, variant));
                if (TryVersion(variant, out var amd64) && amd64 > 1)
                {
                    for (amd64--; amd64 >= 1; amd64--)
                    {
                        vector.Add(new ImagePlatform(os, architecture, "v" + amd64.ToString(CultureInfo.InvariantCulture)));
                    }
                }

                vector.Add(new ImagePlatform(os, "386"));
                break;
            case "arm":
                vector.Add(new ImagePlatform(os, architecture, variant));
                if (TryVersion(variant, out var arm) && arm > 5)
                {
                    for (arm--; arm >= 5; arm--)
                    {
                        vector.Add(new ImagePlatform(os, architecture, "v" + arm.ToString(CultureInfo.InvariantCulture)));
                    }
                }

                break;
            case "arm64":
                var arm64Variant = variant.Length == 0 ? "v8" : variant;
                if (Arm64Versions(arm64Variant) is { } versions)
                {
                    foreach (var (major, highestMinor) in versions)
                    {
                        for (var minor = highestMinor; minor >= 0; minor--)
                        {
                            vector.Add(new ImagePlatform(os, "arm64", minor == 0
                                ? string.Create(CultureInfo.InvariantCulture, $"v{major}")
                                : string.Create(CultureInfo.InvariantCulture, $"v{major}.{minor}")));
                        }
                    }
                }

                // Every arm64 v8.x and v9.x also runs 32-bit arm/v8 and below.
                AddCompatible(vector, os, "arm",
                    arm64Variant.StartsWith("v8", StringComparison.Ordinal) || arm64Variant.StartsWith("v9", StringComparison.Ordinal) ? "v8" : arm64Variant);
                break;
            default:
                vector.Add(new ImagePlatform(os, architecture, variant));
                break;
        }
    }

    private static bool TryVersion(string variant, out int version) =>
        int.TryParse(variant.StartsWith('v') ? variant[1..] : variant, NumberStyles.None, CultureInfo.InvariantCulture, out version);

    // compare.go arm64variantToVersion: v8.N is (8, N); v9.N also runs v8 up to N + 5 (at most 9).
    private static (int Major, int HighestMinor)[]? Arm64Versions(string variant)
    {
        var text = variant.StartsWith('v') ? variant[1..] : null;
        if (text is null)
        {
            return null;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var majorText = dot < 0 ? text : text[..dot];
        var minorText = dot < 0 ? "0" : text[(dot + 1)..];
        if (majorText.Length != 1 || minorText.Length != 1
            || !int.TryParse(majorText, NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !int.TryParse(minorText, NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
        {
            return null;
        }

        return (major, minor) switch
        {
            (8, _) => [(8, minor)],
            (9, <= 7) => [(9, minor), (8, Math.Min(minor + 5, 9))],
            _ => null,
        };
    }

    /// <summary><c>os/arch</c> or <c>os/arch/variant</c>.</summary>
    public override string ToString() => Variant.Length == 0 ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    private static (string, string, string) Normalise(string os, string architecture, string variant)
    {
#pragma warning disable CA1308 // platform names are lower case by convention (containerd lowercases them too)
        os = os.ToLowerInvariant();
        architecture = architecture.ToLowerInvariant();
        variant = variant.ToLowerInvariant();
#pragma warning restore CA1308
        if (os == "macos")
        {
            os = "darwin";
        }
        switch (architecture)
        {
            case "i386":
                architecture = "386";
                variant = "";
                break;
            case "x86_64" or "x86-64" or "amd64":
                architecture = "amd64";
                if (variant == "v1")
                {
                    variant = "";
                }
                break;
            case "aarch64" or "arm64":
                architecture = "arm64";
                variant = variant switch
                {
                    "8" or "v8" or "v8.0" => "",
                    "9" or "9.0" or "v9.0" => "v9",
                    _ => variant,
                };
                break;
            case "armhf":
                architecture = "arm";
                variant = "v7";
                break;
            case "armel":
                architecture = "arm";
                variant = "v6";
                break;
            case "arm":
                variant = variant switch
                {
                    "" or "7" => "v7",
                    "5" or "6" or "8" => "v" + variant,
                    _ => variant,
                };
                break;
        }
        return (os, architecture, variant);
    }
}
