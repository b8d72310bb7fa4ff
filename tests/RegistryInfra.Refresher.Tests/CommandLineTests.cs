using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// The command line as a person meets it: usage when run bare, <c>check --offline</c>, and every configuration error
/// as exit code 2 with one line per field on stderr (no stack trace), before any request to the cluster.
/// </summary>
public sealed class CommandLineTests : IDisposable
{
    private const string Minimal = "instance: test\nregistries:\n  - server: ghcr.io\n    source: {type: static, username: u, passwordEnv: P}\ntargets:\n  - secretName: ok\n    allNamespaces: true\n";
    private const string Prefix = "registryinfra-refresher: ";

    private readonly string _dir = Directory.CreateTempSubdirectory("refresher-cli-").FullName;
    private readonly StringWriter _stdout = new();
    private readonly StringWriter _stderr = new();
    private int _clientsMade;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Config(string yaml)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>Runs the program; any attempt to make a Kubernetes client is counted (and fails).</summary>
    private Task<int> RunAsync(params string[] args) => RefresherApp.RunAsync(args, services =>
    {
        services.RemoveAll<IKubeApi>();
        services.AddSingleton<IKubeApi>(_ =>
        {
            Interlocked.Increment(ref _clientsMade);
            throw new InvalidOperationException("this test contacts no cluster");
        });
    }, TestContext.Current.CancellationToken, _stdout, _stderr, new System.Collections.Hashtable());

    [Fact]
    public async Task Run_bare_it_prints_usage_and_exits_two()
    {
        Assert.Equal(2, await RunAsync());

        var usage = _stdout.ToString();
        Assert.Contains("Usage:", usage, StringComparison.Ordinal);
        Assert.Contains("refresh", usage, StringComparison.Ordinal);
        Assert.Contains("check", usage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_offline_validates_a_configuration_without_a_cluster()
    {
        Assert.Equal(0, await RunAsync("check", "--offline", "--config", Config(Minimal)));
        Assert.Equal(0, _clientsMade);
        Assert.Equal("", _stderr.ToString());

        Assert.Equal(2, await RunAsync("check", "--offline", "--config", Config(Minimal.Replace("secretName: ok", "secretName: Not_OK", StringComparison.Ordinal) + "concurrency: 0\n")));
        Assert.Equal(
            [
                Prefix + "invalid configuration: targets[0].secretName: 'Not_OK' is not a valid Secret name (lower-case DNS subdomain, at most 253 characters)",
                Prefix + "invalid configuration: concurrency: 0 must be between 1 and 256",
            ],
            Lines(_stderr));
        Assert.Equal(0, _clientsMade);
    }

    public static TheoryData<string, string> Broken => new()
    {
        { Minimal + "concurrency: abc\n", "concurrency: 'abc' is not a whole number" },
        { Minimal + "deadline: 1000000h\n", "deadline: 1000000h0m0s must be positive and at most 24h0m0s" },
        { Minimal + "renewbefore: 6h\n", "renewbefore: unknown key; did you mean 'renewBefore'?" },
        { Minimal.Replace("username: u", "usename: u", StringComparison.Ordinal), "registries[0].source.usename: unknown key; did you mean 'username'?" },
        { Minimal + "? [a, b]\n: c\n", "config: a mapping key must be a plain value, not a mapping or list (line 8)" },
        { Minimal + "? {a: b}\n: c\n", "config: a mapping key must be a plain value, not a mapping or list (line 8)" },
        { Minimal + "targets: []\n", "config: duplicate key 'targets' (line 8)" },
        { Minimal + "attachOnly: yes\n", "attachOnly: unknown key" },
        { Minimal.Replace("allNamespaces: true", "allNamespaces: maybe", StringComparison.Ordinal), "targets[0].allNamespaces: 'maybe' is not true or false" },
        { Minimal.Replace("allNamespaces: true", "allNamespaces: {a: 1}", StringComparison.Ordinal), "targets[0].allNamespaces: must be a single value (got a mapping)" },
        { "- a\n- b\n", "config: '{path}' must hold a mapping at the top level" },
        { "", "config: '{path}' is empty" },
        { Minimal + "---\nconcurrency: 3\n", "config: '{path}' holds more than one YAML document (line 8)" },
        { Minimal + "x: *nothing\n", "config: alias '*nothing' names no anchor (line 8)" },
        { Minimal + "logging: {logLevel: {default: Loud}}\n", "logging.logLevel.default: 'Loud' must be one of Trace, Debug, Information, Warning, Error, Critical, None" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task A_configuration_error_exits_two_with_one_line_naming_the_field(string yaml, string expected)
    {
        var path = Config(yaml);

        Assert.Equal(2, await RunAsync("refresh", "--config", path));

        var lines = Lines(_stderr);
        var line = Prefix + "invalid configuration: " + expected.Replace("{path}", path, StringComparison.Ordinal);
        Assert.True(lines.Any(l => l.StartsWith(line, StringComparison.Ordinal)), $"no line starts with: {line}\n{_stderr}");
        Assert.All(lines, l => Assert.StartsWith(Prefix, l, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", _stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, _clientsMade);
    }

    [Fact]
    public async Task Yaml_nested_a_hundred_thousand_deep_is_refused_without_overflowing_the_stack()
    {
        var depth = 100_000;
        var yaml = Minimal + "deep: " + new string('[', depth) + new string(']', depth) + "\n";

        Assert.Equal(2, await RunAsync("refresh", "--config", Config(yaml)));

        Assert.Contains("is nested deeper than 32 levels (line 8)", _stderr.ToString(), StringComparison.Ordinal);
        Assert.Single(Lines(_stderr));
    }

    [Fact]
    public async Task An_alias_bomb_of_ten_million_values_is_refused_at_once()
    {
        // Each level repeats the previous ten times: 10^7 values once expanded ("billion laughs").
        var yaml = new StringBuilder(Minimal).Append("bomb:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var level = 1; level < 7; level++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"  l{level}: &l{level} [{string.Join(", ", Enumerable.Repeat($"*l{level - 1}", 10))}]\n");
        }
        var clock = Stopwatch.StartNew();

        Assert.Equal(2, await RunAsync("refresh", "--config", Config(yaml.ToString())));

        clock.Stop();
        Assert.Contains("holds more than 100000 values with its aliases expanded", _stderr.ToString(), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.True(GC.GetGCMemoryInfo().HeapSizeBytes < 1L << 30);
    }

    [Fact]
    public async Task Anchors_and_aliases_within_the_bound_are_read()
    {
        var yaml = "registries:\n  - server: ghcr.io\n    source: &src {type: static, username: u, passwordEnv: P}\n  - server: quay.io\n    source: *src\n"
            + "targets:\n  - secretName: ok\n    namespaces: &ns [a, b]\n  - secretName: other\n    namespaces: *ns\n";

        Assert.Equal(0, await RunAsync("check", "--offline", "--config", Config(yaml)));
    }

    [Fact]
    public async Task A_bad_argument_is_one_line_and_exit_two()
    {
        Assert.Equal(2, await RunAsync("refresh", "--no-such-flag"));

        Assert.All(Lines(_stderr), l => Assert.StartsWith(Prefix, l, StringComparison.Ordinal));
        Assert.Contains("--no-such-flag", _stderr.ToString(), StringComparison.Ordinal);
    }

    private static List<string> Lines(StringWriter writer) => [.. writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
