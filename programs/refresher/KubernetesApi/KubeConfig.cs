using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace RegistryInfra.Refresher.KubernetesApi;

/// <summary>No usable Kubernetes configuration (exit code 2); the message names the file or variable, never a credential.</summary>
internal sealed class KubeConfigException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The credential for the API server could not be obtained (token file, exec plugin); not retried. Secret-free.</summary>
internal sealed class KubeCredentialException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Where the API server is, how its certificate is checked, and who the refresher is to it.</summary>
internal sealed class KubeEndpoint
{
    public required Uri Server { get; init; }

    /// <summary>The CA bundle that alone is trusted for the server (kubeconfig's certificate-authority, the pod's ca.crt); null: the system's.</summary>
    public X509Certificate2Collection? CertificateAuthority { get; init; }

    public bool InsecureSkipTlsVerify { get; init; }

    public string? TlsServerName { get; init; }

    public Uri? Proxy { get; init; }

    public required KubeCredentials Credentials { get; init; }

    public HttpMessageHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler
        {
            // One HTTP/2 connection multiplexes every request (as client-go does); a second opens past the server's stream limit.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        if (Proxy is not null)
        {
            handler.Proxy = new WebProxy(Proxy);
            handler.UseProxy = true;
        }
        else
        {
            handler.UseProxy = false;
        }
        if (TlsServerName is not null)
        {
            handler.SslOptions.TargetHost = TlsServerName;
        }
        if (Credentials.ClientCertificate is { } certificate)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }
        var ca = CertificateAuthority;
        if (InsecureSkipTlsVerify)
        {
            // The kubeconfig's insecure-skip-tls-verify: asked for by whoever wrote it, as kubectl honours it.
#pragma warning disable CA5359
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (ca is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false;
                }
                // Only the given CA, not the system's roots: what certificate-authority means to kubectl.
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var leaf = new X509Certificate2(certificate);
                return chain.Build(leaf);
            };
        }
        return handler;
    }

    private const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>
    /// The pod's own service account, as client-go's <c>rest.InClusterConfig</c>: <c>https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT</c>,
    /// the projected token (re-read as the kubelet rotates it) and the cluster's CA.
    /// </summary>
    public static KubeEndpoint InCluster(System.Collections.IDictionary environment, string directory = ServiceAccountDirectory)
    {
        var host = environment["KUBERNETES_SERVICE_HOST"] as string;
        var port = environment["KUBERNETES_SERVICE_PORT"] as string;
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            throw new KubeConfigException("no kubeconfig given (--kubeconfig, $KUBECONFIG) and not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
        }
        var tokenFile = Path.Combine(directory, "token");
        if (!File.Exists(tokenFile))
        {
            throw new KubeConfigException($"in-cluster configuration: no service account token at {tokenFile}");
        }
        var caFile = Path.Combine(directory, "ca.crt");
        return new KubeEndpoint
        {
            Server = new Uri($"https://{(host.Contains(':', StringComparison.Ordinal) ? "[" + host + "]" : host)}:{port}"),
            CertificateAuthority = File.Exists(caFile) ? LoadCertificates(File.ReadAllText(caFile), caFile) : null,
            Credentials = new KubeCredentials { TokenFile = tokenFile },
        };
    }

    /// <summary>
    /// A kubeconfig (YAML or JSON; a <c>KUBECONFIG</c>-style list separated by ':' is merged, the first file naming an
    /// entry winning, as kubectl does): the context (given, else <c>current-context</c>), its cluster and user.
    /// Supported: server, certificate-authority(-data), insecure-skip-tls-verify, tls-server-name, proxy-url; token,
    /// tokenFile, client-certificate(-data) with client-key(-data), username/password, and exec plugins.
    /// </summary>
    public static KubeEndpoint FromKubeconfig(string paths, string? context)
    {
        var files = paths.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var clusters = new Dictionary<string, (YamlMappingNode Node, string Directory)>(StringComparer.Ordinal);
        var users = new Dictionary<string, (YamlMappingNode Node, string Directory)>(StringComparer.Ordinal);
        var contexts = new Dictionary<string, YamlMappingNode>(StringComparer.Ordinal);
        string? current = null;
        foreach (var file in files)
        {
            YamlMappingNode root;
            try
            {
                var yaml = new YamlStream();
                using (var reader = new StreamReader(file))
                {
                    yaml.Load(reader);
                }
                root = yaml.Documents.Count > 0 && yaml.Documents[0].RootNode is YamlMappingNode m ? m : new YamlMappingNode();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException)
            {
                throw new KubeConfigException($"kubeconfig {file} cannot be read: {e.GetType().Name}{(e is YamlDotNet.Core.YamlException y ? $" at line {y.Start.Line}" : "")}", e);
            }
            var directory = Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";
            current ??= Scalar(root, "current-context");
            foreach (var (name, node) in Named(root, "clusters", "cluster"))
            {
                clusters.TryAdd(name, (node, directory));
            }
            foreach (var (name, node) in Named(root, "users", "user"))
            {
                users.TryAdd(name, (node, directory));
            }
            foreach (var (name, node) in Named(root, "contexts", "context"))
            {
                contexts.TryAdd(name, node);
            }
        }
        var contextName = context ?? current;
        if (string.IsNullOrEmpty(contextName))
        {
            throw new KubeConfigException($"kubeconfig {paths}: no context given and no current-context");
        }
        if (!contexts.TryGetValue(contextName, out var ctx))
        {
            throw new KubeConfigException($"kubeconfig {paths}: context '{contextName}' not found");
        }
        var clusterName = Scalar(ctx, "cluster") ?? "";
        if (!clusters.TryGetValue(clusterName, out var cluster))
        {
            throw new KubeConfigException($"kubeconfig {paths}: cluster '{clusterName}' of context '{contextName}' not found");
        }
        var server = Scalar(cluster.Node, "server");
        if (!Uri.TryCreate(server, UriKind.Absolute, out var serverUri) || serverUri.Scheme is not ("https" or "http"))
        {
            throw new KubeConfigException($"kubeconfig {paths}: cluster '{clusterName}' has no http(s) server");
        }
        var userName = Scalar(ctx, "user");
        (YamlMappingNode Node, string Directory) user = (new YamlMappingNode(), cluster.Directory);
        if (userName is not null && !users.TryGetValue(userName, out user))
        {
            throw new KubeConfigException($"kubeconfig {paths}: user '{userName}' of context '{contextName}' not found");
        }
        var caPem = DataOrFile(cluster.Node, "certificate-authority-data", "certificate-authority", cluster.Directory, $"cluster '{clusterName}'");
        var proxy = Scalar(cluster.Node, "proxy-url");
        return new KubeEndpoint
        {
            Server = serverUri,
            CertificateAuthority = caPem is null ? null : LoadCertificates(caPem, $"cluster '{clusterName}' certificate-authority"),
            InsecureSkipTlsVerify = Scalar(cluster.Node, "insecure-skip-tls-verify") is "true",
            TlsServerName = Scalar(cluster.Node, "tls-server-name"),
            Proxy = proxy is null ? null : Uri.TryCreate(proxy, UriKind.Absolute, out var p) ? p
                : throw new KubeConfigException($"kubeconfig {paths}: cluster '{clusterName}' proxy-url is not a URL"),
            Credentials = UserCredentials(user.Node, user.Directory, $"user '{userName}'", serverUri),
        };
    }

    private static KubeCredentials UserCredentials(YamlMappingNode user, string directory, string what, Uri server)
    {
        if (user.Children.ContainsKey(new YamlScalarNode("auth-provider")))
        {
            throw new KubeConfigException($"kubeconfig {what}: auth-provider is not supported (removed from kubectl); use an exec plugin such as kubelogin, gke-gcloud-auth-plugin or 'aws eks get-token'");
        }
        var certificatePem = DataOrFile(user, "client-certificate-data", "client-certificate", directory, what);
        var keyPem = DataOrFile(user, "client-key-data", "client-key", directory, what);
        X509Certificate2? certificate = null;
        if (certificatePem is not null || keyPem is not null)
        {
            if (certificatePem is null || keyPem is null)
            {
                throw new KubeConfigException($"kubeconfig {what}: client-certificate and client-key go together");
            }
            certificate = ClientCertificate(certificatePem, keyPem, what);
        }
        var tokenFile = Scalar(user, "tokenFile");
        ExecPlugin? exec = null;
        if (user.Children.TryGetValue(new YamlScalarNode("exec"), out var execNode) && execNode is YamlMappingNode e)
        {
            var command = Scalar(e, "command") ?? throw new KubeConfigException($"kubeconfig {what}: exec has no command");
            // A relative path (one with a separator) is relative to the kubeconfig's folder, as client-go resolves it; a bare name is looked up on PATH.
            if (command.Contains('/', StringComparison.Ordinal) && !Path.IsPathRooted(command))
            {
                command = Path.GetFullPath(Path.Combine(directory, command));
            }
            exec = new ExecPlugin(
                command,
                e.Children.TryGetValue(new YamlScalarNode("args"), out var a) && a is YamlSequenceNode args ? [.. args.OfType<YamlScalarNode>().Select(s => s.Value ?? "")] : [],
                e.Children.TryGetValue(new YamlScalarNode("env"), out var v) && v is YamlSequenceNode env
                    ? [.. env.OfType<YamlMappingNode>().Select(n => (Scalar(n, "name") ?? "", Scalar(n, "value") ?? ""))]
                    : [],
                Scalar(e, "apiVersion") ?? "client.authentication.k8s.io/v1",
                Scalar(e, "provideClusterInfo") is "true" ? server : null,
                directory);
        }
        return new KubeCredentials
        {
            Token = Scalar(user, "token"),
            TokenFile = tokenFile is null ? null : Path.Combine(directory, tokenFile),
            Username = Scalar(user, "username"),
            Password = Scalar(user, "password"),
            ClientCertificate = certificate,
            Exec = exec,
        };
    }

    private static X509Certificate2 ClientCertificate(string certificatePem, string keyPem, string what)
    {
        try
        {
            using var ephemeral = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            // SslStream wants a certificate whose key it can use for the handshake: exported and loaded back, as PKCS #12.
            return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new KubeConfigException($"kubeconfig {what}: the client certificate and key cannot be loaded ({e.GetType().Name})", e);
        }
    }

    private static X509Certificate2Collection LoadCertificates(string pem, string what)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new KubeConfigException($"{what} is not PEM certificates ({e.GetType().Name})", e);
        }
        if (collection.Count == 0)
        {
            throw new KubeConfigException($"{what} holds no certificate");
        }
        return collection;
    }

    /// <summary>The PEM of a <c>*-data</c> field (base64) or of the file a sibling field names (relative to the kubeconfig).</summary>
    private static string? DataOrFile(YamlMappingNode node, string dataKey, string fileKey, string directory, string what)
    {
        if (Scalar(node, dataKey) is { Length: > 0 } data)
        {
            try
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(data));
            }
            catch (FormatException e)
            {
                throw new KubeConfigException($"kubeconfig {what}: {dataKey} is not base64", e);
            }
        }
        if (Scalar(node, fileKey) is { Length: > 0 } file)
        {
            var path = Path.Combine(directory, file);
            try
            {
                return File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KubeConfigException($"kubeconfig {what}: {fileKey} {path} cannot be read ({e.GetType().Name})", e);
            }
        }
        return null;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode { Value: { } text } ? text : null;

    private static IEnumerable<(string Name, YamlMappingNode Node)> Named(YamlMappingNode root, string list, string field)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode(list), out var items) || items is not YamlSequenceNode sequence)
        {
            yield break;
        }
        foreach (var item in sequence.OfType<YamlMappingNode>())
        {
            if (Scalar(item, "name") is { } name && item.Children.TryGetValue(new YamlScalarNode(field), out var body))
            {
                yield return (name, body as YamlMappingNode ?? new YamlMappingNode());
            }
        }
    }
}

