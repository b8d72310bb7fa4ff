using System.Text.Json.Nodes;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Testing.Components;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Every removal of guarantee 3, played as an update would play it against the fake API: during the program Pulumi
/// creates what the program declares (the owner ConfigMaps, the static Secrets, the refresher's configuration ConfigMap)
/// and creates or updates each namespace's PullSecretAttachment (the provider's own resource: it adds and removes service
/// account names with the user's access), the run-on-deploy Job runs the refresher with the new configuration (it renews
/// token Secrets and patches no service account), and only then does the engine delete what left the program, dependents
/// first (pulumi/pulumi pkg/resource/deploy/deployment_executor.go performPostSteps, commit 1b5949891b3c; the attachment
/// depends on the PullSecret component, so it is deleted before the Secrets it names); pulumi-kubernetes deletes with
/// foreground propagation by default (provider/pkg/metadata/overrides.go DeletionPropagation, commit 94977969d641), and
/// the fake API's garbage collection deletes the token Secrets with their owner ConfigMaps. Each namespace also holds
/// another owner's Secret and names, which must all stay.
/// </summary>
public sealed class DeprovisioningMatrixTests(ITestOutputHelper output)
{
    private const string Token = "access-pull-tokens";
    private const string Static = "access-pull";
    private const string Theirs = "their-pull";
    private const string RefresherNamespace = "access-refresher-1a2b3c";
    private const string ConfigMap = "registryinfra-refresher-config";
    private const string Ledger = "registryinfra-refresher-attachments";
    private const string SecondServer = "234567890123.dkr.ecr.us-east-1.amazonaws.com";
    private static readonly string[] AllNamespaces = ["apps", "jobs"];
    private static readonly string[] AllAccounts = ["default", "builder"];
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>What the program declares in the cluster; <see cref="Present"/> false once the component is gone.</summary>
    private sealed record Declared(string[] Namespaces, string[] Registries, string[] ServiceAccounts, bool Present = true);

    private static readonly Declared Full = new(AllNamespaces, [RefresherTestBed.EcrServer, SecondServer], AllAccounts);

    public static TheoryData<string, string> Removals => new()
    {
        { "namespace", "jobs leaves namespaces: its attachment, owner ConfigMap and static Secret are deleted after the Job" },
        { "registry", "the second ECR registry leaves profiles: the Job's run removes its entry" },
        { "service account", "builder leaves serviceAccounts: each attachment's update removes its names" },
        { "component", "the ClusterRegistryAccess leaves the program: every child is deleted, attachments first" },
        { "cluster", "the cluster's ClusterRegistryAccess and provider leave the program: the same deletes" },
        { "stack", "pulumi destroy: the same deletes" },
    };

