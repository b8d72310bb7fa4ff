using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Refresher.KubernetesApi;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Testing.Components;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// The refresher's RBAC against its own requests: for each target shape the TokenRefresher component can generate, the
/// component's children are applied to the fake API as the engine applies them (<see cref="PlannedObjects"/>: creates and
/// updates in registration order, so Roles are updated before the run-on-deploy Job or the watch Deployment's rollout,
/// deletes after it), RBAC is enforced
/// (<see cref="FakeKubeApi.RbacEnabled"/>, the API server's rules), and the refresher runs with its service account's token and
/// nothing but the Roles, ClusterRole and bindings the component generated. Every run must make zero forbidden requests and
/// reach the expected attachments; a verb missing from RefresherRbac fails here as it would be 403 in a real cluster.
/// </summary>
public sealed class RbacMatrixTests(ITestOutputHelper output)
{
    internal const string Image = "ghcr.io/acme/registryinfra-refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    internal const string RefresherNamespace = "refresher";
    private const string SourceSecret = "upstream-pull";
    internal static readonly string[] Namespaces = ["apps", "jobs", "web"];

    /// <summary>Each shape: its targets (JSON), the mode, and what must be attached afterwards as <c>namespace/account/secret</c>.</summary>
    public static TheoryData<string> Shapes =>
    [
        "listed, named accounts", "listed, all accounts", "listed, account selector",
        "namespace selector, named accounts", "namespace selector, all accounts", "namespace selector, account selector",
        "all namespaces, named accounts", "all namespaces, all accounts", "all namespaces, account selector",
        "copy from a source, listed", "copy from a source, namespace selector", "attach only", "owner ConfigMap",
        "watch mode, listed", "watch mode, namespace selector",
    ];

    private static (string Targets, string Mode) Declared(string shape) => shape switch
    {
        "listed, named accounts" => ("""[{ "secretName": "pull", "namespaces": ["apps", "jobs"], "serviceAccounts": ["default", "builder"] }]""", "cronJob"),
        "listed, all accounts" => ("""[{ "secretName": "pull", "namespaces": ["apps", "jobs"], "allServiceAccounts": true }]""", "cronJob"),
        "listed, account selector" => ("""[{ "secretName": "pull", "namespaces": ["apps", "jobs"], "serviceAccountSelector": { "matchLabels": { "pulls": "private" } } }]""", "cronJob"),
        "namespace selector, named accounts" => ("""[{ "secretName": "pull", "namespaceSelector": "team=pay", "serviceAccounts": ["default", "builder"] }]""", "cronJob"),
        "namespace selector, all accounts" => ("""[{ "secretName": "pull", "namespaceSelector": "team=pay", "allServiceAccounts": true }]""", "cronJob"),
        "namespace selector, account selector" => ("""[{ "secretName": "pull", "namespaceSelector": "team=pay", "serviceAccountSelector": { "matchLabels": { "pulls": "private" } } }]""", "cronJob"),
        "all namespaces, named accounts" => ("""[{ "secretName": "pull", "allNamespaces": true, "excludeNamespaces": ["refresher"], "serviceAccounts": ["default", "builder"] }]""", "cronJob"),
        "all namespaces, all accounts" => ("""[{ "secretName": "pull", "allNamespaces": true, "excludeNamespaces": ["refresher"], "allServiceAccounts": true }]""", "cronJob"),
        "all namespaces, account selector" => ("""[{ "secretName": "pull", "allNamespaces": true, "excludeNamespaces": ["refresher"], "serviceAccountSelector": { "matchLabels": { "pulls": "private" } } }]""", "cronJob"),
        "copy from a source, listed" => ($$"""[{ "secretName": "copied", "namespaces": ["apps"], "serviceAccounts": ["default"], "source": { "namespace": "{{RefresherNamespace}}", "name": "{{SourceSecret}}" } }]""", "cronJob"),
        "copy from a source, namespace selector" => ($$"""[{ "secretName": "copied", "namespaceSelector": "team=pay", "serviceAccounts": ["default"], "source": { "namespace": "{{RefresherNamespace}}", "name": "{{SourceSecret}}" } }]""", "cronJob"),
        "attach only" => ("""[{ "secretName": "static-pull", "namespaces": ["apps"], "serviceAccounts": ["default"], "attachOnly": true }, { "secretName": "pull", "namespaces": ["jobs"], "serviceAccounts": ["default"] }]""", "cronJob"),
        "owner ConfigMap" => ("""[{ "secretName": "pull", "namespaces": ["apps"], "serviceAccounts": ["default"], "owner": "pull-owner" }]""", "cronJob"),
        "watch mode, listed" => ("""[{ "secretName": "pull", "namespaces": ["apps", "jobs"], "serviceAccounts": ["default", "builder"] }]""", "watch"),
        "watch mode, namespace selector" => ("""[{ "secretName": "pull", "namespaceSelector": "team=pay", "serviceAccountSelector": { "matchLabels": { "pulls": "private" } } }]""", "watch"),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
    };

