using System.Net;
using System.Text.Json.Nodes;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// The fake API's RBAC evaluator against the API server's own test tables, ported as data: kubernetes/kubernetes
/// plugin/pkg/auth/authorizer/rbac/rbac_test.go (commit 00bdb3fade2ef1ada898bd8fae2c6a1958da3a5d: TestRuleMatches, TestAuthorizer),
/// kubernetes/apiserver pkg/endpoints/request/requestinfo_test.go (commit 24a394e516bfda066d7e2221d7d92c052de27c54:
/// TestGetAPIRequestInfo, TestSelectorParsing), then the same rules over HTTP (bindings, scopes, the 403 Status).
/// </summary>
public sealed class FakeKubeRbacTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>rbac_test.go TestRuleMatches: rule (verbs|groups|resources|urls), request (verb group resource[/subresource] or verb url), expected.</summary>
    public static TheoryData<string, string, string, bool> RuleMatches()
    {
        var data = new TheoryData<string, string, string, bool>();
        void Case(string name, string rule, params (string Request, bool Expected)[] requests)
        {
            foreach (var (request, expected) in requests)
            {
                data.Add(name, rule, request, expected);
            }
        }
        (string, bool)[] Grid(bool[] expected) =>
        [
            ("verb1 group1 resource1", expected[0]), ("verb1 group2 resource1", expected[1]), ("verb1 group1 resource2", expected[2]), ("verb1 group2 resource2", expected[3]),
            ("verb2 group1 resource1", expected[4]), ("verb2 group2 resource1", expected[5]), ("verb2 group1 resource2", expected[6]), ("verb2 group2 resource2", expected[7]),
        ];
        Case("star verb, exact match other", "*|group1|resource1|", Grid([true, false, false, false, true, false, false, false]));
        Case("star group, exact match other", "verb1|*|resource1|", Grid([true, true, false, false, false, false, false, false]));
        Case("star resource, exact match other", "verb1|group1|*|", Grid([true, false, true, false, false, false, false, false]));
        Case("tuple expansion", "verb1,verb2|group1,group2|resource1,resource2|", Grid([true, true, true, true, true, true, true, true]));
        Case("subresource expansion", "*|*|resource1/subresource1|",
            ("verb1 group1 resource1/subresource1", true), ("verb1 group2 resource1/subresource2", false), ("verb1 group1 resource2/subresource1", false), ("verb1 group2 resource2/subresource1", false),
            ("verb2 group1 resource1/subresource1", true), ("verb2 group2 resource1/subresource2", false), ("verb2 group1 resource2/subresource1", false), ("verb2 group2 resource2/subresource1", false));
        Case("star nonresource, exact match other", "verb1|||*",
            ("verb1 /foo", true), ("verb1 /foo/bar", true), ("verb1 /foo/baz", true), ("verb1 /foo/bar/one", true), ("verb1 /foo/baz/one", true),
            ("verb2 /foo", false), ("verb2 /foo/bar", false), ("verb2 /foo/baz", false), ("verb2 /foo/bar/one", false), ("verb2 /foo/baz/one", false));
        Case("star nonresource subpath", "verb1|||/foo/*",
            ("verb1 /foo", false), ("verb1 /foo/bar", true), ("verb1 /foo/baz", true), ("verb1 /foo/bar/one", true), ("verb1 /foo/baz/one", true),
            ("verb1 /notfoo", false), ("verb1 /notfoo/bar", false), ("verb1 /notfoo/baz", false), ("verb1 /notfoo/bar/one", false), ("verb1 /notfoo/baz/one", false));
        Case("star verb, exact nonresource", "*|||/foo,/foo/bar/one",
            ("verb1 /foo", true), ("verb1 /foo/bar", false), ("verb1 /foo/baz", false), ("verb1 /foo/bar/one", true), ("verb1 /foo/baz/one", false),
            ("verb2 /foo", true), ("verb2 /foo/bar", false), ("verb2 /foo/baz", false), ("verb2 /foo/bar/one", true), ("verb2 /foo/baz/one", false));
        return data;
    }

    [Theory]
    [MemberData(nameof(RuleMatches))]
    public void RuleAllows_matches_rbac_test_TestRuleMatches(string name, string rule, string request, bool expected)
    {
        var r = rule.Split('|');
        var parsed = RbacRule.Of(r[0], r[1], r[2], nonResourceUrls: r[3]);
        var parts = request.Split(' ');
        var attributes = parts.Length == 2
            ? new RbacAttributes("u", [], parts[0], "", "") { IsResourceRequest = false, Path = parts[1] }
            : new RbacAttributes("u", [], parts[0], parts[1], parts[2].Split('/')[0], parts[2].Contains('/', StringComparison.Ordinal) ? parts[2].Split('/')[1] : "");
        Assert.True(expected == RbacEvaluation.RuleAllows(attributes, parsed), $"{name}: {request}");
    }

    /// <summary>evaluation_helpers.go ResourceNameMatches: no resourceNames is any name; otherwise the request's name, and a request without one (create, an unrestricted list) matches none.</summary>
    [Theory]
    [InlineData("", "any", true)]
    [InlineData("", "", true)]
    [InlineData("a,b", "b", true)]
    [InlineData("a,b", "c", false)]
    [InlineData("a,b", "", false)]
    public void ResourceNameMatches_empty_is_any_name(string names, string requested, bool expected) =>
        Assert.Equal(expected, RbacEvaluation.ResourceNameMatches(RbacRule.Of("get", "", "secrets", names), requested));

    /// <summary>rbac_test.go TestAuthorizer, the resource cases: (user, groups, verb, resource, subresource, namespace) that must pass or fail.</summary>
    public static TheoryData<string, string, string, string, string, string, string, bool> Authorizer() => new()
    {
        // Case 0: ClusterRole admin (*,*,*) bound by a RoleBinding in ns1 to User admin and Group admins.
        { "*", "admin", "", "get", "Pods", "", "ns1", true },
        { "*", "admin", "", "watch", "Pods", "", "ns1", true },
        { "*", "admin", "group1", "watch", "Foobar", "", "ns1", true },
        { "*", "joe", "admins", "watch", "Foobar", "", "ns1", true },
        { "*", "joe", "group1,admins", "watch", "Foobar", "", "ns1", true },
        { "*", "admin", "", "GET", "Pods", "", "ns2", false },
        { "*", "admin", "", "GET", "Nodes", "", "", false },
        { "*", "admin", "admins", "GET", "Pods", "", "ns2", false },
        { "*", "admin", "admins", "GET", "Nodes", "", "", false },
        // Cases 2 and 3: subresource resolution, a rule on pods (not pods/status), then on pods/status (not pods).
        { "pods", "admin", "", "get", "pods", "", "ns1", true },
        { "pods", "admin", "", "get", "pods", "status", "ns1", false },
        { "pods/status", "admin", "", "get", "pods", "status", "ns1", true },
        { "pods/status", "admin", "", "get", "pods", "", "ns1", false },
    };

    [Theory]
    [MemberData(nameof(Authorizer))]
    public void Authorize_matches_rbac_test_TestAuthorizer(string resources, string user, string groups, string verb, string resource, string subresource, string ns, bool expected)
    {
        var role = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "admin" }, ["rules"] = new JsonArray(Rule("*", "*", resources)) };
        var binding = Binding("admin", "ClusterRole", "admin", new JsonObject { ["kind"] = "User", ["name"] = "admin" }, new JsonObject { ["kind"] = "Group", ["name"] = "admins" });
        var request = new RbacAttributes(user, groups.Length == 0 ? [] : groups.Split(','), verb, "", resource, subresource, ns);

        var allowed = RbacEvaluation.Authorize(request, new Dictionary<(string, string), JsonObject>(), new Dictionary<string, JsonObject> { ["admin"] = role },
            [("ns1", binding)], []);

        Assert.Equal(expected, allowed is not null);
    }

    /// <summary>requestinfo_test.go TestGetAPIRequestInfo (resource paths, special verbs, subresources, verbs, deletecollection, groups) and TestSelectorParsing.</summary>
    [Theory]
    [InlineData("GET", "/api/v1/namespaces", "list", "", "", "namespaces", "", "")]
    [InlineData("GET", "/api/v1/namespaces/other", "get", "", "other", "namespaces", "", "other")]
    [InlineData("GET", "/api/v1/namespaces/other/pods", "list", "", "other", "pods", "", "")]
    [InlineData("GET", "/api/v1/namespaces/other/pods/foo", "get", "", "other", "pods", "", "foo")]
    [InlineData("HEAD", "/api/v1/namespaces/other/pods/foo", "get", "", "other", "pods", "", "foo")]
    [InlineData("GET", "/api/v1/pods", "list", "", "", "pods", "", "")]
    [InlineData("HEAD", "/api/v1/pods", "list", "", "", "pods", "", "")]
    [InlineData("GET", "/api/v1/proxy/namespaces/other/pods/foo", "proxy", "", "other", "pods", "", "foo")]
    [InlineData("GET", "/api/v1/proxy/namespaces/other/pods/foo/subpath/not/a/subresource", "proxy", "", "other", "pods", "", "foo")]
    [InlineData("GET", "/api/v1/watch/pods", "watch", "", "", "pods", "", "")]
    [InlineData("GET", "/api/v1/pods?watch=true", "watch", "", "", "pods", "", "")]
    [InlineData("GET", "/api/v1/pods?watch=false", "list", "", "", "pods", "", "")]
    [InlineData("GET", "/api/v1/watch/namespaces/other/pods", "watch", "", "other", "pods", "", "")]
    [InlineData("GET", "/api/v1/namespaces/other/pods?watch=1", "watch", "", "other", "pods", "", "")]
    [InlineData("GET", "/api/v1/namespaces/other/pods?watch=0", "list", "", "other", "pods", "", "")]
    [InlineData("GET", "/api/v1/namespaces/other/pods/foo/status", "get", "", "other", "pods", "status", "foo")]
    [InlineData("GET", "/api/v1/namespaces/other/pods/foo/proxy/subpath", "get", "", "other", "pods", "proxy", "foo")]
    [InlineData("PUT", "/api/v1/namespaces/other/finalize", "update", "", "other", "namespaces", "finalize", "other")]
    [InlineData("PUT", "/api/v1/namespaces/other/status", "update", "", "other", "namespaces", "status", "other")]
    [InlineData("PATCH", "/api/v1/namespaces/other/pods/foo", "patch", "", "other", "pods", "", "foo")]
    [InlineData("DELETE", "/api/v1/namespaces/other/pods/foo", "delete", "", "other", "pods", "", "foo")]
    [InlineData("POST", "/api/v1/namespaces/other/pods", "create", "", "other", "pods", "", "")]
    [InlineData("DELETE", "/api/v1/nodes", "deletecollection", "", "", "nodes", "", "")]
    [InlineData("DELETE", "/api/v1/namespaces", "deletecollection", "", "", "namespaces", "", "")]
    [InlineData("DELETE", "/api/v1/namespaces/other/pods", "deletecollection", "", "other", "pods", "", "")]
    [InlineData("DELETE", "/apis/extensions/v1/namespaces/other/pods", "deletecollection", "extensions", "other", "pods", "", "")]
    [InlineData("POST", "/apis/extensions/v1/namespaces/other/pods", "create", "extensions", "other", "pods", "", "")]
    [InlineData("POST", "/apis/extensions/v1beta3/namespaces/other/pods", "create", "extensions", "other", "pods", "", "")]
    // TestSelectorParsing: a metadata.name field selector names the list or watch; one that does not parse names nothing.
    [InlineData("GET", "/apis/group/version/resource", "list", "group", "", "resource", "", "")]
    [InlineData("GET", "/apis/group/version/resource?fieldSelector=metadata.name=name1", "list", "group", "", "resource", "", "name1")]
    [InlineData("GET", "/apis/group/version/resource?watch=true&fieldSelector=metadata.name=name1", "watch", "group", "", "resource", "", "name1")]
    [InlineData("GET", "/apis/group/version/resource?fieldSelector=metadata.name=name1,foo", "list", "group", "", "resource", "", "")]
    [InlineData("GET", "/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=true", "watch", "group", "", "resource", "", "")]
    [InlineData("GET", "/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=false", "list", "group", "", "resource", "", "")]
    [InlineData("GET", "/apis/group/version/resource/name?fieldSelector=foo=bar&labelSelector=foo=bar", "get", "group", "", "resource", "", "name")]
    // The refresher's own: a Secret watched by name, and a cluster-wide list of service accounts.
    [InlineData("GET", "/api/v1/namespaces/refresher/secrets?watch=1&fieldSelector=metadata.name%3Dsource", "watch", "", "refresher", "secrets", "", "source")]
    [InlineData("GET", "/api/v1/serviceaccounts?limit=500", "list", "", "", "serviceaccounts", "", "")]
    public void Request_info_matches_requestinfo_test(string method, string url, string verb, string group, string ns, string resource, string subresource, string name)
    {
        var question = url.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? url : url[..question];
        var query = (question < 0 ? "" : url[(question + 1)..]).Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => Uri.UnescapeDataString(g.First().ElementAtOrDefault(1) ?? ""));

        var info = RbacRequestInfo.Resolve(method, path, k => query.GetValueOrDefault(k), "u", []);

        Assert.True(info.IsResourceRequest);
        Assert.Equal((verb, group, ns, resource, subresource, name), (info.Verb, info.ApiGroup, info.Namespace, info.Resource, info.Subresource, info.Name));
    }

    [Fact]
    public void The_denial_reads_as_the_API_servers_errors_test()
    {
        // responsewriters/errors_test.go TestForbidden: a named object with a group and subresource in a namespace, and a cluster-scoped one.
        Assert.Equal("pod.v2 is forbidden: User \"NAME\" cannot get resource \"pod/quota\" in API group \"v2\" in the namespace \"test\"",
            RbacEvaluation.ForbiddenMessage(new RbacAttributes("NAME", [], "get", "v2", "pod", "quota", "test")));
        Assert.Equal("pod \"mypod\" is forbidden: User \"NAME\" cannot get resource \"pod\" in API group \"\" at the cluster scope",
            RbacEvaluation.ForbiddenMessage(new RbacAttributes("NAME", [], "get", "", "pod", Name: "mypod")));
        Assert.Equal("forbidden: User \"NAME\" cannot GET path \"/whatever\"",
            RbacEvaluation.ForbiddenMessage(new RbacAttributes("NAME", [], "GET", "", "") { IsResourceRequest = false, Path = "/whatever" }));
    }

    [Fact]
    public async Task Over_HTTP_a_service_account_may_do_only_what_its_bindings_grant_and_the_admin_everything()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        api.AddNamespace("apps");
        api.AddNamespace("jobs");
        api.AddNamespace("refresher");
        api.AddServiceAccount("apps", "default");
        api.AddServiceAccount("jobs", "default");
        api.AddSecret("apps", "mine", "Opaque", new Dictionary<string, byte[]>());
        api.AddSecret("apps", "other", "Opaque", new Dictionary<string, byte[]>());
        api.AddServiceAccountToken("sa-token", "refresher", "refresher");
        api.RbacEnabled = true;
        using var sa = Client(api, "sa-token");
        using var admin = Client(api, "admin-token");

        // Nothing bound yet: forbidden, with the API server's Status.
        using var denied = await sa.GetAsync("/api/v1/namespaces/apps/serviceaccounts", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        var status = JsonNode.Parse(await denied.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(("Status", "Failure", "Forbidden", 403), (status["kind"]!.GetValue<string>(), status["status"]!.GetValue<string>(), status["reason"]!.GetValue<string>(), status["code"]!.GetValue<int>()));
        Assert.Equal("serviceaccounts is forbidden: User \"system:serviceaccount:refresher:refresher\" cannot list resource \"serviceaccounts\" in API group \"\" in the namespace \"apps\"",
            status["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/namespaces/apps/serviceaccounts", Ct)).StatusCode);

        // A Role in apps, bound in apps (as Pulumi creates them: over the API, by the admin).
        await PostAsync(admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/apps/roles", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "r" },
            ["rules"] = new JsonArray(Rule("list", "", "serviceaccounts"), Rule("get,list,watch", "", "secrets", "mine")),
        });
        await PostAsync(admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/apps/rolebindings", Binding("r", "Role", "r", Account("refresher", "refresher")));
        Assert.Equal(HttpStatusCode.OK, (await sa.GetAsync("/api/v1/namespaces/apps/serviceaccounts", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.GetAsync("/api/v1/namespaces/jobs/serviceaccounts", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.GetAsync("/api/v1/serviceaccounts", Ct)).StatusCode);
        // resourceNames: the named Secret by GET, and by list or watch only through a metadata.name field selector.
        Assert.Equal(HttpStatusCode.OK, (await sa.GetAsync("/api/v1/namespaces/apps/secrets/mine", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.GetAsync("/api/v1/namespaces/apps/secrets/other", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await sa.GetAsync("/api/v1/namespaces/apps/secrets?fieldSelector=metadata.name%3Dmine", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.GetAsync("/api/v1/namespaces/apps/secrets", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.GetAsync("/api/v1/namespaces/apps/secrets?fieldSelector=metadata.name%3Dother", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.PatchAsync("/api/v1/namespaces/apps/serviceaccounts/default",
            new StringContent("{}", System.Text.Encoding.UTF8, "application/merge-patch+json"), Ct)).StatusCode);

        // A RoleBinding to a ClusterRole grants its rules in the binding's namespace only; cluster-scoped namespaces need a ClusterRoleBinding.
        await PostAsync(admin, "/apis/rbac.authorization.k8s.io/v1/clusterroles", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "reader" },
            ["rules"] = new JsonArray(Rule("get,list", "", "serviceaccounts,namespaces")),
        });
        await PostAsync(admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/jobs/rolebindings", Binding("reader", "ClusterRole", "reader", Account("refresher", "refresher")));
        Assert.Equal(HttpStatusCode.OK, (await sa.GetAsync("/api/v1/namespaces/jobs/serviceaccounts/default", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.GetAsync("/api/v1/serviceaccounts", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.GetAsync("/api/v1/namespaces", Ct)).StatusCode);
        // A ServiceAccount subject without a namespace takes the RoleBinding's (rule.go appliesToUser): not the refresher's here.
        await PostAsync(admin, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", Binding("unqualified", "ClusterRole", "reader", new JsonObject { ["kind"] = "ServiceAccount", ["name"] = "refresher" }));
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.GetAsync("/api/v1/namespaces", Ct)).StatusCode);
        await PostAsync(admin, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", Binding("wide", "ClusterRole", "reader", Account("refresher", "refresher")));
        Assert.Equal(HttpStatusCode.OK, (await sa.GetAsync("/api/v1/namespaces", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await sa.GetAsync("/api/v1/serviceaccounts", Ct)).StatusCode);
        // A Role in another namespace bound here is no rule: a RoleBinding's Role is looked up in its own namespace.
        await PostAsync(admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/jobs/rolebindings", Binding("cross", "Role", "r", Account("refresher", "refresher")));
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.GetAsync("/api/v1/namespaces/jobs/secrets?fieldSelector=metadata.name%3Dmine", Ct)).StatusCode);

        // Deleting the binding takes the grant away at once.
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/wide", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await sa.GetAsync("/api/v1/namespaces", Ct)).StatusCode);
        Assert.Contains("namespaces is forbidden: User \"system:serviceaccount:refresher:refresher\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope", api.DeniedRequests);

        // Off: the same request passes (tests that do not enable RBAC are unchanged).
        api.RbacEnabled = false;
        Assert.Equal(HttpStatusCode.OK, (await sa.GetAsync("/api/v1/namespaces", Ct)).StatusCode);
    }

    private static HttpClient Client(FakeKubeApi api, string token)
    {
        var http = new HttpClient { BaseAddress = new Uri(api.Host) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task PostAsync(HttpClient http, string path, JsonObject body)
    {
        using var response = await http.PostAsync(path, new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static JsonObject Rule(string verbs, string groups, string resources, string names = "") => new()
    {
        ["verbs"] = new JsonArray([.. verbs.Split(',').Select(v => (JsonNode)v)]),
        ["apiGroups"] = new JsonArray([.. groups.Split(',').Select(v => (JsonNode)v)]),
        ["resources"] = new JsonArray([.. resources.Split(',').Select(v => (JsonNode)v)]),
        ["resourceNames"] = new JsonArray([.. names.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(v => (JsonNode)v)]),
    };

    private static JsonObject Account(string ns, string name) => new() { ["kind"] = "ServiceAccount", ["name"] = name, ["namespace"] = ns };

    private static JsonObject Binding(string name, string roleKind, string roleName, params JsonObject[] subjects) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = name },
        ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = roleName },
        ["subjects"] = new JsonArray([.. subjects]),
    };
}
