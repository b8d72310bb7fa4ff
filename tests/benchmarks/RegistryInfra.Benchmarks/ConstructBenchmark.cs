using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing;
using static RegistryInfra.Benchmarks.BenchmarkArgs;
using RegistryInfra.Testing.Plugin;

namespace RegistryInfra.Benchmarks;

/// <summary>
/// Construct of <c>ClusterRegistryAccess</c> through the shipped path: the NativeAOT plugin started as the engine starts
/// it, Construct over gRPC, its children registered with the fake ResourceMonitor running as a process of its own (so the
/// plugin's CPU time and peak memory are its own). Measures one cluster with a create latency against the critical path
/// of its children, and fleets with instant creates (registrations/s, plugin CPU per registration, peak RSS at two fleet
/// sizes, each in a fresh plugin process); beside it a component provider on the official Node.js SDK
/// (tests/npm/construct-component.js) that registers the same children, replayed from what the plugin registered,
/// through the same monitor; with <c>--baseline PATH</c>, another plugin build through the same runs. Each measurement
/// warms up until the harness and the monitor (JIT processes, unlike the plugin) have stopped compiling, so that their
/// tiering does not take the plugin's share of the cores in the measured runs.
/// Arguments: <c>[--clusters 100] [--namespaces 20] [--runs 5] [--latency-ms 50] [--parallel 4] [--plugin PATH]
/// [--baseline PATH] [--rounds 1] [--no-node] [--monitor-gen0-mib 4]</c>; with a baseline, <c>--rounds N</c> measures the
/// large fleet N times for each build, alternating, and reports the round with the median rate and each round's ratio. The monitor's collector runs with a small gen0 budget (4 MiB;
/// 0 for the runtime's default, tens of MiB here): with the default its few collections each stopped it for about 60 ms
/// while the plugin waited (280-410 ms of a 1.7 s run at 100 clusters before the monitor kept its records in an arena).
/// </summary>
public sealed class ConstructBenchmark : IBenchmark
{
    public string Name => "construct";

    public string Description => "NativeAOT plugin via the Construct RPC, fake monitor in its own process, 50 ms and instant creates; beside the Node.js SDK; medians";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var clusters = Option(args, "--clusters", 100);
        var namespaces = Option(args, "--namespaces", 20);
        var runs = Option(args, "--runs", 5);
        var latencyMs = Option(args, "--latency-ms", 50);
        var parallel = Option(args, "--parallel", 4);
        var pluginPath = Text(args, "--plugin") ?? Requirements.PluginArtifact;
        var baselinePath = Text(args, "--baseline");
        var withNode = !args.Contains("--no-node");
        var monitorGen0MiB = Option(args, "--monitor-gen0-mib", 4);
        var rounds = Math.Max(1, Option(args, "--rounds", 1));
        var smallFleet = Math.Max(1, clusters / 10);
        if (!File.Exists(pluginPath))
        {
            Console.Error.WriteLine($"construct: {pluginPath} does not exist; build it with `bash provider/build`");
            return 2;
        }
        var nodeScript = Path.Combine(Requirements.RepositoryRoot, "tests", "npm", "construct-component.js");
        if (withNode && (Requirements.FindOnPath("node") is null || !Directory.Exists(Path.Combine(Requirements.RepositoryRoot, "tests", "npm", "node_modules"))))
        {
            Console.Error.WriteLine("construct: node or tests/npm/node_modules is missing (apt-get install nodejs npm; cd tests/npm && npm ci), or pass --no-node");
            return 2;
        }

