using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using RegistryInfra.Refresher.KubernetesApi;
using RegistryInfra.Refresher.Watch;

namespace RegistryInfra.Refresher;

/// <summary>
/// Leader election on a <c>coordination.k8s.io/v1</c> Lease, with the semantics of client-go's leader elector
/// (kubernetes/kubernetes staging/src/k8s.io/client-go/tools/leaderelection/leaderelection.go, commit
/// 0138c8288042f10a191f349be6178aa9f64fb294, and resourcelock/leaselock.go, commit b15a9909cc24883d31f93e53d62b8e728b71741c),
/// ported as facts:
/// <list type="bullet">
/// <item>the record is the Lease's spec: holderIdentity, leaseDurationSeconds, acquireTime, renewTime (MicroTime) and
/// leaseTransitions; every write is a replace whose resourceVersion is the precondition, so of two replicas writing at once
/// one gets 409 Conflict and stays a candidate;</item>
/// <item>a candidate tries every RetryPeriod (jittered by up to 1.2 · RetryPeriod, JitterFactor) and takes the Lease when there
/// is none (create), when its holder is empty (released), or when the record it observed has not changed for
/// leaseDurationSeconds: expiry is judged by the local time at which this replica last saw the record change, not by the
/// renewTime written by another clock (observedTime);</item>
/// <item>taking it over from someone else increments leaseTransitions and sets acquireTime; renewing keeps both;</item>
/// <item>the leader renews every RetryPeriod, retrying every RetryPeriod within RenewDeadline; a renewal that has not succeeded
/// by RenewDeadline ends the leadership (the leader's work is stopped before any other replica can take the lease, as
/// LeaseDuration exceeds RenewDeadline);</item>
/// <item>renewing first tries a replace of the record it holds without reading it (the "fast path"), reading only when that fails;</item>
/// <item>on graceful shutdown the leader releases (ReleaseOnCancel): holderIdentity empty, leaseDurationSeconds 1, so a
/// standby takes over at its next try instead of waiting out the lease.</item>
/// </list>
/// Not in client-go: with an <paramref name="owner"/> ConfigMap (<c>watch.leaseOwner</c>) the Lease is created with an
/// ownerReference to it, and a Lease found without one gets it at the next take-over or read-path renewal, so garbage
/// collection removes the Lease with the refresher's configuration even where the namespace stays (createNamespace false).
/// A missing owner is a failed try: no Lease is created that nothing would ever delete.
/// <para>
/// Not in client-go either: the configuration hand-over that keeps a 2-replica rollout from finishing before a replica of
/// the new configuration has led a full run (pulumi-kubernetes awaits the new ReplicaSet's ready pods, then the engine
/// deletes the RBAC the old configuration needed, which that run's sweep still uses). Two annotations of the Lease:
/// </para>
/// <list type="bullet">
/// <item><c>registryinfra.io/holder</c>: the holder's <see cref="LeaseReplica"/> (identity, configuration hash, pod start) and
/// <c>firstRunFinished</c>, written by the holder with every renewal; it counts only while its identity is the spec's
/// holderIdentity (a refresher before this one keeps the annotations it finds but writes none of its own);</item>
/// <item><c>registryinfra.io/candidate</c>: a standby that <see cref="LeaseReplica.Supersedes"/> the holder (another
/// configuration, a later pod start) announces itself here, once; a newer candidate replaces an older one.</item>
/// </list>
/// <para>
/// A leader that sees a candidate superseding it stops its work and writes the Lease over to it (holderIdentity the
/// candidate's, renewed now, leaseTransitions + 1, the candidate annotation gone), so no other replica can take it in between;
/// the candidate renews it as its own at its next try. A replica about to take an expired or released Lease, or to release
/// one (SIGTERM), hands it to a superseding candidate in the same way. The candidate that dies before taking it is replaced
/// as any holder that stops renewing, and its claim went with the hand-over, so it is not handed a second time. The order is
/// strict and the same for every replica, so no replica ever hands the Lease back to one it handed it from.
/// </para>
/// <para>
/// Readiness (<see cref="StandbyReadiness"/>): a standby is ready only when the Lease shows a live holder whose record has its
/// own configuration and <c>firstRunFinished</c>; beside a holder with no record (an older refresher, which can neither
/// record nor hand over) it is ready, as before, so such a rollout does not stall: the old leader is replaced next, and the
/// replica that follows waits for the new leader's first full run.
/// </para>
/// </summary>
internal sealed partial class LeaderElection(
    IKubeWatchApi api,
    string ns,
    string name,
    string identity,
    TimeSpan leaseDuration,
    TimeSpan renewDeadline,
    TimeSpan retryPeriod,
    TimeProvider time,
    ILogger logger,
    WatchMetrics metrics,
    (IKubeApi Api, string Name)? owner = null,
    string configuration = "",
    DateTimeOffset? started = null,
    Func<bool>? firstRunFinished = null)
{
    /// <summary>client-go's JitterFactor for the acquire loop.</summary>
    private const double JitterFactor = 1.2;

    /// <summary>The holder's record (see the class remarks).</summary>
    public const string HolderAnnotation = "registryinfra.io/holder";

    /// <summary>A standby waiting to take over with a newer configuration (see the class remarks).</summary>
    public const string CandidateAnnotation = "registryinfra.io/candidate";

    private readonly LeaseReplica _self = new(identity, configuration, LeaseReplica.Microseconds(started ?? time.GetUtcNow()));
    private V1Lease? _observed;
    private long _observedAt;
    private volatile bool _leader;
    private long _lastRenewal;
    private LeaseReplica? _successor;

    public string Identity => identity;

    /// <summary>What this replica records of itself: identity, configuration hash, pod start.</summary>
    public LeaseReplica Self => _self;

    /// <summary>This replica holds the lease.</summary>
    public bool IsLeader => _leader;

    /// <summary>How long ago the leader last renewed (for /healthz); zero when not the leader.</summary>
    public TimeSpan SinceRenewal => _leader ? time.GetElapsedTime(Interlocked.Read(ref _lastRenewal)) : TimeSpan.Zero;

    /// <summary>Why <see cref="RenewAsync"/> stopped renewing.</summary>
    private enum Term
    {
        /// <summary>The caller stopped (SIGTERM): give the lease up.</summary>
        Stopped,

        /// <summary>Not renewed within RenewDeadline: leadership is already lost, nothing to give up.</summary>
        Lost,

        /// <summary>A candidate supersedes this replica: hand the lease over.</summary>
        Superseded,
    }

    /// <summary>
    /// Campaigns, then runs <paramref name="lead"/> while leading, until <paramref name="stop"/>. A lost leadership cancels
    /// the work's token, waits for it to finish, and campaigns again; so does a hand-over to a superseding candidate, whose
    /// work starts only once this replica's has finished. On <paramref name="stop"/> the work finishes first and the lease is
    /// released (or handed over) after it, so no two replicas ever write at once.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> lead, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (!await AcquireAsync(stop).ConfigureAwait(false))
            {
                return;
            }
            using var leading = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var work = Task.Run(() => lead(leading.Token), CancellationToken.None);
            var renew = RenewAsync(leading.Token);
            await Task.WhenAny(work, renew).ConfigureAwait(false);
            await leading.CancelAsync().ConfigureAwait(false);
            Exception? failed = null;
            try
            {
                await work.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (leading.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failed = e;
            }
            if (await renew.ConfigureAwait(false) != Term.Lost)
            {
                await GiveUpAsync().ConfigureAwait(false);
            }
            if (failed is not null)
            {
                throw new InvalidOperationException("the leader's work failed", failed);
            }
        }
    }

    /// <summary>Tries until this replica holds the lease (true) or <paramref name="stop"/> (false).</summary>
    private async Task<bool> AcquireAsync(CancellationToken stop)
    {
        LogCampaigning(logger, identity, ns, name, _self.Configuration);
        while (!stop.IsCancellationRequested)
        {
            if (await TryAcquireOrRenewAsync(stop).ConfigureAwait(false))
            {
                metrics.BecameLeader();
                LogAcquired(logger, identity, ns, name, _observed?.Spec.LeaseTransitions ?? 0, _self.Configuration);
                return true;
            }
            var wait = retryPeriod + TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * JitterFactor * retryPeriod.TotalMilliseconds);
            try
            {
                await Task.Delay(wait, time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>Renews until <paramref name="stop"/>, a renewal failing for RenewDeadline, or a superseding candidate.</summary>
    private async Task<Term> RenewAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(retryPeriod, time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return Term.Stopped;
            }
            var begun = time.GetTimestamp();
            var renewed = false;
            while (!renewed && !stop.IsCancellationRequested && time.GetElapsedTime(begun) < renewDeadline)
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
                attempt.CancelAfter(renewDeadline - time.GetElapsedTime(begun));
                renewed = await TryAcquireOrRenewAsync(attempt.Token).ConfigureAwait(false);
                if (!renewed && !stop.IsCancellationRequested)
                {
                    try
                    {
                        await Task.Delay(retryPeriod, time, stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return Term.Stopped;
                    }
                }
            }
            if (stop.IsCancellationRequested)
            {
                return Term.Stopped;
            }
            if (!renewed)
            {
                _leader = false;
                LogLost(logger, identity, ns, name, renewDeadline.TotalSeconds);
                return Term.Lost;
            }
            if (_successor is { } successor)
            {
                LogSuperseded(logger, identity, _self.Configuration, successor.Identity, successor.Configuration);
                return Term.Superseded;
            }
        }
        return Term.Stopped;
    }

    /// <summary>
    /// Gives the lease up if this replica holds it: to a candidate that supersedes this replica when the Lease names one
    /// (a hand-over), else released (holder empty, duration 1 s); a failure is logged (the lease then expires).
    /// As client-go's tryRelease (kubernetes/client-go 32ce75a7d6bc, tools/leaderelection/leaderelection.go): the record is
    /// read first, so a renewal whose answer was lost (the server wrote it, the client saw a cancellation at SIGTERM) does
    /// not leave a stale resourceVersion that makes the release a 409; a conflict reads again, until the timeout.
    /// </summary>
    private async Task GiveUpAsync()
    {
        if (!_leader)
        {
            return;
        }
        _leader = false;
        _successor = null;
        using var timeout = new CancellationTokenSource(RefresherApp.ShutdownGrace);
        try
        {
            while (true)
            {
                metrics.ApiRequest("get", "leases");
                var current = await api.ReadLeaseAsync(ns, name, timeout.Token).ConfigureAwait(false);
                if (current is null || current.Spec.HolderIdentity != identity)
                {
                    // Gone, or another replica took it over since: nothing of ours to give up.
                    return;
                }
                var successor = SupersedingCandidate(current);
                try
                {
                    metrics.ApiRequest("update", "leases");
                    Observe(await api.ReplaceLeaseAsync(Build(current, successor is null ? Holding.Released : new Holding(successor, false), null, time.GetUtcNow()), timeout.Token).ConfigureAwait(false));
                    if (successor is null)
                    {
                        LogReleased(logger, identity, ns, name);
                    }
                    else
                    {
                        LogHandedOver(logger, identity, ns, name, successor.Identity, successor.Configuration);
                    }
                    return;
                }
                catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
                {
                    // Written since the read: read it again.
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogReleaseFailed(logger, ns, name, e is KubeApiException k ? $"HTTP {((int)k.StatusCode).ToString(CultureInfo.InvariantCulture)}" : e.GetType().Name);
        }
    }

    /// <summary>One try of client-go's tryAcquireOrRenew; false on any failure (logged at debug), never throws but on <paramref name="ct"/>.</summary>
    internal async Task<bool> TryAcquireOrRenewAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        try
        {
            // 1. The fast path: the leader replaces the record it holds, without reading it first.
            if (_leader && _observed is { } held && Valid(held))
            {
                try
                {
                    metrics.ApiRequest("update", "leases");
                    Observe(await api.ReplaceLeaseAsync(Build(held, AsHolder(), Keep(held), now), ct).ConfigureAwait(false));
                    Renewed();
                    return true;
                }
                catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
                {
                    // Someone else wrote it (another replica, or a standby announcing itself): read it and decide again.
                }
            }
            // 2. Read (or create) the record.
            metrics.ApiRequest("get", "leases");
            var current = await api.ReadLeaseAsync(ns, name, ct).ConfigureAwait(false);
            if (current is null)
            {
                var created = Build(null, AsHolder(), null, now);
                created.Metadata.OwnerReferences = owner is null ? null : [await OwnerReferenceAsync(ct).ConfigureAwait(false)];
                metrics.ApiRequest("create", "leases");
                Observe(await api.CreateLeaseAsync(created, ct).ConfigureAwait(false));
                Renewed();
                return true;
            }
            // 3. A changed record restarts this replica's clock for it.
            if (_observed is null || _observed.Metadata.ResourceVersion != current.Metadata.ResourceVersion)
            {
                Observe(current);
            }
            var holder = current.Spec.HolderIdentity;
            if (!string.IsNullOrEmpty(holder) && holder != identity && Valid(current))
            {
                _leader = false;
                await AnnounceAsync(current, ct).ConfigureAwait(false);
                return false;
            }
            // 4. Take or renew it; a lease this replica would take from someone else goes to a candidate that supersedes it.
            if (holder != identity && SupersedingCandidate(current) is { } successor)
            {
                metrics.ApiRequest("update", "leases");
                Observe(await api.ReplaceLeaseAsync(Build(current, new Holding(successor, false), null, now), ct).ConfigureAwait(false));
                _leader = false;
                LogHandedOver(logger, identity, ns, name, successor.Identity, successor.Configuration);
                return false;
            }
            var next = Build(current, AsHolder(), Keep(current), now);
            if (owner is { } o && !(next.Metadata.OwnerReferences ?? []).Any(r => r.Kind == "ConfigMap" && r.Name == o.Name))
            {
                // A Lease created before it had an owner (or by an older refresher): adopt it, keeping any other reference.
                next.Metadata.OwnerReferences = [.. next.Metadata.OwnerReferences ?? [], await OwnerReferenceAsync(ct).ConfigureAwait(false)];
            }
            metrics.ApiRequest("update", "leases");
            Observe(await api.ReplaceLeaseAsync(next, ct).ConfigureAwait(false));
            Renewed();
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && ct.IsCancellationRequested))
        {
            LogTryFailed(logger, ns, name, e switch
            {
                KubeApiException k => $"HTTP {((int)k.StatusCode).ToString(CultureInfo.InvariantCulture)}",
                InvalidOperationException when e.Message.StartsWith("the Lease's owner", StringComparison.Ordinal) => e.Message,
                _ => e.GetType().Name,
            });
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// A standby's part of the hand-over: when the live holder records a configuration other than this replica's and this
    /// replica is newer, it writes itself into the candidate annotation (once; not over a newer candidate that supersedes
    /// the holder too). Its own write does not restart its clock for the holder's record: announcing never extends the
    /// lease of a holder that has stopped renewing.
    /// </summary>
    private async Task AnnounceAsync(V1Lease current, CancellationToken ct)
    {
        if (HolderOf(current) is not { Replica: var holder } || !_self.Supersedes(holder))
        {
            return;
        }
        if (LeaseReplica.FromAnnotation(current.Metadata.Annotations?.GetValueOrDefault(CandidateAnnotation)) is { Replica: var waiting }
            && (waiting.Identity == identity || (waiting.Supersedes(holder) && waiting.IsNewerThan(_self))))
        {
            return;
        }
        metrics.ApiRequest("update", "leases");
        Volatile.Write(ref _observed, await api.ReplaceLeaseAsync(Build(current, null, _self, time.GetUtcNow()), ct).ConfigureAwait(false));
        LogAnnounced(logger, identity, _self.Configuration, holder.Identity, holder.Configuration);
    }

    /// <summary>
    /// This replica's readiness while it does not lead: ready when the Lease shows a live holder whose record has this
    /// replica's configuration and a finished first full run; beside a holder with no record (an older refresher) ready,
    /// as before. The detail says why, for <c>/readyz</c>.
    /// </summary>
    public Readiness StandbyReadiness()
    {
        var lease = Volatile.Read(ref _observed);
        var holder = lease?.Spec.HolderIdentity;
        if (lease is null || string.IsNullOrEmpty(holder))
        {
            return new Readiness(false, "standby: no leader yet");
        }
        if (holder == identity)
        {
            return new Readiness(false, "standby: taking the lease over");
        }
        if (!Valid(lease))
        {
            return new Readiness(false, $"standby: leader {holder} has not renewed within its lease");
        }
        if (HolderOf(lease) is not { Replica: var replica, FirstRunFinished: var finished })
        {
            return new Readiness(true, $"standby: leader {holder} records no configuration (an older refresher)");
        }
        if (replica.Configuration != _self.Configuration)
        {
            return new Readiness(false, $"standby: leader {holder} runs configuration {replica.Configuration}, this replica {_self.Configuration}");
        }
        return finished
            ? new Readiness(true, $"standby: leader {holder} finished its first full run of configuration {replica.Configuration}")
            : new Readiness(false, $"standby: leader {holder} has not finished its first full run of configuration {replica.Configuration}");
    }

    /// <summary>This replica as the holder of the Lease, with whether its first full run finished (only once it leads).</summary>
    private Holding AsHolder() => new(_self, _leader && firstRunFinished?.Invoke() == true);

    /// <summary>
    /// The candidate annotation a holder's write keeps: one that supersedes this replica (the hand-over follows this renewal;
    /// <see cref="RenewAsync"/> sees <see cref="_successor"/>), none otherwise (a candidate older than the holder, of its
    /// configuration, or the holder itself is dropped).
    /// </summary>
    private LeaseReplica? Keep(V1Lease current)
    {
        _successor = SupersedingCandidate(current);
        return _successor;
    }

    /// <summary>The Lease's candidate when it supersedes this replica, else null.</summary>
    private LeaseReplica? SupersedingCandidate(V1Lease lease) =>
        LeaseReplica.FromAnnotation(lease.Metadata.Annotations?.GetValueOrDefault(CandidateAnnotation)) is { Replica: var candidate } && candidate.Supersedes(_self)
            ? candidate
            : null;

    /// <summary>The holder's record when it is the spec's holder's (a refresher before this one writes none, but keeps what it finds).</summary>
    private static (LeaseReplica Replica, bool FirstRunFinished)? HolderOf(V1Lease lease) =>
        LeaseReplica.FromAnnotation(lease.Metadata.Annotations?.GetValueOrDefault(HolderAnnotation)) is { Replica: var replica } record && replica.Identity == lease.Spec.HolderIdentity
            ? record
            : null;

    /// <summary>Who a write makes the holder: a replica (with its record), or nobody (<see cref="Released"/>).</summary>
    private sealed record Holding(LeaseReplica? Holder, bool FirstRunFinished)
    {
        public static readonly Holding Released = new(null, false);
    }

    /// <summary>
    /// The one builder of every Lease this replica writes: <paramref name="current"/> (null: a new Lease) with the spec and the
    /// holder annotation for <paramref name="holding"/> (null: both kept, a standby's announcement) and the candidate
    /// annotation <paramref name="candidate"/> (null: removed). Holding for a replica: renewed now, leaseDurationSeconds ours;
    /// acquireTime now and leaseTransitions + 1 when the holder changes (0 on create). Released: holder empty, duration 1 s,
    /// acquire and renew now, transitions kept (client-go's release). Every other field of the object is kept.
    /// </summary>
    private V1Lease Build(V1Lease? current, Holding? holding, LeaseReplica? candidate, DateTimeOffset now)
    {
        var annotations = new Dictionary<string, string>(current?.Metadata.Annotations ?? [], StringComparer.Ordinal);
        var spec = current?.Spec ?? new V1LeaseSpec();
        var next = new V1LeaseSpec
        {
            HolderIdentity = spec.HolderIdentity,
            LeaseDurationSeconds = spec.LeaseDurationSeconds,
            AcquireTime = spec.AcquireTime,
            RenewTime = spec.RenewTime,
            LeaseTransitions = spec.LeaseTransitions,
            Extra = spec.Extra,
        };
        if (holding is { Holder: { } holder })
        {
            if (current is null || spec.HolderIdentity != holder.Identity)
            {
                next.AcquireTime = MicroTime(now);
                next.LeaseTransitions = current is null ? 0 : (spec.LeaseTransitions ?? 0) + 1;
            }
            next.HolderIdentity = holder.Identity;
            next.LeaseDurationSeconds = (int)Math.Ceiling(leaseDuration.TotalSeconds);
            next.RenewTime = MicroTime(now);
            annotations[HolderAnnotation] = holder.ToAnnotation(holding.FirstRunFinished);
        }
        else if (holding is not null)
        {
            next.HolderIdentity = "";
            next.LeaseDurationSeconds = 1;
            next.RenewTime = MicroTime(now);
            next.AcquireTime = MicroTime(now);
            annotations.Remove(HolderAnnotation);
        }
        if (candidate is null)
        {
            annotations.Remove(CandidateAnnotation);
        }
        else
        {
            annotations[CandidateAnnotation] = candidate.ToAnnotation();
        }
        var meta = current?.Metadata;
        return new V1Lease
        {
            Metadata = new V1ObjectMeta
            {
                Name = meta?.Name ?? name,
                NamespaceProperty = meta?.NamespaceProperty ?? ns,
                ResourceVersion = meta?.ResourceVersion,
                Uid = meta?.Uid,
                Labels = meta?.Labels,
                Annotations = annotations.Count == 0 ? null : annotations,
                OwnerReferences = meta?.OwnerReferences,
                Extra = meta?.Extra,
            },
            Spec = next,
        };
    }

    /// <summary>The ownerReference to the owner ConfigMap (its uid read now: a replaced ConfigMap has a new one).</summary>
    private async Task<V1OwnerReference> OwnerReferenceAsync(CancellationToken ct)
    {
        var (kube, ownerName) = owner!.Value;
        metrics.ApiRequest("get", "configmaps");
        V1ObjectMeta meta;
        try
        {
            meta = await kube.ReadConfigMapMetadataAsync(ns, ownerName, ct).ConfigureAwait(false);
        }
        catch (KubeApiException e)
        {
            throw new InvalidOperationException($"the Lease's owner ConfigMap {ns}/{ownerName}: HTTP {((int)e.StatusCode).ToString(CultureInfo.InvariantCulture)}", e);
        }
        if (string.IsNullOrEmpty(meta.Uid))
        {
            throw new InvalidOperationException($"the Lease's owner ConfigMap {ns}/{ownerName} has no uid");
        }
        return new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = ownerName, Uid = meta.Uid };
    }

    private void Renewed()
    {
        _leader = true;
        Interlocked.Exchange(ref _lastRenewal, time.GetTimestamp());
    }

    private void Observe(V1Lease lease)
    {
        Interlocked.Exchange(ref _observedAt, time.GetTimestamp());
        Volatile.Write(ref _observed, lease);
    }

    /// <summary>The observed record has not yet expired: seen changed less than its leaseDurationSeconds ago, by this replica's clock.</summary>
    private bool Valid(V1Lease lease) =>
        time.GetElapsedTime(Interlocked.Read(ref _observedAt)) < TimeSpan.FromSeconds(lease.Spec.LeaseDurationSeconds ?? 0);

    /// <summary><c>metav1.MicroTime</c>: RFC 3339 in UTC with microseconds.</summary>
    internal static string MicroTime(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>This replica's identity: <c>POD_NAME</c> (the downward API) or the host name, plus a random suffix, as client-go's examples build it.</summary>
    internal static string NewIdentity(System.Collections.IDictionary environment) =>
        (environment["POD_NAME"] is string { Length: > 0 } pod ? pod : Environment.MachineName) + "_" + Guid.NewGuid().ToString("N")[..8];

    [LoggerMessage(EventId = 70, Level = LogLevel.Information, Message = "Leader election: {Identity} campaigning for lease {Namespace}/{Name} (configuration {Configuration})")]
    private static partial void LogCampaigning(ILogger logger, string identity, string @namespace, string name, string configuration);

    [LoggerMessage(EventId = 71, Level = LogLevel.Information, Message = "Leader election: {Identity} acquired lease {Namespace}/{Name} (transitions {Transitions}, configuration {Configuration})")]
    private static partial void LogAcquired(ILogger logger, string identity, string @namespace, string name, int transitions, string configuration);

    [LoggerMessage(EventId = 72, Level = LogLevel.Warning, Message = "Leader election: {Identity} lost lease {Namespace}/{Name}: not renewed within {Seconds} s")]
    private static partial void LogLost(ILogger logger, string identity, string @namespace, string name, double seconds);

    [LoggerMessage(EventId = 73, Level = LogLevel.Information, Message = "Leader election: {Identity} released lease {Namespace}/{Name}")]
    private static partial void LogReleased(ILogger logger, string identity, string @namespace, string name);

    [LoggerMessage(EventId = 74, Level = LogLevel.Warning, Message = "Leader election: releasing lease {Namespace}/{Name} failed ({Detail}); it expires instead")]
    private static partial void LogReleaseFailed(ILogger logger, string @namespace, string name, string detail);

    [LoggerMessage(EventId = 76, Level = LogLevel.Information, Message = "Leader election: {Identity} (configuration {Configuration}, newer) waits to take over from {Holder} (configuration {HolderConfiguration})")]
    private static partial void LogAnnounced(ILogger logger, string identity, string configuration, string holder, string holderConfiguration);

    [LoggerMessage(EventId = 77, Level = LogLevel.Information, Message = "Leader election: {Identity} (configuration {Configuration}) steps down for {Candidate} (configuration {CandidateConfiguration}, newer)")]
    private static partial void LogSuperseded(ILogger logger, string identity, string configuration, string candidate, string candidateConfiguration);

    [LoggerMessage(EventId = 78, Level = LogLevel.Information, Message = "Leader election: {Identity} handed lease {Namespace}/{Name} over to {Successor} (configuration {Configuration})")]
    private static partial void LogHandedOver(ILogger logger, string identity, string @namespace, string name, string successor, string configuration);

    [LoggerMessage(EventId = 75, Level = LogLevel.Debug, Message = "Leader election: lease {Namespace}/{Name}: {Detail}")]
    private static partial void LogTryFailed(ILogger logger, string @namespace, string name, string detail);
}
