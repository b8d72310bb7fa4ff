using System.Diagnostics;
using System.Globalization;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.References;

namespace RegistryInfra.Benchmarks;

/// <summary>Per-operation medians of reference parsing and dockerconfigjson parse, serialise, merge and match.</summary>
public sealed class ReferencesBenchmark : IBenchmark
{
    private const int Rounds = 15;

    public string Name => "references";

    public string Description => "ImageReference/RegistryHost parsing and DockerConfig parse, serialise, merge, match (median ns per op)";

    public Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var references = new[]
        {
            "nginx", "nginx:1.27", "ghcr.io/org/app:1.2.3", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1",
            "localhost:5000/a/b/c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "[2001:db8::1]:5000/repo:tag", "europe-west1-docker.pkg.dev/project/repo/image:latest", "bitnami/redis:7.2",
        };
        var entries = Enumerable.Range(0, 50)
            .Select(i => DockerConfigEntry.Create(string.Create(CultureInfo.InvariantCulture, $"registry{i}.example.com"), new RegistryCredential("robot", "password-" + i)))
            .Append(DockerConfigEntry.Create("registry7.example.com/team", new RegistryCredential("team", "t")))
            .ToList();
        var config = DockerConfig.FromEntries(entries);
        var text = config.Serialize();
        var update = new[] { DockerConfigEntry.Create("registry7.example.com", new RegistryCredential("robot", "rotated")) };
        var image = ImageReference.Parse("registry7.example.com/team/app:1");

        Console.WriteLine($"document: {config.Entries.Count} entries, {text.Length} bytes; {Rounds} rounds, median ns/op");
        Report("ImageReference.Parse", 20_000, () => { foreach (var r in references) { ImageReference.Parse(r); } }, references.Length);
        Report("RegistryHost.Parse", 20_000, () => RegistryHost.Parse("https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/"), 1);
        Report("DockerConfig.Parse", 500, () => DockerConfig.Parse(text), 1);
        Report("DockerConfig.Serialize (fresh)", 500, () => DockerConfig.FromEntries(entries).Serialize(), 1);
        Report("DockerConfig.Merge+Serialize", 500, () => config.Merge(update).Serialize(), 1);
        Report("DockerConfig.FindEntry", 20_000, () => config.FindEntry(image), 1);
        return Task.FromResult(0);
    }

    private static void Report(string name, int iterations, Action action, int opsPerCall)
    {
        for (var i = 0; i < iterations / 10; i++)
        {
            action();
        }

        var samples = new double[Rounds];
        for (var round = 0; round < Rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < iterations; i++)
            {
                action();
            }

            samples[round] = watch.Elapsed.TotalNanoseconds / iterations / opsPerCall;
        }

        Array.Sort(samples);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-32} median {samples[Rounds / 2],10:F0} ns   min {samples[0],10:F0} ns"));
    }
}
