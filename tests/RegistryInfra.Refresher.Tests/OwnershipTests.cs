using System.Text.Json.Nodes;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Who owns the token Secret and the names in service accounts, against the fake API's garbage collection
/// (FakeKubeApi.Delete: foreground, background and orphan propagation and the absent-owner rule, each cited there
/// from kubernetes.io/docs/concepts/architecture/garbage-collection/ and kubernetes/kubernetes
/// pkg/controller/garbagecollector) and its resourceVersion preconditions (409 on a stale version).
/// </summary>
public sealed class OwnershipTests
{
    private const string Token = "registryinfra-pull-tokens";
    private const string Static = "registryinfra-pull";
    private const string Theirs = "their-pull";
    private const string RefresherNamespace = "registryinfra-system";
    private const string ConfigMap = "registryinfra-refresher-config";
    private const string SecondServer = "234567890123.dkr.ecr.us-east-1.amazonaws.com";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RefresherConfiguration Options(Func<TargetConfiguration, TargetConfiguration>? target = null) =>
        RefresherTestBed.Options(t => (target ?? (x => x))(t with { SecretName = Token, Namespaces = ["apps"], ServiceAccounts = ["default"], Owner = Token }));

    [Theory]
    [InlineData("Foreground")]
    [InlineData("Background")]
    public async Task The_refresher_creates_the_token_secret_under_its_owner_and_deleting_the_owner_deletes_it(string propagation)
    {
        await using var bed = await RefresherTestBed.StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddServiceAccount("apps", "default");
        var uid = bed.Api.AddConfigMap("apps", Token);

        var summary = await bed.RunAsync(Options());

        Assert.Equal(1, summary.Created);
        var reference = Assert.Single(bed.Api.GetSecret("apps", Token)!["metadata"]!["ownerReferences"]!.AsArray())!;
        Assert.Equal(("v1", "ConfigMap", Token, uid), (reference["apiVersion"]!.GetValue<string>(), reference["kind"]!.GetValue<string>(), reference["name"]!.GetValue<string>(), reference["uid"]!.GetValue<string>()));
        // blockOwnerDeletion unset: setting it needs update on the owner's finalizers (OwnerReferencesPermissionEnforcement).
        Assert.Null(reference["blockOwnerDeletion"]);

        bed.Api.Delete("configmaps", "apps", Token, propagation);

        Assert.Null(bed.Api.GetSecret("apps", Token));
        // Foreground: the dependent goes before its owner; background: the owner first, then the collector.
        var order = bed.Api.DeletionLog.ToList();
        Assert.Equal(propagation == "Foreground", order.IndexOf($"secrets/apps/{Token}") < order.IndexOf($"configmaps/apps/{Token}"));
    }

    [Fact]
    public async Task Without_its_owner_no_secret_is_created_so_nothing_can_outlive_a_removed_namespace()
    {
        await using var bed = await RefresherTestBed.StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddServiceAccount("apps", "default");

        var summary = await bed.RunAsync(Options());

        Assert.Equal((0, 1, 0), (summary.Created, summary.Skipped, summary.Failed));
        Assert.Equal("OwnerNotFound", summary.Outcomes.Single().Reason);
        Assert.Null(bed.Api.GetSecret("apps", Token));
        Assert.Empty(bed.Api.ImagePullSecrets("apps", "default"));
    }

