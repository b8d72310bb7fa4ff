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
    (IKubeApi Api, string Name)? owner = null)
{
    /// <summary>client-go's JitterFactor for the acquire loop.</summary>
    private const double JitterFactor = 1.2;

    private V1Lease? _observed;
    private long _observedAt;
    private volatile bool _leader;
    private long _lastRenewal;

    public string Identity => identity;

    /// <summary>This replica has tried the lease at least once (so it knows whether it is a standby).</summary>
    public bool Attempted { get; private set; }

    /// <summary>This replica holds the lease.</summary>
    public bool IsLeader => _leader;

    /// <summary>How long ago the leader last renewed (for /healthz); zero when not the leader.</summary>
    public TimeSpan SinceRenewal => _leader ? time.GetElapsedTime(Interlocked.Read(ref _lastRenewal)) : TimeSpan.Zero;

    /// <summary>
    /// Campaigns, then runs <paramref name="lead"/> while leading, until <paramref name="stop"/>. A lost leadership cancels
    /// the work's token, waits for it to finish, and campaigns again; on <paramref name="stop"/> the work finishes first and the
    /// lease is released after it, so no two replicas ever write at once.
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
            var lost = await renew.ConfigureAwait(false);
            if (!lost)
            {
                await ReleaseAsync().ConfigureAwait(false);
            }
            if (failed is not null)
            {
                throw new InvalidOperationException("the leader's work failed", failed);
            }
        }
    }

    /// <summary>Tries until this replica holds the lease (true) or <paramref name="stop"/> (false).</summary>
    public async Task<bool> AcquireAsync(CancellationToken stop)
    {
        LogCampaigning(logger, identity, ns, name);
        while (!stop.IsCancellationRequested)
        {
            var acquired = await TryAcquireOrRenewAsync(stop).ConfigureAwait(false);
            Attempted = true;
            if (acquired)
            {
                metrics.BecameLeader();
                LogAcquired(logger, identity, ns, name, _observed?.Spec.LeaseTransitions ?? 0);
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

    /// <summary>Renews until <paramref name="stop"/> (returns false) or until a renewal fails for RenewDeadline (returns true: leadership lost).</summary>
    public async Task<bool> RenewAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(retryPeriod, time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            var started = time.GetTimestamp();
            var renewed = false;
            while (!renewed && !stop.IsCancellationRequested && time.GetElapsedTime(started) < renewDeadline)
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
                attempt.CancelAfter(renewDeadline - time.GetElapsedTime(started));
                renewed = await TryAcquireOrRenewAsync(attempt.Token).ConfigureAwait(false);
                if (!renewed && !stop.IsCancellationRequested)
                {
                    try
                    {
                        await Task.Delay(retryPeriod, time, stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return false;
                    }
                }
            }
            if (stop.IsCancellationRequested)
            {
                return false;
            }
            if (!renewed)
            {
                _leader = false;
                LogLost(logger, identity, ns, name, renewDeadline.TotalSeconds);
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Gives the lease up (holder empty, duration 1 s) if this replica holds it; a failure is logged (the lease then expires).
    /// As client-go's tryRelease (kubernetes/client-go 32ce75a7d6bc, tools/leaderelection/leaderelection.go): the record is
    /// read first, so a renewal whose answer was lost (the server wrote it, the client saw a cancellation at SIGTERM) does
    /// not leave a stale resourceVersion that makes the release a 409; a conflict reads again, until the timeout.
    /// </summary>
    public async Task ReleaseAsync()
    {
        if (!_leader)
        {
            return;
        }
        _leader = false;
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
                var now = MicroTime(time.GetUtcNow());
                var released = Copy(current);
                released.Spec.HolderIdentity = "";
                released.Spec.LeaseDurationSeconds = 1;
                released.Spec.RenewTime = now;
                released.Spec.AcquireTime = now;
                try
                {
                    metrics.ApiRequest("update", "leases");
                    _observed = await api.ReplaceLeaseAsync(released, timeout.Token).ConfigureAwait(false);
                    LogReleased(logger, identity, ns, name);
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
        var seconds = (int)Math.Ceiling(leaseDuration.TotalSeconds);
        try
        {
            // 1. The fast path: the leader replaces the record it holds, without reading it first.
            if (_leader && _observed is not null && Valid(_observed))
            {
                var fast = Copy(_observed);
                fast.Spec.HolderIdentity = identity;
                fast.Spec.LeaseDurationSeconds = seconds;
                fast.Spec.RenewTime = MicroTime(now);
                try
                {
                    metrics.ApiRequest("update", "leases");
                    Observe(await api.ReplaceLeaseAsync(fast, ct).ConfigureAwait(false));
                    Renewed();
                    return true;
                }
                catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
                {
                    // Someone else wrote it: read it and decide again.
                }
            }
            // 2. Read (or create) the record.
            metrics.ApiRequest("get", "leases");
            var current = await api.ReadLeaseAsync(ns, name, ct).ConfigureAwait(false);
            if (current is null)
            {
                var created = new V1Lease
                {
                    Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, OwnerReferences = owner is null ? null : [await OwnerReferenceAsync(ct).ConfigureAwait(false)] },
                    Spec = new V1LeaseSpec { HolderIdentity = identity, LeaseDurationSeconds = seconds, AcquireTime = MicroTime(now), RenewTime = MicroTime(now), LeaseTransitions = 0 },
                };
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
                return false;
            }
            // 4. Take or renew it.
            var next = Copy(current);
            if (holder != identity)
            {
                next.Spec.LeaseTransitions = (current.Spec.LeaseTransitions ?? 0) + 1;
                next.Spec.AcquireTime = MicroTime(now);
            }
            next.Spec.HolderIdentity = identity;
            next.Spec.LeaseDurationSeconds = seconds;
            next.Spec.RenewTime = MicroTime(now);
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
        _observed = lease;
        _observedAt = time.GetTimestamp();
    }

    /// <summary>The observed record has not yet expired: seen changed less than its leaseDurationSeconds ago, by this replica's clock.</summary>
    private bool Valid(V1Lease lease) =>
        time.GetElapsedTime(_observedAt) < TimeSpan.FromSeconds(lease.Spec.LeaseDurationSeconds ?? 0);

    private static V1Lease Copy(V1Lease lease) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = lease.Metadata.Name,
            NamespaceProperty = lease.Metadata.NamespaceProperty,
            ResourceVersion = lease.Metadata.ResourceVersion,
            Uid = lease.Metadata.Uid,
            Labels = lease.Metadata.Labels,
            Annotations = lease.Metadata.Annotations,
            OwnerReferences = lease.Metadata.OwnerReferences,
            Extra = lease.Metadata.Extra,
        },
        Spec = new V1LeaseSpec
        {
            HolderIdentity = lease.Spec.HolderIdentity,
            LeaseDurationSeconds = lease.Spec.LeaseDurationSeconds,
            AcquireTime = lease.Spec.AcquireTime,
            RenewTime = lease.Spec.RenewTime,
            LeaseTransitions = lease.Spec.LeaseTransitions,
            Extra = lease.Spec.Extra,
        },
    };

    /// <summary><c>metav1.MicroTime</c>: RFC 3339 in UTC with microseconds.</summary>
    internal static string MicroTime(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>This replica's identity: <c>POD_NAME</c> (the downward API) or the host name, plus a random suffix, as client-go's examples build it.</summary>
    internal static string NewIdentity(System.Collections.IDictionary environment) =>
        (environment["POD_NAME"] is string { Length: > 0 } pod ? pod : Environment.MachineName) + "_" + Guid.NewGuid().ToString("N")[..8];

    [LoggerMessage(EventId = 70, Level = LogLevel.Information, Message = "Leader election: {Identity} campaigning for lease {Namespace}/{Name}")]
    private static partial void LogCampaigning(ILogger logger, string identity, string @namespace, string name);

    [LoggerMessage(EventId = 71, Level = LogLevel.Information, Message = "Leader election: {Identity} acquired lease {Namespace}/{Name} (transitions {Transitions})")]
    private static partial void LogAcquired(ILogger logger, string identity, string @namespace, string name, int transitions);

    [LoggerMessage(EventId = 72, Level = LogLevel.Warning, Message = "Leader election: {Identity} lost lease {Namespace}/{Name}: not renewed within {Seconds} s")]
    private static partial void LogLost(ILogger logger, string identity, string @namespace, string name, double seconds);

    [LoggerMessage(EventId = 73, Level = LogLevel.Information, Message = "Leader election: {Identity} released lease {Namespace}/{Name}")]
    private static partial void LogReleased(ILogger logger, string identity, string @namespace, string name);

    [LoggerMessage(EventId = 74, Level = LogLevel.Warning, Message = "Leader election: releasing lease {Namespace}/{Name} failed ({Detail}); it expires instead")]
    private static partial void LogReleaseFailed(ILogger logger, string @namespace, string name, string detail);

    [LoggerMessage(EventId = 75, Level = LogLevel.Debug, Message = "Leader election: lease {Namespace}/{Name}: {Detail}")]
    private static partial void LogTryFailed(ILogger logger, string @namespace, string name, string detail);
}
