using System.Text;
using System.Text.Json.Nodes;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Testing.Components;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Guarantee 1 after <c>pulumi refresh</c>: pulumi-kubernetes' Read GETs each resource and stores the live object as
/// its outputs (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go, Read → checkpointObject(liveInputs, liveObj),
/// commit 94977969d641; a Secret's <c>data</c> is kept, marked secret, by annotateSecrets). This replays that for every
/// child the components register: the children are applied to the fake API, the refresher runs its generated
/// configuration there (twice, so tokens are renewed), and every child is read back as Read would; no token the
/// refresher obtained may be in any of it. The refresher writes no kind but Secrets it owns, service accounts'
/// <c>imagePullSecrets</c> and its ledger, none of which is a child; a child of another kind (RBAC, CronJob, Job)
/// reads back as applied.
/// </summary>
public sealed class RefreshReplayTests : IDisposable
{
    private const string Image = "ghcr.io/acme/registryinfra-refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private readonly string _root = Directory.CreateTempSubdirectory("registryinfra-replay-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<string> Modes => ["token and static", "token only, service accounts attached", "token only, nothing attached"];

    private static ClusterRegistryAccessArgs Args(string mode) => new()
    {
        Profiles = mode == "token and static"
            ? [new ClusterRegistryProfile { Server = RefresherTestBed.EcrServer }, new ClusterRegistryProfile { Server = "ghcr.io", Username = "octo", Password = "ghp_static-secret-value" }]
            : [new ClusterRegistryProfile { Server = RefresherTestBed.EcrServer }],
        Namespaces = ["apps", "jobs"],
        ServiceAccounts = mode.EndsWith("nothing attached", StringComparison.Ordinal) ? [] : ["default"],
        Refresher = new ClusterRefresherSettings { Image = Image },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task What_pulumi_refresh_would_store_for_every_child_holds_no_token(string mode)
    {
        var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "prod", Args(mode));
        await using var bed = await RefresherTestBed.StartAsync();
        var kubernetes = plan.Children.Where(c => c.Custom && c.Type.StartsWith("kubernetes:", StringComparison.Ordinal)).ToList();
        foreach (var ns in kubernetes.Select(c => c.Inputs["metadata"]?["namespace"]?.GetValue<string>()).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            bed.Api.AddNamespace(ns);
            bed.Api.AddServiceAccount(ns, "default", "their-pull");
        }
        foreach (var child in kubernetes)
        {
            Apply(bed, child);
        }
        // The service-account attachments, created by the provider itself against the same API.
        var attachments = new AttachmentLifecycle(bed.Api);
        await attachments.ApplyPlanAsync(plan, TestContext.Current.CancellationToken);
        var configText = kubernetes.Single(c => c.Type == TokenRefresherComponent.ConfigMapType && c.Inputs["data"]?[RefresherPod.ConfigKey] is not null)
            .Inputs["data"]![RefresherPod.ConfigKey]!.GetValue<string>();
        var path = Path.Combine(_root, RefresherPod.ConfigKey);
        File.WriteAllText(path, configText);
        var options = ConfigurationReading.Load(path) with { RetryBaseDelay = TimeSpan.FromMilliseconds(5) };

        Assert.Equal(0, (await bed.RunAsync(options)).Failed);
        bed.Now += TimeSpan.FromHours(6);
        Assert.Equal(0, (await bed.RunAsync(options)).Failed);

        var tokens = bed.IssuedPasswords.SelectMany(p => new[] { p, Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + p)) }).ToList();
        Assert.Equal(4, tokens.Count);
        // The tokens are in the cluster (so the search below can find them), in Secrets that are no Pulumi resource.
        Assert.Contains(tokens[^1], Encoding.UTF8.GetString(bed.Api.GetSecretData("apps", "prod-3b0c05-tokens", ".dockerconfigjson")!), StringComparison.Ordinal);
        Assert.DoesNotContain(kubernetes, c => c.Type == "kubernetes:core/v1:Secret" && Name(c) == "prod-3b0c05-tokens");
        foreach (var child in plan.Children)
        {
            var stored = child.Type == "registryinfra:kubernetes:PullSecretAttachment"
                ? string.Join(",", (await attachments.ReadAsync(child.Inputs["namespace"]!.GetValue<string>(), TestContext.Current.CancellationToken)).Properties.Select(kv => $"{kv.Key}={kv.Value}"))
                : Read(bed, child);
            Assert.All(tokens, t => Assert.DoesNotContain(t, stored, StringComparison.Ordinal));
        }
        if (mode != "token only, nothing attached")
        {
            // The replay saw the attachments and their read: the token Secret is named in the accounts, the token nowhere in state.
            Assert.Contains("prod-3b0c05-tokens", bed.Api.ImagePullSecrets("apps", "default"));
            Assert.NotEmpty(attachments.Namespaces);
        }
    }

    private static string Name(PlannedChild child) => child.Inputs["metadata"]!["name"]!.GetValue<string>();

    private static void Apply(RefresherTestBed bed, PlannedChild child)
    {
        var ns = child.Inputs["metadata"]?["namespace"]?.GetValue<string>();
        switch (child.Type)
        {
            case "kubernetes:core/v1:Namespace":
                bed.Api.AddNamespace(Name(child));
                break;
            case "kubernetes:core/v1:ConfigMap":
                bed.Api.AddConfigMap(ns!, Name(child), child.Inputs["data"]?.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()));
                break;
            case "kubernetes:core/v1:Secret":
                bed.Api.AddSecret(ns!, Name(child), child.Inputs["type"]!.GetValue<string>(),
                    child.Inputs["stringData"]!.AsObject().ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value!.GetValue<string>())));
                break;
            case "kubernetes:core/v1:ServiceAccount":
                bed.Api.AddServiceAccount(ns!, Name(child));
                break;
        }
    }

    /// <summary>What Read would store: the live object (Secret data decoded too, as it is kept in state), or the inputs for kinds the refresher never writes.</summary>
    private static string Read(RefresherTestBed bed, PlannedChild child)
    {
        var ns = child.Inputs["metadata"]?["namespace"]?.GetValue<string>();
        JsonObject? live = child.Type switch
        {
            "kubernetes:core/v1:ConfigMap" => bed.Api.GetConfigMap(ns!, Name(child)),
            "kubernetes:core/v1:Secret" => bed.Api.GetSecret(ns!, Name(child)),
            "kubernetes:core/v1:ServiceAccount" => bed.Api.GetServiceAccount(ns!, Name(child)),
            _ => null,
        };
        if (live is null)
        {
            return child.Inputs.ToJsonString();
        }
        var text = new StringBuilder(live.ToJsonString());
        foreach (var (_, value) in live["data"]?.AsObject() ?? [])
        {
            if (child.Type == "kubernetes:core/v1:Secret")
            {
                text.Append(Encoding.UTF8.GetString(Convert.FromBase64String(value!.GetValue<string>())));
            }
        }
        return text.ToString();
    }
}
