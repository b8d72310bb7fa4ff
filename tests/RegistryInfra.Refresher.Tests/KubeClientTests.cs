using System.Collections;
using Moq;
using RegistryInfra.Refresher.KubernetesApi;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// The refresher's own Kubernetes client: kubeconfig (contexts, CA, token, exec plugin), in-cluster configuration (the
/// projected token re-read as the kubelet rotates it), TLS with HTTP/2 against the fake API, and bounded answers.
/// </summary>
public sealed class KubeClientTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("refresher-kube-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Kubeconfig(string server, string cluster = "", string user = "token: not-a-real-token", string extra = "")
    {
        var path = Path.Combine(_dir, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: fake
                cluster:
                  server: "{server}"
                  {cluster}
            users:
              - name: fake
                user:
                  {user}
            contexts:
              - name: fake
                context: {"{"}cluster: fake, user: fake{"}"}
            {extra}
            current-context: fake
            """);
        return path;
    }

    [Fact]
    public async Task A_kubeconfig_with_its_ca_file_reaches_the_api_over_tls_and_http2_with_the_bearer_token()
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        api.AddNamespace("apps");
        await File.WriteAllTextAsync(Path.Combine(_dir, "ca.crt"), api.CertificateAuthorityPem, Ct);
        // A relative certificate-authority is relative to the kubeconfig's folder, as kubectl reads it.
        var endpoint = KubeEndpoint.FromKubeconfig(Kubeconfig(api.Host, "certificate-authority: ca.crt"), context: null);
        using var client = new KubeApi(endpoint, TimeSpan.FromSeconds(30));

        var list = await client.ListNamespacesAsync(null, 500, null, Ct);

        Assert.Equal(["apps"], list.Items.Select(n => n.Metadata?.Name));
        Assert.Equal("Bearer not-a-real-token", api.LastAuthorization);
        Assert.Equal("HTTP/2", api.LastProtocol);
    }

    [Fact]
    public async Task Without_the_clusters_ca_the_servers_certificate_is_refused()
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        using var untrusted = new KubeApi(KubeEndpoint.FromKubeconfig(Kubeconfig(api.Host), null), TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<HttpRequestException>(() => untrusted.ListNamespacesAsync(null, 500, null, Ct));

        // A CA that is not the server's is refused too: only the given CA is trusted.
        using var other = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=other", other, System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        using var otherCa = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var data = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(otherCa.ExportCertificatePem()));
        using var wrong = new KubeApi(KubeEndpoint.FromKubeconfig(Kubeconfig(api.Host, $"certificate-authority-data: {data}"), null), TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<HttpRequestException>(() => wrong.ListNamespacesAsync(null, 500, null, Ct));
        Assert.Equal(0, api.RequestCount("LIST", "namespaces"));
    }

    [Fact]
    public void A_missing_context_or_user_is_a_configuration_error_that_quotes_no_credential()
    {
        var path = Kubeconfig("https://127.0.0.1:6443", user: "token: very-secret-token");
        var missing = Assert.Throws<KubeConfigException>(() => KubeEndpoint.FromKubeconfig(path, "prod"));
        Assert.Contains("context 'prod' not found", missing.Message, StringComparison.Ordinal);

        File.WriteAllText(path, File.ReadAllText(path).Replace("user: fake}", "user: nobody}", StringComparison.Ordinal));
        var noUser = Assert.Throws<KubeConfigException>(() => KubeEndpoint.FromKubeconfig(path, null));
        Assert.Contains("user 'nobody'", noUser.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("very-secret-token", missing.Message + noUser.Message, StringComparison.Ordinal);

        var unreadable = Assert.Throws<KubeConfigException>(() => KubeEndpoint.FromKubeconfig(Path.Combine(_dir, "absent"), null));
        Assert.Contains("cannot be read", unreadable.Message, StringComparison.Ordinal);
        Assert.Contains("auth-provider is not supported",
            Assert.Throws<KubeConfigException>(() => KubeEndpoint.FromKubeconfig(Kubeconfig("https://127.0.0.1:6443", user: "auth-provider: {name: gcp}"), null)).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_given_context_is_used_and_a_kubeconfig_list_is_merged_first_file_first()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        var first = Kubeconfig("http://127.0.0.1:1", extra: """
            - name: other
                context: {cluster: real, user: fake}
            """.Replace("- name", "  - name", StringComparison.Ordinal));
        var second = Path.Combine(_dir, "second");
        await File.WriteAllTextAsync(second, $"""
            clusters:
              - name: real
                cluster:
                  server: "{api.Host}"
              - name: fake
                cluster:
                  server: "http://127.0.0.1:2"
            """, Ct);

        var endpoint = KubeEndpoint.FromKubeconfig(first + Path.PathSeparator + second, "other");

        Assert.Equal(new Uri(api.Host), endpoint.Server);
        Assert.Equal(new Uri("http://127.0.0.1:1"), KubeEndpoint.FromKubeconfig(first + Path.PathSeparator + second, null).Server);
    }

    [Fact]
    public async Task In_a_cluster_the_service_account_token_is_read_again_after_a_minute()
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        var sa = Directory.CreateDirectory(Path.Combine(_dir, "sa")).FullName;
        await File.WriteAllTextAsync(Path.Combine(sa, "token"), "token-one\n", Ct);
        await File.WriteAllTextAsync(Path.Combine(sa, "ca.crt"), api.CertificateAuthorityPem, Ct);
        var uri = new Uri(api.Host);
        var environment = new Hashtable { ["KUBERNETES_SERVICE_HOST"] = uri.Host, ["KUBERNETES_SERVICE_PORT"] = uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var now = DateTimeOffset.UtcNow;
        var time = new Mock<TimeProvider> { CallBase = true };
        time.Setup(t => t.GetUtcNow()).Returns(() => now);
        var endpoint = KubeEndpoint.InCluster(environment, sa);
        Assert.Equal(new Uri($"https://{uri.Host}:{uri.Port}"), endpoint.Server);
        using var client = new KubeApi(new KubeEndpoint { Server = endpoint.Server, CertificateAuthority = endpoint.CertificateAuthority, Credentials = new KubeCredentials { TokenFile = endpoint.Credentials.TokenFile, Time = time.Object } },
            TimeSpan.FromSeconds(30));

        await client.ListNamespacesAsync(null, 10, null, Ct);
        Assert.Equal("Bearer token-one", api.LastAuthorization);
        await File.WriteAllTextAsync(Path.Combine(sa, "token"), "token-two\n", Ct);
        now += TimeSpan.FromSeconds(30);
        await client.ListNamespacesAsync(null, 10, null, Ct);
        Assert.Equal("Bearer token-one", api.LastAuthorization);
        now += TimeSpan.FromSeconds(31);
        await client.ListNamespacesAsync(null, 10, null, Ct);
        Assert.Equal("Bearer token-two", api.LastAuthorization);

        var outside = Assert.Throws<KubeConfigException>(() => KubeEndpoint.InCluster(new Hashtable(), sa));
        Assert.Contains("KUBERNETES_SERVICE_HOST", outside.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_exec_plugins_token_is_used_and_its_failure_reports_the_exit_code_only()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        var plugin = Path.Combine(_dir, "plugin");
        await File.WriteAllTextAsync(plugin, """
            #!/bin/sh
            case "$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) exit 3 ;; esac
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token-'"$TOKEN_SUFFIX"'"}}'
            """, Ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        }
        var path = Kubeconfig(api.Host, user: """
            exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin, env: [{name: TOKEN_SUFFIX, value: a1}]}
            """);
        using var client = new KubeApi(KubeEndpoint.FromKubeconfig(path, null), TimeSpan.FromSeconds(30));

        await client.ListNamespacesAsync(null, 10, null, Ct);

        Assert.Equal("Bearer exec-token-a1", api.LastAuthorization);

        await File.WriteAllTextAsync(plugin, "#!/bin/sh\necho 'refused: password hunter2' >&2\nexit 1\n", Ct);
        using var failing = new KubeApi(KubeEndpoint.FromKubeconfig(path, null), TimeSpan.FromSeconds(30));
        var e = await Assert.ThrowsAsync<KubeCredentialException>(() => failing.ListNamespacesAsync(null, 10, null, Ct));
        Assert.Contains("exited with code 1", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unusable_kubeconfig_is_exit_code_two_with_one_line_naming_it()
    {
        var config = Path.Combine(_dir, "config.yaml");
        await File.WriteAllTextAsync(config, "instance: test\nregistries:\n  - server: ghcr.io\n    source: {type: static, username: u, passwordEnv: P}\ntargets:\n  - secretName: ok\n    allNamespaces: true\n", Ct);
        var absent = Path.Combine(_dir, "absent-kubeconfig");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await RefresherApp.RunAsync(["refresh", "--config", config, "--kubeconfig", absent], null, Ct, stdout, stderr, new Hashtable());

        Assert.Equal(2, code);
        Assert.Equal($"registryinfra-refresher: invalid configuration: kubernetes: kubeconfig {absent} cannot be read: FileNotFoundException", stderr.ToString().Trim());
        Assert.Equal(2, await RefresherApp.RunAsync(["check", "--config", config], null, Ct, stdout, new StringWriter(), new Hashtable()));
    }

    [Fact]
    public async Task An_answer_past_the_bound_fails_that_request_and_a_404_is_its_status_code()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        api.AddNamespaces(Enumerable.Range(0, 50).Select(i => $"ns-{i}"), labels: null, serviceAccount: null);
        var endpoint = new KubeEndpoint { Server = new Uri(api.Host), Credentials = new KubeCredentials() };
        using var small = new KubeApi(endpoint, TimeSpan.FromSeconds(30), maxBytes: 1_000);

        var tooLarge = await Assert.ThrowsAsync<HttpRequestException>(() => small.ListNamespacesAsync(null, 500, null, Ct));
        Assert.Contains("larger than 1000 bytes", tooLarge.Message, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<KubeApiException>(() => small.ReadSecretAsync("ns-1", "absent", Ct));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
    }
}
