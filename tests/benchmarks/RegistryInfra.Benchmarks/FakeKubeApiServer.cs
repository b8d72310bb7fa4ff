using System.Globalization;
using System.Text.Json.Nodes;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Benchmarks;

/// <summary>
/// The fake Kubernetes API as a process of its own, so the refresher benchmark measures the refresher alone.
/// Arguments: <c>--namespaces N --latency-ms L [--tls]</c>. It prints one line <c>listening URL</c> (and, with TLS,
/// <c>ca PATH</c> before it), then answers commands on stdin: <c>stats</c> prints the request counts as one JSON
/// line, <c>reset</c> clears them, <c>cpu</c> prints this process's CPU time so far (user + system, ms); for the watch
/// benchmark <c>serve NAME</c> creates a namespace and prints the milliseconds until it is served, <c>compact</c> and <c>drop</c>
/// compact the history and cut the open watches, <c>watches</c> prints how many are open; end of input stops it.
/// Besides the <c>pull=ecr</c> namespaces it holds <see cref="WarmUpNamespaces"/> labelled <c>pull=warm-up</c>.
/// </summary>
public sealed class FakeKubeApiServer : IBenchmark
{
    /// <summary>Namespaces (<c>warm-NNN</c>, label <c>pull=warm-up</c>) a warm-up run works on.</summary>
    public const int WarmUpNamespaces = 200;

    public string Name => "fake-kube-api";

    public string Description => "serve the fake Kubernetes API in this process (the refresher benchmark starts it)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var namespaces = int.Parse(Value(args, "--namespaces") ?? "1000", CultureInfo.InvariantCulture);
        var latency = TimeSpan.FromMilliseconds(double.Parse(Value(args, "--latency-ms") ?? "0", CultureInfo.InvariantCulture));
        var tls = args.Contains("--tls");
        await using var api = await FakeKubeApi.StartAsync(new FakeKubeFaults { Latency = latency }, tls, cancellationToken);
        api.AddNamespaces(Enumerable.Range(0, namespaces).Select(i => $"ns-{i:D5}"), new Dictionary<string, string> { ["pull"] = "ecr" }, "default");
        // What the refresher benchmark warms this process up on (its own JIT and TLS set-up are not the refresher's cost).
        api.AddNamespaces(Enumerable.Range(0, WarmUpNamespaces).Select(i => $"warm-{i:D3}"), new Dictionary<string, string> { ["pull"] = "warm-up" }, "default");
        if (api.CertificateAuthorityPem is { } pem)
        {
            var path = Path.Combine(Path.GetTempPath(), $"fake-kube-api-{Environment.ProcessId}.crt");
            await File.WriteAllTextAsync(path, pem, cancellationToken);
            Console.WriteLine($"ca {path}");
        }
        Console.WriteLine($"listening {api.Host}");
        string? line;
        while ((line = await Console.In.ReadLineAsync(cancellationToken)) is not null)
        {
            switch (line.Trim())
            {
                case "stats":
                    var counts = new JsonObject();
                    foreach (var verb in new[] { "LIST", "WATCH", "GET", "POST", "PUT", "PATCH" })
                    {
                        foreach (var resource in new[] { "namespaces", "secrets", "serviceaccounts", "events", "leases" })
                        {
                            if (api.RequestCount(verb, resource) is var n and > 0)
                            {
                                counts[$"{verb} {resource}"] = n;
                            }
                        }
                    }
                    Console.WriteLine(counts.ToJsonString());
                    break;
                case "cpu":
                    var process = System.Diagnostics.Process.GetCurrentProcess();
                    process.Refresh();
                    Console.WriteLine(process.TotalProcessorTime.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture));
                    break;
                case "reset":
                    api.ResetCounters();
                    Console.WriteLine("ok");
                    break;
                case "compact":
                    api.Compact();
                    Console.WriteLine("ok");
                    break;
                case "drop":
                    api.DropWatches();
                    Console.WriteLine("ok");
                    break;
                case "watches":
                    Console.WriteLine(api.OpenWatches.ToString(CultureInfo.InvariantCulture));
                    break;
                case var command when command.StartsWith("serve ", StringComparison.Ordinal):
                    // The watch benchmark: a namespace (pull=ecr, with its default service account) appears; the answer is the
                    // milliseconds until its Secret "pull" exists and the account names it, measured here, or "timeout".
                    Console.WriteLine(await ServeAsync(api, command[6..].Trim(), cancellationToken));
                    break;
            }
        }
        return 0;
    }

    private static async Task<string> ServeAsync(FakeKubeApi api, string name, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        api.AddNamespace(name, new Dictionary<string, string> { ["pull"] = "ecr" });
        api.AddServiceAccount(name, "default");
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (api.GetSecret(name, "pull") is not null && api.ImagePullSecrets(name, "default").Contains("pull"))
            {
                return clock.Elapsed.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture);
            }
            await Task.Delay(1, ct);
        }
        return "timeout";
    }

    internal static string? Value(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
