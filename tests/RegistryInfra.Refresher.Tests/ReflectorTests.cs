using Microsoft.Extensions.Logging.Abstractions;
using RegistryInfra.Refresher.KubernetesApi;
using RegistryInfra.Refresher.Watch;
using RegistryInfra.Testing.Kubernetes;
using static RegistryInfra.Refresher.Tests.FakeKubeWatchTests;

namespace RegistryInfra.Refresher.Tests;

/// <summary>The watch command's list+watch of namespaces against the fake API: relist on 410, bookmarks, reconnects with backoff.</summary>
public sealed class ReflectorTests : IAsyncDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly List<ObjectChange<V1Namespace>> _changes = [];
    private readonly WatchMetrics _metrics = new(new RefresherTestBed.TestMeterFactory());
    private FakeKubeApi? _api;
    private KubeApi? _client;

    private async Task<Reflector<V1Namespace>> StartAsync(FakeKubeFaults? faults = null, int watchTimeoutSeconds = 60)
    {
        _api = await FakeKubeApi.StartAsync(faults, Ct);
        _client = new KubeApi(new KubeEndpoint { Server = new Uri(_api.Host), Credentials = new KubeCredentials { Token = "t" } }, TimeSpan.FromSeconds(10));
        var client = _client;
        return new Reflector<V1Namespace>("namespaces",
            async (next, ct) =>
            {
                var page = await client.ListNamespacesAsync(null, 2, next, ct);
                return new ListPage<V1Namespace>(page.Items, page.Metadata?.ContinueProperty, page.Metadata?.ResourceVersion);
            },
            client.WatchNamespacesAsync, n => n.Metadata!.Name!, n => n.Metadata?.ResourceVersion, n => n,
            c => { lock (_changes) { _changes.Add(c); } }, _metrics, TimeProvider.System, NullLogger.Instance)
        {
            InitialBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(800),
            WatchTimeoutSeconds = () => watchTimeoutSeconds,
        };
    }

    private List<string> Seen()
    {
        lock (_changes)
        {
            return [.. _changes.Select(c => $"{c.Type} {(c.New ?? c.Old)!.Metadata!.Name}")];
        }
    }

    [Fact]
    public async Task The_first_list_is_paginated_and_reports_nothing_then_the_watch_reports_each_change()
    {
        var reflector = await StartAsync();
        for (var i = 0; i < 5; i++)
        {
            _api!.AddNamespace($"ns-{i}");
        }
        await reflector.ListAsync(report: false, Ct);
        Assert.Equal(5, reflector.Store.Count);
        Assert.Equal(3, _api!.RequestCount("LIST", "namespaces"));
        Assert.Empty(Seen());

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watching = reflector.WatchAsync(stop.Token);
        await WaitForAsync(() => _api.OpenWatches == 1);
        _api.AddNamespace("new");
        _api.Delete("namespaces", "", "ns-0");
        await WaitForAsync(() => Seen().Count == 2);
        await stop.CancelAsync();
        await watching;

        Assert.Equal(["Added new", "Deleted ns-0"], Seen());
        Assert.Equal(["new", "ns-1", "ns-2", "ns-3", "ns-4"], reflector.Store.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task After_410_Gone_it_lists_again_and_reports_what_changed_meanwhile_so_nothing_is_missed(bool asHttpStatus)
    {
        var reflector = await StartAsync(new FakeKubeFaults { WatchExpiredAsHttpStatus = asHttpStatus });
        _api!.AddNamespace("kept");
        _api.AddNamespace("relabelled");
        _api.AddNamespace("deleted");
        await reflector.ListAsync(report: false, Ct);
        // While no watch is open, the history the reflector would resume from is compacted away.
        _api.AddNamespace("created");
        _api.SetLabels("namespaces", "", "relabelled", new Dictionary<string, string> { ["team"] = "a" });
        _api.Delete("namespaces", "", "deleted");
        _api.Compact();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watching = reflector.WatchAsync(stop.Token);
        await WaitForAsync(() => Seen().Count == 3 && _api.OpenWatches == 1);
        _api.AddNamespace("after");
        await WaitForAsync(() => Seen().Count == 4);
        await stop.CancelAsync();
        await watching;

        Assert.Equal(["Added after", "Added created", "Deleted deleted", "Modified relabelled"], Seen().Order(StringComparer.Ordinal));
        Assert.Equal(1, _metrics.Relists);
        Assert.Equal(0, _metrics.Reconnects);
    }

    [Fact]
    public async Task Bookmarks_advance_the_resourceVersion_so_a_reconnect_does_not_replay()
    {
        var reflector = await StartAsync();
        _api!.BookmarkInterval = TimeSpan.FromMilliseconds(100);
        _api.AddNamespace("ns");
        await reflector.ListAsync(report: false, Ct);
        var listed = reflector.ResourceVersion;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watching = reflector.WatchAsync(stop.Token);
        await WaitForAsync(() => _api.OpenWatches == 1);
        // Changes the namespace watch is not shown (secrets) move the server's version on; only a bookmark tells the reflector.
        for (var i = 0; i < 5; i++)
        {
            _api.AddSecret("ns", $"s-{i}", "Opaque", new Dictionary<string, byte[]>());
        }
        var target = _api.CurrentResourceVersion;
        await WaitForAsync(() => reflector.ResourceVersion == target);
        Assert.NotEqual(listed, reflector.ResourceVersion);
        Assert.True(_metrics.Bookmarks >= 1);
        // Compacting up to now: a watch resuming from the list's version would be 410; from the bookmark's it is not.
        _api.Compact();
        _api.DropWatches();
        await WaitForAsync(() => _metrics.Reconnects == 1 && _api.WatchRequests == 2 && _api.OpenWatches == 1);
        _api.AddNamespace("later");
        await WaitForAsync(() => Seen().Count == 1);
        await stop.CancelAsync();
        await watching;

        Assert.Equal(["Added later"], Seen());
        Assert.Equal(0, _metrics.Relists);
    }

    [Fact]
    public async Task Dropped_connections_reconnect_with_growing_jittered_backoff_up_to_the_cap()
    {
        var reflector = await StartAsync();
        await reflector.ListAsync(report: false, Ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watching = reflector.WatchAsync(stop.Token);

        for (var drop = 1; drop <= 5; drop++)
        {
            await WaitForAsync(() => _api!.WatchRequests == drop && _api.OpenWatches == 1);
            _api!.DropWatches();
            await WaitForAsync(() => reflector.Backoffs.Count == drop);
        }
        await WaitForAsync(() => _api!.WatchRequests == 6 && _api.OpenWatches == 1);
        _api!.AddNamespace("after-drops");
        await WaitForAsync(() => Seen().Count == 1);
        await stop.CancelAsync();
        await watching;

        // Ceilings 100, 200, 400, 800 (the cap), 800 ms; each delay drawn in [ceiling/2, ceiling].
        double[] ceilings = [100, 200, 400, 800, 800];
        for (var i = 0; i < 5; i++)
        {
            Assert.InRange(reflector.Backoffs[i].TotalMilliseconds, ceilings[i] / 2, ceilings[i]);
        }
        Assert.Equal(5, _metrics.Reconnects);
        Assert.Equal(6, _api.RequestCount("WATCH", "namespaces"));
        Assert.Equal(["Added after-drops"], Seen());
    }

    [Fact]
    public async Task A_watch_the_server_ends_at_its_timeout_is_opened_again_at_once_without_backoff()
    {
        var reflector = await StartAsync(watchTimeoutSeconds: 1);
        await reflector.ListAsync(report: false, Ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watching = reflector.WatchAsync(stop.Token);
        await WaitForAsync(() => _api!.RequestCount("WATCH", "namespaces") >= 3, TimeSpan.FromSeconds(15));
        _api!.AddNamespace("seen");
        await WaitForAsync(() => Seen().Count == 1);
        await stop.CancelAsync();
        await watching;

        Assert.Empty(reflector.Backoffs);
        Assert.Equal(0, _metrics.Reconnects);
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        _metrics.Dispose();
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
    }
}
