using System.Collections.Immutable;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Provider.Tests.ChildCheck;

/// <summary>
/// One way of using a component: its type, name and inputs (JSON; <c>"password"</c> and <c>"authEntry"</c> are sent
/// secret, the string <c>UNKNOWN</c> is sent unknown, as the engine sends them in preview).
/// </summary>
public sealed record ComponentMode(string Id, string Type, string Name, string Json)
{
    public const string StackUrn = "urn:pulumi:test::fleet::pulumi:pulumi:Stack::fleet-test";

    /// <summary>The users' providers, one per package, as <c>options.providers</c> gives them.</summary>
    public static ImmutableDictionary<string, string> Providers { get; } = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
    {
        ["kubernetes"] = "urn:pulumi:test::fleet::pulumi:providers:kubernetes::prod-eu::0b1c-kube",
        ["aws"] = "urn:pulumi:test::fleet::pulumi:providers:aws::acct::9f8e-aws",
        ["gcp"] = "urn:pulumi:test::fleet::pulumi:providers:gcp::proj::77aa-gcp",
        ["azure-native"] = "urn:pulumi:test::fleet::pulumi:providers:azure-native::sub::5c3d-azure",
    });

    public ImmutableSortedDictionary<string, PropertyValue> Inputs => ToInputs(JsonNode.Parse(Json)!.AsObject());

    /// <summary>The Construct request the engine sends for this mode, registering into the monitor at <paramref name="monitorEndpoint"/>.</summary>
    public ConstructRequest Request(string monitorEndpoint, bool dryRun) => new(
        Type, Name, StackUrn, Inputs,
        ImmutableDictionary<string, ImmutableArray<string>>.Empty,
        new DeploymentContext("fleet", "test", "organization", ImmutableDictionary<string, string>.Empty, [], dryRun, 4, monitorEndpoint),
        Providers, [], [], new ConstructOptions(null, [], null, "", null, [], [], null, []), AcceptsOutputValues: true);

    public override string ToString() => Id;

    /// <summary>JSON as engine inputs: credentials secret, <c>UNKNOWN</c> computed.</summary>
    public static ImmutableSortedDictionary<string, PropertyValue> ToInputs(JsonObject json) => Components.ConstructTests.Inputs(json.ToJsonString());
}

/// <summary>
/// Every mode of every component of the package: each credential kind (static, ECR, Artifact Registry, ACR), each
/// identity (IRSA, EKS Pod Identity, a created or an existing Google account or Azure managed identity), each refresher target form (listed
/// namespaces, selector, all namespaces, attach-only), the dev registry (emptyDir, claim) and the opt-outs. The child check and the AOT parity test
/// both run over this list, in preview and in update.
/// </summary>
public static class ComponentModes
{
    private const string Image = "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    // The cluster the attachments reach, as the kubernetes provider's (a component given that provider must say which).
    private const string Kubeconfig = "apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts: [{name: prod, context: {cluster: prod, user: deployer}}]\nclusters: [{name: prod, cluster: {server: 'https://prod.example:6443'}}]\nusers: [{name: deployer, user: {token: kube-token}}]";
    private const string Auth = "{\"auth\":\"cm9ib3Q6dG9rZW4tc2VjcmV0LWF1dGg=\"}";
    private const string Oidc = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";
    private const string AksIssuer = "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000001/11111111-2222-3333-4444-555555555555/";
    private const string Acr = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/registries/providers/Microsoft.ContainerRegistry/registries/acmeprod";
    private const string Acr2 = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/shared/providers/Microsoft.ContainerRegistry/registries/acmeShared";
    private const string Identity = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller";

    private static string Quote(string s) => JsonValue.Create(s).ToJsonString();

    // A server certificate for localhost and its key, made once per test run (the modes are data every test reads alike).
    private static readonly (string Certificate, string Key) DevTls = NewDevTls();

