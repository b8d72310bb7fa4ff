using System.Collections.Immutable;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Components.AcrPullAccess;
using RegistryInfra.Provider.Tests.ChildCheck;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>
/// <c>registryinfra:azure:AcrPullAccess</c>, alone and as ClusterRegistryAccess's <c>azure</c>, constructed against a
/// real gRPC ResourceMonitor in preview and in update (the monitor answers a created identity's ids as azure-native does).
/// </summary>
public sealed class AcrPullAccessTests : MonitoredConstructTests
{
    private const string Issuer = "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000001/11111111-2222-3333-4444-555555555555/";
    private const string Subscription = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    private const string Acr = "/subscriptions/" + Subscription + "/resourceGroups/registries/providers/Microsoft.ContainerRegistry/registries/acmeprod";
    private const string AcrPull = "/subscriptions/" + Subscription + "/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private const string AzureProvider = "urn:pulumi:test::fleet::pulumi:providers:azure-native::sub::5c3d-azure";

    private async Task<string> Refused(string type, string json)
    {
        var mode = new ComponentMode("bad", type, "bad", json);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => Construct(mode, preview: false));
        return e.Message;
    }

    private FakeResourceMonitor.Registration Registered(string type, string name) => Monitor.Registrations.Single(r => r.Type == type && r.Name == name);

    private static string Text(PropertyValue value) => value.Unwrap().Value.StringValue;

    [Fact]
    public async Task A_created_identity_trusts_the_service_account_token_and_gets_acr_pull_on_each_registry()
    {
        var result = await Construct(Mode("acrPullAccess/new-identity"), preview: false);

        Assert.Equal(
        [
            "azure-native:authorization:RoleAssignment acr-new-acr-pull-acmeprod",
            "azure-native:authorization:RoleAssignment acr-new-acr-pull-acmeshared",
            "azure-native:managedidentity:FederatedIdentityCredential acr-new-federated-credential",
            "azure-native:managedidentity:UserAssignedIdentity acr-new-identity",
            "registryinfra:azure:AcrPullAccess acr-new",
        ], Monitor.Registrations.Select(r => $"{r.Type} {r.Name}").Order(StringComparer.Ordinal));
        var identity = Registered(AcrPullAccessComponent.IdentityType, "acr-new-identity");
        Assert.Equal(AzureProvider, identity.Request.Provider);
        Assert.Equal(("aks-prod", "registry-puller", "westeurope"), (Text(identity.Inputs["resourceGroupName"]), Text(identity.Inputs["resourceName"]), Text(identity.Inputs["location"])));

        var credential = Registered(AcrPullAccessComponent.FederatedCredentialType, "acr-new-federated-credential");
        Assert.Equal(Issuer, Text(credential.Inputs["issuer"]));
        Assert.Equal("system:serviceaccount:registryinfra-system:registryinfra-refresher", Text(credential.Inputs["subject"]));
        Assert.Equal(["api://AzureADTokenExchange"], credential.Inputs["audiences"].ArrayValue.Select(Text));
        Assert.Equal(("aks-prod", "registry-puller", "refresher"),
            (Text(credential.Inputs["resourceGroupName"]), Text(credential.Inputs["resourceName"]), Text(credential.Inputs["federatedIdentityCredentialResourceName"])));
        Assert.Contains(identity.Urn, credential.Request.Dependencies);

        var principal = ProviderAnswers.GuidOf("principal", "acr-new-identity");
        var assignment = Registered(AcrPullAccessComponent.RoleAssignmentType, "acr-new-acr-pull-acmeprod");
        Assert.Equal(Acr, Text(assignment.Inputs["scope"]));
        Assert.Equal(AcrPull, Text(assignment.Inputs["roleDefinitionId"]));
        Assert.Equal(principal, Text(assignment.Inputs["principalId"]));
        Assert.Equal("ServicePrincipal", Text(assignment.Inputs["principalType"]));
        Assert.Equal(AcrPullAccessComponent.AssignmentName(Acr, AcrPull, principal), Text(assignment.Inputs["roleAssignmentName"]));
        Assert.Contains(identity.Urn, assignment.Request.Dependencies);
        var shared = Registered(AcrPullAccessComponent.RoleAssignmentType, "acr-new-acr-pull-acmeshared");
        Assert.NotEqual(Text(assignment.Inputs["roleAssignmentName"]), Text(shared.Inputs["roleAssignmentName"]));

        Assert.Equal(ProviderAnswers.GuidOf("client", "acr-new-identity"), Text(result.State["clientId"]));
        Assert.Equal(principal, Text(result.State["principalId"]));
        Assert.Equal("72f988bf-86f1-41af-91ab-2d7cd011db47", Text(result.State["tenantId"]));
        Assert.Equal(ProviderAnswers.GuidOf("client", "acr-new-identity"), Text(result.State["serviceAccountAnnotations"].Unwrap().Value.ObjectValue["azure.workload.identity/client-id"]));
        Assert.Equal("true", Text(result.State["podLabels"].Unwrap().Value.ObjectValue["azure.workload.identity/use"]));
        Assert.Contains(identity.Urn, result.StateDependencies["clientId"]);
    }

    [Fact]
    public async Task Preview_of_a_created_identity_registers_every_child_with_the_identitys_ids_unknown()
    {
        var result = await Construct(Mode("acrPullAccess/new-identity"), preview: true);

        Assert.Equal(5, Monitor.Registrations.Count);
        var assignment = Registered(AcrPullAccessComponent.RoleAssignmentType, "acr-new-acr-pull-acmeprod");
        Assert.True(assignment.Inputs["principalId"].IsComputed);
        Assert.True(assignment.Inputs["roleAssignmentName"].IsComputed);
        Assert.Equal(AcrPull, Text(assignment.Inputs["roleDefinitionId"]));
        Assert.True(result.State["clientId"].IsComputed);
    }

    [Fact]
    public async Task An_existing_identity_gets_a_credential_and_grants_and_is_not_created()
    {
        var result = await Construct(Mode("acrPullAccess/existing-identity"), preview: true);

        Assert.DoesNotContain(Monitor.Registrations, r => r.Type == AcrPullAccessComponent.IdentityType);
        var credential = Registered(AcrPullAccessComponent.FederatedCredentialType, "acr-existing-federated-credential");
        Assert.Equal(("identities", "puller"), (Text(credential.Inputs["resourceGroupName"]), Text(credential.Inputs["resourceName"])));
        Assert.Equal("system:serviceaccount:ops:puller", Text(credential.Inputs["subject"]));
        var assignment = Registered(AcrPullAccessComponent.RoleAssignmentType, "acr-existing-acr-pull-acmeprod");
        Assert.Equal("a3e1c7d2-58b4-4e0f-b6a9-1f2d3c4b5a69", Text(assignment.Inputs["principalId"]));
        Assert.Equal(("6c2d8f0e-4b1a-4f7e-9a53-2e8b7c1d0f94", "00000000-0000-0000-0000-000000000001"), (Text(result.State["clientId"]), Text(result.State["tenantId"])));
    }

    [Fact]
    public void Role_assignment_names_are_rfc_4122_version_5_guids()
    {
        // RFC 4122 appendix C's DNS namespace and the test vector Python's uuid.uuid5(NAMESPACE_DNS, "python.org") gives.
        Assert.Equal(new Guid("886313e1-3b8a-5372-9b90-0c9aee199e5d"), AcrPullAccessComponent.NameBasedGuid(new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "python.org"));
        var name = AcrPullAccessComponent.AssignmentName(Acr, AcrPull, "a3e1c7d2-58b4-4e0f-b6a9-1f2d3c4b5a69");
        Assert.Equal('5', name[14]);
        Assert.Equal(name, AcrPullAccessComponent.AssignmentName(Acr.ToUpperInvariant(), AcrPull, "A3E1C7D2-58B4-4E0F-B6A9-1F2D3C4B5A69"));
        Assert.NotEqual(name, AcrPullAccessComponent.AssignmentName(Acr, AcrPull, "b3e1c7d2-58b4-4e0f-b6a9-1f2d3c4b5a69"));
    }

    [Fact]
    public async Task Cluster_access_runs_the_refresher_as_the_created_identity()
    {
        var result = await Construct(Mode("clusterRegistryAccess/acr-workload-identity"), preview: false);

        var clientId = ProviderAnswers.GuidOf("client", "aks-wi-acr-identity");
        var credential = Registered(AcrPullAccessComponent.FederatedCredentialType, "aks-wi-acr-federated-credential");
        var account = Registered("kubernetes:core/v1:ServiceAccount", "aks-wi-refresher-service-account");
        // The identity trusts exactly the refresher's account, in the refresher's own namespace (a default that differs per component).
        var refresherNamespace = Text(account.Inputs["metadata"].ObjectValue["namespace"]);
        Assert.StartsWith("aks-wi-refresher-", refresherNamespace, StringComparison.Ordinal);
        Assert.Equal($"system:serviceaccount:{refresherNamespace}:registryinfra-refresher", Text(credential.Inputs["subject"]));
        Assert.Equal(clientId, Text(account.Inputs["metadata"].ObjectValue["annotations"].ObjectValue["azure.workload.identity/client-id"]));
        foreach (var (type, name) in new[] { ("kubernetes:batch/v1:CronJob", "aks-wi-refresher-cron-job"), ("kubernetes:batch/v1:Job", "aks-wi-refresher-run-on-deploy") })
        {
            var spec = Registered(type, name).Inputs["spec"].ObjectValue;
            var template = type.EndsWith("CronJob", StringComparison.Ordinal) ? spec["jobTemplate"].ObjectValue["spec"].ObjectValue["template"] : spec["template"];
            Assert.Equal("true", Text(template.ObjectValue["metadata"].ObjectValue["labels"].ObjectValue["azure.workload.identity/use"]));
        }
        var configuration = JsonNode.Parse(Text(Registered("kubernetes:core/v1:ConfigMap", "aks-wi-refresher-config").Inputs["data"].ObjectValue["refresher.yaml"]))!;
        var registry = configuration["registries"]!.AsArray().Single()!;
        Assert.Equal(("acme.azurecr.io", "acr", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            (registry["server"]!.GetValue<string>(), registry["source"]!["type"]!.GetValue<string>(), registry["source"]!["tenantId"]!.GetValue<string>()));
        Assert.Equal(clientId, Text(result.State["azureClientId"]));
        // The refresher waits for the identity (its credential and grants) before its first run.
        var refresher = Registered("registryinfra:kubernetes:TokenRefresher", "aks-wi-refresher");
        Assert.Contains(Registered(AcrPullAccessComponent.RoleAssignmentType, "aks-wi-acr-acr-pull-acmeprod").Urn, refresher.Request.Dependencies);
    }

    [Fact]
    public async Task Cluster_access_previews_the_refresher_with_an_unknown_azure_identity()
    {
        var mode = Mode("clusterRegistryAccess/acr-workload-identity");
        var json = JsonNode.Parse(mode.Json)!.AsObject();
        json["azure"] = "UNKNOWN";

        await Construct(mode with { Json = json.ToJsonString() }, preview: true);

        Assert.DoesNotContain(Monitor.Registrations, r => r.Type.StartsWith("azure-native:", StringComparison.Ordinal));
        Assert.Contains(Monitor.Registrations, r => r.Type == "kubernetes:batch/v1:CronJob");
    }

    public static TheoryData<string, string, string> BadInputs => new()
    {
        { AcrPullAccessComponent.TypeToken, $$"""{ "oidcIssuerUrl": "{{Issuer}}", "registryIds": ["/subscriptions/x/registries/acmeprod"], "resourceGroupName": "rg", "serviceAccountNamespace": "ns", "serviceAccountName": "sa" }""", "registryIds[0]: " },
        { AcrPullAccessComponent.TypeToken, $$"""{ "oidcIssuerUrl": "{{Issuer}}", "registryIds": [], "resourceGroupName": "rg", "serviceAccountNamespace": "ns", "serviceAccountName": "sa" }""", "registryIds: list at least one" },
        { AcrPullAccessComponent.TypeToken, $$"""{ "oidcIssuerUrl": "{{Issuer}}", "registryIds": ["{{Acr}}", "{{Acr}}"], "resourceGroupName": "rg", "serviceAccountNamespace": "ns", "serviceAccountName": "sa" }""", "registryIds[1]: names the registry 'acmeprod' again" },
        { AcrPullAccessComponent.TypeToken, $$"""{ "oidcIssuerUrl": "http://issuer.example.com/", "registryIds": ["{{Acr}}"], "resourceGroupName": "rg", "serviceAccountNamespace": "ns", "serviceAccountName": "sa" }""", "oidcIssuerUrl: " },
        { AcrPullAccessComponent.TypeToken, $$"""{ "oidcIssuerUrl": "{{Issuer}}", "registryIds": ["{{Acr}}"], "serviceAccountNamespace": "ns", "serviceAccountName": "sa" }""", "resourceGroupName: required to create the identity" },
        { AcrPullAccessComponent.TypeToken, $$"""{ "oidcIssuerUrl": "{{Issuer}}", "registryIds": ["{{Acr}}"], "resourceGroupName": "rg", "clientId": "6c2d8f0e-4b1a-4f7e-9a53-2e8b7c1d0f94", "serviceAccountNamespace": "ns", "serviceAccountName": "sa" }""", "clientId: only with identityResourceId" },
        { AcrPullAccessComponent.TypeToken, $$"""{ "oidcIssuerUrl": "{{Issuer}}", "registryIds": ["{{Acr}}"], "identityResourceId": "/subscriptions/{{Subscription}}/resourceGroups/id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller", "clientId": "6c2d8f0e-4b1a-4f7e-9a53-2e8b7c1d0f94", "serviceAccountNamespace": "ns", "serviceAccountName": "sa" }""", "principalId: required with identityResourceId" },
        { AcrPullAccessComponent.TypeToken, $$"""{ "oidcIssuerUrl": "{{Issuer}}", "registryIds": ["{{Acr}}"], "identityResourceId": "/subscriptions/{{Subscription}}/resourceGroups/id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller", "clientId": "6c2d8f0e-4b1a-4f7e-9a53-2e8b7c1d0f94", "principalId": "not-a-guid", "serviceAccountNamespace": "ns", "serviceAccountName": "sa" }""", "principalId: 'not-a-guid' is not a GUID" },
        { AcrPullAccessComponent.TypeToken, $$"""{ "oidcIssuerUrl": "{{Issuer}}", "registryIds": ["{{Acr}}"], "resourceGroupName": "rg", "serviceAccountNamespace": "ns" }""", "serviceAccountName: required" },
        { "registryinfra:index:ClusterRegistryAccess", $$"""{ "profiles": [{ "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "kind": "ecr" }], "namespaces": ["apps"], "kubeconfig": "/home/deployer/.kube/config", "refresher": { "image": "ghcr.io/a/r@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }, "azure": { "oidcIssuerUrl": "{{Issuer}}", "registryIds": ["{{Acr}}"], "resourceGroupName": "rg" } }""", "azure: no ACR registry is listed" },
        { "registryinfra:index:ClusterRegistryAccess", $$"""{ "profiles": [{ "server": "acme.azurecr.io", "kind": "acr", "clientId": "6c2d8f0e-4b1a-4f7e-9a53-2e8b7c1d0f94" }], "namespaces": ["apps"], "kubeconfig": "/home/deployer/.kube/config", "refresher": { "image": "ghcr.io/a/r@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }, "azure": { "oidcIssuerUrl": "{{Issuer}}", "registryIds": ["{{Acr}}"], "resourceGroupName": "rg" } }""", "profiles[0].clientId: the azure identity's client id is used" },
        { "registryinfra:index:ClusterRegistryAccess", $$"""{ "profiles": [{ "server": "acme.azurecr.io", "kind": "acr" }], "namespaces": ["apps"], "kubeconfig": "/home/deployer/.kube/config", "refresher": { "image": "ghcr.io/a/r@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }, "azure": { "oidcIssuerUrl": "{{Issuer}}", "registryIds": ["{{Acr}}"] } }""", "azure.resourceGroupName: required to create the identity" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_refused_naming_the_field(string type, string json, string expected)
    {
        var message = await Refused(type, json);

        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain(Monitor.Registrations, r => r.Type.StartsWith("azure-native:", StringComparison.Ordinal));
    }
}
