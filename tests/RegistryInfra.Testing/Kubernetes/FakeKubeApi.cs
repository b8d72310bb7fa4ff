using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Kubernetes;

namespace RegistryInfra.Testing.Kubernetes;

/// <summary>
/// An in-memory Kubernetes API (core/v1 namespaces, secrets, service accounts, events) served over real
/// HTTP on 127.0.0.1, for pointing the real KubernetesClient at. It keeps the API server's semantics that
/// writers rely on: resourceVersion bumps on every write, 409 Conflict on a stale resourceVersion (in a
/// replace body or in a patch's metadata), 404/409 answered as <c>Status</c> objects, JSON merge patch and
/// strategic merge patch (list merge by name for <c>imagePullSecrets</c> and <c>secrets</c>), and list
/// with <c>labelSelector</c> and in chunks (<c>limit</c>/<c>continue</c>, kubernetes.io/docs/reference/using-api/api-concepts/
/// #retrieving-large-results-sets-in-chunks: a list with <c>limit</c> returns at most that many items and, when more remain,
/// an opaque <c>metadata.continue</c> token and <c>remainingItemCount</c>; the next request passes the token back with the
/// same selector; a token whose snapshot has been compacted away, <see cref="Compact"/>, is answered <c>410 Gone</c> with reason
/// <c>Expired</c> and a token in the Status's <c>metadata.continue</c> for an inconsistent continuation, as the same page says:
/// "If the client needs a consistent list, it must restart their list without the continue field"), and garbage collection by <c>ownerReferences</c> (<see cref="Delete(string, string, string, string)"/>).
/// <see cref="Faults"/> injects conflicts, 500s, latency, hangs and malformed answers. Over TLS
/// (<see cref="StartAsync(FakeKubeFaults?, bool, CancellationToken)"/>) it speaks HTTP/2, as API servers do.
/// </summary>
public sealed partial class FakeKubeApi : IAsyncDisposable
{
    // The rbac.authorization.k8s.io/v1 kinds (FakeKubeApi.Rbac.cs): stored, read and written like any other, and the policy of RbacEnabled.
    private static readonly string[] RbacResources = ["roles", "rolebindings", "clusterroles", "clusterrolebindings"];

    private static readonly string[] Resources = ["namespaces", "secrets", "serviceaccounts", "events", "configmaps", "leases", .. RbacResources];

    // Cluster-scoped resources: stored with the namespace "", listed whole (namespaces and the rbac ClusterRoles and ClusterRoleBindings).
    private static readonly string[] ClusterScoped = ["namespaces", "clusterroles", "clusterrolebindings"];

    /// <summary>The namespace argument of a cluster-wide list of a namespaced resource (<c>/api/v1/secrets</c>).</summary>
    private const string AllNamespaces = "*";

    private static readonly Dictionary<string, string> Kinds = new(StringComparer.Ordinal)
    {
        ["namespaces"] = "Namespace",
        ["clusterroles"] = "ClusterRole",
        ["clusterrolebindings"] = "ClusterRoleBinding",
        ["roles"] = "Role",
        ["rolebindings"] = "RoleBinding",
        ["configmaps"] = "ConfigMap",
        ["secrets"] = "Secret",
        ["serviceaccounts"] = "ServiceAccount",
        ["events"] = "Event",
        ["leases"] = "Lease",
    };

