using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Testing.Components;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Core.Refresher;

namespace RegistryInfra.Refresher.Tests;


/// <summary>
/// ClusterRegistryAccess with static registries only writes an attach-only refresher configuration: it goes
/// through the refresher's own loader and validator, and a run of it against the in-memory API attaches the
/// static secret.
/// </summary>
public sealed class ClusterAttachOnlyTests : IDisposable
{
    private const string Image = "ghcr.io/acme/registryinfra-refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private readonly string _root = Directory.CreateTempSubdirectory("registryinfra-cluster-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static ClusterRegistryAccessArgs StaticOnly(IReadOnlyList<ClusterRegistryProfile>? extra = null) => new()
    {
        Profiles =
        [
            new ClusterRegistryProfile { Server = "ghcr.io", Username = "octo", Password = "ghp_static-secret-value" },
            new ClusterRegistryProfile { Server = "quay.io", AuthEntry = """{"auth":"cm9ib3Q6cXVheS1zZWNyZXQ="}""" },
            .. extra ?? [],
        ],
        Namespaces = ["apps", "jobs"],
        ServiceAccounts = ["default", "builder"],
        Refresher = new ClusterRefresherSettings { Image = Image },
    };

    private RefresherConfiguration Load(ComponentPlan plan)
    {
        var data = plan.Children.Single(c => c.Type == TokenRefresherComponent.ConfigMapType && c.Inputs["data"]?[RefresherPod.ConfigKey] is not null).Inputs["data"]!.AsObject();
        var path = Path.Combine(_root, RefresherPod.ConfigKey);
        File.WriteAllText(path, data[RefresherPod.ConfigKey]!.GetValue<string>());
        return ConfigurationReading.Load(path);
    }

    [Fact]
    public void The_static_only_configuration_loads_and_validates_as_one_attach_only_target_without_registries()
    {
        var options = Load(ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "edge", StaticOnly()));

        Assert.Empty(options.Registries);
        var target = Assert.Single(options.Targets);
        Assert.True(target.AttachOnly);
        Assert.Equal(("registryinfra-pull", 0), (target.SecretName, target.Registries.Count));
        Assert.Equal(["apps", "jobs"], target.Namespaces);
        Assert.Equal(["default", "builder"], target.ServiceAccounts);
    }

    [Fact]
    public void With_a_token_registry_too_the_configuration_has_both_targets()
    {
        var args = StaticOnly([new ClusterRegistryProfile { Server = "123456789012.dkr.ecr.eu-west-1.amazonaws.com" }]);

        var options = Load(ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "edge", args));

        Assert.Equal(["ecr"], options.Registries.Select(r => r.Source.Type));
        Assert.Equal([("registryinfra-pull-tokens", false), ("registryinfra-pull", true)], options.Targets.Select(t => (t.SecretName, t.AttachOnly)));
        Assert.All(options.Targets, t => Assert.Equal(["default", "builder"], t.ServiceAccounts));
    }

    [Fact]
    public async Task A_run_of_the_generated_configuration_attaches_the_static_secret_that_pulumi_created()
    {
        var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "edge", StaticOnly());
        var options = Load(plan) with { RetryBaseDelay = TimeSpan.FromMilliseconds(5) };
        await using var bed = await RefresherTestBed.StartAsync();
        // The Secrets as Pulumi creates them from the PullSecret's children.
        foreach (var secret in plan.Children.Where(c => c.Type == "kubernetes:core/v1:Secret"))
        {
            var ns = secret.Inputs["metadata"]!["namespace"]!.GetValue<string>();
            bed.Api.AddNamespace(ns);
            var document = secret.Inputs["stringData"]![".dockerconfigjson"]!.GetValue<string>();
            bed.Api.AddSecret(ns, secret.Inputs["metadata"]!["name"]!.GetValue<string>(), secret.Inputs["type"]!.GetValue<string>(),
                new Dictionary<string, byte[]> { [".dockerconfigjson"] = RefresherTestBed.Utf8(document) });
            bed.Api.AddServiceAccount(ns, "default", "team-pull");
            bed.Api.AddServiceAccount(ns, "builder");
        }

        var summary = await bed.RunAsync(options);

        Assert.Equal((2, 0, 4, 0), (summary.Attached, summary.Failed, summary.ServiceAccountsPatched, summary.TokenRequests));
        Assert.Equal(["team-pull", "registryinfra-pull"], bed.Api.ImagePullSecrets("jobs", "default"));
        Assert.Equal(["registryinfra-pull"], bed.Api.ImagePullSecrets("apps", "builder"));
        Assert.Equal(0, bed.Api.WriteCount("secrets"));
        Assert.DoesNotContain("ghp_static-secret-value", bed.Logs.All, StringComparison.Ordinal);
        _ = JsonNode.Parse(bed.Api.GetSecretData("apps", "registryinfra-pull", ".dockerconfigjson")!);
    }
}
