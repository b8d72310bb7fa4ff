using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace RegistryInfra.Benchmarks;

/// <summary>
/// The published refresher in watch mode (its own process) against the fake Kubernetes API in another
/// (<see cref="FakeKubeApiServer"/>, TLS, a latency per request):
/// <list type="bullet">
/// <item><c>watch</c>: after the first full run over the existing namespaces (readiness), new namespaces appear one at a
/// time; the time from each namespace's creation to its Secret present and its service account patched is measured in the
/// fake's process (polled every millisecond): median and p99 over <c>--new</c> namespaces, and the requests each cost;</item>
/// <item><c>relist</c>: with <c>--relist-namespaces</c> namespaces, the history is compacted and the watches cut, so the
/// refresher's reconnect is answered 410 Gone and it lists again (paginated, 500 a page) before watching: the requests,
/// the time from the first LIST to both watches open again, and the refresher's peak RSS (VmHWM) before and after.</item>
/// </list>
/// Arguments: <c>[--refresher PATH] [--namespaces 1000] [--new 100] [--latency-ms 5] [--relist-namespaces 10000] [--skip-relist]</c>.
/// </summary>
public sealed class WatchBenchmark : IBenchmark
{
    public string Name => "watch";

    public string Description => "the published refresher in watch mode against a fake API process: new namespace to served (median, p99), a 410 relist";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var refresher = BenchmarkArgs.Text(args, "--refresher") ?? Path.Combine(RepositoryRoot(), "artifacts", "refresher-image", "publish-linux-x64", "registryinfra-refresher");
        if (!File.Exists(refresher))
        {
            Console.Error.WriteLine($"watch: no published refresher at {refresher}; publish it (dotnet publish programs/refresher -c Release -r linux-x64) or pass --refresher PATH");
            return 2;
        }
        var namespaces = BenchmarkArgs.Option(args, "--namespaces", 1000);
        var fresh = BenchmarkArgs.Option(args, "--new", 100);
        var latency = BenchmarkArgs.Option(args, "--latency-ms", 5);
        var relistCount = BenchmarkArgs.Option(args, "--relist-namespaces", 10_000);
        Console.WriteLine($"watch benchmark: {refresher}");
        Console.WriteLine($"  load average at start: {BenchmarkArgs.LoadAverage()}");
        var exit = 0;

