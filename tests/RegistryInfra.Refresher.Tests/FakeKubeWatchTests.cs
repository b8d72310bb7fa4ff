using System.Net;
using System.Text.Json.Nodes;
using RegistryInfra.Refresher.KubernetesApi;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// The fake API's watch and Lease semantics (FakeKubeApi.Watch.cs cites the documentation and source of each), read through
/// raw HTTP and through the refresher's own watch client.
/// </summary>
public sealed class FakeKubeWatchTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static KubeApi Client(FakeKubeApi api) =>
        new(new KubeEndpoint { Server = new Uri(api.Host), Credentials = new KubeCredentials { Token = "not-a-real-token" } }, TimeSpan.FromSeconds(10));

    /// <summary>Reads events until <paramref name="count"/> arrived (or the stream ended).</summary>
    private static async Task<List<WatchEvent<T>>> TakeAsync<T>(IAsyncEnumerable<WatchEvent<T>> events, int count, TimeSpan? within = null)
        where T : class
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(within ?? TimeSpan.FromSeconds(10));
        var seen = new List<WatchEvent<T>>();
        await foreach (var e in events.WithCancellation(timeout.Token))
        {
            seen.Add(e);
            if (seen.Count == count)
            {
                break;
            }
        }
        return seen;
    }

    [Fact]
    public async Task A_watch_from_a_lists_resourceVersion_delivers_exactly_the_changes_after_it()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        using var client = Client(api);
        api.AddNamespace("before");
        var list = await client.ListNamespacesAsync(null, 500, null, Ct);
        var events = client.WatchNamespacesAsync(new WatchRequest(list.Metadata!.ResourceVersion!, 30), Ct);
        var reading = TakeAsync(events, 3);
        await WaitForAsync(() => api.OpenWatches == 1);

        api.AddNamespace("after", new Dictionary<string, string> { ["team"] = "a" });
        api.SetLabels("namespaces", "", "after", new Dictionary<string, string> { ["team"] = "b" });
        api.Delete("namespaces", "", "after");

        var seen = await reading;
        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], seen.Select(e => e.Type));
        Assert.All(seen, e => Assert.Equal("after", e.Object!.Metadata!.Name));
        Assert.Equal("b", seen[1].Object!.Metadata!.Labels!["team"]);
        var versions = seen.Select(e => long.Parse(e.Object!.Metadata!.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(versions.Order(), versions);
        Assert.True(versions[0] > long.Parse(list.Metadata.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task With_a_label_selector_an_object_that_starts_matching_is_ADDED_and_one_that_stops_is_DELETED()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        using var client = Client(api);
        api.AddNamespace("ns", new Dictionary<string, string> { ["team"] = "b" });
        var events = client.WatchNamespacesAsync(new WatchRequest(api.CurrentResourceVersion, 30, "team=a"), Ct);
        var reading = TakeAsync(events, 3);
        await WaitForAsync(() => api.OpenWatches == 1);

        api.SetLabels("namespaces", "", "ns", new Dictionary<string, string> { ["team"] = "a" });
        api.SetLabels("namespaces", "", "ns", new Dictionary<string, string> { ["team"] = "a", ["tier"] = "x" });
        api.SetLabels("namespaces", "", "ns", new Dictionary<string, string> { ["team"] = "c" });

        var seen = await reading;
        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], seen.Select(e => e.Type));
        // The DELETED event carries the object as it was when it last matched, with the event's own resourceVersion.
        Assert.Equal("a", seen[2].Object!.Metadata!.Labels!["team"]);
        Assert.Equal(api.GetNamespace("ns")!["metadata"]!["resourceVersion"]!.GetValue<string>(), seen[2].Object!.Metadata!.ResourceVersion);
    }

    [Fact]
    public async Task ResourceVersion_0_begins_with_synthetic_ADDED_events_for_what_exists()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        using var client = Client(api);
        api.AddNamespace("a");
        api.AddNamespace("b");
        api.AddServiceAccount("a", "default");
        api.AddServiceAccount("b", "default");
        api.AddServiceAccount("b", "builder");

        var all = await TakeAsync(client.WatchServiceAccountsAsync(null, new WatchRequest("0", 30), Ct), 3);
        var inB = await TakeAsync(client.WatchServiceAccountsAsync("b", new WatchRequest("0", 30), Ct), 2);

        Assert.Equal(["a/default", "b/builder", "b/default"], all.Select(e => $"{e.Object!.Metadata!.NamespaceProperty}/{e.Object.Metadata.Name}"));
        Assert.All(all, e => Assert.Equal(WatchEventType.Added, e.Type));
        Assert.Equal(["builder", "default"], inB.Select(e => e.Object!.Metadata!.Name));
    }

    [Fact]
    public async Task Bookmarks_carry_only_the_resourceVersion_reached()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        api.BookmarkInterval = TimeSpan.FromMilliseconds(200);
        api.AddNamespace("ns");
        var from = api.CurrentResourceVersion;
        api.AddSecret("ns", "other", "Opaque", new Dictionary<string, byte[]>());
        using var http = new HttpClient { BaseAddress = new Uri(api.Host) };
        using var response = await http.GetAsync($"/api/v1/namespaces?watch=true&allowWatchBookmarks=true&resourceVersion={from}", HttpCompletionOption.ResponseHeadersRead, Ct);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));

        var line = JsonNode.Parse((await reader.ReadLineAsync(Ct))!)!.AsObject();

        Assert.Equal("BOOKMARK", line["type"]!.GetValue<string>());
        var obj = line["object"]!.AsObject();
        Assert.Equal("Namespace", obj["kind"]!.GetValue<string>());
        Assert.Equal(["resourceVersion"], obj["metadata"]!.AsObject().Select(kv => kv.Key));
        // The secret's change is past the namespace watch's start: the bookmark says the watcher has seen up to it.
        Assert.Equal(api.CurrentResourceVersion, obj["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_allowWatchBookmarks_no_bookmark_is_sent()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        api.BookmarkInterval = TimeSpan.FromMilliseconds(50);
        using var http = new HttpClient { BaseAddress = new Uri(api.Host) };
        using var response = await http.GetAsync($"/api/v1/namespaces?watch=1&resourceVersion={api.CurrentResourceVersion}&timeoutSeconds=1", Ct);

        Assert.Equal("", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task TimeoutSeconds_ends_the_stream_normally()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        using var client = Client(api);
        var started = DateTime.UtcNow;

        var seen = await TakeAsync(client.WatchNamespacesAsync(new WatchRequest(api.CurrentResourceVersion, 1), Ct), 1);

        Assert.Empty(seen);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_quiet_watch_answers_its_headers_at_once_over_HTTP_1_1_and_HTTP_2(bool tls)
    {
        // The API server flushes a watch's headers before its first event (FakeKubeApi.Watch.cs cites watch.go): a client whose
        // request timeout covers the wait for the headers (the refresher's: 30 s) must not see a quiet watch time out. Here no
        // event and no bookmark (the next in 10 minutes) comes, and the headers must arrive well within the 5 s timeout.
        await using var api = await FakeKubeApi.StartAsync(null, tls, Ct);
        api.BookmarkInterval = TimeSpan.FromMinutes(10);
        using var handler = new HttpClientHandler();
        if (api.CertificateAuthorityPem is { } pem)
        {
            using var authority = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(pem);
            var thumbprint = authority.Thumbprint;
            handler.ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.Thumbprint == thumbprint;
        }
        using var http = new HttpClient(handler) { BaseAddress = new Uri(api.Host), Timeout = TimeSpan.FromSeconds(5) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion={api.CurrentResourceVersion}&timeoutSeconds=300")
        {
            Version = tls ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(tls ? HttpVersion.Version20 : HttpVersion.Version11, response.Version);
        await WaitForAsync(() => api.OpenWatches == 1);
    }

    [Fact]
    public async Task A_resourceVersion_older_than_the_last_compaction_is_410_Gone_as_an_ERROR_event_or_an_HTTP_status()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        using var client = Client(api);
        api.AddNamespace("ns");
        var old = api.CurrentResourceVersion;
        api.AddNamespace("later");
        api.Compact();

        using var http = new HttpClient { BaseAddress = new Uri(api.Host) };
        var raw = await http.GetStringAsync($"/api/v1/namespaces?watch=1&resourceVersion={old}", Ct);
        var error = JsonNode.Parse(raw.Trim())!.AsObject();
        Assert.Equal("ERROR", error["type"]!.GetValue<string>());
        Assert.Equal(410, error["object"]!["code"]!.GetValue<int>());
        Assert.Equal("Expired", error["object"]!["reason"]!.GetValue<string>());
        await Assert.ThrowsAsync<WatchExpiredException>(() => TakeAsync(client.WatchNamespacesAsync(new WatchRequest(old, 30), Ct), 1));

        api.Faults = new FakeKubeFaults { WatchExpiredAsHttpStatus = true };
        using (var response = await http.GetAsync($"/api/v1/namespaces?watch=1&resourceVersion={old}", Ct))
        {
            Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        }
        await Assert.ThrowsAsync<WatchExpiredException>(() => TakeAsync(client.WatchNamespacesAsync(new WatchRequest(old, 30), Ct), 1));

        // From the current version the watch is fine.
        var current = api.CurrentResourceVersion;
        var reading = TakeAsync(client.WatchNamespacesAsync(new WatchRequest(current, 30), Ct), 1);
        await WaitForAsync(() => api.OpenWatches == 1);
        api.AddNamespace("new");
        Assert.Equal("new", (await reading).Single().Object!.Metadata!.Name);
    }

    [Fact]
    public async Task Secrets_are_watched_per_namespace_and_cluster_wide()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        api.AddNamespace("a");
        api.AddNamespace("b");
        var from = api.CurrentResourceVersion;
        api.AddSecret("a", "one", "Opaque", new Dictionary<string, byte[]>());
        api.AddSecret("b", "two", "Opaque", new Dictionary<string, byte[]>());
        using var http = new HttpClient { BaseAddress = new Uri(api.Host) };

        var inA = await http.GetStringAsync($"/api/v1/namespaces/a/secrets?watch=1&resourceVersion={from}&timeoutSeconds=1", Ct);
        var all = await http.GetStringAsync($"/api/v1/secrets?watch=1&resourceVersion={from}&timeoutSeconds=1", Ct);

        Assert.Equal(["one"], Names(inA));
        Assert.Equal(["one", "two"], Names(all));
        Assert.Equal(2, api.RequestCount("WATCH", "secrets"));
    }

    private static List<string> Names(string stream) =>
        [.. stream.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["object"]!["metadata"]!["name"]!.GetValue<string>())];

    [Fact]
    public async Task A_dropped_connection_ends_the_stream_with_an_error()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        using var client = Client(api);
        var reading = TakeAsync(client.WatchNamespacesAsync(new WatchRequest(api.CurrentResourceVersion, 30), Ct), 1);
        await WaitForAsync(() => api.OpenWatches == 1);

        api.DropWatches();

        var e = await Assert.ThrowsAnyAsync<Exception>(() => reading);
        Assert.True(e is IOException or HttpRequestException, e.ToString());
    }

    [Fact]
    public async Task Leases_are_created_read_and_replaced_with_resourceVersion_preconditions()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        using var client = Client(api);
        api.AddNamespace("refresher");

        Assert.Null(await client.ReadLeaseAsync("refresher", "lock", Ct));
        var created = await client.CreateLeaseAsync(new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "lock", NamespaceProperty = "refresher" },
            Spec = new V1LeaseSpec { HolderIdentity = "a", LeaseDurationSeconds = 15, LeaseTransitions = 0 },
        }, Ct);
        var again = await Assert.ThrowsAsync<KubeApiException>(() => client.CreateLeaseAsync(new V1Lease { Metadata = new V1ObjectMeta { Name = "lock", NamespaceProperty = "refresher" } }, Ct));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        var read = (await client.ReadLeaseAsync("refresher", "lock", Ct))!;
        Assert.Equal(("a", 15, created.Metadata.ResourceVersion), (read.Spec.HolderIdentity, read.Spec.LeaseDurationSeconds, read.Metadata.ResourceVersion));
        Assert.Equal("coordination.k8s.io/v1", api.GetLease("refresher", "lock")!["apiVersion"]!.GetValue<string>());
        read.Spec.HolderIdentity = "b";
        var replaced = await client.ReplaceLeaseAsync(read, Ct);
        Assert.Equal("b", api.LeaseHolder("refresher", "lock"));

        // The same stale version again: another replica wrote since, 409.
        read.Spec.HolderIdentity = "c";
        var stale = await Assert.ThrowsAsync<KubeApiException>(() => client.ReplaceLeaseAsync(read, Ct));
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal("b", api.LeaseHolder("refresher", "lock"));
        Assert.NotEqual(created.Metadata.ResourceVersion, replaced.Metadata.ResourceVersion);
    }

    internal static async Task WaitForAsync(Func<bool> condition, TimeSpan? within = null)
    {
        var until = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not met in time");
            await Task.Delay(20, Ct);
        }
    }
}
