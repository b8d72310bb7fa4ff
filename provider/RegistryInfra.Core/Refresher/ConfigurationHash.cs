using System.Security.Cryptography;
using System.Text;

namespace RegistryInfra.Core.Refresher;

/// <summary>
/// The hash that names a refresher configuration: the TokenRefresher component puts it on the watch Deployment's pod
/// template (<c>registryinfra.io/configuration-hash</c>, so a changed configuration rolls the pods), and the refresher computes
/// it from the text it loaded and records it in the leader-election Lease, so that a standby is ready only once a leader
/// running the same configuration has finished its first full run. One function for both, so they agree by construction.
/// </summary>
public static class ConfigurationHash
{
    /// <summary>The pod-template annotation that carries the hash.</summary>
    public const string Annotation = "registryinfra.io/configuration-hash";

    /// <summary>The first 10 hex digits (lower case) of the SHA-256 of the text's UTF-8 bytes.</summary>
    public static string Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..10];
    }
}
