using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace RegistryInfra.Core.References;

/// <summary>
/// A registry host: a DNS name, IPv4 or bracketed IPv6 literal, or <c>localhost</c>, with an optional port.
/// <see cref="Name"/> is lower-case (DNS is case-insensitive, so two hosts are equal when their names are);
/// <see cref="Spelling"/> keeps the case as written, because the kubelet compares dockerconfigjson keys with
/// image hosts case-sensitively. As distribution's <c>reference</c> package does, only <c>index.docker.io</c>
/// folds into <c>docker.io</c>; <c>registry-1.docker.io</c> and <c>registry.hub.docker.com</c> serve Docker
/// Hub (<see cref="Kind"/> <see cref="RegistryKind.DockerHub"/>) but are hosts of their own, which the
/// kubelet looks up under their own names.
/// </summary>
public sealed partial class RegistryHost : IEquatable<RegistryHost>
{
    /// <summary>The canonical name of Docker Hub.</summary>
    public const string DockerHubName = "docker.io";

    /// <summary>The host that serves Docker Hub's registry API.</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";

    /// <summary>The key under which Docker Hub credentials go in a dockerconfigjson, as <c>docker login</c> writes it.</summary>
    public const string DockerHubConfigKey = "https://index.docker.io/v1/";

    /// <summary>The one alias distribution folds into <c>docker.io</c> (<c>legacyDefaultDomain</c> in normalize.go).</summary>
    public const string LegacyDockerHubName = "index.docker.io";

    /// <summary>Hosts that serve Docker Hub under their own name: distribution and the kubelet do not fold them.</summary>
    private static readonly HashSet<string> DockerHubServingHosts = new(StringComparer.Ordinal)
    {
        DockerHubApiHost, "registry.hub.docker.com",
    };

    /// <summary>The longest host name (RFC 1035 2.3.4 without the trailing dot).</summary>
    public const int MaxHostnameLength = 253;

    /// <summary>The longest DNS label (RFC 1035 2.3.4).</summary>
    public const int MaxLabelLength = 63;

    private static readonly HashSet<string> GcrHosts = new(StringComparer.Ordinal)
    {
        "gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io", "marketplace.gcr.io",
    };

    private RegistryHost(string writtenHostname, int? port, bool isIPv6)
    {
        var hostname = writtenHostname.ToLowerInvariant();
        if (port is null && hostname is DockerHubName or LegacyDockerHubName)
        {
            hostname = DockerHubName;
            writtenHostname = DockerHubName;
        }

        Hostname = hostname;
        Port = port;
        Name = Join(hostname, port, isIPv6);
        Spelling = Join(writtenHostname, port, isIPv6);
        Details = Detect(Name, port, isIPv6);
    }

    private static string Join(string hostname, int? port, bool isIPv6)
    {
        var hostPart = isIPv6 ? $"[{hostname}]" : hostname;
        return port is { } p ? string.Create(CultureInfo.InvariantCulture, $"{hostPart}:{p}") : hostPart;
    }

    /// <summary>Docker Hub.</summary>
    public static RegistryHost DockerHub { get; } = new(DockerHubName, null, false);

    /// <summary>The canonical name: <c>host</c> or <c>host:port</c> in lower case, IPv6 in brackets; <c>docker.io</c> for <c>index.docker.io</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// The host as written (<c>Registry.Example.com:5000</c>), with <c>index.docker.io</c> folded into
    /// <c>docker.io</c> as distribution does. This is what the kubelet compares with dockerconfigjson keys
    /// (k8s.io/kubernetes pkg/credentialprovider/keyring.go: <c>filepath.Match</c> per host label, case-sensitive).
    /// </summary>
    public string Spelling { get; }

    /// <summary>The host name or IP literal without port (IPv6 without brackets).</summary>
    public string Hostname { get; }

    /// <summary>The port, when one was given.</summary>
    public int? Port { get; }

    /// <summary>The host[:port] that serves the registry API (<c>registry-1.docker.io</c> for Docker Hub).</summary>
    public string ApiHost => IsDockerHub ? DockerHubApiHost : Name;

