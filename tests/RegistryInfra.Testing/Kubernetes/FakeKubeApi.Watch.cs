using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using RegistryInfra.Core.Kubernetes;

namespace RegistryInfra.Testing.Kubernetes;

// The watch half of the fake API, each rule from the Kubernetes documentation or the API server's source:
//
// - kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes: a GET of a collection with
//   watch=true (or 1) streams newline-delimited JSON events {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...}
//   of every change after the given resourceVersion. #semantics-for-watch: resourceVersion unset ("most recent") or "0"
//   ("any") begins with synthetic ADDED events for every object that exists, then the changes after that state; a
//   resourceVersion N delivers exactly the changes after N.
// - the same page, "410 Gone responses": when the history from N is no longer there (etcd compacted it, Compact() here,
//   or the watch cache's window moved past it), the watch answers an ERROR event whose object is a Status with code 410
//   (reason Expired): kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go (commit
//   04d6b4f11d533e92dc999e981f73f7b44dacd591 tree) serves a too-old resourceVersion through an errWatcher, "once we have
//   passed authn/authz/admission ... other errors must fail with a watch event of type ERROR, rather than a directly
//   returned error". FakeKubeFaults.WatchExpiredAsHttpStatus answers the plain HTTP 410 some proxies and older servers give.
// - #watch-bookmarks: with allowWatchBookmarks=true the server may send BOOKMARK events whose object carries only
//   metadata.resourceVersion (kind and apiVersion of the collection), the version up to which the client has seen
//   everything it asked for; cache_watcher.go (kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/storage/cacher/
//   cache_watcher.go, commit 04d6b4f11d533e92dc999e981f73f7b44dacd591) sends them about once a minute (bookmarkFrequency)
//   and once 2 s before the watch's deadline: BookmarkInterval here (1 minute by default, shorter in tests).
// - cache_watcher.go convertToWatchEvent: with a label selector, an object that matches now and did not before is sent as
//   ADDED, one that matched before and no longer does as DELETED (the previous object with the event's resourceVersion),
//   one that matches in both as MODIFIED, and one that matches in neither not at all.
// - timeoutSeconds ends the watch (the server closes the stream, without an error) after that many seconds.
public sealed partial class FakeKubeApi
{
    private readonly List<WatchEvent> _history = [];
    private readonly Dictionary<(string Resource, string Namespace, string Name), WatchEvent> _latest = [];
    private readonly List<HttpContext> _watches = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The newest resourceVersion whose event is gone: a watch from an older one is answered 410 Gone.
    private long _historyGoneThrough;
    private int _watchRequests;

    /// <summary>How often a watch with <c>allowWatchBookmarks=true</c> gets a BOOKMARK (the API server: about once a minute).</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>At most this many events are kept (the watch cache's window); a watch from before the oldest kept one is answered 410 Gone.</summary>
    public int HistoryCapacity { get; set; } = 200_000;

    /// <summary>Watch requests served (every resource), including those answered 410.</summary>
    public int WatchRequests => Volatile.Read(ref _watchRequests);

    /// <summary>Watches open now.</summary>
    public int OpenWatches
    {
        get { lock (_watches) { return _watches.Count; } }
    }

    /// <summary>Cuts every open watch connection (as a load balancer or an API server restart does), without an event.</summary>
    public void DropWatches()
    {
        List<HttpContext> open;
        lock (_watches)
        {
            open = [.. _watches];
        }
        foreach (var context in open)
        {
            context.Abort();
        }
    }

    /// <summary>The resourceVersion of the latest change.</summary>
    public string CurrentResourceVersion
    {
        get { lock (_gate) { return _resourceVersion.ToString(CultureInfo.InvariantCulture); } }
    }

    private sealed record WatchEvent(long Version, string Type, string Resource, string Namespace, string Name, JsonObject Object, JsonObject? Previous);

