using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Google.Protobuf;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Components;
using RegistryInfra.Provider.Engine;
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
        { "server": "europe-docker.pkg.dev", "authEntry": "{{authEntry}}" }
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

    private Task<ComponentConstructResult> Construct(string type, string name, string json, bool dryRun)
    {
        _monitor.DryRun = dryRun;
        var request = new ComponentConstructRequest(type, name, StackUrn, Inputs(json), dryRun)
        {
            Providers = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                ["kubernetes"] = KubernetesProvider,
                ["aws"] = AwsProvider,
                ["gcp"] = GcpProvider,
            }),
        };
        return ComponentConstruct.Default.ConstructAsync(request, _client, TestContext.Current.CancellationToken);
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
            "kubernetes:core/v1:Secret prod-eu-pull-secret-apps-registryinfra-pull-tokens",
            "kubernetes:core/v1:Secret prod-eu-pull-secret-jobs-registryinfra-pull",
            "kubernetes:core/v1:Secret prod-eu-pull-secret-jobs-registryinfra-pull-tokens",
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
            "kubernetes:core/v1:ConfigMap prod-eu-refresher-config",
            "kubernetes:batch/v1:CronJob prod-eu-refresher-cron-job",
        ], regs.Take(22).Select(r => $"{r.Type} {r.Name}"));
        Assert.Equal("kubernetes:batch/v1:Job", regs[22].Type);
        Assert.Equal(23, regs.Count);

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
        var tokenSecret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-registryinfra-pull-tokens");
        Assert.True(tokenSecret.Inputs["stringData"].IsSecret);
        Assert.Equal(["data", "stringData"], tokenSecret.Request.IgnoreChanges);
        var document = tokenSecret.Inputs["stringData"].SecretValue.ObjectValue[".dockerconfigjson"].StringValue;
        Assert.Contains(AuthB64, document, StringComparison.Ordinal);
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

    private static void AssertNoCredential(PropertyValue value, string where)
    {
        switch (value.Kind)
        {
            case PropertyValueKind.Secret:
                return;
            case PropertyValueKind.String:
                foreach (var credential in Credentials)
                {
                    Assert.False(value.StringValue.Contains(credential, StringComparison.Ordinal), $"credential in plain text at {where}");
                }
                return;
            case PropertyValueKind.Array:
                foreach (var item in value.ArrayValue)
                {
                    AssertNoCredential(item, where);
                }
                return;
            case PropertyValueKind.Object:
                foreach (var (key, item) in value.ObjectValue)
                {
                    AssertNoCredential(item, $"{where}.{key}");
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

        var tokenSecret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-registryinfra-pull-tokens");
        Assert.True(tokenSecret.Inputs["stringData"].SecretValue.ObjectValue[".dockerconfigjson"].IsComputed);
        var staticSecret = Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-apps-registryinfra-pull");
        Assert.False(staticSecret.Inputs["stringData"].SecretValue.ObjectValue[".dockerconfigjson"].IsComputed);

        _monitor.Clear();
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: false);
        Assert.Equal(preview, _monitor.Registrations.Select(r => $"{r.Type} {r.Name}"));
    }

    [Fact]
    public async Task Preview_of_an_unchanged_program_registers_identical_children()
    {
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: true);
        var first = _monitor.Registrations.Select(r => r.Request.ToByteArray()).ToList();
        _monitor.Clear();
        await Construct("registryinfra:index:ClusterRegistryAccess", "prod-eu", ClusterInputs(KnownAuthEntry), dryRun: true);
        var second = _monitor.Registrations.Select(r => r.Request.ToByteArray()).ToList();

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
        Assert.Contains(Registered("kubernetes:core/v1:Secret", "prod-eu-pull-secret-jobs-registryinfra-pull-tokens").Urn, refresher.Request.Dependencies);
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
        var configuration = JsonNode.Parse(Registered("kubernetes:core/v1:ConfigMap", "prod-eu-refresher-config").Inputs["data"].ObjectValue["refresher.yaml"].StringValue)!;
        var target = configuration["targets"]!.AsArray().Single()!;
        Assert.Equal("registryinfra-pull-tokens", target["secretName"]!.GetValue<string>());
        Assert.Equal(["default"], target["serviceAccounts"]!.AsArray().Select(a => a!.GetValue<string>()));
        var role = Registered("kubernetes:rbac.authorization.k8s.io/v1:Role", "prod-eu-refresher-role-apps").Inputs["rules"].ArrayValue
            .Single(r => r.ObjectValue["resources"].ArrayValue.Any(v => v.StringValue == "serviceaccounts")).ObjectValue;
        Assert.Equal(["default"], role["resourceNames"].ArrayValue.Select(v => v.StringValue));
        Assert.Equal(["get", "patch"], role["verbs"].ArrayValue.Select(v => v.StringValue));
    }

    [Fact]
    public async Task Static_only_access_rejects_service_accounts_it_could_not_attach()
    {
        var json = """{ "profiles": [{ "server": "registry.example.com", "username": "robot", "password": "pw-123456" }], "namespaces": ["apps"], "serviceAccounts": ["default"] }""";

        var e = await Assert.ThrowsAsync<ComponentInputException>(() => Construct("registryinfra:index:ClusterRegistryAccess", "static", json, dryRun: false));

        Assert.Equal("serviceAccounts", e.Field);
        Assert.DoesNotContain("pw-123456", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Component_aliases_reach_the_engine_as_specs_or_as_urns_for_an_older_engine(bool aliasSpecs)
    {
        _monitor.AliasSpecs = aliasSpecs;
        const string OldUrn = "urn:pulumi:test::fleet::registryinfra:index:ClusterRegistryAccess::old-name";
        var request = new ComponentConstructRequest("registryinfra:index:ClusterRegistryAccess", "prod-eu", StackUrn, Inputs(ClusterInputs(KnownAuthEntry)), DryRun: false)
        {
            Aliases = [new RegistryInfra.Protocol.Hosting.ResourceAlias(OldUrn, null, null, null, null, null, false), new RegistryInfra.Protocol.Hosting.ResourceAlias(null, "eu-access", null, null, null, null, true)],
        };

        await ComponentConstruct.Default.ConstructAsync(request, _client, TestContext.Current.CancellationToken);

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
        var request = new ComponentConstructRequest("registryinfra:aws:EcrPullAccess", "ecr", StackUrn, inputs, DryRun: false);

        var result = await ComponentConstruct.Default.ConstructAsync(request, _client, TestContext.Current.CancellationToken);

        // The role ARN carries the account taken from the secret ARN; the role name and annotations built from it too.
        Assert.True(result.State["roleArn"].IsSecret);
        Assert.False(result.State["roleName"].IsSecret);
        var role = _monitor.Registrations.Single(r => r.Type == "aws:iam/role:Role");
        Assert.True(role.Inputs["assumeRolePolicy"].IsSecret);
        Assert.False(role.Inputs["name"].IsSecret);
        Assert.Equal("", _monitor.Registrations[1].Request.Provider);
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
    public async Task Preview_with_an_unknown_namespace_registers_the_component_alone_without_failing()
    {
        const string json = """{ "registries": [{ "server": "r.example.com", "username": "u", "password": "p" }], "namespaces": ["UNKNOWN"] }""";

        var result = await Construct("registryinfra:kubernetes:PullSecret", "ps", json, dryRun: true);

        Assert.Single(_monitor.Registrations);
        Assert.Empty(result.State);
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
}
