using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace RegistryInfra.Benchmarks;

/// <summary>
/// The published refresher process against the fake Kubernetes API in another process (<see cref="FakeKubeApiServer"/>),
/// over TLS (HTTP/2, as an API server speaks) with an injected latency per request: a first run (every Secret created,
/// every service account patched) and an unchanged run, per namespace count, latency and concurrency, each repeated on
/// a fresh API that has first served one unmeasured warm-up run on namespaces of its own (so its JIT and TLS set-up, the
/// fake's costs, do not land in the first measured run). Prints wall time, the refresher's CPU time (user + system: what
/// the run costs whatever else the machine does), the fake API's CPU time in the same run (it shares the 2 cores), requests
/// by kind, token requests, writes and peak RSS, with medians and ratios. Several refreshers (<c>--refresher A,B</c>: a
/// binary before and after a change) take turns within each repeat, each on its own fresh API, so a changing machine load
/// falls on all of them alike; the medians are per binary, and the ratios compare each to the first.
/// Arguments: <c>[--refresher PATH[,PATH...]] [--namespaces 1000,10000] [--latency-ms 0,5] [--concurrency 8,32] [--repeat 3]</c>.
/// </summary>
public sealed class RefresherBenchmark : IBenchmark
{
    public string Name => "refresher";

