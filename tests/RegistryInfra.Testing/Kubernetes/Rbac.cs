using System.Text.Json.Nodes;

namespace RegistryInfra.Testing.Kubernetes;

/// <summary>
/// What the API server authorizes a request by (k8s.io/apiserver pkg/authorization/authorizer Attributes): the user and its
/// groups, the verb, and for a resource request the API group, resource, subresource, namespace and name. A non-resource
/// request (<see cref="IsResourceRequest"/> false) has a <see cref="Path"/> instead.
/// </summary>
public sealed record RbacAttributes(string User, IReadOnlyList<string> Groups, string Verb, string ApiGroup, string Resource, string Subresource = "",
    string Namespace = "", string Name = "")
{
    public bool IsResourceRequest { get; init; } = true;

    public string Path { get; init; } = "";
}

/// <summary>One rule of a Role or ClusterRole (rbac.authorization.k8s.io/v1 PolicyRule).</summary>
public sealed record RbacRule(IReadOnlyList<string> Verbs, IReadOnlyList<string> ApiGroups, IReadOnlyList<string> Resources,
    IReadOnlyList<string> ResourceNames, IReadOnlyList<string> NonResourceUrls)
{
    public static RbacRule Of(string verbs, string apiGroups, string resources, string resourceNames = "", string nonResourceUrls = "") =>
        new(Split(verbs), Split(apiGroups, keepEmpty: true), Split(resources), Split(resourceNames), Split(nonResourceUrls));

    private static string[] Split(string text, bool keepEmpty = false) =>
        text.Length == 0 ? keepEmpty ? [""] : [] : text.Split(',');

    /// <summary>A rule as the API stores it (<c>verbs</c>, <c>apiGroups</c>, <c>resources</c>, <c>resourceNames</c>, <c>nonResourceURLs</c>).</summary>
    public static RbacRule FromJson(JsonNode? rule) => new(Strings(rule?["verbs"]), Strings(rule?["apiGroups"]), Strings(rule?["resources"]),
        Strings(rule?["resourceNames"]), Strings(rule?["nonResourceURLs"]));

    private static string[] Strings(JsonNode? list) => list is JsonArray a ? [.. a.Select(n => n?.GetValue<string>() ?? "")] : [];
}

/// <summary>
/// The RBAC authorizer's decision, each rule ported (as facts, not code) from kubernetes/kubernetes:
/// <list type="bullet">
/// <item>pkg/apis/rbac/v1/evaluation_helpers.go (commit 03bf11a309fd1369f5c2dc7f3b31d63a97a14d66): <c>VerbMatches</c> (a rule verb
/// <c>*</c> or equal), <c>APIGroupMatches</c> (<c>*</c> or equal; the core group is <c>""</c>), <c>ResourceMatches</c> (<c>*</c>, equal
/// to <c>resource</c> or <c>resource/subresource</c>, or <c>*/subresource</c> for a request with that subresource; a rule on
/// <c>pods</c> does not match <c>pods/status</c>), <c>ResourceNameMatches</c> (no resourceNames: any name, else the request's
/// name must be listed; a request without a name, such as a create or an unrestricted list, matches no listed name),
/// <c>NonResourceURLMatches</c> (<c>*</c>, equal, or a prefix ending in <c>*</c>).</item>
/// <item>plugin/pkg/auth/authorizer/rbac/rbac.go (commit 01aa0f3f6052c9866dcb69054d8924fa8c96e3cb): <c>RuleAllows</c> (all four
/// matches for a resource request; verb and URL otherwise); allowed as soon as one rule of one applicable binding allows, else
/// no opinion (denied, RBAC being the only authorizer here).</item>
/// <item>pkg/registry/rbac/validation/rule.go (commit 05c351a9037bd79bf88c56171a951c3097b658da): <c>VisitRulesFor</c> visits every
/// ClusterRoleBinding (its ClusterRole applies in every namespace and to cluster-scoped requests), then, only when the request has
/// a namespace, the RoleBindings of that namespace, whose roleRef names a Role of that same namespace or a ClusterRole (whose
/// rules then apply in the binding's namespace only); <c>appliesToUser</c>: a User subject by name, a Group subject by one of
/// the user's groups, a ServiceAccount subject as <c>system:serviceaccount:&lt;namespace&gt;:&lt;name&gt;</c>, its namespace
/// defaulting to the binding's (none for a ClusterRoleBinding: then it never applies); a missing Role is no rule.</item>
/// </list>
/// </summary>
public static class RbacEvaluation
{
    public static bool VerbMatches(RbacRule rule, string verb) => rule.Verbs.Any(v => v == "*" || v == verb);

    public static bool ApiGroupMatches(RbacRule rule, string group) => rule.ApiGroups.Any(g => g == "*" || g == group);

    public static bool ResourceMatches(RbacRule rule, string combinedResource, string subresource) => rule.Resources.Any(r =>
        r == "*" || r == combinedResource
        || (subresource.Length > 0 && r.Length == subresource.Length + 2 && r.StartsWith("*/", StringComparison.Ordinal) && r.EndsWith(subresource, StringComparison.Ordinal)));

