using RegistryInfra.Core.Refresher;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Every removal of guarantee 3, played as an update would play it against the fake API: Pulumi creates what the
/// program declares (the owner ConfigMaps, the static Secrets, the refresher's configuration ConfigMap), the
/// run-on-deploy Job runs the refresher with the new configuration, and only then does the engine delete what left
/// the program (pulumi/pulumi pkg/resource/deploy/deployment_executor.go performPostSteps, commit 1b5949891b3c;
/// pulumi-kubernetes deletes with foreground propagation by default, provider/pkg/metadata/overrides.go
/// DeletionPropagation, commit 94977969d641). RBAC is played as the component generates it: a Role names only the
/// configured service accounts, updated before the Job (the Job waits for the bindings), and a removed namespace's
/// Role is deleted after it. Each namespace also holds another owner's Secret and names.
/// </summary>
public sealed class DeprovisioningMatrixTests(ITestOutputHelper output)
{
    private const string Token = "registryinfra-pull-tokens";
    private const string Static = "registryinfra-pull";
    private const string Theirs = "their-pull";
    private const string RefresherNamespace = "registryinfra-system";
    private const string ConfigMap = "registryinfra-refresher-config";
    private const string Ledger = "registryinfra-refresher-attachments";
    private const string SecondServer = "234567890123.dkr.ecr.us-east-1.amazonaws.com";
    private static readonly string[] AllNamespaces = ["apps", "jobs"];
    private static readonly string[] AllAccounts = ["default", "builder"];

    /// <summary>What the program declares in the cluster; <see cref="Present"/> false once the component is gone.</summary>
    private sealed record Declared(string[] Namespaces, string[] Registries, string[] ServiceAccounts, bool Present = true);

    private static readonly Declared Full = new(AllNamespaces, [RefresherTestBed.EcrServer, SecondServer], AllAccounts);

    public static TheoryData<string, string, int> Removals => new()
    {
        // removal, how it is played, our entries and objects left behind: 0 where a run of the refresher with the new
        // configuration still holds the RBAC to undo what it added; the rest are service-account names recorded as ours
        // (annotation and ledger) that nothing runs to remove (README "Who owns what", what is left of guarantee 3)
        { "namespace", "jobs leaves namespaces", 0 },
        { "registry", "the second ECR registry leaves profiles", 0 },
        { "service account", "builder leaves serviceAccounts (its Role no longer names it when the Job runs)", 4 },
        { "component", "the ClusterRegistryAccess leaves the program (no Job runs)", 8 },
        { "cluster", "the cluster's ClusterRegistryAccess and provider leave the program (no Job runs)", 8 },
        { "stack", "pulumi destroy (no Job runs)", 8 },
    };

    [Theory]
    [MemberData(nameof(Removals))]
    public async Task Removal_leaves_nothing_of_ours_where_the_job_runs_and_all_of_theirs_everywhere(string removal, string played, int expectedLeft)
    {
        await using var bed = await RefresherTestBed.StartAsync();
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
        await DeployAsync(bed, Full, null);
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
            await DeployAsync(bed, step, previous);
            previous = step;
        }
        var after = Count(bed);
        var left = after.Ours.Except(Expected(previous)).ToList();

        output.WriteLine($"{removal} ({played}): ours before {before.Ours.Count}, after {after.Ours.Count}, left behind {left.Count}"
            + $" [{string.Join(", ", left)}]; theirs before {theirsBefore.Count}, after {Theirs_(bed).Count}");
        Assert.Equal(theirsBefore, Theirs_(bed));
        Assert.Equal(expectedLeft, left.Count);
        // What is left is never an object: only names in service accounts, each recorded as ours for a later run to remove.
        Assert.All(left, l => Assert.StartsWith("name ", l, StringComparison.Ordinal));
    }

    /// <summary>One update: creates and the Job during the program, then the deletes of what left it.</summary>
    private static async Task DeployAsync(RefresherTestBed bed, Declared declared, Declared? previous)
    {
        bed.Api.Forbidden.Clear();
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
            }
            if (bed.Api.GetConfigMap(RefresherNamespace, ConfigMap) is null)
            {
                bed.Api.AddConfigMap(RefresherNamespace, ConfigMap);
            }
            var removedNamespaces = (previous?.Namespaces ?? []).Except(declared.Namespaces).ToList();
            foreach (var ns in AllNamespaces)
            {
                foreach (var account in AllAccounts)
                {
                    var granted = (declared.Namespaces.Contains(ns) && declared.ServiceAccounts.Contains(account))
                        || (removedNamespaces.Contains(ns) && previous!.ServiceAccounts.Contains(account));
                    if (!granted)
                    {
                        bed.Api.Forbidden[$"PATCH serviceaccounts {ns}/{account}"] = true;
                    }
                }
            }
            var summary = await bed.RunAsync(Configuration(declared));
            Assert.Equal(0, summary.Failed);
        }
        var gone = declared.Present ? (previous?.Namespaces ?? []).Except(declared.Namespaces) : previous?.Namespaces ?? [];
        foreach (var ns in gone)
        {
            bed.Api.Delete("configmaps", ns, Token, "Foreground");
            bed.Api.Delete("secrets", ns, Static, "Foreground");
        }
        if (!declared.Present)
        {
            bed.Api.Delete("configmaps", RefresherNamespace, ConfigMap, "Foreground");
        }
    }

    private static RefresherConfiguration Configuration(Declared declared) => RefresherTestBed.Options(tune: o => o with
    {
        Registries = [.. declared.Registries.Select((server, i) => new RegistryConfiguration { Name = $"r{i}", Server = server, Source = new TokenSourceConfiguration { Type = "ecr" } })],
        Targets =
        [
            new TargetConfiguration { SecretName = Token, Namespaces = declared.Namespaces, ServiceAccounts = declared.ServiceAccounts, Owner = Token },
            .. declared.ServiceAccounts.Length > 0
                ? new[] { new TargetConfiguration { SecretName = Static, Namespaces = declared.Namespaces, ServiceAccounts = declared.ServiceAccounts, AttachOnly = true } }
                : [],
        ],
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
