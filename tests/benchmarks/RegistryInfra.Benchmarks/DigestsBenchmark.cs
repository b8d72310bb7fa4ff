using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing;
using static RegistryInfra.Benchmarks.BenchmarkArgs;
using RegistryInfra.Testing.Plugin;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Benchmarks;

/// <summary>
/// Resolves the digests of 100 tags in the real local registry (docker-registry, token auth over TLS) through the
/// shipped path, <c>getImage</c> invoked on the NativeAOT plugin over gRPC, beside <c>skopeo inspect --raw</c> per image
/// (the least skopeo does for a digest: ping, token, manifest); requests are counted from the registry's own request log
/// and tokens from the token issuer. Prints the first pass (token and connections made), the warm passes, skopeo's, their
/// medians per image and ratios, and checks that both give the same digest.
/// Arguments: <c>[--images 100] [--rounds 3] [--plugin PATH]</c>.
/// </summary>
public sealed class DigestsBenchmark : IBenchmark
{
    private const string Repository = "team/bench";

    public string Name => "digests";

    public string Description => "getImage of the NativeAOT plugin on 100 images in the local registry beside skopeo inspect per image; requests from the registry's log";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var images = Option(args, "--images", 100);
        var rounds = Option(args, "--rounds", 3);
        var pluginPath = Text(args, "--plugin") ?? Requirements.PluginArtifact;
        foreach (var tool in new[] { "docker-registry", "skopeo" })
        {
            if (Requirements.FindOnPath(tool) is null)
            {
                Console.Error.WriteLine($"digests: '{tool}' is not installed; run tests/setup");
                return 2;
            }
        }
        if (!File.Exists(pluginPath))
        {
            Console.Error.WriteLine($"digests: {pluginPath} does not exist; build it with `bash provider/build`");
            return 2;
        }

        await using var registry = await LocalRegistry.StartAsync(LocalRegistryMode.TokenTls, cancellationToken);
        await registry.PushAsync(Repository, "base", [new TestImage("linux", "amd64", null, "bench")], cancellationToken);
        var tags = Enumerable.Range(0, images).Select(i => $"t{i:D3}").ToList();
        await registry.TagAsync(Repository, "base", tags, cancellationToken);
        var issuer = registry.TokenIssuer!;
        var ca = await File.ReadAllTextAsync(Path.Combine(registry.CertDirectory, "ca.crt"), cancellationToken);
        Console.WriteLine($"digests: {images} tags of {Repository} in docker-registry (token auth, TLS) at {registry.Authority}; load average {LoadAverage()}");

        await using var plugin = await PluginProcess.StartAsync(pluginPath, cancellationToken);
        async Task<string> GetImageAsync(string tag)
        {
            var response = await plugin.Provider.InvokeAsync(new InvokeRequest("registryinfra:index:getImage", new Dictionary<string, PropertyValue>
            {
                ["image"] = PropertyValue.Create($"{registry.Authority}/{Repository}:{tag}"),
                ["username"] = PropertyValue.Create(registry.Reader.Username),
                ["password"] = PropertyValue.CreateSecret(PropertyValue.Create(registry.Reader.Password)),
                ["caCertificates"] = PropertyValue.Create(ca),
            }, Preview: false), cancellationToken);
            if (response.Failures.Count > 0 || response.Return is null)
            {
                throw new InvalidOperationException($"getImage {tag}: {string.Join("; ", response.Failures.Select(f => $"{f.Property}: {f.Reason}"))}");
            }
            var digest = response.Return["digest"];
            return (digest.Kind == PropertyValueKind.Secret ? digest.SecretValue : digest).StringValue;
        }

        var results = new List<Phase>();
        // The first pass: the plugin's connection, the registry's challenge and the token are made on the first image.
        results.Add(await TimeAsync("plugin first pass", registry, tags, 1, GetImageAsync, cancellationToken));
        results.Add(await TimeAsync("plugin warm", registry, tags, rounds, GetImageAsync, cancellationToken));
        var skopeo = Requirements.FindOnPath("skopeo")!;
        results.Add(await TimeAsync("skopeo inspect", registry, tags, 1, async tag =>
        {
            var start = new ProcessStartInfo(skopeo)
            {
                ArgumentList = { "inspect", "--raw", "--cert-dir", registry.CertDirectory, "--creds", $"{registry.Reader.Username}:{registry.Reader.Password}", $"docker://{registry.Authority}/{Repository}:{tag}" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            using var manifest = new MemoryStream();
            await process.StandardOutput.BaseStream.CopyToAsync(manifest, cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"skopeo inspect {tag} exited {process.ExitCode}");
            }
            return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest.ToArray()));
        }, cancellationToken));

        foreach (var phase in results)
        {
            Console.WriteLine("  " + phase);
        }
        var digests = results.Select(r => r.Digest).Distinct(StringComparer.Ordinal).ToList();
        Console.WriteLine(digests.Count == 1 ? $"  same digest from getImage and skopeo: {digests[0]}" : $"  DIFFERENT digests: {string.Join(", ", digests)}");
        var warm = results[1];
        var inspect = results[2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  per image, warm getImage / skopeo inspect: time {warm.MedianMs / inspect.MedianMs:F3}, requests {warm.RequestsPerImage / inspect.RequestsPerImage:F2}"));
        Console.WriteLine($"load average at end: {LoadAverage()}");
        return digests.Count == 1 ? 0 : 1;
    }

    private static async Task<Phase> TimeAsync(string name, LocalRegistry registry, IReadOnlyList<string> tags, int rounds, Func<string, Task<string>> resolve,
        CancellationToken cancellationToken)
    {
        await Task.Delay(200, cancellationToken); // the registry's log lines of the phase before are in
        var requestsBefore = Requests(registry);
        var tokensBefore = registry.TokenIssuer!.RequestCount;
        var times = new List<double>();
        var digest = "";
        var total = Stopwatch.StartNew();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var tag in tags)
            {
                var watch = Stopwatch.StartNew();
                digest = await resolve(tag);
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        total.Stop();
        await Task.Delay(200, cancellationToken);
        times.Sort();
        return new Phase(name, times.Count, (double)(Requests(registry) - requestsBefore) / times.Count, registry.TokenIssuer.RequestCount - tokensBefore,
            times[times.Count / 2], times[(int)Math.Ceiling(times.Count * 0.9) - 1], total.Elapsed.TotalMilliseconds, digest);
    }

    /// <summary>
    /// Requests the registry answered so far, from its log: distribution logs one "response completed" line per request
    /// it served and one "error authorizing context" line per request it challenged with 401.
    /// </summary>
    private static int Requests(LocalRegistry registry) =>
        registry.LogLines.Count(l => l.Contains("response completed", StringComparison.Ordinal) || l.Contains("error authorizing context", StringComparison.Ordinal));

    private sealed record Phase(string Name, int Images, double RequestsPerImage, int Tokens, double MedianMs, double P90Ms, double TotalMs, string Digest)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Name,-18} images {Images,4}  registry requests/image {RequestsPerImage,5:F2}  tokens {Tokens,4}  median {MedianMs,7:F2} ms  p90 {P90Ms,7:F2} ms  total {TotalMs,8:F0} ms");
    }
}