        await using var monitor = await MonitorProcess.StartAsync(monitorGen0MiB, cancellationToken);
        Console.WriteLine($"fake monitor: gen0 budget {(monitorGen0MiB > 0 ? $"{monitorGen0MiB} MiB" : "the runtime's default")}");
        var plan = Path.Combine(Path.GetTempPath(), $"registryinfra-construct-plan-{Environment.ProcessId}.json");
        var results = new List<Result>();
        try
        {
            Console.WriteLine($"load average at start: {LoadAverage()}");
            Console.WriteLine($"one cluster x {namespaces} namespaces, {latencyMs} ms per create, {runs} runs after warm-up runs (until the harness and the monitor stop JIT-compiling, at most {MaxWarmUps})");
            var one = await MeasureAsync("plugin", pluginPath, null, monitor, 1, namespaces, runs, latencyMs, 1, cancellationToken);
            results.Add(one);
            await monitor.CommandAsync($"plan {plan}", cancellationToken);
            var criticalSeconds = one.CriticalPath * latencyMs / 1000.0;
            Console.WriteLine($"  critical path: {one.CriticalPath} creates one after another = {criticalSeconds:F2} s");
            Result? nodeOne = null;
            if (withNode)
            {
                nodeOne = await MeasureAsync("node-sdk", nodeScript, plan, monitor, 1, namespaces, runs, latencyMs, 1, cancellationToken);
                results.Add(nodeOne);
            }
            Result? baselineOne = null;
            if (baselinePath is not null)
            {
                baselineOne = await MeasureAsync("baseline", baselinePath, null, monitor, 1, namespaces, runs, latencyMs, 1, cancellationToken);
                results.Add(baselineOne);
            }

            Console.WriteLine($"fleets, instant creates, {parallel} Constructs at a time, {runs} runs after warm-up runs, a fresh process per fleet");
            var small = await MeasureAsync("plugin", pluginPath, null, monitor, smallFleet, namespaces, runs, 0, parallel, cancellationToken);
            results.Add(small);
            // With a baseline the large fleet alternates between the builds, round after round, so that a change of the
            // machine's load between them falls on both.
            var largeRounds = new List<Result>();
            var baselineRounds = new List<Result>();
            for (var round = 0; round < (baselinePath is null ? 1 : rounds); round++)
            {
                largeRounds.Add(await MeasureAsync("plugin", pluginPath, null, monitor, clusters, namespaces, runs, 0, parallel, cancellationToken));
                if (baselinePath is not null)
                {
                    baselineRounds.Add(await MeasureAsync("baseline", baselinePath, null, monitor, clusters, namespaces, runs, 0, parallel, cancellationToken));
                }
            }
            var large = MedianRound(largeRounds);
            results.Add(large);
            Result? nodeSmall = null;
            if (withNode)
            {
                nodeSmall = await MeasureAsync("node-sdk", nodeScript, plan, monitor, smallFleet, namespaces, Math.Min(runs, 3), 0, parallel, cancellationToken);
                results.Add(nodeSmall);
            }
            Result? baselineLarge = null;
            if (baselinePath is not null)
            {
                baselineLarge = MedianRound(baselineRounds);
                results.Add(baselineLarge);
            }

            Console.WriteLine();
            Console.WriteLine("summary (medians):");
            foreach (var result in results)
            {
                Console.WriteLine("  " + result);
            }
            Console.WriteLine($"  one cluster, {latencyMs} ms creates: plugin / critical path = {one.Median / criticalSeconds:F2}");
            if (nodeOne is not null)
            {
                Console.WriteLine($"  one cluster, {latencyMs} ms creates: plugin / Node.js SDK = {one.Median / nodeOne.Median:F3}");
            }
            if (baselineOne is not null)
            {
                Console.WriteLine($"  one cluster, {latencyMs} ms creates: plugin / baseline = {one.Median / baselineOne.Median:F3}");
            }
            Console.WriteLine($"  fleet {clusters}x{namespaces}: {large.PerSecond:F0} registrations/s; peak RSS {large.PeakRssMiB:F0} MiB at {clusters} clusters / {small.PeakRssMiB:F0} MiB at {smallFleet} = {large.PeakRssMiB / small.PeakRssMiB:F2}");
            if (nodeSmall is not null)
            {
                Console.WriteLine($"  fleet {smallFleet}x{namespaces}: plugin / Node.js SDK registrations/s = {small.PerSecond / nodeSmall.PerSecond:F1}, CPU per registration = {small.CpuMicrosPerRegistration / nodeSmall.CpuMicrosPerRegistration:F3}");
            }
            if (baselineLarge is not null)
            {
                Console.WriteLine($"  fleet {clusters}x{namespaces}: plugin / baseline registrations/s = {large.PerSecond / baselineLarge.PerSecond:F2}, CPU per registration = {large.CpuMicrosPerRegistration / baselineLarge.CpuMicrosPerRegistration:F2}");
                if (rounds > 1)
                {
                    Console.WriteLine($"  fleet {clusters}x{namespaces}, {rounds} alternating rounds (plugin, then baseline): registrations/s "
                        + string.Join(", ", largeRounds.Zip(baselineRounds, (p, b) => $"{p.PerSecond:F0} / {b.PerSecond:F0} = {p.PerSecond / b.PerSecond:F2}"))
                        + "; CPU per registration " + string.Join(", ", largeRounds.Zip(baselineRounds, (p, b) => $"{p.CpuMicrosPerRegistration / b.CpuMicrosPerRegistration:F2}")));
                }
            }
            Console.WriteLine($"load average at end: {LoadAverage()}");
            return 0;
        }
        finally
        {
            File.Delete(plan);
        }
    }