    [Theory]
    [MemberData(nameof(Removals))]
    public async Task Removal_leaves_nothing_of_ours_and_all_of_theirs(string removal, string played)
    {
        await using var bed = await RefresherTestBed.StartAsync();
        var attachments = new AttachmentLifecycle(bed.Api);
        var rbac = new PlannedObjects(bed.Api);
        bed.Api.AddNamespace(RefresherNamespace);
        foreach (var ns in AllNamespaces)
        {
            bed.Api.AddNamespace(ns);
            bed.Api.AddSecret(ns, Theirs, "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = RefresherTestBed.Utf8("""{"auths":{"quay.io":{"auth":"eDp5"}}}""") });
            foreach (var account in AllAccounts)
            {
                bed.Api.AddServiceAccount(ns, account, Theirs);
            }
        }
        await DeployAsync(bed, attachments, rbac, Full, null);
        var before = Count(bed);
        var theirsBefore = Theirs_(bed);

        var steps = removal switch
        {
            "namespace" => [Full with { Namespaces = ["apps"] }],
            "registry" => [Full with { Registries = [RefresherTestBed.EcrServer] }],
            "service account" => [Full with { ServiceAccounts = ["default"] }],
            _ => new[] { Full with { Present = false } },
        };
        var previous = Full;
        foreach (var step in steps)
        {
            await DeployAsync(bed, attachments, rbac, step, previous);
            previous = step;
        }
        var after = Count(bed);
        var left = after.Ours.Except(Expected(previous)).ToList();

        output.WriteLine($"{removal} ({played}): ours before {before.Ours.Count}, after {after.Ours.Count}, left behind {left.Count}"
            + $" [{string.Join(", ", left)}]; theirs before {theirsBefore.Count}, after {Theirs_(bed).Count}");
        Assert.Equal(theirsBefore, Theirs_(bed));
        Assert.Empty(left);
        // Nothing we no longer want is recorded as ours either: no account keeps our annotation for a name it lost.
        Assert.All(AllNamespaces.SelectMany(ns => AllAccounts.Select(a => bed.Api.GetServiceAccount(ns, a))),
            account => Assert.True(account!["metadata"]!["annotations"]?["registryinfra.io/added-image-pull-secrets"] is null
                || ((string)account["metadata"]!["annotations"]!["registryinfra.io/added-image-pull-secrets"]!).Split(',').All(n => account["imagePullSecrets"]!.AsArray().Any(r => (string?)r!["name"] == n))));
    }

    /// <summary>
    /// One update: creates and updates during the program (with the refresher's Roles and bindings as the TokenRefresher
    /// component generates them for this configuration), the Job as the refresher's service account with RBAC enforced, then the
    /// deletes of what left it.
    /// </summary>
    private static async Task DeployAsync(RefresherTestBed bed, AttachmentLifecycle attachments, PlannedObjects rbac, Declared declared, Declared? previous)
    {
        if (declared.Present)
        {
            foreach (var ns in declared.Namespaces)
            {
                if (bed.Api.GetConfigMap(ns, Token) is null)
                {
                    bed.Api.AddConfigMap(ns, Token);
                }
                if (bed.Api.GetSecret(ns, Static) is null)
                {
                    bed.Api.AddSecret(ns, Static, "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = RefresherTestBed.Utf8("""{"auths":{"ghcr.io":{"auth":"b2N0bzpwdw=="}}}""") });
                }
                await attachments.ApplyAsync(ns, declared.ServiceAccounts, [Static, Token], Ct);
            }
            if (bed.Api.GetConfigMap(RefresherNamespace, ConfigMap) is null)
            {
                bed.Api.AddConfigMap(RefresherNamespace, ConfigMap);
            }
            var plan = Plan(declared);
            rbac.Register(plan, PlannedObjects.IsRbac);
            var (refresherNs, refresherAccount) = PlannedObjects.BoundAccount(plan);
            bed.AsServiceAccount(refresherNs, refresherAccount);
            var patchesBefore = bed.Api.RequestCount("PATCH", "serviceaccounts");
            var summary = await bed.RunAsync(Configuration(declared));
            Assert.True(bed.Api.DeniedRequests.Count == 0, "forbidden: " + string.Join("; ", bed.Api.DeniedRequests));
            Assert.Equal(0, summary.Failed);
            // The refresher has no service-account rule in its RBAC any more, and makes no such request.
            Assert.Equal(patchesBefore, bed.Api.RequestCount("PATCH", "serviceaccounts"));
        }
        var gone = declared.Present ? (previous?.Namespaces ?? []).Except(declared.Namespaces).ToList() : previous?.Namespaces.ToList() ?? [];
        foreach (var ns in gone)
        {
            // Dependents first: the attachment names the Secrets, so it goes before them.
            await attachments.DeleteAsync(ns, Ct);
            bed.Api.Delete("configmaps", ns, Token, "Foreground");
            bed.Api.Delete("secrets", ns, Static, "Foreground");
        }
        if (!declared.Present)
        {
            bed.Api.Delete("configmaps", RefresherNamespace, ConfigMap, "Foreground");
            rbac.RegisterNothing();
        }
        rbac.DeleteLeftOut();
    }

    /// <summary>The TokenRefresher component's plan for the same targets, registries and ledger as <see cref="Configuration"/> (asserted equal), for its RBAC.</summary>
    private static ComponentPlan Plan(Declared declared)
    {
        var registries = string.Join(", ", declared.Registries.Select((server, i) => $$"""{ "name": "r{{i}}", "server": "{{server}}", "type": "ecr", "region": "eu-west-1" }"""));
        var namespaces = string.Join(", ", declared.Namespaces.Select(n => $"\"{n}\""));
        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "access-refresher", ComponentPlans.Bind<TokenRefresherArgs>(JsonNode.Parse($$"""
            { "namespace": "{{RefresherNamespace}}", "image": "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
              "registries": [{{registries}}], "targets": [{ "secretName": "{{Token}}", "namespaces": [{{namespaces}}], "owner": "{{Token}}" }] }
            """)!.AsObject()));
        var generated = ConfigurationReading.Read(plan.Children.Single(c => c.Type == TokenRefresherComponent.ConfigMapType && c.Inputs["data"]?[RefresherPod.ConfigKey] is not null)
            .Inputs["data"]![RefresherPod.ConfigKey]!.GetValue<string>());
        var handmade = Configuration(declared);
        Assert.Equal(handmade.Ledger, generated.Ledger);
        Assert.Equal([.. handmade.Targets.Select(t => (t.SecretName, string.Join(",", t.Namespaces), t.ServiceAccounts.Count, t.Owner))],
            generated.Targets.Select(t => (t.SecretName, string.Join(",", t.Namespaces), t.ServiceAccounts.Count, t.Owner)));
        return plan;
    }

    private static RefresherConfiguration Configuration(Declared declared) => RefresherTestBed.Options(tune: o => o with
    {
        Registries = [.. declared.Registries.Select((server, i) => new RegistryConfiguration { Name = $"r{i}", Server = server, Source = new TokenSourceConfiguration { Type = "ecr" } })],
        // As ClusterRegistryAccess generates it: the token Secret, renewed under its owner ConfigMap, attached to nothing.
        Targets = [new TargetConfiguration { SecretName = Token, Namespaces = declared.Namespaces, ServiceAccounts = [], Owner = Token }],
        Ledger = new LedgerConfiguration { Namespace = RefresherNamespace, Name = Ledger, Owner = ConfigMap },
    });

    /// <summary>What of ours the program still wants (the ledger is the refresher's own state and may stay while it runs).</summary>
    private static HashSet<string> Expected(Declared declared)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal);
        if (!declared.Present)
        {
            return expected;
        }
        expected.UnionWith([$"configmaps/{RefresherNamespace}/{ConfigMap}", $"configmaps/{RefresherNamespace}/{Ledger}"]);
        foreach (var ns in declared.Namespaces)
        {
            expected.UnionWith([$"configmaps/{ns}/{Token}", $"secrets/{ns}/{Token}", $"secrets/{ns}/{Static}"]);
            expected.UnionWith(declared.Registries.Select(r => $"entry {ns}/{Token}/{r}"));
            foreach (var account in declared.ServiceAccounts)
            {
                expected.UnionWith([$"name {ns}/{account}/{Token}", $"name {ns}/{account}/{Static}"]);
            }
        }
        return expected;
    }

    private sealed record Figures(HashSet<string> Ours);

    /// <summary>Our objects, our dockerconfigjson entries and the service-account names we added, as they are now.</summary>
    private static Figures Count(RefresherTestBed bed)
    {
        var ours = bed.Api.ObjectKeys().Where(k => k.EndsWith("/" + Token, StringComparison.Ordinal) || k.EndsWith("/" + Static, StringComparison.Ordinal)
            || k.EndsWith("/" + ConfigMap, StringComparison.Ordinal) || k.EndsWith("/" + Ledger, StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        foreach (var ns in AllNamespaces)
        {
            if (bed.DockerConfig(ns, Token) is { } document)
            {
                ours.UnionWith(document["auths"]!.AsObject().Select(kv => $"entry {ns}/{Token}/{kv.Key}"));
            }
            foreach (var account in AllAccounts)
            {
                ours.UnionWith(bed.Api.ImagePullSecrets(ns, account).Where(n => n is Token or Static).Select(n => $"name {ns}/{account}/{n}"));
            }
        }
        return new Figures(ours);
    }

    /// <summary>The other owner's Secret (with its data) and its names, which must never change.</summary>
    private static List<string> Theirs_(RefresherTestBed bed) =>
        [.. AllNamespaces.SelectMany(ns => AllAccounts.Select(a => $"{ns}/{a}: {string.Join(",", bed.Api.ImagePullSecrets(ns, a).Where(n => n == Theirs))}")
            .Append($"{ns}/{Theirs}: {Convert.ToBase64String(bed.Api.GetSecretData(ns, Theirs, ".dockerconfigjson") ?? [])}"))];
}
