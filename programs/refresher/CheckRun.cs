using System.Net;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Refresher.Configuration;

namespace RegistryInfra.Refresher;

/// <summary>
/// The <c>check</c> command: obtains every registry's token and reads every target secret and service
/// account, reporting what a refresh would find; it writes nothing.
/// </summary>
internal sealed partial class CheckRun(
    IKubernetes kubernetes,
    RefresherOptions options,
    IReadOnlyDictionary<string, ICredentialSource> sources,
    TimeProvider time,
    ILogger<CheckRun> logger)
{
    /// <summary>The number of problems found (0: a refresh would be able to do its work).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(options.Deadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var ct = linked.Token;
        var retry = new TransientRetry(options.TransientRetries, options.RetryBaseDelay, time);
        var problems = 0;

        foreach (var registry in options.Registries)
        {
            var source = sources[registry.Key];
            try
            {
                var credential = await retry.RunAsync(async c => await source.GetCredentialAsync(c).ConfigureAwait(false), ct).ConfigureAwait(false);
                LogRegistryOk(logger, registry.Key, registry.Server, source.Description, credential.ExpiresAt);
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
            catch (Exception e) when (e is HttpOperationException or HttpRequestException)
            {
                problems++;
                LogApiFailed(logger, "list", "namespaces", "*", e is HttpOperationException h ? (int?)h.Response?.StatusCode : null);
                continue;
            }
            foreach (var ns in namespaces)
            {
                problems += target.AttachOnly
                    ? await CheckAttachOnlySecretAsync(ns, target.SecretName, retry, ct).ConfigureAwait(false)
                    : await CheckSecretAsync(ns, target.SecretName, retry, ct).ConfigureAwait(false);
                foreach (var account in target.ServiceAccounts)
                {
                    problems += await CheckServiceAccountAsync(ns, account, target.SecretName, retry, ct).ConfigureAwait(false);
                }
            }
        }
        LogCheckDone(logger, problems);
        return problems;
    }

    private async Task<int> CheckSecretAsync(string ns, string name, TransientRetry retry, CancellationToken ct)
    {
        try
        {
            var secret = await retry.RunAsync(c => kubernetes.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: c), ct).ConfigureAwait(false);
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
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound)
        {
            LogSecretState(logger, ns, name, "missing (refresh will create it)");
            return 0;
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException)
        {
            LogApiFailed(logger, "get", "secret", $"{ns}/{name}", e is HttpOperationException h ? (int?)h.Response?.StatusCode : null);
            return 1;
        }
    }

    /// <summary>An attach-only target's secret: only whether it exists (its metadata), never its data.</summary>
    private async Task<int> CheckAttachOnlySecretAsync(string ns, string name, TransientRetry retry, CancellationToken ct)
    {
        try
        {
            await retry.RunAsync(async c =>
            {
                using var response = await kubernetes.CoreV1.ReadNamespacedSecretWithHttpMessagesAsync(name, ns, customHeaders: SecretRefresher.MetadataOnly, cancellationToken: c).ConfigureAwait(false);
                return response.Body.Metadata?.Name;
            }, ct).ConfigureAwait(false);
            LogSecretState(logger, ns, name, "present (attach only)");
            return 0;
        }
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound)
        {
            LogSecretState(logger, ns, name, "missing (attach only: this namespace is skipped until the secret exists)");
            return 0;
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException)
        {
            LogApiFailed(logger, "get", "secret", $"{ns}/{name}", e is HttpOperationException h ? (int?)h.Response?.StatusCode : null);
            return 1;
        }
    }

    private async Task<int> CheckServiceAccountAsync(string ns, string name, string secretName, TransientRetry retry, CancellationToken ct)
    {
        try
        {
            var account = await retry.RunAsync(c => kubernetes.CoreV1.ReadNamespacedServiceAccountAsync(name, ns, cancellationToken: c), ct).ConfigureAwait(false);
            var has = account.ImagePullSecrets?.Any(r => r.Name == secretName) == true;
            LogServiceAccountState(logger, ns, name, has ? "names the secret" : "lacks the secret (refresh will patch it)");
            return 0;
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException)
        {
            LogApiFailed(logger, "get", "serviceaccount", $"{ns}/{name}", e is HttpOperationException h ? (int?)h.Response?.StatusCode : null);
            return 1;
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Registry {Registry} ({Server}): {Source} gave a credential expiring {ExpiresAt}")]
    private static partial void LogRegistryOk(ILogger logger, string registry, string server, string source, DateTimeOffset? expiresAt);

    [LoggerMessage(EventId = 41, Level = LogLevel.Error, Message = "Registry {Registry} ({Server}): {Source} failed: {ErrorKind} {Reason}")]
    private static partial void LogRegistryFailed(ILogger logger, string registry, string server, string source, RegistryErrorKind errorKind, string reason);

    [LoggerMessage(EventId = 42, Level = LogLevel.Error, Message = "Kubernetes API: {Verb} {Resource} {Name} failed with HTTP {StatusCode}")]
    private static partial void LogApiFailed(ILogger logger, string verb, string resource, string name, int? statusCode);

    [LoggerMessage(EventId = 43, Level = LogLevel.Information, Message = "Secret {Namespace}/{SecretName}: {State}")]
    private static partial void LogSecretState(ILogger logger, string @namespace, string secretName, string state);

    [LoggerMessage(EventId = 44, Level = LogLevel.Information, Message = "Service account {Namespace}/{Name}: {State}")]
    private static partial void LogServiceAccountState(ILogger logger, string @namespace, string name, string state);

    [LoggerMessage(EventId = 45, Level = LogLevel.Information, Message = "Check finished: {Problems} problem(s)")]
    private static partial void LogCheckDone(ILogger logger, int problems);
}