/// <summary>An exec credential plugin of a kubeconfig user (client.authentication.k8s.io).</summary>
internal sealed record ExecPlugin(string Command, IReadOnlyList<string> Args, IReadOnlyList<(string Name, string Value)> Environment, string ApiVersion,
    Uri? ClusterServer, string Directory);

/// <summary>
/// Who the refresher is to the API server: a bearer token (given, or a file re-read each minute, as client-go does for the
/// kubelet's rotating projected token), basic auth, a client certificate, or an exec plugin's token (cached until it expires).
/// </summary>
internal sealed class KubeCredentials : IDisposable
{
    private static readonly TimeSpan TokenFileRefresh = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _cachedToken;
    private DateTimeOffset _cachedUntil;

    public string? Token { get; init; }

    public string? TokenFile { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public X509Certificate2? ClientCertificate { get; init; }

    public ExecPlugin? Exec { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public void Dispose()
    {
        _gate.Dispose();
        ClientCertificate?.Dispose();
    }

    public async ValueTask AuthenticateAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (Token is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (TokenFile is not null || Exec is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await CachedTokenAsync(ct).ConfigureAwait(false));
        }
        else if (Username is not null && Password is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Username + ":" + Password)));
        }
    }

    private async ValueTask<string> CachedTokenAsync(CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        if (Volatile.Read(ref _cachedToken) is { } cached && now < _cachedUntil)
        {
            return cached;
        }
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_cachedToken is { } again && now < _cachedUntil)
            {
                return again;
            }
            var (token, until) = TokenFile is not null ? (await ReadTokenFileAsync(ct).ConfigureAwait(false), now + TokenFileRefresh) : await RunExecAsync(ct).ConfigureAwait(false);
            _cachedUntil = until;
            Volatile.Write(ref _cachedToken, token);
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string> ReadTokenFileAsync(CancellationToken ct)
    {
        try
        {
            return (await File.ReadAllTextAsync(TokenFile!, ct).ConfigureAwait(false)).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeCredentialException($"the service account token {TokenFile} cannot be read ({e.GetType().Name})", e);
        }
    }

    private async Task<(string Token, DateTimeOffset Until)> RunExecAsync(CancellationToken ct)
    {
        var exec = Exec!;
        var start = new ProcessStartInfo(exec.Command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = exec.Directory,
        };
        foreach (var arg in exec.Args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in exec.Environment)
        {
            start.Environment[name] = value;
        }
        using var info = new MemoryStream();
        using (var writer = new Utf8JsonWriter(info))
        {
            writer.WriteStartObject();
            writer.WriteString("apiVersion", exec.ApiVersion);
            writer.WriteString("kind", "ExecCredential");
            writer.WriteStartObject("spec");
            writer.WriteBoolean("interactive", false);
            if (exec.ClusterServer is { } server)
            {
                writer.WriteStartObject("cluster");
                writer.WriteString("server", server.ToString());
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        start.Environment["KUBERNETES_EXEC_INFO"] = Encoding.UTF8.GetString(info.ToArray());
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new KubeCredentialException($"exec plugin {exec.Command} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new KubeCredentialException($"exec plugin {exec.Command} cannot be run ({e.Message})", e);
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromMinutes(1));
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            var output = await stdout.ConfigureAwait(false);
            await stderr.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                // Its stderr can carry anything (even a credential): only the exit code is reported.
                throw new KubeCredentialException($"exec plugin {exec.Command} exited with code {process.ExitCode.ToString(CultureInfo.InvariantCulture)}");
            }
            ExecCredential? credential;
            try
            {
                credential = JsonSerializer.Deserialize(output, KubeJson.Default.ExecCredential);
            }
            catch (JsonException e)
            {
                throw new KubeCredentialException($"exec plugin {exec.Command} printed no ExecCredential JSON", e);
            }
            if (credential?.Status?.Token is not { Length: > 0 } token)
            {
                throw new KubeCredentialException($"exec plugin {exec.Command} gave no token (client certificates from exec plugins are not supported)");
            }
            // Without an expiry the plugin's token is used for this run (one process, a few minutes at most).
            var until = credential.Status.ExpirationTimestamp is { } at ? at - TimeSpan.FromSeconds(10) : DateTimeOffset.MaxValue;
            return (token, until);
        }
    }
}
