using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryInfra.Refresher.KubernetesApi;
using RegistryInfra.Refresher.Watch;
using RegistryInfra.Testing.Kubernetes;
using static RegistryInfra.Refresher.Tests.FakeKubeWatchTests;

namespace RegistryInfra.Refresher.Tests;

/// <summary>Two replicas electing a leader on the fake API's Lease: one leads, the other takes over on release and on expiry.</summary>
public sealed class LeaderElectionTests : IAsyncDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan RenewDeadline = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RetryPeriod = TimeSpan.FromMilliseconds(200);

    private readonly WatchMetrics _metrics = new(new RefresherTestBed.TestMeterFactory());
    private readonly List<KubeApi> _clients = [];
    private FakeKubeApi? _api;

    private async Task StartAsync()
    {
        _api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        _api!.AddNamespace("refresher");
    }

    private KubeApi Client()
    {
        var client = new KubeApi(new KubeEndpoint { Server = new Uri(_api!.Host), Credentials = new KubeCredentials { Token = "t" } }, TimeSpan.FromSeconds(5));
        _clients.Add(client);
        return client;
    }

    private LeaderElection Replica(string identity, IKubeWatchApi? through = null, string? owner = null, string configuration = "config-a",
        DateTimeOffset? started = null, Func<bool>? finished = null)
    {
        return new LeaderElection(through ?? Client(), "refresher", "lock", identity, LeaseDuration, RenewDeadline, RetryPeriod, TimeProvider.System, NullLogger.Instance, _metrics,
            owner is null ? null : (Client(), owner), configuration, started ?? Epoch, finished);
    }

    /// <summary>When the first pods started; a rollout's new pods start later.</summary>
    private static readonly DateTimeOffset Epoch = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    /// <summary>What each replica's leader work saw: when it started and when it ended.</summary>
    private sealed class Work
    {
        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public List<(string Who, TimeSpan Started, TimeSpan Ended)> Terms { get; } = [];

        public Func<CancellationToken, Task> For(string who) => async ct =>
        {
            var started = Clock.Elapsed;
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                lock (Terms)
                {
                    Terms.Add((who, started, Clock.Elapsed));
                }
            }
        };
    }

    [Fact]
    public async Task Only_one_replica_leads_and_the_standby_takes_over_at_once_when_the_leader_releases_on_stop()
    {
        await StartAsync();
        var work = new Work();
        var a = Replica("a");
        var b = Replica("b");
        using var stopA = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var stopB = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var runA = a.RunAsync(work.For("a"), stopA.Token);
        await WaitForAsync(() => a.IsLeader);
        var runB = b.RunAsync(work.For("b"), stopB.Token);
        // The standby keeps trying for longer than a lease, and never leads while the leader renews.
        await Task.Delay(LeaseDuration + TimeSpan.FromSeconds(1), Ct);
        Assert.True(a.IsLeader);
        Assert.False(b.IsLeader);
        Assert.Equal("a", _api!.LeaseHolder("refresher", "lock"));
        var lease = _api!.GetLease("refresher", "lock")!["spec"]!;
        Assert.Equal(4, lease["leaseDurationSeconds"]!.GetValue<int>());
        Assert.Equal(0, lease["leaseTransitions"]!.GetValue<int>());

        var stopped = work.Clock.Elapsed;
        await stopA.CancelAsync();
        await runA;
        // Released: the holder is cleared at once (no waiting out the lease)...
        await WaitForAsync(() => b.IsLeader, TimeSpan.FromSeconds(3));
        var tookOver = work.Clock.Elapsed - stopped;
        Assert.True(tookOver < LeaseDuration, $"took {tookOver} to take over a released lease");
        Assert.Equal("b", _api!.LeaseHolder("refresher", "lock"));
        Assert.Equal(1, _api!.GetLease("refresher", "lock")!["spec"]!["leaseTransitions"]!.GetValue<int>());

        await stopB.CancelAsync();
        await runB;
        Assert.Null(_api!.LeaseHolder("refresher", "lock"));
        Assert.Equal(1, _api!.GetLease("refresher", "lock")!["spec"]!["leaseDurationSeconds"]!.GetValue<int>());
        // a's term ended before b's began: never two leaders at once.
        var terms = work.Terms.OrderBy(t => t.Started).ToList();
        Assert.Equal(["a", "b"], terms.Select(t => t.Who));
        Assert.True(terms[0].Ended <= terms[1].Started);
    }

    [Fact]
    public async Task With_an_owner_the_lease_is_created_under_it_and_garbage_collected_with_it_and_never_created_without_it()
    {
        await StartAsync();
        var a = Replica("a", owner: "refresher-config");

        // The owner does not exist (yet, or any more): no Lease that nothing would delete, the try fails.
        Assert.False(await a.TryAcquireOrRenewAsync(Ct));
        Assert.Null(_api!.GetLease("refresher", "lock"));

        var uid = _api!.AddConfigMap("refresher", "refresher-config");
        Assert.True(await a.TryAcquireOrRenewAsync(Ct));
        var reference = Assert.Single(_api!.GetLease("refresher", "lock")!["metadata"]!["ownerReferences"]!.AsArray())!;
        Assert.Equal(("v1", "ConfigMap", "refresher-config", uid),
            (reference["apiVersion"]!.GetValue<string>(), reference["kind"]!.GetValue<string>(), reference["name"]!.GetValue<string>(), reference["uid"]!.GetValue<string>()));
        // Renewing (the fast path and the read path) keeps it.
        Assert.True(await a.TryAcquireOrRenewAsync(Ct));
        Assert.Single(_api!.GetLease("refresher", "lock")!["metadata"]!["ownerReferences"]!.AsArray());

        // Pulumi deletes the configuration ConfigMap (destroy, or the component leaving the program; the namespace may stay):
        // garbage collection takes the Lease with it.
        _api!.Delete("configmaps", "refresher", "refresher-config", "Background");
        Assert.Null(_api!.GetLease("refresher", "lock"));
    }

    [Fact]
    public async Task A_lease_without_an_owner_gets_one_when_a_replica_with_an_owner_takes_it_over()
    {
        await StartAsync();
        var uid = _api!.AddConfigMap("refresher", "refresher-config");
        // A Lease written by a refresher that set no owner (an older version), released on its stop.
        var old = Replica("old");
        using (var stopOld = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            var runOld = old.RunAsync(ct => Task.Delay(Timeout.Infinite, ct), stopOld.Token);
            await WaitForAsync(() => old.IsLeader);
            await stopOld.CancelAsync();
            await runOld;
        }
        Assert.Null(_api!.GetLease("refresher", "lock")!["metadata"]!["ownerReferences"]);

        var a = Replica("a", owner: "refresher-config");
        Assert.True(await a.TryAcquireOrRenewAsync(Ct));

        var lease = _api!.GetLease("refresher", "lock")!;
        Assert.Equal("a", _api!.LeaseHolder("refresher", "lock"));
        Assert.Equal(uid, Assert.Single(lease["metadata"]!["ownerReferences"]!.AsArray())!["uid"]!.GetValue<string>());
        Assert.Equal(1, lease["spec"]!["leaseTransitions"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_leader_that_dies_without_releasing_is_replaced_once_its_lease_expires_and_a_leader_that_cannot_renew_steps_down()
    {
        await StartAsync();
        var work = new Work();
        var network = new Severable(Client());
        var a = Replica("a", network);
        var b = Replica("b");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var runA = a.RunAsync(work.For("a"), stop.Token);
        await WaitForAsync(() => a.IsLeader);
        var runB = b.RunAsync(work.For("b"), stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);

        // a can no longer reach the API server (a dead node, a partition): it neither renews nor releases.
        var cut = work.Clock.Elapsed;
        network.Cut = true;
        await WaitForAsync(() => b.IsLeader, LeaseDuration + TimeSpan.FromSeconds(5));
        var tookOver = work.Clock.Elapsed - cut;

        // b waits for the lease to expire as it observed it (LeaseDuration after it last saw it change), not less.
        Assert.True(tookOver >= LeaseDuration - RetryPeriod - TimeSpan.FromMilliseconds(500), $"took over after {tookOver}");
        Assert.False(a.IsLeader);
        var aTerm = work.Terms.Single(t => t.Who == "a");
        // a stopped its work within RenewDeadline (plus a retry) of losing the API, before b could start.
        Assert.True(aTerm.Ended - cut <= RenewDeadline + RetryPeriod + RetryPeriod + TimeSpan.FromMilliseconds(500), $"a stopped after {aTerm.Ended - cut}");
        await WaitForAsync(() => work.Terms.Count == 1 && b.IsLeader);
        Assert.Equal("b", _api!.LeaseHolder("refresher", "lock"));
        Assert.Equal(1, _api!.GetLease("refresher", "lock")!["spec"]!["leaseTransitions"]!.GetValue<int>());

        await stop.CancelAsync();
        await Task.WhenAll(runA, runB);
        var terms = work.Terms.OrderBy(t => t.Started).ToList();
        Assert.True(terms[0].Ended <= terms[1].Started);
    }

    [Fact]
    public async Task A_leader_whose_last_renewal_answer_was_lost_still_releases_on_stop()
    {
        await StartAsync();
        var work = new Work();
        var network = new Severable(Client());
        var a = Replica("a", network);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var runA = a.RunAsync(work.For("a"), stop.Token);
        await WaitForAsync(() => a.IsLeader);
        var version = _api!.GetLease("refresher", "lock")!["metadata"]!["resourceVersion"]!.GetValue<string>();

        // Renewals the server applies but whose answers never arrive: a's observed record stays one version behind
        // (within RenewDeadline, before a would step down), and SIGTERM comes then.
        network.LoseReplaceAnswers = true;
        await WaitForAsync(() => Volatile.Read(ref network.Lost) >= 1);
        Assert.NotEqual(version, _api!.GetLease("refresher", "lock")!["metadata"]!["resourceVersion"]!.GetValue<string>());
        await stop.CancelAsync();
        await runA;

        Assert.Null(_api!.LeaseHolder("refresher", "lock"));
        Assert.Equal(1, _api!.GetLease("refresher", "lock")!["spec"]!["leaseDurationSeconds"]!.GetValue<int>());
    }

    /// <summary>A replica's connection to the API server that can be cut.</summary>
    private sealed class Severable(IKubeWatchApi inner) : IKubeWatchApi
    {
        public volatile bool Cut;

        /// <summary>Lease replacements reach the server but their answers are lost (a cancellation as SIGTERM arrives, a cut connection).</summary>
        public volatile bool LoseReplaceAnswers;

        public int Lost;

        private T Check<T>(Func<T> call) => Cut ? throw new HttpRequestException("cut") : call();

        public Task<V1ServiceAccountList> ListServiceAccountPageAsync(string? ns, string? labelSelector, int limit, string? continueToken, CancellationToken ct) =>
            Check(() => inner.ListServiceAccountPageAsync(ns, labelSelector, limit, continueToken, ct));

        public IAsyncEnumerable<WatchEvent<V1Namespace>> WatchNamespacesAsync(WatchRequest request, CancellationToken ct) => Check(() => inner.WatchNamespacesAsync(request, ct));

        public IAsyncEnumerable<WatchEvent<V1ServiceAccount>> WatchServiceAccountsAsync(string? ns, WatchRequest request, CancellationToken ct) =>
            Check(() => inner.WatchServiceAccountsAsync(ns, request, ct));

        public Task<V1SecretList> ListSecretByNameAsync(string ns, string name, CancellationToken ct) => Check(() => inner.ListSecretByNameAsync(ns, name, ct));

        public IAsyncEnumerable<WatchEvent<V1Secret>> WatchSecretByNameAsync(string ns, string name, WatchRequest request, CancellationToken ct) =>
            Check(() => inner.WatchSecretByNameAsync(ns, name, request, ct));

        public Task<V1Lease?> ReadLeaseAsync(string ns, string name, CancellationToken ct) => Check(() => inner.ReadLeaseAsync(ns, name, ct));

        public Task<V1Lease> CreateLeaseAsync(V1Lease lease, CancellationToken ct) => Check(() => inner.CreateLeaseAsync(lease, ct));

        public async Task<V1Lease> ReplaceLeaseAsync(V1Lease lease, CancellationToken ct)
        {
            var written = await Check(() => inner.ReplaceLeaseAsync(lease, ct));
            if (LoseReplaceAnswers)
            {
                Interlocked.Increment(ref Lost);
                throw new HttpRequestException("the answer was lost");
            }
            return written;
        }
    }

    /// <summary>The Lease's annotation <paramref name="key"/> read back, or null.</summary>
    private (LeaseReplica Replica, bool FirstRunFinished)? Annotation(string key) =>
        LeaseReplica.FromAnnotation(_api!.GetLease("refresher", "lock")?["metadata"]?["annotations"]?[key]?.GetValue<string>());

    private int Transitions => _api!.GetLease("refresher", "lock")!["spec"]!["leaseTransitions"]!.GetValue<int>();

    [Fact]
    public async Task A_newer_standby_of_another_configuration_is_handed_the_lease_once_its_leader_has_stopped_and_never_hands_it_back()
    {
        await StartAsync();
        var work = new Work();
        var firstRun = false;
        var old = Replica("old", configuration: "config-a", finished: () => Volatile.Read(ref firstRun));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var runOld = old.RunAsync(work.For("old"), stop.Token);
        await WaitForAsync(() => old.IsLeader);
        Volatile.Write(ref firstRun, true);
        // The leader records what it runs, and that its first full run finished, at its next renewal.
        await WaitForAsync(() => Annotation(LeaderElection.HolderAnnotation) is { FirstRunFinished: true });
        Assert.Equal(new LeaseReplica("old", "config-a", Epoch), Annotation(LeaderElection.HolderAnnotation)!.Value.Replica);

        // A rollout's new pod (another configuration, started later) comes up beside it.
        var rolled = Replica("new", configuration: "config-b", started: Epoch.AddMinutes(5));
        Assert.False(rolled.StandbyReadiness().Ready);
        var runNew = rolled.RunAsync(work.For("new"), stop.Token);
        await WaitForAsync(() => rolled.IsLeader, TimeSpan.FromSeconds(5));
        Assert.False(old.IsLeader);
        Assert.Equal("new", _api!.LeaseHolder("refresher", "lock"));
        // One hand-over: the old leader's term ended before the new one's began, and the claim went with it.
        Assert.Equal(1, Transitions);
        Assert.Null(Annotation(LeaderElection.CandidateAnnotation));
        Assert.Equal(new LeaseReplica("new", "config-b", Epoch.AddMinutes(5)), Annotation(LeaderElection.HolderAnnotation)!.Value.Replica);

        // No ping-pong: the old replica, older and of another configuration, stands by and is not ready beside it.
        await Task.Delay(LeaseDuration + TimeSpan.FromSeconds(1), Ct);
        Assert.True(rolled.IsLeader);
        Assert.Equal(1, Transitions);
        Assert.Null(Annotation(LeaderElection.CandidateAnnotation));
        var readiness = old.StandbyReadiness();
        Assert.False(readiness.Ready);
        Assert.Contains("runs configuration config-b, this replica config-a", readiness.Detail, StringComparison.Ordinal);

        await stop.CancelAsync();
        await Task.WhenAll(runOld, runNew);
        var terms = work.Terms.OrderBy(t => t.Started).ToList();
        Assert.Equal(["old", "new"], terms.Select(t => t.Who));
        Assert.True(terms[0].Ended <= terms[1].Started);
    }

    [Fact]
    public async Task An_older_standby_of_another_configuration_waits_and_one_of_the_same_configuration_is_ready_only_once_the_leader_finished()
    {
        await StartAsync();
        var work = new Work();
        var firstRun = false;
        var leader = Replica("leader", configuration: "config-b", started: Epoch.AddMinutes(5), finished: () => Volatile.Read(ref firstRun));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var runLeader = leader.RunAsync(work.For("leader"), stop.Token);
        await WaitForAsync(() => leader.IsLeader);
        var older = Replica("older", configuration: "config-a");
        var same = Replica("same", configuration: "config-b", started: Epoch.AddMinutes(6));
        var runOlder = older.RunAsync(work.For("older"), stop.Token);
        var runSame = same.RunAsync(work.For("same"), stop.Token);

        await Task.Delay(LeaseDuration, Ct);
        // Neither takes over: the older one is not newer, the newer one runs the leader's configuration. Neither announces.
        Assert.True(leader.IsLeader);
        Assert.Equal(0, Transitions);
        Assert.Null(Annotation(LeaderElection.CandidateAnnotation));
        Assert.False(older.StandbyReadiness().Ready);
        var waiting = same.StandbyReadiness();
        Assert.False(waiting.Ready);
        Assert.Contains("has not finished its first full run of configuration config-b", waiting.Detail, StringComparison.Ordinal);

        Volatile.Write(ref firstRun, true);
        await WaitForAsync(() => same.StandbyReadiness().Ready, TimeSpan.FromSeconds(3));
        Assert.Contains("leader leader finished its first full run of configuration config-b", same.StandbyReadiness().Detail, StringComparison.Ordinal);
        Assert.False(older.StandbyReadiness().Ready);

        await stop.CancelAsync();
        await Task.WhenAll(runLeader, runOlder, runSame);
        Assert.Equal(["leader"], work.Terms.Select(t => t.Who).Distinct());
    }

    [Fact]
    public async Task A_leader_that_dies_mid_rollout_is_replaced_by_the_waiting_candidate_once_its_lease_expires()
    {
        await StartAsync();
        var work = new Work();
        var network = new Severable(Client());
        var old = Replica("old", network, configuration: "config-a");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var runOld = old.RunAsync(work.For("old"), stop.Token);
        await WaitForAsync(() => old.IsLeader);

        // The old leader's node goes before it sees the new pod's claim: it neither hands over nor releases.
        network.Cut = true;
        var cut = work.Clock.Elapsed;
        var rolled = Replica("new", configuration: "config-b", started: Epoch.AddMinutes(5));
        var runNew = rolled.RunAsync(work.For("new"), stop.Token);
        await WaitForAsync(() => Annotation(LeaderElection.CandidateAnnotation) is { Replica.Identity: "new" });
        await WaitForAsync(() => rolled.IsLeader, LeaseDuration + TimeSpan.FromSeconds(3));

        // The announcement did not keep the dead leader's lease alive: taken within a lease (and a retry) of the cut.
        var tookOver = work.Clock.Elapsed - cut;
        Assert.True(tookOver < LeaseDuration + RetryPeriod * 3 + TimeSpan.FromMilliseconds(500), $"took over after {tookOver}");
        Assert.Null(Annotation(LeaderElection.CandidateAnnotation));
        Assert.Equal("new", Annotation(LeaderElection.HolderAnnotation)!.Value.Replica.Identity);

        await stop.CancelAsync();
        await Task.WhenAll(runOld, runNew);
    }

    [Fact]
    public async Task A_candidate_that_dies_before_taking_the_lease_is_handed_it_once_and_the_lease_then_goes_back_by_expiry()
    {
        await StartAsync();
        var work = new Work();
        var old = Replica("old", configuration: "config-a");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var runOld = old.RunAsync(work.For("old"), stop.Token);
        await WaitForAsync(() => old.IsLeader);

        // A new pod announces itself once and dies before its next try.
        var ghost = Replica("ghost", configuration: "config-b", started: Epoch.AddMinutes(5));
        Assert.False(await ghost.TryAcquireOrRenewAsync(Ct));
        Assert.Equal("ghost", Annotation(LeaderElection.CandidateAnnotation)!.Value.Replica.Identity);

        // Handed over (its claim goes with the hand-over), never taken, then expired and taken back: only once.
        await WaitForAsync(() => _api!.LeaseHolder("refresher", "lock") == "ghost", TimeSpan.FromSeconds(3));
        Assert.Null(Annotation(LeaderElection.CandidateAnnotation));
        await WaitForAsync(() => old.IsLeader, LeaseDuration + TimeSpan.FromSeconds(3));
        Assert.Equal(2, Transitions);
        await Task.Delay(LeaseDuration + TimeSpan.FromSeconds(1), Ct);
        Assert.True(old.IsLeader);
        Assert.Equal(2, Transitions);

        await stop.CancelAsync();
        await runOld;
        Assert.Equal(["old", "old"], work.Terms.Select(t => t.Who));
    }

    [Fact]
    public async Task A_leader_stopped_while_a_candidate_waits_hands_it_the_lease_instead_of_releasing_it()
    {
        await StartAsync();
        var work = new Work();
        var old = Replica("old", configuration: "config-a");
        using var stopOld = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var runOld = old.RunAsync(work.For("old"), stopOld.Token);
        await WaitForAsync(() => old.IsLeader);
        // A claim the leader has not yet seen (its next renewal is up to a retry away), then SIGTERM (the rollout deletes it).
        var rolled = Replica("new", configuration: "config-b", started: Epoch.AddMinutes(5));
        Assert.False(await rolled.TryAcquireOrRenewAsync(Ct));
        await stopOld.CancelAsync();
        await runOld;

        Assert.Equal("new", _api!.LeaseHolder("refresher", "lock"));
        Assert.Equal(4, _api!.GetLease("refresher", "lock")!["spec"]!["leaseDurationSeconds"]!.GetValue<int>());
        Assert.True(await rolled.TryAcquireOrRenewAsync(Ct));
        Assert.True(rolled.IsLeader);
        Assert.Equal(1, Transitions);
    }

    [Fact]
    public async Task Beside_a_leader_of_an_older_refresher_a_standby_is_ready_announces_nothing_and_takes_the_lease_when_it_is_released()
    {
        await StartAsync();
        // The Lease as a refresher before this one left it, after taking it over from one of this version: client-go's record,
        // the annotations it found kept, and a holder record that is not its own.
        var stale = new LeaseReplica("gone", "config-b", Epoch).ToAnnotation(firstRunFinished: true);
        await using var older = new OlderRefresher(Client(), "older", RetryPeriod, LeaseDuration);
        await older.TakeAsync(new Dictionary<string, string> { [LeaderElection.HolderAnnotation] = stale }, Ct);
        var renewing = older.RenewAsync();

        var rolled = Replica("new", configuration: "config-b", started: Epoch.AddMinutes(5));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var work = new Work();
        var run = rolled.RunAsync(work.For("new"), stop.Token);
        // It cannot hand over: the new standby is ready beside it (the rollout replaces it next) and claims nothing.
        await WaitForAsync(() => rolled.StandbyReadiness().Ready);
        Assert.Contains("records no configuration (an older refresher)", rolled.StandbyReadiness().Detail, StringComparison.Ordinal);
        await Task.Delay(LeaseDuration, Ct);
        Assert.False(rolled.IsLeader);
        Assert.Null(Annotation(LeaderElection.CandidateAnnotation));
        Assert.Equal("older", _api!.LeaseHolder("refresher", "lock"));

        await older.DisposeAsync();
        await renewing;
        await WaitForAsync(() => rolled.IsLeader, TimeSpan.FromSeconds(3));
        Assert.Equal(new LeaseReplica("new", "config-b", Epoch.AddMinutes(5)), Annotation(LeaderElection.HolderAnnotation)!.Value.Replica);
        await stop.CancelAsync();
        await run;
    }

    /// <summary>
    /// A refresher before the configuration hand-over, as its LeaderElection wrote the Lease: client-go's record only; a
    /// take-over or renewal copies the object it read (annotations included) and changes the spec; released on dispose.
    /// </summary>
    internal sealed class OlderRefresher(IKubeWatchApi api, string identity, TimeSpan retryPeriod, TimeSpan leaseDuration, string ns = "refresher", string name = "lock") : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();

        public async Task TakeAsync(IReadOnlyDictionary<string, string>? annotations, CancellationToken ct)
        {
            var now = LeaderElection.MicroTime(DateTimeOffset.UtcNow);
            var current = await api.ReadLeaseAsync(ns, name, ct);
            if (current is null)
            {
                await api.CreateLeaseAsync(new V1Lease
                {
                    Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Annotations = annotations?.ToDictionary() },
                    Spec = new V1LeaseSpec { HolderIdentity = identity, LeaseDurationSeconds = (int)leaseDuration.TotalSeconds, AcquireTime = now, RenewTime = now, LeaseTransitions = 0 },
                }, ct);
                return;
            }
            current.Spec.LeaseTransitions = (current.Spec.LeaseTransitions ?? 0) + (current.Spec.HolderIdentity == identity ? 0 : 1);
            current.Spec.HolderIdentity = identity;
            current.Spec.LeaseDurationSeconds = (int)leaseDuration.TotalSeconds;
            current.Spec.AcquireTime = now;
            current.Spec.RenewTime = now;
            await api.ReplaceLeaseAsync(current, ct);
        }

        /// <summary>Renews every retry period until disposed, then releases.</summary>
        public async Task RenewAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(retryPeriod, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                var current = await api.ReadLeaseAsync(ns, name, CancellationToken.None);
                current!.Spec.RenewTime = LeaderElection.MicroTime(DateTimeOffset.UtcNow);
                await api.ReplaceLeaseAsync(current, CancellationToken.None);
            }
            var last = await api.ReadLeaseAsync(ns, name, CancellationToken.None);
            if (last?.Spec.HolderIdentity == identity)
            {
                last.Spec.HolderIdentity = "";
                last.Spec.LeaseDurationSeconds = 1;
                await api.ReplaceLeaseAsync(last, CancellationToken.None);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await _stop.CancelAsync();
            }
        }
    }

    [Fact]
    public void Replicas_are_ordered_by_pod_start_then_identity_and_one_supersedes_another_only_with_another_configuration()
    {
        var old = new LeaseReplica("a_1", "config-a", Epoch);
        var rolled = new LeaseReplica("b_2", "config-b", Epoch.AddSeconds(1));
        Assert.True(rolled.Supersedes(old));
        Assert.False(old.Supersedes(rolled));
        // The same instant: the identity decides, the same way both ways.
        var twin = new LeaseReplica("c_3", "config-b", Epoch);
        Assert.True(twin.IsNewerThan(old));
        Assert.False(old.IsNewerThan(twin));
        // The same configuration: nothing to hand over, however new.
        Assert.False(new LeaseReplica("d_4", "config-a", Epoch.AddHours(1)).Supersedes(old));
        Assert.False(old.Supersedes(old));

        // The annotation round-trips to the microsecond; anything else reads as no record.
        var at = Epoch.AddTicks(1234567);
        var written = new LeaseReplica("a_1", "config-a", LeaseReplica.Microseconds(at)).ToAnnotation(firstRunFinished: true);
        Assert.Equal("""{"identity":"a_1","configuration":"config-a","started":"2026-12-03T09:00:00.123456Z","firstRunFinished":true}""", written);
        Assert.Equal((new LeaseReplica("a_1", "config-a", Epoch.AddTicks(1234560)), true), LeaseReplica.FromAnnotation(written));
        Assert.Null(LeaseReplica.FromAnnotation("not json"));
        Assert.Null(LeaseReplica.FromAnnotation("""{"identity":"a_1"}"""));
        Assert.Null(LeaseReplica.FromAnnotation(null));
    }

    [Fact]
    public void A_pods_start_survives_a_container_restart_and_outside_a_pod_is_the_process_start()
    {
        var dir = Directory.CreateTempSubdirectory("replica-start-").FullName;
        try
        {
            var time = new Moq.Mock<TimeProvider> { CallBase = true };
            var now = Epoch;
            time.Setup(t => t.GetUtcNow()).Returns(() => now);
            var pod = new Dictionary<string, string> { ["POD_NAME"] = "refresher-7d9f-abcde", ["TMPDIR"] = dir };
            Assert.Equal(Epoch, ReplicaStart.Load(pod, time.Object));
            now = Epoch.AddMinutes(3);
            // The container restarted: the pod's emptyDir still holds the first start.
            Assert.Equal(Epoch, ReplicaStart.Load(pod, time.Object));
            Assert.Equal(Epoch.AddMinutes(3), ReplicaStart.Load(new Dictionary<string, string> { ["TMPDIR"] = dir }, time.Object));
            // A directory that cannot be written: the process's start.
            Assert.Equal(Epoch.AddMinutes(3), ReplicaStart.Load(new Dictionary<string, string> { ["POD_NAME"] = "p", ["TMPDIR"] = Path.Combine(dir, "missing", "deeper") }, time.Object));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_identity_is_the_pod_name_or_host_name_with_a_random_suffix()
    {
        var one = LeaderElection.NewIdentity(new Dictionary<string, string> { ["POD_NAME"] = "refresher-7d9f-abcde" });
        var two = LeaderElection.NewIdentity(new Dictionary<string, string> { ["POD_NAME"] = "refresher-7d9f-abcde" });
        Assert.StartsWith("refresher-7d9f-abcde_", one);
        Assert.NotEqual(one, two);
        Assert.StartsWith(Environment.MachineName + "_", LeaderElection.NewIdentity(new Dictionary<string, string>()));
        Assert.Equal("2026-11-23T08:00:00.123456Z", LeaderElection.MicroTime(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero).AddTicks(1234560)));
    }

    public async ValueTask DisposeAsync()
    {
        _clients.ForEach(c => c.Dispose());
        _metrics.Dispose();
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
    }
}