    private readonly object _gate = new();
    private readonly ObjectStore _objects;
    private readonly HashSet<(string Resource, string Namespace, string Name)> _conflicted = [];
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);
    private readonly WebApplication _app;
    private long _resourceVersion = 1000;
    private long _compactedRevision;
    private int _expiredTokensServed;

    // Whether an object may have lost its last owner since the collector last looked: seeding, deletes, and writes that
    // carry ownerReferences set it. A collection with nothing changed finds nothing, so skipping it is the same fake,
    // without a scan of every object on every create (which made the fake's CPU, not the client's, the benchmark's cost).
    private bool _collectPending = true;
    private int _injected;
    private Random _random;
    private FakeKubeFaults _faults;

    private FakeKubeApi(WebApplication app, FakeKubeFaults faults)
    {
        _app = app;
        _faults = faults;
        _objects = new ObjectStore(Record);
        _random = new Random(faults.Seed);
    }

    /// <summary>The base address, such as <c>http://127.0.0.1:41234</c>, for <c>KubernetesClientConfiguration.Host</c>.</summary>
    public string Host { get; private set; } = "";

    /// <summary>The faults in force; setting it reseeds the generator.</summary>
    public FakeKubeFaults Faults
    {
        get { lock (_gate) { return _faults; } }
        set { lock (_gate) { _faults = value; _random = new Random(value.Seed); _conflicted.Clear(); _expiredTokensServed = 0; } }
    }

    /// <summary>Starts the API on a free loopback port, over plain HTTP/1.1.</summary>
    public static Task<FakeKubeApi> StartAsync(FakeKubeFaults? faults = null, CancellationToken cancellationToken = default) =>
        StartAsync(faults, tls: false, cancellationToken);

    /// <summary>Starts the API on a free loopback port; with <paramref name="tls"/>, over HTTPS (HTTP/2 by ALPN) with a
    /// self-signed certificate for 127.0.0.1 whose PEM is <see cref="CertificateAuthorityPem"/>.</summary>
    public static async Task<FakeKubeApi> StartAsync(FakeKubeFaults? faults, bool tls, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var certificate = tls ? LoopbackCertificate.Create() : null;
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2;
                listen.UseHttps(certificate);
            }
        }));
        var app = builder.Build();
        var api = new FakeKubeApi(app, faults ?? FakeKubeFaults.None)
        {
            CertificateAuthorityPem = certificate?.ExportCertificatePem(),
        };
        app.Run(api.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        api.Host = address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
        return api;
    }

    /// <summary>The PEM of the TLS certificate (self-signed, so also its CA) when started with TLS; else null.</summary>
    public string? CertificateAuthorityPem { get; private init; }

    /// <summary>A client configuration for the real KubernetesClient: the host, and the CA when over TLS.</summary>
    public string ClientCertificateAuthorityData => CertificateAuthorityPem is null ? "" : Convert.ToBase64String(Encoding.UTF8.GetBytes(CertificateAuthorityPem));

    /// <summary>Adds many namespaces at once (benchmarks), each with the labels and a service account of this name.</summary>
    public void AddNamespaces(IEnumerable<string> names, IReadOnlyDictionary<string, string>? labels, string? serviceAccount)
    {
        foreach (var name in names)
        {
            AddNamespace(name, labels);
            if (serviceAccount is not null)
            {
                AddServiceAccount(name, serviceAccount);
            }
        }
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    // ---- seeding and inspection (no faults, no counting) ----

    /// <summary>Adds a namespace with the given labels.</summary>
    public void AddNamespace(string name, IReadOnlyDictionary<string, string>? labels = null)
    {
        var meta = new JsonObject { ["name"] = name };
        if (labels is not null)
        {
            meta["labels"] = new JsonObject(labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        }
        Store("namespaces", "", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = meta });
    }

    /// <summary>Adds (or overwrites) a secret with raw data values.</summary>
    public void AddSecret(string ns, string name, string type, IReadOnlyDictionary<string, byte[]> data,
        IReadOnlyDictionary<string, string>? annotations = null)
    {
        var meta = new JsonObject { ["name"] = name, ["namespace"] = ns };
        if (annotations is not null)
        {
            meta["annotations"] = new JsonObject(annotations.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        }
        Store("secrets", ns, new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = meta,
            ["type"] = type,
            ["data"] = new JsonObject(data.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Convert.ToBase64String(kv.Value)))),
        });
    }

    /// <summary>Adds a service account, optionally already holding some image pull secrets.</summary>
    public void AddServiceAccount(string ns, string name, params string[] imagePullSecrets)
    {
        var sa = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns } };
        if (imagePullSecrets.Length > 0)
        {
            sa["imagePullSecrets"] = new JsonArray(imagePullSecrets.Select(s => (JsonNode?)new JsonObject { ["name"] = s }).ToArray());
        }
        Store("serviceaccounts", ns, sa);
    }

    /// <summary>Adds a ConfigMap (as Pulumi creates a PullSecret's owner ConfigMap); returns its uid.</summary>
    public string AddConfigMap(string ns, string name, IReadOnlyDictionary<string, string>? data = null)
    {
        var map = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns } };
        if (data is not null)
        {
            map["data"] = new JsonObject(data.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        }
        Store("configmaps", ns, map);
        return map["metadata"]!["uid"]!.GetValue<string>();
    }

    /// <summary>Adds a ClusterRole (as Pulumi creates the refresher's own, which a cluster owner names); returns its uid.</summary>
    public string AddClusterRole(string name)
    {
        var role = new JsonObject { ["apiVersion"] = "rbac.authorization.k8s.io/v1", ["kind"] = "ClusterRole", ["metadata"] = new JsonObject { ["name"] = name }, ["rules"] = new JsonArray() };
        Store("clusterroles", "", role);
        return role["metadata"]!["uid"]!.GetValue<string>();
    }

    /// <summary>Sets a label on a stored namespace (relabelling it into or out of a selection), moving its resourceVersion on.</summary>
    public void SetNamespaceLabel(string name, string key, string? value)
    {
        lock (_gate)
        {
            var before = (JsonObject)_objects[("namespaces", "", name)].DeepClone();
            var meta = _objects[("namespaces", "", name)]["metadata"]!.AsObject();
            if (meta["labels"] is not JsonObject labels)
            {
                labels = new JsonObject();
                meta["labels"] = labels;
            }
            if (value is null)
            {
                labels.Remove(key);
            }
            else
            {
                labels[key] = value;
            }
            meta["resourceVersion"] = NextVersion();
            _objects.Touched(("namespaces", "", name), before);
        }
    }

    /// <summary>Sets the labels of a stored namespace or service account (<c>resource</c> <c>namespaces</c> with <paramref name="ns"/> empty, or <c>serviceaccounts</c>).</summary>
    public void SetLabels(string resource, string ns, string name, IReadOnlyDictionary<string, string> labels)
    {
        lock (_gate)
        {
            var before = (JsonObject)_objects[(resource, ns, name)].DeepClone();
            var meta = _objects[(resource, ns, name)]["metadata"]!.AsObject();
            meta["labels"] = new JsonObject(labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
            meta["resourceVersion"] = NextVersion();
            _objects.Touched((resource, ns, name), before);
        }
    }

    /// <summary>
    /// Marks a stored namespace as being deleted: <c>status.phase</c> <c>Terminating</c> and a <c>deletionTimestamp</c>, as the API
    /// server shows a namespace whose contents are still being removed (kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/).
    /// </summary>
    public void MarkNamespaceTerminating(string name)
    {
        lock (_gate)
        {
            var ns = _objects[("namespaces", "", name)];
            var before = (JsonObject)ns.DeepClone();
            ns["status"] = new JsonObject { ["phase"] = "Terminating" };
            ns["metadata"]!["deletionTimestamp"] = "2026-01-01T00:00:00Z";
            ns["metadata"]!["resourceVersion"] = NextVersion();
            _objects.Touched(("namespaces", "", name), before);
        }
    }

    /// <summary>A copy of a stored ConfigMap, or null.</summary>
    public JsonObject? GetConfigMap(string ns, string name) => Get("configmaps", ns, name);

    /// <summary>Every stored object's key, as <c>resource/namespace/name</c> (events left out).</summary>
    public IReadOnlyList<string> ObjectKeys()
    {
        lock (_gate)
        {
            return [.. _objects.Keys.Where(k => k.Resource != "events").Select(k => $"{k.Resource}/{k.Namespace}/{k.Name}").Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>Sets one data key of a stored secret, keeping its metadata (another writer's update).</summary>
    public void SetSecretData(string ns, string name, string key, byte[] value)
    {
        lock (_gate)
        {
            var secret = _objects[("secrets", ns, name)];
            var before = (JsonObject)secret.DeepClone();
            secret["data"]![key] = Convert.ToBase64String(value);
            secret["metadata"]!["resourceVersion"] = NextVersion();
            _objects.Touched(("secrets", ns, name), before);
        }
    }

    /// <summary>Overwrites a service account's annotations (seeding another owner's record).</summary>
    public void SetServiceAccountAnnotation(string ns, string name, string key, string value)
    {
        lock (_gate)
        {
            var sa = _objects[("serviceaccounts", ns, name)];
            var before = (JsonObject)sa.DeepClone();
            var meta = sa["metadata"]!.AsObject();
            if (meta["annotations"] is not JsonObject annotations)
            {
                annotations = new JsonObject();
                meta["annotations"] = annotations;
            }
            annotations[key] = value;
            meta["resourceVersion"] = NextVersion();
            _objects.Touched(("serviceaccounts", ns, name), before);
        }
    }

    /// <summary>A copy of a stored secret, or null.</summary>
    public JsonObject? GetSecret(string ns, string name) => Get("secrets", ns, name);

    /// <summary>The decoded value of one key of a stored secret, or null.</summary>
    public byte[]? GetSecretData(string ns, string name, string key) =>
        GetSecret(ns, name)?["data"]?[key]?.GetValue<string>() is { } b64 ? Convert.FromBase64String(b64) : null;

    /// <summary>A copy of a stored service account, or null.</summary>
    public JsonObject? GetServiceAccount(string ns, string name) => Get("serviceaccounts", ns, name);

    /// <summary>The names in a stored service account's <c>imagePullSecrets</c>, in order.</summary>
    public IReadOnlyList<string> ImagePullSecrets(string ns, string name) =>
        GetServiceAccount(ns, name)?["imagePullSecrets"]?.AsArray().Select(e => e!["name"]!.GetValue<string>()).ToList() ?? [];

    /// <summary>Copies of the stored events, of one namespace or all.</summary>
    public IReadOnlyList<JsonObject> Events(string? ns = null)
    {
        lock (_gate)
        {
            return _objects.Where(kv => kv.Key.Resource == "events" && (ns is null || kv.Key.Namespace == ns))
                .Select(kv => (JsonObject)kv.Value.DeepClone()).ToList();
        }
    }

    /// <summary>The number of requests served with this verb (GET, LIST, POST, PUT, PATCH, DELETE) on this resource;
    /// <c>GET-METADATA</c> counts the GETs that asked for the metadata alone (<c>as=PartialObjectMetadata</c>), also counted as GET.</summary>
    public int RequestCount(string verb, string resource) => _requests.GetValueOrDefault(verb + " " + resource);

    /// <summary>All requests served since start or the last <see cref="ResetCounters"/>.</summary>
    public int TotalRequests => _requests.Where(kv => !kv.Key.StartsWith("GET-METADATA ", StringComparison.Ordinal)).Sum(kv => kv.Value);

    /// <summary>Writes (POST, PUT, PATCH, DELETE) served on this resource, including those answered with an error.</summary>
    public int WriteCount(string resource) =>
        RequestCount("POST", resource) + RequestCount("PUT", resource) + RequestCount("PATCH", resource) + RequestCount("DELETE", resource);

    /// <summary>
    /// Writes refused with 403 Forbidden, as <c>VERB resource namespace/name</c> (such as <c>PATCH serviceaccounts apps/builder</c>):
    /// what RBAC answers once a Role no longer names the object, set by hand (<see cref="RbacEnabled"/> evaluates the stored RBAC instead).
    /// </summary>
    public ConcurrentDictionary<string, bool> Forbidden { get; } = new(StringComparer.Ordinal);

    /// <summary>Requests answered with an injected 500 or 409.</summary>
    public int InjectedFaults => _injected;

    /// <summary>Forgets the request counts.</summary>
    public void ResetCounters() => _requests.Clear();

    /// <summary>The <c>Authorization</c> header of the latest request (empty when none): what a client presented, for its tests.</summary>
    public string? LastAuthorization { get; private set; }

    /// <summary>The HTTP version of the latest request (<c>HTTP/2</c> over TLS, <c>HTTP/1.1</c> in plain text).</summary>
    public string? LastProtocol { get; private set; }

    /// <summary>
    /// Compacts the history, as etcd does every five minutes under the API server: every continue token handed out so
    /// far names a snapshot that is gone, and a LIST presenting one is answered 410 Gone (reason <c>Expired</c>).
    /// </summary>
    public void Compact()
    {
        lock (_gate)
        {
            _compactedRevision = ++_resourceVersion;
            CompactHistory(_compactedRevision);
        }
    }

    // ---- HTTP ----

    private async Task HandleAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        if (Authorize(context) is { } denied)
        {
            context.Response.StatusCode = 403;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(denied.ToJsonString(), ct).ConfigureAwait(false);
            return;
        }
        var parts = context.Request.Path.Value!.Trim('/').Split('/');
        string resource, ns, name;
        if (parts is ["apis", "coordination.k8s.io", "v1", "namespaces", var leaseNs, "leases", ..] && parts.Length <= 7)
        {
            // apis/coordination.k8s.io/v1/namespaces/{ns}/leases[/{name}]: the Lease API (leader election).
            (resource, ns, name) = ("leases", leaseNs, parts.Length == 7 ? parts[6] : "");
        }
        else if (parts is ["apis", "rbac.authorization.k8s.io", "v1", "clusterroles" or "clusterrolebindings", ..] && parts.Length <= 5)
        {
            // apis/rbac.authorization.k8s.io/v1/{clusterroles,clusterrolebindings}[/{name}]
            (resource, ns, name) = (parts[3], "", parts.Length == 5 ? parts[4] : "");
        }
        else if (parts is ["apis", "rbac.authorization.k8s.io", "v1", "namespaces", var rbacNs, "roles" or "rolebindings", ..] && parts.Length <= 7)
        {
            // apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/{roles,rolebindings}[/{name}]
            (resource, ns, name) = (parts[5], rbacNs, parts.Length == 7 ? parts[6] : "");
        }
        else if (parts is ["api", "v1", var collection] && collection != "namespaces")
        {
            // api/v1/{resource}: the list of a namespaced resource across all namespaces (api-concepts, "Resource URIs":
            // GET /api/v1/pods returns the pods of every namespace); the only verbs it takes here are list (and watch).
            (resource, ns, name) = (collection, AllNamespaces, "");
        }
        else if (parts.Length >= 3 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces")
        {
            // api/v1/namespaces[/{ns}[/{resource}[/{name}]]]
            switch (parts.Length)
            {
                case 3: (resource, ns, name) = ("namespaces", "", ""); break;
                case 4: (resource, ns, name) = ("namespaces", "", parts[3]); break;
                case 5: (resource, ns, name) = (parts[4], parts[3], ""); break;
                case 6: (resource, ns, name) = (parts[4], parts[3], parts[5]); break;
                default:
                    await WriteStatus(context, 404, "NotFound", "unknown path", ct).ConfigureAwait(false);
                    return;
            }
        }
        else
        {
            await WriteStatus(context, 404, "NotFound", $"the server could not find the requested resource ({context.Request.Path})", ct).ConfigureAwait(false);
            return;
        }
        if (!Resources.Contains(resource) || ((resource == "leases" || RbacResources.Contains(resource)) != (parts[0] == "apis")))
        {
            await WriteStatus(context, 404, "NotFound", $"unknown resource {resource}", ct).ConfigureAwait(false);
            return;
        }
        var method = context.Request.Method;
        if (ns == AllNamespaces && method != "GET")
        {
            await WriteStatus(context, 405, "MethodNotAllowed", $"{method} is not supported on {context.Request.Path} here", ct).ConfigureAwait(false);
            return;
        }
        var watch = method == "GET" && name.Length == 0 && IsWatch(context);
        var verb = watch ? "WATCH" : method == "GET" && name.Length == 0 ? "LIST" : method;
        _requests.AddOrUpdate(verb + " " + resource, 1, (_, n) => n + 1);
        // Accept: application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1 asks for the metadata alone. As the
        // API server negotiates, the first media type listed wins: a plain application/json before it means the object.
        LastAuthorization = context.Request.Headers.Authorization.ToString();
        LastProtocol = context.Request.Protocol;
        var firstAccept = context.Request.Headers.Accept.ToString().Split(',')[0];
        var metadataOnly = method == "GET" && name.Length > 0 && firstAccept.Contains("as=PartialObjectMetadata", StringComparison.Ordinal);
        // A list asks for as=PartialObjectMetadataList: every item as a PartialObjectMetadata (api-concepts, "Receiving resources as Tables"
        // and "Retrieving metadata only": the server answers kind PartialObjectMetadataList, items holding metadata alone).
        var metadataListOnly = method == "GET" && name.Length == 0 && firstAccept.Contains("as=PartialObjectMetadataList", StringComparison.Ordinal);
        if (metadataOnly)
        {
            _requests.AddOrUpdate("GET-METADATA " + resource, 1, (_, n) => n + 1);
        }

        if (Forbidden.ContainsKey($"{method} {resource} {ns}/{name}"))
        {
            await WriteStatus(context, 403, "Forbidden", $"{resource} \"{name}\" is forbidden: the user cannot {method.ToLowerInvariant()} it", ct).ConfigureAwait(false);
            return;
        }
        var faults = Faults;
        if (faults.HangOn == verb + " " + resource)
        {
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }
        if (faults.Latency > TimeSpan.Zero)
        {
            await Task.Delay(faults.Latency, ct).ConfigureAwait(false);
        }
        bool fail;
        lock (_gate)
        {
            fail = faults.ServerErrorRate > 0 && _random.NextDouble() < faults.ServerErrorRate;
        }
        if (fail)
        {
            Interlocked.Increment(ref _injected);
            await WriteStatus(context, 500, "InternalError", "injected server error", ct).ConfigureAwait(false);
            return;
        }

        if (watch)
        {
            await WatchAsync(context, resource, ns, ct).ConfigureAwait(false);
            return;
        }
        JsonObject? body = null;
        if (method == "DELETE" && name.Length > 0 && context.Request.ContentLength is > 0)
        {
            // DeleteOptions in the body, as client-go and KubernetesClient send them: a propagation policy and preconditions.
            var options = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: ct).ConfigureAwait(false) as JsonObject;
            var policy = options?["propagationPolicy"]?.GetValue<string>() ?? context.Request.Query["propagationPolicy"].ToString();
            var (dc, danswer) = DeleteRequest(resource, ns, name, policy,
                options?["preconditions"]?["uid"]?.GetValue<string>(), options?["preconditions"]?["resourceVersion"]?.GetValue<string>());
            context.Response.StatusCode = dc;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(danswer.ToJsonString(), ct).ConfigureAwait(false);
            return;
        }
        if (method is "POST" or "PUT" or "PATCH")
        {
            try
            {
                body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: ct).ConfigureAwait(false) as JsonObject;
            }
            catch (JsonException)
            {
            }
            if (body is null)
            {
                await WriteStatus(context, 400, "BadRequest", "request body is not a JSON object", ct).ConfigureAwait(false);
                return;
            }
        }

        var (code, answer) = method switch
        {
            "GET" when name.Length == 0 => List(resource, ns, context.Request.Query["labelSelector"].ToString(),
                context.Request.Query["limit"].ToString(), context.Request.Query["continue"].ToString(), metadataListOnly, context.Request.Query["fieldSelector"].ToString()),
            "GET" when metadataOnly => ReadMetadata(resource, ns, name),
            "GET" => Read(resource, ns, name),
            "POST" when name.Length == 0 => Create(resource, ns, body!),
            "PUT" when name.Length > 0 => Replace(resource, ns, name, body!),
            "PATCH" when name.Length > 0 && (context.Request.ContentType ?? "").StartsWith("application/apply-patch", StringComparison.OrdinalIgnoreCase) =>
                Apply(resource, ns, name, body!, context.Request.Query["fieldManager"].ToString(), context.Request.Query["force"].ToString() == "true"),
            "PATCH" when name.Length > 0 => Patch(resource, ns, name, body!, context.Request.ContentType ?? ""),
            "DELETE" when name.Length > 0 => DeleteRequest(resource, ns, name, context.Request.Query["propagationPolicy"].ToString(), null, null),
            _ => (405, StatusObject(405, "MethodNotAllowed", $"{method} is not supported here", resource, name)),
        };
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        var text = answer.ToJsonString();
        if (code < 300 && faults.Malformed.FirstOrDefault(m => m.On == verb + " " + resource && (m.Namespace is null || m.Namespace == ns)) is { } malformed)
        {
            Interlocked.Increment(ref _injected);
            text = Malform(text, answer, malformed.Kind);
            if (malformed.Kind == MalformedKind.NotJson)
            {
                context.Response.ContentType = "text/html";
            }
        }
        await context.Response.WriteAsync(text, ct).ConfigureAwait(false);
    }

    private static string Malform(string text, JsonObject answer, MalformedKind kind)
    {
        switch (kind)
        {
            case MalformedKind.TruncatedJson:
                return text[..(text.Length / 2)];
            case MalformedKind.NotJson:
                return "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>";
            default:
                var broken = (JsonObject)answer.DeepClone();
                var data = broken["data"] as JsonObject ?? new JsonObject();
                broken["data"] = data;
                foreach (var key in data.Select(kv => kv.Key).ToList().DefaultIfEmpty(".dockerconfigjson"))
                {
                    data[key] = "this is not base64!";
                }
                return broken.ToJsonString();
        }
    }

    private static Task WriteStatus(HttpContext context, int code, string reason, string message, CancellationToken ct)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(StatusObject(code, reason, message, "", "").ToJsonString(), ct);
    }

    private static JsonObject StatusObject(int code, string reason, string message, string resource, string name) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
        ["details"] = new JsonObject { ["name"] = name, ["kind"] = resource },
    };

    /// <summary>
    /// A LIST. <c>labelSelector</c> has the API's grammar and semantics (kubernetes.io/docs/concepts/overview/working-with-objects/labels/,
    /// "Label selectors": equality-based <c>=</c>, <c>==</c>, <c>!=</c> and set-based <c>in</c>, <c>notin</c>, exists and <c>!key</c>,
    /// comma meaning AND; <c>!=</c> and <c>notin</c> also select objects without the key), parsed by Core's <see cref="Selector"/>
    /// (ported from apimachinery labels.Parse); a selector that does not parse is a 400 BadRequest, as the API server answers.
    /// Chunks: see the class summary; the continue token carries the snapshot and the last key, so a cluster-wide list
    /// (<paramref name="ns"/> <c>*</c>) pages over namespace/name in order.
    /// </summary>
    private (int, JsonObject) List(string resource, string ns, string labelSelector, string limitText, string continueToken, bool metadataOnly = false,
        string fieldSelector = "")
    {
        if (!Selector.TryParse(labelSelector, out var selector, out var selectorProblem))
        {
            return (400, StatusObject(400, "BadRequest", $"unable to parse requirement: {selectorProblem}", resource, ""));
        }
        if (!FieldSelector.TryParse(fieldSelector, out var fields, out var fieldProblem))
        {
            return (400, StatusObject(400, "BadRequest", fieldProblem, resource, ""));
        }
        var limit = int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var l) && l > 0 ? l : int.MaxValue;
        // The token names the snapshot (the resourceVersion of the list's first chunk) and the last key returned; keys are
        // listed in order, so the next chunk starts after it.
        string? after = null;
        long snapshot = 0;
        if (continueToken.Length > 0)
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(continueToken));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0 || !long.TryParse(decoded.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out snapshot))
                {
                    throw new FormatException("no snapshot");
                }
                after = decoded[(colon + 1)..];
            }
            catch (FormatException)
            {
                return (400, StatusObject(400, "BadRequest", "continue key is not valid: illegal base64 data", resource, ""));
            }
        }
        lock (_gate)
        {
            if (after is not null && (snapshot < _compactedRevision || _expiredTokensServed++ < _faults.ExpiredContinueTokens))
            {
                // The API server's answer (k8s.io/apiserver storage: a compacted continue revision is a 410 ResourceExpired),
                // with a token that continues from the same key in the latest snapshot.
                var expired = StatusObject(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.", resource, "");
                expired["metadata"] = new JsonObject { ["continue"] = Token(_resourceVersion, after) };
                return (410, expired);
            }
            var version = after is null ? _resourceVersion : snapshot;
            var matching = _objects
                .Where(kv => kv.Key.Resource == resource && (ClusterScoped.Contains(resource) || ns == AllNamespaces || kv.Key.Namespace == ns)
                    && fields.Matches(kv.Key.Namespace, kv.Key.Name))
                .Select(kv => (Key: kv.Key.Namespace + "/" + kv.Key.Name, Value: kv.Value))
                .Where(o => after is null || string.CompareOrdinal(o.Key, after) > 0)
                .OrderBy(o => o.Key, StringComparer.Ordinal)
                .Where(o => selector.IsEmpty || selector.Matches(LabelsOf(o.Value)))
                .ToList();
            var page = matching.Take(limit).ToList();
            var metadata = new JsonObject { ["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture) };
            if (matching.Count > page.Count)
            {
                metadata["continue"] = Token(version, page[^1].Key);
                metadata["remainingItemCount"] = matching.Count - page.Count;
            }
            if (metadataOnly)
            {
                return (200, new JsonObject
                {
                    ["kind"] = "PartialObjectMetadataList",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = metadata,
                    ["items"] = new JsonArray([.. page.Select(o => (JsonNode)new JsonObject
                    {
                        ["kind"] = "PartialObjectMetadata",
                        ["apiVersion"] = "meta.k8s.io/v1",
                        ["metadata"] = o.Value["metadata"]!.DeepClone(),
                    })]),
                });
            }
            return (200, new JsonObject
            {
                ["kind"] = Kinds[resource] + "List",
                ["apiVersion"] = ApiVersion(resource),
                ["metadata"] = metadata,
                ["items"] = new JsonArray([.. page.Select(o => o.Value.DeepClone())]),
            });
        }
    }

    private static string Token(long snapshot, string lastKey) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(snapshot.ToString(CultureInfo.InvariantCulture) + ":" + lastKey));

    private (int, JsonObject) Read(string resource, string ns, string name)
    {
        var found = Get(resource, ns, name);
        return found is null ? NotFound(resource, name) : (200, found);
    }

    private (int, JsonObject) ReadMetadata(string resource, string ns, string name)
    {
        var found = Get(resource, ns, name);
        return found is null
            ? NotFound(resource, name)
            : (200, new JsonObject { ["kind"] = "PartialObjectMetadata", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = found["metadata"]!.DeepClone() });
    }

    private (int, JsonObject) Create(string resource, string ns, JsonObject body)
    {
        var meta = body["metadata"] as JsonObject ?? new JsonObject();
        body["metadata"] = meta;
        var name = meta["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name) && meta["generateName"]?.GetValue<string>() is { } prefix)
        {
            name = prefix + Guid.NewGuid().ToString("N")[..5];
            meta["name"] = name;
        }
        if (string.IsNullOrEmpty(name))
        {
            return (422, StatusObject(422, "Invalid", $"{Kinds[resource]} \"\" is invalid: metadata.name: Required value", resource, ""));
        }
        if (!ClusterScoped.Contains(resource) && meta["namespace"]?.GetValue<string>() is { } bodyNs && bodyNs != ns)
        {
            return (400, StatusObject(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request", resource, name));
        }
        var key = (resource, ns, name);
        lock (_gate)
        {
            // NamespaceLifecycle admission refuses a create in a namespace that does not exist, Events included, with the
            // namespace's NotFound (kubernetes/kubernetes 06b1b836fa6b, staging/src/k8s.io/apiserver/pkg/admission/plugin/
            // namespace/lifecycle/admission.go, Admit).
            if (!ClusterScoped.Contains(resource) && !_objects.ContainsKey(("namespaces", "", ns)))
            {
                return (404, StatusObject(404, "NotFound", $"namespaces \"{ns}\" not found", "namespaces", ns));
            }
            if (InjectConflict(key))
            {
                return (409, StatusObject(409, "AlreadyExists", $"{resource} \"{name}\" already exists (injected)", resource, name));
            }
            if (_objects.ContainsKey(key))
            {
                return (409, StatusObject(409, "AlreadyExists", $"{resource} \"{name}\" already exists", resource, name));
            }
            if (!ClusterScoped.Contains(resource))
            {
                meta["namespace"] = ns;
            }
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            body["apiVersion"] = ApiVersion(resource);
            body["kind"] = Kinds[resource];
            meta["resourceVersion"] = NextVersion();
            _objects[key] = body;
            _uids[meta["uid"]!.GetValue<string>()] = key;
            var created = (JsonObject)body.DeepClone();
            if (_collectPending)
            {
                CollectAbsentOwners();
            }
            else if (meta["ownerReferences"] is JsonArray refs && refs.Count > 0 && !refs.Any(r => OwnerExists(ns, r?["uid"]?.GetValue<string>())))
            {
                // Nothing else changed since the collector last looked: only the new object can have dangling owners.
                Remove(key);
            }
            return (201, created);
        }
    }

    private (int, JsonObject) Replace(string resource, string ns, string name, JsonObject body)
    {
        var key = (resource, ns, name);
        lock (_gate)
        {
            if (!_objects.TryGetValue(key, out var current))
            {
                return NotFound(resource, name);
            }
            var given = body["metadata"]?["resourceVersion"]?.GetValue<string>();
            if (InjectConflict(key) || (!string.IsNullOrEmpty(given) && given != Version(current)))
            {
                return Conflict(resource, name);
            }
            var meta = body["metadata"] as JsonObject ?? new JsonObject();
            body["metadata"] = meta;
            meta["name"] = name;
            if (!ClusterScoped.Contains(resource))
            {
                meta["namespace"] = ns;
            }
            meta["uid"] = current["metadata"]!["uid"]?.DeepClone();
            meta["creationTimestamp"] = current["metadata"]!["creationTimestamp"]?.DeepClone();
            body["apiVersion"] = ApiVersion(resource);
            body["kind"] = Kinds[resource];
            meta["resourceVersion"] = NextVersion();
            _objects[key] = body;
            _collectPending |= meta["ownerReferences"] is JsonArray;
            return (200, (JsonObject)body.DeepClone());
        }
    }

    private (int, JsonObject) Patch(string resource, string ns, string name, JsonObject patch, string contentType)
    {
        var strategic = contentType.StartsWith("application/strategic-merge-patch+json", StringComparison.OrdinalIgnoreCase);
        if (!strategic && !contentType.StartsWith("application/merge-patch+json", StringComparison.OrdinalIgnoreCase))
        {
            return (415, StatusObject(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got {contentType})", resource, name));
        }
        var key = (resource, ns, name);
        lock (_gate)
        {
            if (!_objects.TryGetValue(key, out var current))
            {
                return NotFound(resource, name);
            }
            var given = patch["metadata"]?["resourceVersion"]?.GetValue<string>();
            if (InjectConflict(key) || (!string.IsNullOrEmpty(given) && given != Version(current)))
            {
                return Conflict(resource, name);
            }
            var merged = (JsonObject)current.DeepClone();
            MergeInto(merged, patch, strategic);
            merged["metadata"]!["name"] = name;
            merged["metadata"]!["resourceVersion"] = NextVersion();
            _objects[key] = merged;
            _collectPending |= merged["metadata"]!["ownerReferences"] is JsonArray || patch["metadata"]?["uid"] is not null;
            _uidsDirty |= patch["metadata"]?["uid"] is not null;
            return (200, (JsonObject)merged.DeepClone());
        }
    }

    private readonly Dictionary<(string Resource, string Namespace, string Name), Dictionary<string, HashSet<string>>> _managers = [];

    /// <summary>
    /// A server-side apply (kubernetes.io/docs/reference/using-api/server-side-apply/): the body, sent as
    /// <c>application/apply-patch+yaml</c> (JSON is YAML) with a required <c>fieldManager</c>, creates the object when it
    /// does not exist (apply is an upsert) and otherwise sets the fields it names, each then managed by that manager
    /// (several managers that apply the same value share a field). Changing a field another manager owns to a different
    /// value is a conflict, answered 409 Conflict naming each field and its manager, unless <c>force=true</c>, which
    /// transfers the field ("Conflicts" and "Using Server-Side Apply in a controller"). A field the manager applied before
    /// and no longer sends, and that no other manager owns, is removed ("Merge strategy": fields are removed when no
    /// manager owns them). Lists are atomic here (the fields our objects apply: labels, annotations, data keys, are maps).
    /// </summary>
    private (int, JsonObject) Apply(string resource, string ns, string name, JsonObject applied, string manager, bool force)
    {
        if (manager.Length == 0)
        {
            return (400, StatusObject(400, "BadRequest", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch", resource, name));
        }
        var key = (resource, ns, name);
        var fields = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        Leaves(applied, "", fields);
        foreach (var identity in new[] { "apiVersion", "kind", "metadata\u001fname", "metadata\u001fnamespace" })
        {
            fields.Remove(Separator + identity);
        }
        lock (_gate)
        {
            if (!_objects.TryGetValue(key, out var current))
            {
                var created = (JsonObject)applied.DeepClone();
                var meta = created["metadata"] as JsonObject ?? new JsonObject();
                created["metadata"] = meta;
                meta["name"] = name;
                if (ns.Length > 0)
                {
                    meta["namespace"] = ns;
                }
                meta["uid"] = Guid.NewGuid().ToString();
                meta["resourceVersion"] = NextVersion();
                created["kind"] = Kinds[resource];
                _objects[key] = created;
                _uids[meta["uid"]!.GetValue<string>()] = key;
                _managers[key] = fields.Keys.ToDictionary(f => f, _ => new HashSet<string>(StringComparer.Ordinal) { manager }, StringComparer.Ordinal);
                return (201, (JsonObject)created.DeepClone());
            }
            var owners = _managers.TryGetValue(key, out var known) ? known : _managers[key] = [];
            var existing = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
            Leaves(current, "", existing);
            var conflicts = fields
                .Where(f => owners.TryGetValue(f.Key, out var by) && by.Any(m => m != manager)
                    && existing.TryGetValue(f.Key, out var value) && !JsonNode.DeepEquals(value, f.Value))
                .Select(f => (Field: f.Key, By: owners[f.Key].First(m => m != manager)))
                .ToList();
            if (conflicts.Count > 0 && !force)
            {
                return (409, StatusObject(409, "Conflict",
                    $"Apply failed with {conflicts.Count} conflict{(conflicts.Count == 1 ? "" : "s")}: " + string.Join("; ", conflicts.Select(c => $"conflict with \"{c.By}\": {Shown(c.Field)}")), resource, name));
            }
            var merged = (JsonObject)current.DeepClone();
            foreach (var (field, by) in owners.ToList())
            {
                if (!fields.ContainsKey(field) && by.Remove(manager) && by.Count == 0)
                {
                    owners.Remove(field);
                    RemoveLeaf(merged, field);
                }
            }
            foreach (var (field, value) in fields)
            {
                SetLeaf(merged, field, value?.DeepClone());
                if (!owners.TryGetValue(field, out var by) || (force && conflicts.Any(c => c.Field == field)))
                {
                    owners[field] = by = new HashSet<string>(StringComparer.Ordinal);
                }
                by.Add(manager);
            }
            merged["metadata"]!["resourceVersion"] = NextVersion();
            _objects[key] = merged;
            return (200, (JsonObject)merged.DeepClone());
        }
    }

    // A field path as its keys joined by a separator no key holds (annotation keys hold dots and slashes); shown with dots.
    private const char Separator = '\u001f';

    private static string Shown(string path) => path.Replace(Separator, '.');

    private static void Leaves(JsonObject node, string prefix, Dictionary<string, JsonNode?> into)
    {
        foreach (var (k, v) in node)
        {
            var path = prefix + Separator + k;
            if (v is JsonObject child && child.Count > 0)
            {
                Leaves(child, path, into);
            }
            else if (!(prefix == Separator + "metadata" && k is "resourceVersion" or "uid" or "creationTimestamp" or "managedFields" or "ownerReferences"))
            {
                into[path] = v;
            }
        }
    }

    private static void SetLeaf(JsonObject root, string path, JsonNode? value)
    {
        var keys = path.Split(Separator, StringSplitOptions.RemoveEmptyEntries);
        var node = root;
        foreach (var key in keys[..^1])
        {
            if (node[key] is not JsonObject next)
            {
                next = new JsonObject();
                node[key] = next;
            }
            node = next;
        }
        node[keys[^1]] = value;
    }

    private static void RemoveLeaf(JsonObject root, string path)
    {
        var keys = path.Split(Separator, StringSplitOptions.RemoveEmptyEntries);
        var node = root;
        foreach (var key in keys[..^1])
        {
            if (node[key] is not JsonObject next)
            {
                return;
            }
            node = next;
        }
        node.Remove(keys[^1]);
    }

    /// <summary>
    /// A DELETE; <c>preconditions</c> (DeleteOptions: uid, resourceVersion) that no longer hold are a 409 Conflict and nothing
    /// is deleted (api-concepts and the DeleteOptions reference: "Must be fulfilled before a deletion is carried out. If not
    /// possible, a 409 Conflict status will be returned").
    /// </summary>
    private (int, JsonObject) DeleteRequest(string resource, string ns, string name, string policy, string? uid, string? resourceVersion)
    {
        lock (_gate)
        {
            if (_objects.TryGetValue((resource, ns, name), out var current))
            {
                var meta = current["metadata"];
                if (uid is not null && meta?["uid"]?.GetValue<string>() != uid)
                {
                    return (409, StatusObject(409, "Conflict", $"Operation cannot be fulfilled on {resource} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {meta?["uid"]}", resource, name));
                }
                if (resourceVersion is not null && Version(current) != resourceVersion)
                {
                    return (409, StatusObject(409, "Conflict", $"Operation cannot be fulfilled on {resource} \"{name}\": Precondition failed: ResourceVersion in precondition: {resourceVersion}, ResourceVersion in object meta: {Version(current)}", resource, name));
                }
            }
            var gone = Delete(resource, ns, name, policy.Length == 0 ? "Background" : policy);
            return gone is null ? NotFound(resource, name) : (200, gone);
        }
    }

    /// <summary>
    /// Deletes an object as the API server and its garbage collector do, with <paramref name="propagation"/>
    /// <c>Foreground</c>, <c>Background</c> (the API's default for most kinds) or <c>Orphan</c>
    /// (kubernetes.io/docs/concepts/architecture/garbage-collection/#cascading-deletion): in the foreground the
    /// dependents go first and then the owner; in the background the owner goes at once and the collector then
    /// deletes the dependents; orphaning removes the owner's reference from them. A dependent that still has another
    /// owner only loses the reference to this one (it is deleted once no owner remains). Deleting a namespace
    /// deletes everything in it. Owners are matched by uid within the dependent's namespace: cross-namespace
    /// references are not followed (owners-dependents: a namespaced owner must be in the dependent's namespace).
    /// Returns the deleted object, or null when it did not exist. <see cref="DeletionLog"/> records the order.
    /// </summary>
    public JsonObject? Delete(string resource, string ns, string name, string propagation = "Foreground")
    {
        lock (_gate)
        {
            if (!_objects.TryGetValue((resource, ns, name), out var owner))
            {
                return null;
            }
            var uid = owner["metadata"]?["uid"]?.GetValue<string>();
            if (resource == "namespaces")
            {
                foreach (var key in _objects.Keys.Where(k => k.Resource != "namespaces" && k.Namespace == name).ToList())
                {
                    Remove(key);
                }
                Remove((resource, ns, name));
                return owner;
            }
            if (propagation == "Background")
            {
                Remove((resource, ns, name));
            }
            foreach (var key in DependentsOf(ns, uid))
            {
                if (!_objects.TryGetValue(key, out var dependent))
                {
                    continue;
                }
                var before = (JsonObject)dependent.DeepClone();
                var references = dependent["metadata"]!["ownerReferences"]!.AsArray();
                foreach (var reference in references.Where(r => r?["uid"]?.GetValue<string>() == uid).ToList())
                {
                    references.Remove(reference);
                }
                var othersAlive = references.Any(r => OwnerExists(key.Item2, r?["uid"]?.GetValue<string>()));
                if (propagation == "Orphan" || othersAlive)
                {
                    dependent["metadata"]!["resourceVersion"] = NextVersion();
                    _objects.Touched(key, before);
                    continue;
                }
                var (depResource, depNs, depName) = key;
                Delete(depResource, depNs, depName, propagation);
            }
            if (propagation != "Background")
            {
                Remove((resource, ns, name));
            }
            return owner;
        }
    }

    /// <summary>The objects deleted, in order, as <c>resource/namespace/name</c>.</summary>
    public IReadOnlyList<string> DeletionLog
    {
        get { lock (_gate) { return [.. _deletions]; } }
    }

    private readonly List<string> _deletions = [];

    private void Remove((string Resource, string Namespace, string Name) key)
    {
        if (_objects.Remove(key, out var removed))
        {
            if (removed["metadata"]?["uid"]?.GetValue<string>() is { } uid)
            {
                _uids.Remove(uid);
            }
            _collectPending = true;
            _deletions.Add($"{key.Resource}/{key.Namespace}/{key.Name}");
        }
    }

    // A cluster-scoped owner (namespace "") has dependents in every namespace; a namespaced one only in its own.
    private List<(string, string, string)> DependentsOf(string ns, string? uid) =>
        uid is null ? [] : _objects.Where(kv => (ns.Length == 0 || kv.Key.Namespace == ns) && kv.Value["metadata"]?["ownerReferences"] is JsonArray refs
            && refs.Any(r => r?["uid"]?.GetValue<string>() == uid)).Select(kv => kv.Key).ToList();

    // An owner exists when an object of that uid is in the dependent's namespace or is cluster-scoped (garbage-collection:
    // "Cluster-scoped dependents can only specify cluster-scoped owners"; a namespaced dependent may name either).
    private bool OwnerExists(string ns, string? uid)
    {
        if (uid is null)
        {
            return false;
        }
        if (_uidsDirty)
        {
            _uids.Clear();
            foreach (var (key, value) in _objects)
            {
                if (value["metadata"]?["uid"]?.GetValue<string>() is { } u)
                {
                    _uids[u] = key;
                }
            }
            _uidsDirty = false;
        }
        return _uids.TryGetValue(uid, out var owner) && _objects.ContainsKey(owner) && (owner.Namespace == ns || ClusterScoped.Contains(owner.Resource));
    }

    // Which object holds which uid, rebuilt after any write (a scan per run of the collector instead of one per owner reference).
    private readonly Dictionary<string, (string Resource, string Namespace, string Name)> _uids = new(StringComparer.Ordinal);
    private bool _uidsDirty = true;

    /// <summary>
    /// The collector's "absent owner" rule: a dependent none of whose owners exists (by uid, in its namespace) is
    /// deleted (kubernetes/kubernetes pkg/controller/garbagecollector/garbagecollector.go at 02830ed24bc1, attemptToDeleteItem:
    /// solid owners keep it, dangling ones do not; isDangling: an owner not found, or found with another uid, is absent, so
    /// owners are matched by uid here). Run after writes, as the collector would shortly after.
    /// </summary>
    private void CollectAbsentOwners()
    {
        if (!_collectPending)
        {
            return;
        }
        _collectPending = false;
        foreach (var (key, value) in _objects.ToList())
        {
            if (value["metadata"]?["ownerReferences"] is JsonArray refs && refs.Count > 0
                && !refs.Any(r => OwnerExists(key.Namespace, r?["uid"]?.GetValue<string>())))
            {
                Remove(key);
            }
        }
    }

    /// <summary>RFC 7386 merge; with <paramref name="strategic"/>, lists of named objects merge by name (as the API server does for imagePullSecrets and secrets).</summary>
    private static void MergeInto(JsonObject target, JsonObject patch, bool strategic)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject patchObject && target[key] is JsonObject targetObject)
            {
                MergeInto(targetObject, patchObject, strategic);
            }
            else if (strategic && value is JsonArray patchList && key is "imagePullSecrets" or "secrets" && target[key] is JsonArray targetList)
            {
                var names = targetList.Select(e => e?["name"]?.GetValue<string>()).ToHashSet();
                foreach (var item in patchList)
                {
                    if (!names.Contains(item?["name"]?.GetValue<string>()))
                    {
                        targetList.Add(item?.DeepClone());
                    }
                }
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    private bool InjectConflict((string, string, string) key) => _faults.ConflictOnFirstWrite && _conflicted.Add(key) && Bump(key);

    // An injected conflict also moves the object on, as a concurrent writer would, so a blind retry cannot succeed.
    private bool Bump((string, string, string) key)
    {
        if (_objects.TryGetValue(key, out var current))
        {
            var before = (JsonObject)current.DeepClone();
            current["metadata"]!["resourceVersion"] = NextVersion();
            _objects.Touched(key, before);
        }
        Interlocked.Increment(ref _injected);
        return true;
    }

    private static (int, JsonObject) NotFound(string resource, string name) =>
        (404, StatusObject(404, "NotFound", $"{resource} \"{name}\" not found", resource, name));

    private static (int, JsonObject) Conflict(string resource, string name) =>
        (409, StatusObject(409, "Conflict", $"Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", resource, name));

    private static string? Version(JsonObject o) => o["metadata"]?["resourceVersion"]?.GetValue<string>();

    private string NextVersion() => (++_resourceVersion).ToString(CultureInfo.InvariantCulture);

    private void Store(string resource, string ns, JsonObject value)
    {
        lock (_gate)
        {
            value["metadata"]!["resourceVersion"] = NextVersion();
            value["metadata"]!["uid"] = Guid.NewGuid().ToString();
            _objects[(resource, ns, value["metadata"]!["name"]!.GetValue<string>())] = value;
            _collectPending = true;
            _uidsDirty = true;
        }
    }

    private JsonObject? Get(string resource, string ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue((resource, ns, name), out var found) ? (JsonObject)found.DeepClone() : null;
        }
    }

    private static Dictionary<string, string>? LabelsOf(JsonObject o) =>
        o["metadata"]?["labels"] is JsonObject labels
            ? labels.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>(), StringComparer.Ordinal)
            : null;
}
