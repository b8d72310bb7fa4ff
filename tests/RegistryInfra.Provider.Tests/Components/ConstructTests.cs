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
    private static readonly string[] Credentials = [Password, AuthB64];

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
        return key is "password" or "authEntry" && !value.IsComputed ? PropertyValue.CreateSecret(value) : value;
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
            "kubernetes:core/v1:Secret prod-eu-pull-secret-apps-registryinfra-pull",
            "kubernetes:core/v1:ConfigMap prod-eu-pull-secret-apps-registryinfra-pull-tokens-owner",
            "kubernetes:core/v1:Secret prod-eu-pull-secret-jobs-registryinfra-pull",
            "kubernetes:core/v1:ConfigMap prod-eu-pull-secret-jobs-registryinfra-pull-tokens-owner",
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
        Assert.Equal(25, regs.Count);
        // Children are registered concurrently, each after its parent.
        var order = regs.Select((r, i) => (r.Urn, i)).ToDictionary(x => x.Urn, x => x.i, StringComparer.Ordinal);
        Assert.All(regs.Skip(1), r => Assert.True(order[r.Request.Parent] < order[r.Urn], $"{r.Name} was registered before its parent"));

        // URNs nest the types of the parents, as the engine makes them.
        var secret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-registryinfra-pull");
        Assert.Equal("urn:pulumi:test::fleet::registryinfra:index:ClusterRegistryAccess$registryinfra:kubernetes:PullSecret$kubernetes:core/v1:Secret::prod-eu-pull-secret-apps-registryinfra-pull", secret.Urn);
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

        var staticSecret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-registryinfra-pull");
        Assert.True(staticSecret.Inputs["stringData"].IsSecret);
        Assert.Empty(staticSecret.Request.IgnoreChanges);
        Assert.Equal(["data", "stringData"], staticSecret.Request.AdditionalSecretOutputs);
        // No token passes through Pulumi: the token Secret is not a Pulumi resource; its owner ConfigMap carries no data.
        Assert.DoesNotContain(_monitor.Registrations, r => r.Type == "kubernetes:core/v1:Secret" && r.Name.EndsWith("-tokens", StringComparison.Ordinal));
        var owner = Registered("kubernetes:core/v1:ConfigMap", "prod-eu-pull-secret-apps-registryinfra-pull-tokens-owner");
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
        Assert.False(Registered("kubernetes:core/v1:ConfigMap", "prod-eu-pull-secret-apps-registryinfra-pull-tokens-owner").Inputs.ContainsKey("data"));
        var staticSecret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-registryinfra-pull");
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
        Assert.Contains(Registered("kubernetes:core/v1:ConfigMap", "prod-eu-pull-secret-jobs-registryinfra-pull-tokens-owner").Urn, refresher.Request.Dependencies);
        Assert.Contains(Registered("aws:iam/rolePolicy:RolePolicy", "prod-eu-ecr-ecr-pull").Urn, refresher.Request.Dependencies);
        var job = _monitor.Registrations.Single(r => r.Type == "kubernetes:batch/v1:Job");
        Assert.Contains(Registered("kubernetes:core/v1:ConfigMap", "prod-eu-refresher-config").Urn, job.Request.Dependencies);
    }

    [Fact]
    public async Task Service_accounts_are_attached_by_the_refresher_and_never_patched_by_pulumi()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);

        // The only ServiceAccount Pulumi writes is the refresher's own; imagePullSecrets is atomic, so a patch would own the list.
        Assert.Equal(["prod-eu-refresher-service-account"], _monitor.Registrations.Where(r => r.Type.Contains("ServiceAccount", StringComparison.Ordinal)).Select(r => r.Name));
        // Both secrets are attached: the token secret by the target that renews it, the static one by an attach-only target.
        Assert.Equal(
            """[{"secretName":"registryinfra-pull-tokens","namespaces":["apps","jobs"],"serviceAccounts":["default"],"owner":"registryinfra-pull-tokens"},{"secretName":"registryinfra-pull","namespaces":["apps","jobs"],"serviceAccounts":["default"],"attachOnly":true}]""",
            Configuration("prod-eu")["targets"]!.ToJsonString());
        Assert.Equal(
            """[{"apiGroups":[""],"resourceNames":["registryinfra-pull-tokens"],"resources":["secrets"],"verbs":["get","update","patch","delete"]},{"apiGroups":[""],"resources":["secrets"],"verbs":["create"]},{"apiGroups":[""],"resourceNames":["registryinfra-pull-tokens"],"resources":["configmaps"],"verbs":["get"]},{"apiGroups":[""],"resourceNames":["registryinfra-pull"],"resources":["secrets"],"verbs":["get"]},{"apiGroups":["","events.k8s.io"],"resources":["events"],"verbs":["create","patch"]},{"apiGroups":[""],"resourceNames":["default"],"resources":["serviceaccounts"],"verbs":["get","patch"]}]""",
            Rules("kubernetes:rbac.authorization.k8s.io/v1:Role", "prod-eu-refresher-role-apps"));
    }

    private const string StaticPassword = "ghp_Zq8static-never-in-plain";

    private static string StaticOnlyInputs(string extra = "") => $$"""
    {
      "profiles": [
        { "server": "ghcr.io", "username": "octo", "password": "{{StaticPassword}}" },
        { "server": "registry.example.com", "kind": "generic", "authEntry": "{\"auth\":\"{{AuthB64}}\"}" }
      ],
      "namespaces": ["apps", "jobs"],
      "refresher": { "image": "{{Image}}" }{{extra}}
    }
    """;

    private JsonNode Configuration(string name) =>
        JsonNode.Parse(Registered("kubernetes:core/v1:ConfigMap", $"{name}-refresher-config").Inputs["data"].ObjectValue["refresher.yaml"].StringValue)!;

    private string Rules(string type, string name) =>
        JsonNode.Parse(JsonFormatter.Default.Format(Registered(type, name).Request.Object))!["rules"]!.ToJsonString();

    [Fact]
    public async Task Static_only_access_deploys_an_attach_only_refresher_for_the_listed_service_accounts()
    {
        var result = await Construct("registryinfra:index:ClusterRegistryAccess", "edge", StaticOnlyInputs(""", "serviceAccounts": ["default", "builder"]"""), dryRun: false);

        Assert.Equal(
        [
            "registryinfra:index:ClusterRegistryAccess edge",
            "registryinfra:kubernetes:PullSecret edge-pull-secret",
            "kubernetes:core/v1:Secret edge-pull-secret-apps-registryinfra-pull",
            "kubernetes:core/v1:Secret edge-pull-secret-jobs-registryinfra-pull",
            "registryinfra:kubernetes:TokenRefresher edge-refresher",
            "kubernetes:core/v1:Namespace edge-refresher-namespace",
            "kubernetes:core/v1:ServiceAccount edge-refresher-service-account",
            "kubernetes:rbac.authorization.k8s.io/v1:Role edge-refresher-role-apps",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding edge-refresher-role-binding-apps",
            "kubernetes:rbac.authorization.k8s.io/v1:Role edge-refresher-role-jobs",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding edge-refresher-role-binding-jobs",
            "kubernetes:rbac.authorization.k8s.io/v1:Role edge-refresher-ledger-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding edge-refresher-ledger-role-binding",
            "kubernetes:core/v1:ConfigMap edge-refresher-config",
            "kubernetes:batch/v1:CronJob edge-refresher-cron-job",
            "kubernetes:batch/v1:Job edge-refresher-run-on-deploy",
        ], _monitor.Registrations.Select(r => $"{r.Type} {r.Name}"), new OrderInsensitive());

        // Least privilege: see the static secret by name, patch the listed accounts, record Events; no secret write, no namespace list.
        foreach (var ns in new[] { "apps", "jobs" })
        {
            Assert.Equal(
                """[{"apiGroups":[""],"resourceNames":["registryinfra-pull"],"resources":["secrets"],"verbs":["get"]},{"apiGroups":["","events.k8s.io"],"resources":["events"],"verbs":["create","patch"]},{"apiGroups":[""],"resourceNames":["builder","default"],"resources":["serviceaccounts"],"verbs":["get","patch"]}]""",
                Rules("kubernetes:rbac.authorization.k8s.io/v1:Role", $"edge-refresher-role-{ns}"));
        }
        Assert.Equal(
            """{"targets":[{"secretName":"registryinfra-pull","namespaces":["apps","jobs"],"serviceAccounts":["default","builder"],"attachOnly":true}],"ledger":{"namespace":"registryinfra-system","name":"registryinfra-refresher-attachments","owner":"registryinfra-refresher-config"}}""",
            Configuration("edge").ToJsonString());
        // No cloud identity: the service account carries no annotation.
        var metadata = Registered("kubernetes:core/v1:ServiceAccount", "edge-refresher-service-account").Inputs["metadata"].ObjectValue;
        Assert.True(!metadata.TryGetValue("annotations", out var annotations) || annotations.ObjectValue.IsEmpty);
        Assert.DoesNotContain(_monitor.Registrations, r => r.Type.StartsWith("aws:", StringComparison.Ordinal) || r.Type.StartsWith("gcp:", StringComparison.Ordinal) || r.Type.Contains("ClusterRole", StringComparison.Ordinal));
        Assert.Equal(("registryinfra-system", "registryinfra-refresher"), (result.State["refresherNamespace"].StringValue, result.State["refresherServiceAccount"].StringValue));
        Assert.Equal(["registryinfra-pull"], result.State["imagePullSecrets"].ArrayValue.Select(r => r.ObjectValue["name"].StringValue));
    }

    [Fact]
    public async Task Static_only_access_attaches_the_default_service_account_unless_told_otherwise()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "edge", StaticOnlyInputs(), dryRun: false);

        Assert.Equal(["default"], Configuration("edge")["targets"]![0]!["serviceAccounts"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Theory]
    [InlineData(""", "attachServiceAccounts": false""")]
    [InlineData(""", "serviceAccounts": []""")]
    public async Task Static_only_access_without_attachment_has_no_refresher(string extra)
    {
        var result = await Construct("registryinfra:index:ClusterRegistryAccess", "edge", StaticOnlyInputs(extra), dryRun: false);

        Assert.Equal(
        [
            "registryinfra:index:ClusterRegistryAccess edge",
            "registryinfra:kubernetes:PullSecret edge-pull-secret",
            "kubernetes:core/v1:Secret edge-pull-secret-apps-registryinfra-pull",
            "kubernetes:core/v1:Secret edge-pull-secret-jobs-registryinfra-pull",
        ], _monitor.Registrations.Select(r => $"{r.Type} {r.Name}"), new OrderInsensitive());
        Assert.False(result.State.ContainsKey("refresherNamespace") && !result.State["refresherNamespace"].IsNull);
        Assert.Equal(["registryinfra-pull"], result.State["imagePullSecrets"].ArrayValue.Select(r => r.ObjectValue["name"].StringValue));
    }

    [Fact]
    public async Task Opting_out_leaves_the_token_secret_unattached_too()
    {
        var json = ClusterInputs(KnownAuthEntry).Replace("\"serviceAccounts\": [\"default\"],", "\"attachServiceAccounts\": false,", StringComparison.Ordinal);

        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", json, dryRun: false);

        Assert.Equal("""[{"secretName":"registryinfra-pull-tokens","namespaces":["apps","jobs"],"owner":"registryinfra-pull-tokens"}]""", Configuration("prod-eu")["targets"]!.ToJsonString());
        Assert.DoesNotContain("serviceaccounts", Rules("kubernetes:rbac.authorization.k8s.io/v1:Role", "prod-eu-refresher-role-apps"), StringComparison.Ordinal);
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
    public async Task Static_only_attachment_without_a_refresher_image_names_the_field_and_the_opt_out()
    {
        var json = StaticOnlyInputs().Replace($$"""
            "refresher": { "image": "{{Image}}" }
            """.Trim(), "\"secretName\": \"creds\"", StringComparison.Ordinal);

        var e = await Assert.ThrowsAsync<ComponentInputException>(() => Construct("registryinfra:index:ClusterRegistryAccess", "edge", json, dryRun: false));

        Assert.Equal("refresher.image", e.Field);
        Assert.Contains("attachServiceAccounts", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(StaticPassword, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Static_only_attachment_puts_no_credential_in_any_non_secret_input_or_output()
    {
        var result = await Construct("registryinfra:index:ClusterRegistryAccess", "edge", StaticOnlyInputs(), dryRun: false);

        string[] credentials = [StaticPassword, AuthB64];
        foreach (var reg in _monitor.Registrations)
        {
            foreach (var (key, value) in reg.Inputs)
            {
                AssertNoCredential(value, $"{reg.Type} {reg.Name} .{key}", credentials);
            }
        }
        foreach (var (urn, outputs) in _monitor.ComponentOutputs)
        {
            foreach (var (key, value) in outputs)
            {
                AssertNoCredential(value, $"{urn} output {key}", credentials);
            }
        }
        foreach (var (key, value) in result.State)
        {
            AssertNoCredential(value, $"state {key}", credentials);
        }
        // The scan can fail: both credentials are on the wire, inside the static secret's secret data.
        var wire = string.Concat(_monitor.Registrations.Select(r => r.Request.Object.ToString()));
        Assert.Contains(StaticPassword, wire, StringComparison.Ordinal);
        Assert.Contains(AuthB64, wire, StringComparison.Ordinal);
        Assert.DoesNotContain(StaticPassword, Configuration("edge").ToJsonString(), StringComparison.Ordinal);
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
        var secret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-registryinfra-pull");
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
        Assert.Equal(["anonymousRegistries", "imagePullSecrets", "secretNames", "staticSecretName", "tokenSecretName"], result.State.Keys);
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
