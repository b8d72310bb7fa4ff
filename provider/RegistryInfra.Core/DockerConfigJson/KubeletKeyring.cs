using System.Globalization;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.DockerConfigJson;

/// <summary>
/// Which dockerconfigjson keys the kubelet would use for an image, decided as
/// k8s.io/kubernetes <c>pkg/credentialprovider/keyring.go</c> decides it (<c>BasicDockerKeyring.Add</c> and
/// <c>Lookup</c>, <c>URLsMatch</c>, <c>isDefaultRegistryMatch</c>):
/// <list type="bullet">
/// <item>a key is read as a URL (<c>https://</c> added when it has no scheme); a leading <c>/v1/</c> or <c>/v2/</c>
/// of its path is dropped; a key that does not parse as a URL is ignored;</item>
/// <item>a key matches the image's name (<c>Named.Name()</c>: host as written, <c>index.docker.io</c> folded into
/// <c>docker.io</c>, no tag) when the ports are equal, the hosts have as many dot-separated labels and each label
/// matches as a <c>filepath.Match</c> glob (case-sensitive), and the key's path is a string prefix of the image's
/// path (<c>host/team</c> also covers <c>host/teammate/app</c>);</item>
/// <item>all matching keys are used, the reverse-sorted key first (the most specific prefix first); when none
/// matches, an image on Docker Hub uses the keys whose host is <c>index.docker.io</c> with no path.</item>
/// </list>
/// The kubelet tries each matching credential in turn until a pull succeeds; <see cref="KeyFor"/> is the first it tries.
/// </summary>
public static class KubeletKeyring
{
    /// <summary>The host whose keys the kubelet uses for Docker Hub images no other key matched (keyring.go defaultRegistryHost).</summary>
    public const string DefaultRegistryHost = "index.docker.io";

