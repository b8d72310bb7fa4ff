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
    /// The first pair of <paramref name="servers"/> that name one registry and prefix (the same host in another case,
    /// or <c>docker.io</c> beside <c>https://index.docker.io/v1/</c>): two entries would write one key twice or race
    /// for it. Null when all are distinct.
    /// </summary>
    public static FieldError? FindDuplicate(IEnumerable<(string Field, PullSecretKeys Keys)> servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var seen = new Dictionary<(string, string), string>();
        foreach (var (field, keys) in servers)
        {
            var identity = (keys.Host.Name, keys.Path);
            if (seen.TryGetValue(identity, out var earlier))
            {
                return new FieldError(field, $"names the same registry as {earlier} ({keys.Host.Name}{(keys.Path.Length == 0 ? "" : "/" + keys.Path)}, host names compare without case); "
                    + "give it once: the keys the kubelet needs for each spelling of its images are written from one entry");
            }

            seen[identity] = field;
        }

        return null;
    }

    private static IEnumerable<RegistryHost> SpellingsOf(RegistryHost host) =>
        host.IsDockerHubAlias ? [RegistryHost.DockerHub, host] : [host];

    private static string KeyOf(RegistryHost host, string path) =>
        path.Length == 0 ? host.DockerConfigKey : $"{host.Spelling}/{path}";

    // An image is meant for this server when it is on the same service (any case; any Docker Hub host for a Docker Hub
    // server) and inside the prefix.
    private static bool IsMeantFor(ImageReference image, RegistryHost host, string path)
    {
        var sameService = image.Registry == host
            || (image.Registry.Kind == RegistryKind.DockerHub && host.Kind == RegistryKind.DockerHub && image.Registry.Port is null && host.Port is null);
        return sameService
            && (path.Length == 0 || image.Repository == path || image.Repository.StartsWith(path + "/", StringComparison.Ordinal));
    }

    private static void Add(List<string> keys, string key)
    {
        if (!keys.Contains(key, StringComparer.Ordinal))
        {
            keys.Add(key);
        }
    }
}
