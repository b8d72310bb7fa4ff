using System.Text.Json.Nodes;
using Amazon.Runtime;
using RegistryInfra.Refresher.KubernetesApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Testing.Aws;
using RegistryInfra.Testing.Kubernetes;
using RegistryInfra.Core.Refresher;

namespace RegistryInfra.Refresher.Tests;


/// <summary>The whole program in-process (command line, configuration file, host, exit code) against the fake API and the SigV4-checking fake ECR.</summary>
public sealed class RefresherAppTests : IAsyncLifetime
{
    private const string Server = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    private readonly string _dir = Directory.CreateTempSubdirectory("refresher-app-").FullName;
    private FakeKubeApi _api = null!;
    private FakeEcr _ecr = null!;
    private readonly LogCapture _logs = new();
    private readonly StringWriter _stdout = new();
    private readonly StringWriter _stderr = new();

    /// <summary>What the registry probe of <c>check</c> was asked, and what it answers.</summary>
    private readonly RecordingProbe _probe = new();

    public async ValueTask InitializeAsync()
    {
        _api = await FakeKubeApi.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        _ecr = await FakeEcr.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        for (var i = 0; i < 3; i++)
        {
            _api.AddNamespace($"app-{i}", new Dictionary<string, string> { ["pull"] = "ecr" });
            _api.AddServiceAccount($"app-{i}", "default");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _ecr.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string Config(string yaml)
    {
        var path = Path.Combine(_dir, $"config-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private const string ValidYaml = $"""
        registries:
          - name: prod
            server: {Server}
            source:
              type: ecr
        targets:
          - secretName: ecr-pull
            namespaceSelector: pull=ecr
            serviceAccounts: [default]
        instance: refresher
        renewBefore: "06:00:00"
        concurrency: 2
        deadline: "00:00:20"
        retryBaseDelay: "00:00:00.005"
        """;

    private Task<int> RunAsync(params string[] args) => RefresherApp.RunAsync(args, services =>
    {
        services.RemoveAll<ILoggerProvider>();
        services.AddSingleton<ILoggerProvider>(_logs);
        services.RemoveAll<IKubeApi>();
        services.AddSingleton<IKubeApi>(_ => new KubeApi(new KubeEndpoint { Server = new Uri(_api.Host), Credentials = new KubeCredentials() }, TimeSpan.FromSeconds(100)));
        services.RemoveAll<ICredentialSources>();
        services.AddSingleton<ICredentialSources>(new FakeEcrSources(_ecr));
        services.AddSingleton<IRegistryProbe>(_probe);
    }, TestContext.Current.CancellationToken, _stdout, _stderr);

    internal sealed class RecordingProbe : IRegistryProbe
    {
        public List<(string Registry, string Username)> Checked { get; } = [];

        public RegistryInfra.Core.RegistryException? Refusal { get; set; }

        public Task<string?> CheckAsync(RegistryInfra.Core.References.RegistryHost registry, RegistryCredential credential, CancellationToken cancellationToken)
        {
            lock (Checked)
            {
                Checked.Add((registry.Name, credential.Username));
            }
            return Refusal is { } refusal ? Task.FromException<string?>(refusal) : Task.FromResult<string?>("Basic");
        }
    }

    /// <summary>The real ECR source with the fake's key pair and endpoint, instead of the pod's identity chain.</summary>
    private sealed class FakeEcrSources(FakeEcr ecr) : ICredentialSources
    {
        public ICredentialSource Create(RegistryConfiguration registry) => new EcrCredentialSource(
            ecr.Region, "123456789012", new BasicAWSCredentials(ecr.AccessKeyId, ecr.SecretAccessKey), ecr.Endpoint);
    }

    [Fact]
    public async Task Refresh_fills_every_selected_namespace_from_one_signed_ecr_call_and_exits_zero()
    {
        var code = await RunAsync("refresh", "--config", Config(ValidYaml));

        Assert.Equal(0, code);
        var request = Assert.Single(_ecr.Requests);
        Assert.True(request.SignatureValid);
        var password = Assert.Single(_ecr.IssuedPasswords);
        for (var i = 0; i < 3; i++)
        {
            var config = JsonNode.Parse(_api.GetSecretData($"app-{i}", "ecr-pull", ".dockerconfigjson")!)!;
            Assert.Equal(password, config["auths"]![Server]!["password"]!.GetValue<string>());
            Assert.Equal(["ecr-pull"], _api.ImagePullSecrets($"app-{i}", "default"));
        }
        Assert.Contains(_logs.Entries, e => e.Contains("Refresh run: checked 3, written 3", StringComparison.Ordinal));
        Assert.DoesNotContain(password, _logs.All, StringComparison.Ordinal);

        // A rerun within the renewal margin changes nothing and asks ECR nothing.
        _api.ResetCounters();
        Assert.Equal(0, await RunAsync("refresh", "--config", Config(ValidYaml)));
        Assert.Single(_ecr.Requests);
        Assert.Equal(0, _api.WriteCount("secrets") + _api.WriteCount("serviceaccounts"));
    }

    [Fact]
    public async Task Ecr_down_leaves_every_secret_as_it_was_and_exits_one_then_a_rerun_converges()
    {
        Assert.Equal(0, await RunAsync("refresh", "--config", Config(ValidYaml)));
        var before = Enumerable.Range(0, 3).Select(i => _api.GetSecretData($"app-{i}", "ecr-pull", ".dockerconfigjson")).ToList();
        var forced = ValidYaml.Replace("renewBefore: \"06:00:00\"", "renewBefore: \"13:00:00\"", StringComparison.Ordinal);
        for (var i = 0; i < 10; i++)
        {
            _ecr.EnqueueFault(EcrFault.ServerError(503));
        }

        Assert.Equal(1, await RunAsync("refresh", "--config", Config(forced)));

        Assert.Equal(before, Enumerable.Range(0, 3).Select(i => _api.GetSecretData($"app-{i}", "ecr-pull", ".dockerconfigjson")).ToList());
        Assert.Equal(3, _api.Events().Count);
        Assert.All(_api.Events(), e => Assert.Equal("RefreshFailed", e["reason"]!.GetValue<string>()));

        Assert.Equal(0, await RunAsync("refresh", "--config", Config(forced)));
        Assert.NotEqual(before[0], _api.GetSecretData("app-0", "ecr-pull", ".dockerconfigjson"));
    }

    [Fact]
    public async Task Ecr_throttling_is_retried_and_garbage_fails_the_run_without_writing()
    {
        _ecr.EnqueueFault(EcrFault.Throttling);
        _ecr.EnqueueFault(EcrFault.Throttling);
        Assert.Equal(0, await RunAsync("refresh", "--config", Config(ValidYaml)));
        Assert.Equal(3, _ecr.Requests.Count);

        var forced = ValidYaml.Replace("renewBefore: \"06:00:00\"", "renewBefore: \"13:00:00\"", StringComparison.Ordinal);
        var before = _api.GetSecretData("app-1", "ecr-pull", ".dockerconfigjson");
        _ecr.EnqueueFault(new EcrFault.Garbage("{\"authorizationData\": \"surprise\"}"));
        Assert.Equal(1, await RunAsync("refresh", "--config", Config(forced)));
        Assert.Equal(before, _api.GetSecretData("app-1", "ecr-pull", ".dockerconfigjson"));
    }

    [Fact]
    public async Task Check_reads_and_reports_but_writes_nothing()
    {
        Assert.Equal(0, await RunAsync("check", "--config", Config(ValidYaml)));

        Assert.Equal(0, _api.WriteCount("secrets") + _api.WriteCount("serviceaccounts") + _api.WriteCount("events"));
        Assert.Equal(3, _api.RequestCount("GET", "secrets"));
        Assert.Contains(_logs.Entries, e => e.Contains("missing (refresh will create it)", StringComparison.Ordinal));
        Assert.Contains(_logs.Entries, e => e.Contains("Check finished: 0 problem(s)", StringComparison.Ordinal));
        // The token was tried against its registry, as docker login would.
        Assert.Equal([(Server, "AWS")], _probe.Checked);
        Assert.Contains(_logs.Entries, e => e.Contains($"Registry prod ({Server}) accepted the credential", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_exits_one_when_the_registry_refuses_the_token()
    {
        _probe.Refusal = new RegistryInfra.Core.RegistryException(RegistryInfra.Core.RegistryErrorKind.Unauthorized, $"{Server}: credentials rejected (HTTP 401)");

        Assert.Equal(1, await RunAsync("check", "--config", Config(ValidYaml)));

        Assert.Contains(_logs.Entries, e => e.Contains($"Registry prod ({Server}) refused the credential: Unauthorized", StringComparison.Ordinal));
        Assert.DoesNotContain(Assert.Single(_ecr.IssuedPasswords), _logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_exits_one_when_the_credentials_are_refused()
    {
        _ecr.EnqueueFault(EcrFault.AccessDenied);
        Assert.Equal(1, await RunAsync("check", "--config", Config(ValidYaml)));
        Assert.Contains(_logs.Entries, e => e.Contains("failed: Forbidden", StringComparison.Ordinal) || e.Contains("failed: Unauthorized", StringComparison.Ordinal) || e.Contains("failed: CredentialSource", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("registries: []\ntargets: []", "registries: at least one registry is required")]
    [InlineData($"registries:\n  - server: {Server}\n    source: {{type: ecr}}\ntargets:\n  - secretName: Bad_Name\n    namespaces: [a]", "targets[0].secretName: 'Bad_Name' is not a valid Secret name")]
    [InlineData($"registries:\n  - server: {Server}\n    source: {{type: ecr}}\ntargets:\n  - secretName: ok\n    namespaces: [a]\n    allNamespaces: true", "targets[0]: give exactly one of namespaces, namespaceSelector or allNamespaces (got 2)")]
    [InlineData("instance: i\nregistries:\n  - server: registry.example.com\n    source: {type: ecr}\ntargets:\n  - secretName: ok\n    allNamespaces: true", "registries[0].source.region: required for an ecr source")]
    [InlineData("instance: i\nregistries:\n  - server: ghcr.io\n    source: {type: vault}\ntargets:\n  - secretName: ok\n    allNamespaces: true", "registries[0].source.type: 'vault' must be one of ecr, gcp, acr, static, exec")]
    [InlineData("instance: i\nregistries:\n  - server: ghcr.io\n    source: {type: static, username: u}\ntargets:\n  - secretName: ok\n    registries: [nope]\n    allNamespaces: true", "targets[0].registries[0]: no registry is named 'nope'")]
    [InlineData("instance: i\nregistries:\n  - server: 'http://'\n    source: {type: static, username: u, passwordEnv: P}\ntargets:\n  - secretName: ok\n    allNamespaces: true\nconcurrency: 0", "concurrency: 0 must be between 1 and 256")]
    [InlineData("instance: i\nregistries:\n  - server: ghcr.io\n    source: {type: static, username: u, passwordEnv: P}\ntargets:\n  - secretName: ok\n    namespaceSelector: 'team in (a'", "targets[0].namespaceSelector: 'team in (a' is not a label selector: unable to parse requirement: found '', expected: ',' or ')'")]
    [InlineData("registries:\n  - server: ghcr.io\n    source: {type: static, username: u, passwordEnv: P}\ntargets:\n  - secretName: ok\n    allNamespaces: true", "instance: required when a target selects namespaces by namespaceSelector or allNamespaces (targets[0] does)")]
    [InlineData("registries:\n  - server: ghcr.io\n    source: {type: static, username: u, passwordEnv: P}\ntargets:\n  - secretName: ok\n    namespaces: [a]\n    excludeNamespaces: [kube-*]", "targets[0].excludeNamespaces: only with namespaceSelector or allNamespaces")]
    [InlineData("instance: i\nregistries:\n  - server: ghcr.io\n    source: {type: static, username: u, passwordEnv: P}\ntargets:\n  - secretName: ok\n    allNamespaces: true\n    serviceAccounts: [default]\n    allServiceAccounts: true", "targets[0]: give at most one of serviceAccounts, allServiceAccounts or serviceAccountSelector (got 2)")]
    [InlineData("instance: i\nregistries:\n  - server: ghcr.io\n    source: {type: static, username: u, passwordEnv: P}\ntargets:\n  - secretName: ok\n    allNamespaces: true\n    registries: [ghcr.io]\n    source: {namespace: r, name: s}", "targets[0].registries: a copy target's data is its source Secret's; it names no registries")]
    [InlineData("instance: i\ntargets:\n  - secretName: ok\n    allNamespaces: true\n    source: {namespace: r, name: s}\n    owner: o\n    clusterOwner: role", "targets[0].clusterOwner: give owner (a ConfigMap in each namespace) or clusterOwner (one ClusterRole), not both")]
    [InlineData("instance: i\ntargets:\n  - secretName: ok\n    allNamespaces: true\n    source: {namespace: r, name: s}\nwatch: {leaseNamespace: r, leaseName: l, leaseDuration: 5s}", "watch.leaseDuration: leaseDuration (5s) must be greater than renewDeadline (10s)")]
    public async Task Invalid_configuration_exits_two_naming_the_field(string yaml, string expected)
    {
        Assert.Equal(2, await RunAsync("refresh", "--config", Config(yaml)));
        Assert.Contains("registryinfra-refresher: invalid configuration: " + expected, _stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, _api.TotalRequests);
    }

    [Fact]
    public async Task Unreadable_or_broken_files_and_bad_arguments_exit_two()
    {
        Assert.Equal(2, await RunAsync("refresh", "--config", Path.Combine(_dir, "missing.yaml")));
        Assert.Equal(2, await RunAsync("refresh", "--config", Config("registries: [\n  - {")));
        Assert.Equal(2, await RunAsync("refresh", "--no-such-flag"));
    }

    [Fact]
    public async Task Environment_variables_override_the_file()
    {
        // A variable name unique to this test: the process environment is shared.
        var key = "REFRESHER_TARGETS__0__SECRETNAME";
        Environment.SetEnvironmentVariable(key, "from-env");
        try
        {
            Assert.Equal(0, await RunAsync("refresh", "--config", Config(ValidYaml)));
        }
        finally
        {
            Environment.SetEnvironmentVariable(key, null);
        }
        Assert.NotNull(_api.GetSecret("app-0", "from-env"));
        Assert.Null(_api.GetSecret("app-0", "ecr-pull"));
    }
}
