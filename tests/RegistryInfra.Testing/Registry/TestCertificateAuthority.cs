using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RegistryInfra.Testing.Registry;

/// <summary>
/// A throwaway certificate authority for tests: a root, server certificates for 127.0.0.1/localhost, and a
/// token signing certificate, all in memory with PEM export for servers that read files.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private readonly ECDsa _rootKey;

    public TestCertificateAuthority(string name = "RegistryInfra Test CA")
    {
        _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _rootKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        Root = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }

    /// <summary>The root certificate, with its private key.</summary>
    public X509Certificate2 Root { get; }

    /// <summary>The root alone (no private key), as a client trusts it.</summary>
    public X509Certificate2 RootPublic => X509CertificateLoader.LoadCertificate(Root.RawData);

    /// <summary>A TLS server certificate for 127.0.0.1, ::1 and localhost (plus <paramref name="extraDnsNames"/>).</summary>
    public X509Certificate2 IssueServerCertificate(params string[] extraDnsNames)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        san.AddDnsName("localhost");
        foreach (var name in extraDnsNames)
        {
            san.AddDnsName(name);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth], false));
        return Issue(request, key);
    }

    /// <summary>A certificate for signing JWTs (ES256), chaining to <see cref="Root"/>.</summary>
    public X509Certificate2 IssueSigningCertificate()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=RegistryInfra Test Token Issuer", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        return Issue(request, key);
    }

    /// <summary>Writes the certificate as PEM and its private key as PKCS#8 PEM; returns both paths.</summary>
    public static (string CertificatePath, string KeyPath) WritePem(X509Certificate2 certificate, string directory, string name)
    {
        var certificatePath = Path.Combine(directory, name + ".crt");
        var keyPath = Path.Combine(directory, name + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("certificate has no EC private key");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return (certificatePath, keyPath);
    }

    /// <summary>Writes the root as PEM to <paramref name="path"/>.</summary>
    public void WriteRootPem(string path) => File.WriteAllText(path, Root.ExportCertificatePem() + "\n");

    public void Dispose()
    {
        Root.Dispose();
        _rootKey.Dispose();
    }

    private X509Certificate2 Issue(CertificateRequest request, ECDsa key)
    {
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Root, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(Root, now.AddDays(-1), now.AddDays(29), serial);
        // Load from PKCS#12 so the key is usable by SslStream on every platform.
        using var withKey = issued.CopyWithPrivateKey(key);
        key.Dispose();
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
