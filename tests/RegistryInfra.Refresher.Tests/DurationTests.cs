using NJsonSchema;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Testing;
using RegistryInfra.Core.Refresher;

namespace RegistryInfra.Refresher.Tests;


/// <summary>Go-style and TimeSpan durations, in the file, in environment overrides and in the schema.</summary>
public sealed class DurationTests : IDisposable
{
    private const string Minimal = "instance: test\nregistries:\n  - server: ghcr.io\n    source: {type: static, username: u, passwordEnv: P}\ntargets:\n  - secretName: ok\n    allNamespaces: true\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("refresher-durations-").FullName;

    public static TheoryData<string, TimeSpan> Valid => new()
    {
        { "6h", TimeSpan.FromHours(6) },
        { "30m", TimeSpan.FromMinutes(30) },
        { "1h30m", TimeSpan.FromMinutes(90) },
        { "90s", TimeSpan.FromSeconds(90) },
        { "250ms", TimeSpan.FromMilliseconds(250) },
        { "1.5h", TimeSpan.FromMinutes(90) },
        { ".5m", TimeSpan.FromSeconds(30) },
        { "1h0m0s", TimeSpan.FromHours(1) },
        { "2m3.5s", TimeSpan.FromSeconds(123.5) },
        { "500us", TimeSpan.FromMicroseconds(500) },
        { "500\u00b5s", TimeSpan.FromMicroseconds(500) },
        { "300ns", TimeSpan.FromTicks(3) },
        { "720h", TimeSpan.FromDays(30) },
        { "0", TimeSpan.Zero },
        { "-1h", TimeSpan.FromHours(-1) },
        { "06:00:00", TimeSpan.FromHours(6) },
        { "30.00:00:00", TimeSpan.FromDays(30) },
        { "00:00:00.250", TimeSpan.FromMilliseconds(250) },
    };

    public static TheoryData<string> Invalid => ["6x", "6", "30", "h", "", " ", "1h 30m", "1d", "6H", ".h", "1..5h", "--1h", "1h-", "+", "ms", "1hh", "abc:de", "9999999999999999999h"];

    [Theory]
    [MemberData(nameof(Valid))]
    public void Valid_durations_parse(string text, TimeSpan expected)
    {
        Assert.True(Duration.TryParse(text, out var value), text);
        Assert.Equal(expected, value);
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_durations_are_refused(string text) => Assert.False(Duration.TryParse(text, out _), text);

    [Fact]
    public void The_file_takes_go_durations_for_every_duration_field()
    {
        var options = ConfigurationReading.Load(Config(Minimal.Replace("passwordEnv: P}", "passwordEnv: P, lifetime: 1h30m}", StringComparison.Ordinal)
            + "renewBefore: 6h\ndeadline: 90s\nretryBaseDelay: 100ms\nrequestTimeout: \"00:00:45\"\n"));

        Assert.Equal(
            (TimeSpan.FromHours(6), TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(45), (TimeSpan?)TimeSpan.FromMinutes(90)),
            (options.RenewBefore, options.Deadline, options.RetryBaseDelay, options.RequestTimeout, options.Registries[0].Source.Lifetime));
    }

    [Theory]
    [InlineData("renewBefore: 6x\n", "renewBefore: '6x' is not a duration; use e.g. 6h, 30m or 1h30m")]
    [InlineData("deadline: '5'\n", "deadline: '5' is not a duration; use e.g. 6h, 30m or 1h30m")]
    [InlineData("requestTimeout: 30 s\n", "requestTimeout: '30 s' is not a duration")]
    public void A_bad_duration_in_the_file_is_refused_naming_the_field(string extra, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationReading.Load(Config(Minimal + extra)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_lifetime_names_its_registry()
    {
        var yaml = Minimal.Replace("passwordEnv: P}", "passwordEnv: P, lifetime: 2days}", StringComparison.Ordinal);
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationReading.Load(Config(yaml)));
        Assert.Equal("registries[0].source.lifetime: '2days' is not a duration; use e.g. 6h, 30m or 1h30m", e.Message);
    }

    [Fact]
    public void Environment_overrides_take_go_durations_and_bad_ones_name_the_field()
    {
        var environment = new Dictionary<string, string>
        {
            ["REFRESHER_RENEWBEFORE"] = "8h",
            ["REFRESHER_REGISTRIES__0__SOURCE__LIFETIME"] = "45m",
            ["REFRESHER_DEADLINE"] = "5 minutes",
        };
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationReading.Load(Config(Minimal), environment));
        Assert.Equal("deadline: '5 minutes' is not a duration; use e.g. 6h, 30m or 1h30m", e.Message);

        environment["REFRESHER_DEADLINE"] = "2m";
        var options = ConfigurationReading.Load(Config(Minimal), environment);
        Assert.Equal((TimeSpan.FromHours(8), TimeSpan.FromMinutes(2), (TimeSpan?)TimeSpan.FromMinutes(45)),
            (options.RenewBefore, options.Deadline, options.Registries[0].Source.Lifetime));
    }

    [Fact]
    public async Task The_schema_accepts_the_durations_the_program_accepts_and_refuses_malformed_ones()
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(Requirements.RepositoryRoot, "programs", "refresher", "config.schema.json"), TestContext.Current.CancellationToken);
        string Document(string duration) =>
            """{"registries":[{"server":"ghcr.io","source":{"type":"ecr"}}],"targets":[{"secretName":"x","namespaces":["a"]}],"renewBefore":"""
            + System.Text.Json.JsonSerializer.Serialize(duration) + "}";

        foreach (var (text, _) in Valid.Select(row => ((string, TimeSpan))row.Data).Where(r => !r.Item1.StartsWith('-')))
        {
            Assert.True(schema.Validate(Document(text)).Count == 0, $"schema refuses '{text}'");
        }
        // The schema checks the shape; a range overflow (9999999999999999999h) is the program's to refuse.
        foreach (var text in Invalid.Select(row => (string)row.Data).Where(t => !t.StartsWith("999", StringComparison.Ordinal)))
        {
            Assert.True(schema.Validate(Document(text)).Count > 0, $"schema accepts '{text}'");
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Config(string yaml)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}
