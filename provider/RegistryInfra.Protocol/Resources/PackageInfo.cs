namespace RegistryInfra.Protocol.Resources;

/// <summary>
/// The package's identity, its presentation in the Pulumi registry and SDK naming, written into the schema.
/// <paramref name="Version"/> is the plugin's own version (semver); <paramref name="PluginDownloadUrl"/> is where
/// `pulumi plugin install` and the generated SDKs fetch the plugin from; <paramref name="LogoUrl"/> is a PNG (the C#
/// SDK generator downloads it as the NuGet package icon).
/// </summary>
public sealed record PackageInfo(
    string Name,
    string DisplayName,
    string Description,
    string Version,
    string Publisher,
    string Homepage,
    string Repository,
    string PluginDownloadUrl,
    string LogoUrl,
    string License,
    IReadOnlyList<string> Keywords,
    string CSharpRootNamespace,
    string NodePackageName,
    string PythonPackageName,
    string GoImportBasePath);
