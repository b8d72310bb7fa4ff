using RegistryInfra.Core.Refresher;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Testing.Components;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// ClusterRegistryAccess attaches the pull secrets through a PullSecretAttachment per namespace, not through the refresher:
/// with static registries only there is no refresher at all; with a token registry the refresher's configuration (through
/// its own loader and validator) renews the token Secret and names no service account. Applying the plan's children to
/// the fake API (the Secrets as pulumi-kubernetes creates them, the attachments through the provider) leaves every
/// account naming both secrets after the names it had, and deleting the attachments leaves exactly those it had.
/// </summary>
public sealed class ClusterAttachmentTests : IDisposable
{
    private const string Image = "ghcr.io/acme/registryinfra-refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string StaticPassword = "ghp_static-secret-value";
    private readonly string _root = Directory.CreateTempSubdirectory("registryinfra-cluster-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static ClusterRegistryAccessArgs StaticOnly(IReadOnlyList<ClusterRegistryProfile>? extra = null) => new()
    {
        Profiles =
        [
            new ClusterRegistryProfile { Server = "ghcr.io", Username = "octo", Password = StaticPassword },
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
    public void Static_registries_only_need_no_refresher_and_get_one_attachment_per_namespace()
    {
        var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "edge", StaticOnly());

        Assert.DoesNotContain(plan.Children, c => c.Type.Contains("TokenRefresher", StringComparison.Ordinal) || c.Type.Contains("batch/v1", StringComparison.Ordinal));
        var attachments = plan.Children.Where(c => c.Type == "registryinfra:kubernetes:PullSecretAttachment").ToList();
        Assert.Equal(["apps", "jobs"], attachments.Select(a => a.Inputs["namespace"]!.GetValue<string>()));
        Assert.All(attachments, a => Assert.Equal("""["edge-3b0c05"]""", a.Inputs["secretNames"]!.ToJsonString()));
        Assert.All(attachments, a => Assert.Equal("""["default","builder"]""", a.Inputs["serviceAccounts"]!.ToJsonString()));
    }

    [Fact]
    public void With_a_token_registry_the_refresher_renews_the_token_secret_and_attaches_nothing()
    {
        var args = StaticOnly([new ClusterRegistryProfile { Server = "123456789012.dkr.ecr.eu-west-1.amazonaws.com" }]);

        var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "edge", args);
        var options = Load(plan);

        Assert.Equal(["ecr"], options.Registries.Select(r => r.Source.Type));
        var target = Assert.Single(options.Targets);
        Assert.Equal(("edge-3b0c05-tokens", false, 0), (target.SecretName, target.AttachOnly, target.ServiceAccounts.Count));
        Assert.All(plan.Children.Where(c => c.Type == "registryinfra:kubernetes:PullSecretAttachment"),
            a => Assert.Equal("""["edge-3b0c05","edge-3b0c05-tokens"]""", a.Inputs["secretNames"]!.ToJsonString()));
    }

    [Fact]
    public async Task Applying_the_plan_attaches_both_secrets_after_theirs_and_deleting_it_leaves_theirs()
    {
        var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "edge", StaticOnly());
        await using var bed = await RefresherTestBed.StartAsync();
        foreach (var secret in plan.Children.Where(c => c.Type == "kubernetes:core/v1:Secret"))
        {
            var ns = secret.Inputs["metadata"]!["namespace"]!.GetValue<string>();
            bed.Api.AddNamespace(ns);
            bed.Api.AddSecret(ns, secret.Inputs["metadata"]!["name"]!.GetValue<string>(), secret.Inputs["type"]!.GetValue<string>(),
                new Dictionary<string, byte[]> { [".dockerconfigjson"] = RefresherTestBed.Utf8(secret.Inputs["stringData"]![".dockerconfigjson"]!.GetValue<string>()) });
            bed.Api.AddServiceAccount(ns, "default", "team-pull");
            bed.Api.AddServiceAccount(ns, "builder");
        }
        var attachments = new AttachmentLifecycle(bed.Api);
        await attachments.ApplyPlanAsync(plan, TestContext.Current.CancellationToken);

        Assert.Equal(["team-pull", "edge-3b0c05"], bed.Api.ImagePullSecrets("jobs", "default"));
        Assert.Equal(["edge-3b0c05"], bed.Api.ImagePullSecrets("apps", "builder"));
        Assert.Equal(0, bed.Api.WriteCount("secrets"));
        Assert.Equal(0, bed.Api.RequestCount("GET", "secrets"));

        foreach (var ns in attachments.Namespaces.ToList())
        {
            await attachments.DeleteAsync(ns, TestContext.Current.CancellationToken);
        }
        Assert.Equal(["team-pull"], bed.Api.ImagePullSecrets("jobs", "default"));
        Assert.Empty(bed.Api.ImagePullSecrets("apps", "builder"));
    }
}