    /// <summary>Records a change of one object (called with the gate held): the stored value now, and what it was.</summary>
    private void Record((string Resource, string Namespace, string Name) key, JsonObject? now, JsonObject? before)
    {
        if (now is null && before is null)
        {
            return;
        }
        _latest.TryGetValue(key, out var last);
        var previous = before is null ? null : last?.Object ?? (JsonObject)before.DeepClone();
        var version = (now ?? before)!["metadata"]?["resourceVersion"]?.GetValue<string>() is { } v
            && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : _resourceVersion;
        if (now is null)
        {
            // A deletion is a change of its own: its event carries a new resourceVersion (the object's last state with it).
            version = ++_resourceVersion;
        }
        var snapshot = (JsonObject)(now ?? before)!.DeepClone();
        snapshot["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        var e = new WatchEvent(version, now is null ? "DELETED" : before is null ? "ADDED" : "MODIFIED", key.Resource, key.Namespace, key.Name, snapshot, previous);
        _history.Add(e);
        if (now is null)
        {
            _latest.Remove(key);
        }
        else
        {
            _latest[key] = e;
        }
        if (_history.Count > HistoryCapacity)
        {
            var drop = _history.Count - HistoryCapacity;
            _historyGoneThrough = Math.Max(_historyGoneThrough, _history[drop - 1].Version);
            _history.RemoveRange(0, drop);
        }
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    /// <summary>Forgets the history up to the compaction (called with the gate held).</summary>
    /// <remarks>
    /// Only what was really removed counts: a watch from a version after the last removed event needs nothing that is gone
    /// (etcd refuses a watch whose start revision is below the compacted one; the start is the version given plus one).
    /// </remarks>
    private void CompactHistory(long revision)
    {
        var keep = _history.FindIndex(e => e.Version > revision);
        var removed = keep < 0 ? _history.Count : keep;
        if (removed > 0)
        {
            _historyGoneThrough = Math.Max(_historyGoneThrough, _history[removed - 1].Version);
        }
        _history.RemoveRange(0, removed);
    }

    private static bool IsWatch(HttpContext context) =>
        context.Request.Query["watch"].ToString() is "true" or "1";

    /// <summary>Serves one watch (see the file's head for the rules).</summary>
    private async Task WatchAsync(HttpContext context, string resource, string ns, CancellationToken ct)
    {
        Interlocked.Increment(ref _watchRequests);
        var query = context.Request.Query;
        if (!Selector.TryParse(query["labelSelector"].ToString(), out var selector, out var problem))
        {
            await WriteStatus(context, 400, "BadRequest", $"unable to parse requirement: {problem}", ct).ConfigureAwait(false);
            return;
        }
        if (!FieldSelector.TryParse(query["fieldSelector"].ToString(), out var fields, out var fieldProblem))
        {
            await WriteStatus(context, 400, "BadRequest", fieldProblem, ct).ConfigureAwait(false);
            return;
        }
        var bookmarks = query["allowWatchBookmarks"].ToString() is "true" or "1";
        var requested = query["resourceVersion"].ToString();
        var timeout = long.TryParse(query["timeoutSeconds"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan;
        long cursor;
        var initial = new List<JsonObject>();
        bool gone;
        lock (_gate)
        {
            if (requested is "" or "0")
            {
                cursor = _resourceVersion;
                gone = false;
                initial.AddRange(_objects
                    .Where(kv => kv.Key.Resource == resource && (ns == AllNamespaces || kv.Key.Namespace == ns))
                    .OrderBy(kv => kv.Key.Namespace + "/" + kv.Key.Name, StringComparer.Ordinal)
                    .Where(kv => selector.Matches(LabelsOf(kv.Value)) && fields.Matches(kv.Key.Namespace, kv.Key.Name))
                    .Select(kv => (JsonObject)kv.Value.DeepClone()));
            }
            else if (!long.TryParse(requested, NumberStyles.None, CultureInfo.InvariantCulture, out cursor))
            {
                gone = false;
                cursor = -1;
            }
            else
            {
                gone = cursor < _historyGoneThrough;
            }
        }
        if (cursor < 0)
        {
            await WriteStatus(context, 400, "BadRequest", $"resourceVersion \"{requested}\" is not valid", ct).ConfigureAwait(false);
            return;
        }
        if (gone && Faults.WatchExpiredAsHttpStatus)
        {
            await WriteStatus(context, 410, "Expired", $"too old resource version: {requested}", ct).ConfigureAwait(false);
            return;
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        // Transfer-Encoding: chunked, each event flushed as it is written: the client reads it as it arrives. The headers go out
        // at once, before any event, as the API server begins the stream (kubernetes/kubernetes at
        // e6d3ab0fc07a33e8f52c7815d0c515596cb1ddfb, staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go,
        // WatchServer.ServeHTTP: WriteHeader(http.StatusOK), then flusher.Flush()): a quiet watch is open for the client without
        // waiting for an event or the next bookmark (Kestrel's StartAsync alone keeps the headers until the first flush of the body).
        await context.Response.StartAsync(ct).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        if (gone)
        {
            var status = StatusObject(410, "Expired", $"too old resource version: {requested} ({_historyGoneThrough.ToString(CultureInfo.InvariantCulture)})", resource, "");
            await WriteEventAsync(context, "ERROR", status, ct).ConfigureAwait(false);
            return;
        }
        lock (_watches)
        {
            _watches.Add(context);
        }
        using var deadline = new CancellationTokenSource(timeout);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            foreach (var o in initial)
            {
                await WriteEventAsync(context, "ADDED", o, ct).ConfigureAwait(false);
            }
            var nextBookmark = DateTime.UtcNow + BookmarkInterval;
            while (!watching.IsCancellationRequested)
            {
                List<(string Type, JsonObject Object)> pending;
                Task changed;
                long current;
                lock (_gate)
                {
                    pending = Pending(resource, ns, selector, fields, cursor);
                    current = _resourceVersion;
                    changed = _changed.Task;
                }
                foreach (var (type, o) in pending)
                {
                    await WriteEventAsync(context, type, o, ct).ConfigureAwait(false);
                }
                cursor = current;
                if (bookmarks && DateTime.UtcNow >= nextBookmark)
                {
                    var mark = new JsonObject
                    {
                        ["kind"] = Kinds[resource],
                        ["apiVersion"] = ApiVersion(resource),
                        ["metadata"] = new JsonObject { ["resourceVersion"] = current.ToString(CultureInfo.InvariantCulture) },
                    };
                    await WriteEventAsync(context, "BOOKMARK", mark, ct).ConfigureAwait(false);
                    nextBookmark = DateTime.UtcNow + BookmarkInterval;
                }
                var wait = bookmarks ? nextBookmark - DateTime.UtcNow : Timeout.InfiniteTimeSpan;
                if (wait < TimeSpan.Zero)
                {
                    wait = TimeSpan.Zero;
                }
                try
                {
                    await changed.WaitAsync(wait, watching.Token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // timeoutSeconds reached: the stream ends normally.
        }
        finally
        {
            lock (_watches)
            {
                _watches.Remove(context);
            }
        }
    }

    /// <summary>The events after <paramref name="cursor"/> this watch is shown, as the cacher converts them (called with the gate held).</summary>
    private List<(string Type, JsonObject Object)> Pending(string resource, string ns, Selector selector, FieldSelector fields, long cursor)
    {
        var result = new List<(string, JsonObject)>();
        var from = _history.BinarySearch(new WatchEvent(cursor, "", "", "", "", new JsonObject(), null), ByVersion.Instance);
        from = from < 0 ? ~from : from + 1;
        for (var i = from; i < _history.Count; i++)
        {
            var e = _history[i];
            // A field selector on metadata.name or metadata.namespace: the name and namespace never change, so an object is in or out for good.
            if (e.Resource != resource || (ns != AllNamespaces && e.Namespace != ns) || !fields.Matches(e.Namespace, e.Name))
            {
                continue;
            }
            var nowMatches = e.Type != "DELETED" && selector.Matches(LabelsOf(e.Object));
            var beforeMatches = e.Type == "DELETED"
                ? selector.Matches(LabelsOf(e.Object))
                : e.Previous is not null && selector.Matches(LabelsOf(e.Previous));
            if (nowMatches && !beforeMatches)
            {
                result.Add(("ADDED", e.Object));
            }
            else if (nowMatches)
            {
                result.Add(("MODIFIED", e.Object));
            }
            else if (beforeMatches)
            {
                // The previous object, with the event's resourceVersion (cache_watcher.go: updateResourceVersion(oldObj, ...)).
                var old = (JsonObject)(e.Type == "DELETED" ? e.Object : e.Previous!).DeepClone();
                old["metadata"]!["resourceVersion"] = e.Version.ToString(CultureInfo.InvariantCulture);
                result.Add(("DELETED", old));
            }
        }
        return result;
    }

    private sealed class ByVersion : IComparer<WatchEvent>
    {
        public static readonly ByVersion Instance = new();

        public int Compare(WatchEvent? x, WatchEvent? y) => x!.Version.CompareTo(y!.Version);
    }

    private static async Task WriteEventAsync(HttpContext context, string type, JsonObject o, CancellationToken ct)
    {
        var line = new JsonObject { ["type"] = type, ["object"] = o.DeepClone() }.ToJsonString() + "\n";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line), ct).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    private static string ApiVersion(string resource) => resource switch
    {
        "leases" => "coordination.k8s.io/v1",
        "clusterroles" or "clusterrolebindings" or "roles" or "rolebindings" => "rbac.authorization.k8s.io/v1",
        _ => "v1",
    };

    /// <summary>A copy of a stored namespace, or null.</summary>
    public JsonObject? GetNamespace(string name) => Get("namespaces", "", name);

    /// <summary>A copy of a stored Lease (coordination.k8s.io/v1), or null.</summary>
    public JsonObject? GetLease(string ns, string name) => Get("leases", ns, name);

    /// <summary>The lease's <c>spec.holderIdentity</c>, or null when none (released, or no lease).</summary>
    public string? LeaseHolder(string ns, string name) =>
        GetLease(ns, name)?["spec"]?["holderIdentity"]?.GetValue<string>() is { Length: > 0 } holder ? holder : null;
}

/// <summary>
/// The fake's objects by key: a dictionary that records each change for the watches (<c>Record</c>), so every way the fake
/// changes an object (a request, seeding, garbage collection) is seen by them without each writer having to say so. A
/// change made in place is recorded by <see cref="Touched"/> with a copy taken before it.
/// </summary>
internal sealed class ObjectStore(Action<(string Resource, string Namespace, string Name), JsonObject?, JsonObject?> record)
    : IEnumerable<KeyValuePair<(string Resource, string Namespace, string Name), JsonObject>>
{
    private readonly Dictionary<(string Resource, string Namespace, string Name), JsonObject> _items = [];

    public IEnumerable<(string Resource, string Namespace, string Name)> Keys => _items.Keys;

    public JsonObject this[(string Resource, string Namespace, string Name) key]
    {
        get => _items[key];
        set
        {
            _items.TryGetValue(key, out var before);
            _items[key] = value;
            record(key, value, before);
        }
    }

    public bool TryGetValue((string Resource, string Namespace, string Name) key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out JsonObject value) =>
        _items.TryGetValue(key, out value);

    public bool ContainsKey((string Resource, string Namespace, string Name) key) => _items.ContainsKey(key);

    public bool Remove((string Resource, string Namespace, string Name) key) => Remove(key, out _);

    public bool Remove((string Resource, string Namespace, string Name) key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out JsonObject removed)
    {
        if (!_items.Remove(key, out removed))
        {
            return false;
        }
        record(key, null, removed);
        return true;
    }

    /// <summary>The object under <paramref name="key"/> was changed in place; <paramref name="before"/> is a copy of what it was.</summary>
    public void Touched((string Resource, string Namespace, string Name) key, JsonObject before) => record(key, _items[key], before);

    public IEnumerator<KeyValuePair<(string Resource, string Namespace, string Name), JsonObject>> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
