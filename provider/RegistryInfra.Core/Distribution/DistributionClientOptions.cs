using System.Reflection;
using System.Security.Cryptography.X509Certificates;

namespace RegistryInfra.Core.Distribution;

/// <summary>Settings of a <see cref="DistributionClient"/>.</summary>
public sealed class DistributionClientOptions
{
    /// <summary>The longest one HTTP exchange (request and body) may take. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest one operation (a resolve, a manifest fetch, a credential check: every exchange, token request
    /// and redirect it takes) may take, so a registry that answers each request late cannot stretch it. Default 60 s.
    /// </summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest a TCP connect and TLS handshake may take. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Extra root certificates trusted for TLS (a private registry's CA). A server chain is accepted when it
    /// validates against the system roots or against these roots; the host name must match either way.
    /// </summary>
    public X509Certificate2Collection TrustedRootCertificates { get; init; } = [];

    /// <summary>
    /// Registries (<c>host[:port]</c>, compared without case) reached over plain HTTP. Every other registry,
    /// its token service and redirects from it use HTTPS only.
    /// </summary>
    public IReadOnlyCollection<string> InsecureRegistries { get; init; } = [];

    /// <summary>The most redirects followed for one manifest or blob GET. Default 5.</summary>
    public int MaxRedirects { get; init; } = 5;

    /// <summary>A cached bearer token is renewed this long before it expires (at most half its lifetime). Default 10 s.</summary>
    public TimeSpan TokenRenewalMargin { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The <c>User-Agent</c> header. Default <c>registryinfra/VERSION</c>.</summary>
    public string UserAgent { get; init; } = DefaultUserAgent;

    /// <summary><c>registryinfra/</c> and the version of this assembly.</summary>
    public static string DefaultUserAgent { get; } = "registryinfra/" + AssemblyVersion();

    internal void Validate()
    {
        if (RequestTimeout <= TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"{nameof(RequestTimeout)} must be positive, got {RequestTimeout}");
        }
        if (OperationTimeout <= TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"{nameof(OperationTimeout)} must be positive, got {OperationTimeout}");
        }
        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"{nameof(ConnectTimeout)} must be positive, got {ConnectTimeout}");
        }
        if (MaxRedirects is < 0 or > 20)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"{nameof(MaxRedirects)} must be between 0 and 20, got {MaxRedirects}");
        }
        if (TokenRenewalMargin < TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"{nameof(TokenRenewalMargin)} must not be negative, got {TokenRenewalMargin}");
        }
        if (string.IsNullOrWhiteSpace(UserAgent))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"{nameof(UserAgent)} must not be empty");
        }
        foreach (var registry in InsecureRegistries)
        {
            RegistryInput.Authority(registry, nameof(InsecureRegistries));
        }
    }

    private static string AssemblyVersion()
    {
        var version = typeof(DistributionClientOptions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
}
