using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace RegistryInfra.Testing.Kubernetes;

// RBAC in the fake API, opt-in (RbacEnabled): the stored Roles, ClusterRoles, RoleBindings and ClusterRoleBindings
// (rbac.authorization.k8s.io/v1, served under /apis/rbac.authorization.k8s.io/v1/...) authorize every request that
// presents a service account's bearer token (AddServiceAccountToken), as the API server's RBAC authorizer does
// (RbacEvaluation, RbacRequestInfo: each rule with its upstream source). A request with any other token, or none, is the
// cluster admin (Pulumi, the provider, the tests' seeding): unrestricted, as before.
public sealed partial class FakeKubeApi
{
    private readonly ConcurrentDictionary<string, (string Namespace, string Name)> _serviceAccountTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _denied = new();
    private readonly ConcurrentQueue<(string Token, string Message)> _deniedByToken = new();

    /// <summary>Whether requests presenting a service account's token are authorized by the stored RBAC objects (off: every request is allowed).</summary>
    public bool RbacEnabled { get; set; }

    /// <summary>Makes <paramref name="token"/> the bearer token of the service account <paramref name="ns"/>/<paramref name="name"/>.</summary>
    public void AddServiceAccountToken(string token, string ns, string name) => _serviceAccountTokens[token] = (ns, name);

    /// <summary>Every request RBAC refused, as its Status message (<c>secrets "x" is forbidden: User "…" cannot get resource …</c>), in order.</summary>
    public IReadOnlyList<string> DeniedRequests => [.. _denied];

    /// <summary>The refused requests that presented <paramref name="token"/> (several tokens may name one account: one per pod).</summary>
    public IReadOnlyList<string> DeniedRequestsOf(string token) => [.. _deniedByToken.Where(d => d.Token == token).Select(d => d.Message)];

    /// <summary>
    /// Creates or replaces an object as an admin would (Pulumi's create or update of a child): the stored object's uid and
    /// creationTimestamp are kept on a replace, its resourceVersion moves on, and the change is seen by watches.
    /// </summary>
    public void Put(string resource, string ns, JsonObject value)
    {
        if (!Resources.Contains(resource))
        {
            throw new ArgumentException($"unknown resource {resource}", nameof(resource));
        }
        var copy = (JsonObject)value.DeepClone();
        var meta = copy["metadata"] as JsonObject ?? throw new ArgumentException("no metadata", nameof(value));
        var name = meta["name"]?.GetValue<string>() ?? throw new ArgumentException("no metadata.name", nameof(value));
        copy["apiVersion"] = ApiVersion(resource);
        copy["kind"] = Kinds[resource];
        lock (_gate)
        {
            if (ClusterScoped.Contains(resource))
            {
                meta.Remove("namespace");
            }
            else
            {
                meta["namespace"] = ns;
            }
            if (_objects.TryGetValue((resource, ns, name), out var current))
            {
                meta["uid"] = current["metadata"]!["uid"]?.DeepClone();
                meta["creationTimestamp"] = current["metadata"]!["creationTimestamp"]?.DeepClone();
                meta["resourceVersion"] = NextVersion();
                _objects[(resource, ns, name)] = copy;
                return;
            }
        }
        Store(resource, ns, copy);
    }

    /// <summary>A copy of a stored object of any kind, or null.</summary>
    public JsonObject? GetObject(string resource, string ns, string name) => Get(resource, ns, name);

    /// <summary>The Status of a refused request, or null when it may go on (see the file's head).</summary>
    private JsonObject? Authorize(HttpContext context)
    {
        if (!RbacEnabled)
        {
            return null;
        }
        var header = context.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim() : "";
        if (!_serviceAccountTokens.TryGetValue(token, out var account))
        {
            return null;
        }
        var query = context.Request.Query;
        var request = RbacRequestInfo.Resolve(context.Request.Method, context.Request.Path.Value ?? "/", key => query.TryGetValue(key, out var v) ? v.ToString() : null,
            RbacEvaluation.ServiceAccountUser(account.Namespace, account.Name), RbacEvaluation.ServiceAccountGroups(account.Namespace));
        lock (_gate)
        {
            var roles = new Dictionary<(string, string), JsonObject>();
            var clusterRoles = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            var roleBindings = new List<(string, JsonObject)>();
            var clusterRoleBindings = new List<JsonObject>();
            foreach (var (key, value) in _objects)
            {
                switch (key.Resource)
                {
                    case "roles": roles[(key.Namespace, key.Name)] = value; break;
                    case "clusterroles": clusterRoles[key.Name] = value; break;
                    case "rolebindings": roleBindings.Add((key.Namespace, value)); break;
                    case "clusterrolebindings": clusterRoleBindings.Add(value); break;
                }
            }
            if (RbacEvaluation.Authorize(request, roles, clusterRoles, roleBindings, clusterRoleBindings) is not null)
            {
                return null;
            }
        }
        var message = RbacEvaluation.ForbiddenMessage(request);
        _denied.Enqueue(message);
        _deniedByToken.Enqueue((token, message));
        var status = StatusObject(403, "Forbidden", message, request.Resource, request.Name);
        var details = status["details"]!.AsObject();
        if (request.ApiGroup.Length > 0)
        {
            details["group"] = request.ApiGroup;
        }
        return status;
    }
}
