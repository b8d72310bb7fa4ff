using System.Collections.Immutable;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Testing.Components;
using RegistryInfra.Testing.Kubernetes;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>
/// What pulumi-kubernetes does with the owner ConfigMaps the components register, played against the fake API's
/// server-side apply (its default mode: a create is an apply patch, an upsert, with the provider's field manager
/// <c>pulumi-kubernetes-RANDOM</c> and no force; pulumi/pulumi-kubernetes at 0012b9d2d0417b46995cabe1edb9f659fbb65d7f,
/// provider/pkg/await/await.go <c>Creation</c>). Two stacks that force one Secret name into one namespace meet on the
/// owner ConfigMap: its <c>registryinfra.io/owner</c> annotation is each component's URN, so the second stack's apply
/// changes a field the first stack's manager owns and the API server refuses it (kubernetes.io/docs/reference/using-api/
/// server-side-apply/#conflicts); an apply of the owning stack, whatever input of the component changes, never touches
/// the token Secret the refresher wrote.
/// </summary>
public sealed class ServerSideApplyOwnershipTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Json = """
        { "profiles": [{ "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "kind": "ecr" }], "namespaces": ["apps"],
          "secretName": "shared-pull", "attachServiceAccounts": false,
          "refresher": { "image": "ghcr.io/a/r@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" } }
        """;

    private static async Task<JsonObject> OwnerConfigMapAsync(string stack, string extra = "")
    {
        await using var monitor = await FakeResourceMonitor.StartAsync(Ct);
        monitor.DryRun = false;
        var inputs = JsonNode.Parse(Json)!.AsObject();
        if (extra.Length > 0)
        {
            inputs["secretName"] = extra;
        }
        var request = new ConstructRequest("registryinfra:index:ClusterRegistryAccess", "access", $"urn:pulumi:{stack}::fleet::pulumi:pulumi:Stack::fleet-{stack}",
            inputs.ToImmutableSortedDictionary(kv => kv.Key, kv => ComponentPlans.FromJson(kv.Value), StringComparer.Ordinal),
            ImmutableDictionary<string, ImmutableArray<string>>.Empty,
            new DeploymentContext("fleet", stack, "org", ImmutableDictionary<string, string>.Empty, [], false, 4, monitor.Endpoint),
            ImmutableDictionary<string, string>.Empty, [], [], new ConstructOptions(null, [], null, "", null, [], [], null, []), AcceptsOutputValues: true);
        await RegistryInfraPackage.CreateProvider().ConstructAsync(request, Ct);
        var owner = monitor.Registrations.Single(r => r.Type == "kubernetes:core/v1:ConfigMap" && r.Name.EndsWith("-tokens-owner", StringComparison.Ordinal));
        return ComponentPlans.ToJson(owner.Inputs).Json;
    }

    private static async Task<(HttpStatusCode Code, string Body)> ApplyAsync(FakeKubeApi api, JsonObject configMap, string manager)
    {
        using var http = new HttpClient { BaseAddress = new Uri(api.Host) };
        var name = configMap["metadata"]!["name"]!.GetValue<string>();
        using var content = new StringContent(configMap.ToJsonString(), Encoding.UTF8, "application/apply-patch+yaml");
        using var response = await http.PatchAsync($"/api/v1/namespaces/apps/configmaps/{name}?fieldManager={manager}", content, Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_second_stack_forcing_the_same_name_is_refused_by_the_api_server_naming_the_field()
    {
        await using var api = await FakeKubeApi.StartAsync(null, Ct);
        api.AddNamespace("apps");
        var first = await OwnerConfigMapAsync("stack-a");
        var second = await OwnerConfigMapAsync("stack-b");
        Assert.NotEqual(first["metadata"]!["annotations"]!.ToJsonString(), second["metadata"]!["annotations"]!.ToJsonString());

        Assert.Equal(HttpStatusCode.Created, (await ApplyAsync(api, first, "pulumi-kubernetes-aaaa")).Code);
        var (code, body) = await ApplyAsync(api, second, "pulumi-kubernetes-bbbb");

        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Contains("conflict with \"pulumi-kubernetes-aaaa\": .metadata.annotations.registryinfra.io/owner", JsonNode.Parse(body)!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(first["metadata"]!["annotations"]!["registryinfra.io/owner"]!.GetValue<string>(),
            api.GetConfigMap("apps", "shared-pull-tokens")!["metadata"]!["annotations"]!["registryinfra.io/owner"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_owning_stack_reapplies_freely_and_never_touches_the_token_secret()
    {
        await using var api = await FakeKubeApi.StartAsync(null, Ct);
        api.AddNamespace("apps");
        var owner = await OwnerConfigMapAsync("stack-a");
        Assert.Equal(HttpStatusCode.Created, (await ApplyAsync(api, owner, "pulumi-kubernetes-aaaa")).Code);
        // The refresher's Secret beside it, with tokens.
        api.AddSecret("apps", "shared-pull-tokens", "kubernetes.io/dockerconfigjson",
            new Dictionary<string, byte[]> { [".dockerconfigjson"] = Encoding.UTF8.GetBytes("""{"auths":{"123456789012.dkr.ecr.eu-west-1.amazonaws.com":{"auth":"QVdTOnRva2Vu"}}}""") });
        var secretBefore = api.GetSecret("apps", "shared-pull-tokens")!.ToJsonString();

        // A later update changes the component's labels: the same manager applies again.
        owner["metadata"]!["labels"]!["team"] = "payments";
        Assert.Equal(HttpStatusCode.OK, (await ApplyAsync(api, owner, "pulumi-kubernetes-aaaa")).Code);

        Assert.Equal("payments", api.GetConfigMap("apps", "shared-pull-tokens")!["metadata"]!["labels"]!["team"]!.GetValue<string>());
        Assert.Equal(secretBefore, api.GetSecret("apps", "shared-pull-tokens")!.ToJsonString());
    }

    [Fact]
    public async Task The_fake_api_shares_a_field_two_managers_apply_alike_and_forced_apply_takes_it_over()
    {
        // The server-side apply semantics the tests above rely on, each as the documentation states it.
        await using var api = await FakeKubeApi.StartAsync(null, Ct);
        api.AddNamespace("apps");
        var map = JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"m","namespace":"apps","annotations":{"a.example/x":"1"}}}""")!.AsObject();
        Assert.Equal(HttpStatusCode.Created, (await ApplyAsync(api, map, "one")).Code);
        Assert.Equal(HttpStatusCode.OK, (await ApplyAsync(api, map, "two")).Code);
        map["metadata"]!["annotations"]!["a.example/x"] = "2";
        Assert.Equal(HttpStatusCode.Conflict, (await ApplyAsync(api, map, "two")).Code);

        using var http = new HttpClient { BaseAddress = new Uri(api.Host) };
        using var content = new StringContent(map.ToJsonString(), Encoding.UTF8, "application/apply-patch+yaml");
        using var forced = await http.PatchAsync("/api/v1/namespaces/apps/configmaps/m?fieldManager=two&force=true", content, Ct);
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        Assert.Equal("2", api.GetConfigMap("apps", "m")!["metadata"]!["annotations"]!["a.example/x"]!.GetValue<string>());
        // A field its only manager stops applying is removed.
        map["metadata"]!.AsObject().Remove("annotations");
        map["metadata"]!["labels"] = new JsonObject { ["k"] = "v" };
        Assert.Equal(HttpStatusCode.OK, (await ApplyAsync(api, map, "two")).Code);
        Assert.Null(api.GetConfigMap("apps", "m")!["metadata"]!["annotations"]?["a.example/x"]);
    }
}
