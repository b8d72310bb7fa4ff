using System.Diagnostics.CodeAnalysis;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.DockerConfigJson;

/// <summary>
/// A dockerconfigjson key reduced to what matching needs: the registry host and an optional repository
/// path prefix. <c>https://index.docker.io/v1/</c>, <c>docker.io</c> and <c>http://docker.io/</c> are the
/// same key; <c>/v1</c> and <c>/v2</c> after the host are API versions, not repositories.
/// </summary>
internal sealed record ServerKey(RegistryHost Host, string Path)
{
    internal static bool TryParse(string key, [NotNullWhen(true)] out ServerKey? server, [NotNullWhen(false)] out string? error)
    {
        server = null;
        if (!RegistryHost.TrySplitServer(key, out var hostPart, out var path, out error)
            || !RegistryHost.TryParseDomain(hostPart, out var host, out error))
        {
            return false;
        }

        if (path is "v1" or "v2")
        {
            path = "";
        }

        server = new ServerKey(host, path);
        return true;
    }

    /// <summary>The server of <paramref name="key"/>, or null for a key that is not a registry host (kept, never matched).</summary>
    internal static ServerKey? ParseOrNull(string key) => TryParse(key, out var server, out _) ? server : null;

    /// <summary>The key as this project writes it: Docker Hub's legacy URL for the whole of Docker Hub, else host[/path].</summary>
    internal string CanonicalKey => Path.Length == 0 ? Host.DockerConfigKey : $"{Host.Spelling}/{Path}";
}
