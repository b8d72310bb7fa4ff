using System.Net;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Refresher.Configuration;

namespace RegistryInfra.Refresher;

/// <summary>The figures of one run, as the summary log line prints them.</summary>
internal sealed record RunSummary(int Checked, int Created, int Updated, int Unchanged, int Failed, int TokenRequests,
    int ServiceAccountsPatched, DateTimeOffset? EarliestExpiry, TimeSpan Duration, bool DeadlineExceeded)
{
    public int Written => Created + Updated;

    public IReadOnlyList<TargetOutcome> Outcomes { get; init; } = [];
}

/// <summary>
/// One refresh run: resolves the target namespaces, refreshes every (namespace, secret) with bounded
/// parallelism under the run's deadline, records an Event for each failure and returns the summary.
/// </summary>
internal sealed partial class RefreshRun(
    IKubernetes kubernetes,
    RefresherOptions options,
    IReadOnlyDictionary<string, ICredentialSource> sources,
    TimeProvider time,
    ILogger<RefreshRun> logger,
    RefresherMetrics metrics)
{
    public async Task<RunSummary> RunAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var deadline = new CancellationTokenSource(options.Deadline, time);
        using var overall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        // Work stops a little before the deadline so the failures can still be recorded as Events within it.
        var reserve = TimeSpan.FromTicks(Math.Min(options.Deadline.Ticks / 10, TimeSpan.FromSeconds(5).Ticks));
        using var workDeadline = new CancellationTokenSource(options.Deadline - reserve, time);
        using var work = CancellationTokenSource.CreateLinkedTokenSource(overall.Token, workDeadline.Token);

        var retry = new TransientRetry(options.TransientRetries, options.RetryBaseDelay, time);
        var registries = options.Registries.ToDictionary(r => r.Key, r => (r.Host.Name, sources[r.Key]), StringComparer.Ordinal);
        var tokens = new TokenBroker(registries, retry, time, logger, work.Token);
        var refresher = new SecretRefresher(kubernetes, tokens, retry, time, options.RenewBefore, options.ConflictRetries);
        var events = new FailureEvents(kubernetes, time, logger);

        var outcomes = new List<TargetOutcome>();
        var jobs = new List<(string Namespace, TargetOptions Target)>();
        for (var i = 0; i < options.Targets.Count; i++)
        {
            var target = options.Targets[i];
            try
            {
                foreach (var ns in await ResolveNamespacesAsync(kubernetes, target, retry, work.Token).ConfigureAwait(false))
                {
                    jobs.Add((ns, target));
                }
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or OperationCanceledException)
            {
                var message = $"targets[{i}] ({target.SecretName}): listing namespaces failed: {Describe(e, work.Token)}";
                LogTargetFailed(logger, "*", target.SecretName, "NamespaceListFailed", message);
                metrics.Failed("NamespaceListFailed");
                outcomes.Add(new TargetOutcome("*", target.SecretName, TargetResult.Failed, "NamespaceListFailed", message));
            }
        }

        using var gate = new SemaphoreSlim(options.Concurrency);
        var running = jobs.Select(job => RefreshOneAsync(job.Namespace, job.Target, refresher, events, gate, work.Token, overall.Token)).ToList();
        outcomes.AddRange(await Task.WhenAll(running).ConfigureAwait(false));

        metrics.TokensRequested(tokens.Requests);
        var earliest = tokens.Obtained.Select(t => t.Credential.ExpiresAt).Where(e => e.HasValue).Min()
            ?? outcomes.Where(o => o.Result != TargetResult.Failed).Select(o => o.ExpiresAt).Where(e => e.HasValue).Min();
        metrics.Expiry(earliest);
        var summary = new RunSummary(
            Checked: outcomes.Count,
            Created: outcomes.Count(o => o.Result == TargetResult.Created),
            Updated: outcomes.Count(o => o.Result == TargetResult.Updated),
            Unchanged: outcomes.Count(o => o.Result == TargetResult.Unchanged),
            Failed: outcomes.Count(o => o.Result == TargetResult.Failed),
            TokenRequests: tokens.Requests,
            ServiceAccountsPatched: outcomes.Sum(o => o.ServiceAccountsPatched),
            EarliestExpiry: earliest,
            Duration: time.GetElapsedTime(started),
            DeadlineExceeded: workDeadline.IsCancellationRequested || deadline.IsCancellationRequested)
        { Outcomes = outcomes };
        LogSummary(logger, summary.Checked, summary.Written, summary.Created, summary.Updated, summary.Unchanged, summary.Failed,
            summary.TokenRequests, summary.ServiceAccountsPatched, summary.EarliestExpiry, summary.Duration.TotalSeconds, summary.DeadlineExceeded);
        return summary;
    }

    private async Task<TargetOutcome> RefreshOneAsync(string ns, TargetOptions target, SecretRefresher refresher, FailureEvents events,
        SemaphoreSlim gate, CancellationToken work, CancellationToken overall)
    {
        var registries = (target.Registries.Count == 0 ? options.Registries : options.Registries.Where(r => target.Registries.Contains(r.Key)))
            .Select(r => (r.Key, r.Host)).ToList();
        TargetOutcome outcome;
        var entered = false;
        try
        {
            await gate.WaitAsync(work).ConfigureAwait(false);
            entered = true;
            outcome = await refresher.RefreshAsync(ns, target.SecretName, registries, target.ServiceAccounts, work).ConfigureAwait(false);
        }
        catch (TargetFailedException e)
        {
            outcome = new TargetOutcome(ns, target.SecretName, TargetResult.Failed, e.Reason, e.Message, e.Kind, e.Name);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or HttpOperationException)
        {
            var reason = work.IsCancellationRequested ? "DeadlineExceeded" : "ApiError";
            outcome = new TargetOutcome(ns, target.SecretName, TargetResult.Failed, reason,
                $"secret {ns}/{target.SecretName}: {Describe(e, work)}", "Secret", target.SecretName);
        }
        finally
        {
            if (entered)
            {
                gate.Release();
            }
        }

        switch (outcome.Result)
        {
            case TargetResult.Failed:
                LogTargetFailed(logger, ns, target.SecretName, outcome.Reason!, outcome.Message!);
                metrics.Failed(outcome.Reason!);
                await events.RecordAsync(ns, outcome.FailedKind ?? "Secret", outcome.FailedName ?? target.SecretName, "RefreshFailed",
                    $"{outcome.Reason}: {outcome.Message}", overall).ConfigureAwait(false);
                break;
            case TargetResult.Created or TargetResult.Updated:
                metrics.Written(outcome.Result == TargetResult.Created ? "create" : "update");
                LogWritten(logger, ns, target.SecretName, outcome.Result, outcome.ExpiresAt, outcome.ServiceAccountsPatched);
                break;
            default:
                metrics.Unchanged();
                LogUnchanged(logger, ns, target.SecretName, outcome.ExpiresAt, outcome.ServiceAccountsPatched);
                break;
        }
        return outcome;
    }

    internal static async Task<IReadOnlyList<string>> ResolveNamespacesAsync(IKubernetes kubernetes, TargetOptions target, TransientRetry retry, CancellationToken ct)
    {
        if (target.Namespaces.Count > 0)
        {
            return target.Namespaces.Distinct(StringComparer.Ordinal).ToList();
        }
        var selector = target.AllNamespaces ? null : target.NamespaceSelector;
        var names = new List<string>();
        string? next = null;
        do
        {
            var page = await retry.RunAsync(c => kubernetes.CoreV1.ListNamespaceAsync(continueParameter: next, labelSelector: selector, limit: 500, cancellationToken: c), ct).ConfigureAwait(false);
            names.AddRange(page.Items.Where(n => n.Status?.Phase != "Terminating").Select(n => n.Metadata.Name));
            next = page.Metadata?.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));
        return names;
    }

    private static string Describe(Exception e, CancellationToken work) => e switch
    {
        OperationCanceledException when work.IsCancellationRequested => "the run's deadline was reached before it finished",
        OperationCanceledException => "request timed out",
        HttpOperationException h => $"HTTP {(h.Response is null ? "no response" : ((int)h.Response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture))}",
        HttpRequestException h => $"connection failed ({h.HttpRequestError})",
        _ => e.GetType().Name,
    };

    [LoggerMessage(EventId = 20, Level = LogLevel.Error, Message = "Refresh of secret {Namespace}/{SecretName} failed: {Reason}: {Detail}")]
    private static partial void LogTargetFailed(ILogger logger, string @namespace, string secretName, string reason, string detail);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Secret {Namespace}/{SecretName} {Result}, expires {ExpiresAt}, service accounts patched {ServiceAccountsPatched}")]
    private static partial void LogWritten(ILogger logger, string @namespace, string secretName, TargetResult result, DateTimeOffset? expiresAt, int serviceAccountsPatched);

    [LoggerMessage(EventId = 22, Level = LogLevel.Debug, Message = "Secret {Namespace}/{SecretName} unchanged, expires {ExpiresAt}, service accounts patched {ServiceAccountsPatched}")]
    private static partial void LogUnchanged(ILogger logger, string @namespace, string secretName, DateTimeOffset? expiresAt, int serviceAccountsPatched);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Refresh run: checked {Checked}, written {Written} (created {Created}, updated {Updated}), unchanged {Unchanged}, failed {Failed}, token requests {TokenRequests}, service accounts patched {ServiceAccountsPatched}, earliest expiry {EarliestExpiry}, {DurationSeconds:F1} s, deadline exceeded {DeadlineExceeded}")]
    private static partial void LogSummary(ILogger logger, int @checked, int written, int created, int updated, int unchanged, int failed,
        int tokenRequests, int serviceAccountsPatched, DateTimeOffset? earliestExpiry, double durationSeconds, bool deadlineExceeded);
}
