using RegistryInfra.Protocol.Model;
using System.Text.Json;
using System.Text.Json.Nodes;
using RegistryInfra.Provider.Components;
using RegistryInfra.Provider.Components.EcrPullAccess;
using RegistryInfra.Provider.Components.PullSecret;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Provider.Components.WorkloadIdentityBinding;
using RegistryInfra.Testing.Components;

namespace RegistryInfra.Provider.Tests.Components;

public sealed class PullSecretBuilderTests
{
    private const string Password = "s3cret-hunter2-pw";

    private static PullSecretArgs Args() => new()
    {
        Registries =
        [
            new PullSecretRegistry { Server = "registry.example.com", Username = "robot", Password = Password },
            new PullSecretRegistry { Server = "123456789012.dkr.ecr.eu-west-1.amazonaws.com" },
        ],
        Namespaces = ["apps", "jobs"],
    };

    [Fact]
    public void Static_and_token_registries_get_separate_secrets_in_each_namespace()
    {
        var plan = ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args());

        Assert.Equal(
        [
            "kubernetes:core/v1:Secret ps-apps-ps-3b0c05",
            "kubernetes:core/v1:ConfigMap ps-apps-ps-3b0c05-tokens-owner",
            "kubernetes:core/v1:Secret ps-jobs-ps-3b0c05",
            "kubernetes:core/v1:ConfigMap ps-jobs-ps-3b0c05-tokens-owner",
        ], plan.Children.Select(c => $"{c.Type} {c.Name}"));
    }

    [Fact]
    public void Static_secret_holds_the_credential_as_secret_data_that_pulumi_owns()
    {
        var secret = ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args()).Children[0];

        Assert.Equal("kubernetes.io/dockerconfigjson", secret.Inputs["type"]!.GetValue<string>());
        Assert.Equal("ps-3b0c05", secret.Inputs["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("apps", secret.Inputs["metadata"]!["namespace"]!.GetValue<string>());
        Assert.Equal(["stringData"], secret.SecretInputs);
        Assert.Empty(secret.IgnoreChanges);
        var document = JsonNode.Parse(secret.Inputs["stringData"]![".dockerconfigjson"]!.GetValue<string>())!;
        var entry = document["auths"]!["registry.example.com"]!;
        Assert.Equal("robot", entry["username"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String("robot:s3cret-hunter2-pw"u8.ToArray()), entry["auth"]!.GetValue<string>());
        Assert.Null(document["auths"]!["123456789012.dkr.ecr.eu-west-1.amazonaws.com"]);
    }

    [Fact]
    public void Token_secret_is_not_a_pulumi_resource_only_its_owner_config_map_is()
    {
        var owner = ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args()).Children[1];

        // The refresher creates the Secret with an ownerReference to this ConfigMap of the same name; Pulumi holds no data of it.
        Assert.Equal("kubernetes:core/v1:ConfigMap", owner.Type);
        Assert.Equal("ps-3b0c05-tokens", owner.Inputs["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("Secret/ps-3b0c05-tokens", owner.Inputs["metadata"]!["annotations"]![PullSecretComponent.OwnsAnnotation]!.GetValue<string>());
        Assert.Equal(ComponentPlans.ComponentUrn, owner.Inputs["metadata"]!["annotations"]![PullSecretComponent.OwnerAnnotation]!.GetValue<string>());
        Assert.Null(owner.Inputs["data"]);
        Assert.Empty(owner.IgnoreChanges);
        Assert.Empty(owner.SecretInputs);
    }

    [Fact]
    public void Token_registry_never_reaches_pulumi_state()
    {
        var args = Args() with
        {
            Registries = [new PullSecretRegistry { Server = "europe-docker.pkg.dev", AuthEntry = """{"auth":"b2F1dGgyYWNjZXNzdG9rZW46eHl6"}""" }],
        };
        var plan = ComponentPlans.Build(PullSecretComponent.Instance, "ps", args);

        Assert.All(plan.Children, c => Assert.Equal("kubernetes:core/v1:ConfigMap", c.Type));
        Assert.All(plan.Children, c => Assert.DoesNotContain("b2F1dGgyYWNjZXNzdG9rZW46eHl6", c.Registration.ToString(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("_json_key")]
    [InlineData("_json_key_base64")]
    public void Google_json_key_in_auth_entry_is_a_static_credential_pulumi_owns(string user)
    {
        var auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(user + ":{\"type\":\"service_account\"}"));
        var args = Args() with
        {
            Registries = [new PullSecretRegistry { Server = "europe-docker.pkg.dev", AuthEntry = $$"""{"auth":"{{auth}}"}""" }],
        };
        var plan = ComponentPlans.Build(PullSecretComponent.Instance, "ps", args);

        // The key goes into the static Secret, whose data Pulumi owns, so a rotated key reaches the cluster on the next update.
        Assert.Equal(["ps-apps-ps-3b0c05", "ps-jobs-ps-3b0c05"], plan.Children.Select(c => c.Name));
        Assert.Contains(auth, plan.Children[0].Inputs["stringData"]![".dockerconfigjson"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(plan.Children[0].IgnoreChanges);
    }

    [Fact]
    public void Service_accounts_are_never_written_because_their_image_pull_secrets_list_is_atomic()
    {
        // A ServiceAccountPatch would own (and on delete drop) the whole imagePullSecrets list.
        var plan = ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args());

        Assert.DoesNotContain(plan.Children, c => c.Type.Contains("ServiceAccount", StringComparison.Ordinal));
        Assert.Null(typeof(PullSecretArgs).GetProperty("ServiceAccounts"));
    }

    [Fact]
    public void Labels_are_the_recommended_ones()
    {
        var labels = ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args()).Children[0].Inputs["metadata"]!["labels"]!.AsObject();

        Assert.Equal("ps", labels["app.kubernetes.io/instance"]!.GetValue<string>());
        Assert.Equal("pulumi", labels["app.kubernetes.io/managed-by"]!.GetValue<string>());
        Assert.Equal("pull-secret", labels["app.kubernetes.io/component"]!.GetValue<string>());
        Assert.Equal("registryinfra", labels["app.kubernetes.io/part-of"]!.GetValue<string>());
        Assert.Equal("registryinfra", labels["app.kubernetes.io/name"]!.GetValue<string>());
    }

    [Fact]
    public void Outputs_list_secret_names_per_namespace_and_image_pull_secrets()
    {
        var outputs = ComponentPlans.Build(PullSecretComponent.Instance, "ps", Args()).Outputs;

        Assert.Equal("""["ps-3b0c05","ps-3b0c05-tokens"]""", outputs["secretNames"]!["jobs"]!.ToJsonString());
        Assert.Equal("""[{"name":"ps-3b0c05"},{"name":"ps-3b0c05-tokens"}]""", outputs["imagePullSecrets"]!.ToJsonString());
        Assert.DoesNotContain(Password, outputs.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_credential_during_preview_makes_the_document_unknown()
    {
        var args = Args() with { Registries = [new PullSecretRegistry { Server = "r.example.com", AuthEntry = Output.Unknown<string?>(secret: true) }] };
        var secret = ComponentPlans.Build(PullSecretComponent.Instance, "ps", args).Children[0];

        Assert.Equal(ComponentPlans.Unknown, secret.Inputs["stringData"]![".dockerconfigjson"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("registries", "at least one registry")]
    [InlineData("namespaces[0]", "not a valid name")]
    [InlineData("registries[0]", "password is required")]
    [InlineData("registries[0].authEntry", "not valid JSON")]
    [InlineData("registries[0]", "not token-based")]
    public void Bad_input_names_the_field(string field, string problem)
    {
        var args = field switch
        {
            "registries" => Args() with { Registries = [] },
            "namespaces[0]" => Args() with { Namespaces = ["Not_Valid"] },
            "registries[0].authEntry" => Args() with { Registries = [new PullSecretRegistry { Server = "r.example.com", AuthEntry = "{not json " + Password }] },
            _ when problem.Contains("password", StringComparison.Ordinal) => Args() with { Registries = [new PullSecretRegistry { Server = "r.example.com", Username = "u" }] },
            _ => Args() with { Registries = [new PullSecretRegistry { Server = "r.example.com" }] },
        };

        var error = Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(PullSecretComponent.Instance, "ps", args));

        Assert.Equal(field, error.Field);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.Message, StringComparison.Ordinal);
    }
}

public sealed class EcrPullAccessBuilderTests
{
    private const string Oidc = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789";

    private static EcrPullAccessArgs Irsa() => new()
    {
        ServiceAccountNamespace = "registryinfra-system",
        ServiceAccountName = "registryinfra-refresher",
        OidcProviderArn = Oidc,
        Region = "eu-west-1",
        Repositories = ["team/app", "base"],
        PermissionsBoundary = "arn:aws:iam::123456789012:policy/boundary",
        Path = "/registryinfra/",
        Tags = new Dictionary<string, string> { ["team"] = "platform" },
    };

    [Fact]
    public void Irsa_role_trusts_exactly_the_service_account_through_the_oidc_provider()
    {
        var plan = ComponentPlans.Build(EcrPullAccessComponent.Instance, "ecr", Irsa());

        Assert.Equal(["aws:iam/role:Role ecr-role", "aws:iam/rolePolicy:RolePolicy ecr-ecr-pull"], plan.Children.Select(c => $"{c.Type} {c.Name}"));
        var role = plan.Children[0].Inputs;
        Assert.Equal(
            """{"Statement":[{"Effect":"Allow","Action":["sts:AssumeRoleWithWebIdentity"],"Sid":"ServiceAccountWebIdentity","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789"},"Condition":{"StringEquals":{"oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789:sub":"system:serviceaccount:registryinfra-system:registryinfra-refresher","oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789:aud":"sts.amazonaws.com"}}}],"Version":"2012-10-17"}""",
            role["assumeRolePolicy"]!.GetValue<string>());
        Assert.Equal("arn:aws:iam::123456789012:policy/boundary", role["permissionsBoundary"]!.GetValue<string>());
        Assert.Equal("/registryinfra/", role["path"]!.GetValue<string>());
        Assert.Equal("platform", role["tags"]!["team"]!.GetValue<string>());
        Assert.Equal("arn:aws:iam::123456789012:role/registryinfra/ecr-ecr-pull", plan.Outputs["roleArn"]!.GetValue<string>());
        Assert.Equal("arn:aws:iam::123456789012:role/registryinfra/ecr-ecr-pull", plan.Outputs["serviceAccountAnnotations"]!["eks.amazonaws.com/role-arn"]!.GetValue<string>());
    }

    [Fact]
    public void Pull_policy_grants_the_token_on_star_and_reads_only_on_listed_repositories()
    {
        var policy = JsonNode.Parse(ComponentPlans.Build(EcrPullAccessComponent.Instance, "ecr", Irsa()).Children[1].Inputs["policy"]!.GetValue<string>())!;
        var statements = policy["Statement"]!.AsArray();

        Assert.Equal("""["ecr:GetAuthorizationToken"]""", statements[0]!["Action"]!.ToJsonString());
        Assert.Equal("""["*"]""", statements[0]!["Resource"]!.ToJsonString());
        Assert.Equal(
            """["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability","ecr:DescribeImages","ecr:ListImages","ecr:DescribeRepositories"]""",
            statements[1]!["Action"]!.ToJsonString());
        Assert.Equal(
            """["arn:aws:ecr:eu-west-1:123456789012:repository/team/app","arn:aws:ecr:eu-west-1:123456789012:repository/base"]""",
            statements[1]!["Resource"]!.ToJsonString());
    }

    [Fact]
    public void Pod_identity_trusts_the_eks_service_and_adds_the_association()
    {
        var args = Irsa() with { Mode = EcrPullAccessComponent.PodIdentity, OidcProviderArn = Output.Create<string?>(null), ClusterName = "prod-eu", AccountId = "123456789012", Path = "/" };
        var plan = ComponentPlans.Build(EcrPullAccessComponent.Instance, "ecr", args);

        var trust = JsonNode.Parse(plan.Children[0].Inputs["assumeRolePolicy"]!.GetValue<string>())!["Statement"]![0]!;
        Assert.Equal("pods.eks.amazonaws.com", trust["Principal"]!["Service"]!.GetValue<string>());
        Assert.Equal("""["sts:AssumeRole","sts:TagSession"]""", trust["Action"]!.ToJsonString());
        var association = plan.Children[2];
        Assert.Equal("aws:eks/podIdentityAssociation:PodIdentityAssociation", association.Type);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(
            """{"clusterName":"prod-eu","namespace":"registryinfra-system","serviceAccount":"registryinfra-refresher","roleArn":"arn:aws:iam::123456789012:role/ecr-ecr-pull","tags":{"team":"platform"}}"""), association.Inputs), association.Inputs.ToJsonString());
        Assert.Empty(plan.Outputs["serviceAccountAnnotations"]!.AsObject());
    }

    [Fact]
    public void All_repositories_only_when_asked()
    {
        var args = Irsa() with { Repositories = [], AllRepositories = true };
        var policy = ComponentPlans.Build(EcrPullAccessComponent.Instance, "ecr", args).Children[1].Inputs["policy"]!.GetValue<string>();

        Assert.Contains("arn:aws:ecr:eu-west-1:123456789012:repository/*", policy, StringComparison.Ordinal);
        Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(EcrPullAccessComponent.Instance, "ecr", Irsa() with { Repositories = [] }));
    }

    [Theory]
    [InlineData("oidcProviderArn")]
    [InlineData("mode")]
    [InlineData("repositoryArns[0]")]
    [InlineData("region")]
    public void Bad_input_names_the_field(string field)
    {
        var args = field switch
        {
            "oidcProviderArn" => Irsa() with { OidcProviderArn = "arn:aws:iam::1:role/x" },
            "mode" => Irsa() with { Mode = "keys" },
            "repositoryArns[0]" => Irsa() with { RepositoryArns = ["arn:aws:s3:::bucket"] },
            _ => Irsa() with { Region = Output.Create<string?>(null) },
        };

        Assert.Equal(field, Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(EcrPullAccessComponent.Instance, "ecr", args)).Field);
    }
}

public sealed class WorkloadIdentityBindingBuilderTests
{
    private static WorkloadIdentityBindingArgs Args() => new()
    {
        Project = "acme-prod",
        AccountId = "registry-puller",
        KubernetesNamespace = "registryinfra-system",
        KubernetesServiceAccount = "registryinfra-refresher",
        Repositories = [new ArtifactRepository { Location = "europe-west1", Repository = "images" }],
    };

    [Fact]
    public void New_account_reader_on_repositories_and_workload_identity_user()
    {
        var plan = ComponentPlans.Build(WorkloadIdentityBindingComponent.Instance, "gcp", Args());

        Assert.Equal(
        [
            "gcp:serviceaccount/account:Account gcp-account",
            "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember gcp-reader-acme-prod-europe-west1-images",
            "gcp:serviceaccount/iAMMember:IAMMember gcp-workload-identity",
        ], plan.Children.Select(c => $"{c.Type} {c.Name}"));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(
            """{"project":"acme-prod","location":"europe-west1","repository":"images","role":"roles/artifactregistry.reader","member":"serviceAccount:registry-puller@acme-prod.iam.gserviceaccount.com"}"""), plan.Children[1].Inputs), plan.Children[1].Inputs.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(
            """{"serviceAccountId":"projects/acme-prod/serviceAccounts/registry-puller@acme-prod.iam.gserviceaccount.com","role":"roles/iam.workloadIdentityUser","member":"serviceAccount:acme-prod.svc.id.goog[registryinfra-system/registryinfra-refresher]"}"""), plan.Children[2].Inputs), plan.Children[2].Inputs.ToJsonString());
        Assert.Equal("registry-puller@acme-prod.iam.gserviceaccount.com", plan.Outputs["serviceAccountAnnotations"]!["iam.gke.io/gcp-service-account"]!.GetValue<string>());
        Assert.Equal(["gcp-account"], plan.Children[2].DependsOn);
    }

    [Fact]
    public void Existing_account_and_project_wide_reader()
    {
        var args = Args() with { AccountId = Output.Create<string?>(null), ServiceAccountEmail = "puller@shared-ci.iam.gserviceaccount.com", Repositories = [], ProjectWide = true, ClusterProject = "acme-clusters" };
        var plan = ComponentPlans.Build(WorkloadIdentityBindingComponent.Instance, "gcp", args);

        Assert.Equal(["gcp:projects/iAMMember:IAMMember", "gcp:serviceaccount/iAMMember:IAMMember"], plan.Children.Select(c => c.Type));
        Assert.Equal("projects/shared-ci/serviceAccounts/puller@shared-ci.iam.gserviceaccount.com", plan.Children[1].Inputs["serviceAccountId"]!.GetValue<string>());
        Assert.Equal("serviceAccount:acme-clusters.svc.id.goog[registryinfra-system/registryinfra-refresher]", plan.Children[1].Inputs["member"]!.GetValue<string>());
    }

    [Fact]
    public void Account_and_email_together_are_refused()
    {
        var error = Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(WorkloadIdentityBindingComponent.Instance, "gcp", Args() with { ServiceAccountEmail = "a@b.iam.gserviceaccount.com" }));
        Assert.Equal("accountId", error.Field);
    }
}

