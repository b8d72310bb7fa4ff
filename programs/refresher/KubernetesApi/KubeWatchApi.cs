using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace RegistryInfra.Refresher.KubernetesApi;

/// <summary>One watch request's parameters (kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).</summary>
/// <param name="ResourceVersion">Where the watch starts: the changes after this version (a list's or the last event's).</param>
/// <param name="TimeoutSeconds">The server ends the watch after this long (client-go's reflector asks for a random 5-10 min).</param>
/// <param name="LabelSelector">Only objects with matching labels; one that stops matching arrives as DELETED, one that starts as ADDED.</param>
/// <param name="FieldSelector">Only objects whose fields match (<c>metadata.name=</c> one object: RBAC then checks the request against <c>resourceNames</c>).</param>
internal sealed record WatchRequest(string ResourceVersion, int TimeoutSeconds, string? LabelSelector = null, string? FieldSelector = null)
{
    /// <summary>How long the client waits for any line (an event or a bookmark) beyond the server's timeout before it gives the connection up.</summary>
    public TimeSpan IdleTimeout => TimeSpan.FromSeconds(TimeoutSeconds) + TimeSpan.FromSeconds(30);
}

/// <summary>A watch ended because its resourceVersion is too old (410 Gone): the client must list again and watch from the list's version.</summary>
internal sealed class WatchExpiredException(string message) : Exception(message);

/// <summary>The calls of the <c>watch</c> command: paginated lists, watches, and the Lease of the leader election.</summary>
internal interface IKubeWatchApi
{
    /// <summary>One chunk of service accounts, of one namespace or (<paramref name="ns"/> null) of the whole cluster.</summary>
    Task<V1ServiceAccountList> ListServiceAccountPageAsync(string? ns, string? labelSelector, int limit, string? continueToken, CancellationToken ct);

    IAsyncEnumerable<WatchEvent<V1Namespace>> WatchNamespacesAsync(WatchRequest request, CancellationToken ct);

    /// <summary>Service-account events of one namespace or (<paramref name="ns"/> null) of the whole cluster.</summary>
    IAsyncEnumerable<WatchEvent<V1ServiceAccount>> WatchServiceAccountsAsync(string? ns, WatchRequest request, CancellationToken ct);

    /// <summary>
    /// The Secrets of one namespace with this name (<c>fieldSelector=metadata.name=</c>): a list of at most one, which a Role
    /// granting list by <c>resourceNames</c> allows (kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources).
    /// </summary>
    Task<V1SecretList> ListSecretByNameAsync(string ns, string name, CancellationToken ct);

    /// <summary>Events of the one Secret of this name in <paramref name="ns"/> (the request's field selector is set to it).</summary>
    IAsyncEnumerable<WatchEvent<V1Secret>> WatchSecretByNameAsync(string ns, string name, WatchRequest request, CancellationToken ct);

    /// <summary>The Lease, or null when there is none (404).</summary>
    Task<V1Lease?> ReadLeaseAsync(string ns, string name, CancellationToken ct);

    /// <summary>Creates the Lease; 409 (AlreadyExists) when another replica was first.</summary>
    Task<V1Lease> CreateLeaseAsync(V1Lease lease, CancellationToken ct);

    /// <summary>Replaces the Lease; its <c>metadata.resourceVersion</c> is the precondition (409 Conflict when another replica wrote since).</summary>
    Task<V1Lease> ReplaceLeaseAsync(V1Lease lease, CancellationToken ct);
}

internal sealed partial class KubeApi : IKubeWatchApi
{
    private static string LeasePath(string ns, string? name = null) =>
        $"/apis/coordination.k8s.io/v1/namespaces/{Uri.EscapeDataString(ns)}/leases" + (name is null ? "" : "/" + Uri.EscapeDataString(name));

    private static string ServiceAccountCollection(string? ns) =>
        ns is null ? "/api/v1/serviceaccounts" : $"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/serviceaccounts";

    public Task<V1ServiceAccountList> ListServiceAccountPageAsync(string? ns, string? labelSelector, int limit, string? continueToken, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, ListQuery(ServiceAccountCollection(ns), labelSelector, limit, continueToken), null, Json, KubeWatchJson.Default.V1ServiceAccountList, ct)!;

    public IAsyncEnumerable<WatchEvent<V1Namespace>> WatchNamespacesAsync(WatchRequest request, CancellationToken ct) =>
        WatchAsync("/api/v1/namespaces", request, KubeWatchJson.Default.V1Namespace, ct);

    public IAsyncEnumerable<WatchEvent<V1ServiceAccount>> WatchServiceAccountsAsync(string? ns, WatchRequest request, CancellationToken ct) =>
        WatchAsync(ServiceAccountCollection(ns), request, KubeWatchJson.Default.V1ServiceAccount, ct);

    private static string ByName(string name) => "metadata.name=" + name;

    public Task<V1SecretList> ListSecretByNameAsync(string ns, string name, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/secrets?fieldSelector={Uri.EscapeDataString(ByName(name))}", null, Json,
            KubeWatchJson.Default.V1SecretList, ct)!;

