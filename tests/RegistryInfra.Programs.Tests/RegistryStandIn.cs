using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Programs.Tests;

/// <summary>
/// Stands in for the public registries a program names (ghcr.io, docker.io, quay.io, a self-hosted host): an
/// HTTPS proxy on 127.0.0.1 that the plugin is pointed at (<c>HTTPS_PROXY</c>) answers every CONNECT by
/// terminating TLS with a certificate for the asked host, issued by a test CA that the plugin trusts
/// (<c>SSL_CERT_FILE</c>), and passes the bytes to one anonymous local <c>docker-registry</c>. Nothing leaves the
/// machine; credential checks against real accounts are the registry tests' business.
/// </summary>
internal sealed class RegistryStandIn : IAsyncDisposable
{
    private readonly TestCertificateAuthority _ca = new("RegistryInfra Program Test CA");
    private readonly ConcurrentDictionary<string, X509Certificate2> _certificates = new(StringComparer.OrdinalIgnoreCase);
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _caFile;
    private LocalRegistry _registry = null!;
    private Task _accepting = Task.CompletedTask;

    private RegistryStandIn()
    {
        _caFile = Path.Combine(Path.GetTempPath(), $"registryinfra-program-ca-{Guid.NewGuid():N}.pem");
        _ca.WriteRootPem(_caFile);
    }

    /// <summary>The test CA's certificate, for a program's <c>caCertificates</c> input.</summary>
    public string CaPem => _ca.Root.ExportCertificatePem();

    /// <summary>What the plugin's environment needs to reach the stand-in.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["HTTPS_PROXY"] = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}",
        ["NO_PROXY"] = "",
        ["SSL_CERT_FILE"] = _caFile,
    };

    /// <summary>Hosts that asked for a tunnel, in order.</summary>
    public ConcurrentQueue<string> Hosts { get; } = new();

    public static async Task<RegistryStandIn> StartAsync(CancellationToken cancellationToken)
    {
        var standIn = new RegistryStandIn();
        standIn._registry = await LocalRegistry.StartAsync(LocalRegistryMode.PlainHttp, cancellationToken);
        standIn._listener.Start();
        standIn._accepting = standIn.AcceptAsync();
        return standIn;
    }

    /// <summary>Puts an image at <paramref name="repository"/>:<paramref name="tag"/> (on every stood-in host).</summary>
    public Task PushAsync(string repository, string tag, CancellationToken cancellationToken) =>
        _registry.PushAsync(repository, tag, [new TestImage("linux", "amd64", null, $"{repository}:{tag} amd64"), new TestImage("linux", "arm64", "v8", $"{repository}:{tag} arm64")], cancellationToken);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => TunnelAsync(client));
        }
    }

    private async Task TunnelAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var head = await ReadHeadAsync(stream);
            var requestLine = head.Split("\r\n")[0].Split(' ');
            if (requestLine.Length < 2 || requestLine[0] != "CONNECT")
            {
                await stream.WriteAsync("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), _stop.Token);
                return;
            }
            var host = requestLine[1].Split(':')[0];
            Hosts.Enqueue(host);
            await stream.WriteAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), _stop.Token);
            using var tls = new SslStream(stream);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificates.GetOrAdd(host, h => _ca.IssueServerCertificate(h)),
                ApplicationProtocols = [SslApplicationProtocol.Http11],
            }, _stop.Token);
            using var upstream = new TcpClient();
            var authority = _registry.Authority.Split(':');
            await upstream.ConnectAsync(IPAddress.Loopback, int.Parse(authority[^1], System.Globalization.CultureInfo.InvariantCulture), _stop.Token);
            var up = upstream.GetStream();
            await Task.WhenAny(tls.CopyToAsync(up, _stop.Token), up.CopyToAsync(tls, _stop.Token));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // The client went away or gave up; the test sees the failure in the plugin's answer.
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && head.Length < 8192)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                break;
            }
            head.Append((char)one[0]);
        }
        return head.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await _registry.DisposeAsync();
        foreach (var certificate in _certificates.Values)
        {
            certificate.Dispose();
        }
        _ca.Dispose();
        File.Delete(_caFile);
        _stop.Dispose();
    }
}
