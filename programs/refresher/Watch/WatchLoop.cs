using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher.Watch;

/// <summary>What the watch loop asks of the reconciliation of one namespace (the same code path as a full run's).</summary>
internal interface INamespaceReconciler
{
    /// <summary>Some target of the configuration selects this namespace (as it is now).</summary>
    bool Selects(V1Namespace ns);

    /// <summary>Everything for one namespace: every target that selects it written and attached, every one that no longer does pruned.</summary>
    Task<IReadOnlyList<TargetOutcome>> ReconcileAsync(V1Namespace ns, CancellationToken ct);

    /// <summary>A full run has just finished: what the reconciliation kept (tokens, sources) is read again from now on.</summary>
    void NewEpoch();

    /// <summary>Some copy target of <paramref name="source"/> selects this namespace.</summary>
    bool Copies(V1Namespace ns, SecretSourceConfiguration source);

    /// <summary>The source Secret's data changed: the copy read and kept so far is read again by the next reconciliation.</summary>
    void SourceChanged(SecretSourceConfiguration source);
}

/// <summary>
/// The leader's work in watch mode: list namespaces and service accounts, a full run, then watches; each event that can
/// change what a namespace needs queues that namespace, and a fixed set of workers (the configuration's concurrency)
/// reconciles the queue. The queue has the semantics of client-go's work queue (kubernetes/kubernetes
/// staging/src/k8s.io/client-go/util/workqueue/queue.go): a namespace queued twice is reconciled once; one that changes
/// while it is being reconciled is queued again once that reconciliation ends, and never reconciled by two workers at once.
/// Token renewal stays driven by expiry: a timer at the earliest expiry minus renewBefore runs the token targets; a full
/// run every Resync period is the safety net for anything a watch could have missed.
/// On <c>stop</c> (SIGTERM, or leadership lost) no new namespace is started; those in flight finish within
/// <see cref="RefresherApp.ShutdownGrace"/>, as a full run's do.
/// </summary>
internal sealed partial class WatchLoop(
    IKubeApi kubernetes,
    IKubeWatchApi watchApi,
    RefresherConfiguration options,
    TimeSpan resync,
    INamespaceReconciler reconciler,
    Func<RefresherConfiguration, CancellationToken, Task<RunSummary>> fullRun,
    WatchMetrics metrics,
    TimeProvider time,
    ILogger logger) : IDisposable
{
    /// <summary>At most this many listed namespaces get a service-account watch each; more (or any selector) watch the cluster.</summary>
    internal const int PerNamespaceWatchLimit = 20;

    /// <summary>The shortest wait between two token runs, whatever the expiries say (a renewBefore longer than a token's life).</summary>
    internal static readonly TimeSpan MinTokenRunInterval = TimeSpan.FromMinutes(1);

    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = false });
    private readonly object _gate = new();
    private readonly Dictionary<string, long> _queued = new(StringComparer.Ordinal);
    private readonly HashSet<string> _processing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _dirty = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _expiryChanged = new(0);
    private DateTimeOffset? _earliestExpiry;
    private Reflector<V1Namespace>? _namespaces;
    private readonly List<Reflector<V1ServiceAccount>> _serviceAccounts = [];
    private readonly List<(SecretSourceConfiguration Source, Reflector<V1Secret> Reflector)> _sources = [];
    private volatile string? _degraded;

    /// <summary>Why the loop serves less than it should (a source Secret it may not watch: its copies follow at resync), or null.</summary>
    public string? Degraded => _degraded;

    /// <summary>As <see cref="TuneNamespaces"/>, for the source-Secret reflectors.</summary>
    public Func<Reflector<V1Secret>, Reflector<V1Secret>> TuneSources { get; init; } = r => r;

    /// <summary>The first full run has finished (readiness).</summary>
    public bool FirstRunDone { get; private set; }

    /// <summary>Backoff and watch timeout of the reflectors (tests shorten them).</summary>
    public Func<Reflector<V1Namespace>, Reflector<V1Namespace>> TuneNamespaces { get; init; } = r => r;

    /// <summary>As <see cref="TuneNamespaces"/>, for the service-account reflectors.</summary>
    public Func<Reflector<V1ServiceAccount>, Reflector<V1ServiceAccount>> TuneServiceAccounts { get; init; } = r => r;

    /// <summary>The earliest expiry known of the Secrets written (the token timer's base).</summary>
    public DateTimeOffset? EarliestExpiry
    {
        get { lock (_gate) { return _earliestExpiry; } }
    }

    /// <summary>The namespace reflector, once started (tests).</summary>
    internal Reflector<V1Namespace>? Namespaces => _namespaces;

    /// <summary>The service-account reflectors, once started (tests).</summary>
    internal IReadOnlyList<Reflector<V1ServiceAccount>> ServiceAccounts => _serviceAccounts;

    public async Task RunAsync(CancellationToken stop)
    {
        _namespaces = TuneNamespaces(new Reflector<V1Namespace>("namespaces",
            async (next, ct) =>
            {
                var page = await kubernetes.ListNamespacesAsync(null, RefreshRun.NamespacePageSize, next, ct).ConfigureAwait(false);
                return new ListPage<V1Namespace>(page.Items, page.Metadata?.ContinueProperty, page.Metadata?.ResourceVersion);
            },
            watchApi.WatchNamespacesAsync,
            n => n.Metadata?.Name ?? "",
            n => n.Metadata?.ResourceVersion,
            TrimNamespace, OnNamespace, metrics, time, logger));
        foreach (var scope in ServiceAccountScopes())
        {
            _serviceAccounts.Add(TuneServiceAccounts(new Reflector<V1ServiceAccount>(scope is null ? "serviceaccounts" : $"serviceaccounts/{scope}",
                async (next, ct) =>
                {
                    var page = await watchApi.ListServiceAccountPageAsync(scope, null, RefreshRun.NamespacePageSize, next, ct).ConfigureAwait(false);
                    return new ListPage<V1ServiceAccount>(page.Items, page.Metadata?.ContinueProperty, page.Metadata?.ResourceVersion);
                },
                (request, ct) => watchApi.WatchServiceAccountsAsync(scope, request, ct),
                a => (a.Metadata?.NamespaceProperty ?? "") + "/" + (a.Metadata?.Name ?? ""),
                a => a.Metadata?.ResourceVersion,
                TrimServiceAccount, OnServiceAccount, metrics, time, logger)));
        }

        // Each copy target's source Secret, watched by name (a field selector metadata.name=, which RBAC checks against the
        // Role's resourceNames), so a changed static password reaches every copy within one reconcile, not at the resync.
        foreach (var source in options.Targets.Select(t => t.Source).OfType<SecretSourceConfiguration>()
            .DistinctBy(s => (s.Namespace, s.Name)).OrderBy(s => s.Namespace + "/" + s.Name, StringComparer.Ordinal))
        {
            _sources.Add((source, TuneSources(new Reflector<V1Secret>($"secrets/{source.Namespace}/{source.Name}",
                async (_, ct) =>
                {
                    var list = await watchApi.ListSecretByNameAsync(source.Namespace, source.Name, ct).ConfigureAwait(false);
                    return new ListPage<V1Secret>(list.Items, null, list.Metadata?.ResourceVersion);
                },
                (request, ct) => watchApi.WatchSecretByNameAsync(source.Namespace, source.Name, request, ct),
                s => s.Metadata.Name ?? "",
                s => s.Metadata.ResourceVersion,
                TrimSource, c => OnSource(source, c), metrics, time, logger))));
        }

        // The lists first, then the full run: the watches start from the lists' versions, so whatever changes while the full
        // run works is seen by them (at worst twice, which costs a read and no write).
        await ListUntilDoneAsync(_namespaces, stop).ConfigureAwait(false);
        foreach (var r in _serviceAccounts)
        {
            await ListUntilDoneAsync(r, stop).ConfigureAwait(false);
        }
        var sourceWatches = new List<Reflector<V1Secret>>();
        foreach (var (source, r) in _sources)
        {
            try
            {
                await r.ListAsync(report: false, stop).ConfigureAwait(false);
                sourceWatches.Add(r);
            }
            catch (KubeApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Forbidden)
            {
                // The Role grants get on the source but not list/watch: the copies still follow it, at each resync.
                _degraded = $"source Secret {source.Namespace}/{source.Name} may not be watched (list/watch forbidden); its copies follow it at the resync";
                LogSourceWatchForbidden(logger, source.Namespace, source.Name, resync.TotalMinutes);
            }
            catch (Exception e) when (!stop.IsCancellationRequested && e is not OutOfMemoryException)
            {
                // Anything else: the reflector's watch lists again first, with its backoff.
                LogListFailed(logger, e.GetType().Name, 0);
                sourceWatches.Add(r);
            }
        }
        if (stop.IsCancellationRequested)
        {
            return;
        }
        var first = await fullRun(options, stop).ConfigureAwait(false);
        reconciler.NewEpoch();
        SetExpiry(first.EarliestExpiry, replace: true);
        FirstRunDone = true;
        var lastFull = time.GetTimestamp();

        using var admit = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var grace = new CancellationTokenSource();
        using var stopping = stop.Register(() => grace.CancelAfter(RefresherApp.ShutdownGrace));
        var watches = new List<Task> { _namespaces.WatchAsync(stop) };
        watches.AddRange(_serviceAccounts.Select(r => r.WatchAsync(stop)));
        watches.AddRange(sourceWatches.Select(r => r.WatchAsync(stop)));
        var workers = Enumerable.Range(0, Math.Max(1, options.EffectiveConcurrency)).Select(_ => Task.Run(() => WorkAsync(stop, grace.Token), CancellationToken.None)).ToList();

        DateTimeOffset lastTokenRun = DateTimeOffset.MinValue;
        while (!stop.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var resyncDue = resync - time.GetElapsedTime(lastFull);
            TimeSpan? tokenDue = EarliestExpiry is { } expiry
                ? Max(expiry - options.EffectiveRenewBefore - now, lastTokenRun + MinTokenRunInterval - now)
                : null;
            var wait = tokenDue is { } t && t < resyncDue ? t : resyncDue;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await _expiryChanged.WaitAsync(wait, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            if (time.GetElapsedTime(lastFull) >= resync)
            {
                LogResync(logger, resync.TotalMinutes);
                var summary = await fullRun(options, stop).ConfigureAwait(false);
                reconciler.NewEpoch();
                SetExpiry(summary.EarliestExpiry, replace: !summary.Stopped);
                lastFull = time.GetTimestamp();
                lastTokenRun = time.GetUtcNow();
            }
            else
            {
                var tokens = TokenTargets();
                LogTokenRun(logger, tokens.Targets.Count, new UtcTime(EarliestExpiry));
                lastTokenRun = time.GetUtcNow();
                var summary = await fullRun(tokens, stop).ConfigureAwait(false);
                reconciler.NewEpoch();
                SetExpiry(summary.EarliestExpiry, replace: !summary.Stopped);
            }
        }
        _queue.Writer.TryComplete();
        await Task.WhenAll(workers).ConfigureAwait(false);
        await Task.WhenAll(watches).ConfigureAwait(false);
        LogStopped(logger, metrics.Events, metrics.Reconciles, metrics.Reconnects, metrics.Relists, metrics.Bookmarks, metrics.Requests);
    }

    public void Dispose() => _expiryChanged.Dispose();

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>The configuration with only the targets whose Secrets hold registry tokens (they expire: not attach-only, not copies), and no ledger (a partial run must not detach the rest).</summary>
    internal RefresherConfiguration TokenTargets() => options with { Targets = [.. options.Targets.Where(t => !t.AttachOnly && t.Source is null)], Ledger = null };

    private async Task ListUntilDoneAsync<T>(Reflector<T> reflector, CancellationToken stop)
        where T : class
    {
        for (var attempt = 0; !stop.IsCancellationRequested; attempt++)
        {
            try
            {
                await reflector.ListAsync(report: false, stop).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!stop.IsCancellationRequested && e is not OutOfMemoryException)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(reflector.MaxBackoff.TotalMilliseconds, reflector.InitialBackoff.TotalMilliseconds * Math.Pow(2, attempt)));
                metrics.Reconnected("list");
                LogListFailed(logger, e.GetType().Name, delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>null: one cluster-wide watch; else one watch per listed namespace (every target lists its namespaces, and few).</summary>
    private List<string?> ServiceAccountScopes()
    {
        if (options.Targets.All(t => t.Namespaces.Count > 0 && t.NamespaceSelector is null && !t.AllNamespaces))
        {
            var listed = options.Targets.SelectMany(t => t.Namespaces).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            if (listed.Count <= PerNamespaceWatchLimit)
            {
                return [.. listed];
            }
        }
        return [null];
    }

    private static V1Namespace TrimNamespace(V1Namespace n) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = n.Metadata?.Name,
            Uid = n.Metadata?.Uid,
            ResourceVersion = n.Metadata?.ResourceVersion,
            Labels = n.Metadata?.Labels,
        },
        Status = n.Status,
    };

    /// <summary>A source Secret as kept: its data replaced by each value's SHA-256 (a change is seen, no credential is kept).</summary>
    private static V1Secret TrimSource(V1Secret s) => new()
    {
        Metadata = new V1ObjectMeta { Name = s.Metadata.Name, NamespaceProperty = s.Metadata.NamespaceProperty, ResourceVersion = s.Metadata.ResourceVersion },
        Type = s.Type,
        Data = s.Data?.ToDictionary(kv => kv.Key, kv => System.Security.Cryptography.SHA256.HashData(kv.Value), StringComparer.Ordinal),
    };

    /// <summary>
    /// A source Secret whose data (or type) changed, or that appeared or went: the copy kept is forgotten and every namespace
    /// a copy target of it selects is queued. Another change (labels, annotations) needs nothing: the copies hold the same data.
    /// </summary>
    private void OnSource(SecretSourceConfiguration source, ObjectChange<V1Secret> change)
    {
        if (change.Old is { } before && change.New is { } now && before.Type == now.Type && SameData(before.Data, now.Data))
        {
            return;
        }
        reconciler.SourceChanged(source);
        var queued = 0;
        foreach (var ns in _namespaces?.Store.Values ?? [])
        {
            if (ns.Metadata?.Name is { } name && ns.Status?.Phase != "Terminating" && reconciler.Copies(ns, source))
            {
                Enqueue(name);
                queued++;
            }
        }
        LogSourceChanged(logger, source.Namespace, source.Name, queued);
    }

    private static bool SameData(Dictionary<string, byte[]>? a, Dictionary<string, byte[]>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || a.All(kv => b!.TryGetValue(kv.Key, out var v) && v.AsSpan().SequenceEqual(kv.Value)));

    private static V1ServiceAccount TrimServiceAccount(V1ServiceAccount a) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = a.Metadata?.Name,
            NamespaceProperty = a.Metadata?.NamespaceProperty,
            ResourceVersion = a.Metadata?.ResourceVersion,
            Labels = a.Metadata?.Labels,
        },
        ImagePullSecrets = a.ImagePullSecrets,
    };

    /// <summary>A namespace that appeared, was relabelled (in or out) or changed phase is queued when a target selects it now or did before.</summary>
    private void OnNamespace(ObjectChange<V1Namespace> change)
    {
        if (change.New is not { } now || now.Metadata?.Name is not { } name)
        {
            // Deleted: its Secrets and service accounts went with it.
            return;
        }
        if (now.Status?.Phase == "Terminating")
        {
            return;
        }
        if (change.Old is { } before && SameLabels(before.Metadata?.Labels, now.Metadata?.Labels) && before.Status?.Phase == now.Status?.Phase)
        {
            return;
        }
        if (reconciler.Selects(now) || (change.Old is { } old && reconciler.Selects(old)))
        {
            Enqueue(name);
        }
    }

    /// <summary>
    /// A service account that appeared, was relabelled, or lost a pull-secret name is queued (its namespace) when a target
    /// selects the namespace. One that only gained names (our own patch among them) or changed otherwise needs nothing.
    /// </summary>
    private void OnServiceAccount(ObjectChange<V1ServiceAccount> change)
    {
        if (change.New is not { } now || now.Metadata?.NamespaceProperty is not { } ns)
        {
            return;
        }
        if (change.Old is { } before)
        {
            var had = Names(before);
            var has = Names(now);
            if (SameLabels(before.Metadata?.Labels, now.Metadata?.Labels) && had.IsSubsetOf(has))
            {
                return;
            }
        }
        if (_namespaces?.Store.TryGetValue(ns, out var namespaceNow) == true && namespaceNow.Status?.Phase != "Terminating" && reconciler.Selects(namespaceNow))
        {
            Enqueue(ns);
        }
    }

    private static HashSet<string> Names(V1ServiceAccount a) =>
        (a.ImagePullSecrets ?? []).Select(r => r?.Name).OfType<string>().ToHashSet(StringComparer.Ordinal);

    private static bool SameLabels(Dictionary<string, string>? a, Dictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || a.All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value));

    /// <summary>Queues a namespace (deduplicated; one being reconciled is queued again after it).</summary>
    internal void Enqueue(string ns)
    {
        var at = time.GetTimestamp();
        lock (_gate)
        {
            if (_processing.Contains(ns))
            {
                _dirty.TryAdd(ns, at);
                return;
            }
            if (!_queued.TryAdd(ns, at))
            {
                return;
            }
        }
        _queue.Writer.TryWrite(ns);
    }

    private async Task WorkAsync(CancellationToken stop, CancellationToken grace)
    {
        while (!stop.IsCancellationRequested)
        {
            string ns;
            try
            {
                ns = await _queue.Reader.ReadAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                return;
            }
            long since;
            lock (_gate)
            {
                _queued.Remove(ns, out since);
                _processing.Add(ns);
            }
            try
            {
                if (_namespaces?.Store.TryGetValue(ns, out var current) == true)
                {
                    // Started: it finishes (its writes are not cut) unless the grace period after a stop runs out.
                    var outcomes = await reconciler.ReconcileAsync(current, grace).ConfigureAwait(false);
                    var latency = time.GetElapsedTime(since);
                    metrics.Reconciled(latency);
                    var expiry = outcomes.Where(o => o.Result is not (TargetResult.Failed or TargetResult.NotStarted)).Select(o => o.ExpiresAt).Where(e => e.HasValue).Min();
                    SetExpiry(expiry, replace: false);
                    var written = outcomes.Count(o => o.Result is TargetResult.Created or TargetResult.Updated);
                    var patched = outcomes.Sum(o => o.ServiceAccountsPatched);
                    var failed = outcomes.Count(o => o.Result == TargetResult.Failed);
                    LogReconciled(logger, ns, latency.TotalMilliseconds, written, patched, failed);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogReconcileFailed(logger, ns, e.GetType().Name);
            }
            finally
            {
                bool again;
                long dirtySince;
                lock (_gate)
                {
                    _processing.Remove(ns);
                    again = _dirty.Remove(ns, out dirtySince);
                    if (again)
                    {
                        _queued.TryAdd(ns, dirtySince);
                    }
                }
                if (again)
                {
                    _queue.Writer.TryWrite(ns);
                }
            }
        }
    }

    private void SetExpiry(DateTimeOffset? expiry, bool replace)
    {
        lock (_gate)
        {
            var before = _earliestExpiry;
            _earliestExpiry = replace ? expiry ?? _earliestExpiry : expiry is { } e && (_earliestExpiry is null || e < _earliestExpiry) ? e : _earliestExpiry;
            if (_earliestExpiry == before)
            {
                return;
            }
        }
        _expiryChanged.Release();
    }

    [LoggerMessage(EventId = 90, Level = LogLevel.Information, Message = "Namespace {Namespace} reconciled {LatencyMs:F0} ms after its event: secrets written {Written}, service accounts patched {Patched}, failed {Failed}")]
    private static partial void LogReconciled(ILogger logger, string @namespace, double latencyMs, int written, int patched, int failed);

    [LoggerMessage(EventId = 91, Level = LogLevel.Error, Message = "Namespace {Namespace}: reconciliation failed ({Detail}); the next event or resync retries it")]
    private static partial void LogReconcileFailed(ILogger logger, string @namespace, string detail);

    [LoggerMessage(EventId = 92, Level = LogLevel.Information, Message = "Resync: full run (every {Minutes} min)")]
    private static partial void LogResync(ILogger logger, double minutes);

    [LoggerMessage(EventId = 93, Level = LogLevel.Information, Message = "Token renewal: {Targets} token targets (earliest expiry {EarliestExpiry})")]
    private static partial void LogTokenRun(ILogger logger, int targets, UtcTime earliestExpiry);

    [LoggerMessage(EventId = 94, Level = LogLevel.Warning, Message = "Initial list failed ({Detail}); trying again in {DelaySeconds:F1} s")]
    private static partial void LogListFailed(ILogger logger, string detail, double delaySeconds);

    [LoggerMessage(EventId = 96, Level = LogLevel.Warning, Message = "Source Secret {Namespace}/{Name} may not be listed or watched (HTTP 403): its copies follow it at the resync, every {Minutes} min; grant list and watch on it by resourceNames")]
    private static partial void LogSourceWatchForbidden(ILogger logger, string @namespace, string name, double minutes);

    [LoggerMessage(EventId = 97, Level = LogLevel.Information, Message = "Source Secret {Namespace}/{Name} changed: {Namespaces} namespaces queued for their copies")]
    private static partial void LogSourceChanged(ILogger logger, string @namespace, string name, int namespaces);

    [LoggerMessage(EventId = 95, Level = LogLevel.Information, Message = "Watch stopped: events {Events}, namespaces reconciled {Reconciles}, reconnects {Reconnects}, relists {Relists}, bookmarks {Bookmarks}, list/watch/lease requests {Requests}")]
    private static partial void LogStopped(ILogger logger, long events, long reconciles, long reconnects, long relists, long bookmarks, long requests);
}
