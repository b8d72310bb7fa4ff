using System.Diagnostics.CodeAnalysis;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.DockerConfigJson;

/// <summary>An input that is wrong: the field path (<c>server</c>, <c>registries[2].server</c>) and what is wrong with it.</summary>
/// <param name="Field">The path of the input, as the user wrote it in their program.</param>
/// <param name="Message">What is wrong, without the field name; never a secret.</param>
public sealed record FieldError(string Field, string Message)
{
    /// <summary>An <see cref="RegistryErrorKind.InvalidInput"/> exception saying <c>field: message</c>.</summary>
    public RegistryException ToException() => new(RegistryErrorKind.InvalidInput, ToString());

    /// <summary><c>field: message</c>.</summary>
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>
/// The dockerconfigjson keys to write for one registry server so that the kubelet finds the credential for
/// every image the user gives (see <see cref="KubeletKeyring"/> for how it matches). The one place where a
/// server becomes pull Secret keys: RegistryProfile, PullSecret, ClusterRegistryAccess and the refresher call it.
/// <list type="bullet">
/// <item>Docker Hub (<c>docker.io</c>, <c>index.docker.io</c>, <c>https://index.docker.io/v1/</c>): <c>https://index.docker.io/v1/</c>, which the kubelet uses for every Docker Hub image no other key matched;</item>
/// <item><c>registry-1.docker.io</c>, <c>registry.hub.docker.com</c>: that key and the host's own, because an image written with that host is looked up under it;</item>
/// <item>any other host: the host as written (the kubelet compares label case as written), plus the spelling of each
/// image that writes the host in another case;</item>
/// <item>a repository prefix (<c>host/team</c>) stays on every key (<c>/v1/</c> or <c>/v2/</c> before it is dropped, as the kubelet drops it).</item>
/// </list>
/// </summary>
public sealed record PullSecretKeys
{
    private PullSecretKeys(RegistryHost host, string path, IReadOnlyList<string> keys)
    {
        Host = host;
        Path = path;
        Keys = keys;
    }

    /// <summary>The registry (canonical, lower-case <see cref="RegistryHost.Name"/>).</summary>
    public RegistryHost Host { get; }

    /// <summary>The repository prefix of the server, empty for the whole registry.</summary>
    public string Path { get; }

    /// <summary>The keys to write, the primary one first; every key carries the same credential.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>The key written first (the one outputs name).</summary>
    public string PrimaryKey => Keys[0];

    /// <summary>The keys for <paramref name="server"/> and the <paramref name="images"/> meant to pull with it.</summary>
    /// <exception cref="RegistryException">Kind InvalidInput: <c>field: what is wrong</c>.</exception>
    public static PullSecretKeys For(string server, IEnumerable<string>? images = null, string field = "server") =>
        TryFor(server, images, field, out var keys, out var error) ? keys : throw error.ToException();

    /// <summary>Like <see cref="For"/>, returning the field error instead of throwing. Images that do not parse are
    /// left to the caller's own validation of them.</summary>
    public static bool TryFor([NotNullWhen(true)] string? server, IEnumerable<string>? images, string field,
        [NotNullWhen(true)] out PullSecretKeys? keys, [NotNullWhen(false)] out FieldError? error)
    {
        keys = null;
        if (!RegistryHost.TrySplitServer(server, out var hostPart, out var path, out var message)
            || !RegistryHost.TryParseDomain(hostPart, out var host, out message))
        {
            error = new FieldError(field, message);
            return false;
        }

        path = path is "v1" or "v2" ? ""
            : path.StartsWith("v1/", StringComparison.Ordinal) || path.StartsWith("v2/", StringComparison.Ordinal) ? path[3..]
            : path;
        if (path.Length > 0 && (path.AsSpan().IndexOfAny(':', '@') >= 0 || !ImageReference.TryParse($"{host.Name}/{path}", out _, out message)))
        {
            error = new FieldError(field, $"repository prefix \"{RegistryHost.Shorten(path)}\" is not a repository path (lowercase components separated by '/', no tag or digest)");
            return false;
        }

        var written = new List<string>();
        foreach (var spelling in SpellingsOf(host))
        {
            Add(written, KeyOf(spelling, path));
        }

        foreach (var text in images ?? [])
        {
            if (ImageReference.TryParse(text, out var image) && IsMeantFor(image, host, path) && KubeletKeyring.KeysFor(written, image).Count == 0)
            {
                Add(written, KeyOf(image.Registry, path));
            }
        }

        keys = new PullSecretKeys(host, path, written);
        error = null;
        return true;
    }