    public IAsyncEnumerable<WatchEvent<V1Secret>> WatchSecretByNameAsync(string ns, string name, WatchRequest request, CancellationToken ct) =>
        WatchAsync($"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/secrets", request with { FieldSelector = ByName(name) }, KubeWatchJson.Default.V1Secret, ct);

    public async Task<V1Lease?> ReadLeaseAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            return await SendAsync(HttpMethod.Get, LeasePath(ns, name), null, Json, KubeWatchJson.Default.V1Lease, ct).ConfigureAwait(false);
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public Task<V1Lease> CreateLeaseAsync(V1Lease lease, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, LeasePath(lease.Metadata.NamespaceProperty!), Body(lease, KubeWatchJson.Default.V1Lease), Json, KubeWatchJson.Default.V1Lease, ct)!;

    public Task<V1Lease> ReplaceLeaseAsync(V1Lease lease, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, LeasePath(lease.Metadata.NamespaceProperty!, lease.Metadata.Name), Body(lease, KubeWatchJson.Default.V1Lease), Json,
            KubeWatchJson.Default.V1Lease, ct)!;

    /// <summary>
    /// One watch: <c>GET collection?watch=1&amp;allowWatchBookmarks=true&amp;resourceVersion=&amp;timeoutSeconds=</c>, read as
    /// newline-delimited JSON events as they arrive. The sequence ends when the server closes the stream (its timeout); a
    /// 410 Gone, answered as an HTTP status or as an ERROR event whose Status has code 410, is a <see cref="WatchExpiredException"/>;
    /// another ERROR event is a <see cref="KubeApiException"/> with its code; no line at all for <see cref="WatchRequest.IdleTimeout"/>
    /// (a connection that died without a reset) is a <see cref="TimeoutException"/>.
    /// </summary>
    private async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(string collection, WatchRequest watch, JsonTypeInfo<T> type, [EnumeratorCancellation] CancellationToken ct)
        where T : class
    {
        var path = new StringBuilder(collection).Append("?watch=1&allowWatchBookmarks=true&resourceVersion=").Append(Uri.EscapeDataString(watch.ResourceVersion))
            .Append("&timeoutSeconds=").Append(watch.TimeoutSeconds.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(watch.LabelSelector))
        {
            path.Append("&labelSelector=").Append(Uri.EscapeDataString(watch.LabelSelector));
        }
        if (!string.IsNullOrEmpty(watch.FieldSelector))
        {
            path.Append("&fieldSelector=").Append(Uri.EscapeDataString(watch.FieldSelector));
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, path.ToString()) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        request.Headers.TryAddWithoutValidation("Accept", Json);
        await _credentials.AuthenticateAsync(request, ct).ConfigureAwait(false);
        // HttpClient's timeout covers the request up to the answer's headers; the stream then lives as long as the server keeps it.
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Gone)
        {
            throw new WatchExpiredException($"WATCH {collection}: HTTP 410 (resourceVersion {watch.ResourceVersion} too old)");
        }
        if (!response.IsSuccessStatusCode)
        {
            throw new KubeApiException(response.StatusCode, "WATCH", collection);
        }
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024);
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            while (true)
            {
                idle.CancelAfter(watch.IdleTimeout);
                var line = await ReadLineAsync(reader, watch, collection, idle.Token, ct).ConfigureAwait(false);
                if (line is null)
                {
                    yield break;
                }
                if (line.Length == 0)
                {
                    continue;
                }
                if (line.Length > _maxBytes)
                {
                    throw new HttpRequestException($"a watch event is larger than {_maxBytes} bytes", null, HttpStatusCode.InsufficientStorage);
                }
                yield return ParseEvent(line, type, collection);
            }
        }
    }

#pragma warning disable CA1068 // two tokens: the idle one cancels the read, the caller's tells a stop from a timeout
    private static async Task<string?> ReadLineAsync(StreamReader reader, WatchRequest watch, string collection, CancellationToken idle, CancellationToken ct)
#pragma warning restore CA1068
    {
        try
        {
            return await reader.ReadLineAsync(idle).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"WATCH {collection}: nothing received for {watch.IdleTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
    }

    internal static WatchEvent<T> ParseEvent<T>(string line, JsonTypeInfo<T> type, string collection)
        where T : class
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var kind = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (!root.TryGetProperty("object", out var obj) || obj.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("a watch event without an object");
        }
        switch (kind)
        {
            case "ADDED":
                return new WatchEvent<T>(WatchEventType.Added, obj.Deserialize(type), null);
            case "MODIFIED":
                return new WatchEvent<T>(WatchEventType.Modified, obj.Deserialize(type), null);
            case "DELETED":
                return new WatchEvent<T>(WatchEventType.Deleted, obj.Deserialize(type), null);
            case "BOOKMARK":
                return new WatchEvent<T>(WatchEventType.Bookmark, obj.Deserialize(type), null);
            case "ERROR":
                var status = obj.Deserialize(KubeWatchJson.Default.V1Status) ?? new V1Status();
                if (status.Code == 410)
                {
                    throw new WatchExpiredException($"WATCH {collection}: ERROR event 410 {status.Reason} (resourceVersion too old)");
                }
                throw new KubeApiException((HttpStatusCode)(status.Code ?? 500), "WATCH", collection);
            default:
                throw new JsonException($"a watch event of unknown type '{kind}'");
        }
    }
}
