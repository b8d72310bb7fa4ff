using System.Text.Json.Nodes;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Provider.Components;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Components.PullSecret;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Testing.Components;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>
/// Issue 14 in the components: the watch mode (Deployment, leader-election Lease, PodDisruptionBudget), namespaces and
/// service accounts by selector or all, the copy of static credentials from one source Secret, the RBAC and ownership
/// that go with them, preview with an unknown selector, and the errors that name the fields.
/// </summary>
public sealed class SelectionTests
{
    private const string Image = "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string Ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

    private static JsonObject Json(string text) => JsonNode.Parse(text)!.AsObject();

    private static TokenRefresherArgs Refresher(string extra) => ComponentPlans.Bind<TokenRefresherArgs>(Json($$"""
        { "image": "{{Image}}", "namespace": "rf-ns", "registries": [{ "server": "{{Ecr}}", "type": "ecr", "region": "eu-west-1", "accountId": "123456789012" }] {{extra}} }
        """));

    private static ComponentPlan Build(TokenRefresherArgs args, bool preview = false) => ComponentPlans.Build(TokenRefresherComponent.Instance, "r", args, preview);

    private static JsonObject Child(ComponentPlan plan, string type, string? name = null) =>
        plan.Children.Single(c => c.Type == type && (name is null || c.Name == name)).Inputs;

    private static RefresherConfiguration ConfigurationOf(ComponentPlan plan) =>
        Parse(Child(plan, TokenRefresherComponent.ConfigMapType)["data"]![RefresherPod.ConfigKey]!.GetValue<string>());

    private static RefresherConfiguration Parse(string json)
    {
        var problems = new List<ConfigurationProblem>();
        var configuration = RefresherConfigurationJson.FromJson(json, problems);
        Assert.Empty(problems);
        return configuration!;
    }

    private const string SelectorTarget = """
        , "targets": [{ "secretName": "ecr-tokens", "excludeNamespaces": ["kube-*"],
                        "namespaceLabelSelector": { "matchLabels": { "team": "payments" }, "matchExpressions": [{ "key": "env", "operator": "NotIn", "values": ["dev", "test"] }] },
                        "serviceAccountSelector": { "matchLabels": { "pulls": "private" } } }]
        """;

