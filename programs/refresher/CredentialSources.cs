using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.References;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.Configuration;

namespace RegistryInfra.Refresher;

/// <summary>Turns each configured registry's <c>source</c> into the credential source that serves it.</summary>
internal interface ICredentialSources
{
    ICredentialSource Create(RegistryConfiguration registry);
}

/// <summary>The credential sources this build supports.</summary>
internal sealed class CredentialSources(TimeProvider time) : ICredentialSources
{
    /// <summary>Every source but the mounted static one is Core's <see cref="ICredentialSpec"/> of that kind, validated and
    /// built by the spec itself, as the provider builds them for RegistryProfile.</summary>
    public ICredentialSource Create(RegistryConfiguration registry)
    {
        var field = $"registries[{registry.Key}].source";
        var source = registry.Source;
        if (source.Type == TokenSourceConfiguration.Static)
        {
            return new MountedCredentialSource(registry.Server, source, time);
        }
        var key = source.Type == TokenSourceConfiguration.Gcp && source.ServiceAccountKeyFile is { } keyFile ? ReadKey(registry, keyFile) : null;
        return source.CreateSource(registry.Server, field, new CredentialSourceContext { Server = registry.Server, Clock = time }, key);
    }

    private static string ReadKey(RegistryConfiguration registry, string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"registries[{registry.Key}].source.serviceAccountKeyFile: cannot read '{path}' ({e.GetType().Name})", e);
        }
    }
}

/// <summary>
/// A fixed user name with a password read, on every run, from a mounted file or an environment variable,
/// so a rotated Kubernetes Secret volume is picked up without a restart.
/// </summary>
internal sealed class MountedCredentialSource(string server, TokenSourceConfiguration options, TimeProvider time) : ICredentialSource
{
    public string Description => options.PasswordFile is not null
        ? $"static({server}, file {options.PasswordFile})"
        : $"static({server}, env {options.PasswordEnv})";

    public async ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default)
    {
        string? password;
        if (options.PasswordFile is { } file)
        {
            try
            {
                password = (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new RegistryException(RegistryErrorKind.CredentialSource, $"{Description}: cannot read the password file ({e.GetType().Name})", e);
            }
        }
        else
        {
            password = Environment.GetEnvironmentVariable(options.PasswordEnv!);
        }
        if (string.IsNullOrEmpty(password))
        {
            throw new RegistryException(RegistryErrorKind.CredentialSource, $"{Description}: the password is empty or not set");
        }
        DateTimeOffset? expiresAt = options.Lifetime is { } lifetime ? time.GetUtcNow() + lifetime : null;
        return new RegistryCredential(options.Username!, password, expiresAt);
    }
}
