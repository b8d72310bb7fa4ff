using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Moq;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Refresher.KubernetesApi;
using RegistryInfra.Testing.Kubernetes;
using static RegistryInfra.Refresher.Tests.FakeKubeWatchTests;

namespace RegistryInfra.Refresher.Tests;

/// <summary>The <c>watch</c> command in-process (command line, host, leader election, watches, health endpoints) against the fake API.</summary>
public sealed class WatchModeTests : IAsyncLifetime
{
    private const string Server = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _dir = Directory.CreateTempSubdirectory("refresher-watch-").FullName;
    private readonly Mock<ICredentialSource> _source = new();
    private readonly List<string> _passwords = [];
    private FakeKubeApi _api = null!;

    /// <summary>The clock: real timers, a controlled "now".</summary>
    private readonly Mock<TimeProvider> _time = new() { CallBase = true };

    private DateTimeOffset _now = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    public async ValueTask InitializeAsync()
    {
        _api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        _api.AddNamespace("refresher");
        _api.AddNamespace("app-0", new Dictionary<string, string> { ["pull"] = "ecr" });
        _api.AddServiceAccount("app-0", "default");
        _api.AddNamespace("plain");
        _api.AddServiceAccount("plain", "default");
        _time.Setup(t => t.GetUtcNow()).Returns(() => _now);
        _source.SetupGet(s => s.Description).Returns("ecr(123456789012, eu-west-1)");
        _source.Setup(s => s.GetCredentialAsync(It.IsAny<CancellationToken>())).Returns(() =>
        {
            var password = $"token-{Guid.NewGuid():N}";
            lock (_passwords)
            {
                _passwords.Add(password);
            }
            return ValueTask.FromResult(new RegistryCredential("AWS", password, _now + TimeSpan.FromHours(12)));
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string Config(string extra = "", string serviceAccounts = "[default]", string? accountSelector = null)
    {
        var accounts = accountSelector is null ? $"serviceAccounts: {serviceAccounts}" : $"serviceAccountSelector: {accountSelector}";
        var path = Path.Combine(_dir, $"config-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, $"""
            registries:
              - name: prod
                server: {Server}
                source:
                  type: ecr
            targets:
              - secretName: ecr-pull
                namespaceSelector: pull=ecr
                {accounts}
            instance: refresher
            concurrency: 4
            deadline: "00:00:20"
            retryBaseDelay: "00:00:00.005"
            watch:
              leaseNamespace: refresher
              leaseName: registryinfra-refresher
              leaseDuration: 3s
              renewDeadline: 2s
              retryPeriod: 200ms
            {extra}
            """);
        return path;
    }

    private sealed record Replica(Task<int> Run, CancellationTokenSource Stop, LogCapture Logs, int HealthPort, StringWriter Error);

    private Replica Start(string config, string podName = "refresher-a")
    {
        var logs = new LogCapture();
        var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var port = FreePort();
        var error = new StringWriter();
        var run = Task.Run(() => RefresherApp.RunAsync(["watch", "--config", config, "--health-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], services =>
        {
            services.RemoveAll<ILoggerProvider>();
            services.AddSingleton<ILoggerProvider>(logs);
            services.RemoveAll<IKubeApi>();
            services.AddSingleton<IKubeApi>(_ => new KubeApi(new KubeEndpoint { Server = new Uri(_api.Host), Credentials = new KubeCredentials() }, TimeSpan.FromSeconds(10)));
            services.RemoveAll<ICredentialSources>();
            services.AddSingleton<ICredentialSources>(new Sources(_source.Object));
            services.RemoveAll<TimeProvider>();
            services.AddSingleton(_time.Object);
        }, stop.Token, new StringWriter(), error, new Dictionary<string, string> { ["POD_NAME"] = podName }), CancellationToken.None);
        return new Replica(run, stop, logs, port, error);
    }

    private sealed class Sources(ICredentialSource source) : ICredentialSources
    {
        public ICredentialSource Create(RegistryConfiguration registry) => source;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<HttpStatusCode> ProbeAsync(int port, string path)
    {
        using var http = new HttpClient();
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}{path}", Ct);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private bool Served(string ns, string serviceAccount = "default") =>
        _api.GetSecret(ns, "ecr-pull") is not null && _api.ImagePullSecrets(ns, serviceAccount).Contains("ecr-pull");

    private static async Task StopAsync(Replica replica)
    {
        await replica.Stop.CancelAsync();
        Assert.Equal(0, await replica.Run);
    }

    [Fact]
    public async Task A_namespace_created_or_relabelled_into_the_selection_after_start_is_served_within_seconds_one_relabelled_out_is_pruned_and_readyz_waits_for_the_first_run()
    {
        var leader = Start(Config());
        await WaitForAsync(() => ProbeAsync(leader.HealthPort, "/healthz").Result == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        await WaitForAsync(() => ProbeAsync(leader.HealthPort, "/readyz").Result == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        // Ready only once the first full run has filled what was there.
        Assert.True(Served("app-0"));
        Assert.False(Served("plain"));
        Assert.Equal(HttpStatusCode.NotFound, await ProbeAsync(leader.HealthPort, "/metrics"));

        var created = DateTime.UtcNow;
        _api.AddNamespace("late", new Dictionary<string, string> { ["pull"] = "ecr" });
        _api.AddServiceAccount("late", "default");
        await WaitForAsync(() => Served("late"), TimeSpan.FromSeconds(5));
        Assert.True(DateTime.UtcNow - created < TimeSpan.FromSeconds(5));

        _api.SetLabels("namespaces", "", "plain", new Dictionary<string, string> { ["pull"] = "ecr" });
        await WaitForAsync(() => Served("plain"), TimeSpan.FromSeconds(5));

        // Relabelled out: our Secret and the name we added go; their own names stay.
        _api.AddServiceAccount("plain", "builder", "their-pull");
        _api.SetLabels("namespaces", "", "plain", new Dictionary<string, string> { ["pull"] = "none" });
        await WaitForAsync(() => _api.GetSecret("plain", "ecr-pull") is null && !_api.ImagePullSecrets("plain", "default").Contains("ecr-pull"), TimeSpan.FromSeconds(5));
        Assert.Equal(["their-pull"], _api.ImagePullSecrets("plain", "builder"));

        // A namespace outside the selection gets nothing.
        _api.AddNamespace("other", new Dictionary<string, string> { ["pull"] = "none" });
        _api.AddServiceAccount("other", "default");
        await Task.Delay(500, Ct);
        Assert.Null(_api.GetSecret("other", "ecr-pull"));

        await StopAsync(leader);
        Assert.Contains(leader.Logs.Entries, e => e.Contains("Namespace late reconciled", StringComparison.Ordinal));
        Assert.Contains(leader.Logs.Entries, e => e.Contains("Watch stopped: events", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_attach_only_selection_removes_our_names_within_seconds_from_a_namespace_relabelled_out_and_keeps_theirs()
    {
        foreach (var ns in (string[])["app-0", "plain"])
        {
            _api.AddSecret(ns, "shared-pull", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = "{\"auths\":{}}"u8.ToArray() });
        }
        _api.AddServiceAccount("app-0", "builder", "their-pull");
        var path = Path.Combine(_dir, $"attach-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, """
            registries: []
            targets:
              - secretName: shared-pull
                attachOnly: true
                namespaceSelector: pull=ecr
                allServiceAccounts: true
            concurrency: 4
            deadline: "00:00:20"
            retryBaseDelay: "00:00:00.005"
            watch:
              leaseNamespace: refresher
              leaseName: registryinfra-refresher
              leaseDuration: 3s
              renewDeadline: 2s
              retryPeriod: 200ms
            """);
        var leader = Start(path);
        await WaitForAsync(() => ProbeAsync(leader.HealthPort, "/readyz").Result == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        Assert.Equal(["their-pull", "shared-pull"], _api.ImagePullSecrets("app-0", "builder"));
        Assert.DoesNotContain("shared-pull", _api.ImagePullSecrets("plain", "default"));

        _api.SetLabels("namespaces", "", "plain", new Dictionary<string, string> { ["pull"] = "ecr" });
        await WaitForAsync(() => _api.ImagePullSecrets("plain", "default").Contains("shared-pull"), TimeSpan.FromSeconds(5));

        // Relabelled out: nothing of ours to prune there (the Secret is someone else's), and still our names go at once.
        _api.SetLabels("namespaces", "", "app-0", new Dictionary<string, string> { ["pull"] = "none" });
        await WaitForAsync(() => !_api.ImagePullSecrets("app-0", "builder").Contains("shared-pull") && !_api.ImagePullSecrets("app-0", "default").Contains("shared-pull"),
            TimeSpan.FromSeconds(5));
        Assert.Equal(["their-pull"], _api.ImagePullSecrets("app-0", "builder"));
        Assert.NotNull(_api.GetSecret("app-0", "shared-pull"));
        Assert.Contains("shared-pull", _api.ImagePullSecrets("plain", "default"));

        await StopAsync(leader);
    }

    [Fact]
    public async Task A_service_account_that_appears_later_is_attached_within_seconds()
    {
        var leader = Start(Config(serviceAccounts: "[default, builder]"));
        await WaitForAsync(() => ProbeAsync(leader.HealthPort, "/readyz").Result == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        Assert.True(Served("app-0"));

        _api.AddServiceAccount("app-0", "builder");
        await WaitForAsync(() => Served("app-0", "builder"), TimeSpan.FromSeconds(5));
        Assert.Equal(["ecr-pull"], _api.ImagePullSecrets("app-0", "builder"));

        await StopAsync(leader);
    }

    [Fact]
    public async Task A_service_account_relabelled_into_the_selector_is_attached_and_one_relabelled_out_detached_within_seconds()
    {
        _api.AddServiceAccount("app-0", "builder", "their-pull");
        _api.SetLabels("serviceaccounts", "app-0", "default", new Dictionary<string, string> { ["pulls"] = "private" });
        var leader = Start(Config(accountSelector: "pulls=private"));
        await WaitForAsync(() => ProbeAsync(leader.HealthPort, "/readyz").Result == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        Assert.True(Served("app-0"));
        Assert.Equal(["their-pull"], _api.ImagePullSecrets("app-0", "builder"));

        _api.SetLabels("serviceaccounts", "app-0", "builder", new Dictionary<string, string> { ["pulls"] = "private" });
        await WaitForAsync(() => Served("app-0", "builder"), TimeSpan.FromSeconds(5));
        _api.SetLabels("serviceaccounts", "app-0", "default", new Dictionary<string, string>());
        await WaitForAsync(() => !_api.ImagePullSecrets("app-0", "default").Contains("ecr-pull"), TimeSpan.FromSeconds(5));
        Assert.Equal(["their-pull", "ecr-pull"], _api.ImagePullSecrets("app-0", "builder"));
        Assert.NotNull(_api.GetSecret("app-0", "ecr-pull"));

        await StopAsync(leader);
    }

    [Fact]
    public async Task SIGTERM_lets_the_leader_finish_and_release_the_lease_and_the_standby_takes_over_at_once()
    {
        var a = Start(Config(), "refresher-a");
        await WaitForAsync(() => _api.LeaseHolder("refresher", "registryinfra-refresher")?.StartsWith("refresher-a_", StringComparison.Ordinal) == true, TimeSpan.FromSeconds(20));
        await WaitForAsync(() => ProbeAsync(a.HealthPort, "/readyz").Result == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        var b = Start(Config(), "refresher-b");
        // The standby is alive and ready (readiness is not leadership), and does nothing but campaign.
        await WaitForAsync(() => ProbeAsync(b.HealthPort, "/readyz").Result == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        _api.AddNamespace("while-a", new Dictionary<string, string> { ["pull"] = "ecr" });
        _api.AddServiceAccount("while-a", "default");
        await WaitForAsync(() => Served("while-a"), TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(b.Logs.Entries, e => e.Contains("Refresh run:", StringComparison.Ordinal) || e.Contains("reconciled", StringComparison.Ordinal));
        Assert.StartsWith("refresher-a_", _api.LeaseHolder("refresher", "registryinfra-refresher"));

        var stopped = DateTime.UtcNow;
        await StopAsync(a);
        Assert.Contains(a.Logs.Entries, e => e.Contains("released lease refresher/registryinfra-refresher", StringComparison.Ordinal));
        // Released, so b does not wait out the 3 s lease.
        await WaitForAsync(() => _api.LeaseHolder("refresher", "registryinfra-refresher")?.StartsWith("refresher-b_", StringComparison.Ordinal) == true, TimeSpan.FromSeconds(5));
        Assert.True(DateTime.UtcNow - stopped < TimeSpan.FromSeconds(3), $"took {DateTime.UtcNow - stopped}");
        _api.AddNamespace("while-b", new Dictionary<string, string> { ["pull"] = "ecr" });
        _api.AddServiceAccount("while-b", "default");
        await WaitForAsync(() => Served("while-b"), TimeSpan.FromSeconds(10));

        await StopAsync(b);
        Assert.Null(_api.LeaseHolder("refresher", "registryinfra-refresher"));
    }

    [Fact]
    public async Task Tokens_are_renewed_when_they_near_expiry_without_any_namespace_event()
    {
        // Tokens live 12 h; renewing 2 s short of that puts the timer 2 s after the first run.
        var leader = Start(Config("renewBefore: \"11:59:58\""));
        await WaitForAsync(() => ProbeAsync(leader.HealthPort, "/readyz").Result == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        var first = Password("app-0");
        Assert.Single(_passwords);
        _now += TimeSpan.FromSeconds(5);

        await WaitForAsync(() => Password("app-0") != first, TimeSpan.FromSeconds(10));

        Assert.Equal(2, _passwords.Count);
        await StopAsync(leader);
        Assert.Contains(leader.Logs.Entries, e => e.Contains("Token renewal: 1 token targets", StringComparison.Ordinal));
    }

    private string Password(string ns) =>
        JsonNode.Parse(_api.GetSecretData(ns, "ecr-pull", ".dockerconfigjson")!)!["auths"]![Server]!["password"]!.GetValue<string>();

    private string CopyConfig()
    {
        var path = Path.Combine(_dir, $"copy-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, """
            registries: []
            targets:
              - secretName: static-pull
                source: {namespace: refresher, name: static-pull-source}
                namespaceSelector: pull=ecr
                serviceAccounts: [default]
            instance: refresher
            concurrency: 4
            deadline: "00:00:20"
            retryBaseDelay: "00:00:00.005"
            watch:
              leaseNamespace: refresher
              leaseName: registryinfra-refresher
              leaseDuration: 3s
              renewDeadline: 2s
              retryPeriod: 200ms
            """);
        return path;
    }

    private static byte[] Docker(string password) =>
        System.Text.Encoding.UTF8.GetBytes($$$$"""{"auths":{"harbor.example.com":{"username":"robot","password":"{{{{password}}}}"}}}""");

    private void AddSource(string password) =>
        _api.AddSecret("refresher", "static-pull-source", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = Docker(password) });

    [Fact]
    public async Task A_changed_source_reaches_every_copy_within_one_reconcile_and_a_source_event_without_a_data_change_writes_nothing()
    {
        for (var i = 1; i < 5; i++)
        {
            _api.AddNamespace($"app-{i}", new Dictionary<string, string> { ["pull"] = "ecr" });
            _api.AddServiceAccount($"app-{i}", "default");
        }
        AddSource("first-password");
        var leader = Start(CopyConfig());
        await WaitForAsync(() => ProbeAsync(leader.HealthPort, "/readyz").Result == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        var copies = Enumerable.Range(0, 5).Select(i => $"app-{i}").ToList();
        Assert.All(copies, ns => Assert.Equal(Docker("first-password"), _api.GetSecretData(ns, "static-pull", ".dockerconfigjson")));
        Assert.Null(_api.GetSecret("plain", "static-pull"));

        // Labels only: the data is the same, so nothing is queued and nothing is written.
        var writes = _api.WriteCount("secrets");
        _api.SetLabels("secrets", "refresher", "static-pull-source", new Dictionary<string, string> { ["touched"] = "yes" });
        await Task.Delay(1000, Ct);
        Assert.Equal(writes, _api.WriteCount("secrets"));

        var changed = DateTime.UtcNow;
        _api.SetSecretData("refresher", "static-pull-source", ".dockerconfigjson", Docker("second-password"));
        await WaitForAsync(() => copies.All(ns => _api.GetSecretData(ns, "static-pull", ".dockerconfigjson")!.SequenceEqual(Docker("second-password"))), TimeSpan.FromSeconds(5));
        Assert.True(DateTime.UtcNow - changed < TimeSpan.FromSeconds(5));
        Assert.Null(_api.GetSecret("plain", "static-pull"));

        await StopAsync(leader);
        Assert.Contains(leader.Logs.Entries, e => e.Contains("Source Secret refresher/static-pull-source changed: 5 namespaces queued", StringComparison.Ordinal));
        Assert.DoesNotContain("password", string.Join("\n", leader.Logs.Entries.Where(e => e.Contains("Source Secret", StringComparison.Ordinal))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_source_that_may_not_be_watched_degrades_clearly_and_its_copies_still_follow_the_resync()
    {
        AddSource("first-password");
        _api.Forbidden["GET secrets refresher/"] = true;
        var leader = Start(CopyConfig());
        await WaitForAsync(() => ProbeAsync(leader.HealthPort, "/readyz").Result == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        Assert.Equal(Docker("first-password"), _api.GetSecretData("app-0", "static-pull", ".dockerconfigjson"));

        using var http = new HttpClient();
        var body = await http.GetStringAsync($"http://127.0.0.1:{leader.HealthPort}/readyz", Ct);
        Assert.Contains("ok (degraded: source Secret refresher/static-pull-source may not be watched", body, StringComparison.Ordinal);

        await StopAsync(leader);
        Assert.Contains(leader.Logs.Entries, e => e.Contains("Source Secret refresher/static-pull-source may not be listed or watched (HTTP 403)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Watch_without_the_watch_section_is_a_configuration_error_naming_it()
    {
        var path = Path.Combine(_dir, "no-watch.yaml");
        await File.WriteAllTextAsync(path, $"""
            registries:
              - name: prod
                server: {Server}
                source:
                  type: ecr
            targets:
              - secretName: ecr-pull
                namespaces: [app-0]
            """, Ct);
        var error = new StringWriter();

        var code = await RefresherApp.RunAsync(["watch", "--config", path], null, Ct, new StringWriter(), error);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("invalid configuration: watch:", error.ToString(), StringComparison.Ordinal);
    }
}