    private static (string, string) NewDevTls()
    {
        using var ca = new RegistryInfra.Testing.Registry.TestCertificateAuthority();
        return TlsPair(ca);
    }

    /// <summary>A new server certificate for <c>localhost</c> issued by <paramref name="ca"/>, and its PKCS#8 key, as PEM.</summary>
    internal static (string Certificate, string Key) TlsPair(RegistryInfra.Testing.Registry.TestCertificateAuthority ca)
    {
        using var server = ca.IssueServerCertificate("localhost");
        using var key = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPrivateKey(server)!;
        return (server.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>
    /// ClusterRegistryAccess by namespace selector and for all namespaces: each registers one cluster-wide
    /// PullSecretAttachment (checked against the package schema like every child of this package); part of <see cref="All"/>.
    /// </summary>
    public static IReadOnlyList<ComponentMode> ClusterWide { get; } =
    [
        new("clusterRegistryAccess/all-namespaces-watch", "registryinfra:index:ClusterRegistryAccess", "fleet-all", $$"""
            { "profiles": [{ "server": "ghcr.io", "username": "octo", "password": "ghp-all-pw" }, { "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "kind": "ecr" }],
              "kubeconfig": {{Quote(Kubeconfig)}}, "allNamespaces": true, "excludeNamespaces": ["kube-*", "local-path-storage"], "allServiceAccounts": true,
              "refresher": { "image": {{Quote(Image)}}, "mode": "watch", "replicas": 2 },
              "aws": { "oidcProviderArn": {{Quote(Oidc)}}, "region": "eu-west-1", "repositories": ["app"] } }
            """),
        new("clusterRegistryAccess/selector-static", "registryinfra:index:ClusterRegistryAccess", "labelled", $$"""
            { "profiles": [{ "server": "registry.example.com", "username": "robot", "password": "pw-selector" }], "kubeconfig": {{Quote(Kubeconfig)}},
              "namespaceSelector": { "matchLabels": { "registry-access": "static" } }, "serviceAccounts": ["default", "builder"],
              "refresher": { "image": {{Quote(Image)}} } }
            """),
    ];

    public static IReadOnlyList<ComponentMode> All { get; } =
    [
        new("pullSecret/static", "registryinfra:kubernetes:PullSecret", "ps-static", $$"""
            { "registries": [{ "server": "ghcr.io", "username": "octo", "password": "ghp-static-pw" }, { "server": "quay.io", "authEntry": {{Quote(Auth)}} }],
              "namespaces": ["apps", "jobs"], "labels": { "team": "platform" } }
            """),
        new("pullSecret/token", "registryinfra:kubernetes:PullSecret", "ps-token", """
            { "registries": [{ "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "kind": "ecr" }], "namespaces": ["apps"], "secretName": "ecr-pull" }
            """),
        new("pullSecret/mixed", "registryinfra:kubernetes:PullSecret", "ps-mixed", $$"""
            { "registries": [{ "server": "registry.example.com", "username": "robot", "password": "pw" }, { "server": "europe-docker.pkg.dev", "authEntry": {{Quote(Auth)}} }],
              "namespaces": ["apps"] }
            """),
        new("ecrPullAccess/irsa", "registryinfra:aws:EcrPullAccess", "ecr-irsa", $$"""
            { "oidcProviderArn": {{Quote(Oidc)}}, "region": "eu-west-1", "repositories": ["team/app", "team/worker"], "repositoryArns": ["arn:aws:ecr:eu-west-1:123456789012:repository/other"],
              "serviceAccountNamespace": "registryinfra-system", "serviceAccountName": "registryinfra-refresher", "tags": { "managed-by": "pulumi" } }
            """),
        new("ecrPullAccess/irsa-all-repositories", "registryinfra:aws:EcrPullAccess", "ecr-all", $$"""
            { "mode": "irsa", "oidcProviderArn": {{Quote(Oidc)}}, "region": "eu-west-1", "allRepositories": true, "path": "/registryinfra/",
              "permissionsBoundary": "arn:aws:iam::123456789012:policy/boundary", "roleName": "puller", "partition": "aws",
              "serviceAccountNamespace": "ns", "serviceAccountName": "sa" }
            """),
        new("ecrPullAccess/podIdentity", "registryinfra:aws:EcrPullAccess", "ecr-pod", """
            { "mode": "podIdentity", "clusterName": "prod", "accountId": "123456789012", "region": "eu-west-1", "repositories": ["team/app"],
              "serviceAccountNamespace": "registryinfra-system", "serviceAccountName": "registryinfra-refresher", "tags": { "env": "prod" } }
            """),
        new("workloadIdentityBinding/new-account", "registryinfra:gcp:WorkloadIdentityBinding", "wi-new", """
            { "project": "acme-prod", "accountId": "registry-puller", "displayName": "puller",
              "repositories": [{ "location": "europe", "repository": "images" }, { "location": "us", "repository": "base", "project": "acme-shared" }],
              "kubernetesNamespace": "registryinfra-system", "kubernetesServiceAccount": "registryinfra-refresher" }
            """),
        new("workloadIdentityBinding/existing-account-project-wide", "registryinfra:gcp:WorkloadIdentityBinding", "wi-existing", """
            { "project": "acme-prod", "clusterProject": "acme-clusters", "serviceAccountEmail": "puller@acme-prod.iam.gserviceaccount.com", "projectWide": true,
              "kubernetesNamespace": "registryinfra-system", "kubernetesServiceAccount": "registryinfra-refresher" }
            """),
        new("acrPullAccess/new-identity", "registryinfra:azure:AcrPullAccess", "acr-new", $$"""
            { "oidcIssuerUrl": {{Quote(AksIssuer)}}, "registryIds": [{{Quote(Acr)}}, {{Quote(Acr2)}}], "resourceGroupName": "aks-prod",
              "identityName": "registry-puller", "location": "westeurope", "tags": { "managed-by": "pulumi" }, "federatedCredentialName": "refresher",
              "serviceAccountNamespace": "registryinfra-system", "serviceAccountName": "registryinfra-refresher" }
            """),
        new("acrPullAccess/existing-identity", "registryinfra:azure:AcrPullAccess", "acr-existing", $$"""
            { "oidcIssuerUrl": {{Quote(AksIssuer)}}, "registryIds": [{{Quote(Acr)}}], "identityResourceId": {{Quote(Identity)}},
              "clientId": "6c2d8f0e-4b1a-4f7e-9a53-2e8b7c1d0f94", "principalId": "a3e1c7d2-58b4-4e0f-b6a9-1f2d3c4b5a69", "tenantId": "00000000-0000-0000-0000-000000000001",
              "serviceAccountNamespace": "ops", "serviceAccountName": "puller" }
            """),
        new("devRegistry/defaults", "registryinfra:kubernetes:DevRegistry", "dev", """
            { "password": "dev-registry-p4ss" }
            """),
        new("devRegistry/claim-custom", "registryinfra:kubernetes:DevRegistry", "local", """
            { "namespace": "tools", "createNamespace": false, "name": "registry", "username": "builder", "password": "another-dev-p4ss",
              "image": "registry.example.com/mirror/registry@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
              "nodePort": 30500, "host": "192.168.49.2:30500", "storageSize": "10Gi", "storageClassName": "standard", "localRegistryHosting": false }
            """),
        new("devRegistry/tls", "registryinfra:kubernetes:DevRegistry", "secure", $$"""
            { "password": "secure-dev-p4ss", "tlsCertificate": {{Quote(DevTls.Certificate)}}, "tlsKey": {{Quote(DevTls.Key)}} }
            """),
        new("tokenRefresher/listed-namespaces", "registryinfra:kubernetes:TokenRefresher", "rf-listed", $$"""
            { "image": {{Quote(Image)}},
              "registries": [{ "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "type": "ecr", "region": "eu-west-1", "accountId": "123456789012" }],
              "targets": [{ "secretName": "pull-tokens", "namespaces": ["apps", "jobs"], "serviceAccounts": ["default"] },
                          { "secretName": "pull", "namespaces": ["apps"], "serviceAccounts": ["default"], "attachOnly": true }],
              "serviceAccountAnnotations": { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/r" },
              "schedule": "*/30 * * * *", "cpuRequest": "100m", "memoryRequest": "96Mi", "memoryLimit": "192Mi", "backoffLimit": 2,
              "successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 5, "activeDeadlineSeconds": 300, "startingDeadlineSeconds": 120 }
            """),
        new("tokenRefresher/selector-no-namespace-no-job", "registryinfra:kubernetes:TokenRefresher", "rf-selector", $$"""
            { "image": {{Quote(Image)}}, "namespace": "kube-tools", "createNamespace": false, "runOnDeploy": false, "serviceAccountName": "puller",
              "registries": [{ "server": "europe-docker.pkg.dev", "type": "gcp" }],
              "targets": [{ "secretName": "gar-tokens", "namespaceSelector": "team=payments,env!=dev" }],
              "podLabels": { "tier": "ops" } }
            """),
        new("tokenRefresher/all-namespaces-acr", "registryinfra:kubernetes:TokenRefresher", "rf-all", $$"""
            { "image": {{Quote(Image)}},
              "registries": [{ "server": "acme.azurecr.io", "type": "acr", "tenantId": "00000000-0000-0000-0000-000000000001", "clientId": "00000000-0000-0000-0000-000000000002" }],
              "targets": [{ "secretName": "acr-tokens", "allNamespaces": true, "serviceAccounts": ["default"] }] }
            """),
        new("tokenRefresher/watch-selectors-copy", "registryinfra:kubernetes:TokenRefresher", "rf-watch", $$"""
            { "image": {{Quote(Image)}}, "namespace": "rf-ns", "mode": "watch", "replicas": 2,
              "registries": [{ "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "type": "ecr", "region": "eu-west-1", "accountId": "123456789012" }],
              "targets": [{ "secretName": "ecr-tokens", "excludeNamespaces": ["kube-*"], "serviceAccountSelector": { "matchLabels": { "pulls": "private" } },
                            "namespaceLabelSelector": { "matchLabels": { "team": "payments" }, "matchExpressions": [{ "key": "env", "operator": "NotIn", "values": ["dev"] }] } },
                          { "secretName": "static-copy", "allNamespaces": true, "excludeNamespaces": ["kube-system"], "allServiceAccounts": true,
                            "source": { "namespace": "rf-ns", "name": "static-source" } },
                          { "secretName": "listed-tokens", "namespaces": ["apps"], "serviceAccounts": ["default"] }],
              "serviceAccountAnnotations": { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/r" } }
            """),
        new("pullSecret/selector", "registryinfra:kubernetes:PullSecret", "ps-selector", """
            { "registries": [{ "server": "ghcr.io", "username": "octo", "password": "ghp-selector-pw" }, { "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "kind": "ecr" }],
              "namespaceSelector": { "matchExpressions": [{ "key": "tier", "operator": "In", "values": ["web", "api"] }] }, "excludeNamespaces": ["kube-system"],
              "sourceNamespace": "registryinfra-system" }
            """),
        new("clusterRegistryAccess/static-ecr-gcp", "registryinfra:index:ClusterRegistryAccess", "prod-eu", $$"""
            { "profiles": [{ "server": "registry.example.com", "username": "robot", "password": "pw-Zq8" },
                           { "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "kind": "ecr" },
                           { "server": "europe-docker.pkg.dev", "authEntry": {{Quote(Auth)}} }],
              "kubeconfig": {{Quote(Kubeconfig)}}, "namespaces": ["apps", "jobs"], "serviceAccounts": ["default"], "refresher": { "image": {{Quote(Image)}} },
              "aws": { "oidcProviderArn": {{Quote(Oidc)}}, "region": "eu-west-1", "repositories": ["app"] },
              "gcp": { "project": "acme-prod", "accountId": "registry-puller", "repositories": [{ "location": "europe", "repository": "images" }] } }
            """),
        new("clusterRegistryAccess/static-attached", "registryinfra:index:ClusterRegistryAccess", "edge", $$"""
            { "profiles": [{ "server": "ghcr.io", "username": "octo", "password": "ghp-pw" }, { "server": "registry.example.com", "kind": "generic", "authEntry": {{Quote(Auth)}} }],
              "kubeconfig": {{Quote(Kubeconfig)}}, "namespaces": ["apps", "jobs"], "serviceAccounts": ["default", "builder"], "secretName": "creds",
              "refresher": { "image": {{Quote(Image)}}, "namespace": "ops", "createNamespace": false, "serviceAccountName": "attacher" } }
            """),
        new("clusterRegistryAccess/static-no-attach", "registryinfra:index:ClusterRegistryAccess", "bare", """
            { "profiles": [{ "server": "docker.io", "username": "me", "password": "dckr-pw" }], "namespaces": ["apps"], "attachServiceAccounts": false }
            """),
        new("clusterRegistryAccess/ecr-pod-identity", "registryinfra:index:ClusterRegistryAccess", "eks", $$"""
            { "profiles": [{ "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "kind": "ecr" }], "kubeconfig": {{Quote(Kubeconfig)}}, "namespaces": ["apps"],
              "refresher": { "image": {{Quote(Image)}}, "schedule": "0 */4 * * *", "podLabels": { "team": "platform" } },
              "aws": { "mode": "podIdentity", "clusterName": "prod", "accountId": "123456789012", "region": "eu-west-1", "repositories": ["team/app"] } }
            """),
        new("clusterRegistryAccess/artifact-registry", "registryinfra:index:ClusterRegistryAccess", "gke", $$"""
            { "profiles": [{ "server": "europe-west1-docker.pkg.dev", "kind": "artifactRegistry" }], "kubeconfig": {{Quote(Kubeconfig)}}, "namespaces": ["apps", "web"], "serviceAccounts": ["default"],
              "refresher": { "image": {{Quote(Image)}}, "schedule": "*/20 * * * *" },
              "gcp": { "project": "acme-prod", "accountId": "registry-puller", "repositories": [{ "location": "europe-west1", "repository": "images" }] } }
            """),
        new("clusterRegistryAccess/acr-workload-identity", "registryinfra:index:ClusterRegistryAccess", "aks-wi", $$"""
            { "profiles": [{ "server": "acme.azurecr.io", "kind": "acr" }, { "server": "ghcr.io", "username": "octo", "password": "ghp-pw" }],
              "kubeconfig": {{Quote(Kubeconfig)}}, "namespaces": ["apps", "web"], "serviceAccounts": ["default"], "refresher": { "image": {{Quote(Image)}}, "schedule": "0 * * * *" },
              "azure": { "oidcIssuerUrl": {{Quote(AksIssuer)}}, "registryIds": [{{Quote(Acr)}}], "resourceGroupName": "aks-prod", "location": "westeurope" } }
            """),
        new("clusterRegistryAccess/acr", "registryinfra:index:ClusterRegistryAccess", "aks", $$"""
            { "profiles": [{ "server": "acme.azurecr.io", "kind": "acr", "tenantId": "00000000-0000-0000-0000-000000000001", "clientId": "00000000-0000-0000-0000-000000000002" }],
              "kubeconfig": {{Quote(Kubeconfig)}}, "namespaces": ["apps"], "refresher": { "image": {{Quote(Image)}} } }
            """),
        .. ClusterWide,
    ];
}
