using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Google.Protobuf;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Components;
using RegistryInfra.Testing.Components;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>Construct of each component against a real gRPC ResourceMonitor, in preview and in update.</summary>
public sealed class ConstructTests : IAsyncLifetime
{
    private const string Password = "pw-Zq8!never-in-plain";
    private const string AuthB64 = "cm9ib3Q6dG9rZW4tc2VjcmV0LWF1dGg=";
    private const string StackUrn = "urn:pulumi:test::fleet::pulumi:pulumi:Stack::fleet-test";
    private const string KubernetesProvider = "urn:pulumi:test::fleet::pulumi:providers:kubernetes::prod-eu::0b1c-kube";
    private const string AwsProvider = "urn:pulumi:test::fleet::pulumi:providers:aws::acct::9f8e-aws";
    private const string GcpProvider = "urn:pulumi:test::fleet::pulumi:providers:gcp::proj::77aa-gcp";
    private const string Image = "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private static readonly string[] Credentials = [Password, AuthB64, KubeToken];
    private const string KubeToken = "kube-token-never-in-plain";
    private const string KubeconfigText = "apiVersion: v1\\nkind: Config\\nusers: [{name: u, user: {token: " + KubeToken + "}}]";

    private FakeResourceMonitor _monitor = null!;
    private ResourceMonitorClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _monitor = await FakeResourceMonitor.StartAsync(TestContext.Current.CancellationToken);
        _client = ResourceMonitorClient.Connect(_monitor.Endpoint);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _monitor.DisposeAsync();
    }

    internal static string ClusterInputs(string authEntry) => $$"""
    {
      "profiles": [
        { "server": "registry.example.com", "username": "robot", "password": "{{Password}}" },
        { "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "kind": "ecr" },
        { "server": "europe-docker.pkg.dev", "authEntry": "{{authEntry}}", "tokenBased": true }
      ],
      "namespaces": ["apps", "jobs"],
      "serviceAccounts": ["default"],
      "kubeconfig": "{{KubeconfigText}}",
      "refresher": { "image": "{{Image}}" },
      "aws": { "oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC", "region": "eu-west-1", "repositories": ["app"] },
      "gcp": { "project": "acme-prod", "accountId": "registry-puller", "repositories": [{ "location": "europe", "repository": "images" }] }
    }
    """;

    private static readonly string KnownAuthEntry = "{\\\"auth\\\":\\\"" + AuthB64 + "\\\"}";

    /// <summary>Inputs as the engine sends them: credentials secret, the placeholder <c>UNKNOWN</c> computed.</summary>
    internal static ImmutableSortedDictionary<string, PropertyValue> Inputs(string json) =>
        JsonNode.Parse(json)!.AsObject().ToImmutableSortedDictionary(kv => kv.Key, kv => Value(kv.Key, kv.Value), StringComparer.Ordinal);

    private static PropertyValue Value(string key, JsonNode? node)
    {
        var value = node switch
        {
            JsonObject o => PropertyValue.CreateObject(o.Select(kv => KeyValuePair.Create(kv.Key, Value(kv.Key, kv.Value)))),
            JsonArray a => PropertyValue.CreateArray(a.Select(v => Value("", v))),
            JsonValue v when v.TryGetValue<string>(out var s) => s == "UNKNOWN" ? PropertyValue.Computed : PropertyValue.Create(s),
            JsonValue v when v.TryGetValue<bool>(out var b) => PropertyValue.Create(b),
            JsonValue v => PropertyValue.Create(v.GetValue<double>()),
            _ => PropertyValue.Null,
        };
        return key is "password" or "authEntry" or "kubeconfig" && !value.IsComputed ? PropertyValue.CreateSecret(value) : value;
    }

    private Task<ConstructResponse> Construct(string type, string name, string json, bool dryRun) => Construct(type, name, Inputs(json), dryRun, []);

    private Task<ConstructResponse> Construct(string type, string name, IReadOnlyDictionary<string, PropertyValue> inputs, bool dryRun, ImmutableArray<ResourceAlias> aliases)
    {
        _monitor.DryRun = dryRun;
        var request = new ConstructRequest(type, name, StackUrn, inputs,
            ImmutableDictionary<string, ImmutableArray<string>>.Empty,
            new DeploymentContext("fleet", "test", "org", ImmutableDictionary<string, string>.Empty, [], dryRun, 4, _monitor.Endpoint),
            ImmutableDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                ["kubernetes"] = KubernetesProvider,
                ["aws"] = AwsProvider,
                ["gcp"] = GcpProvider,
            }),
            [], aliases, new ConstructOptions(null, [], null, "", null, [], [], null, []), AcceptsOutputValues: true);
        return RegistryInfraPackage.CreateProvider().ConstructAsync(request, TestContext.Current.CancellationToken);
    }

    private FakeResourceMonitor.Registration Registered(string type, string name) =>
        _monitor.Registrations.Single(r => r.Type == type && r.Name == name);

    [Fact]
    public async Task Cluster_access_registers_the_component_first_then_every_child_under_it()
    {
        var result = await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);

        var regs = _monitor.Registrations;
        Assert.Equal("registryinfra:index:ClusterRegistryAccess", regs[0].Type);
        Assert.Equal(StackUrn, regs[0].Request.Parent);
        Assert.False(regs[0].Request.Custom);
        Assert.Equal(result.Urn, regs[0].Urn);
        Assert.Equal(
        [
            "registryinfra:index:ClusterRegistryAccess prod-eu",
            "registryinfra:kubernetes:PullSecret prod-eu-pull-secret",
            "kubernetes:core/v1:Secret prod-eu-pull-secret-apps-prod-eu-dcd591",
            "kubernetes:core/v1:ConfigMap prod-eu-pull-secret-apps-prod-eu-dcd591-tokens-owner",
            "kubernetes:core/v1:Secret prod-eu-pull-secret-jobs-prod-eu-dcd591",
            "kubernetes:core/v1:ConfigMap prod-eu-pull-secret-jobs-prod-eu-dcd591-tokens-owner",
            "registryinfra:kubernetes:PullSecretAttachment prod-eu-apps-attachment",
            "registryinfra:kubernetes:PullSecretAttachment prod-eu-jobs-attachment",
            "registryinfra:aws:EcrPullAccess prod-eu-ecr",
            "aws:iam/role:Role prod-eu-ecr-role",
            "aws:iam/rolePolicy:RolePolicy prod-eu-ecr-ecr-pull",
            "registryinfra:gcp:WorkloadIdentityBinding prod-eu-gcp",
            "gcp:serviceaccount/account:Account prod-eu-gcp-account",
            "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember prod-eu-gcp-reader-acme-prod-europe-images",
            "gcp:serviceaccount/iAMMember:IAMMember prod-eu-gcp-workload-identity",
            "registryinfra:kubernetes:TokenRefresher prod-eu-refresher",
            "kubernetes:core/v1:Namespace prod-eu-refresher-namespace",
            "kubernetes:core/v1:ServiceAccount prod-eu-refresher-service-account",
            "kubernetes:rbac.authorization.k8s.io/v1:Role prod-eu-refresher-role-apps",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding prod-eu-refresher-role-binding-apps",
            "kubernetes:rbac.authorization.k8s.io/v1:Role prod-eu-refresher-role-jobs",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding prod-eu-refresher-role-binding-jobs",
            "kubernetes:rbac.authorization.k8s.io/v1:Role prod-eu-refresher-ledger-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding prod-eu-refresher-ledger-role-binding",
            "kubernetes:core/v1:ConfigMap prod-eu-refresher-config",
            "kubernetes:batch/v1:CronJob prod-eu-refresher-cron-job",
        ], regs.Where(r => r.Type != "kubernetes:batch/v1:Job").Select(r => $"{r.Type} {r.Name}"), new OrderInsensitive());
        Assert.Single(regs, r => r.Type == "kubernetes:batch/v1:Job");
        Assert.Equal(27, regs.Count);
        // Children are registered concurrently, each after its parent.
        var order = regs.Select((r, i) => (r.Urn, i)).ToDictionary(x => x.Urn, x => x.i, StringComparer.Ordinal);
        Assert.All(regs.Skip(1), r => Assert.True(order[r.Request.Parent] < order[r.Urn], $"{r.Name} was registered before its parent"));

        // URNs nest the types of the parents, as the engine makes them.
        var secret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-prod-eu-dcd591");
        Assert.Equal("urn:pulumi:test::fleet::registryinfra:index:ClusterRegistryAccess$registryinfra:kubernetes:PullSecret$kubernetes:core/v1:Secret::prod-eu-pull-secret-apps-prod-eu-dcd591", secret.Urn);
        Assert.Equal(Registered("registryinfra:kubernetes:PullSecret", "prod-eu-pull-secret").Urn, secret.Request.Parent);
    }

    [Fact]
    public async Task Each_child_uses_the_users_provider_for_its_package()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);

        foreach (var reg in _monitor.Registrations)
        {
            var expected = reg.Type.Split(':')[0] switch
            {
                "kubernetes" => KubernetesProvider,
                "aws" => AwsProvider,
                "gcp" => GcpProvider,
                _ => "",
            };
            Assert.Equal(expected, reg.Request.Provider);
            Assert.True(reg.Request.AcceptSecrets);
        }
    }

    [Fact]
    public async Task Secret_data_is_secret_and_the_refresher_owned_data_is_ignored()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);

        var staticSecret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-prod-eu-dcd591");
        Assert.True(staticSecret.Inputs["stringData"].IsSecret);
        Assert.Empty(staticSecret.Request.IgnoreChanges);
        Assert.Equal(["data", "stringData"], staticSecret.Request.AdditionalSecretOutputs);
        // No token passes through Pulumi: the token Secret is not a Pulumi resource; its owner ConfigMap carries no data.
        Assert.DoesNotContain(_monitor.Registrations, r => r.Type == "kubernetes:core/v1:Secret" && r.Name.EndsWith("-tokens", StringComparison.Ordinal));
        var owner = Registered("kubernetes:core/v1:ConfigMap", "prod-eu-pull-secret-apps-prod-eu-dcd591-tokens-owner");
        Assert.False(owner.Inputs.ContainsKey("data"));
        Assert.DoesNotContain(AuthB64, owner.Request.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_credential_appears_in_any_non_secret_input_or_output()
    {
        var result = await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);

        foreach (var reg in _monitor.Registrations)
        {
            foreach (var (key, value) in reg.Inputs)
            {
                AssertNoCredential(value, $"{reg.Type} {reg.Name} .{key}");
            }
        }
        foreach (var (urn, outputs) in _monitor.ComponentOutputs)
        {
            foreach (var (key, value) in outputs)
            {
                AssertNoCredential(value, $"{urn} output {key}");
            }
        }
        foreach (var (key, value) in result.State)
        {
            AssertNoCredential(value, $"state {key}");
        }
        // The scan itself can fail: the credential is on the wire, inside secrets.
        var wire = string.Concat(_monitor.Registrations.Select(r => r.Request.Object.ToString()));
        Assert.Contains(Password, wire, StringComparison.Ordinal);
    }

    private static void AssertNoCredential(PropertyValue value, string where, string[]? credentials = null)
    {
        credentials ??= Credentials;
        switch (value.Kind)
        {
            case PropertyValueKind.Secret:
                return;
            case PropertyValueKind.String:
                foreach (var credential in credentials)
                {
                    Assert.False(value.StringValue.Contains(credential, StringComparison.Ordinal), $"credential in plain text at {where}");
                }
                return;
            case PropertyValueKind.Array:
                foreach (var item in value.ArrayValue)
                {
                    AssertNoCredential(item, where, credentials);
                }
                return;
            case PropertyValueKind.Object:
                foreach (var (key, item) in value.ObjectValue)
                {
                    AssertNoCredential(item, $"{where}.{key}", credentials);
                }
                return;
            default:
                return;
        }
    }

    [Fact]
    public async Task Preview_with_an_unknown_credential_registers_the_same_children_with_unknown_data()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs("UNKNOWN"), dryRun: true);
        var preview = _monitor.Registrations.Select(r => $"{r.Type} {r.Name}").ToList();

        // The unknown entry is a token-based registry's (tokenBased: true): only its Secret's owner ConfigMap is Pulumi's,
        // and the static Secret's document is known.
        Assert.False(Registered("kubernetes:core/v1:ConfigMap", "prod-eu-pull-secret-apps-prod-eu-dcd591-tokens-owner").Inputs.ContainsKey("data"));
        var staticSecret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-prod-eu-dcd591");
        Assert.False(staticSecret.Inputs["stringData"].SecretValue.ObjectValue[".dockerconfigjson"].IsComputed);

        _monitor.Clear();
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);
        Assert.Equal(preview.Order(StringComparer.Ordinal), _monitor.Registrations.Select(r => $"{r.Type} {r.Name}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Preview_of_an_unchanged_program_registers_identical_children()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: true);
        var first = _monitor.Registrations.OrderBy(r => r.Urn, StringComparer.Ordinal).Select(r => r.Request.ToByteArray()).ToList();
        _monitor.Clear();
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: true);
        var second = _monitor.Registrations.OrderBy(r => r.Urn, StringComparer.Ordinal).Select(r => r.Request.ToByteArray()).ToList();

        Assert.Equal(first.Count, second.Count);
        for (var i = 0; i < first.Count; i++)
        {
            Assert.Equal(first[i], second[i]);
        }
    }

    [Fact]
    public async Task Dependencies_follow_the_children_order_and_expand_nested_components()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);

        var refresher = Registered("registryinfra:kubernetes:TokenRefresher", "prod-eu-refresher");
        Assert.Contains(Registered("kubernetes:core/v1:ConfigMap", "prod-eu-pull-secret-jobs-prod-eu-dcd591-tokens-owner").Urn, refresher.Request.Dependencies);
        Assert.Contains(Registered("aws:iam/rolePolicy:RolePolicy", "prod-eu-ecr-ecr-pull").Urn, refresher.Request.Dependencies);
        var job = _monitor.Registrations.Single(r => r.Type == "kubernetes:batch/v1:Job");
        Assert.Contains(Registered("kubernetes:core/v1:ConfigMap", "prod-eu-refresher-config").Urn, job.Request.Dependencies);
    }

    [Fact]
    public async Task Service_accounts_are_attached_by_one_attachment_per_namespace_and_never_by_pulumi_kubernetes()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);

        // The only ServiceAccount pulumi-kubernetes writes is the refresher's own; imagePullSecrets is atomic, so a patch would own the list.
        Assert.Equal(["prod-eu-refresher-service-account"], _monitor.Registrations.Where(r => r.Type.StartsWith("kubernetes:", StringComparison.Ordinal)
            && r.Type.Contains("ServiceAccount", StringComparison.Ordinal)).Select(r => r.Name));
        foreach (var ns in new[] { "apps", "jobs" })
        {
            var attachment = Registered("registryinfra:kubernetes:PullSecretAttachment", $"prod-eu-{ns}-attachment");
            Assert.Equal("", attachment.Request.Provider);
            Assert.Equal($$"""{"namespace":"{{ns}}","secretNames":["prod-eu-dcd591","prod-eu-dcd591-tokens"],"serviceAccounts":["default"]}""",
                Plain(attachment.Inputs));
            // It waits for the Secrets (their component), so the names it adds exist or are being filled.
            Assert.Contains(Registered("registryinfra:kubernetes:PullSecret", "prod-eu-pull-secret").Urn, attachment.Request.Dependencies);
        }
        // The refresher renews the token Secret and attaches nothing, so its RBAC has no service-account rule.
        Assert.Equal(
            """[{"secretName":"prod-eu-dcd591-tokens","namespaces":["apps","jobs"],"owner":"prod-eu-dcd591-tokens"}]""",
            Configuration("prod-eu")["targets"]!.ToJsonString());
        Assert.Equal(
            """[{"apiGroups":[""],"resourceNames":["prod-eu-dcd591-tokens"],"resources":["secrets"],"verbs":["get","update","patch","delete"]},{"apiGroups":[""],"resources":["secrets"],"verbs":["create"]},{"apiGroups":[""],"resourceNames":["prod-eu-dcd591-tokens"],"resources":["configmaps"],"verbs":["get"]},{"apiGroups":["","events.k8s.io"],"resources":["events"],"verbs":["create","get","patch"]}]""",
            Rules("kubernetes:rbac.authorization.k8s.io/v1:Role", "prod-eu-refresher-role-apps"));
    }

    private static string Plain(ImmutableSortedDictionary<string, PropertyValue> inputs) =>
        ComponentPlans.ToJson(inputs.Where(kv => !kv.Value.IsNull && kv.Key != "kubeconfig").ToImmutableSortedDictionary(StringComparer.Ordinal)).Json.ToJsonString();

    private const string StaticPassword = "ghp_Zq8static-never-in-plain";

    private static string StaticOnlyInputs(string extra = "") => $$"""
    {
      "profiles": [
        { "server": "ghcr.io", "username": "octo", "password": "{{StaticPassword}}" },
        { "server": "registry.example.com", "kind": "generic", "authEntry": "{\"auth\":\"{{AuthB64}}\"}" }
      ],
      "namespaces": ["apps", "jobs"],
      "kubeconfig": "{{KubeconfigText}}"{{extra}}
    }
    """;

    private JsonNode Configuration(string name) =>
        JsonNode.Parse(Registered("kubernetes:core/v1:ConfigMap", $"{name}-refresher-config").Inputs["data"].ObjectValue["refresher.yaml"].StringValue)!;

    private string Rules(string type, string name) =>
        JsonNode.Parse(JsonFormatter.Default.Format(Registered(type, name).Request.Object))!["rules"]!.ToJsonString();

    [Fact]
    public async Task Static_only_access_attaches_the_listed_service_accounts_without_any_refresher()
    {
        var result = await Construct("registryinfra:index:ClusterRegistryAccess", "edge", StaticOnlyInputs(""", "serviceAccounts": ["default", "builder"]"""), dryRun: false);

        Assert.Equal(
        [
            "registryinfra:index:ClusterRegistryAccess edge",
            "registryinfra:kubernetes:PullSecret edge-pull-secret",
            "kubernetes:core/v1:Secret edge-pull-secret-apps-edge-f2b189",
            "kubernetes:core/v1:Secret edge-pull-secret-jobs-edge-f2b189",
            "registryinfra:kubernetes:PullSecretAttachment edge-apps-attachment",
            "registryinfra:kubernetes:PullSecretAttachment edge-jobs-attachment",
        ], _monitor.Registrations.Select(r => $"{r.Type} {r.Name}"), new OrderInsensitive());
        Assert.Equal("""{"namespace":"apps","secretNames":["edge-f2b189"],"serviceAccounts":["default","builder"]}""",
            Plain(Registered("registryinfra:kubernetes:PullSecretAttachment", "edge-apps-attachment").Inputs));
        Assert.False(result.State.ContainsKey("refresherNamespace") && !result.State["refresherNamespace"].IsNull);
        Assert.Equal(["edge-f2b189"], result.State["imagePullSecrets"].ArrayValue.Select(r => r.ObjectValue["name"].StringValue));
    }

    [Fact]
    public async Task Static_only_access_attaches_the_default_service_account_unless_told_otherwise()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "edge", StaticOnlyInputs(), dryRun: false);

        Assert.Equal(["default"], Registered("registryinfra:kubernetes:PullSecretAttachment", "edge-jobs-attachment").Inputs["serviceAccounts"].ArrayValue.Select(a => a.StringValue));
    }

    [Theory]
    [InlineData(""", "attachServiceAccounts": false""")]
    [InlineData(""", "serviceAccounts": []""")]
    public async Task Static_only_access_without_attachment_has_no_attachment(string extra)
    {
        var result = await Construct("registryinfra:index:ClusterRegistryAccess", "edge", StaticOnlyInputs(extra), dryRun: false);

        Assert.Equal(
        [
            "registryinfra:index:ClusterRegistryAccess edge",
            "registryinfra:kubernetes:PullSecret edge-pull-secret",
            "kubernetes:core/v1:Secret edge-pull-secret-apps-edge-f2b189",
            "kubernetes:core/v1:Secret edge-pull-secret-jobs-edge-f2b189",
        ], _monitor.Registrations.Select(r => $"{r.Type} {r.Name}"), new OrderInsensitive());
        Assert.False(result.State.ContainsKey("refresherNamespace") && !result.State["refresherNamespace"].IsNull);
        Assert.Equal(["edge-f2b189"], result.State["imagePullSecrets"].ArrayValue.Select(r => r.ObjectValue["name"].StringValue));
    }

    [Fact]
    public async Task Opting_out_leaves_the_token_secret_unattached_too()
    {
        var json = ClusterInputs(KnownAuthEntry).Replace("\"serviceAccounts\": [\"default\"],", "\"attachServiceAccounts\": false,", StringComparison.Ordinal);

        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", json, dryRun: false);

        Assert.Equal("""[{"secretName":"prod-eu-dcd591-tokens","namespaces":["apps","jobs"],"owner":"prod-eu-dcd591-tokens"}]""", Configuration("prod-eu")["targets"]!.ToJsonString());
        Assert.DoesNotContain(_monitor.Registrations, r => r.Type == "registryinfra:kubernetes:PullSecretAttachment");
    }

    [Fact]
    public async Task Service_accounts_with_the_opt_out_are_refused_naming_the_field()
    {
        var e = await Assert.ThrowsAsync<ComponentInputException>(() => Construct("registryinfra:index:ClusterRegistryAccess", "edge",
            StaticOnlyInputs(""", "serviceAccounts": ["default"], "attachServiceAccounts": false"""), dryRun: false));

        Assert.Equal("serviceAccounts", e.Field);
        Assert.Contains("attachServiceAccounts", e.Message, StringComparison.Ordinal);
        Assert.Empty(_monitor.Registrations);
    }

    [Fact]
    public async Task The_kubeconfig_reaches_every_attachment_as_a_secret()
    {
        const string kubeconfig = "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: kube-token-never-in-plain}}]";
        var inputs = Inputs(StaticOnlyInputs()).SetItem("kubeconfig", PropertyValue.CreateSecret(PropertyValue.Create(kubeconfig))).Add("kubeContext", PropertyValue.Create("prod"));

        await Construct("registryinfra:index:ClusterRegistryAccess", "edge", inputs, dryRun: false, []);

        foreach (var ns in new[] { "apps", "jobs" })
        {
            var attachment = Registered("registryinfra:kubernetes:PullSecretAttachment", $"edge-{ns}-attachment");
            Assert.True(attachment.Inputs["kubeconfig"].IsSecret);
            Assert.Equal(kubeconfig, attachment.Inputs["kubeconfig"].SecretValue.StringValue);
            Assert.Equal("prod", attachment.Inputs["kubeContext"].StringValue);
        }
        Assert.DoesNotContain(_monitor.Registrations, r => r.Type.StartsWith("kubernetes:", StringComparison.Ordinal)
            && r.Request.Object.ToString().Contains("kube-token-never-in-plain", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_an_explicit_kubernetes_provider_the_attachments_need_its_kubeconfig()
    {
        var json = StaticOnlyInputs().Replace($"\"kubeconfig\": \"{KubeconfigText}\"", "\"kubeconfig\": \"\"", StringComparison.Ordinal);

        var e = await Assert.ThrowsAsync<ComponentInputException>(() => Construct("registryinfra:index:ClusterRegistryAccess", "edge", json, dryRun: false));

        Assert.Equal("kubeconfig", e.Field);
        Assert.Contains("attachServiceAccounts", e.Message, StringComparison.Ordinal);
        Assert.Empty(_monitor.Registrations);
    }

    [Fact]
    public async Task Two_components_forcing_one_secret_name_in_one_cluster_are_refused_naming_the_other()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "team-a", StaticOnlyInputs(""", "secretName": "shared-pull" """), dryRun: false);

        var e = await Assert.ThrowsAsync<ComponentInputException>(() => Construct("registryinfra:index:ClusterRegistryAccess", "team-b",
            StaticOnlyInputs(""", "secretName": "shared-pull" """), dryRun: false));

        Assert.Equal("secretName", e.Field);
        Assert.Contains("Secret apps/shared-pull is also created by urn:pulumi:test::fleet::registryinfra:index:ClusterRegistryAccess$registryinfra:kubernetes:PullSecret::team-a-pull-secret", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_monitor.Registrations, r => r.Name.StartsWith("team-b", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_components_with_default_names_in_one_cluster_share_no_object()
    {
        var json = ClusterInputs(KnownAuthEntry);
        await Construct("registryinfra:index:ClusterRegistryAccess", "team-a", json, dryRun: false);
        await Construct("registryinfra:index:ClusterRegistryAccess", "team-b", json, dryRun: false);

        var objects = _monitor.Registrations.Where(r => r.Type.StartsWith("kubernetes:", StringComparison.Ordinal))
            .Select(r => (r.Type, Metadata: r.Inputs["metadata"].ObjectValue))
            .Select(x => $"{x.Type} {(x.Metadata.TryGetValue("namespace", out var n) && n.Kind == PropertyValueKind.String ? n.StringValue : "")}/{x.Metadata["name"].StringValue}")
            .ToList();
        Assert.Equal(objects.Count, objects.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(2, _monitor.Registrations.Count(r => r.Type == "kubernetes:core/v1:Namespace"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Component_aliases_reach_the_engine_as_specs_or_as_urns_for_an_older_engine(bool aliasSpecs)
    {
        _monitor.AliasSpecs = aliasSpecs;
        const string OldUrn = "urn:pulumi:test::fleet::registryinfra:index:ClusterRegistryAccess::old-name";
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", Inputs(ClusterInputs(KnownAuthEntry)), dryRun: false,
            [new ResourceAlias(OldUrn, null, null, null, null, null, false), new ResourceAlias(null, "eu-access", null, null, null, null, true)]);

        var component = _monitor.Registrations[0].Request;
        if (aliasSpecs)
        {
            Assert.True(component.AliasSpecs);
            Assert.Empty(component.AliasURNs);
            Assert.Equal(OldUrn, component.Aliases[0].Urn);
            Assert.Equal(("eu-access", true), (component.Aliases[1].Spec.Name, component.Aliases[1].Spec.NoParent));
        }
        else
        {
            Assert.Equal([OldUrn], component.AliasURNs);
            Assert.Empty(component.Aliases);
        }
        // Children carry none of their own: with alias specs the engine derives theirs from the parent's.
        Assert.All(_monitor.Registrations.Skip(1), r => Assert.True(r.Request.Aliases.Count == 0 && r.Request.AliasURNs.Count == 0));
    }

    [Fact]
    public async Task Outputs_are_registered_and_returned_with_dependencies()
    {
        var result = await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);

        Assert.Equal(result.State, _monitor.ComponentOutputs[result.Urn]);
        Assert.Equal("arn:aws:iam::123456789012:role/prod-eu-ecr-ecr-pull", result.State["roleArn"].StringValue);
        Assert.Equal("registry-puller@acme-prod.iam.gserviceaccount.com", result.State["gcpServiceAccountEmail"].StringValue);
        Assert.Equal(2, result.State["imagePullSecrets"].ArrayValue.Length);
        Assert.Contains(Registered("aws:iam/role:Role", "prod-eu-ecr-role").Urn, result.StateDependencies["roleArn"]);
        var serviceAccount = Registered("kubernetes:core/v1:ServiceAccount", "prod-eu-refresher-service-account");
        var annotations = serviceAccount.Inputs["metadata"].ObjectValue["annotations"].ObjectValue;
        Assert.Equal("arn:aws:iam::123456789012:role/prod-eu-ecr-ecr-pull", annotations["eks.amazonaws.com/role-arn"].StringValue);
        Assert.Equal("registry-puller@acme-prod.iam.gserviceaccount.com", annotations["iam.gke.io/gcp-service-account"].StringValue);
        // Every nested component got its outputs registered, so the engine sees it complete.
        Assert.Equal(5, _monitor.ComponentOutputs.Count);
    }

    [Fact]
    public async Task Outputs_and_child_inputs_are_secret_exactly_where_a_secret_input_flows()
    {
        const string json = """
        { "serviceAccountNamespace": "ns", "serviceAccountName": "sa", "oidcProviderArn": "SECRET-ARN", "region": "eu-west-1", "repositories": ["app"] }
        """;
        var inputs = Inputs(json).SetItem("oidcProviderArn", PropertyValue.CreateSecret(PropertyValue.Create("arn:aws:iam::123456789012:oidc-provider/oidc.example.com/id/X")));
        var result = await Construct("registryinfra:aws:EcrPullAccess", "ecr", inputs, dryRun: false, []);

        // The role ARN carries the account taken from the secret ARN; the role name and annotations built from it too.
        Assert.True(result.State["roleArn"].IsSecret);
        Assert.False(result.State["roleName"].IsSecret);
        var role = _monitor.Registrations.Single(r => r.Type == "aws:iam/role:Role");
        Assert.True(role.Inputs["assumeRolePolicy"].IsSecret);
        Assert.False(role.Inputs["name"].IsSecret);
        Assert.Equal(AwsProvider, role.Request.Provider);
    }

    [Fact]
    public async Task Credentials_make_only_secret_data_secret_and_a_plain_program_has_plain_outputs()
    {
        var result = await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);

        Assert.All(result.State.Values, v => Assert.False(v.ContainsSecrets()));
        var secret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-prod-eu-dcd591");
        Assert.True(secret.Inputs["stringData"].IsSecret);
        Assert.False(secret.Inputs["metadata"].IsSecret);
    }

    [Fact]
    public async Task Preview_with_an_unknown_namespace_leaves_out_only_the_secrets_it_names()
    {
        const string json = """{ "registries": [{ "server": "r.example.com", "username": "u", "password": "p" }], "namespaces": ["UNKNOWN"] }""";

        var result = await Construct("registryinfra:kubernetes:PullSecret", "ps", json, dryRun: true);

        // The Secrets are named after the namespaces, so they wait for the update; the outputs are unknown, not absent.
        Assert.Single(_monitor.Registrations);
        Assert.All(result.State.Values, v => Assert.True(v.IsComputed));
        Assert.Equal(["anonymousRegistries", "imagePullSecrets", "secretNames", "sourceSecretName", "sourceSecretVersion", "staticSecretName", "tokenSecretName"], result.State.Keys);
    }

    [Fact]
    public async Task Bad_input_fails_naming_the_field_and_registers_nothing()
    {
        const string json = $$"""{ "registries": [{ "server": "r.example.com", "password": "{{Password}}" }], "namespaces": ["apps"] }""";

        var error = await Assert.ThrowsAsync<RegistryInfra.Provider.Components.ComponentInputException>(() => Construct("registryinfra:kubernetes:PullSecret", "ps", json, dryRun: false));

        Assert.Equal("registries[0]", error.Field);
        Assert.DoesNotContain(Password, error.Message, StringComparison.Ordinal);
        Assert.Empty(_monitor.Registrations);
    }

    [Fact]
    public async Task Two_components_of_one_type_do_not_collide()
    {
        const string json = """{ "registries": [{ "server": "r.example.com", "username": "u", "password": "p" }], "namespaces": ["apps"] }""";
        await Construct("registryinfra:kubernetes:PullSecret", "cluster-a", json, dryRun: false);
        await Construct("registryinfra:kubernetes:PullSecret", "cluster-b", json, dryRun: false);

        Assert.Equal(4, _monitor.Registrations.Select(r => r.Urn).Distinct().Count());
    }

    /// <summary>The same names, in any order: children are registered concurrently, as the SDKs register them.</summary>
    private sealed class OrderInsensitive : IEqualityComparer<IEnumerable<string>>
    {
        public bool Equals(IEnumerable<string>? x, IEnumerable<string>? y) =>
            x is not null && y is not null && x.Order(StringComparer.Ordinal).SequenceEqual(y.Order(StringComparer.Ordinal), StringComparer.Ordinal);

        public int GetHashCode(IEnumerable<string> obj) => obj.Count();
    }
}