public sealed class TokenRefresherBuilderTests
{
    private const string Image = "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    internal static TokenRefresherArgs Args() => new()
    {
        Image = Image,
        ServiceAccountAnnotations = new Dictionary<string, string> { ["eks.amazonaws.com/role-arn"] = "arn:aws:iam::123456789012:role/r" },
        Registries = [new RefresherRegistry { Server = "123456789012.dkr.ecr.eu-west-1.amazonaws.com", Type = "ecr", Region = "eu-west-1", AccountId = "123456789012" }],
        Targets = [new RefresherTarget { SecretName = "registryinfra-pull-tokens", Namespaces = ["apps", "jobs"], ServiceAccounts = ["default"] }],
    };

    private static JsonObject Child(ComponentPlan plan, string type) => plan.Children.Single(c => c.Type == type).Inputs;

    [Fact]
    public void Children_are_namespace_account_rbac_per_namespace_config_cronjob_and_job()
    {
        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args());

        Assert.Equal(
        [
            "kubernetes:core/v1:Namespace r-namespace",
            "kubernetes:core/v1:ServiceAccount r-service-account",
            "kubernetes:rbac.authorization.k8s.io/v1:Role r-role-apps",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding r-role-binding-apps",
            "kubernetes:rbac.authorization.k8s.io/v1:Role r-role-jobs",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding r-role-binding-jobs",
            "kubernetes:rbac.authorization.k8s.io/v1:Role r-ledger-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding r-ledger-role-binding",
            "kubernetes:core/v1:ConfigMap r-config",
            "kubernetes:batch/v1:CronJob r-cron-job",
        ], plan.Children.Take(10).Select(c => $"{c.Type} {c.Name}"));
        Assert.Equal("kubernetes:batch/v1:Job", plan.Children[10].Type);
        Assert.Equal(11, plan.Children.Length);
    }

    [Fact]
    public void Role_is_least_privilege()
    {
        var role = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args()).Children[2].Inputs;

        Assert.Equal(
            """[{"apiGroups":[""],"resourceNames":["registryinfra-pull-tokens"],"resources":["secrets"],"verbs":["get","update","patch"]},{"apiGroups":[""],"resources":["secrets"],"verbs":["create"]},{"apiGroups":["","events.k8s.io"],"resources":["events"],"verbs":["create","get","patch"]},{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["get","list","patch"]}]""",
            role["rules"]!.ToJsonString());
        Assert.Equal("apps", role["metadata"]!["namespace"]!.GetValue<string>());
    }

    [Theory]
    // Named accounts: get and patch by any name (the ledger detaches names from accounts the program no longer names), and
    // list (the ledger's sweep of a removed all-accounts or selector target's scope in this namespace, while this Role stays).
    [InlineData("cronJob", """ "serviceAccounts": ["default"] """, """["get","list","patch"]""")]
    // All or a selector: the namespace's accounts are listed.
    [InlineData("cronJob", """ "allServiceAccounts": true """, """["get","list","patch"]""")]
    [InlineData("cronJob", """ "serviceAccountSelector": { "matchLabels": { "pulls": "private" } } """, """["get","list","patch"]""")]
    // Watch mode: each listed namespace's accounts are also watched.
    [InlineData("watch", """ "serviceAccounts": ["default"] """, """["get","list","patch","watch"]""")]
    [InlineData("watch", """ "allServiceAccounts": true """, """["get","list","patch","watch"]""")]
    public void A_listed_namespaces_role_grants_service_accounts_by_any_name_with_list_and_watch_where_the_refresher_lists_and_watches(string mode, string accounts, string verbs)
    {
        var args = ComponentPlans.Bind<TokenRefresherArgs>(System.Text.Json.Nodes.JsonNode.Parse($$"""
            { "image": "{{Image}}", "mode": "{{mode}}", "registries": [{ "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "type": "ecr", "region": "eu-west-1" }],
              "targets": [{ "secretName": "pull", "namespaces": ["apps"], {{accounts}} }] }
            """)!.AsObject());

        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", args);

        var rules = plan.Children.Single(c => c.Type == RefresherRbac.RoleType && c.Name == "r-role-apps").Inputs["rules"]!.AsArray();
        Assert.Equal($$"""{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":{{verbs}}}""", rules.Single(r => r!["resources"]![0]!.GetValue<string>() == "serviceaccounts")!.ToJsonString());
        // Watch mode lists and watches namespaces across the cluster, so even listed namespaces alone get a ClusterRole, its
        // own (not the wide targets' one, which none has here), on namespaces only.
        var cluster = plan.Children.SingleOrDefault(c => c.Type == RefresherRbac.ClusterRoleType);
        Assert.Equal(mode == "watch", cluster is not null);
        if (cluster is not null)
        {
            Assert.Equal("r-watch-cluster-role", cluster.Name);
            Assert.EndsWith("-registryinfra-refresher-watch", cluster.Inputs["metadata"]!["name"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal("""[{"apiGroups":[""],"resources":["namespaces"],"verbs":["get","list","watch"]}]""", cluster.Inputs["rules"]!.ToJsonString());
            Assert.Equal("r-watch-cluster-role-binding", Assert.Single(plan.Children, c => c.Type == RefresherRbac.ClusterRoleBindingType).Name);
        }
    }

    [Fact]
    public void In_watch_mode_more_listed_namespaces_than_are_watched_one_by_one_get_service_accounts_listed_and_watched_cluster_wide()
    {
        var namespaces = string.Join(", ", Enumerable.Range(0, RefresherRbac.PerNamespaceWatchLimit + 1).Select(i => $"\"ns-{i}\""));
        var args = ComponentPlans.Bind<TokenRefresherArgs>(System.Text.Json.Nodes.JsonNode.Parse($$"""
            { "image": "{{Image}}", "mode": "watch", "registries": [{ "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "type": "ecr", "region": "eu-west-1" }],
              "targets": [{ "secretName": "pull", "namespaces": [{{namespaces}}], "serviceAccounts": ["default"] }] }
            """)!.AsObject());

        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", args);

        Assert.Equal("""[{"apiGroups":[""],"resources":["namespaces"],"verbs":["get","list","watch"]},{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["list","watch"]}]""",
            plan.Children.Single(c => c.Type == RefresherRbac.ClusterRoleType && c.Name == "r-watch-cluster-role").Inputs["rules"]!.ToJsonString());
        Assert.DoesNotContain(plan.Children, c => c.Name == "r-cluster-role");
        Assert.Contains("""{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["get","list","patch"]}""",
            plan.Children.Single(c => c.Type == RefresherRbac.RoleType && c.Name == "r-role-ns-0").Inputs["rules"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Cluster_role_only_for_selector_targets()
    {
        Assert.DoesNotContain(ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args()).Children, c => c.Type.Contains("ClusterRole", StringComparison.Ordinal));

        var args = Args() with { Targets = [new RefresherTarget { SecretName = "s", NamespaceSelector = "team=payments" }] };
        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", args);
        var clusterRole = Child(plan, RefresherRbac.ClusterRoleType);
        Assert.Contains("""{"apiGroups":[""],"resources":["namespaces"],"verbs":["get","list","watch"]}""", clusterRole["rules"]!.ToJsonString(), StringComparison.Ordinal);
        // The only Role is the ledger's, in the refresher's own namespace.
        Assert.Equal(["r-ledger-role"], plan.Children.Where(c => c.Type == RefresherRbac.RoleType).Select(c => c.Name));
        Assert.Single(plan.Children, c => c.Type == RefresherRbac.ClusterRoleBindingType);
    }

    [Theory]
    [InlineData(new string[0], "0 */6 * * *")]
    [InlineData(new[] { "ecr" }, "0 */4 * * *")]
    [InlineData(new[] { "acr" }, "0 * * * *")]
    [InlineData(new[] { "gcp" }, "*/20 * * * *")]
    [InlineData(new[] { "ecr", "acr", "gcp" }, "*/20 * * * *")]
    public void Schedule_default_is_a_third_of_the_shortest_token_lifetime(string[] types, string schedule)
    {
        var args = Args() with
        {
            Registries = [.. types.Select(t => new RefresherRegistry { Server = $"{t}.example.com", Type = t, Region = "eu-west-1", AccountId = "123456789012", TenantId = "contoso.onmicrosoft.com" })],
            Targets = [new RefresherTarget { SecretName = "registryinfra-pull-tokens", Namespaces = ["apps"], ServiceAccounts = ["default"], AttachOnly = types.Length == 0 }],
        };

        Assert.Equal(schedule, TokenRefresherComponent.ScheduleFor(types));
        Assert.Equal(schedule, Child(ComponentPlans.Build(TokenRefresherComponent.Instance, "r", args), TokenRefresherComponent.CronJobType)["spec"]!["schedule"]!.GetValue<string>());
    }

    [Fact]
    public void Schedule_given_is_kept()
    {
        var cron = Child(ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args() with { Schedule = "*/7 * * * *" }), TokenRefresherComponent.CronJobType);

        Assert.Equal("*/7 * * * *", cron["spec"]!["schedule"]!.GetValue<string>());
    }

    [Fact]
    public void Cron_job_runs_forbid_concurrency_with_restricted_security()
    {
        var cron = Child(ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args()), TokenRefresherComponent.CronJobType);
        var spec = cron["spec"]!;
        Assert.Equal("0 */4 * * *", spec["schedule"]!.GetValue<string>());
        Assert.Equal("Forbid", spec["concurrencyPolicy"]!.GetValue<string>());
        Assert.Equal(300, spec["startingDeadlineSeconds"]!.GetValue<long>());
        var job = spec["jobTemplate"]!["spec"]!;
        Assert.Equal(3, job["backoffLimit"]!.GetValue<int>());
        Assert.Equal(600, job["activeDeadlineSeconds"]!.GetValue<long>());
        var pod = job["template"]!["spec"]!;
        Assert.Equal("registryinfra-refresher", pod["serviceAccountName"]!.GetValue<string>());
        Assert.True(pod["automountServiceAccountToken"]!.GetValue<bool>());
        Assert.Equal("""{"fsGroup":65532,"runAsGroup":65532,"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}}""", pod["securityContext"]!.ToJsonString());
        var container = pod["containers"]![0]!;
        Assert.Equal(Image, container["image"]!.GetValue<string>());
        Assert.Equal("""["refresh","--config","/etc/registryinfra/refresher.yaml"]""", container["args"]!.ToJsonString());
        Assert.Equal(
            """{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"readOnlyRootFilesystem":true,"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}}""",
            container["securityContext"]!.ToJsonString());
        Assert.Equal("""{"limits":{"memory":"128Mi"},"requests":{"cpu":"50m","memory":"64Mi"}}""", container["resources"]!.ToJsonString());
    }

    [Fact]
    public void Config_map_holds_the_refresher_configuration()
    {
        var config = Child(ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args()), TokenRefresherComponent.ConfigMapType)["data"]![RefresherPod.ConfigKey]!.GetValue<string>();

        Assert.Equal(
            """{"registries":[{"server":"123456789012.dkr.ecr.eu-west-1.amazonaws.com","source":{"type":"ecr","region":"eu-west-1","accountId":"123456789012"}}],"targets":[{"secretName":"registryinfra-pull-tokens","namespaces":["apps","jobs"],"serviceAccounts":["default"]}],"ledger":{"namespace":"r-3b0c05","name":"registryinfra-refresher-attachments","owner":"registryinfra-refresher-config"}}""",
            config);
    }

    [Fact]
    public void Job_name_changes_with_the_configuration_and_image_only()
    {
        static string JobName(TokenRefresherArgs a) => ComponentPlans.Build(TokenRefresherComponent.Instance, "r", a).Children.Single(c => c.Type == TokenRefresherComponent.JobType).Inputs["metadata"]!["name"]!.GetValue<string>();

        var first = JobName(Args());
        Assert.Equal(first, JobName(Args()));
        Assert.NotEqual(first, JobName(Args() with { Targets = [new RefresherTarget { SecretName = "other", Namespaces = ["apps"] }] }));
        Assert.NotEqual(first, JobName(Args() with { Image = Image.Replace("0123", "4567", StringComparison.Ordinal) }));
        Assert.Equal(first, JobName(Args() with { Schedule = "0 * * * *" }));
    }

    [Fact]
    public void Image_is_required_and_pinned_by_digest()
    {
        Assert.Null(RefresherRelease.Image);
        var missing = Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args() with { Image = Output.Create<string?>(null) }));
        Assert.Equal("image", missing.Field);
        var tag = Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args() with { Image = "ghcr.io/acme/refresher:1.0" }));
        Assert.Contains("not pinned by digest", tag.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Attach_only_targets_need_no_registry_and_get_read_only_secret_rules()
    {
        var args = Args() with
        {
            Registries = null,
            ServiceAccountAnnotations = null,
            Targets = [new RefresherTarget { SecretName = "static-pull", NamespaceSelector = "team=web", ServiceAccounts = ["default"], AttachOnly = true }],
        };

        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", args);

        Assert.Equal("""{"targets":[{"secretName":"static-pull","namespaceSelector":"team=web","serviceAccounts":["default"],"attachOnly":true}],"ledger":{"namespace":"r-3b0c05","name":"registryinfra-refresher-attachments","owner":"registryinfra-refresher-config"}}""",
            Child(plan, TokenRefresherComponent.ConfigMapType)["data"]![RefresherPod.ConfigKey]!.GetValue<string>());
        Assert.Equal(
            """[{"apiGroups":[""],"resources":["namespaces"],"verbs":["get","list","watch"]},{"apiGroups":[""],"resourceNames":["static-pull"],"resources":["secrets"],"verbs":["get"]},{"apiGroups":["","events.k8s.io"],"resources":["events"],"verbs":["create","get","patch"]},{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["get","list","watch","patch"]}]""",
            Child(plan, RefresherRbac.ClusterRoleType)["rules"]!.ToJsonString());
    }

    [Theory]
    [InlineData("targets[0].registries")]
    [InlineData("targets[0].serviceAccounts")]
    [InlineData("targets[1].secretName")]
    [InlineData("registries")]
    public void Invalid_attach_only_targets_are_refused_naming_the_field(string field)
    {
        RefresherTarget Attach(string secret = "static-pull") => new() { SecretName = secret, Namespaces = ["apps"], ServiceAccounts = ["default"], AttachOnly = true };
        var args = field switch
        {
            "targets[0].registries" => Args() with { Targets = [Attach() with { Registries = ["123456789012.dkr.ecr.eu-west-1.amazonaws.com"] }] },
            "targets[0].serviceAccounts" => Args() with { Targets = [Attach() with { ServiceAccounts = [] }] },
            "targets[1].secretName" => Args() with { Targets = [Args().Targets.KnownOrEmpty[0], Attach("registryinfra-pull-tokens")] },
            _ => Args() with { Registries = [], Targets = [Attach(), Args().Targets.KnownOrEmpty[0]] },
        };

        Assert.Equal(field, Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(TokenRefresherComponent.Instance, "r", args)).Field);
    }

    [Fact]
    public void Target_naming_an_unknown_registry_is_refused()
    {
        var args = Args() with { Targets = [new RefresherTarget { SecretName = "s", Namespaces = ["a"], Registries = ["nope"] }] };
        Assert.Equal("targets[0].registries[0]", Assert.Throws<ComponentInputException>(() => ComponentPlans.Build(TokenRefresherComponent.Instance, "r", args)).Field);
    }
}

