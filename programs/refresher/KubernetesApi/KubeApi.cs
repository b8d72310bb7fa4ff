using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace RegistryInfra.Refresher.KubernetesApi;

/// <summary>An answer of the API server that is not a success; only the status code is kept (a failed write's body can echo the object sent).</summary>
internal sealed class KubeApiException(HttpStatusCode statusCode, string verb, string path)
    : Exception($"{verb} {path}: HTTP {((int)statusCode).ToString(CultureInfo.InvariantCulture)}")
{
    public HttpStatusCode StatusCode { get; } = statusCode;
}

/// <summary>The calls the refresher makes to the Kubernetes API (a seam for tests).</summary>
internal interface IKubeApi
{
    Task<V1Secret> ReadSecretAsync(string ns, string name, CancellationToken ct);

    /// <summary>The Secret's metadata alone (<c>as=PartialObjectMetadata</c>): its data never reaches the refresher.</summary>
    Task<V1ObjectMeta> ReadSecretMetadataAsync(string ns, string name, CancellationToken ct);

    Task CreateSecretAsync(V1Secret secret, string ns, CancellationToken ct);

    /// <summary>A replace (PUT); the body's <c>metadata.resourceVersion</c> is the precondition.</summary>
    Task ReplaceSecretAsync(V1Secret secret, string ns, string name, CancellationToken ct);

    Task<V1ServiceAccount> ReadServiceAccountAsync(string ns, string name, CancellationToken ct);

    /// <summary>A JSON merge patch (RFC 7386) of a service account.</summary>
    Task PatchServiceAccountAsync(string ns, string name, string mergePatch, CancellationToken ct);

    Task<V1ObjectMeta> ReadConfigMapMetadataAsync(string ns, string name, CancellationToken ct);

    Task<V1ConfigMap> ReadConfigMapAsync(string ns, string name, CancellationToken ct);

    Task CreateConfigMapAsync(V1ConfigMap map, string ns, CancellationToken ct);

    Task ReplaceConfigMapAsync(V1ConfigMap map, string ns, string name, CancellationToken ct);

    /// <summary>One chunk of namespaces (<c>limit</c>, <c>continue</c>), optionally by label selector.</summary>
    Task<V1NamespaceList> ListNamespacesAsync(string? labelSelector, int limit, string? continueToken, CancellationToken ct);

    Task CreateEventAsync(CoreV1Event ev, string ns, CancellationToken ct);

    Task<CoreV1Event> ReadEventAsync(string ns, string name, CancellationToken ct);

    /// <summary>A JSON merge patch (RFC 7386) of an Event; a <c>metadata.resourceVersion</c> in it is the precondition.</summary>
    Task PatchEventAsync(string ns, string name, string mergePatch, CancellationToken ct);

    /// <summary>One chunk of the service accounts of a namespace, optionally by label selector.</summary>
    Task<V1ServiceAccountList> ListServiceAccountsAsync(string ns, string? labelSelector, int limit, string? continueToken, CancellationToken ct);

    /// <summary>One chunk of the service accounts of every namespace (<c>/api/v1/serviceaccounts</c>).</summary>
    Task<V1ServiceAccountList> ListAllServiceAccountsAsync(int limit, string? continueToken, CancellationToken ct);

    /// <summary>One chunk of the metadata of the Secrets of every namespace (<c>/api/v1/secrets</c>, <c>as=PartialObjectMetadataList</c>) by label selector.</summary>
    Task<PartialObjectMetadataList> ListSecretMetadataAsync(string? labelSelector, int limit, string? continueToken, CancellationToken ct);

    /// <summary>Deletes a Secret only if its uid and resourceVersion are still these (DeleteOptions preconditions; 409 otherwise).</summary>
    Task DeleteSecretAsync(string ns, string name, string uid, string resourceVersion, CancellationToken ct);

    /// <summary>A ClusterRole's metadata (<c>rbac.authorization.k8s.io/v1</c>), for the uid of an ownerReference.</summary>
    Task<V1ObjectMeta> ReadClusterRoleMetadataAsync(string name, CancellationToken ct);
}

/// <summary>
/// A small client for the refresher's few core/v1 calls: HTTP/2 over TLS when the server offers it (one connection,
/// many streams, as client-go), HTTP/1.1 otherwise; every answer read asynchronously and bounded before it is parsed
/// with source-generated JSON, so no thread waits on the network and nothing is reflected over.
/// </summary>
internal sealed partial class KubeApi : IKubeApi, IDisposable
{
    /// <summary>Far above any answer of the refresher's (a 500-namespace page is a few hundred KB).</summary>
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    private const string Json = "application/json";
    private const string MetadataOnly = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
    private const string MetadataListOnly = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

