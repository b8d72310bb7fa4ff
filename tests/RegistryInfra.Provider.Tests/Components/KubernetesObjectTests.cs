using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Engine;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>
/// The plugin writes Kubernetes objects with generated JSON code (KubernetesModelJson) so that NativeAOT keeps
/// only the models it uses. These tests prove that every object a component registers is exactly what
/// KubernetesClient's own serialiser reads and writes: deserialised with <c>KubernetesJson</c> and written back,
/// it comes out unchanged, and it is the same text <c>KubernetesJson</c> writes for the same model.
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

    private static ComponentPlan Plan(string cluster) => ClusterRegistryAccessBuilder.Build("prod", cluster switch
    {
        "token and static registries" => ComponentConstruct.Bind<ClusterRegistryAccessArgs>(JsonNode.Parse(ConstructTests.ClusterInputs("{\\\"auth\\\":\\\"cm9ib3Q6cHc=\\\"}"))!.AsObject()),
        _ => ComponentConstruct.Bind<ClusterRegistryAccessArgs>(JsonNode.Parse("""
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

    [Fact]
    public void Generated_json_equals_KubernetesClients_for_a_model_with_quantities_and_security_context()
    {
        var job = new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta { Name = "j", NamespaceProperty = "ns", Labels = new Dictionary<string, string> { ["a"] = "b" } },
            Spec = new V1JobSpec
            {
                BackoffLimit = 2,
                Template = new V1PodTemplateSpec
                {
                    Spec = new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        SecurityContext = new V1PodSecurityContext { RunAsNonRoot = true, SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" } },
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "c",
                                Image = "img",
                                Resources = new V1ResourceRequirements
                                {
                                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m"), ["memory"] = new("64Mi") },
                                    Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("128Mi") },
                                },
                                SecurityContext = new V1SecurityContext { AllowPrivilegeEscalation = false, Capabilities = new V1Capabilities { Drop = ["ALL"] } },
                            },
                        ],
                    },
                },
            },
        };

        var ours = RegistryInfra.Provider.Components.KubernetesObject.ToInputs(job);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(KubernetesJson.Serialize(job)), ours), ours.ToJsonString());
        Assert.Equal("64Mi", ours["spec"]!["template"]!["spec"]!["containers"]![0]!["resources"]!["requests"]!["memory"]!.GetValue<string>());
    }

    private static object Deserialize(string json, Type type) =>
        typeof(KubernetesJson).GetMethods()
            .Single(m => m.Name == nameof(KubernetesJson.Deserialize) && m.IsGenericMethod && m.GetParameters() is [{ ParameterType: var p }, _] && p == typeof(string))
            .MakeGenericMethod(type)
            .Invoke(null, [json, null])!;
}
