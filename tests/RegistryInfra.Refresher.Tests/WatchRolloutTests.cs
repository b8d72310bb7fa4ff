using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Refresher.KubernetesApi;
using RegistryInfra.Testing.Components;
using RegistryInfra.Testing.Kubernetes;
using static RegistryInfra.Refresher.Tests.RbacMatrixTests;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// The watch mode with 2 replicas through an update, played as the Deployment controller and pulumi-kubernetes play it, with
/// the component's RBAC enforced and applied in the engine's order (<see cref="PlannedObjects"/>). The Deployment rolls
/// RollingUpdate with maxSurge 0 and maxUnavailable 1 (TokenRefresherComponent): the controller scales the old ReplicaSet
/// down by one (SIGTERM to one old pod; its ReplicaSet starts a new pod at once, a terminating pod is not counted), and
/// scales it down again only once the new pod is available, as only then are more than spec.replicas - maxUnavailable pods
/// available (kubernetes/kubernetes pkg/controller/deployment/rolling.go, commit 03e060242dcb9ab9191451bbe2bd16d1e5d43733:
/// <c>reconcileOldReplicaSets</c>, <c>scaleDownOldReplicaSetsForRollingUpdate</c>, "availablePodCount &lt;= minAvailable:
/// cannot scale down"). pulumi-kubernetes' await returns when the new ReplicaSet has as many ready pods as it asks for
/// (pulumi/pulumi-kubernetes provider/pkg/await/deployment.go, commit 0012b9d2d0417b46995cabe1edb9f659fbb65d7f:
/// <c>checkAndLogStatus</c>, <c>checkReplicaSetStatus</c>: readyReplicas &gt;= spec.replicas of the new ReplicaSet), and only
/// then does the engine delete what left the program (the wide targets' ClusterRole, a removed target's Role:
/// pulumi/pulumi deployment_executor.go performPostSteps, see <see cref="PlannedObjects"/>). So the first full run of a
/// replica of the new configuration, whose ledger sweep still needs that RBAC, must come before both new pods are ready.
/// </summary>
public sealed class WatchRolloutTests(ITestOutputHelper output) : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _root = Directory.CreateTempSubdirectory("refresher-rollout-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The lease timings of WatchModeTests, as an operator would set them on the pods (REFRESHER_ overrides).</summary>
    private static readonly Dictionary<string, string> Timings = new()
    {
        ["REFRESHER_WATCH__LEASEDURATION"] = "3s",
        ["REFRESHER_WATCH__RENEWDEADLINE"] = "2s",
        ["REFRESHER_WATCH__RETRYPERIOD"] = "200ms",
        ["REFRESHER_RETRYBASEDELAY"] = "00:00:00.005",
    };

    private const string LeaderFirst = "the old leader first";
    private const string StandbyFirst = "the old standby first";

    /// <summary>RbacMatrixTests' removals whose sweep needs the RBAC the update deletes or that name accounts, in both kill orders.</summary>
    public static TheoryData<string, string> Rollouts()
    {
        var data = new TheoryData<string, string>();
        foreach (var removal in new[] { "last wide target", "named accounts of a wide target", "named account", "target of a namespace that keeps a Role", "last namespace selection of a selector's accounts" })
        {
            data.Add(removal, LeaderFirst);
            data.Add(removal, StandbyFirst);
        }
        return data;
    }

    private static (string Before, string After, string[] Expected) Row(string removal)
    {
        var row = Removals.Select(r => r.Data).Single(r => r.Item1 == removal);
        return (row.Item2, row.Item3, row.Item4.Split(','));
    }

    [Theory]
    [MemberData(nameof(Rollouts))]
    public async Task A_two_replica_rollout_ends_only_after_a_leader_of_the_new_configuration_finished_its_first_run(string removal, string order)
    {
        var (before, after, expected) = Row(removal);
        await using var bed = await Seed();
        var objects = new PlannedObjects(bed.Api);
        var planBefore = Plan(before, TokenRefresherComponent.WatchMode, replicas: 2);
        objects.Register(planBefore);
        Assert.Equal((RefresherNamespace, TokenRefresherComponent.DefaultServiceAccountName), PlannedObjects.BoundAccount(planBefore));
        var token = bed.AsServiceAccount(RefresherNamespace, TokenRefresherComponent.DefaultServiceAccountName);

        // The first deploy: two replicas of the old configuration; the standby is ready once the leader finished.
        var old1 = Start(bed, ConfigText(planBefore), "refresher-old-1");
        await WaitForAsync(() => Holder(bed) == "refresher-old-1", TimeSpan.FromSeconds(20));
        var old2 = Start(bed, ConfigText(planBefore), "refresher-old-2");
        await WaitReadyAsync([old1, old2]);
        Assert.Contains($"standby: leader {bed.Api.LeaseHolder(RefresherNamespace, LeaseName)} finished its first full run", (await ProbeAsync(old2)).Body, StringComparison.Ordinal);
        objects.DeleteLeftOut();

        // The update: the program's creates and updates (RBAC, the ConfigMap, the Deployment's template), then the rollout.
        var planAfter = Plan(after, TokenRefresherComponent.WatchMode, replicas: 2);
        objects.Register(planAfter);
        bed.Now += TimeSpan.FromMinutes(1);
        await using var watcher = new RolloutWatcher(bed, () => Final(bed, expected));
        var (first, second) = order == LeaderFirst ? (old1, old2) : (old2, old1);
        var new1 = await ReplaceAsync(bed, watcher, first, ConfigText(planAfter), "refresher-new-1");
        await WaitReadyAsync([new1]);
        var new2 = await ReplaceAsync(bed, watcher, second, ConfigText(planAfter), "refresher-new-2");
        await WaitReadyAsync([new1, new2]);
        // pulumi-kubernetes' await returns here; the engine then deletes what left the program.
        Assert.True(Final(bed, expected), $"the rollout finished before the new configuration's run: attached [{string.Join(", ", Attached(bed))}], recorded [{string.Join(", ", RecordedButAbsent(bed))}]");
        objects.DeleteLeftOut();
        await watcher.SampledAsync();
        await watcher.DisposeAsync();

        // The old configuration's replicas run with the RBAC the update already changed: one that leads in between (the old
        // standby, when the old leader goes first) may be refused what the update narrowed. The new configuration's never is.
        output.WriteLine($"{removal}, {order}: holders [{string.Join(", ", watcher.Holders)}], standby-ready answers {watcher.StandbyReady}, "
            + $"refused to the old pods [{string.Join("; ", new[] { old1, old2 }.SelectMany(p => bed.Api.DeniedRequestsOf(p.Token)))}]");
        Assert.Empty(bed.Api.DeniedRequestsOf(new1.Token));
        Assert.Empty(bed.Api.DeniedRequestsOf(new2.Token));
        Assert.Empty(watcher.Violations);
        Assert.True(watcher.StandbyReady > 0, "no standby of the new configuration was seen ready");
        // Handed over once, to the first new pod, and never back to an old one.
        Assert.Equal(["refresher-new-1"], watcher.Holders.SkipWhile(h => h.StartsWith("refresher-old-", StringComparison.Ordinal)).Distinct());
        Assert.DoesNotContain(watcher.Holders.SkipWhile(h => h.StartsWith("refresher-old-", StringComparison.Ordinal)), h => h.StartsWith("refresher-old-", StringComparison.Ordinal));

        // The next full run, with the RBAC as the engine left it.
        bed.Now += TimeSpan.FromHours(6);
        var next = await bed.RunAsync(ConfigurationOf(planAfter));
        Assert.Equal(0, next.Failed);
        await StopAsync(new1);
        await StopAsync(new2);
        Assert.Empty(bed.Api.DeniedRequestsOf(new1.Token));
        Assert.Empty(bed.Api.DeniedRequestsOf(new2.Token));
        Assert.Empty(bed.Api.DeniedRequestsOf(token));
        Assert.Equal(expected.Order(StringComparer.Ordinal), Attached(bed));
        Assert.Empty(RecordedButAbsent(bed));
        foreach (var secret in expected.Select(e => e.Split('/')))
        {
            Assert.NotNull(bed.DockerConfig(secret[0], secret[2]));
        }
    }

    /// <summary>
    /// The first rollout to this version from one before it: the old leader records no configuration and cannot hand over, so
    /// the first new pod is ready beside it (else the rollout would stall: the controller would never delete the old leader);
    /// the replica that follows it is ready only once a leader of the new configuration finished its first run.
    /// </summary>
    [Theory]
    [InlineData(StandbyFirst)]
    [InlineData(LeaderFirst)]
    public async Task A_rollout_from_a_refresher_that_records_no_configuration_neither_stalls_nor_ends_before_the_new_configurations_run(string order)
    {
        var (before, after, expected) = Row("last wide target");
        await using var bed = await Seed();
        var objects = new PlannedObjects(bed.Api);
        var planBefore = Plan(before, TokenRefresherComponent.WatchMode, replicas: 2);
        // The older version's deploy and run: its Secrets and names are there, its leader holds the Lease.
        await DeployAsync(bed, objects, planBefore);
        var (ns, account) = PlannedObjects.BoundAccount(planBefore);
        var token = bed.AsServiceAccount(ns, account);
        using var olderClient = new KubeApi(new KubeEndpoint { Server = new Uri(bed.Api.Host), Credentials = new KubeCredentials { Token = token } }, TimeSpan.FromSeconds(10));
        var olderLeader = new LeaderElectionTests.OlderRefresher(olderClient, "refresher-old-1_0a1b2c3d", TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3), RefresherNamespace, LeaseName);
        await olderLeader.TakeAsync(null, Ct);
        var renewing = olderLeader.RenewAsync();

        var planAfter = Plan(after, TokenRefresherComponent.WatchMode, replicas: 2);
        objects.Register(planAfter);
        bed.Now += TimeSpan.FromMinutes(1);
        await using var watcher = new RolloutWatcher(bed, () => Final(bed, expected));
        Pod new1;
        if (order == StandbyFirst)
        {
            // The old standby goes (it only campaigned); the new pod is ready beside the old leader, so the rollout goes on.
            new1 = Start(bed, ConfigText(planAfter), "refresher-new-1");
            watcher.Watch(new1);
            await WaitReadyAsync([new1]);
            Assert.Contains("records no configuration (an older refresher)", (await ProbeAsync(new1)).Body, StringComparison.Ordinal);
            Assert.Equal("refresher-old-1", Holder(bed));
            Assert.Null(bed.Api.GetLease(RefresherNamespace, LeaseName)!["metadata"]?["annotations"]?[LeaderElection.CandidateAnnotation]);
            await olderLeader.DisposeAsync();
            await renewing;
        }
        else
        {
            await olderLeader.DisposeAsync();
            await renewing;
            new1 = Start(bed, ConfigText(planAfter), "refresher-new-1");
            watcher.Watch(new1);
            await WaitReadyAsync([new1]);
        }
        var new2 = Start(bed, ConfigText(planAfter), "refresher-new-2");
        watcher.Watch(new2);
        await WaitReadyAsync([new1, new2]);
        Assert.True(Final(bed, expected), $"the rollout finished before the new configuration's run: attached [{string.Join(", ", Attached(bed))}]");
        objects.DeleteLeftOut();
        await watcher.SampledAsync();
        await watcher.DisposeAsync();

        output.WriteLine($"{order}: holders [{string.Join(", ", watcher.Holders)}], standby-ready answers {watcher.StandbyReady}");
        Assert.Empty(watcher.Violations);
        // The old leader handed nothing over (it cannot); one of the new pods took the lease it released.
        Assert.StartsWith("refresher-new-", watcher.Holders[^1], StringComparison.Ordinal);
        Assert.Equal(2, watcher.Holders.Count);
        await StopAsync(new1);
        await StopAsync(new2);
        Assert.True(bed.Api.DeniedRequests.Count == 0, "forbidden: " + string.Join("; ", bed.Api.DeniedRequests));
        Assert.Equal(expected.Order(StringComparer.Ordinal), Attached(bed));
        Assert.Empty(RecordedButAbsent(bed));
    }

    private static readonly string LeaseName = TokenRefresherComponent.DefaultServiceAccountName + "-leader";

    private static bool Final(RefresherTestBed bed, string[] expected) =>
        expected.Order(StringComparer.Ordinal).SequenceEqual(Attached(bed)) && RecordedButAbsent(bed).Count == 0;

    /// <summary>The pod name of the Lease's holder (its identity is the pod name, '_', a random suffix), or null.</summary>
    private static string? Holder(RefresherTestBed bed) => bed.Api.LeaseHolder(RefresherNamespace, LeaseName)?.Split('_')[0];

    private sealed record Pod(string Name, string Token, Task<int> Run, CancellationTokenSource Stop, int Port, StringWriter Error);

    /// <summary>A pod of the Deployment: its own token for the refresher's service account (so a refusal names the pod), its own config file and temporary directory.</summary>
    private Pod Start(RefresherTestBed bed, string configText, string name)
    {
        var token = $"token-of-{name}";
        bed.Api.AddServiceAccountToken(token, RefresherNamespace, TokenRefresherComponent.DefaultServiceAccountName);
        var dir = Path.Combine(_root, name);
        Directory.CreateDirectory(dir);
        var config = Path.Combine(dir, RefresherPod.ConfigKey);
        File.WriteAllText(config, configText);
        var environment = new Dictionary<string, string>(Timings) { ["POD_NAME"] = name, ["TMPDIR"] = dir };
        var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var port = FreePort();
        var error = new StringWriter();
        var run = Task.Run(() => RefresherApp.RunAsync(["watch", "--config", config, "--health-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            WatchServices(bed, token, new LogCapture()), stop.Token, new StringWriter(), error, environment), CancellationToken.None);
        return new Pod(name, token, run, stop, port, error);
    }

    /// <summary>One step of the controller: SIGTERM to an old pod, and at once its replacement (a terminating pod is not counted).</summary>
    private async Task<Pod> ReplaceAsync(RefresherTestBed bed, RolloutWatcher watcher, Pod old, string configText, string name)
    {
        var stopping = StopAsync(old);
        var replacement = Start(bed, configText, name);
        watcher.Watch(replacement);
        await stopping;
        return replacement;
    }

    private static async Task StopAsync(Pod pod)
    {
        await pod.Stop.CancelAsync();
        Assert.True(await pod.Run == 0, $"{pod.Name} exited with an error: {pod.Error}");
        pod.Stop.Dispose();
    }

    /// <summary>Until every pod's /readyz answers 200 at once (the ReplicaSet's readyReplicas), as the controller and pulumi-kubernetes wait.</summary>
    private static async Task WaitReadyAsync(IReadOnlyList<Pod> pods)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var answers = await Task.WhenAll(pods.Select(ProbeAsync));
            if (answers.All(a => a.Code == HttpStatusCode.OK))
            {
                return;
            }
            Assert.True(DateTime.UtcNow < until, "not ready in time: " + string.Join("; ", pods.Zip(answers, (p, a) => $"{p.Name}: {a.Body.Trim()}")));
            foreach (var pod in pods.Where(p => p.Run.IsCompleted))
            {
                Assert.Fail($"{pod.Name} exited: {pod.Error}");
            }
            await Task.Delay(50, Ct);
        }
    }

    private static async Task<(HttpStatusCode Code, string Body)> ProbeAsync(Pod pod)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{pod.Port}/readyz", Ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
        }
        catch (HttpRequestException)
        {
            return (0, "");
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not met in time");
            await Task.Delay(20, Ct);
        }
    }

    /// <summary>
    /// Samples, every few milliseconds through the rollout, every new pod's /readyz and the Lease's holder. A standby of the new
    /// configuration answering ready while the state read just before its answer is not yet the new configuration's (its
    /// leader's first run not finished) is a violation; so is a holder that goes back to an old pod (ping-pong).
    /// </summary>
    private sealed class RolloutWatcher : IAsyncDisposable
    {
        private readonly ConcurrentQueue<Pod> _pods = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _rounds;

        public RolloutWatcher(RefresherTestBed bed, Func<bool> final)
        {
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    if (Holder(bed) is { } holder && (Holders.Count == 0 || Holders[^1] != holder))
                    {
                        Holders.Add(holder);
                    }
                    foreach (var pod in _pods.Where(p => !p.Run.IsCompleted))
                    {
                        var reached = final();
                        var (code, body) = await ProbeAsync(pod);
                        if (code == HttpStatusCode.OK && body.StartsWith("ok (standby", StringComparison.Ordinal) && !body.Contains("an older refresher", StringComparison.Ordinal))
                        {
                            StandbyReady++;
                            if (!reached)
                            {
                                Violations.Add($"{pod.Name} ready before the new configuration's first run had finished: {body.Trim()}");
                            }
                        }
                    }
                    Interlocked.Increment(ref _rounds);
                    try
                    {
                        await Task.Delay(10, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }, CancellationToken.None);
        }

        public List<string> Holders { get; } = [];

        public List<string> Violations { get; } = [];

        public int StandbyReady { get; private set; }

        public void Watch(Pod pod) => _pods.Enqueue(pod);

        /// <summary>Until a whole round of samples has begun and ended since the call.</summary>
        public async Task SampledAsync()
        {
            var until = Volatile.Read(ref _rounds) + 2;
            while (Volatile.Read(ref _rounds) < until)
            {
                await Task.Delay(10, Ct);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await _stop.CancelAsync();
                await _loop;
            }
        }
    }
}