    public string Description => "the published refresher process against a fake API process over TLS: first and unchanged runs, medians";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var root = RepositoryRoot();
        var refreshers = (FakeKubeApiServer.Value(args, "--refresher") ?? Path.Combine(root, "artifacts", "refresher-image", "publish-linux-x64", "registryinfra-refresher"))
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var refresher in refreshers)
        {
            if (!File.Exists(refresher))
            {
                Console.Error.WriteLine($"refresher: no published refresher at {refresher}; publish it first (programs/refresher/image/build publishes the NativeAOT refresher there) or pass --refresher PATH");
                return 2;
            }
        }
        if (!File.Exists("/usr/bin/time"))
        {
            Console.Error.WriteLine("refresher: /usr/bin/time (Debian package 'time') is needed to read the peak RSS");
            return 2;
        }
        var counts = List(args, "--namespaces", "1000,10000");
        var latencies = List(args, "--latency-ms", "0,5");
        var concurrencies = List(args, "--concurrency", "8,32");
        var repeat = int.Parse(FakeKubeApiServer.Value(args, "--repeat") ?? "3", CultureInfo.InvariantCulture);
        for (var b = 0; b < refreshers.Length; b++)
        {
            Console.WriteLine($"refresher benchmark: {(refreshers.Length > 1 ? $"[{b}] " : "")}{refreshers[b]}");
        }
        Console.WriteLine($"  load average at start: {LoadAverage()}");

        var results = new List<Result>();
        var exit = 0;
        foreach (var namespaces in counts)
        {
            foreach (var latency in latencies)
            {
                foreach (var concurrency in concurrencies)
                {
                    // 10,000 namespaces is about pagination and memory: one repeat is enough there.
                    for (var r = 0; r < (namespaces > 1000 ? 1 : repeat); r++)
                    {
                        for (var b = 0; b < refreshers.Length; b++)
                        {
                            var (first, unchanged) = await RunPairAsync(refreshers[b], namespaces, latency, concurrency, cancellationToken);
                            first = first with { Binary = b };
                            unchanged = unchanged with { Binary = b };
                            results.Add(first);
                            results.Add(unchanged);
                            Console.WriteLine($"  {first}");
                            Console.WriteLine($"  {unchanged}");
                            if (first.Exit != 0 || unchanged.Exit != 0 || unchanged.Writes != 0 || unchanged.Tokens != 0)
                            {
                                Console.WriteLine("  FAIL: every run must exit 0, and an unchanged run must write nothing and ask no token");
                                exit = 1;
                            }
                        }
                    }
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("medians (ms wall; ms CPU user+system of the refresher and of the fake API; MiB peak RSS; requests per namespace):");
        foreach (var group in results.GroupBy(r => (r.Binary, r.Namespaces, r.LatencyMs, r.Concurrency, r.Run)))
        {
            var wall = Median(group.Select(r => r.Wall.TotalMilliseconds));
            var cpu = Median(group.Select(r => r.Cpu.TotalMilliseconds));
            var apiCpu = Median(group.Select(r => r.ApiCpu.TotalMilliseconds));
            var rss = Median(group.Select(r => r.PeakRssKiB / 1024.0));
            var perNamespace = Median(group.Select(r => (double)r.Requests.Values.Sum() / r.Namespaces));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {Label(group.Key.Binary)}{group.Key.Namespaces,6} ns  {group.Key.LatencyMs,2} ms  c{group.Key.Concurrency,-3} {group.Key.Run,-9}  wall {wall,7:F0}  cpu {cpu,6:F0}  api cpu {apiCpu,6:F0}  rss {rss,5:F1}  req/ns {perNamespace:F2}  (n={group.Count()})"));
        }
        Console.WriteLine("ratios:");
        for (var b = 0; b < refreshers.Length; b++)
        {
            foreach (var namespaces in counts)
            {
                foreach (var latency in latencies)
                {
                    double At(int concurrency, string run) => Median(results.Where(r => r.Binary == b && r.Namespaces == namespaces && r.LatencyMs == latency && r.Concurrency == concurrency && r.Run == run)
                        .Select(r => r.Wall.TotalMilliseconds).DefaultIfEmpty(double.NaN));
                    foreach (var concurrency in concurrencies)
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {Label(b)}{namespaces,6} ns {latency,2} ms c{concurrency,-3} unchanged/first {At(concurrency, "unchanged") / At(concurrency, "first"):F2}"));
                    }
                    if (concurrencies.Count > 1)
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {Label(b)}{namespaces,6} ns {latency,2} ms first run c{concurrencies[^1]}/c{concurrencies[0]} {At(concurrencies[^1], "first") / At(concurrencies[0], "first"):F2}"));
                    }
                }
            }
        }
        // Each binary against the first, run for run kind: the medians' ratios of wall time, the refresher's CPU and peak RSS.
        for (var b = 1; b < refreshers.Length; b++)
        {
            foreach (var group in results.Where(r => r.Binary == b).GroupBy(r => (r.Namespaces, r.LatencyMs, r.Concurrency, r.Run)))
            {
                var baseline = results.Where(r => r.Binary == 0 && (r.Namespaces, r.LatencyMs, r.Concurrency, r.Run) == group.Key).ToList();
                double Ratio(Func<Result, double> figure) => Median(group.Select(figure)) / Median(baseline.Select(figure).DefaultIfEmpty(double.NaN));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  [{b}]/[0] {group.Key.Namespaces,6} ns {group.Key.LatencyMs,2} ms c{group.Key.Concurrency,-3} {group.Key.Run,-9}  wall {Ratio(r => r.Wall.TotalMilliseconds):F2}  cpu {Ratio(r => r.Cpu.TotalMilliseconds):F2}  rss {Ratio(r => r.PeakRssKiB):F2}"));
            }
        }
        Console.WriteLine($"  load average at end: {LoadAverage()}");
        return exit;

        string Label(int binary) => refreshers.Length > 1 ? $"[{binary}] " : "";
    }

    private sealed record Result(int Namespaces, int LatencyMs, int Concurrency, string Run, TimeSpan Wall, TimeSpan Cpu, long PeakRssKiB, int Exit,
        IReadOnlyDictionary<string, int> Requests, int Tokens)
    {
        public TimeSpan ApiCpu { get; init; }

        /// <summary>Which of the <c>--refresher</c> binaries ran (0: the first).</summary>
        public int Binary { get; init; }

        public int Writes => Requests.Where(kv => kv.Key.StartsWith("POST ", StringComparison.Ordinal) || kv.Key.StartsWith("PUT ", StringComparison.Ordinal)
            || kv.Key.StartsWith("PATCH ", StringComparison.Ordinal)).Sum(kv => kv.Value);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"[{Binary}] {Namespaces,6} ns {LatencyMs,2} ms c{Concurrency,-3} {Run,-9} wall {Wall.TotalMilliseconds,7:F0} ms  cpu {Cpu.TotalMilliseconds,6:F0} ms  api cpu {ApiCpu.TotalMilliseconds,6:F0} ms  rss {PeakRssKiB / 1024.0,5:F1} MiB  exit {Exit}  tokens {Tokens}  writes {Writes}  ")
            + string.Join("  ", Requests.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value}")));
    }

    private static async Task<(Result First, Result Unchanged)> RunPairAsync(string refresher, int namespaces, int latencyMs, int concurrency, CancellationToken ct)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(RefresherBenchmark).Assembly.Location);
        }
        foreach (var a in new[] { "fake-kube-api", "--namespaces", namespaces.ToString(CultureInfo.InvariantCulture), "--latency-ms", latencyMs.ToString(CultureInfo.InvariantCulture), "--tls" })
        {
            start.ArgumentList.Add(a);
        }
        using var api = Process.Start(start)!;
        try
        {
            string? ca = null, host = null;
            while (host is null && await api.StandardOutput.ReadLineAsync(ct) is { } line)
            {
                if (line.StartsWith("ca ", StringComparison.Ordinal)) ca = line[3..];
                if (line.StartsWith("listening ", StringComparison.Ordinal)) host = line[10..];
            }
            var dir = Directory.CreateTempSubdirectory("refresher-bench-").FullName;
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
            await File.WriteAllTextAsync(config, $$"""
                registries:
                  - name: registry
                    server: registry.example.com
                    source: {type: static, username: robot, passwordEnv: BENCH_PASSWORD, lifetime: 12h}
                targets:
                  - secretName: pull
                    namespaceSelector: pull=ecr
                    serviceAccounts: [default]
                instance: bench
                concurrency: {{concurrency}}
                deadline: 10m
                """, ct);
            // Unmeasured: the fake API's own warm-up, on its warm-up namespaces, as another instance: the measured first run
            // must not find the warm-up's secrets as its own (left the selection: pruned) and prune them.
            var warmUp = Path.Combine(dir, "warm-up.yaml");
            await File.WriteAllTextAsync(warmUp, (await File.ReadAllTextAsync(config, ct)).Replace("pull=ecr", "pull=warm-up", StringComparison.Ordinal)
                .Replace("instance: bench", "instance: bench-warm-up", StringComparison.Ordinal), ct);
            await RunRefresherAsync(refresher, warmUp, kubeconfig, api, FakeKubeApiServer.WarmUpNamespaces, latencyMs, concurrency, "warm-up", ct);
            var first = await RunRefresherAsync(refresher, config, kubeconfig, api, namespaces, latencyMs, concurrency, "first", ct);
            var unchanged = await RunRefresherAsync(refresher, config, kubeconfig, api, namespaces, latencyMs, concurrency, "unchanged", ct);
            Directory.Delete(dir, recursive: true);
            return (first, unchanged);
        }
        finally
        {
            api.StandardInput.Close();
            if (!api.WaitForExit(10_000))
            {
                api.Kill();
            }
        }
    }

    private static async Task<Result> RunRefresherAsync(string refresher, string config, string kubeconfig, Process api, int namespaces, int latencyMs, int concurrency, string run, CancellationToken ct)
    {
        await api.StandardInput.WriteLineAsync("reset".AsMemory(), ct);
        await api.StandardOutput.ReadLineAsync(ct);
        var apiCpuBefore = await ApiCpuAsync(api, ct);
        var rssFile = Path.GetTempFileName();
        var start = new ProcessStartInfo("/usr/bin/time") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-f", "%M %U %S", "-o", rssFile, refresher, "refresh", "--config", config, "--kubeconfig", kubeconfig })
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["BENCH_PASSWORD"] = "benchmark-" + Guid.NewGuid().ToString("N");
        start.Environment.Remove("REFRESHER_CONFIG");
        start.Environment.Remove("KUBECONFIG");
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        clock.Stop();
        var output = await stdout + await stderr;
        // GNU time's last line: peak RSS in KiB, user and system CPU seconds.
        var measured = (await File.ReadAllTextAsync(rssFile, ct)).Trim().Split('\n')[^1].Split(' ');
        var rss = long.Parse(measured[0], CultureInfo.InvariantCulture);
        var cpu = TimeSpan.FromSeconds(double.Parse(measured[1], CultureInfo.InvariantCulture) + double.Parse(measured[2], CultureInfo.InvariantCulture));
        File.Delete(rssFile);
        await api.StandardInput.WriteLineAsync("stats".AsMemory(), ct);
        var stats = JsonNode.Parse((await api.StandardOutput.ReadLineAsync(ct))!)!.AsObject();
        var requests = stats.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>(), StringComparer.Ordinal);
        var apiCpu = await ApiCpuAsync(api, ct) - apiCpuBefore;
        var tokens = TokenRequests(output);
        if (process.ExitCode != 0)
        {
            Console.WriteLine(output.Length > 4000 ? output[^4000..] : output);
        }
        return new Result(namespaces, latencyMs, concurrency, run, clock.Elapsed, cpu, rss, process.ExitCode, requests, tokens) { ApiCpu = apiCpu };
    }

    private static async Task<TimeSpan> ApiCpuAsync(Process api, CancellationToken ct)
    {
        await api.StandardInput.WriteLineAsync("cpu".AsMemory(), ct);
        return TimeSpan.FromMilliseconds(double.Parse((await api.StandardOutput.ReadLineAsync(ct))!, CultureInfo.InvariantCulture));
    }

    /// <summary>The summary line's token count ("token requests N").</summary>
    private static int TokenRequests(string output)
    {
        const string marker = "token requests ";
        // The JSON line also carries the message template ("token requests {TokenRequests}"): take the figure.
        for (var at = output.LastIndexOf(marker, StringComparison.Ordinal); at >= 0; at = at == 0 ? -1 : output.LastIndexOf(marker, at - 1, StringComparison.Ordinal))
        {
            var digits = new string([.. output[(at + marker.Length)..].TakeWhile(char.IsAsciiDigit)]);
            if (digits.Length > 0)
            {
                return int.Parse(digits, CultureInfo.InvariantCulture);
            }
        }
        return -1;
    }

    private static List<int> List(string[] args, string name, string fallback) =>
        [.. (FakeKubeApiServer.Value(args, name) ?? fallback).Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

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
