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
    public ICredentialSource Create(RegistryConfiguration registry) => registry.Source.Type switch
    {
        "static" => new MountedCredentialSource(registry.Server, registry.Source, time),
        "ecr" => Ecr(registry),
        // Application Default Credentials: on GKE with Workload Identity, the metadata server's token for the bound account.
        "gcp" => registry.Source.ServiceAccountKeyFile is { } keyFile
            ? GcpAccessTokenSource.FromServiceAccountKey(ReadKey(registry, keyFile), field: $"registries[{registry.Key}].source.serviceAccountKeyFile")
            : new GcpAccessTokenSource(),
        // DefaultAzureCredential: on AKS, the workload identity that the webhook projects into the pod.
        "acr" => new AcrCredentialSource(RegistryHost.Parse(registry.Server).Name, tenantId: registry.Source.TenantId),
        "exec" => new ExecCredentialSource([registry.Source.Command!, .. registry.Source.Args], registry.Source.Lifetime, clock: time),
        var other => throw new ConfigurationException($"registries[{registry.Key}].source.type: '{other}' is not supported"),
    };

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

    private EcrCredentialSource Ecr(RegistryConfiguration registry)
    {
        var details = RegistryHost.Parse(registry.Server).Details;
        var endpoint = registry.Source.Endpoint is { } e ? new Uri(e) : null;
        if (details.Kind == RegistryKind.EcrPublic)
        {
            return EcrCredentialSource.ForPublic(endpoint: endpoint, clock: time);
        }
        // The SDK's default chain finds the pod's identity: IRSA web identity or EKS Pod Identity.
        return new EcrCredentialSource(registry.Source.Region ?? details.Region!, registry.Source.AccountId ?? details.AccountId,
            endpoint: endpoint, useFips: details.IsFips, clock: time);
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
