using RegistryInfra.Core.Refresher;

namespace RegistryInfra.Core.Tests.Refresher;

/// <summary>The refresher configuration's selection, copy and watch fields: read and written, and every bad value a problem naming its field.</summary>
public sealed class SelectionConfigurationTests
{
    private static readonly RegistryConfiguration Ecr = new()
    {
        Server = "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        Source = new TokenSourceConfiguration { Type = TokenSourceConfiguration.Ecr },
    };

    private static RefresherConfiguration With(params TargetConfiguration[] targets) =>
        new() { Registries = [Ecr], Targets = targets, Instance = "registryinfra" };

    private static List<string> Problems(RefresherConfiguration configuration) =>
        [.. RefresherConfigurationValidator.Validate(configuration).Select(p => p.ToString())];

    [Fact]
    public void The_new_fields_are_written_in_camel_case_and_read_back_equal()
    {
        var configuration = new RefresherConfiguration
        {
            Registries = [Ecr],
            Instance = "refresher-ns",
            Watch = new WatchConfiguration { LeaseNamespace = "refresher-ns", LeaseName = "leader", LeaseDuration = TimeSpan.FromSeconds(30), Resync = TimeSpan.FromMinutes(5) },
            Targets =
            [
                new TargetConfiguration
                {
                    SecretName = "pull", NamespaceSelector = "team in (a,b),!legacy", ExcludeNamespaces = ["kube-*", "default"],
                    ServiceAccountSelector = "pulls=yes", ClusterOwner = "registryinfra:refresher",
                },
                new TargetConfiguration
                {
                    SecretName = "static", AllNamespaces = true, AllServiceAccounts = true,
                    Source = new SecretSourceConfiguration { Namespace = "refresher-ns", Name = "static-source" },
                },
            ],
        };

        var json = RefresherConfigurationJson.ToJson(configuration);
        var problems = new List<ConfigurationProblem>();
        var read = RefresherConfigurationJson.FromJson(json, problems);

        Assert.Empty(problems);
        Assert.NotNull(read);
        Assert.Equal(json, RefresherConfigurationJson.ToJson(read));
        Assert.Contains("\"excludeNamespaces\":[\"kube-*\",\"default\"]", json, StringComparison.Ordinal);
        Assert.Contains("\"source\":{\"namespace\":\"refresher-ns\",\"name\":\"static-source\"}", json, StringComparison.Ordinal);
        Assert.Contains("\"watch\":{\"leaseNamespace\":\"refresher-ns\",\"leaseName\":\"leader\",\"leaseDuration\":\"30s\",\"resync\":\"5m0s\"}", json, StringComparison.Ordinal);
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)), (read.Watch!.EffectiveLeaseDuration, read.Watch.EffectiveRenewDeadline, read.Watch.EffectiveRetryPeriod));
        Assert.True(read.Targets[1].AllServiceAccounts);
        Assert.Empty(RefresherConfigurationValidator.Validate(read));
    }

    [Fact]
    public void Unknown_keys_in_the_new_mappings_are_problems_with_their_path()
    {
        var problems = new List<ConfigurationProblem>();
        RefresherConfigurationJson.FromJson("""{"targets":[{"secretName":"s","source":{"namespace":"a","nmae":"b"}}],"watch":{"leaseNamespace":"a","leaseName":"b","resync":"often"}}""", problems);

        Assert.Equal(
            [
                "targets[0].source.nmae: unknown key; did you mean 'name'?",
                "watch.resync: 'often' is not a duration; use e.g. 6h, 30m or 1h30m",
            ],
            problems.Select(p => p.ToString()));
    }

    [Fact]
    public void A_malformed_selector_is_a_problem_naming_the_field_and_the_token()
    {
        var problems = Problems(With(
            new TargetConfiguration { SecretName = "a", Namespaces = ["x"] },
            new TargetConfiguration { SecretName = "b", Namespaces = ["x"] },
            new TargetConfiguration { SecretName = "c", NamespaceSelector = "team in (a", ServiceAccountSelector = "x==y==z" }));

        Assert.Equal(2, problems.Count);
        Assert.StartsWith("targets[2].namespaceSelector: 'team in (a' is not a label selector: unable to parse requirement: found '', expected: ',' or ')'", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("targets[2].serviceAccountSelector: 'x==y==z' is not a label selector", problems[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Service_accounts_are_chosen_one_way_and_exclusions_need_a_selection()
    {
        var problems = Problems(With(
            new TargetConfiguration { SecretName = "a", Namespaces = ["x"], ServiceAccounts = ["default"], AllServiceAccounts = true },
            new TargetConfiguration { SecretName = "b", Namespaces = ["x"], ExcludeNamespaces = ["kube-*"] },
            new TargetConfiguration { SecretName = "c", AllNamespaces = true, ExcludeNamespaces = ["Kube_System", ""] }));

        Assert.Equal(
            [
                "targets[0]: give at most one of serviceAccounts, allServiceAccounts or serviceAccountSelector (got 2)",
                "targets[1].excludeNamespaces: only with namespaceSelector or allNamespaces (leave a listed namespace out of namespaces instead)",
                "targets[2].excludeNamespaces[0]: 'Kube_System' may hold only lower-case letters, digits, '-' and the wildcards * and ?",
                "targets[2].excludeNamespaces[1]: must be a namespace name or a pattern with * and ?, not empty",
            ],
            problems);
    }

    [Fact]
    public void A_copy_target_names_no_registries_is_not_attach_only_and_needs_no_registry_at_all()
    {
        var source = new SecretSourceConfiguration { Namespace = "refresher", Name = "static-source" };
        var problems = Problems(With(
            new TargetConfiguration { SecretName = "a", AllNamespaces = true, Source = source, Registries = [Ecr.Key] },
            new TargetConfiguration { SecretName = "b", AllNamespaces = true, Source = source, AttachOnly = true, ServiceAccounts = ["default"] },
            new TargetConfiguration { SecretName = "c", AllNamespaces = true, Source = new SecretSourceConfiguration { Namespace = "Bad", Name = "" } }));

        Assert.Equal(
            [
                "targets[0].registries: a copy target's data is its source Secret's; it names no registries",
                "targets[1].source: a copy target writes its secret's data, an attachOnly target never does: remove source or attachOnly",
                "targets[2].source.namespace: 'Bad' is not a valid namespace name",
                "targets[2].source.name: '' is not a valid Secret name",
            ],
            problems);
        Assert.Empty(Problems(new RefresherConfiguration { Instance = "i", Targets = [new TargetConfiguration { SecretName = "s", AllNamespaces = true, Source = source }] }));
    }

    [Fact]
    public void A_cluster_owner_is_a_cluster_role_name_and_not_with_owner_or_attach_only()
    {
        var problems = Problems(With(
            new TargetConfiguration { SecretName = "a", AllNamespaces = true, ClusterOwner = "role", Owner = "owner" },
            new TargetConfiguration { SecretName = "b", AllNamespaces = true, ClusterOwner = "a/b" },
            new TargetConfiguration { SecretName = "c", AllNamespaces = true, ClusterOwner = "system:refresher" }));

        Assert.Equal(
            [
                "targets[0].clusterOwner: give owner (a ConfigMap in each namespace) or clusterOwner (one ClusterRole), not both",
                "targets[1].clusterOwner: 'a/b' is not a valid ClusterRole name (may not contain '/' or '%')",
            ],
            problems);
    }

    [Fact]
    public void Instance_is_a_label_value()
    {
        var configuration = With(new TargetConfiguration { SecretName = "a", AllNamespaces = true });
        configuration.Instance = "not a label";

        Assert.Equal(["instance"], RefresherConfigurationValidator.Validate(configuration).Select(p => p.Path));
    }

    [Fact]
    public void Watch_timings_follow_client_go_leader_election_rules()
    {
        var configuration = With(new TargetConfiguration { SecretName = "a", Namespaces = ["x"] });
        configuration.Watch = new WatchConfiguration { LeaseNamespace = "ns", LeaseName = "lease", LeaseDuration = TimeSpan.FromSeconds(10) };
        Assert.Equal(["watch.leaseDuration: leaseDuration (10s) must be greater than renewDeadline (10s)"], Problems(configuration));

        configuration.Watch = new WatchConfiguration { LeaseNamespace = "ns", LeaseName = "lease", RetryPeriod = TimeSpan.FromSeconds(9) };
        Assert.Equal(["watch.retryPeriod: renewDeadline (10s) must be greater than 1.2 × retryPeriod (9s)"], Problems(configuration));

        configuration.Watch = new WatchConfiguration { LeaseNamespace = "", LeaseName = "UPPER", LeaseOwner = "Not_A_Name", Resync = TimeSpan.Zero };
        Assert.Equal(["watch.leaseNamespace", "watch.leaseName", "watch.leaseOwner", "watch.resync"], RefresherConfigurationValidator.Validate(configuration).Select(p => p.Path));
        Assert.Contains("watch.leaseOwner: 'Not_A_Name' is not a valid ConfigMap name", Problems(configuration));

        configuration.Watch = new WatchConfiguration { LeaseNamespace = "ns", LeaseName = "lease" };
        Assert.Empty(Problems(configuration));
    }

    [Fact]
    public void An_attach_only_target_may_choose_its_service_accounts_by_selector_or_all()
    {
        Assert.Empty(Problems(new RefresherConfiguration
        {
            Instance = "i",
            Targets =
            [
                new TargetConfiguration { SecretName = "a", AttachOnly = true, AllNamespaces = true, AllServiceAccounts = true },
                new TargetConfiguration { SecretName = "b", AttachOnly = true, NamespaceSelector = "x", ServiceAccountSelector = "y" },
            ],
        }));
        Assert.Equal(["targets[0].serviceAccounts"], RefresherConfigurationValidator.Validate(new RefresherConfiguration
        {
            Targets = [new TargetConfiguration { SecretName = "a", AttachOnly = true, Namespaces = ["x"] }],
        }).Select(p => p.Path));
    }
}
