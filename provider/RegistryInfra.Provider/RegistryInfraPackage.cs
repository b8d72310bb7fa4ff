using RegistryInfra.Protocol.Resources;
using RegistryInfra.Provider.Resources.RegistryProfile;

namespace RegistryInfra.Provider;

/// <summary>The package `registryinfra`: its identity and the one table of its resources.</summary>
internal static class RegistryInfraPackage
{
    public static PackageInfo Info { get; } = new(
        Name: "registryinfra",
        DisplayName: "RegistryInfra",
        Description: "Private container registry access for Kubernetes fleets: registry profiles, cloud identity bindings, pull secrets and a token refresher.",
        Publisher: "RegistryInfra",
        Repository: "https://github.com/registryinfra/pulumi-registryinfra",
        License: "Apache-2.0",
        Keywords: ["pulumi", "registryinfra", "kubernetes", "container-registry", "category/infrastructure", "kind/native"],
        CSharpRootNamespace: "RegistryInfra.Pulumi",
        NodePackageName: "@registryinfra/pulumi",
        PythonPackageName: "pulumi_registryinfra",
        GoImportBasePath: "github.com/registryinfra/pulumi-registryinfra/sdk/go/registryinfra");

    /// <summary>The table of every resource, function and component of the package.</summary>
    public static ResourceTable CreateTable() => new ResourceTable()
        .Resource(RegistryProfileResource.Token, new RegistryProfileResource(), RegistryProfileResource.Description);

    public static PackageProvider CreateProvider() => new(Info, CreateTable());
}
