using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Testing.Components;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>
/// The plugin writes Kubernetes objects from its own typed child inputs (Components/Kubernetes). These tests
/// prove against code others wrote that every object a component registers is exactly what KubernetesClient's
/// own models read and write: deserialised with <c>KubernetesJson</c> into its V1 model and written back, it
/// comes out unchanged (no field misnamed, misplaced or of the wrong type).
/// </summary>
public sealed class KubernetesObjectTests
{
    private static readonly Dictionary<string, Type> Models = new(StringComparer.Ordinal)
    {
        ["kubernetes:core/v1:Namespace"] = typeof(V1Namespace),
        ["kubernetes:core/v1:Secret"] = typeof(V1Secret),
        ["kubernetes:core/v1:ServiceAccount"] = typeof(V1ServiceAccount),
        ["kubernetes:core/v1:ConfigMap"] = typeof(V1ConfigMap),
        ["kubernetes:rbac.authorization.k8s.io/v1:Role"] = typeof(V1Role),
        ["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"] = typeof(V1RoleBinding),
        ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"] = typeof(V1ClusterRole),
        ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"] = typeof(V1ClusterRoleBinding),
        ["kubernetes:batch/v1:CronJob"] = typeof(V1CronJob),
        ["kubernetes:batch/v1:Job"] = typeof(V1Job),
    };

    public static TheoryData<string> Clusters => ["token and static registries", "namespace selector"];

    private static ComponentPlan Plan(string cluster) => ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "prod", cluster switch
    {
        "token and static registries" => ComponentPlans.Bind<ClusterRegistryAccessArgs>(JsonNode.Parse(ConstructTests.ClusterInputs("{\\\"auth\\\":\\\"cm9ib3Q6cHc=\\\"}"))!.AsObject()),
        _ => ComponentPlans.Bind<ClusterRegistryAccessArgs>(JsonNode.Parse("""
            {
              "profiles": [{ "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com" }],
              "namespaces": ["apps"],
              "refresher": {
                "image": "ghcr.io/registryinfra/refresher@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "namespace": "platform", "createNamespace": false, "schedule": "*/30 * * * *",
                "serviceAccountAnnotations": { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/puller" },
                "podLabels": { "team": "platform" }
              }
            }
            """)!.AsObject()),
    });

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Every_kubernetes_child_round_trips_through_KubernetesClients_serialiser(string cluster)
    {
        var children = Plan(cluster).Children.Where(c => c.Custom && c.Type.StartsWith("kubernetes:", StringComparison.Ordinal)).ToList();
        Assert.Contains(children, c => c.Type == "kubernetes:batch/v1:CronJob");

        foreach (var child in children)
        {
            Assert.True(Models.TryGetValue(child.Type, out var modelType), $"no model type listed for {child.Type}");
            var written = child.Inputs.ToJsonString();
            var model = Deserialize(written, modelType);
            var rewritten = JsonNode.Parse(KubernetesJson.Serialize(model))!;
            Assert.True(JsonNode.DeepEquals(child.Inputs, rewritten), $"{child.Type} {child.Name}:\n{written}\n{rewritten.ToJsonString()}");
        }
    }

    private static object Deserialize(string json, Type type) =>
        typeof(KubernetesJson).GetMethods()
            .Single(m => m.Name == nameof(KubernetesJson.Deserialize) && m.IsGenericMethod && m.GetParameters() is [{ ParameterType: var p }, _] && p == typeof(string))
            .MakeGenericMethod(type)
            .Invoke(null, [json, null])!;
}
