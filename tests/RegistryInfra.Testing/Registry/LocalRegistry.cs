using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace RegistryInfra.Testing.Registry;

/// <summary>How a <see cref="LocalRegistry"/> is secured.</summary>
public enum LocalRegistryMode
{
    /// <summary>Plain HTTP, no authentication.</summary>
    PlainHttp,
    /// <summary>TLS with the test CA and htpasswd (bcrypt) Basic authentication.</summary>
    HtpasswdTls,
    /// <summary>TLS with the test CA and token authentication through a <see cref="TestTokenIssuer"/>.</summary>
    TokenTls,
}

/// <summary>A user name and password of a test registry.</summary>
public sealed record TestAccount(string Username, string Password)
{
    public override string ToString() => $"TestAccount {{ Username = {Username}, Password = *** }}";
}

/// <summary>
/// The real <c>docker-registry</c> (distribution) on 127.0.0.1 with its own storage, in one of three modes.
/// Images go in with <c>skopeo copy</c> from OCI layouts written by <see cref="OciLayoutWriter"/>.
/// Accounts: <see cref="Admin"/> may push and pull everything; in token mode <see cref="Reader"/> may pull
/// <c>team/*</c> and <c>public/*</c> only, and anonymous users may pull <c>public/*</c>.
/// </summary>
public sealed class LocalRegistry : IAsyncDisposable
{
    private const string RegistryBinary = "docker-registry";
    private readonly List<string> _output = [];
    private readonly HttpClient _http;
    private Process? _process;

