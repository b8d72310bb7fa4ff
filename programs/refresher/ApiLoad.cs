using System.Collections.Concurrent;
using System.Globalization;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher;

/// <summary>The API load of a run: requests in all, by verb and resource, and per namespace ("" for cluster-wide calls).</summary>
internal sealed record ApiLoad(int Total, IReadOnlyDictionary<string, int> ByKind, int Namespaces, int MaxPerNamespace, double MeanPerNamespace)
{
    public static readonly ApiLoad None = new(0, new Dictionary<string, int>(), 0, 0, 0);

    /// <summary>The kinds as one log field: <c>GET secrets=1000, LIST namespaces=2</c>, in name order.</summary>
    public string KindsText => ByKind.Count == 0 ? "none"
        : string.Join(", ", ByKind.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}={k.Value.ToString(CultureInfo.InvariantCulture)}"));
}

/// <summary>
/// Counts every call made through it (each retry too: that is what the API server sees), by verb and resource and by
/// namespace. One counter per namespace and kind: 10,000 namespaces cost a dictionary of ints, not a log of requests.
/// </summary>
internal sealed class CountingKubeApi(IKubeApi inner) : IKubeApi
{
    private readonly ConcurrentDictionary<string, int> _kinds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _namespaces = new(StringComparer.Ordinal);
    private int _total;

    public ApiLoad Load()
    {
        var perNamespace = _namespaces.Where(n => n.Key.Length > 0).Select(n => n.Value).ToList();
        return new ApiLoad(Volatile.Read(ref _total), new Dictionary<string, int>(_kinds, StringComparer.Ordinal), perNamespace.Count,
            perNamespace.Count == 0 ? 0 : perNamespace.Max(), perNamespace.Count == 0 ? 0 : perNamespace.Average());
    }

    /// <summary>Requests made so far in <paramref name="ns"/>.</summary>
    public int In(string ns) => _namespaces.GetValueOrDefault(ns);

    private T Count<T>(string kind, string ns, T call)
    {
        Interlocked.Increment(ref _total);
        _kinds.AddOrUpdate(kind, 1, static (_, n) => n + 1);
        _namespaces.AddOrUpdate(ns, 1, static (_, n) => n + 1);
        return call;
    }

    public Task<V1Secret> ReadSecretAsync(string ns, string name, CancellationToken ct) => Count("GET secrets", ns, inner.ReadSecretAsync(ns, name, ct));

    public Task<V1ObjectMeta> ReadSecretMetadataAsync(string ns, string name, CancellationToken ct) => Count("GET secrets", ns, inner.ReadSecretMetadataAsync(ns, name, ct));

    public Task CreateSecretAsync(V1Secret secret, string ns, CancellationToken ct) => Count("POST secrets", ns, inner.CreateSecretAsync(secret, ns, ct));

    public Task ReplaceSecretAsync(V1Secret secret, string ns, string name, CancellationToken ct) => Count("PUT secrets", ns, inner.ReplaceSecretAsync(secret, ns, name, ct));

    public Task<V1ServiceAccount> ReadServiceAccountAsync(string ns, string name, CancellationToken ct) =>
        Count("GET serviceaccounts", ns, inner.ReadServiceAccountAsync(ns, name, ct));

    public Task PatchServiceAccountAsync(string ns, string name, string mergePatch, CancellationToken ct) =>
        Count("PATCH serviceaccounts", ns, inner.PatchServiceAccountAsync(ns, name, mergePatch, ct));

    public Task<V1ObjectMeta> ReadConfigMapMetadataAsync(string ns, string name, CancellationToken ct) =>
        Count("GET configmaps", ns, inner.ReadConfigMapMetadataAsync(ns, name, ct));

    public Task<V1ConfigMap> ReadConfigMapAsync(string ns, string name, CancellationToken ct) => Count("GET configmaps", ns, inner.ReadConfigMapAsync(ns, name, ct));

    public Task CreateConfigMapAsync(V1ConfigMap map, string ns, CancellationToken ct) => Count("POST configmaps", ns, inner.CreateConfigMapAsync(map, ns, ct));

    public Task ReplaceConfigMapAsync(V1ConfigMap map, string ns, string name, CancellationToken ct) =>
        Count("PUT configmaps", ns, inner.ReplaceConfigMapAsync(map, ns, name, ct));

    public Task<V1NamespaceList> ListNamespacesAsync(string? labelSelector, int limit, string? continueToken, CancellationToken ct) =>
        Count("LIST namespaces", "", inner.ListNamespacesAsync(labelSelector, limit, continueToken, ct));

    public Task CreateEventAsync(CoreV1Event ev, string ns, CancellationToken ct) => Count("POST events", ns, inner.CreateEventAsync(ev, ns, ct));

    public Task<CoreV1Event> ReadEventAsync(string ns, string name, CancellationToken ct) => Count("GET events", ns, inner.ReadEventAsync(ns, name, ct));

    public Task PatchEventAsync(string ns, string name, string mergePatch, CancellationToken ct) => Count("PATCH events", ns, inner.PatchEventAsync(ns, name, mergePatch, ct));

    public Task<V1ServiceAccountList> ListServiceAccountsAsync(string ns, string? labelSelector, int limit, string? continueToken, CancellationToken ct) =>
        Count("LIST serviceaccounts", ns, inner.ListServiceAccountsAsync(ns, labelSelector, limit, continueToken, ct));

    public Task<V1ServiceAccountList> ListAllServiceAccountsAsync(int limit, string? continueToken, CancellationToken ct) =>
        Count("LIST serviceaccounts", "", inner.ListAllServiceAccountsAsync(limit, continueToken, ct));

    public Task<PartialObjectMetadataList> ListSecretMetadataAsync(string? labelSelector, int limit, string? continueToken, CancellationToken ct) =>
        Count("LIST secrets", "", inner.ListSecretMetadataAsync(labelSelector, limit, continueToken, ct));

    public Task DeleteSecretAsync(string ns, string name, string uid, string resourceVersion, CancellationToken ct) =>
        Count("DELETE secrets", ns, inner.DeleteSecretAsync(ns, name, uid, resourceVersion, ct));

    public Task<V1ObjectMeta> ReadClusterRoleMetadataAsync(string name, CancellationToken ct) =>
        Count("GET clusterroles", "", inner.ReadClusterRoleMetadataAsync(name, ct));
}
