using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using RegistryInfra.Core.Distribution;

namespace RegistryInfra.Provider;

/// <summary>How to reach one registry over TLS: the extra CAs to trust for it, or plain HTTP.</summary>
internal sealed record RegistryTls(string? CaCertificatesPem, string? InsecureRegistry)
{
    public static RegistryTls Default { get; } = new(null, null);

    /// <summary>The settings for <paramref name="apiHost"/>, or the reason the inputs are not valid.</summary>
    public static (RegistryTls? Tls, IReadOnlyList<(string Field, string Reason)> Failures) Parse(string? caCertificates, bool insecure, string? apiHost)
    {
        var failures = new List<(string, string)>();
        if (!string.IsNullOrWhiteSpace(caCertificates))
        {
            if (ReadCertificates(caCertificates, out var error) is null)
            {
                failures.Add(("caCertificates", error!));
            }
            if (insecure)
            {
                failures.Add(("insecure", "plain HTTP has no TLS: set either caCertificates or insecure, not both"));
            }
        }
        return (failures.Count == 0 ? new RegistryTls(string.IsNullOrWhiteSpace(caCertificates) ? null : caCertificates, insecure ? apiHost : null) : null, failures);
    }

    internal static X509Certificate2Collection? ReadCertificates(string pem, out string? error)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            error = $"is not valid PEM: {e.Message}";
            return null;
        }
        if (collection.Count == 0)
        {
            error = "holds no PEM certificate (expected one or more '-----BEGIN CERTIFICATE-----' blocks)";
            return null;
        }
        error = null;
        return collection;
    }
}

/// <summary>
/// The distribution clients of the provider process, so connections, challenges and bearer tokens are shared
/// by every resource and function: one client for registries reached with the system's trust, and one per
/// distinct private-CA or plain-HTTP setting (a profile's CA is trusted for its own registry only).
/// </summary>
internal sealed class RegistryConnections(TimeProvider? time = null, Func<DelegatingHandler>? outerHandler = null) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<DistributionClient>> _clients = new(StringComparer.Ordinal);

    /// <summary>The overall deadline of one operation over registries (provider configuration <c>registryDeadlineSeconds</c>).</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromSeconds(ProviderSettings.DefaultDeadlineSeconds);

    /// <summary>Starts the overall deadline of one Check, Create, Update or Invoke.</summary>
    public RegistryDeadline StartDeadline(CancellationToken cancellationToken) => new(Deadline, time ?? TimeProvider.System, cancellationToken);

    /// <summary>The client for registries reached with <paramref name="tls"/>.</summary>
    public DistributionClient For(RegistryTls tls)
    {
        var key = $"{tls.InsecureRegistry}\n{(tls.CaCertificatesPem is null ? "" : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(tls.CaCertificatesPem))))}";
        return _clients.GetOrAdd(key, _ => new Lazy<DistributionClient>(() => Create(tls))).Value;
    }

    private DistributionClient Create(RegistryTls tls)
    {
        var roots = tls.CaCertificatesPem is null ? [] : RegistryTls.ReadCertificates(tls.CaCertificatesPem, out _) ?? [];
        return new DistributionClient(new DistributionClientOptions
        {
            TrustedRootCertificates = roots,
            InsecureRegistries = tls.InsecureRegistry is null ? [] : [tls.InsecureRegistry],
        }, time, outerHandler?.Invoke());
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values.Where(c => c.IsValueCreated))
        {
            client.Value.Dispose();
        }
    }
}
