using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>Publishes the program once, as the Containerfile does, and runs the published binary.</summary>
public sealed class PublishedProgramFixture : IAsyncLifetime
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("refresher-publish-").FullName;

    public string Dll => Path.Combine(Directory, "registryinfra-refresher.dll");

    /// <summary>A kubeconfig pointing the real client at <paramref name="api"/> with a dummy token.</summary>
    public async Task<string> WriteKubeconfigAsync(FakeKubeApi api, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Directory, "kubeconfig-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: fake
                cluster: {"{"}server: "{api.Host}"{"}"}
            users:
              - name: fake
                user: {"{"}token: "not-a-real-token"{"}"}
            contexts:
              - name: fake
                context: {"{"}cluster: fake, user: fake{"}"}
            current-context: fake
            """, cancellationToken);
        return path;
    }

    /// <summary>Writes a refresher configuration file and returns its path.</summary>
    public async Task<string> WriteConfigAsync(string yaml, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Directory, "config-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(path, yaml, cancellationToken);
        return path;
    }

    public async ValueTask InitializeAsync()
    {
        var project = Path.Combine(Requirements.RepositoryRoot, "programs", "refresher", "RegistryInfra.Refresher.csproj");
        // A guard against a hung publish, not a speed target: on two shared cores under load a cold publish took over 5 minutes.
        var (code, output) = await ProcessRun.RunAsync("dotnet", ["publish", project, "-c", "Release", "-o", Directory, "--nologo", "-v", "quiet"],
            new Dictionary<string, string?>(), TimeSpan.FromMinutes(15));
        Assert.True(code == 0, "dotnet publish failed:\n" + output);
    }

    public ValueTask DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}

internal static class ProcessRun
{
    public static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, IDictionary<string, string?> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (k, v) in environment)
        {
            start.Environment[k] = v;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}

public sealed class PublishedProgramTests(PublishedProgramFixture published) : IClassFixture<PublishedProgramFixture>
{
    [Fact]
    public async Task The_published_binary_prints_help()
    {
        var (code, output) = await ProcessRun.RunAsync("dotnet", [published.Dll, "--help"], new Dictionary<string, string?>(), TimeSpan.FromMinutes(1));

        Assert.Equal(0, code);
        Assert.Contains("refresh", output, StringComparison.Ordinal);
        Assert.Contains("check", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refresh_through_a_kubeconfig_logs_json_lines_with_a_summary_and_no_credential()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        api.AddNamespace("web");
        api.AddNamespace("jobs");
        var kubeconfig = await published.WriteKubeconfigAsync(api, TestContext.Current.CancellationToken);
        var config = await published.WriteConfigAsync("""
            registries:
              - server: registry.example.com:5000
                source: {type: static, username: robot, passwordEnv: REGISTRY_PASSWORD, lifetime: "24:00:00"}
            targets:
              - secretName: example-pull
                namespaces: [web, jobs, missing-namespace]
            """, TestContext.Current.CancellationToken);
        var password = "p4ss-" + Guid.NewGuid().ToString("N");

        var (code, output) = await ProcessRun.RunAsync("dotnet", [published.Dll, "refresh", "--config", config, "--kubeconfig", kubeconfig],
            new Dictionary<string, string?> { ["REGISTRY_PASSWORD"] = password, ["REFRESHER_CONFIG"] = null, ["KUBECONFIG"] = null }, TimeSpan.FromMinutes(1));

        Assert.Equal(1, code); // the missing namespace is a failed target
        Assert.NotNull(api.GetSecret("web", "example-pull"));
        Assert.NotNull(api.GetSecret("jobs", "example-pull"));
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.NotNull(JsonNode.Parse(l)!["LogLevel"]));
        Assert.Contains(lines, l => l.Contains("Refresh run: checked 3, written 2", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"Reason\":\"NotFound\"", StringComparison.Ordinal));
        Assert.DoesNotContain(password, output, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("robot:" + password)), output, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-real-token", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_watch_mode_the_published_binary_serves_a_namespace_created_after_start_and_releases_its_lease_on_SIGTERM()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: ct);
        api.AddNamespace("refresher");
        api.AddNamespace("web", new Dictionary<string, string> { ["pull"] = "yes" });
        api.AddServiceAccount("web", "default");
        var kubeconfig = await published.WriteKubeconfigAsync(api, ct);
        var config = await published.WriteConfigAsync("""
            registries:
              - server: registry.example.com:5000
                source: {type: static, username: robot, passwordEnv: REGISTRY_PASSWORD, lifetime: 24h}
            targets:
              - secretName: example-pull
                namespaceSelector: pull=yes
                serviceAccounts: [default]
            instance: refresher
            watch: {leaseNamespace: refresher, leaseName: registryinfra-refresher}
            """, ct);
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { published.Dll, "watch", "--config", config, "--kubeconfig", kubeconfig, "--health-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["REGISTRY_PASSWORD"] = "p4ss-" + Guid.NewGuid().ToString("N");
        start.Environment["POD_NAME"] = "refresher-0";
        start.Environment.Remove("REFRESHER_CONFIG");
        start.Environment.Remove("KUBECONFIG");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            using var http = new HttpClient();
            await FakeKubeWatchTests.WaitForAsync(() =>
            {
                try
                {
                    return http.GetAsync($"http://127.0.0.1:{port}/readyz", ct).Result.IsSuccessStatusCode;
                }
                catch (AggregateException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60));
            Assert.NotNull(api.GetSecret("web", "example-pull"));

            api.AddNamespace("late", new Dictionary<string, string> { ["pull"] = "yes" });
            api.AddServiceAccount("late", "default");
            await FakeKubeWatchTests.WaitForAsync(() => api.GetSecret("late", "example-pull") is not null && api.ImagePullSecrets("late", "default").Contains("example-pull"),
                TimeSpan.FromSeconds(10));
            Assert.StartsWith("refresher-0_", api.LeaseHolder("refresher", "registryinfra-refresher"));
        }
        finally
        {
            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!process.WaitForExit(30_000))
            {
                process.Kill();
            }
        }
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, output);
        Assert.Null(api.LeaseHolder("refresher", "registryinfra-refresher"));
        Assert.Contains("Namespace late reconciled", output, StringComparison.Ordinal);
        Assert.DoesNotContain(start.Environment["REGISTRY_PASSWORD"]!, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_attach_only_configuration_without_registries_attaches_and_exits_zero()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: ct);
        api.AddNamespace("web");
        api.AddNamespace("new-team");
        var data = Encoding.UTF8.GetBytes("""{"auths":{"ghcr.io":{"auth":"b2N0bzpnaHBfc3RhdGljLXZhbHVl"}}}""");
        api.AddSecret("web", "registry-credentials", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = data });
        api.AddServiceAccount("web", "default", "theirs");
        api.AddServiceAccount("new-team", "default");
        var kubeconfig = await published.WriteKubeconfigAsync(api, ct);
        var config = await published.WriteConfigAsync("""
            targets:
              - secretName: registry-credentials
                attachOnly: true
                namespaces: [web, new-team]
                serviceAccounts: [default]
            """, ct);

        var (code, output) = await ProcessRun.RunAsync("dotnet", [published.Dll, "refresh", "--config", config, "--kubeconfig", kubeconfig],
            new Dictionary<string, string?> { ["REFRESHER_CONFIG"] = null, ["KUBECONFIG"] = null }, TimeSpan.FromMinutes(1));

        Assert.True(code == 0, output);
        Assert.Equal(["theirs", "registry-credentials"], api.ImagePullSecrets("web", "default"));
        Assert.Empty(api.ImagePullSecrets("new-team", "default"));
        Assert.Equal(data, api.GetSecretData("web", "registry-credentials", ".dockerconfigjson"));
        Assert.Equal((0, 2), (api.WriteCount("secrets"), api.RequestCount("GET-METADATA", "secrets")));
        Assert.Contains("attached 1, skipped 1, failed 0, not started 0, token requests 0, service accounts patched 1", output, StringComparison.Ordinal);
        Assert.DoesNotContain("b2N0bzpnaHBfc3RhdGljLXZhbHVl", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_an_otlp_endpoint_the_run_exports_its_metrics_before_exiting()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var receiver = await OtlpReceiver.StartAsync(ct);
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: ct);
        api.AddNamespace("web");
        var kubeconfig = await published.WriteKubeconfigAsync(api, ct);
        var config = await published.WriteConfigAsync("""
            registries:
              - server: registry.example.com:5000
                source: {type: static, username: robot, passwordEnv: REGISTRY_PASSWORD, lifetime: 24h}
            targets:
              - secretName: example-pull
                namespaces: [web]
            """, ct);
        var password = "p4ss-" + Guid.NewGuid().ToString("N");

        // The default export interval is a minute: only the flush at exit can deliver within this test's time.
        var (code, output) = await ProcessRun.RunAsync("dotnet", [published.Dll, "refresh", "--config", config, "--kubeconfig", kubeconfig],
            new Dictionary<string, string?>
            {
                ["REGISTRY_PASSWORD"] = password,
                ["REFRESHER_CONFIG"] = null,
                ["KUBECONFIG"] = null,
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = null,
            }, TimeSpan.FromMinutes(1));

        Assert.True(code == 0, output);
        string[] names = ["registryinfra.refresher.secret.writes", "registryinfra.refresher.token.requests", "registryinfra.refresher.token.expiry"];
        var (contentType, body) = await receiver.WaitForAsync(names, TimeSpan.FromSeconds(5), ct);
        Assert.Equal("application/x-protobuf", contentType);
        var text = Encoding.UTF8.GetString(body);
        Assert.Contains("registryinfra-refresher", text, StringComparison.Ordinal);
        Assert.DoesNotContain(password, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("robot:" + password)), text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_bare_the_published_binary_prints_usage_and_no_host_noise()
    {
        var (code, output) = await ProcessRun.RunAsync("dotnet", [published.Dll], new Dictionary<string, string?>(), TimeSpan.FromMinutes(1));

        Assert.Equal(2, code);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Press Ctrl+C", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_prints_only_its_own_json_lines_with_iso_8601_utc_times()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: ct);
        api.AddNamespace("web");
        var kubeconfig = await published.WriteKubeconfigAsync(api, ct);
        var config = await published.WriteConfigAsync("""
            registries:
              - server: registry.example.com
                source: {type: static, username: robot, passwordEnv: REGISTRY_PASSWORD, lifetime: 24h}
            targets:
              - secretName: example-pull
                namespaces: [web]
            """, ct);

        var (code, output) = await ProcessRun.RunAsync("dotnet", [published.Dll, "refresh", "--config", config, "--kubeconfig", kubeconfig],
            new Dictionary<string, string?> { ["REGISTRY_PASSWORD"] = "p4ss-" + Guid.NewGuid().ToString("N"), ["REFRESHER_CONFIG"] = null, ["KUBECONFIG"] = null }, TimeSpan.FromMinutes(1));

        Assert.True(code == 0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.DoesNotContain(lines, l => l["Category"]!.GetValue<string>().StartsWith("Microsoft.Hosting", StringComparison.Ordinal));
        Assert.DoesNotContain("Press Ctrl+C", output, StringComparison.Ordinal);
        Assert.All(lines, l => Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", l["Timestamp"]!.GetValue<string>()));
        var summary = lines.Single(l => l["Message"]!.GetValue<string>().StartsWith("Refresh run:", StringComparison.Ordinal));
        Assert.Matches(@"earliest expiry \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", summary["Message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sigterm_stops_new_work_lets_the_writes_in_flight_finish_and_exits_one_within_the_grace_period()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var api = await FakeKubeApi.StartAsync(new FakeKubeFaults { Latency = TimeSpan.FromMilliseconds(400) }, ct);
        api.AddNamespaces(Enumerable.Range(0, 20).Select(i => $"team-{i:D2}"), labels: null, serviceAccount: null);
        var kubeconfig = await published.WriteKubeconfigAsync(api, ct);
        var config = await published.WriteConfigAsync("""
            registries:
              - server: registry.example.com
                source: {type: static, username: robot, passwordEnv: REGISTRY_PASSWORD, lifetime: 24h}
            targets:
              - secretName: example-pull
                allNamespaces: true
            instance: example
            concurrency: 2
            """, ct);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { published.Dll, "refresh", "--config", config, "--kubeconfig", kubeconfig })
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["REGISTRY_PASSWORD"] = "p4ss-" + Guid.NewGuid().ToString("N");
        start.Environment.Remove("REFRESHER_CONFIG");
        start.Environment.Remove("KUBECONFIG");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        while (api.RequestCount("POST", "secrets") == 0)
        {
            await Task.Delay(10, ct);
        }
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(ct);
        }
        var signalled = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(25));
        await process.WaitForExitAsync(timeout.Token);
        signalled.Stop();
        var output = await stdout + await stderr;

        Assert.True(process.ExitCode == 1, output);
        Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(10), $"exited {signalled.Elapsed} after SIGTERM");
        var posts = api.RequestCount("POST", "secrets");
        Assert.InRange(posts, 1, 6);
        Assert.Equal(posts, Enumerable.Range(0, 20).Count(i => api.GetSecret($"team-{i:D2}", "example-pull") is not null));
        Assert.Contains("stopped True", output, StringComparison.Ordinal);
        Assert.Contains("failed 0", output, StringComparison.Ordinal);
    }
}