    /// <summary>What each shape attaches, as <c>namespace/account/secret</c> (builder carries pulls=private; apps and jobs team=pay).</summary>
    private static string[] Expected(string shape) => shape switch
    {
        "listed, named accounts" or "listed, all accounts" or "namespace selector, named accounts" or "namespace selector, all accounts" or "watch mode, listed" =>
            ["apps/builder/pull", "apps/default/pull", "jobs/builder/pull", "jobs/default/pull"],
        "listed, account selector" or "namespace selector, account selector" or "watch mode, namespace selector" => ["apps/builder/pull", "jobs/builder/pull"],
        "all namespaces, named accounts" or "all namespaces, all accounts" =>
            ["apps/builder/pull", "apps/default/pull", "jobs/builder/pull", "jobs/default/pull", "web/builder/pull", "web/default/pull"],
        "all namespaces, account selector" => ["apps/builder/pull", "jobs/builder/pull", "web/builder/pull"],
        "copy from a source, listed" => ["apps/default/copied"],
        "copy from a source, namespace selector" => ["apps/default/copied", "jobs/default/copied"],
        "attach only" => ["apps/default/static-pull", "jobs/default/pull"],
        "owner ConfigMap" => ["apps/default/pull"],
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task The_refresher_run_makes_no_forbidden_request_and_reaches_the_expected_state(string shape)
    {
        await using var bed = await Seed();
        var (targets, mode) = Declared(shape);
        var objects = new PlannedObjects(bed.Api);

        await DeployAsync(bed, objects, Plan(targets, mode));

        Assert.Equal(Expected(shape).Order(StringComparer.Ordinal), Attached(bed));
        foreach (var secret in Expected(shape).Select(e => e.Split('/')).Where(e => e[2] != "static-pull"))
        {
            Assert.NotNull(bed.DockerConfig(secret[0], secret[2]));
        }
        // A second run (the CronJob's next schedule) renews what the first wrote: updates, not creates.
        bed.Now += TimeSpan.FromHours(11);
        Assert.Equal(0, (await bed.RunAsync(ConfigurationOf(Plan(targets, mode)))).Failed);
        Assert.Empty(bed.Api.DeniedRequests);
    }

    public static TheoryData<string, string, string, string> Removals => new()
    {
        { "named account", """[{ "secretName": "pull", "namespaces": ["apps", "jobs"], "serviceAccounts": ["default", "builder"] }]""",
            """[{ "secretName": "pull", "namespaces": ["apps", "jobs"], "serviceAccounts": ["default"] }]""", "apps/default/pull,jobs/default/pull" },
        { "target of a namespace that keeps a Role", """[{ "secretName": "pull", "namespaces": ["apps"], "serviceAccounts": ["builder"] }, { "secretName": "other", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""",
            """[{ "secretName": "other", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""", "apps/default/other" },
        { "listed namespace", """[{ "secretName": "pull", "namespaces": ["apps", "jobs"], "serviceAccounts": ["default"] }]""",
            """[{ "secretName": "pull", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""", "apps/default/pull" },
        { "secret name", """[{ "secretName": "pull", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""",
            """[{ "secretName": "pull-v2", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""", "apps/default/pull-v2" },
        { "all accounts to named", """[{ "secretName": "pull", "namespaces": ["apps"], "allServiceAccounts": true }]""",
            """[{ "secretName": "pull", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""", "apps/default/pull" },
        { "copy source", $$"""[{ "secretName": "copied", "namespaces": ["apps"], "serviceAccounts": ["default"], "source": { "namespace": "{{RefresherNamespace}}", "name": "{{SourceSecret}}" } }, { "secretName": "pull", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""",
            """[{ "secretName": "pull", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""", "apps/default/pull" },
        { "one of two wide targets", """[{ "secretName": "pull", "namespaceSelector": "team=pay", "serviceAccounts": ["default"] }, { "secretName": "pull2", "namespaceSelector": "team=pay", "serviceAccounts": ["default"] }]""",
            """[{ "secretName": "pull", "namespaceSelector": "team=pay", "serviceAccounts": ["default"] }]""", "apps/default/pull,jobs/default/pull" },
        { "named accounts of a wide target", """[{ "secretName": "pull", "namespaceSelector": "team=pay", "serviceAccounts": ["default", "builder"] }]""",
            """[{ "secretName": "pull", "namespaceSelector": "team=pay", "serviceAccounts": ["default"] }]""", "apps/default/pull,jobs/default/pull" },
        { "last wide target", """[{ "secretName": "pull", "namespaceSelector": "team=pay", "serviceAccounts": ["default"] }, { "secretName": "listed", "namespaces": ["web"], "serviceAccounts": ["default"] }]""",
            """[{ "secretName": "listed", "namespaces": ["web"], "serviceAccounts": ["default"] }]""", "web/default/listed" },
        // The ledger's sweeps (LedgerSweepTests' shapes): a scope no target configures any more is listed and every account
        // recording the name loses it. A listed namespace's scope (apps/*/pull) is listed with that namespace's Role, updated
        // before the Job when another target of the namespace stays; a namespace selection's (*/*/pull) across the cluster,
        // with the ClusterRole as updated, or as it was when the update deletes it (after the Job).
        { "account selector to named", """[{ "secretName": "pull", "namespaces": ["apps"], "serviceAccountSelector": { "matchLabels": { "pulls": "private" } } }]""",
            """[{ "secretName": "pull", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""", "apps/default/pull" },
        { "selector target of a namespace whose other target stays", """[{ "secretName": "pull", "namespaces": ["apps", "jobs"], "allServiceAccounts": true }, { "secretName": "other", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""",
            """[{ "secretName": "other", "namespaces": ["apps"], "serviceAccounts": ["default"] }]""", "apps/default/other" },
        { "namespace selection, all accounts to named", """[{ "secretName": "pull", "namespaceSelector": "team=pay", "allServiceAccounts": true }]""",
            """[{ "secretName": "pull", "namespaceSelector": "team=pay", "serviceAccounts": ["default"] }]""", "apps/default/pull,jobs/default/pull" },
        { "last namespace selection of a selector's accounts", """[{ "secretName": "pull", "namespaceSelector": "team=pay", "serviceAccountSelector": { "matchLabels": { "pulls": "private" } } }, { "secretName": "listed", "namespaces": ["web"], "serviceAccounts": ["default"] }]""",
            """[{ "secretName": "listed", "namespaces": ["web"], "serviceAccounts": ["default"] }]""", "web/default/listed" },
    };

    /// <summary>
    /// Each removal in each mode. CronJob mode: the run-on-deploy Job runs after the Roles and ClusterRole are updated, before
    /// the deletes. Watch mode (1 replica, Recreate): the Deployment is registered after the bindings it waits for, so the
    /// RBAC objects are updated first; pulumi-kubernetes' Deployment await returns once the rollout's new pod is ready
    /// (pulumi/pulumi-kubernetes provider/pkg/await/deployment.go, commit 94977969d64112b04e19945818a7d5d5f38f631d:
    /// <c>checkAndLogStatus</c> waits for <c>updatedReplicaSetReady</c>, the new ReplicaSet's readyReplicas reaching
    /// spec.replicas), which it is only after its first full run with the new
    /// configuration (RefresherApp's readiness: leader after WatchLoop.FirstRunDone); the engine's deletes come after the
    /// program has finished (performPostSteps, <see cref="PlannedObjects"/>). So both modes are played by
    /// <see cref="DeployAsync"/>: creates and updates, one full run as the refresher's account, then the deletes.
    /// </summary>
    public static TheoryData<string, string, string, string, string> RemovalsInEachMode()
    {
        var data = new TheoryData<string, string, string, string, string>();
        foreach (var mode in new[] { TokenRefresherComponent.CronJobMode, TokenRefresherComponent.WatchMode })
        {
            foreach (var row in Removals)
            {
                var (removal, before, after, expected) = row.Data;
                data.Add(removal, mode, before, after, expected);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RemovalsInEachMode))]
    public async Task A_removal_is_played_with_the_updated_RBAC_and_leaves_no_name_of_ours_behind(string removal, string mode, string before, string after, string expected)
    {
        await using var bed = await Seed();
        var objects = new PlannedObjects(bed.Api);
        await DeployAsync(bed, objects, Plan(before, mode));

        await DeployAsync(bed, objects, Plan(after, mode));

        // The next scheduled run (CronJob) or full resync (watch), once the engine has deleted what left the program (a Role, a ClusterRole).
        bed.Now += TimeSpan.FromHours(6);
        var next = await bed.RunAsync(ConfigurationOf(Plan(after, mode)));

        output.WriteLine($"{removal} ({mode}): denied [{string.Join("; ", bed.Api.DeniedRequests)}], attached [{string.Join(", ", Attached(bed))}]");
        Assert.Empty(bed.Api.DeniedRequests);
        Assert.Equal(0, next.Failed);
        Assert.Equal(expected.Split(',').Order(StringComparer.Ordinal), Attached(bed));
        // No account keeps our annotation for a name it no longer has.
        Assert.Empty(RecordedButAbsent(bed));
    }

    private static readonly string[] Accounts = ["default", "builder"];

    /// <summary>Every name an account's <c>registryinfra.io/added-image-pull-secrets</c> records but its list no longer has, as <c>namespace/account/secret</c>.</summary>
    internal static List<string> RecordedButAbsent(RefresherTestBed bed) =>
        [.. Namespaces.SelectMany(ns => Accounts.SelectMany(account =>
            (bed.Api.GetServiceAccount(ns, account)!["metadata"]?["annotations"]?["registryinfra.io/added-image-pull-secrets"]?.GetValue<string>() ?? "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Where(n => !bed.Api.ImagePullSecrets(ns, account).Contains(n))
                .Select(n => $"{ns}/{account}/{n}")))];

    /// <summary>
    /// The watch mode's start-up as the Deployment runs it (command line, leader election on the Lease, the namespace and
    /// service-account reflectors, the source watches, the first full run), with the component's RBAC enforced: no request
    /// is forbidden, and the state is reached; a service account created afterwards is served through the watch.
    /// </summary>
    [Theory]
    [InlineData("watch mode, listed")]
    [InlineData("watch mode, namespace selector")]
    public async Task The_watch_mode_starts_and_serves_with_no_forbidden_request(string shape)
    {
        await using var bed = await Seed();
        var (targets, mode) = Declared(shape);
        var plan = Plan(targets, mode);
        var objects = new PlannedObjects(bed.Api);
        objects.Register(plan);
        var (ns, account) = PlannedObjects.BoundAccount(plan);
        var token = bed.AsServiceAccount(ns, account);
        var dir = Directory.CreateTempSubdirectory("rbac-watch-").FullName;
        try
        {
            var config = Path.Combine(dir, RefresherPod.ConfigKey);
            await File.WriteAllTextAsync(config, ConfigText(plan), TestContext.Current.CancellationToken);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            var logs = new LogCapture();
            var port = FreePort();
            var run = Task.Run(() => RefresherApp.RunAsync(["watch", "--config", config, "--health-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                WatchServices(bed, token, logs), stop.Token, new StringWriter(), new StringWriter(), new Dictionary<string, string> { ["POD_NAME"] = "refresher-a" }), CancellationToken.None);

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!Expected(shape).Order(StringComparer.Ordinal).SequenceEqual(Attached(bed)) && DateTime.UtcNow < deadline && !run.IsCompleted)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
            Assert.True(bed.Api.DeniedRequests.Count == 0, "forbidden: " + string.Join("; ", bed.Api.DeniedRequests));
            Assert.Equal(Expected(shape).Order(StringComparer.Ordinal), Attached(bed));
            // A service account that appears later is served through the service-account watch.
            bed.Api.AddServiceAccount("apps", "late");
            bed.Api.SetLabels("serviceaccounts", "apps", "late", new Dictionary<string, string> { ["pulls"] = "private" });
            var late = shape == "watch mode, namespace selector";
            if (late)
            {
                deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
                while (!bed.Api.ImagePullSecrets("apps", "late").Contains("pull") && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(100, TestContext.Current.CancellationToken);
                }
                Assert.Contains("pull", bed.Api.ImagePullSecrets("apps", "late"));
            }
            await stop.CancelAsync();
            var code = await run;
            output.WriteLine(string.Join("\n", logs.Entries.Where(e => e.Contains("orbidden", StringComparison.Ordinal))));
            Assert.True(bed.Api.DeniedRequests.Count == 0, "forbidden: " + string.Join("; ", bed.Api.DeniedRequests));
            Assert.Equal(0, code);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A watch replica's services against the bed: its logs, the API as the account whose <paramref name="token"/> it presents, the bed's token source and clock.</summary>
    internal static Action<IServiceCollection> WatchServices(RefresherTestBed bed, string token, LogCapture logs) => services =>
    {
        services.RemoveAll<ILoggerProvider>();
        services.AddSingleton<ILoggerProvider>(logs);
        services.RemoveAll<IKubeApi>();
        services.AddSingleton<IKubeApi>(_ => new KubeApi(new KubeEndpoint { Server = new Uri(bed.Api.Host), Credentials = new KubeCredentials { Token = token } }, TimeSpan.FromSeconds(10)));
        services.RemoveAll<ICredentialSources>();
        services.AddSingleton<ICredentialSources>(new Sources(bed.Source.Object));
        services.RemoveAll<TimeProvider>();
        services.AddSingleton(bed.Time.Object);
    };

    [Fact]
    public void The_per_namespace_watch_limit_is_the_refreshers()
    {
        Assert.Equal(Watch.WatchLoop.PerNamespaceWatchLimit, RefresherRbac.PerNamespaceWatchLimit);
    }

    internal sealed class Sources(ICredentialSource source) : ICredentialSources
    {
        public ICredentialSource Create(RegistryConfiguration registry) => source;
    }

    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    internal static async Task<RefresherTestBed> Seed()
    {
        var bed = await RefresherTestBed.StartAsync();
        foreach (var ns in Namespaces)
        {
            bed.Api.AddNamespace(ns, ns is "apps" or "jobs" ? new Dictionary<string, string> { ["team"] = "pay" } : null);
            bed.Api.AddServiceAccount(ns, "default", "their-pull");
            bed.Api.AddServiceAccount(ns, "builder");
            bed.Api.SetLabels("serviceaccounts", ns, "builder", new Dictionary<string, string> { ["pulls"] = "private" });
        }
        bed.Api.AddSecret("apps", "static-pull", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = RefresherTestBed.Utf8("""{"auths":{"quay.io":{"auth":"eDp5"}}}""") });
        bed.Api.AddConfigMap("apps", "pull-owner");
        bed.Api.AddNamespace(RefresherNamespace);
        bed.Api.AddSecret(RefresherNamespace, SourceSecret, "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = RefresherTestBed.Utf8("""{"auths":{"ghcr.io":{"auth":"b2N0bzpwdw=="}}}""") });
        return bed;
    }

    internal static ComponentPlan Plan(string targets, string mode, int? replicas = null)
    {
        var args = ComponentPlans.Bind<TokenRefresherArgs>(JsonNode.Parse($$"""
            { "namespace": "{{RefresherNamespace}}", "image": "{{Image}}", "mode": "{{mode}}",{{(replicas is { } r ? $" \"replicas\": {r}," : "")}}
              "registries": [{ "name": "ecr", "server": "{{RefresherTestBed.EcrServer}}", "type": "ecr", "region": "eu-west-1" }],
              "targets": {{targets}} }
            """)!.AsObject());
        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", args);
        Assert.Empty(plan.LeftOut);
        return plan;
    }

    internal static string ConfigText(ComponentPlan plan) =>
        plan.Children.Single(c => c.Type == TokenRefresherComponent.ConfigMapType && c.Inputs["data"]?[RefresherPod.ConfigKey] is not null)
            .Inputs["data"]![RefresherPod.ConfigKey]!.GetValue<string>();

    internal static RefresherConfiguration ConfigurationOf(ComponentPlan plan) =>
        ConfigurationReading.Read(ConfigText(plan)) with { RetryBaseDelay = TimeSpan.FromMilliseconds(5) };

    /// <summary>One update: the program's creates and updates, the run-on-deploy Job as the refresher's account, then the deletes.</summary>
    internal static async Task DeployAsync(RefresherTestBed bed, PlannedObjects objects, ComponentPlan plan)
    {
        objects.Register(plan);
        var (ns, account) = PlannedObjects.BoundAccount(plan);
        bed.AsServiceAccount(ns, account);
        var summary = await bed.RunAsync(ConfigurationOf(plan));
        Assert.True(bed.Api.DeniedRequests.Count == 0, "forbidden: " + string.Join("; ", bed.Api.DeniedRequests));
        Assert.Equal(0, summary.Failed);
        objects.DeleteLeftOut();
    }

    /// <summary>Every name of ours an account holds (theirs, their-pull, left out), as <c>namespace/account/secret</c>.</summary>
    internal static List<string> Attached(RefresherTestBed bed) =>
        [.. Namespaces.Append(RefresherNamespace).SelectMany(ns => new[] { "default", "builder", TokenRefresherComponent.DefaultServiceAccountName }
            .SelectMany(a => bed.Api.ImagePullSecrets(ns, a).Where(n => n != "their-pull").Select(n => $"{ns}/{a}/{n}"))).Order(StringComparer.Ordinal)];
}