    public static bool ResourceNameMatches(RbacRule rule, string name) => rule.ResourceNames.Count == 0 || rule.ResourceNames.Contains(name);

    public static bool NonResourceUrlMatches(RbacRule rule, string path) => rule.NonResourceUrls.Any(u =>
        u == "*" || u == path || (u.EndsWith('*') && path.StartsWith(u.TrimEnd('*'), StringComparison.Ordinal)));

    public static bool RuleAllows(RbacAttributes request, RbacRule rule)
    {
        if (!request.IsResourceRequest)
        {
            return VerbMatches(rule, request.Verb) && NonResourceUrlMatches(rule, request.Path);
        }
        var combined = request.Subresource.Length > 0 ? request.Resource + "/" + request.Subresource : request.Resource;
        return VerbMatches(rule, request.Verb) && ApiGroupMatches(rule, request.ApiGroup)
            && ResourceMatches(rule, combined, request.Subresource) && ResourceNameMatches(rule, request.Name);
    }

    /// <summary>Whether a binding's subject is this user (rule.go appliesToUser); <paramref name="bindingNamespace"/> is "" for a ClusterRoleBinding.</summary>
    public static bool AppliesTo(RbacAttributes request, JsonNode? subject, string bindingNamespace)
    {
        var kind = subject?["kind"]?.GetValue<string>() ?? "";
        var name = subject?["name"]?.GetValue<string>() ?? "";
        switch (kind)
        {
            case "User":
                return request.User == name;
            case "Group":
                return request.Groups.Contains(name);
            case "ServiceAccount":
                var ns = subject?["namespace"]?.GetValue<string>() is { Length: > 0 } given ? given : bindingNamespace;
                return ns.Length > 0 && request.User == ServiceAccountUser(ns, name);
            default:
                return false;
        }
    }

    /// <summary>
    /// A service account's user name and groups (kubernetes/apiserver pkg/authentication/serviceaccount/util.go, commit
    /// 24a394e516bfda066d7e2221d7d92c052de27c54: MakeUsername, MakeGroupNames; plus <c>system:authenticated</c>, pkg/authentication/user/user.go).
    /// </summary>
    public static string ServiceAccountUser(string ns, string name) => $"system:serviceaccount:{ns}:{name}";

    public static string[] ServiceAccountGroups(string ns) => ["system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"];

    /// <summary>
    /// The decision over the stored RBAC objects (each as the API stores it: <c>metadata</c>, <c>rules</c>, <c>roleRef</c>,
    /// <c>subjects</c>); <paramref name="roles"/> by (namespace, name), <paramref name="clusterRoles"/> by name, <paramref name="roleBindings"/>
    /// with their namespace. Returns the binding that allowed it, or null.
    /// </summary>
    public static string? Authorize(RbacAttributes request, IReadOnlyDictionary<(string Namespace, string Name), JsonObject> roles,
        IReadOnlyDictionary<string, JsonObject> clusterRoles, IEnumerable<(string Namespace, JsonObject Binding)> roleBindings, IEnumerable<JsonObject> clusterRoleBindings)
    {
        foreach (var binding in clusterRoleBindings)
        {
            if (!Subjects(binding).Any(s => AppliesTo(request, s, "")))
            {
                continue;
            }
            // A ClusterRoleBinding can refer only to a ClusterRole.
            if (RoleRef(binding) is ("ClusterRole", var name) && clusterRoles.TryGetValue(name, out var role) && Rules(role).Any(r => RuleAllows(request, r)))
            {
                return $"ClusterRoleBinding \"{Name(binding)}\" of ClusterRole \"{name}\"";
            }
        }
        if (request.Namespace.Length == 0)
        {
            return null;
        }
        foreach (var (ns, binding) in roleBindings.Where(b => b.Namespace == request.Namespace))
        {
            if (!Subjects(binding).Any(s => AppliesTo(request, s, ns)))
            {
                continue;
            }
            var rules = RoleRef(binding) switch
            {
                ("Role", var name) when roles.TryGetValue((ns, name), out var role) => Rules(role),
                ("ClusterRole", var name) when clusterRoles.TryGetValue(name, out var role) => Rules(role),
                _ => [],
            };
            if (rules.Any(r => RuleAllows(request, r)))
            {
                return $"RoleBinding \"{Name(binding)}/{ns}\" of {RoleRef(binding).Kind} \"{RoleRef(binding).Name}\"";
            }
        }
        return null;
    }

    private static string Name(JsonObject o) => o["metadata"]?["name"]?.GetValue<string>() ?? "";

    private static IEnumerable<JsonNode?> Subjects(JsonObject binding) => binding["subjects"] as JsonArray ?? [];

    private static (string Kind, string Name) RoleRef(JsonObject binding) =>
        (binding["roleRef"]?["kind"]?.GetValue<string>() ?? "", binding["roleRef"]?["name"]?.GetValue<string>() ?? "");

