namespace RegistryInfra.Core.Credentials;

/// <summary>
/// Where a registry credential comes from: static values, a cloud token exchange, a docker credential
/// helper or a command. Implementations are safe to call concurrently and never put the secret into an
/// exception message or a log line.
/// </summary>
public interface ICredentialSource
{
    /// <summary>A short, secret-free description for logs and errors, such as <c>ecr(123456789012, eu-west-1)</c>.</summary>
    string Description { get; }

    /// <summary>Obtains a credential. Throws <see cref="RegistryException"/> with kind
    /// <see cref="RegistryErrorKind.CredentialSource"/> (or a more precise kind) when it cannot.</summary>
    ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default);
}
