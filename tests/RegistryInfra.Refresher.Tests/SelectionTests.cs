using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Kubernetes;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Testing.Kubernetes;
using static RegistryInfra.Refresher.Tests.RefresherTestBed;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Issue #14 in CronJob mode: namespaces by label selector (matchLabels and matchExpressions forms) or all, with exclusions;
/// service accounts by name, all or selector; a namespace relabelled into and out of the selection; pruning only ours.
/// </summary>
public sealed class SelectionTests
{
    private const string Instance = "registryinfra";
    private const string Team = "team";

    private static Dictionary<string, string> Labels(params string[] pairs) => pairs.Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);

    private static RefresherConfiguration Selecting(Func<TargetConfiguration, TargetConfiguration> target) =>
        Options(target, o => o with { Instance = Instance });

    private static string? Label(JsonObject? o, string key) => o?["metadata"]?["labels"]?[key]?.GetValue<string>();

    [Fact]
    public async Task A_match_labels_selector_covers_the_matching_namespaces_and_labels_what_it_creates()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("pay", Labels("team=payments"));
        bed.Api.AddNamespace("pay-dev", Labels("team=payments", "env=dev"));
        bed.Api.AddNamespace("shop", Labels("team=shop"));
        foreach (var ns in new[] { "pay", "pay-dev", "shop" })
        {
            bed.Api.AddServiceAccount(ns, "default");
        }
        var selector = new LabelSelector { MatchLabels = new Dictionary<string, string> { [Team] = "payments" } }.ToSelectorString();

        var summary = await bed.RunAsync(Selecting(t => t with { NamespaceSelector = selector, ServiceAccounts = ["default"] }));

        Assert.Equal((2, 2, 0), (summary.Checked, summary.Created, summary.Failed));
        Assert.Equal(Instance, Label(bed.Api.GetSecret("pay", "regcred"), RefresherConfiguration.InstanceLabel));
        Assert.NotNull(bed.Api.GetSecret("pay-dev", "regcred"));
        Assert.Null(bed.Api.GetSecret("shop", "regcred"));
        Assert.Equal(["regcred"], bed.Api.ImagePullSecrets("pay", "default"));
        Assert.Empty(bed.Api.ImagePullSecrets("shop", "default"));
    }

    [Fact]
    public async Task A_match_expressions_selector_uses_the_set_based_grammar_and_not_in_selects_a_namespace_without_the_label()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("a", Labels("tier=web", "env=prod"));
        bed.Api.AddNamespace("b", Labels("tier=api"));
        bed.Api.AddNamespace("c", Labels("tier=web", "env=dev"));
        bed.Api.AddNamespace("d", Labels("tier=batch"));
        bed.Api.AddNamespace("e", Labels("tier=web", "legacy=yes"));
        var selector = new LabelSelector
        {
            MatchExpressions =
            [
                new LabelSelectorRequirement { Key = "tier", Operator = LabelSelectorRequirement.In, Values = ["web", "api"] },
                new LabelSelectorRequirement { Key = "env", Operator = LabelSelectorRequirement.NotIn, Values = ["dev"] },
                new LabelSelectorRequirement { Key = "legacy", Operator = LabelSelectorRequirement.DoesNotExist },
            ],
        }.ToSelectorString();

        var summary = await bed.RunAsync(Selecting(t => t with { NamespaceSelector = selector }));

        Assert.Equal("env notin (dev),!legacy,tier in (api,web)", selector);
        Assert.Equal(["a", "b"], summary.Outcomes.Select(o => o.Namespace).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task All_namespaces_leave_out_exclusions_by_name_and_glob_and_terminating_ones()
    {
        await using var bed = await StartAsync();
        foreach (var ns in new[] { "apps", "kube-system", "kube-public", "default", "jobs", "old" })
        {
            bed.Api.AddNamespace(ns);
        }
        bed.Api.MarkNamespaceTerminating("old");

        var summary = await bed.RunAsync(Selecting(t => t with { AllNamespaces = true, ExcludeNamespaces = ["kube-*", "default"] }));

        Assert.Equal(["apps", "jobs"], summary.Outcomes.Select(o => o.Namespace).Order(StringComparer.Ordinal));
        Assert.Null(bed.Api.GetSecret("kube-system", "regcred"));
        Assert.Null(bed.Api.GetSecret("default", "regcred"));
    }

    [Fact]
    public async Task A_namespace_relabelled_out_loses_our_secret_and_names_but_keeps_theirs_and_a_same_name_secret_without_our_label()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("in", Labels("pull=yes"));
        bed.Api.AddNamespace("out", Labels("pull=yes"));
        bed.Api.AddNamespace("theirs");
        bed.Api.AddServiceAccount("in", "default");
        bed.Api.AddServiceAccount("out", "default", "their-pull");
        bed.Api.AddServiceAccount("out", "builder");
        // A secret of the same name that someone else made, in a namespace we never selected.
        bed.Api.AddSecret("theirs", "regcred", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = Utf8("""{"auths":{}}""") });
        var options = Selecting(t => t with { NamespaceSelector = "pull=yes", ServiceAccounts = ["default", "builder"] });
        await bed.RunAsync(options);
        Assert.Equal(["their-pull", "regcred"], bed.Api.ImagePullSecrets("out", "default"));

        bed.Api.SetNamespaceLabel("out", "pull", null);
        var summary = await bed.RunAsync(options);

        Assert.Equal(1, summary.Pruned);
        Assert.Null(bed.Api.GetSecret("out", "regcred"));
        Assert.Equal(["their-pull"], bed.Api.ImagePullSecrets("out", "default"));
        Assert.Empty(bed.Api.ImagePullSecrets("out", "builder"));
        Assert.Null(bed.Api.GetServiceAccount("out", "default")!["metadata"]!["annotations"]?[SecretRefresher.AddedPullSecretsAnnotation]);
        Assert.NotNull(bed.Api.GetSecret("in", "regcred"));
        Assert.NotNull(bed.Api.GetSecret("theirs", "regcred"));
        Assert.Contains(bed.Logs.Entries, e => e.Contains("Secret out/regcred pruned (the namespace is no longer selected), service accounts detached 2", StringComparison.Ordinal));

        // Relabelled back in: served again.
        bed.Api.SetNamespaceLabel("out", "pull", "yes");
        var back = await bed.RunAsync(options);
        Assert.Equal((1, 0), (back.Created, back.Pruned));
        Assert.Equal(["their-pull", "regcred"], bed.Api.ImagePullSecrets("out", "default"));
    }

    [Fact]
    public async Task An_excluded_namespace_is_pruned_like_one_not_selected()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddNamespace("sandbox-1");
        await bed.RunAsync(Selecting(t => t with { AllNamespaces = true }));
        Assert.NotNull(bed.Api.GetSecret("sandbox-1", "regcred"));

        var summary = await bed.RunAsync(Selecting(t => t with { AllNamespaces = true, ExcludeNamespaces = ["sandbox-*"] }));

        Assert.Equal((1, 1), (summary.Pruned, summary.Unchanged));
        Assert.Null(bed.Api.GetSecret("sandbox-1", "regcred"));
        Assert.NotNull(bed.Api.GetSecret("apps", "regcred"));
    }

    [Fact]
    public async Task A_secret_of_that_name_we_did_not_write_is_refused_in_a_selected_namespace_and_never_labelled()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddSecret("apps", "regcred", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = Utf8("""{"auths":{}}""") });

        var summary = await bed.RunAsync(Selecting(t => t with { AllNamespaces = true }));

        Assert.Equal("OwnedElsewhere", Assert.Single(summary.Outcomes).Reason);
        Assert.Null(Label(bed.Api.GetSecret("apps", "regcred"), RefresherConfiguration.InstanceLabel));
    }

    [Fact]
    public async Task All_service_accounts_and_a_service_account_selector_list_the_accounts_of_each_namespace()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddServiceAccount("apps", "default");
        bed.Api.AddServiceAccount("apps", "builder");
        bed.Api.AddServiceAccount("apps", "web");
        bed.Api.SetLabels("serviceaccounts", "apps", "web", new Dictionary<string, string> { ["pulls"] = "yes" });

        var all = await bed.RunAsync(Selecting(t => t with { AllNamespaces = true, AllServiceAccounts = true }));
        Assert.Equal(3, all.ServiceAccountsPatched);
        foreach (var account in (string[])["default", "builder", "web"])
        {
            Assert.Equal(["regcred"], bed.Api.ImagePullSecrets("apps", account));
        }

        var selected = await bed.RunAsync(Selecting(t => t with { SecretName = "web-pull", AllNamespaces = true, ServiceAccountSelector = "pulls in (yes)" }));
        Assert.Equal(1, selected.ServiceAccountsPatched);
        Assert.Equal(["regcred", "web-pull"], bed.Api.ImagePullSecrets("apps", "web"));
        Assert.Equal(["regcred"], bed.Api.ImagePullSecrets("apps", "builder"));
        // One LIST of the namespace's accounts instead of a GET per account.
        Assert.Equal(0, bed.Api.RequestCount("GET", "serviceaccounts"));
    }

    [Fact]
    public async Task An_account_relabelled_out_of_the_service_account_selector_loses_our_name_and_keeps_theirs()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps", Labels("pull=yes"));
        foreach (var account in (string[])["web", "builder"])
        {
            bed.Api.AddServiceAccount("apps", account, "their-pull");
            bed.Api.SetLabels("serviceaccounts", "apps", account, Labels("pulls=yes"));
        }
        // An account that names a secret of our name without our annotation: the name is someone else's.
        bed.Api.AddServiceAccount("apps", "ops", "web-pull");
        var options = Selecting(t => t with { SecretName = "web-pull", NamespaceSelector = "pull=yes", ServiceAccountSelector = "pulls=yes" });
        var first = await bed.RunAsync(options);
        Assert.Equal((1, 2, 0), (first.Created, first.ServiceAccountsPatched, first.Detached));

        bed.Api.SetLabels("serviceaccounts", "apps", "web", Labels("pulls=no"));
        var second = await bed.RunAsync(options);
        Assert.Equal((0, 0, 1), (second.Written, second.ServiceAccountsPatched, second.Detached));
        Assert.Equal(["their-pull"], bed.Api.ImagePullSecrets("apps", "web"));
        Assert.Null(bed.Api.GetServiceAccount("apps", "web")!["metadata"]!["annotations"]?[SecretRefresher.AddedPullSecretsAnnotation]);
        Assert.Equal(["their-pull", "web-pull"], bed.Api.ImagePullSecrets("apps", "builder"));
        Assert.Equal(["web-pull"], bed.Api.ImagePullSecrets("apps", "ops"));
        // One LIST of the namespace's accounts per run (the selector is matched by the refresher, not sent), and the
        // detach patches the account as listed, without reading it again.
        Assert.Equal((2, 0), (bed.Api.RequestCount("LIST", "serviceaccounts"), bed.Api.RequestCount("GET", "serviceaccounts")));

        var third = await bed.RunAsync(options);
        Assert.Equal((0, 0, 0), (third.Written, third.ServiceAccountsPatched, third.Detached));
    }

    [Fact]
    public async Task An_account_another_target_of_the_same_secret_still_chooses_keeps_the_name_when_it_leaves_one_selector()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddSecret("apps", "shared-pull", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = Utf8("""{"auths":{}}""") });
        foreach (var account in (string[])["web", "builder"])
        {
            bed.Api.AddServiceAccount("apps", account);
            bed.Api.SetLabels("serviceaccounts", "apps", account, Labels("pulls=yes"));
        }
        var bySelector = new TargetConfiguration { SecretName = "shared-pull", AttachOnly = true, Namespaces = ["apps"], ServiceAccountSelector = "pulls=yes" };
        var byName = new TargetConfiguration { SecretName = "shared-pull", AttachOnly = true, Namespaces = ["apps"], ServiceAccounts = ["web"] };
        var options = Options(tune: o => o with { Registries = [], Targets = [bySelector, byName] });
        Assert.Equal(2, (await bed.RunAsync(options)).ServiceAccountsPatched);

        bed.Api.SetLabels("serviceaccounts", "apps", "web", Labels("pulls=no"));
        bed.Api.SetLabels("serviceaccounts", "apps", "builder", Labels("pulls=no"));
        var second = await bed.RunAsync(options);
        Assert.Equal(1, second.Detached);
        Assert.Equal(["shared-pull"], bed.Api.ImagePullSecrets("apps", "web"));
        Assert.Empty(bed.Api.ImagePullSecrets("apps", "builder"));
    }

    [Fact]
    public async Task A_missing_named_account_in_a_selected_namespace_is_skipped_and_attached_when_it_appears()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps", Labels("pull=yes"));
        var options = Selecting(t => t with { NamespaceSelector = "pull", ServiceAccounts = ["builder"] });

        var first = await bed.RunAsync(options);
        Assert.Equal((1, 0, 1), (first.Created, first.Failed, first.MissingServiceAccounts));
        Assert.Equal("Normal", Assert.Single(bed.Api.Events("apps"))["type"]!.GetValue<string>());

        bed.Api.AddServiceAccount("apps", "builder");
        var second = await bed.RunAsync(options);
        Assert.Equal((0, 1), (second.MissingServiceAccounts, second.ServiceAccountsPatched));
        Assert.Equal(["regcred"], bed.Api.ImagePullSecrets("apps", "builder"));
    }

    [Fact]
    public async Task Token_and_copy_secrets_reach_a_namespace_created_after_the_first_run_and_an_unchanged_source_costs_no_write()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("refresher");
        bed.Api.AddNamespace("apps", Labels("pull=yes"));
        var source = Utf8("""{"auths":{"harbor.example.com":{"auth":"cm9ib3Q6c3RhdGlj"}}}""");
        bed.Api.AddSecret("refresher", "static-source", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = source });
        var roleUid = bed.Api.AddClusterRole("registryinfra-refresher");
        var options = Selecting(t => t with { NamespaceSelector = "pull=yes" }) with { };
        options.Targets =
        [
            options.Targets[0] with { ClusterOwner = "registryinfra-refresher" },
            new TargetConfiguration
            {
                SecretName = "static", NamespaceSelector = "pull=yes", ClusterOwner = "registryinfra-refresher",
                Source = new SecretSourceConfiguration { Namespace = "refresher", Name = "static-source" },
            },
        ];
        await bed.RunAsync(options);
        bed.Api.AddNamespace("later", Labels("pull=yes"));

        var summary = await bed.RunAsync(options);

        Assert.Equal((2, 2, 0), (summary.Created, summary.Unchanged, summary.Failed));
        Assert.Equal(source, bed.Api.GetSecretData("later", "static", ".dockerconfigjson"));
        Assert.NotNull(bed.DockerConfig("later"));
        var copy = bed.Api.GetSecret("later", "static")!;
        Assert.NotNull(copy["metadata"]!["annotations"]![RefresherConfiguration.SourceVersionAnnotation]);
        var owner = copy["metadata"]!["ownerReferences"]![0]!;
        Assert.Equal(("rbac.authorization.k8s.io/v1", "ClusterRole", "registryinfra-refresher", roleUid),
            (owner["apiVersion"]!.GetValue<string>(), owner["kind"]!.GetValue<string>(), owner["name"]!.GetValue<string>(), owner["uid"]!.GetValue<string>()));

        bed.Api.ResetCounters();
        var unchanged = await bed.RunAsync(options);
        Assert.Equal((0, 4), (unchanged.Written, unchanged.Unchanged));
        Assert.Equal(0, bed.Api.WriteCount("secrets"));

        // The ClusterRole goes (the component is destroyed): garbage collection removes every copy, in "later" too.
        bed.Api.Delete("clusterroles", "", "registryinfra-refresher", "Background");
        Assert.Null(bed.Api.GetSecret("later", "static"));
        Assert.Null(bed.Api.GetSecret("apps", "regcred"));
        Assert.NotNull(bed.Api.GetSecret("refresher", "static-source"));
    }

    [Fact]
    public async Task A_changed_source_is_copied_again_and_a_missing_cluster_owner_creates_nothing()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("refresher");
        bed.Api.AddNamespace("apps");
        bed.Api.AddSecret("refresher", "src", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = Utf8("""{"auths":{}}""") });
        var options = new RefresherConfiguration
        {
            Instance = Instance,
            Targets = [new TargetConfiguration { SecretName = "static", Namespaces = ["apps"], Source = new SecretSourceConfiguration { Namespace = "refresher", Name = "src" } }],
        };
        Assert.Empty(RefresherConfigurationValidator.Validate(options));
        Assert.Equal(1, (await bed.RunAsync(options)).Created);

        var changed = Utf8("""{"auths":{"x.example.com":{"auth":"eDp5"}}}""");
        bed.Api.SetSecretData("refresher", "src", ".dockerconfigjson", changed);
        Assert.Equal(1, (await bed.RunAsync(options)).Updated);
        Assert.Equal(changed, bed.Api.GetSecretData("apps", "static", ".dockerconfigjson"));

        options.Targets = [options.Targets[0] with { SecretName = "owned", ClusterOwner = "absent-role" }];
        var skipped = await bed.RunAsync(options);
        Assert.Equal(("OwnerNotFound", 0), (Assert.Single(skipped.Outcomes).Reason, skipped.Written));
        Assert.Null(bed.Api.GetSecret("apps", "owned"));
    }

    [Fact]
    public async Task A_thousand_unchanged_namespaces_cost_at_most_two_requests_each_and_no_write_and_the_candidates_are_listed_cluster_wide_in_pages()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespaces(Enumerable.Range(0, 1_000).Select(i => $"team-{i:D4}"), Labels("pull=yes"), "default");
        var options = Selecting(t => t with { NamespaceSelector = "pull=yes", ServiceAccounts = ["default"] }) with { Concurrency = 32 };
        await bed.RunAsync(options);

        bed.Api.ResetCounters();
        var summary = await bed.RunAsync(options);

        Assert.Equal((1_000, 0, 0), (summary.Unchanged, summary.Written, summary.Failed));
        Assert.Equal(0, bed.Api.WriteCount("secrets") + bed.Api.WriteCount("serviceaccounts") + bed.Api.RequestCount("POST", "events"));
        Assert.True(summary.Requests.MaxPerNamespace <= 2, $"max {summary.Requests.MaxPerNamespace} requests in one namespace");
        Assert.Equal(1_000, summary.Requests.Namespaces);
        // Namespaces: 2 pages of 500; our secrets cluster-wide: 2 pages of 500 (never a LIST per namespace).
        Assert.Equal((2, 2), (bed.Api.RequestCount("LIST", "namespaces"), bed.Api.RequestCount("LIST", "secrets")));
        Assert.Equal(bed.Api.TotalRequests, summary.Requests.Total);
        Assert.Equal(1_000, summary.Requests.ByKind["GET secrets"]);
        Assert.Contains(bed.Logs.Entries, e => e.Contains($"requests {summary.Requests.Total} (GET secrets=1000, GET serviceaccounts=1000, LIST namespaces=2, LIST secrets=2), requests per namespace max 2 mean 2.00", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_cluster_wide_secret_list_restarts_after_an_expired_continue_token()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespaces(Enumerable.Range(0, 600).Select(i => $"ns-{i:D3}"), Labels("pull=yes"), serviceAccount: null);
        var options = Selecting(t => t with { NamespaceSelector = "pull=yes" }) with { Concurrency = 32 };
        await bed.RunAsync(options);
        for (var i = 0; i < 600; i += 2)
        {
            bed.Api.SetNamespaceLabel($"ns-{i:D3}", "pull", "no");
        }
        bed.Api.ResetCounters();
        bed.Api.Faults = new FakeKubeFaults { ExpiredContinueTokens = 1 };

        var summary = await bed.RunAsync(options with { });

        // Namespaces: 300 selected, one page. Secrets: the first page, the second refused (410), then both again.
        Assert.Equal((300, 300, 0), (summary.Unchanged, summary.Pruned, summary.Failed));
        Assert.Equal(1 + 1 + 2, bed.Api.RequestCount("LIST", "secrets"));
        Assert.Equal(300, bed.Api.RequestCount("DELETE", "secrets"));
    }

    [Fact]
    public async Task Check_reads_the_copy_source_the_cluster_owner_and_the_selected_accounts_and_a_missing_named_account_is_no_problem()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("refresher");
        bed.Api.AddNamespace("apps", Labels("pull=yes"));
        bed.Api.AddServiceAccount("apps", "default");
        bed.Api.AddClusterRole("owner-role");
        bed.Api.AddSecret("refresher", "src", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = Utf8("""{"auths":{}}""") });
        var options = new RefresherConfiguration
        {
            Instance = Instance,
            Targets =
            [
                new TargetConfiguration { SecretName = "copy", NamespaceSelector = "pull", AllServiceAccounts = true, ClusterOwner = "owner-role", Source = new() { Namespace = "refresher", Name = "src" } },
                new TargetConfiguration { SecretName = "named", NamespaceSelector = "pull", Source = new() { Namespace = "refresher", Name = "src" }, ServiceAccounts = ["absent"] },
            ],
        };
        using var factory = LoggerFactory.Create(b => b.AddProvider(bed.Logs));
        async Task<int> CheckAsync() => await new CheckRun(bed.Client, options, new Dictionary<string, RegistryInfra.Core.Credentials.ICredentialSource>(), TimeProvider.System,
            factory.CreateLogger<CheckRun>(), new NoRegistries()).RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(0, await CheckAsync());
        Assert.Contains(bed.Logs.Entries, e => e.Contains("Service account apps/absent: missing (refresh skips it", StringComparison.Ordinal));
        Assert.Contains(bed.Logs.Entries, e => e.Contains("Service account apps/*: 1 selected", StringComparison.Ordinal));
        Assert.Equal(0, bed.Api.WriteCount("secrets") + bed.Api.WriteCount("serviceaccounts"));

        bed.Api.Delete("secrets", "refresher", "src");
        bed.Api.Delete("clusterroles", "", "owner-role");
        Assert.Equal(3, await CheckAsync());
        Assert.Contains(bed.Logs.Entries, e => e.Contains("Secret refresher/src: missing (source: nothing can be copied)", StringComparison.Ordinal));
        Assert.Contains(bed.Logs.Entries, e => e.Contains("get clusterrole owner-role failed: HTTP 404", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Watch_mode_and_cron_mode_share_one_reconciler_whose_selects_follows_the_labels()
    {
        await using var bed = await StartAsync();
        var options = Selecting(t => t with { NamespaceSelector = "team in (a,b),env!=dev", ExcludeNamespaces = ["kube-*"] });
        using var metrics = new RefresherMetrics(new TestMeterFactory());
        var retry = new TransientRetry(0, TimeSpan.FromMilliseconds(1), TimeProvider.System);
        var reconciler = new NamespaceReconciler(bed.Client, options, null!, null!, retry, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, metrics);
        static RegistryInfra.Refresher.KubernetesApi.V1Namespace Ns(string name, string? phase, params string[] labels) => new()
        {
            Metadata = new() { Name = name, Labels = labels.Select(l => l.Split('=')).ToDictionary(p => p[0], p => p[1]) },
            Status = phase is null ? null : new() { Phase = phase },
        };
        var target = options.Targets[0];

        Assert.True(reconciler.Selects(target, Ns("x", null, "team=a")));
        Assert.True(reconciler.Selects(target, Ns("x", "Active", "team=b", "env=prod")));
        Assert.False(reconciler.Selects(target, Ns("x", null, "team=a", "env=dev")));
        Assert.False(reconciler.Selects(target, Ns("x", null, "team=c")));
        Assert.False(reconciler.Selects(target, Ns("kube-x", null, "team=a")));
        Assert.False(reconciler.Selects(target, Ns("x", "Terminating", "team=a")));
        Assert.Equal(["regcred"], reconciler.PrunableNames());
    }

    private sealed class NoRegistries : IRegistryProbe
    {
        public Task<string?> CheckAsync(RegistryInfra.Core.References.RegistryHost registry, RegistryInfra.Core.Credentials.RegistryCredential credential, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a configuration without registries probes none");
    }
}
