using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RegistryInfra.Provider.Kubernetes;

/// <summary>An API request that failed: the verb, the object and the status, never a credential or a request body.</summary>
internal sealed class KubeApiException(HttpStatusCode? status, string message) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;
}

/// <summary>
/// The few Kubernetes API calls the provider makes itself (listing namespaces and service accounts, reading and patching
/// service accounts), over one HTTP/2 connection pool per cluster, authenticated as the kubeconfig says. The credential
/// goes only to the kubeconfig's server: the handler follows no redirect.
/// </summary>
internal sealed class KubeApi : IDisposable
{
    private static readonly ConcurrentDictionary<string, Lazy<KubeApi>> Shared = new(StringComparer.Ordinal);

    private readonly KubeConnection _connection;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _execGate = new(1, 1);
    private (string Token, DateTimeOffset? Expires)? _execToken;

    public KubeApi(KubeConnection connection, TimeSpan? timeout = null)
    {
        _connection = connection;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            AutomaticDecompression = DecompressionMethods.None,
        };
        handler.SslOptions.TargetHost = connection.TlsServerName;
        var roots = connection.CertificateAuthorityPem is { } pem ? Certificates(pem, "certificate-authority") : null;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Validate(certificate, errors, roots, connection.InsecureSkipTlsVerify);
        if (connection.Credential is KubeCredential.ClientCertificate client)
        {
            handler.SslOptions.ClientCertificates = [ClientCertificate(client.CertificatePem, client.KeyPem)];
        }
        _http = new HttpClient(handler) { BaseAddress = connection.Server, Timeout = timeout ?? TimeSpan.FromSeconds(60) };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("pulumi-resource-registryinfra", RegistryInfraPackage.Info.Version));
    }

    /// <summary>One client per distinct connection for the life of the process (connections are pooled and reused).</summary>
    public static KubeApi For(KubeConnection connection) =>
        Shared.GetOrAdd(Key(connection), _ => new Lazy<KubeApi>(() => new KubeApi(connection))).Value;

    private static string Key(KubeConnection c) => string.Join('\n', c.Server, c.TlsServerName, c.CertificateAuthorityPem, c.InsecureSkipTlsVerify,
        c.Credential switch
        {
            KubeCredential.Token t => "token:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(t.Value))),
            KubeCredential.ClientCertificate cc => "cert:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(cc.CertificatePem + cc.KeyPem))),
            KubeCredential.Basic b => "basic:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(b.Username + ":" + b.Password))),
            KubeCredential.TokenFile f => "file:" + f.Path,
            KubeCredential.Exec e => "exec:" + e.Command + " " + string.Join(' ', e.Arguments) + string.Join(',', e.Environment.Select(v => v.Key + "=" + v.Value)),
            _ => "none",
        });

    /// <summary>The object, or null when the API answers 404.</summary>
    public async Task<JsonObject?> GetAsync(string path, string what, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendAsync(request, what, "get", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        await ThrowIfFailedAsync(response, "get", what, cancellationToken).ConfigureAwait(false);
        return await ReadObjectAsync(response, what, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One page of a LIST (kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks):
    /// at most <paramref name="limit"/> items of the collection at <paramref name="path"/> (such as <c>/api/v1/namespaces</c>
    /// or the cluster-wide <c>/api/v1/serviceaccounts</c>), those matching <paramref name="labelSelector"/> (the API's
    /// <c>labelSelector</c> query parameter, evaluated by the server), from the <paramref name="continueToken"/> of the page
    /// before; the answer's <c>metadata.continue</c> is the next page's token, absent on the last. A token whose snapshot the
    /// server no longer has is answered 410 Gone (reason <c>Expired</c>), thrown as a <see cref="KubeApiException"/> with
    /// <see cref="HttpStatusCode.Gone"/>: a client that needs a consistent list restarts it without the token.
    /// </summary>
    public async Task<JsonObject> ListAsync(string path, string? labelSelector, int limit, string? continueToken, string what, CancellationToken cancellationToken)
    {
        var query = new StringBuilder(path).Append("?limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        if (labelSelector is { Length: > 0 })
        {
            query.Append("&labelSelector=").Append(Uri.EscapeDataString(labelSelector));
        }
        if (continueToken is { Length: > 0 })
        {
            query.Append("&continue=").Append(Uri.EscapeDataString(continueToken));
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, query.ToString());
        using var response = await SendAsync(request, what, "list", cancellationToken).ConfigureAwait(false);
        await ThrowIfFailedAsync(response, "list", what, cancellationToken).ConfigureAwait(false);
        return await ReadObjectAsync(response, what, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A JSON merge patch (RFC 7386); the result, or null on 404 or on 409 Conflict (the patch carried a
    /// <c>metadata.resourceVersion</c> that is no longer current: read again and retry).
    /// </summary>
    public async Task<(JsonObject? Object, bool Conflict)> MergePatchAsync(string path, string patch, string what, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, path)
        {
            Content = new StringContent(patch, Encoding.UTF8, "application/merge-patch+json"),
        };
        using var response = await SendAsync(request, what, "patch", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            return (null, true);
        }
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return (null, false);
        }
        await ThrowIfFailedAsync(response, "patch", what, cancellationToken).ConfigureAwait(false);
        return (await ReadObjectAsync(response, what, cancellationToken).ConfigureAwait(false), false);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, string verb, CancellationToken cancellationToken)
    {
        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
        switch (_connection.Credential)
        {
            case KubeCredential.Token t:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", t.Value);
                break;
            case KubeCredential.TokenFile f:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await ReadTokenFileAsync(f.Path, cancellationToken).ConfigureAwait(false));
                break;
            case KubeCredential.Basic b:
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(b.Username + ":" + b.Password)));
                break;
            case KubeCredential.Exec e:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await ExecTokenAsync(e, cancellationToken).ConfigureAwait(false));
                break;
        }
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new KubeApiException(null, $"{verb} {what}: the Kubernetes API at {_connection.Server} (context \"{_connection.ContextName}\") cannot be reached: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KubeApiException(null, $"{verb} {what}: the Kubernetes API at {_connection.Server} did not answer within {_http.Timeout.TotalSeconds:F0} s");
        }
    }

    private static async Task<string> ReadTokenFileAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeApiException(null, $"the token file {path} cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// Runs a client-go credential plugin as kubernetes/client-go does (<c>plugin/pkg/client/auth/exec/exec.go</c>):
    /// <c>KUBERNETES_EXEC_INFO</c> holds an ExecCredential of the configured apiVersion with <c>spec.interactive: false</c>,
    /// the plugin's stdout is an ExecCredential of that apiVersion whose <c>status.token</c> is sent as the bearer token;
    /// a token is reused until <c>status.expirationTimestamp</c> (for the whole run when it has none). The plugin's output
    /// is never logged; its exit code and first stderr line are.
    /// </summary>
    private async Task<string> ExecTokenAsync(KubeCredential.Exec exec, CancellationToken cancellationToken)
    {
        await _execGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_execToken is { } cached && (cached.Expires is null || cached.Expires > DateTimeOffset.UtcNow.AddSeconds(30)))
            {
                return cached.Token;
            }
            var start = new ProcessStartInfo(exec.Command)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = exec.WorkingDirectory ?? "",
            };
            foreach (var argument in exec.Arguments)
            {
                start.ArgumentList.Add(argument);
            }
            foreach (var (key, value) in exec.Environment)
            {
                start.Environment[key] = value;
            }
            start.Environment["KUBERNETES_EXEC_INFO"] = $"{{\"apiVersion\":\"{exec.ApiVersion}\",\"kind\":\"ExecCredential\",\"spec\":{{\"interactive\":false}}}}";
            using var process = new Process { StartInfo = start };
            try
            {
                process.Start();
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new KubeApiException(null, $"the kubeconfig's exec credential plugin {exec.Command} cannot be started: {e.Message}");
            }
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                throw new KubeApiException(null, $"the kubeconfig's exec credential plugin {exec.Command} did not finish within 2 minutes");
            }
            var output = await stdout.ConfigureAwait(false);
            var errors = await stderr.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                var first = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
                throw new KubeApiException(null, $"the kubeconfig's exec credential plugin {exec.Command} exited with {process.ExitCode}{(first.Length > 0 ? ": " + (first.Length > 300 ? first[..300] : first) : "")}");
            }
            JsonObject? credential;
            try
            {
                credential = JsonNode.Parse(output) as JsonObject;
            }
            catch (JsonException)
            {
                credential = null;
            }
            if (credential is null || (string?)credential["kind"] != "ExecCredential")
            {
                throw new KubeApiException(null, $"the kubeconfig's exec credential plugin {exec.Command} did not print an ExecCredential");
            }
            if ((string?)credential["apiVersion"] is { } version && version != exec.ApiVersion)
            {
                throw new KubeApiException(null, $"the kubeconfig's exec credential plugin {exec.Command} printed an ExecCredential of {version}, not the configured {exec.ApiVersion}");
            }
            if (credential["status"]?["token"] is not JsonValue tokenValue || !tokenValue.TryGetValue<string>(out var token) || token.Length == 0)
            {
                throw new KubeApiException(null, $"the kubeconfig's exec credential plugin {exec.Command} printed no status.token (client certificates from exec plugins are not supported)");
            }
            DateTimeOffset? expires = (string?)credential["status"]?["expirationTimestamp"] is { } stamp
                && DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null;
            _execToken = (token, expires);
            return token;
        }
        finally
        {
            _execGate.Release();
        }
    }

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, string verb, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        // A Status object's message names the object and the rule; the body of a failed write is not echoed otherwise.
        string? message = null;
        try
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            message = (JsonNode.Parse(body) as JsonObject)?["message"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
        }
        var code = (int)response.StatusCode;
        var hint = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => " (the kubeconfig's credential was not accepted)",
            HttpStatusCode.Forbidden => $" (the kubeconfig's user may not {verb} it)",
            _ => "",
        };
        throw new KubeApiException(response.StatusCode, $"{verb} {what}: HTTP {code.ToString(CultureInfo.InvariantCulture)}{hint}{(message is { Length: > 0 } ? ": " + (message.Length > 300 ? message[..300] : message) : "")}");
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw new KubeApiException(response.StatusCode, $"{what}: the Kubernetes API answered with no object");
        }
        catch (JsonException)
        {
            throw new KubeApiException(response.StatusCode, $"{what}: the Kubernetes API answered with something that is not JSON");
        }
    }

    private static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection? roots, bool insecure)
    {
        if (insecure || errors == SslPolicyErrors.None)
        {
            return insecure || roots is null || Chains(certificate, roots);
        }
        // A name mismatch is never excused; a chain error is re-checked against the kubeconfig's certificate authority only.
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || roots is null || certificate is null)
        {
            return false;
        }
        return Chains(certificate, roots);
    }

    private static bool Chains(X509Certificate? certificate, X509Certificate2Collection roots)
    {
        if (certificate is null)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    private static X509Certificate2Collection Certificates(string pem, string what)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            throw new KubeConfigException($"kubeconfig: {what} is not PEM certificates");
        }
        return collection.Count > 0 ? collection : throw new KubeConfigException($"kubeconfig: {what} holds no certificate");
    }

    private static X509Certificate2 ClientCertificate(string certificatePem, string keyPem)
    {
        try
        {
            using var ephemeral = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            // SslStream on Linux needs the key in a form it can hand to OpenSSL for every handshake: a PKCS#12 round trip.
            return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            throw new KubeConfigException("kubeconfig: client-certificate and client-key are not a PEM certificate and its private key");
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _execGate.Dispose();
    }
}