    [Fact]
    public async Task A_secret_of_the_same_name_owned_by_someone_else_is_refused_with_that_owner_named_and_left_untouched()
    {
        await using var bed = await RefresherTestBed.StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddServiceAccount("apps", "default");
        bed.Api.AddConfigMap("apps", Token);
        bed.Api.AddSecret("apps", Token, "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = RefresherTestBed.Utf8("""{"auths":{"quay.io":{"auth":"eDp5"}}}""") });
        var before = bed.Api.GetSecret("apps", Token)!.ToJsonString();

        var summary = await bed.RunAsync(Options());

        var outcome = Assert.Single(summary.Outcomes);
        Assert.Equal((TargetResult.Failed, "OwnedElsewhere"), (outcome.Result, outcome.Reason));
        Assert.Contains("belongs to someone else", outcome.Message, StringComparison.Ordinal);
        Assert.Equal(before, bed.Api.GetSecret("apps", Token)!.ToJsonString());
        Assert.Empty(bed.Api.ImagePullSecrets("apps", "default"));
    }

    [Fact]
    public async Task A_removed_registry_loses_only_its_entry_and_an_entry_someone_else_merged_in_stays()
    {
        await using var bed = await RefresherTestBed.StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddServiceAccount("apps", "default");
        bed.Api.AddConfigMap("apps", Token);
        var two = Options() with { Registries = [.. Options().Registries, new RegistryConfiguration { Name = "second", Server = SecondServer, Source = new TokenSourceConfiguration { Type = "ecr", Region = "us-east-1" } }] };
        await bed.RunAsync(two);
        // Another writer merges its entry into the same document (keeping the metadata, as an update with the version it read does).
        var document = bed.DockerConfig("apps", Token)!;
        document["auths"]!["quay.io"] = new JsonObject { ["auth"] = "eDp5" };
        bed.Api.SetSecretData("apps", Token, ".dockerconfigjson", RefresherTestBed.Utf8(document.ToJsonString()));

        var summary = await bed.RunAsync(Options());

        Assert.Equal(1, summary.Updated);
        var auths = bed.DockerConfig("apps", Token)!["auths"]!.AsObject().Select(kv => kv.Key).Order(StringComparer.Ordinal);
        Assert.Equal([RefresherTestBed.EcrServer, "quay.io"], auths);
        Assert.Equal(RefresherTestBed.EcrServer, bed.Api.GetSecret("apps", Token)!["metadata"]!["annotations"]![SecretRefresher.EntriesAnnotation]!.GetValue<string>());
    }

    [Fact]
    public async Task Only_names_the_refresher_added_are_recorded_and_removed()
    {
        await using var bed = await RefresherTestBed.StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddNamespace(RefresherNamespace);
        bed.Api.AddConfigMap(RefresherNamespace, ConfigMap);
        // "registryinfra-pull-tokens" is already named by someone else: not ours to remove later.
        bed.Api.AddServiceAccount("apps", "default", Theirs, Token);
        bed.Api.AddServiceAccount("apps", "builder", Theirs);
        bed.Api.AddConfigMap("apps", Token);
        var ledger = new LedgerConfiguration { Namespace = RefresherNamespace, Name = "registryinfra-refresher-attachments", Owner = ConfigMap };

        await bed.RunAsync(Options(t => t with { ServiceAccounts = ["default", "builder"] }) with { Ledger = ledger });

        Assert.Null(bed.Api.GetServiceAccount("apps", "default")!["metadata"]!["annotations"]?[SecretRefresher.AddedPullSecretsAnnotation]);
        Assert.Equal(Token, bed.Api.GetServiceAccount("apps", "builder")!["metadata"]!["annotations"]![SecretRefresher.AddedPullSecretsAnnotation]!.GetValue<string>());

        var summary = await bed.RunAsync(Options(t => t with { ServiceAccounts = [] }) with { Ledger = ledger });

        Assert.Equal((1, 0), (summary.Detached, summary.DetachFailed));
        Assert.Equal([Theirs, Token], bed.Api.ImagePullSecrets("apps", "default"));
        Assert.Equal([Theirs], bed.Api.ImagePullSecrets("apps", "builder"));
        Assert.Null(bed.Api.GetServiceAccount("apps", "builder")!["metadata"]!["annotations"]?[SecretRefresher.AddedPullSecretsAnnotation]);
        // The ledger is the refresher's own object, owned by its configuration: it goes when the refresher goes.
        bed.Api.Delete("configmaps", RefresherNamespace, ConfigMap);
        Assert.Null(bed.Api.GetConfigMap(RefresherNamespace, "registryinfra-refresher-attachments"));
    }
}
