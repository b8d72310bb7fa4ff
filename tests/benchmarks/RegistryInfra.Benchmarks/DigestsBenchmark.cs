using System.Diagnostics;
using System.Globalization;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Distribution;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Benchmarks;

/// <summary>
/// Resolves 100 tags in a local token-auth registry over TLS and prints requests per image, median and p90
/// time per image, and the total: warm (token cached, connections open), cold auth (same connections, caches
/// cleared before each image) and cold (a new client per image: TLS handshake, challenge, token, manifest).
/// </summary>
public sealed class DigestsBenchmark : IBenchmark
{
    private const string Repository = "team/bench";

    public string Name => "digests";

    public string Description => "resolve 100 image digests in a local token-auth registry, warm and cold (args: [images] [warm rounds])";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var images = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        foreach (var tool in new[] { "docker-registry", "skopeo" })
        {
            if (Requirements.FindOnPath(tool) is null)
            {
                Console.Error.WriteLine($"digests: '{tool}' is not installed; run tests/setup");
                return 2;
            }
        }

        await using var registry = await LocalRegistry.StartAsync(LocalRegistryMode.TokenTls, cancellationToken);
        await registry.PushAsync(Repository, "base", [new TestImage("linux", "amd64", null, "bench")], cancellationToken);
        var tags = Enumerable.Range(0, images).Select(i => $"t{i:D3}").ToList();
        await registry.TagAsync(Repository, "base", tags, cancellationToken);
        var credential = new RegistryCredential(registry.Reader.Username, registry.Reader.Password);
        var options = new DistributionClientOptions { TrustedRootCertificates = [registry.Ca!.RootPublic] };
        var issuer = registry.TokenIssuer!;
        Console.WriteLine($"digests: {images} tags of {Repository} in docker-registry (token auth, TLS) at {registry.Authority}");

        // warm: one client, token and challenge cached by a first pass
        var counter = new CountingHandler();
        using (var client = new DistributionClient(options, outerHandler: counter))
        {
            foreach (var tag in tags)
            {
                await client.ResolveAsync(registry.Authority, Repository, tag, null, credential, cancellationToken);
            }
            var times = new List<double>();
            var requestsBefore = counter.Count;
            var tokensBefore = issuer.RequestCount;
            var total = Stopwatch.StartNew();
            for (var round = 0; round < rounds; round++)
            {
                foreach (var tag in tags)
                {
                    var watch = Stopwatch.StartNew();
                    await client.ResolveAsync(registry.Authority, Repository, tag, null, credential, cancellationToken);
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }
            }
            Report("warm", times, counter.Count - requestsBefore, issuer.RequestCount - tokensBefore, total.Elapsed, rounds);
        }

        // cold auth: open connections, empty token and challenge caches before each image
        counter = new CountingHandler();
        using (var client = new DistributionClient(options, outerHandler: counter))
        {
            await client.PingAsync(registry.Authority, cancellationToken);
            var times = new List<double>();
            var requestsBefore = counter.Count;
            var tokensBefore = issuer.RequestCount;
            var total = Stopwatch.StartNew();
            foreach (var tag in tags)
            {
                client.ClearAuthenticationCache();
                var watch = Stopwatch.StartNew();
                await client.ResolveAsync(registry.Authority, Repository, tag, null, credential, cancellationToken);
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
            Report("cold-auth", times, counter.Count - requestsBefore, issuer.RequestCount - tokensBefore, total.Elapsed, 1);
        }

        // cold: a new client per image
        {
            var times = new List<double>();
            var requests = 0;
            var tokensBefore = issuer.RequestCount;
            var total = Stopwatch.StartNew();
            foreach (var tag in tags)
            {
                var perClient = new CountingHandler();
                var watch = Stopwatch.StartNew();
                using (var client = new DistributionClient(options, outerHandler: perClient))
                {
                    await client.ResolveAsync(registry.Authority, Repository, tag, null, credential, cancellationToken);
                }
                times.Add(watch.Elapsed.TotalMilliseconds);
                requests += perClient.Count;
            }
            Report("cold", times, requests, issuer.RequestCount - tokensBefore, total.Elapsed, 1);
        }
        return 0;
    }

    private static void Report(string name, List<double> times, int requests, int tokenRequests, TimeSpan total, int rounds)
    {
        times.Sort();
        var median = times[times.Count / 2];
        var p90 = times[(int)Math.Ceiling(times.Count * 0.9) - 1];
        var perImage = (double)requests / times.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-10} images {times.Count,4} ({rounds} round(s))  requests/image {perImage,5:F2}  token requests {tokenRequests,4}  median {median,7:F2} ms  p90 {p90,7:F2} ms  total {total.TotalMilliseconds,8:F0} ms"));
    }

    private sealed class CountingHandler : DelegatingHandler
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
