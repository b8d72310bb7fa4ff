using System.Diagnostics;
using System.Globalization;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Refresher;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Benchmarks;

/// <summary>
/// 1,000 namespaces (one target secret and one service account each) refreshed against the loopback
/// fake Kubernetes API; then a second run, which must write nothing and ask no token.
/// Arguments: [namespaces] [concurrency].
/// </summary>
public sealed class RefresherBenchmark : IBenchmark
{
    public string Name => "refresher";

    public string Description => "refresh 1,000 namespaces against the loopback fake API; a second run must write nothing";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var namespaces = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var concurrency = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: cancellationToken);
        for (var i = 0; i < namespaces; i++)
        {
            api.AddNamespace($"ns-{i:D4}", new Dictionary<string, string> { ["pull"] = "ecr" });
            api.AddServiceAccount($"ns-{i:D4}", "default");
        }
        using var client = new Kubernetes(new KubernetesClientConfiguration { Host = api.Host });
        var source = new CountingSource();
        var options = new RefresherConfiguration
        {
            Registries = [new RegistryConfiguration { Name = "ecr", Server = "123456789012.dkr.ecr.eu-west-1.amazonaws.com", Source = new TokenSourceConfiguration { Type = "ecr" } }],
            Targets = [new TargetConfiguration { SecretName = "ecr-pull", NamespaceSelector = "pull=ecr", ServiceAccounts = ["default"] }],
            Concurrency = concurrency,
            Deadline = TimeSpan.FromMinutes(5),
        };
        var sources = new Dictionary<string, ICredentialSource> { ["ecr"] = source };
        using var meters = new NoMeters();
        using var metrics = new RefresherMetrics(meters);

        Console.WriteLine($"refresher: {namespaces} namespaces, concurrency {concurrency}, API {api.Host}");
        var exit = 0;
        foreach (var label in new[] { "first run (create)", "second run (nothing to change)" })
        {
            api.ResetCounters();
            source.Requests = 0;
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
            var clock = Stopwatch.StartNew();
            var summary = await new RefreshRun(client, options, sources, TimeProvider.System, NullLogger<RefreshRun>.Instance, metrics).RunAsync(cancellationToken);
            clock.Stop();
            var writes = api.WriteCount("secrets") + api.WriteCount("serviceaccounts");
            using var process = Process.GetCurrentProcess();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {label,-32} wall {clock.Elapsed.TotalMilliseconds,8:F0} ms  requests/namespace {(double)api.TotalRequests / namespaces,5:F2}  " +
                $"token requests {source.Requests}  writes {writes}  failed {summary.Failed}  " +
                $"allocated {(GC.GetTotalAllocatedBytes(false) - allocatedBefore) / 1048576.0:F1} MiB  peak working set {process.PeakWorkingSet64 / 1048576.0:F0} MiB  " +
                $"GC heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:F1} MiB"));
            if (summary.Failed > 0)
            {
                exit = 1;
            }
            if (label.StartsWith("second", StringComparison.Ordinal) && (writes != 0 || source.Requests != 0))
            {
                Console.WriteLine("  FAIL: the second run must write nothing and ask no token");
                exit = 1;
            }
        }
        return exit;
    }

    private sealed class CountingSource : ICredentialSource
    {
        public int Requests;

        public string Description => "benchmark-static";

        public ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Requests);
            return ValueTask.FromResult(new RegistryCredential("AWS", "benchmark-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.AddHours(12)));
        }
    }

    private sealed class NoMeters : System.Diagnostics.Metrics.IMeterFactory
    {
        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }
}
