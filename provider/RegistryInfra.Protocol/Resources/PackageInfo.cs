namespace RegistryInfra.Protocol.Resources;

/// <summary>The package's identity and SDK naming, written into the schema.</summary>
public sealed record PackageInfo(
    string Name,
    string DisplayName,
    string Description,
    string Publisher,
    string Repository,
    string License,
    IReadOnlyList<string> Keywords,
    string CSharpRootNamespace,
    string NodePackageName,
    string PythonPackageName,
    string GoImportBasePath);
