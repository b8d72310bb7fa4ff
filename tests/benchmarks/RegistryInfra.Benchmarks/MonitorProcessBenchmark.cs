using System.Globalization;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Benchmarks;

/// <summary>
/// The fake ResourceMonitor as a process of its own, so that a benchmark measures the provider's process alone: prints
/// its endpoint, then answers one line per command on stdin (<c>latency MS</c>, <c>dryrun true|false</c>, <c>clear</c>,
/// <c>stats</c>: "registrations N critical C jit M" with M the methods this process has JIT-compiled so far, <c>gc</c>: "gc G0 G1 G2 P A": the
/// collections of each generation, the milliseconds paused in them and the MiB allocated so far, <c>plan PATH</c>: the registrations as a <see cref="ConstructPlan"/>)
/// and exits at the end of its input.
/// </summary>
public sealed class MonitorProcessBenchmark : IBenchmark
{
    public string Name => "fake-monitor";

    public string Description => "(used by construct) the fake ResourceMonitor as its own process, driven by commands on stdin";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        await using var monitor = await FakeResourceMonitor.StartAsync(cancellationToken);
        Console.Out.WriteLine(monitor.Endpoint);
        Console.Out.Flush();
        while (await Console.In.ReadLineAsync(cancellationToken) is { } line)
        {
            var words = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
            string answer;
            switch (words)
            {
                case ["latency", var ms] when int.TryParse(ms, NumberStyles.None, CultureInfo.InvariantCulture, out var value):
                    monitor.CreateLatency = TimeSpan.FromMilliseconds(value);
                    answer = "ok";
                    break;
                case ["dryrun", var flag] when bool.TryParse(flag, out var value):
                    monitor.DryRun = value;
                    answer = "ok";
                    break;
                case ["clear"]:
                    monitor.Clear();
                    answer = "ok";
                    break;
                case ["stats"]:
                    answer = $"registrations {monitor.Registrations.Count} critical {monitor.CriticalPath()} jit {System.Runtime.JitInfo.GetCompiledMethodCount()}";
                    break;
                case ["gc"]:
                    answer = $"gc {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)} {(long)GC.GetTotalPauseDuration().TotalMilliseconds} {GC.GetTotalAllocatedBytes() >> 20}";
                    break;
                case ["plan", var path]:
                    ConstructPlan.Write(monitor.Registrations, path);
                    answer = "ok";
                    break;
                default:
                    answer = $"error: unknown command '{line}'";
                    break;
            }
            Console.Out.WriteLine(answer);
            Console.Out.Flush();
        }
        return 0;
    }
}
