using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.References;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher;

/// <summary>The figures of one run, as the summary log line prints them.</summary>
internal sealed record RunSummary(int Checked, int Created, int Updated, int Unchanged, int Failed, int TokenRequests,
    int ServiceAccountsPatched, DateTimeOffset? EarliestExpiry, TimeSpan Duration, bool DeadlineExceeded)
{
    /// <summary>Attach-only targets whose secret exists (their service accounts name it now).</summary>
    public int Attached { get; init; }

    /// <summary>Attach-only targets skipped because their secret does not exist in the namespace.</summary>
    public int Skipped { get; init; }

    /// <summary>Targets never started because the run was asked to stop (SIGTERM): left as they were.</summary>
    public int NotStarted { get; init; }

    /// <summary>The run was asked to stop before it finished.</summary>
    public bool Stopped { get; init; }

    /// <summary>Service-account names this refresher had added and the configuration no longer wants, removed in this run.</summary>
    public int Detached { get; init; }

    /// <summary>Such names it could not remove (kept in the ledger for the next run); each is logged and recorded as an Event.</summary>
    public int DetachFailed { get; init; }

    public int Written => Created + Updated;

    public IReadOnlyList<TargetOutcome> Outcomes { get; init; } = [];
}

/// <summary>
/// One refresh run: resolves the target namespaces, refreshes every (namespace, secret) with bounded
/// parallelism under the run's deadline, records an Event for each failure and returns the summary.
/// A failure of one target, whatever it is (an API error, a malformed answer), is that target's outcome and
/// never ends the run. Cancelling the run's token (SIGTERM) stops new targets from starting; those already
/// started finish (their writes are not cut off) within <see cref="RefresherApp.ShutdownGrace"/>.
/// </summary>
internal sealed partial class RefreshRun(
    IKubeApi kubernetes,
    RefresherConfiguration options,
    IReadOnlyDictionary<string, ICredentialSource> sources,
    TimeProvider time,
    ILogger<RefreshRun> logger,
    RefresherMetrics metrics)
{
    /// <summary>How long a refused token request is retried as a cloud identity that may still be propagating (<c>--identity-wait</c>; zero: not at all).</summary>
    public TimeSpan IdentityWait { get; init; }

    public async Task<RunSummary> RunAsync(CancellationToken stop)
    {
        var started = time.GetTimestamp();
        var deadlineAfter = options.EffectiveDeadline;
        using var deadline = new CancellationTokenSource(deadlineAfter, time);
        // After a stop, what is in flight gets the grace period, then everything is cut.
        using var grace = new CancellationTokenSource();
        using var stopping = stop.Register(() => grace.CancelAfter(RefresherApp.ShutdownGrace));
        using var overall = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, grace.Token);
        // Work stops a little before the deadline so the failures can still be recorded as Events within it.
        var reserve = TimeSpan.FromTicks(Math.Min(deadlineAfter.Ticks / 10, TimeSpan.FromSeconds(5).Ticks));
        using var workDeadline = new CancellationTokenSource(deadlineAfter - reserve, time);
        using var work = CancellationTokenSource.CreateLinkedTokenSource(overall.Token, workDeadline.Token);
        using var admit = CancellationTokenSource.CreateLinkedTokenSource(work.Token, stop);

        var retry = new TransientRetry(options.EffectiveTransientRetries, options.EffectiveRetryBaseDelay, time);
        var hosts = options.Registries.ToDictionary(r => r.Key, r => RegistryHost.Parse(r.Server), StringComparer.Ordinal);
        var registries = options.Registries.ToDictionary(r => r.Key, r => (hosts[r.Key].Name, sources[r.Key]), StringComparer.Ordinal);
        var tokens = new TokenBroker(registries, retry, time, logger, work.Token, IdentityWait);
        var refresher = new SecretRefresher(kubernetes, tokens, retry, time, options.EffectiveRenewBefore, options.EffectiveConflictRetries);
        var events = new FailureEvents(kubernetes, time, logger);

        var outcomes = new List<TargetOutcome>();
        var jobs = new List<(string Namespace, TargetConfiguration Target)>();
        for (var i = 0; i < options.Targets.Count; i++)
        {
            var target = options.Targets[i];
            try
            {
                foreach (var ns in await ResolveNamespacesAsync(kubernetes, target, retry, admit.Token).ConfigureAwait(false))
                {
                    jobs.Add((ns, target));
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var message = $"targets[{i}] ({target.SecretName}): listing namespaces failed: {Describe(e, work.Token)}";
                LogTargetFailed(logger, "*", target.SecretName, "NamespaceListFailed", message);
                metrics.Failed("NamespaceListFailed");
                outcomes.Add(new TargetOutcome("*", target.SecretName, TargetResult.Failed, "NamespaceListFailed", message));
            }
        }

        // A fixed set of workers takes the targets in order: memory stays bounded by the concurrency, not by the number
        // of namespaces (a task per target made 10,000 namespaces cost tens of MiB before any of them was worked on).
        var results = new TargetOutcome[jobs.Count];
        var taken = -1;
        async Task WorkAsync()
        {
            for (var i = Interlocked.Increment(ref taken); i < jobs.Count; i = Interlocked.Increment(ref taken))
            {
                results[i] = await RefreshOneAsync(jobs[i].Namespace, jobs[i].Target, hosts, refresher, events, admit.Token, work.Token, overall.Token).ConfigureAwait(false);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Math.Min(options.EffectiveConcurrency, jobs.Count)).Select(_ => Task.Run(WorkAsync, CancellationToken.None))).ConfigureAwait(false);
        outcomes.AddRange(results);
        var (detached, detachFailed) = options.Ledger is { } ledger && !stop.IsCancellationRequested
            ? await ReconcileLedgerAsync(ledger, jobs, outcomes, refresher, retry, events, work.Token, overall.Token).ConfigureAwait(false)
            : (0, 0);

        metrics.TokensRequested(tokens.Requests);
        var earliest = tokens.Obtained.Select(t => t.Credential.ExpiresAt).Where(e => e.HasValue).Min()
            ?? outcomes.Where(o => o.Result is not (TargetResult.Failed or TargetResult.NotStarted)).Select(o => o.ExpiresAt).Where(e => e.HasValue).Min();
        metrics.Expiry(earliest);
        var summary = new RunSummary(
            Checked: outcomes.Count(o => o.Result != TargetResult.NotStarted),
            Created: outcomes.Count(o => o.Result == TargetResult.Created),
            Updated: outcomes.Count(o => o.Result == TargetResult.Updated),
            Unchanged: outcomes.Count(o => o.Result == TargetResult.Unchanged),
            Failed: outcomes.Count(o => o.Result == TargetResult.Failed),
            TokenRequests: tokens.Requests,
            ServiceAccountsPatched: outcomes.Sum(o => o.ServiceAccountsPatched),
            EarliestExpiry: earliest,
            Duration: time.GetElapsedTime(started),
            DeadlineExceeded: workDeadline.IsCancellationRequested || deadline.IsCancellationRequested)
        {
            Outcomes = outcomes,
            Attached = outcomes.Count(o => o.Result == TargetResult.Attached),
            Skipped = outcomes.Count(o => o.Result == TargetResult.Skipped),
            NotStarted = outcomes.Count(o => o.Result == TargetResult.NotStarted),
            Stopped = stop.IsCancellationRequested,
            Detached = detached,
            DetachFailed = detachFailed,
        };
        LogSummary(logger, summary.Checked, summary.Written, summary.Created, summary.Updated, summary.Unchanged, summary.Attached, summary.Skipped, summary.Failed,
            summary.NotStarted, summary.TokenRequests, summary.ServiceAccountsPatched, new UtcTime(summary.EarliestExpiry), summary.Duration.TotalSeconds,
            summary.DeadlineExceeded, summary.Stopped);
        return summary;
    }

    /// <summary>
    /// Records where the service accounts now name our secrets and removes the names the ledger lists that this
    /// configuration no longer wants. A target whose namespaces could not be listed keeps its entries (nothing is
    /// removed on a guess); a name that cannot be removed stays in the ledger for the next run.
    /// </summary>
    private async Task<(int Detached, int Failed)> ReconcileLedgerAsync(LedgerConfiguration configuration, List<(string Namespace, TargetConfiguration Target)> jobs,
        List<TargetOutcome> outcomes, SecretRefresher refresher, TransientRetry retry, FailureEvents events, CancellationToken work, CancellationToken overall)
    {
        var ledger = new AttachmentLedger(kubernetes, configuration, retry);
        try
        {
            await ledger.ReadAsync(work).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogLedgerFailed(logger, configuration.Namespace, configuration.Name, Describe(e, work));
            return (0, 0);
        }
        var wanted = jobs.SelectMany(j => j.Target.ServiceAccounts.Select(a => new Attachment(j.Namespace, a, j.Target.SecretName))).ToHashSet();
        var undecided = outcomes.Where(o => o.Namespace == "*").Select(o => o.SecretName).ToHashSet(StringComparer.Ordinal);
        var attached = outcomes.Where(o => o.Result is TargetResult.Created or TargetResult.Updated or TargetResult.Unchanged or TargetResult.Attached)
            .Select(o => (o.Namespace, o.SecretName)).ToHashSet();
        var entries = ledger.Entries.ToHashSet();
        entries.UnionWith(wanted.Where(w => attached.Contains((w.Namespace, w.SecretName))));
        int detached = 0, failed = 0;
        foreach (var entry in ledger.Entries.Where(e => !wanted.Contains(e) && !undecided.Contains(e.SecretName)).OrderBy(e => e.ToString(), StringComparer.Ordinal))
        {
            try
            {
                if (await refresher.DetachAsync(entry.Namespace, entry.ServiceAccount, entry.SecretName, work).ConfigureAwait(false) == DetachResult.Removed)
                {
                    detached++;
                    LogDetached(logger, entry.Namespace, entry.ServiceAccount, entry.SecretName);
                }
                entries.Remove(entry);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failed++;
                var message = e is TargetFailedException t ? t.Message : Describe(e, work);
                LogDetachFailed(logger, entry.Namespace, entry.ServiceAccount, entry.SecretName, message);
                await events.RecordAsync(entry.Namespace, "ServiceAccount", entry.ServiceAccount, "DetachFailed",
                    $"removing {entry.SecretName} from imagePullSecrets failed: {message}; kept in the ledger for the next run", overall).ConfigureAwait(false);
            }
        }
        try
        {
            await ledger.WriteAsync(entries, options.EffectiveConflictRetries, work).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogLedgerFailed(logger, configuration.Namespace, configuration.Name, Describe(e, work));
        }
        return (detached, failed);
    }

    private async Task<TargetOutcome> RefreshOneAsync(string ns, TargetConfiguration target, Dictionary<string, RegistryHost> hosts,
        SecretRefresher refresher, FailureEvents events, CancellationToken admit, CancellationToken work, CancellationToken overall)
    {
        var registries = options.Registries.Where(r => target.Registries.Count == 0 || target.Registries.Contains(r.Key))
            .Select(r => (r.Key, hosts[r.Key])).ToList();
        TargetOutcome outcome;
        if (admit.IsCancellationRequested && !work.IsCancellationRequested)
        {
            // Asked to stop before this target started: it is left exactly as it was, and the next run does it.
            return new TargetOutcome(ns, target.SecretName, TargetResult.NotStarted, "Stopped", $"secret {ns}/{target.SecretName}: not started, the run was asked to stop");
        }
        if (work.IsCancellationRequested)
        {
            outcome = new TargetOutcome(ns, target.SecretName, TargetResult.Failed, "DeadlineExceeded",
                $"secret {ns}/{target.SecretName}: the run's deadline was reached before it started", "Secret", target.SecretName);
            return await RecordAsync(outcome, target, events, overall).ConfigureAwait(false);
        }
        try
        {
            outcome = target.AttachOnly
                ? await refresher.AttachAsync(ns, target.SecretName, target.ServiceAccounts, work).ConfigureAwait(false)
                : await refresher.RefreshAsync(ns, target.SecretName, registries, target.ServiceAccounts, target.Owner, work).ConfigureAwait(false);
        }
        catch (TargetFailedException e)
        {
            outcome = new TargetOutcome(ns, target.SecretName, TargetResult.Failed, e.Reason, e.Message, e.Kind, e.Name);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything else (a malformed answer the client could not read, a dropped connection) fails this target only.
            var reason = e switch
            {
                OperationCanceledException when work.IsCancellationRequested => "DeadlineExceeded",
                _ when SecretRefresher.IsMalformedAnswer(e) => "MalformedResponse",
                _ => "ApiError",
            };
            outcome = new TargetOutcome(ns, target.SecretName, TargetResult.Failed, reason,
                $"secret {ns}/{target.SecretName}: {Describe(e, work)}", "Secret", target.SecretName);
        }
        return await RecordAsync(outcome, target, events, overall).ConfigureAwait(false);
    }

    private async Task<TargetOutcome> RecordAsync(TargetOutcome outcome, TargetConfiguration target, FailureEvents events, CancellationToken overall)
    {
        var ns = outcome.Namespace;
        switch (outcome.Result)
        {
            case TargetResult.Failed:
                LogTargetFailed(logger, ns, target.SecretName, outcome.Reason!, outcome.Message!);
                metrics.Failed(outcome.Reason!);
                await events.RecordAsync(ns, outcome.FailedKind ?? "Secret", outcome.FailedName ?? target.SecretName, "RefreshFailed",
                    $"{outcome.Reason}: {outcome.Message}", overall).ConfigureAwait(false);
                break;
            case TargetResult.Attached:
                metrics.Unchanged();
                LogAttached(logger, ns, target.SecretName, outcome.ServiceAccountsPatched);
                break;
            case TargetResult.Skipped:
                LogSkipped(logger, ns, target.SecretName, outcome.Message!);
                break;
            case TargetResult.Created or TargetResult.Updated:
                metrics.Written(outcome.Result == TargetResult.Created ? "create" : "update");
                LogWritten(logger, ns, target.SecretName, outcome.Result, new UtcTime(outcome.ExpiresAt), outcome.ServiceAccountsPatched);
                break;
            default:
                metrics.Unchanged();
                LogUnchanged(logger, ns, target.SecretName, new UtcTime(outcome.ExpiresAt), outcome.ServiceAccountsPatched);
                break;
        }
        return outcome;
    }

    /// <summary>
    /// The namespaces of a target: listed, or read page by page (<c>limit</c>/<c>continue</c>) from the API. A continue
    /// token that expired between two pages (410 Gone: etcd compacted the list's snapshot, after five to fifteen minutes)
    /// restarts the list from the first page, as kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks
    /// says a client that needs a consistent list must (the ledger decides what to detach from it), at most
    /// <see cref="ListRestarts"/> times.
    /// </summary>
    internal static async Task<IReadOnlyList<string>> ResolveNamespacesAsync(IKubeApi kubernetes, TargetConfiguration target, TransientRetry retry, CancellationToken ct)
    {
        if (target.Namespaces.Count > 0)
        {
            return target.Namespaces.Distinct(StringComparer.Ordinal).ToList();
        }
        var selector = target.AllNamespaces ? null : target.NamespaceSelector;
        var names = new List<string>();
        string? next = null;
        for (var restarts = 0; ;)
        {
            try
            {
                var page = await retry.RunAsync(c => kubernetes.ListNamespacesAsync(selector, NamespacePageSize, next, c), ct).ConfigureAwait(false);
                names.AddRange(page.Items.Where(n => n.Status?.Phase != "Terminating").Select(n => n.Metadata?.Name).OfType<string>());
                next = page.Metadata?.ContinueProperty;
                if (string.IsNullOrEmpty(next))
                {
                    return names;
                }
            }
            catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Gone && next is not null && restarts < ListRestarts)
            {
                restarts++;
                names.Clear();
                next = null;
            }
        }
    }

    /// <summary>How often a namespace list whose continue token expired is started again before the target fails.</summary>
    internal const int ListRestarts = 3;

    /// <summary>Namespaces per LIST page: the API server's own chunk size for kubectl (500), a few hundred KB a page.</summary>
    internal const int NamespacePageSize = 500;

    private static string Describe(Exception e, CancellationToken work) => e switch
    {
        OperationCanceledException when work.IsCancellationRequested => "the run's deadline was reached before it finished",
        OperationCanceledException => "request timed out",
        KubeApiException h => $"HTTP {((int)h.StatusCode).ToString(CultureInfo.InvariantCulture)}",
        KubeCredentialException k => k.Message,
        HttpRequestException h => $"connection failed ({h.HttpRequestError})",
        _ when SecretRefresher.IsMalformedAnswer(e) => "the API server's answer could not be read (malformed or truncated JSON, or data that is not base64)",
        _ => e.GetType().Name,
    };

    [LoggerMessage(EventId = 20, Level = LogLevel.Error, Message = "Refresh of secret {Namespace}/{SecretName} failed: {Reason}: {Detail}")]
    private static partial void LogTargetFailed(ILogger logger, string @namespace, string secretName, string reason, string detail);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Secret {Namespace}/{SecretName} {Result}, expires {ExpiresAt}, service accounts patched {ServiceAccountsPatched}")]
    private static partial void LogWritten(ILogger logger, string @namespace, string secretName, TargetResult result, UtcTime expiresAt, int serviceAccountsPatched);

    [LoggerMessage(EventId = 22, Level = LogLevel.Debug, Message = "Secret {Namespace}/{SecretName} unchanged, expires {ExpiresAt}, service accounts patched {ServiceAccountsPatched}")]
    private static partial void LogUnchanged(ILogger logger, string @namespace, string secretName, UtcTime expiresAt, int serviceAccountsPatched);

    [LoggerMessage(EventId = 23, Level = LogLevel.Information, Message = "Secret {Namespace}/{SecretName} attached (attach only), service accounts patched {ServiceAccountsPatched}")]
    private static partial void LogAttached(ILogger logger, string @namespace, string secretName, int serviceAccountsPatched);

    [LoggerMessage(EventId = 24, Level = LogLevel.Information, Message = "Secret {Namespace}/{SecretName} skipped (attach only): {Detail}")]
    private static partial void LogSkipped(ILogger logger, string @namespace, string secretName, string detail);

    [LoggerMessage(EventId = 25, Level = LogLevel.Information, Message = "Service account {Namespace}/{ServiceAccount}: {SecretName} removed from imagePullSecrets (no longer configured)")]
    private static partial void LogDetached(ILogger logger, string @namespace, string serviceAccount, string secretName);

    [LoggerMessage(EventId = 26, Level = LogLevel.Warning, Message = "Service account {Namespace}/{ServiceAccount}: removing {SecretName} failed: {Detail}; kept in the ledger")]
    private static partial void LogDetachFailed(ILogger logger, string @namespace, string serviceAccount, string secretName, string detail);

    [LoggerMessage(EventId = 27, Level = LogLevel.Warning, Message = "Attachment ledger {Namespace}/{Name} could not be read or written: {Detail}")]
    private static partial void LogLedgerFailed(ILogger logger, string @namespace, string name, string detail);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Refresh run: checked {Checked}, written {Written} (created {Created}, updated {Updated}), unchanged {Unchanged}, attached {Attached}, skipped {Skipped}, failed {Failed}, not started {NotStarted}, token requests {TokenRequests}, service accounts patched {ServiceAccountsPatched}, earliest expiry {EarliestExpiry}, {DurationSeconds:F1} s, deadline exceeded {DeadlineExceeded}, stopped {Stopped}")]
    private static partial void LogSummary(ILogger logger, int @checked, int written, int created, int updated, int unchanged, int attached, int skipped, int failed,
        int notStarted, int tokenRequests, int serviceAccountsPatched, UtcTime earliestExpiry, double durationSeconds, bool deadlineExceeded, bool stopped);
}

/// <summary>A time in log lines: ISO 8601 in UTC (the invariant culture's default text is month-first), or "unknown".</summary>
internal readonly record struct UtcTime(DateTimeOffset? At)
{
    public override string ToString() => At?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "unknown";
}
