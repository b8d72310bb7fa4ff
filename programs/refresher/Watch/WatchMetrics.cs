using System.Diagnostics.Metrics;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher.Watch;

/// <summary>
/// The watch command's figures: on the refresher's meter (<c>RegistryInfra.Refresher</c>) for exporters, and as plain
/// totals for its log lines and tests.
/// </summary>
internal sealed class WatchMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _events;
    private readonly Counter<long> _reconnects;
    private readonly Counter<long> _relists;
    private readonly Counter<long> _bookmarks;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _reconciles;
    private readonly Histogram<double> _latency;
    private long _eventCount, _reconnectCount, _relistCount, _bookmarkCount, _requestCount, _reconcileCount, _leaderTransitions;

    public WatchMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(RefresherMetrics.MeterName);
        _events = _meter.CreateCounter<long>("registryinfra.refresher.watch.events", "{event}", "Watch events handled (added, modified, deleted).");
        _reconnects = _meter.CreateCounter<long>("registryinfra.refresher.watch.reconnects", "{reconnect}", "Watches opened again after a failure.");
        _relists = _meter.CreateCounter<long>("registryinfra.refresher.watch.relists", "{relist}", "Lists made again after 410 Gone.");
        _bookmarks = _meter.CreateCounter<long>("registryinfra.refresher.watch.bookmarks", "{bookmark}", "BOOKMARK events received.");
        _requests = _meter.CreateCounter<long>("registryinfra.refresher.watch.requests", "{request}", "API requests of the watch command outside the reconciliation (lists, watches, lease).");
        _reconciles = _meter.CreateCounter<long>("registryinfra.refresher.watch.reconciles", "{namespace}", "Namespaces reconciled after an event.");
        _latency = _meter.CreateHistogram<double>("registryinfra.refresher.watch.latency", "s", "From an event to its namespace reconciled.");
    }

    public long Events => Interlocked.Read(ref _eventCount);

    public long Reconnects => Interlocked.Read(ref _reconnectCount);

    public long Relists => Interlocked.Read(ref _relistCount);

    public long Bookmarks => Interlocked.Read(ref _bookmarkCount);

    public long Requests => Interlocked.Read(ref _requestCount);

    public long Reconciles => Interlocked.Read(ref _reconcileCount);

    public long LeaderTransitions => Interlocked.Read(ref _leaderTransitions);

    public void Event(string resource, WatchEventType type)
    {
        Interlocked.Increment(ref _eventCount);
        _events.Add(1, new KeyValuePair<string, object?>("resource", resource), new KeyValuePair<string, object?>("type", type.ToString()));
    }

    public void Reconnected(string resource)
    {
        Interlocked.Increment(ref _reconnectCount);
        _reconnects.Add(1, new KeyValuePair<string, object?>("resource", resource));
    }

    public void Relisted(string resource)
    {
        Interlocked.Increment(ref _relistCount);
        _relists.Add(1, new KeyValuePair<string, object?>("resource", resource));
    }

    public void Bookmark(string resource)
    {
        Interlocked.Increment(ref _bookmarkCount);
        _bookmarks.Add(1, new KeyValuePair<string, object?>("resource", resource));
    }

    public void ApiRequest(string verb, string resource)
    {
        Interlocked.Increment(ref _requestCount);
        _requests.Add(1, new KeyValuePair<string, object?>("verb", verb), new KeyValuePair<string, object?>("resource", resource));
    }

    public void Reconciled(TimeSpan latency)
    {
        Interlocked.Increment(ref _reconcileCount);
        _reconciles.Add(1);
        _latency.Record(latency.TotalSeconds);
    }

    public void BecameLeader() => Interlocked.Increment(ref _leaderTransitions);

    public void Dispose() => _meter.Dispose();
}