    private readonly HttpClient _http;
    private readonly KubeCredentials _credentials;
    private readonly long _maxBytes;

    public KubeApi(KubeEndpoint endpoint, TimeSpan requestTimeout, long maxBytes = DefaultMaxBytes)
    {
        _credentials = endpoint.Credentials;
        _maxBytes = maxBytes;
        _http = new HttpClient(endpoint.CreateHandler(), disposeHandler: true)
        {
            BaseAddress = endpoint.Server,
            Timeout = requestTimeout,
        };
    }

    public void Dispose()
    {
        _http.Dispose();
        _credentials.Dispose();
    }

    private static string Path(string resource, string ns, string? name = null) =>
        $"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/{resource}" + (name is null ? "" : "/" + Uri.EscapeDataString(name));

    public Task<V1Secret> ReadSecretAsync(string ns, string name, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, Path("secrets", ns, name), null, Json, KubeJson.Default.V1Secret, ct)!;

    public async Task<V1ObjectMeta> ReadSecretMetadataAsync(string ns, string name, CancellationToken ct) =>
        (await SendAsync(HttpMethod.Get, Path("secrets", ns, name), null, MetadataOnly, KubeJson.Default.PartialObjectMetadata, ct).ConfigureAwait(false))!.Metadata ?? new();

    public Task CreateSecretAsync(V1Secret secret, string ns, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, Path("secrets", ns), Body(secret, KubeJson.Default.V1Secret), Json, (JsonTypeInfo<V1Secret>?)null, ct);

    public Task ReplaceSecretAsync(V1Secret secret, string ns, string name, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, Path("secrets", ns, name), Body(secret, KubeJson.Default.V1Secret), Json, (JsonTypeInfo<V1Secret>?)null, ct);

    public Task<V1ServiceAccount> ReadServiceAccountAsync(string ns, string name, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, Path("serviceaccounts", ns, name), null, Json, KubeJson.Default.V1ServiceAccount, ct)!;

    public Task PatchServiceAccountAsync(string ns, string name, string mergePatch, CancellationToken ct) =>
        SendAsync(HttpMethod.Patch, Path("serviceaccounts", ns, name), new StringContent(mergePatch, Encoding.UTF8, "application/merge-patch+json"), Json,
            (JsonTypeInfo<V1ServiceAccount>?)null, ct);

    public async Task<V1ObjectMeta> ReadConfigMapMetadataAsync(string ns, string name, CancellationToken ct) =>
        (await SendAsync(HttpMethod.Get, Path("configmaps", ns, name), null, MetadataOnly, KubeJson.Default.PartialObjectMetadata, ct).ConfigureAwait(false))!.Metadata ?? new();

    public Task<V1ConfigMap> ReadConfigMapAsync(string ns, string name, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, Path("configmaps", ns, name), null, Json, KubeJson.Default.V1ConfigMap, ct)!;

    public Task CreateConfigMapAsync(V1ConfigMap map, string ns, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, Path("configmaps", ns), Body(map, KubeJson.Default.V1ConfigMap), Json, (JsonTypeInfo<V1ConfigMap>?)null, ct);

    public Task ReplaceConfigMapAsync(V1ConfigMap map, string ns, string name, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, Path("configmaps", ns, name), Body(map, KubeJson.Default.V1ConfigMap), Json, (JsonTypeInfo<V1ConfigMap>?)null, ct);