    /// <summary>The keys of <paramref name="keys"/> the kubelet would try for <paramref name="image"/>, in the order it tries them.</summary>
    public static IReadOnlyList<string> KeysFor(IEnumerable<string> keys, ImageReference image)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(image);
        return KeysFor(keys, image.Name);
    }

    /// <summary>The keys the kubelet would try for the image name <paramref name="imageName"/> (host/path, as
    /// <c>reference.ParseNormalizedNamed(image).Name()</c> gives it), in order.</summary>
    public static IReadOnlyList<string> KeysFor(IEnumerable<string> keys, string imageName)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(imageName);
        // keyring.go indexes credentials by the reduced key; several spellings of one reduced key share its slot
        // (in Go map order, which is random: ordinal order here).
        var index = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var key in keys.Order(StringComparer.Ordinal))
        {
            if (Reduce(key) is { } reduced)
            {
                if (!index.TryGetValue(reduced, out var spellings))
                {
                    index[reduced] = spellings = [];
                }

                spellings.Add(key);
            }
        }

        var matched = new List<string>();
        if (SplitUrl(imageName) is { } target)
        {
            foreach (var (reduced, spellings) in index.Reverse())
            {
                if (SplitUrl(reduced) is { } glob && Matches(glob, target))
                {
                    matched.AddRange(spellings);
                }
            }
        }

        if (matched.Count == 0 && IsDefaultRegistryMatch(imageName) && index.TryGetValue(DefaultRegistryHost, out var hub))
        {
            matched.AddRange(hub);
        }

        return matched;
    }

    /// <summary>The key the kubelet would try first for <paramref name="image"/>, or null when it would pull anonymously.</summary>
    public static string? KeyFor(IEnumerable<string> keys, ImageReference image) => KeysFor(keys, image) is [var first, ..] ? first : null;

    /// <summary>True when the kubelet would use <paramref name="key"/> for <paramref name="image"/> (alone in a Secret).</summary>
    public static bool Covers(string key, ImageReference image) => KeysFor([key], image).Count == 1;

    /// <summary>
    /// The key as keyring.go indexes it: host[:port] plus the path, without scheme and without a leading
    /// <c>/v1</c> or <c>/v2</c> before a <c>/</c>; null for a key Go's <c>url.Parse</c> rejects (the kubelet logs and skips it).
    /// </summary>
    public static string? Reduce(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var value = key.StartsWith("https://", StringComparison.Ordinal) || key.StartsWith("http://", StringComparison.Ordinal)
            ? key
            : "https://" + key;
        var rest = value[(value.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var end = rest.IndexOfAny(['/', '?', '#']);
        var host = end < 0 ? rest : rest[..end];
        var path = end < 0 || rest[end] != '/' ? "" : rest[end..];
        var pathEnd = path.IndexOfAny(['?', '#']);
        if (pathEnd >= 0)
        {
            path = path[..pathEnd];
        }

        if (host.Contains('@', StringComparison.Ordinal))
        {
            host = host[(host.LastIndexOf('@') + 1)..];
        }

        if (!IsGoUrlHost(host) || path.Any(c => c < 0x20 || c == 0x7f || c == ' '))
        {
            return null;
        }

        if (path.StartsWith("/v2/", StringComparison.Ordinal) || path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            path = path[3..];
        }

        return path.Length > 0 && path != "/" ? host + path : host;
    }

    // net/url parseHost and validOptionalPort: no spaces or control characters, a port of digits only,
    // IPv6 only in brackets. Percent-escapes in a host are rare in keys and kept out (the kubelet would unescape them).
    private static bool IsGoUrlHost(string host)
    {
        if (host.Any(c => c <= 0x20 || c == 0x7f || c is '%' or '"' or '<' or '>' or '\\' or '^' or '`' or '{' or '|' or '}'))
        {
            return false;
        }

        string port;
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            port = host[(close + 1)..];
            if (port.Length > 0 && port[0] != ':')
            {
                return false;
            }
        }
        else
        {
            var colon = host.LastIndexOf(':');
            port = colon < 0 ? "" : host[colon..];
        }

        return port.Length == 0 || port[1..].All(char.IsAsciiDigit);
    }

    private sealed record SplitTarget(string[] Labels, string Port, string Path);

    // keyring.go ParseSchemelessURL + splitURL: net.SplitHostPort, else the whole host with no port.
    private static SplitTarget? SplitUrl(string schemeless)
    {
        var slash = schemeless.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? schemeless : schemeless[..slash];
        var path = slash < 0 ? "" : schemeless[slash..];
        if (!IsGoUrlHost(host))
        {
            return null;
        }

        string name;
        var port = "";
        if (host.StartsWith('[') && host.IndexOf("]:", StringComparison.Ordinal) is var close and >= 0)
        {
            name = host[1..close];
            port = host[(close + 2)..];
        }
        else if (!host.StartsWith('[') && host.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0 && host.IndexOf(':', colon + 1) < 0)
        {
            name = host[..colon];
            port = host[(colon + 1)..];
        }
        else
        {
            name = host;
        }

        return new SplitTarget(name.Split('.'), port, path);
    }

    private static bool Matches(SplitTarget glob, SplitTarget target)
    {
        if (glob.Port != target.Port || glob.Labels.Length != target.Labels.Length || !target.Path.StartsWith(glob.Path, StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = 0; i < glob.Labels.Length; i++)
        {
            if (!FilepathGlob.Match(glob.Labels[i], target.Labels[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>keyring.go isDefaultRegistryMatch: a name whose first component has no <c>.</c> or <c>:</c>, or is <c>docker.io</c> or <c>index.docker.io</c>.</summary>
    internal static bool IsDefaultRegistryMatch(string imageName)
    {
        var slash = imageName.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? imageName : imageName[..slash];
        if (first.Length == 0)
        {
            return false;
        }

        return slash < 0 || first is RegistryHost.DockerHubName or DefaultRegistryHost || first.AsSpan().IndexOfAny('.', ':') < 0;
    }

    /// <summary>The kubelet's verdict for one image, for messages: which key, or that it pulls anonymously.</summary>
    public static string Describe(IEnumerable<string> keys, ImageReference image) =>
        KeyFor(keys, image) is { } key
            ? string.Create(CultureInfo.InvariantCulture, $"the kubelet uses the key \"{key}\" for {image}")
            : string.Create(CultureInfo.InvariantCulture, $"the kubelet finds no key for {image} and pulls it anonymously");
}

/// <summary>Go's <c>path/filepath.Match</c> on one host label: <c>*</c>, <c>?</c>, <c>[...]</c> classes with ranges
/// and <c>^</c> negation, <c>\</c> escapes; a malformed pattern matches nothing (keyring.go treats the error as no match).</summary>
internal static class FilepathGlob
{
    public static bool Match(string pattern, string name) => Match(pattern.AsSpan(), name.AsSpan()) ?? false;

    private static bool? Match(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        if (pattern.IsEmpty)
        {
            return name.IsEmpty;
        }

        switch (pattern[0])
        {
            case '*':
                for (var i = 0; i <= name.Length; i++)
                {
                    if (i > 0 && name[i - 1] == '/')
                    {
                        break;
                    }

                    var rest = Match(pattern[1..], name[i..]);
                    if (rest is null)
                    {
                        return null;
                    }

                    if (rest.Value)
                    {
                        return true;
                    }
                }

                return ValidRest(pattern[1..]) ? false : null;
            case '?':
                return name.IsEmpty || name[0] == '/' ? (ValidRest(pattern[1..]) ? false : null) : Match(pattern[1..], name[1..]);
            case '[':
                var (matched, consumed) = MatchClass(pattern, name.IsEmpty ? (char?)null : name[0]);
                if (consumed < 0)
                {
                    return null;
                }

                return name.IsEmpty || !matched ? (ValidRest(pattern[consumed..]) ? false : null) : Match(pattern[consumed..], name[1..]);
            case '\\':
                if (pattern.Length < 2)
                {
                    return null;
                }

                return !name.IsEmpty && name[0] == pattern[1] ? Match(pattern[2..], name[1..]) : (ValidRest(pattern[2..]) ? false : null);
            default:
                return !name.IsEmpty && name[0] == pattern[0] ? Match(pattern[1..], name[1..]) : (ValidRest(pattern[1..]) ? false : null);
        }
    }

    // filepath.Match reports ErrBadPattern for a malformed pattern even when an earlier part already failed.
    private static bool ValidRest(ReadOnlySpan<char> pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\')
            {
                if (i + 1 >= pattern.Length)
                {
                    return false;
                }

                i++;
            }
            else if (pattern[i] == '[')
            {
                var (_, consumed) = MatchClass(pattern[i..], null);
                if (consumed < 0)
                {
                    return false;
                }

                i += consumed - 1;
            }
        }

        return true;
    }

    private static (bool Matched, int Consumed) MatchClass(ReadOnlySpan<char> pattern, char? c)
    {
        var i = 1;
        var negated = i < pattern.Length && pattern[i] == '^';
        if (negated)
        {
            i++;
        }

        var matched = false;
        var first = true;
        while (true)
        {
            if (i >= pattern.Length)
            {
                return (false, -1);
            }

            if (pattern[i] == ']' && !first)
            {
                i++;
                break;
            }

            if (!TryClassChar(pattern, ref i, out var lo))
            {
                return (false, -1);
            }

            var hi = lo;
            if (i < pattern.Length && pattern[i] == '-')
            {
                i++;
                if (!TryClassChar(pattern, ref i, out hi))
                {
                    return (false, -1);
                }
            }

            if (c is { } ch && lo <= ch && ch <= hi)
            {
                matched = true;
            }

            first = false;
        }

        return (matched != negated && c is not null, i);
    }

    private static bool TryClassChar(ReadOnlySpan<char> pattern, ref int i, out char c)
    {
        c = '\0';
        if (i >= pattern.Length || pattern[i] is '-' or ']')
        {
            return false;
        }

        if (pattern[i] == '\\')
        {
            i++;
            if (i >= pattern.Length)
            {
                return false;
            }
        }

        c = pattern[i++];
        return true;
    }
}