        await using (var session = await Session.StartAsync(refresher, namespaces, latency, cancellationToken))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {namespaces} namespaces at {latency} ms: ready (first full run done) after {session.ReadyAfter.TotalSeconds:F1} s"));
            await session.CommandAsync("reset", cancellationToken);
            var times = new List<double>();
            var timeouts = 0;
            for (var i = 0; i < fresh; i++)
            {
                var answer = await session.CommandAsync($"serve new-{i:D4}", cancellationToken);
                if (double.TryParse(answer, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
                {
                    times.Add(ms);
                }
                else
                {
                    timeouts++;
                }
                await Task.Delay(20, cancellationToken);
            }
            var stats = await session.StatsAsync(cancellationToken);
            times.Sort();
            var median = Percentile(times, 0.5);
            var p99 = Percentile(times, 0.99);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  new namespace to Secret present and service account patched, {times.Count} namespaces: median {median:F0} ms, p99 {p99:F0} ms, min {times.FirstOrDefault():F0} ms, max {times.LastOrDefault():F0} ms, timeouts {timeouts}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  requests per new namespace {(double)stats.Where(kv => !kv.Key.StartsWith("WATCH", StringComparison.Ordinal) && !kv.Key.EndsWith("leases", StringComparison.Ordinal)).Sum(kv => kv.Value) / Math.Max(1, fresh):F2} (lease renewals apart: {stats.Where(kv => kv.Key.EndsWith("leases", StringComparison.Ordinal)).Sum(kv => kv.Value)}):  ")
                + string.Join("  ", stats.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  goal median <= 1000 ms: {(median <= 1000 && timeouts == 0 ? "met" : "NOT met")}; p99/median {p99 / median:F2}"));
            if (timeouts > 0 || times.Count == 0)
            {
                exit = 1;
            }
        }

        if (!args.Contains("--skip-relist"))
        {
            await using var session = await Session.StartAsync(refresher, relistCount, latency, cancellationToken);
            var before = session.PeakRssKiB();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {relistCount} namespaces at {latency} ms: ready after {session.ReadyAfter.TotalSeconds:F1} s (first full run), peak RSS so far {before / 1024.0:F1} MiB"));
            // Ready means the first full run is done; the watches may open a moment later. Cut them only once both are open, so
            // that the cut always meets them and their reconnect always finds the history compacted (410, then the relist).
            var opening = Stopwatch.StartNew();
            while (int.Parse(await session.CommandAsync("watches", cancellationToken), CultureInfo.InvariantCulture) < 2)
            {
                if (opening.Elapsed > TimeSpan.FromMinutes(1))
                {
                    throw new InvalidOperationException("the refresher's two watches did not open within a minute of its readiness");
                }
                await Task.Delay(10, cancellationToken);
            }
            await session.CommandAsync("reset", cancellationToken);
            await session.CommandAsync("compact", cancellationToken);
            var clock = Stopwatch.StartNew();
            await session.CommandAsync("drop", cancellationToken);
            TimeSpan? firstList = null;
            while (clock.Elapsed < TimeSpan.FromMinutes(5))
            {
                var stats = await session.StatsAsync(cancellationToken);
                firstList ??= stats.Keys.Any(k => k.StartsWith("LIST ", StringComparison.Ordinal)) ? clock.Elapsed : null;
                if (stats.GetValueOrDefault("WATCH namespaces") >= 2 && stats.GetValueOrDefault("WATCH serviceaccounts") >= 2
                    && int.Parse(await session.CommandAsync("watches", cancellationToken), CultureInfo.InvariantCulture) == 2)
                {
                    break;
                }
                await Task.Delay(10, cancellationToken);
            }
            var done = clock.Elapsed;
            var final = await session.StatsAsync(cancellationToken);
            var after = session.PeakRssKiB();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  relist after 410 Gone: {done.TotalSeconds:F2} s from the cut to both watches open again ({(done - (firstList ?? TimeSpan.Zero)).TotalSeconds:F2} s from the first LIST; the rest is the reconnect backoff), peak RSS {after / 1024.0:F1} MiB (before {before / 1024.0:F1})  ")
                + string.Join("  ", final.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
            var writes = final.Where(kv => kv.Key.StartsWith("POST", StringComparison.Ordinal) || kv.Key.StartsWith("PATCH", StringComparison.Ordinal)
                || (kv.Key.StartsWith("PUT", StringComparison.Ordinal) && !kv.Key.EndsWith("leases", StringComparison.Ordinal))).Sum(kv => kv.Value);
            Console.WriteLine($"  writes caused by the relist (nothing changed): {writes}");
            if (writes != 0)
            {
                exit = 1;
            }
        }
        Console.WriteLine($"  load average at end: {BenchmarkArgs.LoadAverage()}");
        return exit;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>A fake API process and a refresher in watch mode against it, ready (its first full run done).</summary>
    private sealed class Session : IAsyncDisposable
    {
        private readonly Process _api;
        private readonly Process _refresher;
        private readonly string _dir;
        private readonly Task<string> _output;

        private Session(Process api, Process refresher, string dir, Task<string> output)
        {
            _api = api;
            _refresher = refresher;
            _dir = dir;
            _output = output;
        }

        public TimeSpan ReadyAfter { get; private set; }

        public static async Task<Session> StartAsync(string refresher, int namespaces, int latencyMs, CancellationToken ct)
        {
            var self = Environment.ProcessPath!;
            var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(typeof(WatchBenchmark).Assembly.Location);
            }
            foreach (var a in new[] { "fake-kube-api", "--namespaces", namespaces.ToString(CultureInfo.InvariantCulture), "--latency-ms", latencyMs.ToString(CultureInfo.InvariantCulture), "--tls" })
            {
                start.ArgumentList.Add(a);
            }
            var api = Process.Start(start)!;
            string? ca = null, host = null;
            while (host is null && await api.StandardOutput.ReadLineAsync(ct) is { } line)
            {
                if (line.StartsWith("ca ", StringComparison.Ordinal)) ca = line[3..];
                if (line.StartsWith("listening ", StringComparison.Ordinal)) host = line[10..];
            }
            var dir = Directory.CreateTempSubdirectory("watch-bench-").FullName;
            var kubeconfig = Path.Combine(dir, "kubeconfig");
            await File.WriteAllTextAsync(kubeconfig, $$$"""
                apiVersion: v1
                kind: Config
                clusters: [{name: fake, cluster: {server: "{{{host}}}", certificate-authority: "{{{ca}}}"}}]
                users: [{name: fake, user: {token: not-a-real-token}}]
                contexts: [{name: fake, context: {cluster: fake, user: fake}}]
                current-context: fake
                """, ct);
            var config = Path.Combine(dir, "config.yaml");
            // The lease lives in one of the fake's namespaces (it holds only ns-NNNNN and warm-NNN).
            await File.WriteAllTextAsync(config, """
                registries:
                  - name: registry
                    server: registry.example.com
                    source: {type: static, username: robot, passwordEnv: BENCH_PASSWORD, lifetime: 12h}
                targets:
                  - secretName: pull
                    namespaceSelector: pull=ecr
                    serviceAccounts: [default]
                instance: bench
                concurrency: 32
                deadline: 10m
                watch:
                  leaseNamespace: warm-000
                  leaseName: registryinfra-refresher
                """, ct);
            var port = FreePort();
            var run = new ProcessStartInfo(refresher) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "watch", "--config", config, "--kubeconfig", kubeconfig, "--health-port", port.ToString(CultureInfo.InvariantCulture) })
            {
                run.ArgumentList.Add(a);
            }
            run.Environment["BENCH_PASSWORD"] = "benchmark-" + Guid.NewGuid().ToString("N");
            run.Environment["POD_NAME"] = "bench";
            run.Environment.Remove("REFRESHER_CONFIG");
            run.Environment.Remove("KUBECONFIG");
            var clock = Stopwatch.StartNew();
            var process = Process.Start(run)!;
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            var session = new Session(api, process, dir, Task.WhenAll(stdout, stderr).ContinueWith(t => string.Concat(t.Result), TaskScheduler.Default));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"the refresher exited with {process.ExitCode}: {await session._output}");
                }
                try
                {
                    using var ready = await http.GetAsync($"http://127.0.0.1:{port}/readyz", ct);
                    if (ready.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException) when (!ct.IsCancellationRequested)
                {
                }
                await Task.Delay(50, ct);
            }
            session.ReadyAfter = clock.Elapsed;
            return session;
        }

        public async Task<string> CommandAsync(string command, CancellationToken ct)
        {
            await _api.StandardInput.WriteLineAsync(command.AsMemory(), ct);
            return (await _api.StandardOutput.ReadLineAsync(ct))!.Trim();
        }

        public async Task<Dictionary<string, int>> StatsAsync(CancellationToken ct) =>
            JsonNode.Parse(await CommandAsync("stats", ct))!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>(), StringComparer.Ordinal);

        /// <summary>The refresher's peak resident set so far (VmHWM, KiB).</summary>
        public long PeakRssKiB()
        {
            var line = File.ReadLines($"/proc/{_refresher.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }

        public async ValueTask DisposeAsync()
        {
            // SIGTERM, as the kubelet stops a pod: the refresher finishes and releases its lease.
            if (!_refresher.HasExited)
            {
                Process.Start("kill", ["-TERM", _refresher.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
                if (!_refresher.WaitForExit(30_000))
                {
                    _refresher.Kill();
                }
            }
            var output = await _output;
            if (_refresher.ExitCode != 0)
            {
                Console.WriteLine($"  refresher exited with {_refresher.ExitCode}: {(output.Length > 4000 ? output[^4000..] : output)}");
            }
            _api.StandardInput.Close();
            if (!_api.WaitForExit(10_000))
            {
                _api.Kill();
            }
            _refresher.Dispose();
            _api.Dispose();
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RegistryInfra.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