    public Task<V1NamespaceList> ListNamespacesAsync(string? labelSelector, int limit, string? continueToken, CancellationToken ct)
    {
        var query = new StringBuilder("/api/v1/namespaces?limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(labelSelector))
        {
            query.Append("&labelSelector=").Append(Uri.EscapeDataString(labelSelector));
        }
        if (!string.IsNullOrEmpty(continueToken))
        {
            query.Append("&continue=").Append(Uri.EscapeDataString(continueToken));
        }
        return SendAsync(HttpMethod.Get, query.ToString(), null, Json, KubeJson.Default.V1NamespaceList, ct)!;
    }

    public Task CreateEventAsync(CoreV1Event ev, string ns, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, Path("events", ns), Body(ev, KubeJson.Default.CoreV1Event), Json, (JsonTypeInfo<CoreV1Event>?)null, ct);

    public Task<CoreV1Event> ReadEventAsync(string ns, string name, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, Path("events", ns, name), null, Json, KubeJson.Default.CoreV1Event, ct)!;

    public Task PatchEventAsync(string ns, string name, string mergePatch, CancellationToken ct) =>
        SendAsync(HttpMethod.Patch, Path("events", ns, name), new StringContent(mergePatch, Encoding.UTF8, "application/merge-patch+json"), Json,
            (JsonTypeInfo<CoreV1Event>?)null, ct);

    public Task<V1ServiceAccountList> ListServiceAccountsAsync(string ns, string? labelSelector, int limit, string? continueToken, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, ListQuery(Path("serviceaccounts", ns), labelSelector, limit, continueToken), null, Json, KubeJson.Default.V1ServiceAccountList, ct)!;

    public Task<V1ServiceAccountList> ListAllServiceAccountsAsync(int limit, string? continueToken, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, ListQuery("/api/v1/serviceaccounts", null, limit, continueToken), null, Json, KubeJson.Default.V1ServiceAccountList, ct)!;

    public Task<PartialObjectMetadataList> ListSecretMetadataAsync(string? labelSelector, int limit, string? continueToken, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, ListQuery("/api/v1/secrets", labelSelector, limit, continueToken), null, MetadataListOnly, KubeJson.Default.PartialObjectMetadataList, ct)!;

    public Task DeleteSecretAsync(string ns, string name, string uid, string resourceVersion, CancellationToken ct) =>
        SendAsync(HttpMethod.Delete, Path("secrets", ns, name),
            Body(new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = uid, ResourceVersion = resourceVersion } }, KubeJson.Default.V1DeleteOptions),
            Json, (JsonTypeInfo<V1Secret>?)null, ct);

    public async Task<V1ObjectMeta> ReadClusterRoleMetadataAsync(string name, CancellationToken ct) =>
        (await SendAsync(HttpMethod.Get, "/apis/rbac.authorization.k8s.io/v1/clusterroles/" + Uri.EscapeDataString(name), null, MetadataOnly,
            KubeJson.Default.PartialObjectMetadata, ct).ConfigureAwait(false))!.Metadata ?? new();

    private static string ListQuery(string path, string? labelSelector, int limit, string? continueToken)
    {
        var query = new StringBuilder(path).Append("?limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(labelSelector))
        {
            query.Append("&labelSelector=").Append(Uri.EscapeDataString(labelSelector));
        }
        if (!string.IsNullOrEmpty(continueToken))
        {
            query.Append("&continue=").Append(Uri.EscapeDataString(continueToken));
        }
        return query.ToString();
    }

    private static ByteArrayContent Body<T>(T value, JsonTypeInfo<T> type)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, type));
        content.Headers.ContentType = new MediaTypeHeaderValue(Json);
        return content;
    }

    /// <summary>Sends one request; parses the answer as <typeparamref name="T"/> when <paramref name="type"/> is given.</summary>
    private async Task<T?> SendAsync<T>(HttpMethod method, string path, HttpContent? content, string accept, JsonTypeInfo<T>? type, CancellationToken ct)
        where T : class
    {
        // HttpClient's DefaultRequestVersion applies to its own helpers only: a request made here says it itself.
        using var request = new HttpRequestMessage(method, path) { Content = content, Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        await _credentials.AuthenticateAsync(request, ct).ConfigureAwait(false);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new KubeApiException(response.StatusCode, method.Method, path.Split('?')[0]);
        }
        if (type is null)
        {
            return null;
        }
        if (response.Content.Headers.ContentLength > _maxBytes)
        {
            throw new HttpRequestException($"the API server's answer is larger than {_maxBytes} bytes", null, HttpStatusCode.InsufficientStorage);
        }
        // Parsed as it arrives (asynchronously: no thread waits on the network, and no copy of the whole body is kept),
        // bounded: a longer body fails this request only. A body cut short is a JsonException, as malformed JSON is.
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var bounded = new BoundedStream(stream, _maxBytes);
            await using (bounded.ConfigureAwait(false))
            {
                return await JsonSerializer.DeserializeAsync(bounded, type, ct).ConfigureAwait(false)
                    ?? throw new JsonException("the API server answered null");
            }
        }
    }
}

/// <summary>Reads at most a given number of bytes from a stream; one more is an error, not a silent cut.</summary>
internal sealed class BoundedStream(Stream inner, long maxBytes) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int n)
    {
        _read += n;
        return _read > maxBytes
            ? throw new HttpRequestException($"the API server's answer is larger than {maxBytes} bytes", null, HttpStatusCode.InsufficientStorage)
            : n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