    /// <summary>Of several rounds' results, the one with the median rate.</summary>
    private static Result MedianRound(List<Result> rounds) => rounds.OrderBy(r => r.PerSecond).ElementAt(rounds.Count / 2);

    /// <summary>The fake monitor's garbage collections so far, by generation.</summary>
    private static async Task<long[]> MonitorCollectionsAsync(MonitorProcess monitor, CancellationToken cancellationToken) =>
        [.. (await monitor.CommandAsync("gc", cancellationToken)).Split(' ').Skip(1).Select(n => long.Parse(n, CultureInfo.InvariantCulture))];

    private static async Task<Result> MeasureAsync(string label, string binary, string? plan, MonitorProcess monitor, int clusters, int namespaces,
        int runs, int latencyMs, int parallel, CancellationToken cancellationToken)
    {
        var environment = plan is null ? null : new Dictionary<string, string> { ["REGISTRYINFRA_CONSTRUCT_PLAN"] = plan };
        await using var plugin = await PluginProcess.StartAsync(binary, cancellationToken, environment);
        await monitor.CommandAsync($"latency {latencyMs}", cancellationToken);
        var walls = new List<double>();
        var registrations = 0;
        var critical = 0;
        var cpuTicks = 0L;
        var monitorTicks = 0L;
        var measured = 0L;
        var warmUps = 0;
        var compiledWhileMeasured = 0L;
        var compiledBefore = await ApparatusCompiledAsync(monitor, cancellationToken);
        for (var run = 0; walls.Count < runs; run++)
        {
            await monitor.CommandAsync("clear", cancellationToken);
            var gcBefore = await MonitorCollectionsAsync(monitor, cancellationToken);
            var cpuBefore = CpuTicks(plugin.ProcessId);
            var monitorBefore = CpuTicks(monitor.ProcessId);
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, clusters), new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken },
                async (i, ct) => await plugin.Provider.ConstructAsync(Request(i, namespaces, monitor.Endpoint), ct));
            clock.Stop();
            var cpu = CpuTicks(plugin.ProcessId) - cpuBefore;
            var monitorCpu = CpuTicks(monitor.ProcessId) - monitorBefore;
            var gcAfter = await MonitorCollectionsAsync(monitor, cancellationToken);
            var gcDelta = gcAfter.Zip(gcBefore, (after, before) => after - before).ToArray();
            var collections = $"{gcDelta[0]}/{gcDelta[1]}/{gcDelta[2]} collections of gen0/1/2 pausing {gcDelta[3]} ms, {gcDelta[4]} MiB allocated";
            var stats = (await monitor.CommandAsync("stats", cancellationToken)).Split(' ');
            registrations = int.Parse(stats[1], CultureInfo.InvariantCulture);
            critical = int.Parse(stats[3], CultureInfo.InvariantCulture);
            var compiledNow = int.Parse(stats[5], CultureInfo.InvariantCulture) + System.Runtime.JitInfo.GetCompiledMethodCount();
            var compiled = compiledNow - compiledBefore;
            compiledBefore = compiledNow;
            // Warm-up: the first run, then every run while the harness and the monitor (JIT processes, unlike the plugin) were
            // still compiling, so that the measured runs see the plugin beside a settled apparatus. Once measuring has begun,
            // every run counts.
            var warmUp = walls.Count == 0 && (run == 0 || (compiled > SettledCompilations && warmUps < MaxWarmUps));
            Console.WriteLine($"  {label,-9} {clusters,4} clusters run {run}{(warmUp ? " (warm-up)" : "")}: {registrations} registrations in {clock.Elapsed.TotalSeconds:F3} s, CPU {cpu * 10} ms (monitor {monitorCpu * 10} ms, {collections}; harness and monitor JIT-compiled {compiled} methods)");
            if (warmUp)
            {
                warmUps++;
                continue;
            }
            walls.Add(clock.Elapsed.TotalSeconds);
            cpuTicks += cpu;
            monitorTicks += monitorCpu;
            measured += registrations;
            compiledWhileMeasured += compiled;
        }
        Console.WriteLine($"  {label,-9} {clusters,4} clusters: {warmUps} warm-up runs; the harness and the monitor JIT-compiled {compiledWhileMeasured} methods during the {runs} measured runs");
        walls.Sort();
        var median = walls[walls.Count / 2];
        var cpuMicros = cpuTicks * 1_000_000.0 / TicksPerSecond / Math.Max(1, measured);
        var monitorMicros = monitorTicks * 1_000_000.0 / TicksPerSecond / Math.Max(1, measured);
        return new Result(label, clusters, namespaces, latencyMs, registrations, critical, median, registrations / median, cpuMicros, PeakRssKiB(plugin.ProcessId) / 1024.0, monitorMicros);
    }

    private static ConstructRequest Request(int cluster, int namespaces, string monitorEndpoint) =>
        new("registryinfra:index:ClusterRegistryAccess", $"cluster-{cluster:D3}",
            "urn:pulumi:bench::fleet::pulumi:pulumi:Stack::fleet-bench", Inputs(cluster, namespaces),
            ImmutableDictionary<string, ImmutableArray<string>>.Empty,
            new DeploymentContext("fleet", "bench", "org", ImmutableDictionary<string, string>.Empty, [], false, 16, monitorEndpoint),
            ImmutableDictionary<string, string>.Empty
                .Add("kubernetes", $"urn:pulumi:bench::fleet::pulumi:providers:kubernetes::cluster-{cluster:D3}::id-{cluster}")
                .Add("aws", "urn:pulumi:bench::fleet::pulumi:providers:aws::acct::id-aws"),
            [], [], new ConstructOptions(null, [], null, "", null, [], [], null, []), AcceptsOutputValues: true);

    private static ImmutableSortedDictionary<string, PropertyValue> Inputs(int cluster, int namespaces)
    {
        var json = new JsonObject
        {
            ["profiles"] = new JsonArray(
                new JsonObject { ["server"] = "registry.example.com", ["username"] = "robot", ["password"] = "bench-password" },
                new JsonObject { ["server"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com" }),
            ["namespaces"] = new JsonArray([.. Enumerable.Range(0, namespaces).Select(n => (JsonNode)JsonValue.Create($"team-{n:D2}"))]),
            ["serviceAccounts"] = new JsonArray("default"),
            // Required beside a kubernetes provider, so that the attachments patch the same cluster (a secret input).
            ["kubeconfig"] = $"apiVersion: v1\nkind: Config\nusers: [{{name: u, user: {{token: bench-{cluster}}}}}]",
            ["refresher"] = new JsonObject { ["image"] = "ghcr.io/acme/refresher@sha256:" + new string('a', 64) },
            ["aws"] = new JsonObject
            {
                ["oidcProviderArn"] = $"arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/C{cluster:D4}",
                ["region"] = "eu-west-1",
                ["repositories"] = new JsonArray("app"),
            },
        };
        static PropertyValue ToProperty(JsonNode? node) => node switch
        {
            JsonObject o => PropertyValue.CreateObject(o.Select(kv => KeyValuePair.Create(kv.Key, ToProperty(kv.Value)))),
            JsonArray a => PropertyValue.CreateArray(a.Select(ToProperty)),
            JsonValue v => PropertyValue.Create(v.GetValue<string>()),
            _ => PropertyValue.Null,
        };
        return json.ToImmutableSortedDictionary(kv => kv.Key, kv => ToProperty(kv.Value), StringComparer.Ordinal);
    }

    /// <summary>A warm-up run after which the harness and the monitor compiled no more than this many methods ends the warm-up.</summary>
    private const int SettledCompilations = 50;

    /// <summary>The most warm-up runs before measuring whatever the apparatus still compiles.</summary>
    private const int MaxWarmUps = 8;

    /// <summary>The methods the harness and the monitor process have JIT-compiled so far.</summary>
    private static async Task<long> ApparatusCompiledAsync(MonitorProcess monitor, CancellationToken cancellationToken) =>
        long.Parse((await monitor.CommandAsync("stats", cancellationToken)).Split(' ')[5], CultureInfo.InvariantCulture) + System.Runtime.JitInfo.GetCompiledMethodCount();

    private const double TicksPerSecond = 100; // USER_HZ, the unit of utime and stime in /proc/PID/stat on Linux

    /// <summary>User plus system CPU time of a process so far, in clock ticks (<c>/proc/PID/stat</c> fields 14 and 15).</summary>
    private static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>The process's peak resident set size (<c>VmHWM</c> of <c>/proc/PID/status</c>), in KiB.</summary>
    private static long PeakRssKiB(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => long.Parse(l["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture)).FirstOrDefault();

    private sealed record Result(string Label, int Clusters, int Namespaces, int LatencyMs, int Registrations, int CriticalPath, double Median,
        double PerSecond, double CpuMicrosPerRegistration, double PeakRssMiB, double MonitorCpuMicrosPerRegistration)
    {
        public override string ToString() =>
            $"{Label,-9} {Clusters,4}x{Namespaces} {LatencyMs,3} ms/create: {Median,7:F3} s, {Registrations} registrations, {PerSecond,7:F0}/s, CPU {CpuMicrosPerRegistration,6:F0} us/registration, peak RSS {PeakRssMiB,4:F0} MiB (monitor CPU {MonitorCpuMicrosPerRegistration:F0} us/registration)";
    }

    /// <summary>The <see cref="MonitorProcessBenchmark"/> started as a child process of this one, one command and answer at a time.</summary>
    private sealed class MonitorProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly SemaphoreSlim _gate = new(1, 1);

        private MonitorProcess(Process process, string endpoint)
        {
            _process = process;
            Endpoint = endpoint;
        }

        public string Endpoint { get; }

        public int ProcessId => _process.Id;

        public static async Task<MonitorProcess> StartAsync(int gen0MiB, CancellationToken cancellationToken)
        {
            var host = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
            var start = new ProcessStartInfo(host) { RedirectStandardInput = true, RedirectStandardOutput = true };
            if (gen0MiB > 0)
            {
                // The runtime's GC setting GCgen0size (hexadecimal bytes), read from the environment at start.
                start.Environment["DOTNET_GCgen0size"] = ((long)gen0MiB << 20).ToString("x", CultureInfo.InvariantCulture);
            }
            if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            {
                start.ArgumentList.Add(typeof(MonitorProcess).Assembly.Location);
            }
            start.ArgumentList.Add("fake-monitor");
            var process = Process.Start(start) ?? throw new InvalidOperationException("the fake monitor did not start");
            var endpoint = await process.StandardOutput.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException("the fake monitor printed no endpoint");
            return new MonitorProcess(process, endpoint);
        }

        public async Task<string> CommandAsync(string command, CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                await _process.StandardInput.WriteLineAsync(command.AsMemory(), cancellationToken);
                await _process.StandardInput.FlushAsync(cancellationToken);
                var answer = await _process.StandardOutput.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException("the fake monitor exited");
                return answer.StartsWith("error", StringComparison.Ordinal) ? throw new InvalidOperationException(answer) : answer;
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync();
            _process.Dispose();
            _gate.Dispose();
        }
    }
}