    private LocalRegistry(LocalRegistryMode mode, string directory, TestCertificateAuthority? ca)
    {
        Mode = mode;
        Directory = directory;
        Ca = ca;
        Admin = new TestAccount("admin", "adm-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)));
        Reader = new TestAccount("reader", "rdr-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)));
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false };
        if (ca is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (errors == System.Net.Security.SslPolicyErrors.None)
                {
                    return true;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca.Root);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return certificate is X509Certificate2 c && chain.Build(c);
            };
        }
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    public LocalRegistryMode Mode { get; }

    /// <summary>The registry's <c>127.0.0.1:PORT</c>.</summary>
    public string Authority { get; private set; } = "";

    /// <summary>The working folder (storage, config, certificates).</summary>
    public string Directory { get; }

    /// <summary>The CA that issued the registry's TLS certificate (null in plain HTTP mode).</summary>
    public TestCertificateAuthority? Ca { get; }

    /// <summary>The token issuer (token mode only).</summary>
    public TestTokenIssuer? TokenIssuer { get; private set; }

    public TestAccount Admin { get; }

    public TestAccount Reader { get; }

    public bool UsesTls => Mode != LocalRegistryMode.PlainHttp;

    /// <summary>A folder holding <c>ca.crt</c>, for skopeo's <c>--cert-dir</c>.</summary>
    public string CertDirectory => Path.Combine(Directory, "certs");

    public Uri BaseUri => new((UsesTls ? "https://" : "http://") + Authority + "/");

    /// <summary>
    /// Starts a registry (skips or, under CI, fails the calling test when a tool is missing). In htpasswd mode,
    /// <paramref name="htpasswdLine"/> writes each account's line instead of Apache's <c>htpasswd</c> (a test of another
    /// htpasswd writer).
    /// </summary>
    public static Task<LocalRegistry> StartAsync(LocalRegistryMode mode, Func<TestAccount, string> htpasswdLine, CancellationToken cancellationToken = default) =>
        StartCoreAsync(mode, htpasswdLine, cancellationToken);

    /// <summary>Starts a registry (skips or, under CI, fails the calling test when a tool is missing).</summary>
    public static Task<LocalRegistry> StartAsync(LocalRegistryMode mode, CancellationToken cancellationToken = default) =>
        StartCoreAsync(mode, null, cancellationToken);

    private static async Task<LocalRegistry> StartCoreAsync(LocalRegistryMode mode, Func<TestAccount, string>? htpasswdLine, CancellationToken cancellationToken)
    {
        var binary = Requirements.RequireCommand(RegistryBinary, "install the Debian package docker-registry (tests/setup)");
        var htpasswd = mode == LocalRegistryMode.HtpasswdTls && htpasswdLine is null
            ? Requirements.RequireCommand("htpasswd", "install the Debian package apache2-utils (tests/setup)")
            : null;
        var directory = Path.Combine(Path.GetTempPath(), "registryinfra-registry-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var registry = new LocalRegistry(mode, directory, mode == LocalRegistryMode.PlainHttp ? null : new TestCertificateAuthority());
        try
        {
            await registry.StartCoreAsync(binary, htpasswd, htpasswdLine, cancellationToken);
            return registry;
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync(string binary, string? htpasswd, Func<TestAccount, string>? htpasswdLine, CancellationToken cancellationToken)
    {
        var auth = "";
        string tls = "";
        if (Ca is not null)
        {
            System.IO.Directory.CreateDirectory(CertDirectory);
            Ca.WriteRootPem(Path.Combine(CertDirectory, "ca.crt"));
            using var server = Ca.IssueServerCertificate();
            var (certificatePath, keyPath) = TestCertificateAuthority.WritePem(server, Directory, "server");
            tls = $"  tls:\n    certificate: {certificatePath}\n    key: {keyPath}\n";
        }
        if (Mode == LocalRegistryMode.HtpasswdTls)
        {
            var passwords = Path.Combine(Directory, "htpasswd");
            var lines = new StringBuilder();
            foreach (var account in new[] { Admin, Reader })
            {
                // -i reads the password from stdin would need a pipe; -b is fine for a throwaway test secret.
                lines.AppendLine(htpasswdLine is not null
                    ? htpasswdLine(account)
                    : await ExternalCommand.RunTextAsync(htpasswd!, ["-nbB", "-C", "4", account.Username, account.Password], cancellationToken, account.Password));
            }
            await File.WriteAllTextAsync(passwords, lines.ToString(), cancellationToken);
            auth = $"auth:\n  htpasswd:\n    realm: registryinfra-test\n    path: {passwords}\n";
        }
        else if (Mode == LocalRegistryMode.TokenTls)
        {
            var bundle = Path.Combine(Directory, "token-roots.pem");
            Ca!.WriteRootPem(bundle);
            var admin = Admin;
            TokenIssuer = await TestTokenIssuer.StartAsync(Ca,
                [
                    new TokenUser(admin.Username, admin.Password, _ => ["pull", "push"]),
                    new TokenUser(Reader.Username, Reader.Password, repository =>
                        repository.StartsWith("team/", StringComparison.Ordinal) || repository.StartsWith("public/", StringComparison.Ordinal) ? ["pull"] : []),
                ],
                repository => repository.StartsWith("public/", StringComparison.Ordinal) ? ["pull"] : [],
                cancellationToken);
            auth = $"auth:\n  token:\n    realm: {TokenIssuer.Realm}\n    service: {TestTokenIssuer.Service}\n    issuer: {TestTokenIssuer.Issuer}\n    rootcertbundle: {bundle}\n";
        }

        Exception? last = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = FreePort();
            Authority = $"127.0.0.1:{port}";
            var config = Path.Combine(Directory, "config.yml");
            await File.WriteAllTextAsync(config,
                "version: 0.1\n" +
                "log:\n  level: info\n  accesslog:\n    disabled: true\n" +
                $"storage:\n  filesystem:\n    rootdirectory: {Path.Combine(Directory, "storage")}\n  delete:\n    enabled: true\n" +
                "  maintenance:\n    uploadpurging:\n      enabled: false\n" +
                $"http:\n  addr: {Authority}\n  secret: {Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}\n" + tls +
                auth, cancellationToken);
            try
            {
                await LaunchAsync(binary, config, cancellationToken);
                return;
            }
            catch (PortTakenException ex)
            {
                last = ex;
            }
        }
        throw new InvalidOperationException("docker-registry could not bind a free port after 5 attempts", last);
    }

    private sealed class PortTakenException(string message) : Exception(message);

    private async Task LaunchAsync(string binary, string config, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(config);
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (_output)
            {
                _output.Add(e.Data);
            }
            if (e.Data.Contains("listening on", StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }
        };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.Exited += (_, _) => listening.TrySetResult();
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _process = process;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await listening.Task.WaitAsync(timeout.Token);
            while (true)
            {
                if (process.HasExited)
                {
                    await process.WaitForExitAsync(timeout.Token);
                    var log = Log;
                    _process = null;
                    process.Dispose();
                    if (log.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new PortTakenException(log);
                    }
                    throw new InvalidOperationException($"docker-registry exited before it was ready:\n{log}");
                }
                try
                {
                    using var response = await _http.GetAsync(new Uri(BaseUri, "/v2/"), timeout.Token);
                    return; // any HTTP answer (200 or 401) means it serves
                }
                catch (HttpRequestException)
                {
                    // the socket is announced a moment before it accepts; try again at once after a short yield
                    await Task.Delay(20, timeout.Token);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"docker-registry was not ready within 30 s:\n{Log}");
        }
    }

    /// <summary>What the registry printed so far.</summary>
    public string Log
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output.TakeLast(40));
            }
        }
    }

    /// <summary>Every line the registry printed so far (its request log among them: level info, one line per request).</summary>
    public IReadOnlyList<string> LogLines
    {
        get
        {
            lock (_output)
            {
                return [.. _output];
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // ---- images -----------------------------------------------------------------------------------------

    /// <summary>Pushes <paramref name="images"/> (an index when several) as <c>repository:tag</c> with skopeo.</summary>
    public async Task PushAsync(string repository, string tag, IReadOnlyList<TestImage> images, CancellationToken cancellationToken = default)
    {
        var skopeo = Requirements.RequireCommand("skopeo", "install the Debian package skopeo (tests/setup)");
        var layout = Path.Combine(Directory, "layouts", Guid.NewGuid().ToString("N")[..12]);
        OciLayoutWriter.Write(layout, tag, images);
        var arguments = new List<string> { "--insecure-policy", "copy", "--quiet", "--all", $"oci:{layout}:{tag}", $"docker://{Authority}/{repository}:{tag}" };
        arguments.AddRange(UsesTls ? ["--dest-cert-dir", CertDirectory] : ["--dest-tls-verify=false"]);
        if (Mode != LocalRegistryMode.PlainHttp)
        {
            arguments.AddRange(["--dest-creds", $"{Admin.Username}:{Admin.Password}"]);
        }
        await ExternalCommand.RunAsync(skopeo, arguments, cancellationToken, Admin.Password);
    }

    /// <summary><c>skopeo inspect --raw</c>: the manifest bytes as the registry serves them.</summary>
    public async Task<byte[]> InspectRawAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        var skopeo = Requirements.RequireCommand("skopeo", "install the Debian package skopeo (tests/setup)");
        return await ExternalCommand.RunAsync(skopeo, [.. InspectArguments(repository, reference), "--raw"], cancellationToken, Admin.Password);
    }

    /// <summary><c>skopeo inspect</c>'s Digest: the top manifest's (an index's own digest for multi-platform images).</summary>
    public Task<string> InspectDigestAsync(string repository, string reference, CancellationToken cancellationToken = default) =>
        InspectFormatAsync(repository, reference, "{{.Digest}}", cancellationToken);

    /// <summary><c>skopeo inspect --format</c>, such as <c>{{.Architecture}}</c> of the image config.</summary>
    public async Task<string> InspectFormatAsync(string repository, string reference, string format, CancellationToken cancellationToken = default)
    {
        var skopeo = Requirements.RequireCommand("skopeo", "install the Debian package skopeo (tests/setup)");
        return await ExternalCommand.RunTextAsync(skopeo, [.. InspectArguments(repository, reference), "--format", format], cancellationToken, Admin.Password);
    }

    private List<string> InspectArguments(string repository, string reference)
    {
        var separator = reference.Contains(':', StringComparison.Ordinal) ? "@" : ":";
        var arguments = new List<string> { "inspect", $"docker://{Authority}/{repository}{separator}{reference}" };
        arguments.AddRange(UsesTls ? ["--cert-dir", CertDirectory] : ["--tls-verify=false"]);
        if (Mode != LocalRegistryMode.PlainHttp)
        {
            arguments.AddRange(["--creds", $"{Admin.Username}:{Admin.Password}"]);
        }
        return arguments;
    }

    /// <summary>Gives the manifest of <paramref name="sourceTag"/> more tags (a manifest PUT per tag, as admin).</summary>
    public async Task TagAsync(string repository, string sourceTag, IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var authorization = await AdminAuthorizationAsync(repository, cancellationToken);
        using var get = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUri, $"/v2/{repository}/manifests/{sourceTag}"));
        get.Headers.Authorization = authorization;
        foreach (var type in new[] { OciLayoutWriter.IndexType, OciLayoutWriter.ManifestType })
        {
            get.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }
        using var response = await _http.SendAsync(get, cancellationToken);
        response.EnsureSuccessStatusCode();
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var mediaType = response.Content.Headers.ContentType!.MediaType!;
        foreach (var tag in tags)
        {
            using var put = new HttpRequestMessage(HttpMethod.Put, new Uri(BaseUri, $"/v2/{repository}/manifests/{tag}"))
            {
                Content = new ByteArrayContent(bytes),
            };
            put.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            put.Headers.Authorization = authorization;
            using var putResponse = await _http.SendAsync(put, cancellationToken);
            if (!putResponse.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"tagging {repository}:{tag} failed: {(int)putResponse.StatusCode} {await putResponse.Content.ReadAsStringAsync(cancellationToken)}");
            }
        }
    }

    private async Task<AuthenticationHeaderValue?> AdminAuthorizationAsync(string repository, CancellationToken cancellationToken)
    {
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Admin.Username}:{Admin.Password}")));
        switch (Mode)
        {
            case LocalRegistryMode.PlainHttp:
                return null;
            case LocalRegistryMode.HtpasswdTls:
                return basic;
            default:
                var scope = Uri.EscapeDataString($"repository:{repository}:pull,push");
                using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri(TokenIssuer!.Realm, $"?service={TestTokenIssuer.Service}&scope={scope}")))
                {
                    request.Headers.Authorization = basic;
                    using var response = await _http.SendAsync(request, cancellationToken);
                    response.EnsureSuccessStatusCode();
                    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                    return new AuthenticationHeaderValue("Bearer", json.RootElement.GetProperty("token").GetString());
                }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            process.Dispose();
        }
        if (TokenIssuer is not null)
        {
            await TokenIssuer.DisposeAsync();
        }
        _http.Dispose();
        Ca?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder is harmless
        }
    }
}
