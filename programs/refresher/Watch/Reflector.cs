using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher.Watch;

/// <summary>One chunk of a paginated list: its items, the continue token (null on the last), the list's resourceVersion.</summary>
internal sealed record ListPage<T>(IReadOnlyList<T> Items, string? Continue, string? ResourceVersion);

/// <summary>A change of one object as the reflector saw it: what it was (null when new) and what it is (null when gone).</summary>
internal sealed record ObjectChange<T>(WatchEventType Type, T? Old, T? New)
    where T : class;

/// <summary>
/// List, then watch from the list's resourceVersion, for one kind of object, keeping the objects it saw (trimmed to what
/// the refresher reads) and reporting each change. The rules are client-go's reflector (kubernetes/kubernetes
/// staging/src/k8s.io/client-go/tools/cache/reflector.go, commit 000c6651b28123ea483df5bf317a4947e0aae352), ported as facts:
/// <list type="bullet">
/// <item>every watch asks for bookmarks (allowWatchBookmarks=true) and a server timeout drawn at random between
/// 5 and 10 minutes (minWatchTimeout · (1 + rand)), so watches do not all restart together and a hung one ends;</item>
/// <item>each event's object carries the resourceVersion the next watch starts from; a BOOKMARK carries only that version and
/// changes nothing else ("A `Bookmark` means watch has synced here, just update the resourceVersion"), so a reconnect after
/// a bookmark does not replay what the bookmark covered (kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks);</item>
/// <item>a watch that ends normally (the server's timeout) is opened again at once from the last version;</item>
/// <item>410 Gone ("too old resource version", an ERROR event or an HTTP status: the history was compacted) means list again,
/// and watch from the new list's version (the documentation's "410 Gone responses": "clearing their local cache, performing a
/// new get or list operation, and starting the watch from the resourceVersion that was returned"); what changed in
/// between is found by comparing the new list with the objects kept (the store's Replace, which reports every object
/// the list no longer holds as deleted);</item>
/// <item>any other failure (a dropped connection, 429, 5xx) backs off exponentially, 800 ms doubling to a cap of 30 s, and
/// the backoff resets once the API server has been healthy for 2 minutes (NewExponentialBackoffManager(800ms, 30s, 2min,
/// 2.0, 1.0)); the delay here is drawn uniformly in [d/2, d] so that it never exceeds the cap.</item>
/// </list>
/// The list is paginated (<c>limit</c>/<c>continue</c>, 500 a page); a continue token that expired between two pages restarts
/// the list from the first page, as RefreshRun's namespace list does.
/// </summary>
internal sealed partial class Reflector<T>(
    string name,
    Func<string?, CancellationToken, Task<ListPage<T>>> listPage,
    Func<WatchRequest, CancellationToken, IAsyncEnumerable<WatchEvent<T>>> watch,
    Func<T, string> keyOf,
    Func<T, string?> versionOf,
    Func<T, T> trim,
    Action<ObjectChange<T>> changed,
    WatchMetrics metrics,
    TimeProvider time,
    ILogger logger)
    where T : class
{
    private readonly ConcurrentDictionary<string, T> _store = new(StringComparer.Ordinal);

    /// <summary>The first backoff delay after a failed list or watch.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(800);

    /// <summary>The longest backoff delay.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>After this long without a failure the backoff starts again from <see cref="InitialBackoff"/>.</summary>
    public TimeSpan BackoffReset { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The server-side timeout of each watch, in seconds (default: at random in [300, 600)).</summary>
    public Func<int> WatchTimeoutSeconds { get; init; } = () => (int)(300 * (1 + Random.Shared.NextDouble()));

    /// <summary>The version the next watch starts from (the last event's or bookmark's, or the list's); null before the first list.</summary>
    public string? ResourceVersion { get; private set; }

    /// <summary>The objects seen, by key, as trimmed.</summary>
    public IReadOnlyDictionary<string, T> Store => _store;

    /// <summary>The delays of the reconnections so far (tests and logs).</summary>
    public IReadOnlyList<TimeSpan> Backoffs => _backoffs;

    private readonly List<TimeSpan> _backoffs = [];

    /// <summary>
    /// Lists every object (paginated) and keeps them; with <paramref name="report"/>, each difference from what was kept is
    /// reported (after a 410 Gone), else the store is only filled (the first list, which a full run follows).
    /// </summary>
    public async Task ListAsync(bool report, CancellationToken ct)
    {
        var items = new Dictionary<string, T>(StringComparer.Ordinal);
        string? next = null, version = null;
        for (var restarts = 0; ;)
        {
            ListPage<T> page;
            try
            {
                metrics.ApiRequest("list", name);
                page = await listPage(next, ct).ConfigureAwait(false);
            }
            catch (KubeApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Gone && next is not null && restarts < RefreshRun.ListRestarts)
            {
                restarts++;
                items.Clear();
                next = null;
                continue;
            }
            version ??= page.ResourceVersion;
            foreach (var item in page.Items)
            {
                items[keyOf(item)] = trim(item);
            }
            next = page.Continue;
            if (string.IsNullOrEmpty(next))
            {
                break;
            }
        }
        if (report)
        {
            foreach (var (key, item) in items)
            {
                if (!_store.TryGetValue(key, out var old))
                {
                    changed(new ObjectChange<T>(WatchEventType.Added, null, item));
                }
                else if (versionOf(old) != versionOf(item))
                {
                    changed(new ObjectChange<T>(WatchEventType.Modified, old, item));
                }
            }
            foreach (var (key, old) in _store)
            {
                if (!items.ContainsKey(key))
                {
                    changed(new ObjectChange<T>(WatchEventType.Deleted, old, null));
                }
            }
        }
        foreach (var key in _store.Keys.Where(k => !items.ContainsKey(k)).ToList())
        {
            _store.TryRemove(key, out _);
        }
        foreach (var (key, item) in items)
        {
            _store[key] = item;
        }
        ResourceVersion = version ?? "";
        LogListed(logger, name, items.Count, ResourceVersion);
    }

    /// <summary>Watches until <paramref name="ct"/> is cancelled, listing again whenever the history is gone. Never throws but for the cancellation.</summary>
    public async Task WatchAsync(CancellationToken ct)
    {
        var failures = 0;
        var lastFailure = time.GetTimestamp();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (ResourceVersion is null)
                {
                    await ListAsync(report: true, ct).ConfigureAwait(false);
                }
                var request = new WatchRequest(ResourceVersion!, WatchTimeoutSeconds());
                metrics.ApiRequest("watch", name);
                await foreach (var e in watch(request, ct).ConfigureAwait(false))
                {
                    Handle(e);
                }
                // The server's timeout: watch again at once, from where this one got to.
                LogWatchEnded(logger, name, ResourceVersion);
            }
            catch (WatchExpiredException e)
            {
                metrics.Relisted(name);
                LogExpired(logger, name, e.Message);
                ResourceVersion = null;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not OutOfMemoryException)
            {
                if (time.GetElapsedTime(lastFailure) >= BackoffReset)
                {
                    failures = 0;
                }
                lastFailure = time.GetTimestamp();
                var ceiling = Math.Min(MaxBackoff.TotalMilliseconds, InitialBackoff.TotalMilliseconds * Math.Pow(2, failures++));
                var delay = TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
                lock (_backoffs)
                {
                    _backoffs.Add(delay);
                }
                metrics.Reconnected(name);
                LogReconnect(logger, name, Describe(e), delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private void Handle(WatchEvent<T> e)
    {
        if (e.Object is not { } obj)
        {
            return;
        }
        var version = versionOf(obj);
        switch (e.Type)
        {
            case WatchEventType.Bookmark:
                metrics.Bookmark(name);
                break;
            case WatchEventType.Added or WatchEventType.Modified:
                {
                    var item = trim(obj);
                    var key = keyOf(item);
                    _store.TryGetValue(key, out var old);
                    _store[key] = item;
                    metrics.Event(name, e.Type);
                    changed(new ObjectChange<T>(old is null ? WatchEventType.Added : WatchEventType.Modified, old, item));
                    break;
                }
            case WatchEventType.Deleted:
                {
                    var key = keyOf(obj);
                    _store.TryRemove(key, out var old);
                    metrics.Event(name, e.Type);
                    changed(new ObjectChange<T>(WatchEventType.Deleted, old ?? trim(obj), null));
                    break;
                }
        }
        if (!string.IsNullOrEmpty(version))
        {
            ResourceVersion = version;
        }
    }

    private static string Describe(Exception e) => e switch
    {
        KubeApiException k => $"HTTP {((int)k.StatusCode).ToString(CultureInfo.InvariantCulture)}",
        HttpRequestException h => $"connection failed ({h.HttpRequestError})",
        TimeoutException t => t.Message,
        OperationCanceledException => "request timed out",
        IOException => "connection closed",
        System.Text.Json.JsonException => "an event could not be read",
        _ => e.GetType().Name,
    };

    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "Listed {Resource}: {Count} objects at resourceVersion {ResourceVersion}")]
    private static partial void LogListed(ILogger logger, string resource, int count, string resourceVersion);

    [LoggerMessage(EventId = 61, Level = LogLevel.Debug, Message = "Watch of {Resource} ended by the server at resourceVersion {ResourceVersion}; watching again")]
    private static partial void LogWatchEnded(ILogger logger, string resource, string? resourceVersion);

    [LoggerMessage(EventId = 62, Level = LogLevel.Information, Message = "Watch of {Resource}: {Detail}; listing again")]
    private static partial void LogExpired(ILogger logger, string resource, string detail);

    [LoggerMessage(EventId = 63, Level = LogLevel.Warning, Message = "Watch of {Resource} failed: {Detail}; reconnecting in {DelaySeconds:F1} s")]
    private static partial void LogReconnect(ILogger logger, string resource, string detail, double delaySeconds);
}
