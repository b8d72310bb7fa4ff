using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.Configuration;

namespace RegistryInfra.Refresher.Tests;

/// <summary>Core's refresher configuration contract: what the component writes is what the refresher reads, field for field.</summary>
public sealed class ConfigurationContractTests
{
    private static readonly RefresherConfiguration Full = new()
    {
        Registries =
        [
            new RegistryConfiguration { Name = "prod", Server = "123456789012.dkr.ecr.eu-west-1.amazonaws.com", Source = new TokenSourceConfiguration { Type = TokenSourceConfiguration.Ecr, Region = "eu-west-1", AccountId = "012345678901", Endpoint = "https://vpce.example.com" } },
            new RegistryConfiguration { Server = "harbor.example.com", Source = new TokenSourceConfiguration { Type = TokenSourceConfiguration.Static, Username = "robot$pull", PasswordFile = "/run/p", Lifetime = TimeSpan.FromMinutes(90) } },
            new RegistryConfiguration { Server = "ghcr.io", Source = new TokenSourceConfiguration { Type = TokenSourceConfiguration.Exec, Command = "/bin/cred", Args = ["--json", "x y"] } },
        ],
        Targets =
        [
            new TargetConfiguration { SecretName = "pull", Registries = ["prod"], NamespaceSelector = "team=a,env!=dev", ServiceAccounts = ["default"] },
            new TargetConfiguration { SecretName = "static", AttachOnly = true, Namespaces = ["a", "b"], ServiceAccounts = ["default", "builder"] },
            new TargetConfiguration { SecretName = "everywhere", AllNamespaces = true, ExcludeNamespaces = ["kube-*"], ServiceAccountSelector = "pulls in (yes)", ClusterOwner = "refresher", Source = new SecretSourceConfiguration { Namespace = "refresher", Name = "static-source" } },
            new TargetConfiguration { SecretName = "tokens", NamespaceSelector = "team", AllServiceAccounts = true, ClusterOwner = "refresher" },
        ],
        Instance = "refresher",
        Watch = new WatchConfiguration { LeaseNamespace = "refresher", LeaseName = "refresher-leader", LeaseOwner = "refresher-config", RetryPeriod = TimeSpan.FromSeconds(3), Resync = TimeSpan.FromMinutes(15) },
        RenewBefore = TimeSpan.FromHours(7),
        Concurrency = 16,
        Deadline = TimeSpan.FromSeconds(150),
        ConflictRetries = 3,
        TransientRetries = 0,
        RetryBaseDelay = TimeSpan.FromMilliseconds(250),
        RequestTimeout = TimeSpan.FromSeconds(30),
        Metrics = new MetricsConfiguration { OtlpEndpoint = "http://collector:4318" },
    };

    [Fact]
    public void What_core_writes_the_refresher_reads_back_equal_through_its_yaml_loader()
    {
        var json = RefresherConfigurationJson.ToJson(Full);
        var read = ConfigurationFile.Parse(json, "configmap", new System.Collections.Hashtable());

        Assert.Equal(json, RefresherConfigurationJson.ToJson(read));
        Assert.Equal("012345678901", read.Registries[0].Source.AccountId);
        Assert.Equal(["--json", "x y"], read.Registries[2].Source.Args);
        Assert.Equal((TimeSpan?)TimeSpan.FromSeconds(150), read.Deadline);
        Assert.Equal(Full.Targets[2].Source, read.Targets[2].Source);
        Assert.Equal(["kube-*"], read.Targets[2].ExcludeNamespaces);
        Assert.Equal(("pulls in (yes)", "refresher", true), (read.Targets[2].ServiceAccountSelector, read.Targets[3].ClusterOwner, read.Targets[3].AllServiceAccounts));
        Assert.Equal(Full.Watch, read.Watch);
        Assert.Equal("refresher", read.Instance);
        Assert.Empty(RefresherConfigurationValidator.Validate(read));
    }

    [Fact]
    public void The_written_form_leaves_out_unset_values_and_writes_durations_as_go_does()
    {
        var minimal = new RefresherConfiguration { Targets = [new TargetConfiguration { SecretName = "s", AttachOnly = true, AllNamespaces = true, ServiceAccounts = ["default"] }] };

        Assert.Equal("""{"targets":[{"secretName":"s","allNamespaces":true,"serviceAccounts":["default"],"attachOnly":true}]}""", RefresherConfigurationJson.ToJson(minimal));
        Assert.Contains("\"deadline\":\"2m30s\"", RefresherConfigurationJson.ToJson(Full), StringComparison.Ordinal);
        Assert.Contains("\"lifetime\":\"1h30m0s\"", RefresherConfigurationJson.ToJson(Full), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0s", 0L)]
    [InlineData("250ms", 2_500_000L)]
    [InlineData("1.5ms", 15_000L)]
    [InlineData("500us", 5_000L)]
    [InlineData("300ns", 3L)]
    [InlineData("1.5s", 15_000_000L)]
    [InlineData("2m3.5s", 1_235_000_000L)]
    [InlineData("7h0m0s", 252_000_000_000L)]
    [InlineData("-1h0m0s", -36_000_000_000L)]
    public void Durations_are_written_in_go_form_and_read_back_to_the_tick(string text, long ticks)
    {
        Assert.Equal(text, Duration.Format(TimeSpan.FromTicks(ticks)));
        Assert.True(Duration.TryParse(text, out var back));
        Assert.Equal(ticks, back.Ticks);
    }

    [Fact]
    public void The_largest_durations_round_trip()
    {
        foreach (var value in new[] { TimeSpan.MaxValue, TimeSpan.MinValue + TimeSpan.FromTicks(1), TimeSpan.FromTicks(1) })
        {
            Assert.True(Duration.TryParse(Duration.Format(value), out var back), Duration.Format(value));
            Assert.Equal(value, back);
        }
    }

    [Fact]
    public void Json_shape_errors_are_problems_with_their_path()
    {
        var problems = new List<ConfigurationProblem>();
        var read = RefresherConfigurationJson.FromJson("""{"targets":{"secretName":"x"},"concurrency":"lots","renewbefore":"1h","registries":[{"server":"a","source":["ecr"]}]}""", problems);

        Assert.Null(read);
        Assert.Equal(
            [
                "targets: must be a list (got a mapping)",
                "concurrency: 'lots' is not a whole number",
                "renewbefore: unknown key; did you mean 'renewBefore'?",
                "registries[0].source: must be a mapping (got a list)",
            ],
            problems.Select(p => p.ToString()));
    }
}