    /// <summary>The key for this registry in a dockerconfigjson: <c>https://index.docker.io/v1/</c> for Docker Hub,
    /// else <see cref="Spelling"/> (the kubelet compares host case as written).</summary>
    public string DockerConfigKey => IsDockerHub ? DockerHubConfigKey : Spelling;

    /// <summary>True for Docker Hub's canonical host <c>docker.io</c> (written as <c>docker.io</c> or <c>index.docker.io</c>,
    /// or implied by a reference without a registry): the host whose one-component names live in <c>library/</c>.</summary>
    public bool IsDockerHub => Name == DockerHubName;

    /// <summary>True for a host that serves Docker Hub under its own name (<c>registry-1.docker.io</c>,
    /// <c>registry.hub.docker.com</c>): the same service, a different host for the kubelet's matching.</summary>
    public bool IsDockerHubAlias => Port is null && DockerHubServingHosts.Contains(Hostname);

    /// <summary>True for <c>localhost</c> and loopback IP literals, where the tools allow plain HTTP.</summary>
    public bool IsLoopback => Hostname == "localhost" || (IPAddress.TryParse(Hostname, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The detected registry family.</summary>
    public RegistryKind Kind => Details.Kind;

    /// <summary>The detected registry family with what its host name tells (account, region, registry name).</summary>
    public RegistryKindDetails Details { get; }

    /// <summary>
    /// Parses a registry host as users write it: <c>ghcr.io</c>, <c>Registry.Example.com:5000</c>,
    /// <c>https://index.docker.io/v1/</c>, <c>http://[::1]:5000/</c>. A scheme (http or https) and a
    /// trailing <c>/</c>, <c>/v1/</c> or <c>/v2/</c> are accepted and dropped.
    /// </summary>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/>; the message says what is wrong.</exception>
    public static RegistryHost Parse(string value) =>
        TryParse(value, out var host, out var error)
            ? host
            : throw new RegistryException(RegistryErrorKind.InvalidInput, error);

    /// <summary>Parses like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out RegistryHost? host) =>
        TryParse(value, out host, out _);

    /// <summary>Parses like <see cref="Parse"/>, returning false and the reason instead of throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out RegistryHost? host, [NotNullWhen(false)] out string? error)
    {
        host = null;
        if (!TrySplitServer(value, out var hostPart, out var path, out error))
        {
            return false;
        }

        if (path.Length != 0 && path is not ("v1" or "v2"))
        {
            error = $"registry host must not contain a path (\"/{path}\"); give the repository in an image reference instead";
            return false;
        }

        return TryParseDomain(hostPart, out host, out error);
    }

    /// <summary>
    /// Splits a server as written in a dockerconfigjson key or by a user into its host and the path
    /// after it (without leading or trailing slashes), dropping an http(s) scheme.
    /// </summary>
    internal static bool TrySplitServer(string? value, out string host, out string path, [NotNullWhen(false)] out string? error)
    {
        host = "";
        path = "";
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "registry host must not be empty";
            return false;
        }

        if (value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            error = "registry host must not contain whitespace or control characters";
            return false;
        }

        var rest = value.AsSpan();
        var schemeEnd = rest.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            var scheme = rest[..schemeEnd];
            if (!scheme.Equals("https", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("http", StringComparison.OrdinalIgnoreCase))
            {
                error = $"registry host has unsupported scheme \"{scheme.ToString()}\" (only http:// and https:// may be given)";
                return false;
            }

            rest = rest[(schemeEnd + 3)..];
        }

        if (rest.Contains('?'))
        {
            error = "registry host must not contain a query (\"?...\")";
            return false;
        }

        if (rest.Contains('#'))
        {
            error = "registry host must not contain a fragment (\"#...\")";
            return false;
        }

        var slash = rest.IndexOf('/');
        var authority = slash < 0 ? rest : rest[..slash];
        if (authority.Contains('@'))
        {
            // The user information is deliberately left out of the message: it may hold a password.
            error = "registry host must not contain user information (\"user:password@\"); give credentials separately";
            return false;
        }

        host = authority.ToString();
        path = slash < 0 ? "" : rest[(slash + 1)..].Trim('/').ToString();
        if (slash >= 0 && rest[slash..].Contains("//", StringComparison.Ordinal))
        {
            error = "registry path must not contain empty segments (\"//\")";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Parses the domain part of an image reference or server: host[:port], no scheme, no path.</summary>
    internal static bool TryParseDomain(string value, [NotNullWhen(true)] out RegistryHost? host, [NotNullWhen(false)] out string? error)
    {
        host = null;
        if (value.Length == 0)
        {
            error = "registry host must not be empty";
            return false;
        }

        string hostname;
        string? portText = null;
        var isIPv6 = false;
        if (value[0] == '[')
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"registry host \"{value}\" has an IPv6 literal without its closing \"]\"";
                return false;
            }

            hostname = value[1..close];
            if (!IPv6Literal().IsMatch(hostname) || !IPAddress.TryParse(hostname, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"registry host \"{value}\" has an invalid IPv6 address \"{hostname}\"";
                return false;
            }

            var after = value[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':')
                {
                    error = $"registry host \"{value}\" has unexpected characters after the IPv6 address";
                    return false;
                }

                portText = after[1..];
            }

            isIPv6 = true;
        }
        else
        {
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0 && value.IndexOf(':', colon + 1) > colon)
            {
                error = $"registry host \"{value}\" is not valid (an IPv6 address must be written in brackets, like [::1]:5000)";
                return false;
            }

            hostname = colon < 0 ? value : value[..colon];
            portText = colon < 0 ? null : value[(colon + 1)..];
            // The bounds first: they are cheap, and a 1 MB name never reaches the pattern.
            if (!TryValidateDnsName(hostname, out error))
            {
                return false;
            }

            if (!DomainName().IsMatch(hostname))
            {
                error = $"registry host \"{Shorten(value)}\" is not a valid host name (labels of letters, digits and inner hyphens, separated by dots)";
                return false;
            }
        }

        int? port = null;
        if (portText is not null)
        {
            if (portText.Length == 0 || portText.Length > 5 || !portText.All(char.IsAsciiDigit))
            {
                error = $"registry host \"{value}\" has an invalid port \"{portText}\" (expected a number from 1 to 65535)";
                return false;
            }

            var number = int.Parse(portText, NumberStyles.None, CultureInfo.InvariantCulture);
            if (number is < 1 or > 65535)
            {
                error = $"registry host \"{value}\" has an invalid port \"{portText}\" (expected a number from 1 to 65535)";
                return false;
            }

            port = number;
        }

        host = new RegistryHost(hostname, port, isIPv6);
        error = null;
        return true;
    }

