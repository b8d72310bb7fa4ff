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

    private LeaderElection Replica(string identity, IKubeWatchApi? through = null, string? owner = null)
    {
        return new LeaderElection(through ?? Client(), "refresher", "lock", identity, LeaseDuration, RenewDeadline, RetryPeriod, TimeProvider.System, NullLogger.Instance, _metrics,
            owner is null ? null : (Client(), owner));
    }

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
