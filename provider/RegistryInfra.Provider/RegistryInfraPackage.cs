using System.Reflection;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Provider.Components.AcrPullAccess;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Components.DevRegistry;
using RegistryInfra.Provider.Components.EcrPullAccess;
using RegistryInfra.Provider.Components.PullSecret;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Provider.Components.WorkloadIdentityBinding;
using RegistryInfra.Provider.Resources.GetImage;
using RegistryInfra.Provider.Resources.PullSecretAttachment;
using RegistryInfra.Provider.Resources.RegistryProfile;

namespace RegistryInfra.Provider;

/// <summary>The package `registryinfra`: its identity and the one table of its resources.</summary>
internal static class RegistryInfraPackage
{
    private const string Repository = "https://github.com/registryinfra/pulumi-registryinfra";

    public static PackageInfo Info { get; } = new(
        Name: "registryinfra",
        DisplayName: "RegistryInfra",
        Description: "Private container registry access for Kubernetes fleets: registry profiles, cloud identity bindings, pull secrets and a token refresher.",
        Version: BuildVersion(),
        Publisher: "RegistryInfra",
        Homepage: Repository + "#readme",
        Repository: Repository,
        // The engine and the generated SDKs install the plugin from this repository's GitHub release vVERSION, asset
        // pulumi-resource-registryinfra-vVERSION-OS-ARCH.tar.gz (what provider/release/package writes); with an owner
        // only, the repository is pulumi-NAME (pulumi/pulumi#9984, "github://api.github.com/pulumiverse").
        PluginDownloadUrl: "github://api.github.com/registryinfra",
        LogoUrl: "https://raw.githubusercontent.com/registryinfra/pulumi-registryinfra/main/provider/release/logo.png",
        License: "Apache-2.0",
        Keywords: ["pulumi", "registryinfra", "kubernetes", "container-registry", "category/infrastructure", "kind/native"],
        CSharpRootNamespace: "RegistryInfra.Pulumi",
        NodePackageName: "@registryinfra/pulumi",
        PythonPackageName: "pulumi_registryinfra",
        GoImportBasePath: "github.com/registryinfra/pulumi-registryinfra/sdk/go/registryinfra");

    /// <summary>
    /// The version this build was made as (Directory.Build.props' Version, or the release's -p:Version), without the
    /// source revision the SDK appends to the informational version: one commit's schema must not differ from the next.
    /// </summary>
    private static string BuildVersion() =>
        (typeof(RegistryInfraPackage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? throw new InvalidOperationException("the provider assembly has no informational version")).Split('+')[0];

    /// <summary>
    /// The table of every resource, function and component of the package. The resource and the function
    /// share <paramref name="connections"/>: one set of distribution clients for the whole provider process.
    /// </summary>
    public static ResourceTable CreateTable(RegistryConnections? connections = null)
    {
        connections ??= new RegistryConnections();
        return new ResourceTable()
            .Resource(RegistryProfileResource.Token, new RegistryProfileResource(connections), RegistryProfileResource.Description)
            .Resource(PullSecretAttachmentResource.Token, new PullSecretAttachmentResource(), PullSecretAttachmentResource.Description)
            .Function(GetImageFunction.Token, new GetImageFunction(connections), GetImageFunction.Description)
            .Component(PullSecretComponent.Instance,
                "Pull secrets (kubernetes.io/dockerconfigjson) for a set of registries in each listed namespace: static credentials in a Secret whose data Pulumi owns, token-based registries in a Secret whose data the refresher owns. This component attaches no service account: workloads name the secrets through the `imagePullSecrets` output, or a PullSecretAttachment adds them to service accounts (ClusterRegistryAccess creates one per namespace), because `imagePullSecrets` is an atomic list that a server-side-apply patch would replace whole.")
            .Component(EcrPullAccessComponent.Instance,
                "An IAM role for one Kubernetes service account (IRSA or EKS Pod Identity) with least-privilege ECR pull on the listed repositories.")
            .Component(WorkloadIdentityBindingComponent.Instance,
                "A Google service account with Artifact Registry reader, bound to one Kubernetes service account through Workload Identity.")
            .Component(AcrPullAccessComponent.Instance,
                "A user-assigned managed identity (created, or an existing one) that one Kubernetes service account runs as through Azure workload identity (a federated identity credential on the cluster's OIDC issuer), with AcrPull on the listed container registries.")
            .Component(TokenRefresherComponent.Instance,
                "The refresher CronJob that renews short-lived registry tokens in pull secrets and adds pull secrets to service accounts (keeping their other entries), with its service account, least-privilege RBAC and configuration.")
            .Component(DevRegistryComponent.Instance,
                "A container registry in the cluster for development (the distribution registry with htpasswd authentication, a NodePort Service so that nodes pull from `localhost:NODEPORT`, and the KEP-1755 `local-registry-hosting` ConfigMap), with the outputs of a static profile for ClusterRegistryAccess or PullSecret.")
            .Component(ClusterRegistryAccessComponent.Instance,
                "One cluster's whole registry access: pull secrets in each namespace, the refresher with its cloud identity where a token-based registry needs it, and a PullSecretAttachment per namespace that makes the listed service accounts name the pull secrets and removes exactly those names again when they leave the program (opt out with `attachServiceAccounts: false`). Default object names differ per component and per stack.");
    }

    public static PackageProvider CreateProvider(RegistryConnections? connections = null)
    {
        connections ??= new RegistryConnections();
        return new(Info, CreateTable(connections), new ProviderSettings(connections), EmbeddedSchema);
    }

    /// <summary>The name of the schema embedded at build time (see the project file).</summary>
    internal const string EmbeddedSchemaResource = "registryinfra.schema.json";

    /// <summary>
    /// The schema embedded at build time (provider/build embeds the one this code generates; a plain build embeds the
    /// committed schema/schema.json, which SchemaTests keep equal to it), served as it is so that the first GetSchema
    /// costs a read instead of a generation; only its top-level version is this build's (a release builds with
    /// -p:Version). The same shape as Pulumi's bridged providers, which embed the schema their generator wrote.
    /// </summary>
    internal static string EmbeddedSchema()
    {
        using var stream = typeof(RegistryInfraPackage).Assembly.GetManifestResourceStream(EmbeddedSchemaResource)
            ?? throw new InvalidOperationException($"the provider assembly has no embedded {EmbeddedSchemaResource}");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        var reader = new System.Text.Json.Utf8JsonReader(bytes);
        while (reader.Read())
        {
            if (reader.CurrentDepth == 1 && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName && reader.ValueTextEquals("version"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                var end = start + (int)reader.ValueSpan.Length + 2; // the string and its quotes (a version has no escapes)
                var text = System.Text.Encoding.UTF8;
                return string.Concat(text.GetString(bytes, 0, start), "\"" + System.Text.Json.JsonEncodedText.Encode(Info.Version) + "\"",
                    text.GetString(bytes, end, bytes.Length - end));
            }
            if (reader.CurrentDepth == 1 && reader.TokenType is System.Text.Json.JsonTokenType.StartObject or System.Text.Json.JsonTokenType.StartArray)
            {
                reader.Skip();
            }
        }
        throw new InvalidOperationException($"the embedded {EmbeddedSchemaResource} has no top-level version");
    }

    /// <summary>The package schema, with the provider's configuration.</summary>
    public static string Schema()
    {
        using var connections = new RegistryConnections();
        return SchemaGenerator.Generate(Info, CreateTable(connections), new ProviderSettings(connections));
    }
}