    [Fact]
    public void Watch_mode_runs_a_deployment_with_health_probes_instead_of_the_cron_job_and_job()
    {
        var plan = Build(Refresher(""", "mode": "watch" """ + SelectorTarget));

        Assert.DoesNotContain(plan.Children, c => c.Type is TokenRefresherComponent.CronJobType or TokenRefresherComponent.JobType or TokenRefresherComponent.PodDisruptionBudgetType);
        var deployment = Child(plan, TokenRefresherComponent.DeploymentType);
        Assert.Equal("registryinfra-refresher", deployment["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("rf-ns", deployment["metadata"]!["namespace"]!.GetValue<string>());
        var spec = deployment["spec"]!;
        Assert.Equal(1, spec["replicas"]!.GetValue<int>());
        Assert.Equal("""{"type":"Recreate"}""", spec["strategy"]!.ToJsonString());
        Assert.Equal("""{"matchLabels":{"app.kubernetes.io/component":"refresher","app.kubernetes.io/instance":"r","app.kubernetes.io/name":"registryinfra"}}""", spec["selector"]!.ToJsonString());
        var labels = spec["template"]!["metadata"]!["labels"]!.AsObject();
        Assert.All(spec["selector"]!["matchLabels"]!.AsObject(), kv => Assert.Equal(kv.Value!.GetValue<string>(), labels[kv.Key]!.GetValue<string>()));
        var pod = spec["template"]!["spec"]!;
        Assert.Equal("Always", pod["restartPolicy"]!.GetValue<string>());
        Assert.Equal("registryinfra-refresher", pod["serviceAccountName"]!.GetValue<string>());
        Assert.Equal("""{"fsGroup":65532,"runAsGroup":65532,"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}}""", pod["securityContext"]!.ToJsonString());
        var container = pod["containers"]![0]!;
        Assert.Equal("""["watch","--config","/etc/registryinfra/refresher.yaml","--health-port","8081"]""", container["args"]!.ToJsonString());
        Assert.Equal("""[{"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]""", container["env"]!.ToJsonString());
        Assert.Equal("/healthz", container["livenessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal("/readyz", container["readinessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal(8081, container["readinessProbe"]!["httpGet"]!["port"]!.GetValue<int>());
        Assert.Equal(
            """{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"readOnlyRootFilesystem":true,"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}}""",
            container["securityContext"]!.ToJsonString());
        // The Deployment waits for the RBAC, the account and the configuration, as the CronJob does.
        Assert.Contains("r-config", plan.Children.Single(c => c.Type == TokenRefresherComponent.DeploymentType).DependsOn);
        Assert.Contains("r-lease-role-binding", plan.Children.Single(c => c.Type == TokenRefresherComponent.DeploymentType).DependsOn);

        // The Lease: get and update by name, create (not limitable by name), in the refresher's namespace only.
        var lease = Child(plan, RefresherRbac.RoleType, "r-lease-role");
        Assert.Equal("rf-ns", lease["metadata"]!["namespace"]!.GetValue<string>());
        Assert.Equal(
            """[{"apiGroups":["coordination.k8s.io"],"resourceNames":["registryinfra-refresher-leader"],"resources":["leases"],"verbs":["get","update"]},{"apiGroups":["coordination.k8s.io"],"resources":["leases"],"verbs":["create"]}]""",
            lease["rules"]!.ToJsonString());
        var configuration = ConfigurationOf(plan);
        Assert.Equal("rf-ns", configuration.Watch!.LeaseNamespace);
        Assert.Equal("registryinfra-refresher-leader", configuration.Watch.LeaseName);
        // Owned by the configuration ConfigMap (which the ledger Role lets the refresher read by name), so the Lease goes with the
        // refresher when the namespace stays (createNamespace false); the Deployment depends on that ConfigMap, so on destroy
        // the pods are gone before it is deleted and no leader recreates the Lease.
        Assert.Equal(Child(plan, TokenRefresherComponent.ConfigMapType, "r-config")["metadata"]!["name"]!.GetValue<string>(), configuration.Watch.LeaseOwner);
        Assert.Contains($$"""{"apiGroups":[""],"resourceNames":["{{configuration.Watch.LeaseOwner}}"],"resources":["configmaps"],"verbs":["get"]}""",
            Child(plan, RefresherRbac.RoleType, "r-ledger-role")["rules"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(plan.Outputs["cronJobName"]);
        Assert.Null(plan.Outputs["jobName"]);
        Assert.Equal("registryinfra-refresher", plan.Outputs["deploymentName"]!.GetValue<string>());
    }

    [Fact]
    public void Two_replicas_roll_one_at_a_time_and_keep_one_through_disruptions()
    {
        var plan = Build(Refresher(""", "mode": "watch", "replicas": 2 """ + SelectorTarget));

        var spec = Child(plan, TokenRefresherComponent.DeploymentType)["spec"]!;
        Assert.Equal(2, spec["replicas"]!.GetValue<int>());
        Assert.Equal("""{"rollingUpdate":{"maxSurge":0,"maxUnavailable":1},"type":"RollingUpdate"}""", spec["strategy"]!.ToJsonString());
        var budget = Child(plan, TokenRefresherComponent.PodDisruptionBudgetType);
        Assert.Equal(1, budget["spec"]!["minAvailable"]!.GetValue<int>());
        Assert.Equal(spec["selector"]!.ToJsonString(), budget["spec"]!["selector"]!.ToJsonString());
        Assert.Equal("rf-ns", budget["metadata"]!["namespace"]!.GetValue<string>());
    }

    [Fact]
    public void A_changed_configuration_rolls_the_pods_an_unchanged_one_does_not()
    {
        static string Hash(TokenRefresherArgs args) =>
            Child(Build(args), TokenRefresherComponent.DeploymentType)["spec"]!["template"]!["metadata"]!["annotations"]![TokenRefresherComponent.ConfigurationHashAnnotation]!.GetValue<string>();

        var first = Hash(Refresher(""", "mode": "watch" """ + SelectorTarget));

        Assert.Equal(first, Hash(Refresher(""", "mode": "watch" """ + SelectorTarget)));
        Assert.NotEqual(first, Hash(Refresher(""", "mode": "watch" """ + SelectorTarget.Replace("kube-*", "kube-system", StringComparison.Ordinal))));
    }

    [Fact]
    public void Selector_targets_are_owned_by_the_cluster_role_and_labelled_with_the_instance()
    {
        var plan = Build(Refresher(SelectorTarget));

        var configuration = ConfigurationOf(plan);
        var target = Assert.Single(configuration.Targets);
        // The structured selector reaches the refresher in its canonical string form.
        Assert.Equal("env notin (dev,test),team=payments", target.NamespaceSelector);
        Assert.Equal("pulls=private", target.ServiceAccountSelector);
        Assert.Equal(["kube-*"], target.ExcludeNamespaces);
        Assert.Equal("rf-ns-registryinfra-refresher", target.ClusterOwner);
        Assert.Equal("rf-ns", configuration.Instance);
        Assert.Null(configuration.Watch);
        var clusterRole = Child(plan, RefresherRbac.ClusterRoleType);
        Assert.Equal("rf-ns-registryinfra-refresher", clusterRole["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(
            """[{"apiGroups":[""],"resources":["namespaces"],"verbs":["get","list","watch"]},""" +
            """{"apiGroups":[""],"resourceNames":["ecr-tokens"],"resources":["secrets"],"verbs":["get","update","patch","delete"]},""" +
            """{"apiGroups":[""],"resources":["secrets"],"verbs":["create","list","watch"]},""" +
            """{"apiGroups":["rbac.authorization.k8s.io"],"resourceNames":["rf-ns-registryinfra-refresher"],"resources":["clusterroles"],"verbs":["get"]},""" +
            """{"apiGroups":["","events.k8s.io"],"resources":["events"],"verbs":["create","get","patch"]},""" +
            """{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["get","list","watch","patch"]}]""",
            clusterRole["rules"]!.ToJsonString());
        // No Role in any selected namespace: they are not known when deploying.
        Assert.Equal(["r-ledger-role"], plan.Children.Where(c => c.Type == RefresherRbac.RoleType).Select(c => c.Name));
    }

    [Fact]
    public void Listed_targets_keep_their_roles_beside_a_selector_target()
    {
        var plan = Build(Refresher("""
            , "targets": [{ "secretName": "all-tokens", "allNamespaces": true, "serviceAccounts": ["default"] },
                          { "secretName": "listed-tokens", "namespaces": ["apps"], "serviceAccounts": ["builder"] }]
            """));

        Assert.Equal(["r-role-apps", "r-ledger-role"], plan.Children.Where(c => c.Type == RefresherRbac.RoleType).Select(c => c.Name));
        Assert.Contains("listed-tokens", Child(plan, RefresherRbac.RoleType, "r-role-apps")["rules"]!.ToJsonString(), StringComparison.Ordinal);
        var cluster = Child(plan, RefresherRbac.ClusterRoleType)["rules"]!.ToJsonString();
        Assert.DoesNotContain("listed-tokens", cluster, StringComparison.Ordinal);
        // Named accounts of a selector target: listed and watched to see new ones appear, and any may lose our name when its namespace leaves.
        Assert.Contains("""{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["get","list","watch","patch"]}""", cluster, StringComparison.Ordinal);
        var configuration = ConfigurationOf(plan);
        Assert.Equal("rf-ns-registryinfra-refresher", configuration.Targets[0].ClusterOwner);
        Assert.Null(configuration.Targets[1].ClusterOwner);
    }

    [Fact]
    public void A_copy_target_reads_its_source_by_name_in_the_refreshers_namespace()
    {
        var plan = Build(Refresher("""
            , "targets": [{ "secretName": "static", "allNamespaces": true, "allServiceAccounts": true, "source": { "namespace": "rf-ns", "name": "static-source" } }]
            """) with { Registries = null, ServiceAccountAnnotations = null });

        var target = Assert.Single(ConfigurationOf(plan).Targets);
        Assert.Equal("rf-ns", target.Source!.Namespace);
        Assert.Equal("static-source", target.Source.Name);
        Assert.True(target.AllServiceAccounts);
        Assert.Contains("""{"apiGroups":[""],"resourceNames":["static-source"],"resources":["secrets"],"verbs":["get"]}""",
            Child(plan, RefresherRbac.RoleType, "r-ledger-role")["rules"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void In_watch_mode_a_copy_targets_source_is_also_listed_and_watched_by_name()
    {
        var plan = Build(Refresher("""
            , "mode": "watch", "targets": [{ "secretName": "static", "allNamespaces": true, "allServiceAccounts": true, "source": { "namespace": "rf-ns", "name": "static-source" } }]
            """) with { Registries = null, ServiceAccountAnnotations = null });

        // The refresher watches each source with fieldSelector metadata.name=, which RBAC checks against resourceNames.
        Assert.Contains("""{"apiGroups":[""],"resourceNames":["static-source"],"resources":["secrets"],"verbs":["get","list","watch"]}""",
            Child(plan, RefresherRbac.RoleType, "r-ledger-role")["rules"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(""", "mode": "daemon" """ + SelectorTarget, "mode")]
    [InlineData(""", "mode": "watch", "replicas": 3 """ + SelectorTarget, "replicas")]
    [InlineData(""", "replicas": 2 """ + SelectorTarget, "replicas")]
    [InlineData(""", "mode": "watch", "schedule": "0 * * * *" """ + SelectorTarget, "schedule")]
    [InlineData(""", "mode": "watch", "runOnDeploy": false """ + SelectorTarget, "runOnDeploy")]
    [InlineData(""", "mode": "watch", "backoffLimit": 1 """ + SelectorTarget, "backoffLimit")]
    [InlineData(""", "targets": [{ "secretName": "t", "namespaceLabelSelector": { "matchExpressions": [{ "key": "env", "operator": "Equals", "values": ["a"] }] } }]""", "targets[0].namespaceLabelSelector.matchExpressions[0].operator")]
    [InlineData(""", "targets": [{ "secretName": "t", "namespaceLabelSelector": { "matchExpressions": [{ "key": "env", "operator": "In" }] } }]""", "targets[0].namespaceLabelSelector.matchExpressions[0].values")]
    [InlineData(""", "targets": [{ "secretName": "t", "namespaceLabelSelector": { "matchLabels": { "bad key!": "x" } } }]""", "targets[0].namespaceLabelSelector.matchLabels[\"bad key!\"]")]
    [InlineData(""", "targets": [{ "secretName": "t", "serviceAccountSelector": { "matchLabels": { "a": "-bad-" } }, "allNamespaces": true }]""", "targets[0].serviceAccountSelector.matchLabels[\"a\"]")]
    [InlineData(""", "targets": [{ "secretName": "t", "namespaceSelector": "team=a", "namespaceLabelSelector": { "matchLabels": { "team": "a" } } }]""", "targets[0].namespaceLabelSelector")]
    [InlineData(""", "targets": [{ "secretName": "t", "allNamespaces": true, "excludeNamespaces": ["Kube_System"] }]""", "targets[0].excludeNamespaces[0]")]
    [InlineData(""", "targets": [{ "secretName": "t", "allNamespaces": true, "source": { "namespace": "elsewhere", "name": "s" } }]""", "targets[0].source.namespace")]
    public void Bad_refresher_inputs_are_refused_naming_the_field(string extra, string field)
    {
        var error = Assert.Throws<ComponentInputException>(() => Build(Refresher(extra)));

        Assert.Equal(field, error.Field);
    }

    private static PullSecretArgs PullSecret(string selection) => ComponentPlans.Bind<PullSecretArgs>(Json($$"""
        { "registries": [{ "server": "ghcr.io", "username": "octo", "password": "ghp-pw" }, { "server": "{{Ecr}}", "kind": "ecr" }], "secretName": "pull" {{selection}} }
        """));

    [Fact]
    public void A_pull_secret_by_selector_writes_one_source_secret_beside_the_refresher_and_nothing_in_the_namespaces()
    {
        var plan = ComponentPlans.Build(PullSecretComponent.Instance, "ps",
            PullSecret(""", "namespaceSelector": { "matchLabels": { "team": "web" } }, "excludeNamespaces": ["kube-*"], "sourceNamespace": "rf-ns" """));

        var child = Assert.Single(plan.Children);
        Assert.Equal("kubernetes:core/v1:Secret ps-pull-source", $"{child.Type} {child.Name}");
        Assert.Equal("kubernetes.io/dockerconfigjson", child.Inputs["type"]!.GetValue<string>());
        Assert.Equal("pull-source", child.Inputs["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("rf-ns", child.Inputs["metadata"]!["namespace"]!.GetValue<string>());
        Assert.Equal(["stringData"], child.SecretInputs);
        Assert.Contains("ghcr.io", child.Inputs["stringData"]![".dockerconfigjson"]!.GetValue<string>(), StringComparison.Ordinal);
        // The namespaces are the cluster's; the names are known, under the one key "*".
        Assert.Equal("""{"*":["pull","pull-tokens"]}""", plan.Outputs["secretNames"]!.ToJsonString());
        Assert.Equal("""[{"name":"pull"},{"name":"pull-tokens"}]""", plan.Outputs["imagePullSecrets"]!.ToJsonString());
        Assert.Equal("pull-source", plan.Outputs["sourceSecretName"]!.GetValue<string>());
        Assert.Equal("pull", plan.Outputs["staticSecretName"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(""", "namespaces": ["apps"], "allNamespaces": true""", "allNamespaces")]
    [InlineData(""", "namespaces": ["apps"], "namespaceSelector": {}""", "namespaceSelector")]
    [InlineData(""", "namespaces": ["apps"], "excludeNamespaces": ["kube-*"]""", "excludeNamespaces")]
    [InlineData(""", "allNamespaces": true""", "sourceNamespace")]
    [InlineData("", "namespaces")]
    [InlineData(""", "allNamespaces": true, "sourceNamespace": "rf-ns", "excludeNamespaces": ["a/b"]""", "excludeNamespaces[0]")]
    public void Bad_pull_secret_selections_are_refused_naming_the_field(string selection, string field)
    {
        var error = Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(PullSecretComponent.Instance, "ps", PullSecret(selection)));

        Assert.Equal(field, error.Field);
    }

    private static ClusterRegistryAccessArgs Access(string extra) => ComponentPlans.Bind<ClusterRegistryAccessArgs>(Json($$"""
        { "profiles": [{ "server": "ghcr.io", "username": "octo", "password": "ghp-pw" }, { "server": "{{Ecr}}", "kind": "ecr" }], "secretName": "pull" {{extra}} }
        """));

    private const string AllWatch = """
        , "allNamespaces": true, "excludeNamespaces": ["kube-*"], "allServiceAccounts": true,
          "refresher": { "image": "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "namespace": "rf-ns", "mode": "watch", "replicas": 2 }
        """;

    [Fact]
    public void Cluster_access_for_all_namespaces_copies_static_credentials_through_the_refresher_and_attaches_cluster_wide()
    {
        var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "access", Access(AllWatch));

        Assert.Equal(string.Join(Environment.NewLine, new List<string>
        {
            "kubernetes:core/v1:Namespace access-refresher-namespace",
            "registryinfra:kubernetes:PullSecret access-pull-secret",
            "kubernetes:core/v1:Secret access-pull-secret-pull-source",
            "registryinfra:kubernetes:TokenRefresher access-refresher",
            "kubernetes:core/v1:ServiceAccount access-refresher-service-account",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole access-refresher-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding access-refresher-cluster-role-binding",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole access-refresher-watch-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding access-refresher-watch-cluster-role-binding",
            "kubernetes:rbac.authorization.k8s.io/v1:Role access-refresher-ledger-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding access-refresher-ledger-role-binding",
            "kubernetes:core/v1:ConfigMap access-refresher-config",
            "kubernetes:rbac.authorization.k8s.io/v1:Role access-refresher-lease-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding access-refresher-lease-role-binding",
            "kubernetes:apps/v1:Deployment access-refresher-deployment",
            "kubernetes:policy/v1:PodDisruptionBudget access-refresher-pod-disruption-budget",
            "registryinfra:kubernetes:PullSecretAttachment access-attachment",
        }.Order(StringComparer.Ordinal)), string.Join(Environment.NewLine, plan.Children.Select(c => $"{c.Type} {c.Name}").Order(StringComparer.Ordinal)));
        // The source Secret goes into the refresher's namespace after it exists; the refresher waits for the Secret.
        var source = plan.Children.Single(c => c.Name == "access-pull-secret-pull-source");
        Assert.Equal("rf-ns", source.Inputs["metadata"]!["namespace"]!.GetValue<string>());
        Assert.Contains("access-refresher-namespace", source.DependsOn);
        Assert.Contains("access-pull-secret", plan.Children.Single(c => c.Name == "access-refresher").DependsOn);

        var configuration = Parse(plan.Children.Single(c => c.Name == "access-refresher-config").Inputs["data"]![RefresherPod.ConfigKey]!.GetValue<string>());
        Assert.Equal("rf-ns", configuration.Instance);
        Assert.Equal(2, configuration.Targets.Count);
        var copy = configuration.Targets[0];
        Assert.Equal("pull", copy.SecretName);
        Assert.Equal("pull-source", copy.Source!.Name);
        Assert.True(copy.AllNamespaces);
        Assert.Equal(["kube-*"], copy.ExcludeNamespaces);
        Assert.True(copy.AllServiceAccounts);
        Assert.Empty(copy.Registries);
        Assert.Equal("rf-ns-registryinfra-refresher", copy.ClusterOwner);
        var tokens = configuration.Targets[1];
        Assert.Equal("pull-tokens", tokens.SecretName);
        Assert.Null(tokens.Source);
        Assert.Null(tokens.Owner);
        Assert.Equal("rf-ns-registryinfra-refresher", tokens.ClusterOwner);
        // The copies' owner is the wide targets' ClusterRole (gone with the last of them, after the rollout), not the watch's own.
        Assert.Equal("rf-ns-registryinfra-refresher", plan.Children.Single(c => c.Name == "access-refresher-cluster-role").Inputs["metadata"]!["name"]!.GetValue<string>());
        var watchRole = plan.Children.Single(c => c.Name == "access-refresher-watch-cluster-role").Inputs;
        Assert.Equal("rf-ns-registryinfra-refresher-watch", watchRole["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("""[{"apiGroups":[""],"resources":["namespaces"],"verbs":["get","list","watch"]},{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["list","watch"]}]""",
            watchRole["rules"]!.ToJsonString());
        var watchBinding = plan.Children.Single(c => c.Name == "access-refresher-watch-cluster-role-binding").Inputs;
        Assert.Equal("rf-ns-registryinfra-refresher-watch", watchBinding["roleRef"]!["name"]!.GetValue<string>());
        // The Deployment waits for both bindings.
        var deployment = plan.Children.Single(c => c.Name == "access-refresher-deployment");
        Assert.Contains("access-refresher-cluster-role-binding", deployment.DependsOn);
        Assert.Contains("access-refresher-watch-cluster-role-binding", deployment.DependsOn);

        var attachment = plan.Children.Single(c => c.Name == "access-attachment");
        Assert.True(attachment.Inputs["allNamespaces"]!.GetValue<bool>());
        Assert.True(attachment.Inputs["allServiceAccounts"]!.GetValue<bool>());
        Assert.Equal("""["kube-*"]""", attachment.Inputs["excludeNamespaces"]!.ToJsonString());
        Assert.Equal("""["pull","pull-tokens"]""", attachment.Inputs["secretNames"]!.ToJsonString());
        Assert.Null(attachment.Inputs["namespace"]);
        Assert.Null(attachment.Inputs["serviceAccounts"]);
        // On destroy the attachment goes first (its names removed), then the refresher and, by garbage collection, the copies.
        Assert.Contains("access-refresher", attachment.DependsOn);
        Assert.Equal("""{"*":["pull","pull-tokens"]}""", plan.Outputs["secretNames"]!.ToJsonString());
    }

    [Fact]
    public void Cluster_access_by_selector_deploys_the_refresher_for_static_profiles_too()
    {
        var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "access", ComponentPlans.Bind<ClusterRegistryAccessArgs>(Json($$"""
            { "profiles": [{ "server": "ghcr.io", "username": "octo", "password": "ghp-pw" }], "secretName": "pull",
              "namespaceSelector": { "matchLabels": { "registry": "ghcr" } }, "refresher": { "image": "{{Image}}", "namespace": "rf-ns" } }
            """)));

        var configuration = Parse(plan.Children.Single(c => c.Name == "access-refresher-config").Inputs["data"]![RefresherPod.ConfigKey]!.GetValue<string>());
        Assert.Empty(configuration.Registries);
        var copy = Assert.Single(configuration.Targets);
        Assert.Equal("registry=ghcr", copy.NamespaceSelector);
        Assert.Equal(["default"], copy.ServiceAccounts);
        // CronJob mode: the CronJob every 6 hours (nothing expires) and the run-on-deploy Job.
        Assert.Equal("0 */6 * * *", plan.Children.Single(c => c.Type == TokenRefresherComponent.CronJobType).Inputs["spec"]!["schedule"]!.GetValue<string>());
        Assert.Single(plan.Children, c => c.Type == TokenRefresherComponent.JobType);
        var attachment = plan.Children.Single(c => c.Type == "registryinfra:kubernetes:PullSecretAttachment");
        Assert.Equal("""{"matchLabels":{"registry":"ghcr"}}""", attachment.Inputs["namespaceSelector"]!.ToJsonString());
        Assert.Equal("""["default"]""", attachment.Inputs["serviceAccounts"]!.ToJsonString());
        Assert.Equal("""["pull"]""", attachment.Inputs["secretNames"]!.ToJsonString());

        var error = Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "access", ComponentPlans.Bind<ClusterRegistryAccessArgs>(Json("""
            { "profiles": [{ "server": "ghcr.io", "username": "octo", "password": "ghp-pw" }], "allNamespaces": true }
            """))));
        Assert.Equal("refresher.image", error.Field);
        Assert.Contains("static profiles too", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Listed_namespaces_are_served_as_before()
    {
        var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "access", Access(""", "namespaces": ["apps", "jobs"], "refresher": { "image": "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }"""));

        Assert.Equal(2, plan.Children.Count(c => c.Type == "registryinfra:kubernetes:PullSecretAttachment"));
        Assert.Equal(2, plan.Children.Count(c => c.Type == "kubernetes:core/v1:Secret"));
        Assert.DoesNotContain(plan.Children, c => c.Type == RefresherRbac.ClusterRoleType);
        // Each waits for the PullSecret's children only, as before (not for the refresher).
        Assert.All(plan.Children.Where(c => c.Type == "registryinfra:kubernetes:PullSecretAttachment"),
            a => Assert.All(a.DependsOn, d => Assert.StartsWith("access-pull-secret", d, StringComparison.Ordinal)));
        var configuration = Parse(plan.Children.Single(c => c.Name == "access-refresher-config").Inputs["data"]![RefresherPod.ConfigKey]!.GetValue<string>());
        Assert.Null(configuration.Instance);
        Assert.Null(Assert.Single(configuration.Targets).ClusterOwner);
    }

    [Fact]
    public void Preview_with_an_unknown_selector_registers_every_child_of_the_update()
    {
        var update = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "access", Access(AllWatch.Replace("\"allNamespaces\": true", "\"namespaceSelector\": { \"matchLabels\": { \"a\": \"b\" } }", StringComparison.Ordinal)));
        var unknown = Access(AllWatch.Replace("\"allNamespaces\": true", $"\"namespaceSelector\": \"{ComponentPlans.Unknown}\"", StringComparison.Ordinal));

        var preview = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "access", unknown, preview: true);

        Assert.True(preview.LeftOut.IsEmpty, string.Join("; ", preview.LeftOut));
        Assert.Equal(string.Join(", ", update.Children.Select(c => $"{c.Type} {c.Name}").Order(StringComparer.Ordinal)),
            string.Join(", ", preview.Children.Select(c => $"{c.Type} {c.Name}").Order(StringComparer.Ordinal)));
        Assert.True(preview.LeftOut.IsEmpty, string.Join("; ", preview.LeftOut));
        Assert.Equal(ComponentPlans.Unknown, preview.Children.Single(c => c.Type == "registryinfra:kubernetes:PullSecretAttachment").Inputs["namespaceSelector"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(""", "namespaces": ["apps"], "namespaceSelector": { "matchLabels": { "a": "b" } }""", "namespaceSelector")]
    [InlineData(""", "allNamespaces": true, "serviceAccounts": ["default"], "allServiceAccounts": true""", "allServiceAccounts")]
    [InlineData(""", "allNamespaces": true, "serviceAccountSelector": { "matchExpressions": [{ "key": "k", "operator": "Exists", "values": ["v"] }] }""", "serviceAccountSelector.matchExpressions[0].values")]
    [InlineData(""", "namespaceSelector": { "matchExpressions": [{ "key": "k", "operator": "Equals", "values": ["v"] }] }""", "namespaceSelector.matchExpressions[0].operator")]
    [InlineData(""", "namespaces": ["apps"], "excludeNamespaces": ["kube-*"]""", "excludeNamespaces")]
    [InlineData(""", "allNamespaces": true, "refresher": { "image": "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "mode": "watch", "schedule": "0 * * * *" }""", "refresher.schedule")]
    public void Bad_cluster_access_selections_are_refused_naming_the_field(string extra, string field)
    {
        var error = Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "access", Access(extra)));

        Assert.Equal(field, error.Field);
    }

    private sealed class OrderInsensitive : IEqualityComparer<IEnumerable<string>>
    {
        public bool Equals(IEnumerable<string>? x, IEnumerable<string>? y) =>
            x is not null && y is not null && x.Order(StringComparer.Ordinal).SequenceEqual(y.Order(StringComparer.Ordinal), StringComparer.Ordinal);

        public int GetHashCode(IEnumerable<string> obj) => obj.Count();
    }
}
