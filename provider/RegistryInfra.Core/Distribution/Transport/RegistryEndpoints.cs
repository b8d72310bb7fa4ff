namespace RegistryInfra.Core.Distribution.Transport;

/// <summary>
/// Per-host endpoint settings: which registries are reached over plain HTTP and so their base URIs. As in
/// go-containerregistry's <c>name.Registry.Scheme()</c> and <c>transport/schemer.go</c>, a registry is HTTPS
/// unless the user declared it insecure; nothing a server sends can change that.
/// </summary>
internal sealed class RegistryEndpoints(IEnumerable<string> insecure)
{
    private readonly HashSet<string> _insecure = new(insecure, StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="authority"/> (<c>host[:port]</c>) was declared to be reached over HTTP.</summary>
    public bool IsInsecure(string authority) => _insecure.Contains(authority);

    /// <summary><c>https://registry/</c>, or <c>http://registry/</c> for a declared insecure registry.</summary>
    public Uri BaseUri(string registry) => new((IsInsecure(registry) ? "http://" : "https://") + registry + "/");
}
