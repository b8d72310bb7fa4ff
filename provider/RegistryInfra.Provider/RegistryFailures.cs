using RegistryInfra.Core;

namespace RegistryInfra.Provider;

/// <summary>What a registry failure was, in the words users see in a failed preview.</summary>
internal static class RegistryFailures
{
    public static string Describe(RegistryErrorKind kind) => kind switch
    {
        RegistryErrorKind.Unreachable => "unreachable",
        RegistryErrorKind.Unauthorized => "unauthorised",
        RegistryErrorKind.Forbidden => "forbidden",
        RegistryErrorKind.RepositoryNotFound => "repository missing",
        RegistryErrorKind.ManifestNotFound => "tag missing",
        RegistryErrorKind.RateLimited => "rate-limited",
        RegistryErrorKind.CredentialSource => "credential source failed",
        RegistryErrorKind.InvalidInput => "invalid input",
        _ => "invalid registry response",
    };
}
