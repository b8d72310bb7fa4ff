using System.Net;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.References;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher;

/// <summary>
/// The <c>check</c> command: obtains every registry's token and tries it against the registry (as
/// <c>docker login</c> does), then reads every target secret and service account, reporting what a refresh
/// would find; it writes nothing.
/// </summary>
internal sealed partial class CheckRun(
    IKubeApi kubernetes,
    RefresherConfiguration options,
    IReadOnlyDictionary<string, ICredentialSource> sources,
    TimeProvider time,
    ILogger<CheckRun> logger,
    IRegistryProbe registries)
{
    /// <summary>The number of problems found (0: a refresh would be able to do its work).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(options.EffectiveDeadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var ct = linked.Token;
        var retry = new TransientRetry(options.EffectiveTransientRetries, options.EffectiveRetryBaseDelay, time);
        var problems = 0;

        foreach (var registry in options.Registries)
        {
            var source = sources[registry.Key];
            try
            {
                var credential = await retry.RunAsync(async c => await source.GetCredentialAsync(c).ConfigureAwait(false), ct).ConfigureAwait(false);
                LogRegistryOk(logger, registry.Key, registry.Server, source.Description, new UtcTime(credential.ExpiresAt));
                var host = RegistryHost.Parse(registry.Server);
                try
                {
                    var scheme = await registries.CheckAsync(host, credential, ct).ConfigureAwait(false);
                    LogRegistryAccepted(logger, registry.Key, registry.Server, scheme ?? "none (open registry)");
                }
                catch (RegistryException e)
                {
                    problems++;
                    LogRegistryRefused(logger, registry.Key, registry.Server, e.Kind, e.Message);
                }
            }
            catch (RegistryException e)
            {
                problems++;
                LogRegistryFailed(logger, registry.Key, registry.Server, source.Description, e.Kind, e.Message);
            }
        }

        foreach (var target in options.Targets)
        {
            IReadOnlyList<string> namespaces;
            try
            {
                namespaces = await RefreshRun.ResolveNamespacesAsync(kubernetes, target, retry, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KubeApiException or HttpRequestException or KubeCredentialException || SecretRefresher.IsMalformedAnswer(e))
            {
                problems++;
                LogApiFailed(logger, "list", "namespaces", "*", Status(e));
                continue;
            }
            if (target.Source is { } source)
            {
                // A copy target's data: the source Secret, read as the refresher reads it (its content is never logged).
                problems += await CheckSecretAsync(source.Namespace, source.Name, retry, ct, "source").ConfigureAwait(false);
            }
            if (target.ClusterOwner is { } role)
            {
                problems += await CheckClusterOwnerAsync(role, retry, ct).ConfigureAwait(false);
            }
            foreach (var ns in namespaces)
            {
                problems += target.AttachOnly
                    ? await CheckAttachOnlySecretAsync(ns, target.SecretName, retry, ct).ConfigureAwait(false)
                    : await CheckSecretAsync(ns, target.SecretName, retry, ct).ConfigureAwait(false);
                if (target.SelectsServiceAccounts)
                {
                    problems += await CheckServiceAccountListAsync(ns, target.AllServiceAccounts ? null : target.ServiceAccountSelector, retry, ct).ConfigureAwait(false);
                }
                foreach (var account in target.ServiceAccounts)
                {
                    problems += await CheckServiceAccountAsync(ns, account, target.SecretName, retry, ct).ConfigureAwait(false);
                }
            }
        }
        LogCheckDone(logger, problems);
        return problems;
    }

    private async Task<int> CheckSecretAsync(string ns, string name, TransientRetry retry, CancellationToken ct, string? role = null)
    {
        try
        {
            var secret = await retry.RunAsync(c => kubernetes.ReadSecretAsync(ns, name, c), ct).ConfigureAwait(false);
            if (secret.Type != SecretRefresher.DockerConfigType || secret.Data?.TryGetValue(SecretRefresher.DockerConfigKey, out var content) != true)
            {
                var state = $"malformed: type '{secret.Type}' or no {SecretRefresher.DockerConfigKey}";
                LogSecretState(logger, ns, name, state);
                return 1;
            }
            DockerConfig.Parse(content!);
            var expires = secret.Metadata.Annotations?.TryGetValue(SecretRefresher.ExpiresAtAnnotation, out var at) == true ? at : "unknown";
            var present = "present, expires " + expires;
            LogSecretState(logger, ns, name, present);
            return 0;
        }
        catch (RegistryException e)
        {
            LogSecretState(logger, ns, name, "malformed: " + e.Message);
            return 1;
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // A missing copy source is a problem (nothing to copy); a missing target secret is what refresh creates.
            LogSecretState(logger, ns, name, role is null ? "missing (refresh will create it)" : $"missing ({role}: nothing can be copied)");
            return role is null ? 0 : 1;
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or KubeCredentialException || SecretRefresher.IsMalformedAnswer(e))
        {
            LogApiFailed(logger, "get", "secret", $"{ns}/{name}", Status(e));
            return 1;
        }
    }

    /// <summary>An attach-only target's secret: only whether it exists (its metadata), never its data.</summary>
    private async Task<int> CheckAttachOnlySecretAsync(string ns, string name, TransientRetry retry, CancellationToken ct)
    {
        try
        {
            await retry.RunAsync(c => kubernetes.ReadSecretMetadataAsync(ns, name, c), ct).ConfigureAwait(false);
            LogSecretState(logger, ns, name, "present (attach only)");
            return 0;
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            LogSecretState(logger, ns, name, "missing (attach only: this namespace is skipped until the secret exists)");
            return 0;
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or KubeCredentialException || SecretRefresher.IsMalformedAnswer(e))
        {
            LogApiFailed(logger, "get", "secret", $"{ns}/{name}", Status(e));
            return 1;
        }
    }

    private async Task<int> CheckServiceAccountAsync(string ns, string name, string secretName, TransientRetry retry, CancellationToken ct)
    {
        try
        {
            var account = await retry.RunAsync(c => kubernetes.ReadServiceAccountAsync(ns, name, c), ct).ConfigureAwait(false);
            var has = account.ImagePullSecrets?.Any(r => r?.Name == secretName) == true;
            LogServiceAccountState(logger, ns, name, has ? "names the secret" : "lacks the secret (refresh will patch it)");
            return 0;
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // Not a failure (issue #14): refresh skips it with an Event and attaches it once it exists.
            LogServiceAccountState(logger, ns, name, "missing (refresh skips it and attaches the secret once it exists)");
            return 0;
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or KubeCredentialException || SecretRefresher.IsMalformedAnswer(e))
        {
            LogApiFailed(logger, "get", "serviceaccount", $"{ns}/{name}", Status(e));
            return 1;
        }
    }

    /// <summary>allServiceAccounts / serviceAccountSelector: the first page of the namespace's accounts can be listed.</summary>
    private async Task<int> CheckServiceAccountListAsync(string ns, string? selector, TransientRetry retry, CancellationToken ct)
    {
        try
        {
            var page = await retry.RunAsync(c => kubernetes.ListServiceAccountsAsync(ns, selector, SecretRefresher.ServiceAccountPageSize, null, c), ct).ConfigureAwait(false);
            var which = selector is null ? "*" : $"({selector})";
            var count = page.Items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + (string.IsNullOrEmpty(page.Metadata?.ContinueProperty) ? "" : "+") + " selected";
            LogServiceAccountState(logger, ns, which, count);
            return 0;
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or KubeCredentialException || SecretRefresher.IsMalformedAnswer(e))
        {
            LogApiFailed(logger, "list", "serviceaccounts", $"{ns}/*", Status(e));
            return 1;
        }
    }

    /// <summary>clusterOwner: the ClusterRole exists and can be read (its uid goes into every copy's ownerReference).</summary>
    private async Task<int> CheckClusterOwnerAsync(string role, TransientRetry retry, CancellationToken ct)
    {
        try
        {
            await retry.RunAsync(c => kubernetes.ReadClusterRoleMetadataAsync(role, c), ct).ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or KubeCredentialException || SecretRefresher.IsMalformedAnswer(e))
        {
            LogApiFailed(logger, "get", "clusterrole", role, Status(e));
            return 1;
        }
    }

    private static string Status(Exception e) => e switch
    {
        KubeApiException k => "HTTP " + ((int)k.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
        KubeCredentialException => "no credential for the API server",
        HttpRequestException h => $"connection failed ({h.HttpRequestError})",
        _ => "a malformed answer",
    };

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Registry {Registry} ({Server}): {Source} gave a credential expiring {ExpiresAt}")]
    private static partial void LogRegistryOk(ILogger logger, string registry, string server, string source, UtcTime expiresAt);

    [LoggerMessage(EventId = 46, Level = LogLevel.Information, Message = "Registry {Registry} ({Server}) accepted the credential (authentication: {Scheme})")]
    private static partial void LogRegistryAccepted(ILogger logger, string registry, string server, string scheme);

    [LoggerMessage(EventId = 47, Level = LogLevel.Error, Message = "Registry {Registry} ({Server}) refused the credential: {ErrorKind} {Reason}")]
    private static partial void LogRegistryRefused(ILogger logger, string registry, string server, RegistryErrorKind errorKind, string reason);

    [LoggerMessage(EventId = 41, Level = LogLevel.Error, Message = "Registry {Registry} ({Server}): {Source} failed: {ErrorKind} {Reason}")]
    private static partial void LogRegistryFailed(ILogger logger, string registry, string server, string source, RegistryErrorKind errorKind, string reason);

    [LoggerMessage(EventId = 42, Level = LogLevel.Error, Message = "Kubernetes API: {Verb} {Resource} {Name} failed: {Status}")]
    private static partial void LogApiFailed(ILogger logger, string verb, string resource, string name, string status);

    [LoggerMessage(EventId = 43, Level = LogLevel.Information, Message = "Secret {Namespace}/{SecretName}: {State}")]
    private static partial void LogSecretState(ILogger logger, string @namespace, string secretName, string state);

    [LoggerMessage(EventId = 44, Level = LogLevel.Information, Message = "Service account {Namespace}/{Name}: {State}")]
    private static partial void LogServiceAccountState(ILogger logger, string @namespace, string name, string state);

    [LoggerMessage(EventId = 45, Level = LogLevel.Information, Message = "Check finished: {Problems} problem(s)")]
    private static partial void LogCheckDone(ILogger logger, int problems);
}

/// <summary>Tries a credential against a registry, as <c>docker login</c> does (a seam for tests).</summary>
internal interface IRegistryProbe
{
    /// <summary>The authentication scheme the registry used (<c>Basic</c>, <c>Bearer</c>), or null for an open registry.</summary>
    /// <exception cref="RegistryException">The registry refused the credential or could not be reached.</exception>
    Task<string?> CheckAsync(RegistryHost registry, RegistryCredential credential, CancellationToken cancellationToken);
}

/// <summary>Core's distribution client: <c>GET /v2/</c> with the credential (Basic, or a Bearer token it obtains).</summary>
internal sealed class RegistryProbe : IRegistryProbe
{
    public async Task<string?> CheckAsync(RegistryHost registry, RegistryCredential credential, CancellationToken cancellationToken)
    {
        using var client = new RegistryInfra.Core.Distribution.DistributionClient();
        return await client.CheckCredentialsAsync(registry.Name, [], credential, cancellationToken).ConfigureAwait(false);
    }
}