    private static List<RbacRule> Rules(JsonObject role) => (role["rules"] as JsonArray ?? []).Select(RbacRule.FromJson).ToList();

    /// <summary>
    /// The Status body of a denial, as the API server writes it (kubernetes/apiserver pkg/endpoints/handlers/responsewriters/errors.go,
    /// commit 24a394e516bfda066d7e2221d7d92c052de27c54, forbiddenMessage and ForbiddenStatusError, with apimachinery's NewForbidden:
    /// <c>&lt;resource&gt;[.&lt;group&gt;] ["&lt;name&gt;"] is forbidden: User "…" cannot &lt;verb&gt; resource "…" in API group "…" in the namespace "…"</c>,
    /// or <c>at the cluster scope</c>; details name, group and kind (the resource)).
    /// </summary>
    public static string ForbiddenMessage(RbacAttributes request)
    {
        if (!request.IsResourceRequest)
        {
            return $"forbidden: User \"{request.User}\" cannot {request.Verb} path \"{request.Path}\"";
        }
        var resource = request.Subresource.Length > 0 ? request.Resource + "/" + request.Subresource : request.Resource;
        var scope = request.Namespace.Length > 0 ? $"in the namespace \"{request.Namespace}\"" : "at the cluster scope";
        var qualified = request.ApiGroup.Length > 0 ? request.Resource + "." + request.ApiGroup : request.Resource;
        var subject = request.Name.Length > 0 ? $"{qualified} \"{request.Name}\"" : qualified;
        return $"{subject} is forbidden: User \"{request.User}\" cannot {request.Verb} resource \"{resource}\" in API group \"{request.ApiGroup}\" {scope}";
    }
}

/// <summary>
/// The request's attributes from its method, path and query, as kubernetes/apiserver pkg/endpoints/request/requestinfo.go
/// (commit 24a394e516bfda066d7e2221d7d92c052de27c54, NewRequestInfo) derives them: <c>/api/v1/…</c> is the core group ("")
/// and <c>/apis/&lt;group&gt;/&lt;version&gt;/…</c> a named one; <c>namespaces/&lt;ns&gt;/&lt;resource&gt;[/&lt;name&gt;[/&lt;subresource&gt;]]</c>
/// (a namespace's own <c>status</c> and <c>finalize</c> stay subresources of <c>namespaces</c>, and <c>GET /api/v1/namespaces/x</c>
/// is in the namespace x); the verb from the method (POST create, GET and HEAD get, PUT update, PATCH patch, DELETE delete), a
/// GET without a name being <c>list</c>, or <c>watch</c> when the query's <c>watch</c> is anything but <c>false</c> or <c>0</c>, and a DELETE without
/// a name <c>deletecollection</c>; <c>/watch/…</c> and <c>/proxy/…</c> name the verb in the path; a list or watch whose <c>fieldSelector</c> requires <c>metadata.name</c> to equal one value
/// gets that name (so resourceNames can restrict it), unless the selector does not parse (then no name).
/// </summary>
public static class RbacRequestInfo
{
    public static RbacAttributes Resolve(string method, string path, Func<string, string?> query, string user, IReadOnlyList<string> groups)
    {
        var parts = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var group = "";
        int at;
        if (parts is ["api", _, ..])
        {
            at = 2;
        }
        else if (parts is ["apis", _, _, _, ..])
        {
            group = parts[1];
            at = 3;
        }
        else
        {
            return new RbacAttributes(user, groups, method.ToLowerInvariant(), "", "") { IsResourceRequest = false, Path = path };
        }
        var verb = method switch
        {
            "POST" => "create",
            "GET" or "HEAD" => "get",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => "",
        };
        var rest = parts[at..];
        // The deprecated verb-in-path forms /watch/… and /proxy/… (specialVerbs); a proxy's further segments are no subresource.
        var special = rest is ["watch" or "proxy", _, ..];
        if (special)
        {
            verb = rest[0];
            rest = rest[1..];
        }
        var ns = "";
        if (rest is ["namespaces", var n, ..])
        {
            ns = n;
            if (rest.Length > 2 && rest[2] is not ("status" or "finalize"))
            {
                rest = rest[2..];
            }
        }
        var resource = rest.Length >= 1 ? rest[0] : "";
        var name = rest.Length >= 2 ? rest[1] : "";
        var subresource = rest.Length >= 3 && verb != "proxy" ? rest[2] : "";
        if (name.Length == 0 && verb == "get")
        {
            verb = query("watch") is { } w && w.ToLowerInvariant() is not ("false" or "0") ? "watch" : "list";
            if (query("fieldSelector") is { Length: > 0 } selector && FieldSelector.TryParse(selector, out var fields, out _)
                && fields.RequiredName() is { } required && required.Length > 0 && required is not ("." or "..") && !required.Contains('/') && !required.Contains('%'))
            {
                name = required;
            }
        }
        if (name.Length == 0 && verb == "delete")
        {
            verb = "deletecollection";
        }
        return new RbacAttributes(user, groups, verb, group, resource, subresource, ns, name);
    }
}