public sealed class RefresherSourceTests
{
    [Theory]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr")]
    [InlineData("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "ecr")]
    [InlineData("123456789012.dkr-ecr.eu-west-1.on.aws", "ecr")]
    [InlineData("europe-docker.pkg.dev", "gcp")]
    [InlineData("eu.gcr.io", "gcp")]
    [InlineData("acmeprod.azurecr.io", "acr")]
    [InlineData("public.ecr.aws", null)]
    [InlineData("ghcr.io", null)]
    [InlineData("registry.example.com", null)]
    [InlineData("localhost:5000", null)]
    public void Detects_the_source_from_cores_registry_host(string server, string? expected) =>
        Assert.Equal(expected, RefresherSource.For(null, server, "registries[0]"));

    [Theory]
    [InlineData("generic", null)]
    [InlineData("Generic", null)]
    [InlineData("ecrPrivate", "ecr")]
    [InlineData("ecr-private", "ecr")]
    [InlineData("ecr", "ecr")]
    [InlineData("artifact_registry", "gcp")]
    [InlineData("gar", "gcp")]
    public void Profile_kind_wins_over_host(string kind, string? expected) =>
        Assert.Equal(expected, RefresherSource.For(kind, "acmeprod.azurecr.io", "registries[0]"));

    [Theory]
    [InlineData("ecs")]
    [InlineData("3")]
    [InlineData("dockerhubx")]
    public void Unknown_kind_is_an_error_naming_the_field(string kind)
    {
        var e = Assert.Throws<ComponentInputException>(() => RefresherSource.For(kind, "acme.azurecr.io", "registries[2]"));
        Assert.Equal("registries[2].kind", e.Field);
        Assert.Contains("ecr, ecrPublic, gcr, artifactRegistry", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_server_is_an_error_naming_the_field()
    {
        var e = Assert.Throws<ComponentInputException>(() => RefresherSource.For(null, "registry.example.com/team", "registries[1]"));
        Assert.Equal("registries[1].server", e.Field);
    }
}

public sealed class BindingTests
{
    [Fact]
    public void Unknown_field_and_wrong_type_are_named()
    {
        var unknown = Assert.Throws<ArgumentException>(() => ComponentPlans.Bind<PullSecretArgs>(JsonNode.Parse("""{"namespacez":["a"]}""")!.AsObject()));
        Assert.Contains("namespacez: unknown property", unknown.Message, StringComparison.Ordinal);
        var wrong = Assert.Throws<ArgumentException>(() => ComponentPlans.Bind<TokenRefresherArgs>(JsonNode.Parse("""{"targets":[],"createNamespace":"hunter2"}""")!.AsObject()));
        Assert.Contains("createNamespace: expected boolean, got string", wrong.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", wrong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Camel_case_inputs_bind_to_typed_args()
    {
        var args = ComponentPlans.Bind<PullSecretArgs>(JsonNode.Parse("""{"registries":[{"server":"r","username":"u","password":"p"}],"namespaces":["a"],"secretName":"x"}""")!.AsObject());
        Assert.True(args.SecretName.TryGetKnown(out var secretName));
        Assert.Equal("x", secretName);
        Assert.True(args.Registries.KnownOrEmpty[0].Password.TryGetKnown(out var password));
        Assert.Equal("p", password);
    }
}
