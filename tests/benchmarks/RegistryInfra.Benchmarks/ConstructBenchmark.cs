using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Provider;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing.Components;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Benchmarks;

/// <summary>Construct of ClusterRegistryAccess for a fleet against the fake ResourceMonitor over real gRPC.</summary>
public sealed class ConstructBenchmark : IBenchmark
{
    public string Name => "construct";

    public string Description => "Construct ClusterRegistryAccess for 100 clusters x 20 namespaces over gRPC; registrations/s and peak memory";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var clusters = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        var namespaces = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
        const int Runs = 5;
        const int Parallel = 4;
        var times = new List<double>();
        var count = 0;
        for (var run = 0; run <= Runs; run++)
        {
            await using var monitor = await FakeResourceMonitor.StartAsync(cancellationToken);
            var provider = RegistryInfraPackage.CreateProvider();
            var watch = Stopwatch.StartNew();
            await System.Threading.Tasks.Parallel.ForEachAsync(Enumerable.Range(0, clusters), new ParallelOptions { MaxDegreeOfParallelism = Parallel, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var request = new ConstructRequest("registryinfra:index:ClusterRegistryAccess", $"cluster-{i:D3}",
                    "urn:pulumi:bench::fleet::pulumi:pulumi:Stack::fleet-bench", Inputs(i, namespaces),
                    ImmutableDictionary<string, ImmutableArray<string>>.Empty,
                    new DeploymentContext("fleet", "bench", "org", ImmutableDictionary<string, string>.Empty, [], false, 4, monitor.Endpoint),
                    ImmutableDictionary<string, string>.Empty
                        .Add("kubernetes", $"urn:pulumi:bench::fleet::pulumi:providers:kubernetes::cluster-{i:D3}::id-{i}")
                        .Add("aws", "urn:pulumi:bench::fleet::pulumi:providers:aws::acct::id-aws"),
                    [], [], new ConstructOptions(null, [], null, "", null, [], [], null, []), AcceptsOutputValues: true);
                await provider.ConstructAsync(request, ct);
            });
            watch.Stop();
            count = monitor.Registrations.Count;
            if (run > 0)
            {
                times.Add(watch.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"run {run}{(run == 0 ? " (warm-up)" : "")}: {count} registrations in {watch.Elapsed.TotalSeconds:F2} s");
        }
        times.Sort();
        var median = times[times.Count / 2];
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine($"clusters={clusters} namespaces={namespaces} parallel={Parallel} registrations={count}");
        Console.WriteLine($"median {median:F2} s, {count / median:F0} registrations/s");
        Console.WriteLine($"peak working set {process.PeakWorkingSet64 / (1024.0 * 1024.0):F0} MiB (provider and fake monitor share this process)");
        return 0;
    }

    private static ImmutableSortedDictionary<string, PropertyValue> Inputs(int cluster, int namespaces)
    {
        var json = new JsonObject
        {
            ["profiles"] = new JsonArray(
                new JsonObject { ["server"] = "registry.example.com", ["username"] = "robot", ["password"] = "bench-password" },
                new JsonObject { ["server"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com" }),
            ["namespaces"] = new JsonArray([.. Enumerable.Range(0, namespaces).Select(n => (JsonNode)JsonValue.Create($"team-{n:D2}"))]),
            ["serviceAccounts"] = new JsonArray("default"),
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
}
