using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Moq;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.KubernetesApi;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>The fake API, the refresher's own Kubernetes client pointed at it, a mocked token source, and a way to run one refresh.</summary>
internal sealed class RefresherTestBed : IAsyncDisposable
{
    public const string EcrServer = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    public const string OtherServer = "ghcr.io";

    private int _tokenNumber;

    private RefresherTestBed(FakeKubeApi api)
    {
        Api = api;
        // As the program builds it from a kubeconfig naming the server and a token (KubernetesClient's default timeout of 100 s).
        Client = new KubeApi(new KubeEndpoint { Server = new Uri(api.Host), Credentials = new KubeCredentials { Token = "not-a-real-token" } }, TimeSpan.FromSeconds(100));
        Source.SetupGet(s => s.Description).Returns("ecr(123456789012, eu-west-1)");
        Source.Setup(s => s.GetCredentialAsync(It.IsAny<CancellationToken>()))
            .Returns(() => ValueTask.FromResult(NextCredential()));
        Time.Setup(t => t.GetUtcNow()).Returns(() => Now);
    }

    public FakeKubeApi Api { get; }

    public KubeApi Client { get; private set; }

    /// <summary>
    /// From now on the refresher runs as the service account <paramref name="ns"/>/<paramref name="name"/>: its client presents
    /// that account's token (returned) and the fake API enforces RBAC (the Roles and bindings stored there), as in a cluster.
    /// </summary>
    public string AsServiceAccount(string ns, string name)
    {
        var token = $"token-of-{ns}-{name}";
        Api.AddServiceAccountToken(token, ns, name);
        Api.RbacEnabled = true;
        Client.Dispose();
        Client = new KubeApi(new KubeEndpoint { Server = new Uri(Api.Host), Credentials = new KubeCredentials { Token = token } }, TimeSpan.FromSeconds(100));
        return token;
    }

    public Mock<ICredentialSource> Source { get; } = new();

    /// <summary>The clock: real timers (CallBase), a controlled "now".</summary>
    public Mock<TimeProvider> Time { get; } = new() { CallBase = true };

    public DateTimeOffset Now { get; set; } = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    public LogCapture Logs { get; } = new();

    /// <summary>The run's <c>--identity-wait</c>.</summary>
    public TimeSpan IdentityWait { get; set; }

    /// <summary>The ledger's size budget the runs get (RefreshRun.LedgerBudget), in characters; null: the program's.</summary>
    public int? LedgerBudget { get; set; }

    /// <summary>Every password the source has handed out, for "never logged" assertions.</summary>
    public List<string> IssuedPasswords { get; } = [];

    public static async Task<RefresherTestBed> StartAsync(FakeKubeFaults? faults = null) =>
        new(await FakeKubeApi.StartAsync(faults, TestContext.Current.CancellationToken));

    public RegistryCredential NextCredential()
    {
        var n = Interlocked.Increment(ref _tokenNumber);
        var password = $"eyJwYXlsb2FkIjoi-secret-token-{n}-{Guid.NewGuid():N}";
        lock (IssuedPasswords)
        {
            IssuedPasswords.Add(password);
        }
        return new RegistryCredential("AWS", password, Now + TimeSpan.FromHours(12));
    }

    public static RefresherConfiguration Options(Func<TargetConfiguration, TargetConfiguration>? target = null, Func<RefresherConfiguration, RefresherConfiguration>? tune = null)
    {
        var t = new TargetConfiguration { SecretName = "regcred" };
        t = target?.Invoke(t) ?? t;
        var options = new RefresherConfiguration
        {
            Registries = [new RegistryConfiguration { Name = "ecr", Server = EcrServer, Source = new TokenSourceConfiguration { Type = "ecr", Region = "eu-west-1" } }],
            Targets = [t],
            Concurrency = 4,
            Deadline = TimeSpan.FromSeconds(30),
            RetryBaseDelay = TimeSpan.FromMilliseconds(5),
            RequestTimeout = TimeSpan.FromSeconds(10),
        };
        return tune?.Invoke(options) ?? options;
    }

    public async Task<RunSummary> RunAsync(RefresherConfiguration options)
    {
        using var metrics = new RefresherMetrics(new TestMeterFactory());
        return await RunAsync(options, metrics);
    }

    /// <summary>A run that <paramref name="stop"/> can stop, as SIGTERM does.</summary>
    public async Task<RunSummary> RunUntilStoppedAsync(RefresherConfiguration options, CancellationToken stop)
    {
        using var metrics = new RefresherMetrics(new TestMeterFactory());
        return await RunCoreAsync(options, metrics, stop);
    }

    public Task<RunSummary> RunAsync(RefresherConfiguration options, RefresherMetrics metrics) =>
        RunCoreAsync(options, metrics, TestContext.Current.CancellationToken);

    private async Task<RunSummary> RunCoreAsync(RefresherConfiguration options, RefresherMetrics metrics, CancellationToken stop)
    {
        using var factory = LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        var sources = options.Registries.ToDictionary(r => r.Key, _ => Source.Object);
        var run = new RefreshRun(Client, options, sources, Time.Object, factory.CreateLogger<RefreshRun>(), metrics) { IdentityWait = IdentityWait, LedgerBudget = LedgerBudget ?? RefreshRun.DefaultLedgerBudget };
        return await run.RunAsync(stop);
    }

    public void AddNamespaces(int count, string prefix = "team-", IReadOnlyDictionary<string, string>? labels = null)
    {
        for (var i = 0; i < count; i++)
        {
            Api.AddNamespace($"{prefix}{i}", labels);
        }
    }

    /// <summary>The secret's .dockerconfigjson parsed, or null.</summary>
    public JsonObject? DockerConfig(string ns, string name = "regcred") =>
        Api.GetSecretData(ns, name, ".dockerconfigjson") is { } bytes ? JsonNode.Parse(bytes)!.AsObject() : null;

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Api.DisposeAsync();
    }

    internal sealed class TestMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        private readonly List<System.Diagnostics.Metrics.Meter> _meters = [];

        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
        {
            var meter = new System.Diagnostics.Metrics.Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