    // distribution's grammar bounds neither labels nor names, and reads 256.256.256.256 as a host name;
    // no resolver would find such a host, so the preview that accepted it would be wrong.
    private static bool TryValidateDnsName(string hostname, [NotNullWhen(false)] out string? error)
    {
        var labels = hostname.Split('.');
        if (labels.FirstOrDefault(l => l.Length > MaxLabelLength) is { } longLabel)
        {
            error = $"registry host \"{Shorten(hostname)}\" has a label of {longLabel.Length} characters (\"{Shorten(longLabel)}\"); a DNS label has at most {MaxLabelLength}";
            return false;
        }

        if (hostname.Length > MaxHostnameLength)
        {
            error = $"registry host \"{Shorten(hostname)}\" is {hostname.Length} characters long; a host name has at most {MaxHostnameLength}";
            return false;
        }

        // A name whose last label is all digits is an IPv4 literal or nothing: top-level domains are never numeric (RFC 3696 2).
        if (labels[^1].Length > 0 && labels[^1].All(char.IsAsciiDigit))
        {
            var isDottedQuad = labels.Length == 4 && labels.All(l =>
                l.Length is >= 1 and <= 3 && l.All(char.IsAsciiDigit) && (l.Length == 1 || l[0] != '0')
                && int.Parse(l, NumberStyles.None, CultureInfo.InvariantCulture) <= 255);
            if (!isDottedQuad)
            {
                error = $"registry host \"{Shorten(hostname)}\" is not a valid IPv4 address (four numbers from 0 to 255, without leading zeros) nor a host name (its last label is numeric)";
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>Input quoted in a message is cut, so that a 1 MB host does not make a 1 MB error.</summary>
    internal static string Shorten(string value) => value.Length <= 80 ? value : string.Concat(value.AsSpan(0, 77), "...");

    private static RegistryKindDetails Detect(string name, int? port, bool isIPv6)
    {
        if (isIPv6 || port is not null)
        {
            return new RegistryKindDetails(RegistryKind.Generic);
        }

        if (name == DockerHubName)
        {
            return new RegistryKindDetails(RegistryKind.DockerHub);
        }

        if (name is DockerHubApiHost or "registry.hub.docker.com")
        {
            return new RegistryKindDetails(RegistryKind.DockerHub);
        }

        if (EcrPrivateHost().Match(name) is { Success: true } ecr)
        {
            var partition = ecr.Groups["partition"].Value;
            return new RegistryKindDetails(
                RegistryKind.EcrPrivate,
                AccountId: ecr.Groups["account"].Value,
                Region: ecr.Groups["region"].Value,
                Partition: partition,
                IsFips: ecr.Groups["fips"].Success,
                IsDualStack: partition is "on.aws" or "on.amazonwebservices.com.cn");
        }

        if (name is "public.ecr.aws" or "ecr-public.aws.com")
        {
            return new RegistryKindDetails(RegistryKind.EcrPublic, IsDualStack: name == "ecr-public.aws.com");
        }

        if (GcrHosts.Contains(name))
        {
            return new RegistryKindDetails(RegistryKind.Gcr);
        }

        if (ArtifactRegistryHost().Match(name) is { Success: true } gar)
        {
            return new RegistryKindDetails(RegistryKind.ArtifactRegistry, Region: gar.Groups["region"].Value);
        }

        if (AcrHost().Match(name) is { Success: true } acr)
        {
            return new RegistryKindDetails(RegistryKind.Acr, RegistryName: acr.Groups["name"].Value);
        }

        return name switch
        {
            "ghcr.io" => new RegistryKindDetails(RegistryKind.Ghcr),
            "quay.io" => new RegistryKindDetails(RegistryKind.Quay),
            "mcr.microsoft.com" => new RegistryKindDetails(RegistryKind.Mcr),
            _ => new RegistryKindDetails(RegistryKind.Generic),
        };
    }

    /// <inheritdoc/>
    public bool Equals(RegistryHost? other) => other is not null && string.Equals(Name, other.Name, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as RegistryHost);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Name);

    /// <summary>The canonical <see cref="Name"/>.</summary>
    public override string ToString() => Name;

    /// <summary>Equal when the canonical names are.</summary>
    public static bool operator ==(RegistryHost? left, RegistryHost? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Different when the canonical names are.</summary>
    public static bool operator !=(RegistryHost? left, RegistryHost? right) => !(left == right);

    // distribution/reference: domain-name-component (?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]), joined by dots.
    [GeneratedRegex(@"^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*\z", RegexOptions.CultureInvariant)]
    private static partial Regex DomainName();

    [GeneratedRegex(@"^[a-fA-F0-9:]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex IPv6Literal();

    // As awslabs/amazon-ecr-credential-helper ecr-login/api/client.go (ecrPattern, commit 2a415207) recognises
    // them, on the lower-cased name: dkr.ecr or dkr-ecr, optionally -fips, in every partition (commercial,
    // China, GovCloud, the ISO partitions, the EU Sovereign Cloud) and their dual-stack suffixes.
    [GeneratedRegex(@"^(?<account>[0-9]{12})\.dkr[.-]ecr(?<fips>-fips)?\.(?<region>[a-z0-9][a-z0-9_-]*)\.(?<partition>amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)\z", RegexOptions.CultureInvariant)]
    private static partial Regex EcrPrivateHost();

    [GeneratedRegex(@"^(?<region>[a-z0-9]+(?:-[a-z0-9]+)*)-docker\.pkg\.dev\z", RegexOptions.CultureInvariant)]
    private static partial Regex ArtifactRegistryHost();

    // Registry names are 5-50 alphanumerics; a domain-name-label-scoped login server adds "-HASH".
    [GeneratedRegex(@"^(?<name>[a-z0-9]{5,50})(?:-[a-z0-9]+)?\.azurecr\.(?:io|cn|us)\z", RegexOptions.CultureInvariant)]
    private static partial Regex AcrHost();
}