    /// <summary>
    /// These keys, then each of <paramref name="given"/> not among them (RegistryProfile's <c>pullSecretKeys</c>
    /// output, which adds the spellings its images use); each must name this registry and prefix.
    /// </summary>
    /// <param name="given">The keys a user gave for this server.</param>
    /// <param name="field">The entry's field path; a bad key is <c>field.keys[i]</c>.</param>
    /// <param name="keys">All keys to write, these first.</param>
    /// <param name="error">What is wrong with a given key.</param>
    public bool TryWith(IReadOnlyList<string> given, string field, out IReadOnlyList<string> keys, [NotNullWhen(false)] out FieldError? error)
    {
        ArgumentNullException.ThrowIfNull(given);
        var written = Keys.ToList();
        keys = written;
        for (var i = 0; i < given.Count; i++)
        {
            var at = $"{field}.keys[{i}]";
            if (!TryFor(given[i], null, at, out var other, out error))
            {
                return false;
            }
            if (!SameService(other.Host, Host) || other.Path != Path)
            {
                error = new FieldError(at, $"'{RegistryHost.Shorten(given[i])}' names another registry than server {PrimaryKey}; give the keys of this server only (RegistryProfile's pullSecretKeys)");
                return false;
            }
            Add(written, given[i]);
        }

        error = null;
        return true;
    }

    /// <summary>
    /// The first pair of <paramref name="servers"/> that would write one key twice or race for it: two that name one
    /// registry and prefix (the same host in another case, or <c>docker.io</c> beside <c>https://index.docker.io/v1/</c>),
    /// or two registries to the core that share a key to the kubelet (<c>docker.io</c> and <c>registry-1.docker.io</c>
    /// both write <c>https://index.docker.io/v1/</c>). Null when all are distinct.
    /// </summary>
    public static FieldError? FindDuplicate(IEnumerable<(string Field, PullSecretKeys Keys)> servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var seen = new Dictionary<(string, string), string>();
        var written = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (field, keys) in servers)
        {
            var identity = (keys.Host.Name, keys.Path);
            if (seen.TryGetValue(identity, out var earlier))
            {
                return new FieldError(field, $"names the same registry as {earlier} ({keys.Host.Name}{(keys.Path.Length == 0 ? "" : "/" + keys.Path)}, host names compare without case); "
                    + "give it once: the keys the kubelet needs for each spelling of its images are written from one entry");
            }

            seen[identity] = field;
            foreach (var key in keys.Keys)
            {
                if (written.TryGetValue(key, out var other))
                {
                    return new FieldError(field, $"writes the key {key} that {other} writes too; give one entry for the registry");
                }

                written[key] = field;
            }
        }

        return null;
    }

    private static IEnumerable<RegistryHost> SpellingsOf(RegistryHost host) =>
        host.IsDockerHubAlias ? [RegistryHost.DockerHub, host] : [host];

    private static string KeyOf(RegistryHost host, string path) =>
        path.Length == 0 ? host.DockerConfigKey : $"{host.Spelling}/{path}";

    // One service: the same host in any case, or any two Docker Hub hosts without a port.
    private static bool SameService(RegistryHost a, RegistryHost b) =>
        a == b || (a.Kind == RegistryKind.DockerHub && b.Kind == RegistryKind.DockerHub && a.Port is null && b.Port is null);

    // An image is meant for this server when it is on the same service and inside the prefix.
    private static bool IsMeantFor(ImageReference image, RegistryHost host, string path) =>
        SameService(image.Registry, host)
            && (path.Length == 0 || image.Repository == path || image.Repository.StartsWith(path + "/", StringComparison.Ordinal));

    private static void Add(List<string> keys, string key)
    {
        if (!keys.Contains(key, StringComparer.Ordinal))
        {
            keys.Add(key);
        }
    }
}
