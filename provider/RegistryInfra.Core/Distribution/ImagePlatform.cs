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
        var parts = text.Trim().Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0 || !p.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput,
                $"platform '{text}' is not valid: expected os/architecture[/variant], such as linux/amd64 or linux/arm64/v8");
        }
        return new ImagePlatform(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
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
