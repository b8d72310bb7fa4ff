namespace RegistryInfra.Provider.Resources.RegistryProfile;

/// <summary>
/// The registry key of a dockerconfigjson `auths` map. The registry-core branch replaces this with its
/// RegistryHost type; the rules here are the ones the docker CLI applies.
/// </summary>
internal static class RegistryServer
{
    public const string DockerHubKey = "https://index.docker.io/v1/";

    private static readonly HashSet<string> DockerHubAliases = new(StringComparer.Ordinal)
    {
        "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com",
    };

    /// <summary>The normalised key, or the reason <paramref name="server"/> is not a registry host.</summary>
    public static (string? Key, string? Error) Normalise(string server)
    {
        var text = server.Trim();
        if (text.Length == 0)
        {
            return (null, "must not be empty");
        }
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            var scheme = text[..schemeEnd].ToLowerInvariant();
            if (scheme is not ("https" or "http"))
            {
                return (null, $"scheme '{scheme}' is not supported; use a bare host or https://host");
            }
            text = text[(schemeEnd + 3)..];
        }
        text = text.TrimEnd('/');
        var host = text.ToLowerInvariant();
        if (host.Length == 0)
        {
            return (null, "must name a host");
        }
        if (DockerHubAliases.Contains(host) || host == "index.docker.io/v1")
        {
            return (DockerHubKey, null);
        }
        if (host.Contains('/', StringComparison.Ordinal))
        {
            return (null, $"must be a host without a path, got '{server}' (a repository goes in the image reference, not the server)");
        }
        if (host.Any(c => char.IsWhiteSpace(c) || c is '@' or '?' or '#'))
        {
            return (null, $"'{server}' is not a valid host name");
        }
        var colon = host.LastIndexOf(':');
        if (colon >= 0 && !host.StartsWith('[') && (!int.TryParse(host[(colon + 1)..], out var port) || port is < 1 or > 65535))
        {
            return (null, $"port in '{server}' must be a number from 1 to 65535");
        }
        return (host, null);
    }
}
