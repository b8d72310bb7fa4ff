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

    /// <summary>Named service accounts that did not exist (skipped with a Normal Event, attached once they exist).</summary>
    public int MissingServiceAccounts { get; init; }

    /// <summary>Namespaces that left a selection and lost our secret there.</summary>
    public int Pruned { get; init; }

    /// <summary>The requests this run made to the API server.</summary>
    public ApiLoad Requests { get; init; } = ApiLoad.None;

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

        var counting = new CountingKubeApi(kubernetes);
        var retry = new TransientRetry(options.EffectiveTransientRetries, options.EffectiveRetryBaseDelay, time);
        var hosts = options.Registries.ToDictionary(r => r.Key, r => RegistryHost.Parse(r.Server), StringComparer.Ordinal);
        var registries = options.Registries.ToDictionary(r => r.Key, r => (hosts[r.Key].Name, sources[r.Key]), StringComparer.Ordinal);
        var tokens = new TokenBroker(registries, retry, time, logger, work.Token, IdentityWait);
        var refresher = new SecretRefresher(counting, tokens, retry, time, options.EffectiveRenewBefore, options.EffectiveConflictRetries);
        var events = new FailureEvents(counting, time, logger);
        var reconciler = new NamespaceReconciler(counting, options, refresher, events, retry, logger, metrics);

        var outcomes = new List<TargetOutcome>();
        var jobs = new List<(string Namespace, TargetConfiguration Target)>();
        // Namespaces a selector target could not list, or that are being deleted: nothing is pruned there on a guess.
        var undecided = new HashSet<string>(StringComparer.Ordinal);
        var terminating = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Targets.Count; i++)
        {
            var target = options.Targets[i];
            try
            {
                foreach (var ns in await ResolveNamespacesAsync(counting, target, retry, admit.Token, terminating).ConfigureAwait(false))
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
                undecided.Add(target.SecretName);
            }
        }

        // A fixed set of workers takes the targets in order: memory stays bounded by the concurrency, not by the number
        // of namespaces (a task per target made 10,000 namespaces cost tens of MiB before any of them was worked on).
        async Task<TargetOutcome[]> WorkAsync<T>(IReadOnlyList<T> items, Func<T, Task<TargetOutcome>> one)
        {
            var results = new TargetOutcome[items.Count];
            var taken = -1;
            async Task WorkerAsync()
            {
                for (var i = Interlocked.Increment(ref taken); i < items.Count; i = Interlocked.Increment(ref taken))
                {
                    results[i] = await one(items[i]).ConfigureAwait(false);
                }
            }
            await Task.WhenAll(Enumerable.Range(0, Math.Min(options.EffectiveConcurrency, items.Count)).Select(_ => Task.Run(WorkerAsync, CancellationToken.None))).ConfigureAwait(false);
            return results;
        }
        outcomes.AddRange(await WorkAsync(jobs, j => reconciler.ReconcileTargetAsync(j.Namespace, j.Target, admit.Token, work.Token, overall.Token)).ConfigureAwait(false));

        if (!stop.IsCancellationRequested && reconciler.PrunableNames() is { Count: > 0 } prunable)
        {
            var prunes = await PruneCandidatesAsync(counting, retry, prunable, jobs, undecided, terminating, outcomes, work.Token).ConfigureAwait(false);
            outcomes.AddRange(await WorkAsync(prunes, p => reconciler.PruneAsync(p.NamespaceProperty ?? "", p.Name ?? "", p, work.Token, overall.Token)).ConfigureAwait(false));
        }
        var (detached, detachFailed) = options.Ledger is { } ledger && !stop.IsCancellationRequested
            ? await ReconcileLedgerAsync(counting, ledger, jobs, terminating, outcomes, refresher, retry, events, work.Token, overall.Token).ConfigureAwait(false)
            : (0, 0);

        metrics.TokensRequested(tokens.Requests);
        var earliest = tokens.Obtained.Select(t => t.Credential.ExpiresAt).Where(e => e.HasValue).Min()
            ?? outcomes.Where(o => o.Result is not (TargetResult.Failed or TargetResult.NotStarted)).Select(o => o.ExpiresAt).Where(e => e.HasValue).Min();
        metrics.Expiry(earliest);
        var summary = new RunSummary(
            Checked: outcomes.Count(o => o.Result is not (TargetResult.NotStarted or TargetResult.Pruned) && o.Reason is not ("NotOurs" or "ChangedSinceListed")),
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
            Detached = detached + outcomes.Sum(o => o.ServiceAccountsDetached),
            DetachFailed = detachFailed,
            MissingServiceAccounts = outcomes.Sum(o => o.MissingServiceAccounts.Count),
            Pruned = outcomes.Count(o => o.Result == TargetResult.Pruned),
            Requests = counting.Load(),
        };
        LogSummary(logger, summary.Checked, summary.Written, summary.Created, summary.Updated, summary.Unchanged, summary.Attached, summary.Skipped, summary.Failed,
            summary.NotStarted, summary.TokenRequests, summary.ServiceAccountsPatched, new UtcTime(summary.EarliestExpiry), summary.Duration.TotalSeconds,
            summary.DeadlineExceeded, summary.Stopped, summary.MissingServiceAccounts, summary.Pruned, summary.Requests.Total, summary.Requests.KindsText,
            summary.Requests.MaxPerNamespace, summary.Requests.MeanPerNamespace);
        return summary;
    }

    /// <summary>
    /// Records where the service accounts now name our secrets and removes the names the ledger lists that this
    /// configuration no longer wants. A target whose namespaces could not be listed keeps its entries (nothing is
    /// removed on a guess); a name that cannot be removed stays in the ledger for the next run.
    /// </summary>
    private async Task<(int Detached, int Failed)> ReconcileLedgerAsync(IKubeApi api, LedgerConfiguration configuration, List<(string Namespace, TargetConfiguration Target)> jobs,
        HashSet<string> terminating, List<TargetOutcome> outcomes, SecretRefresher refresher, TransientRetry retry, FailureEvents events, CancellationToken work, CancellationToken overall)
    {
        var ledger = new AttachmentLedger(api, configuration, retry);
        try
        {
            await ledger.ReadAsync(work).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogLedgerFailed(logger, configuration.Namespace, configuration.Name, Describe(e, work));
            return (0, 0);
        }
        // The ledger keeps listed targets' named accounts one by one. Any other target is kept as a scope instead
        // (<see cref="Attachment.ScopesOf"/>): its namespace when listed, "*" when it selects namespaces, with its account
        // names when it names them. While the scope is configured, the reconcile itself removes our names where accounts or
        // namespaces leave (pruning, and accounts relabelled out of the selector); once no target has it, one sweep of the
        // scope's accounts removes every name of ours that no target still chooses.
        var wanted = jobs.Where(j => IsLedgerTarget(j.Target))
            .SelectMany(j => j.Target.ServiceAccounts.Select(a => new Attachment(j.Namespace, a, j.Target.SecretName))).ToHashSet();
        var listFailed = outcomes.Where(o => o.Namespace == "*").Select(o => o.SecretName).ToHashSet(StringComparer.Ordinal);
        var undecided = listFailed.Concat(options.Targets.Where(t => !IsLedgerTarget(t)).Select(t => t.SecretName)).ToHashSet(StringComparer.Ordinal);
        var scopes = options.Targets.SelectMany(Attachment.ScopesOf).ToHashSet();
        // A target that selects namespaces and only attaches leaves no Secret of ours where a namespace leaves its selection
        // (pruning follows our labelled Secrets, and there are none): each namespace it selects is kept as a scope of its own,
        // and one that no target selects any more is swept like the scope of a removed target (our names go, theirs stay).
        var selected = jobs.Where(j => j.Target.SelectsNamespaces && j.Target.AttachOnly).Select(j => new Attachment(j.Namespace, Attachment.Any, j.Target.SecretName)).ToHashSet();
        scopes.UnionWith(selected);
        var attached = outcomes.Where(o => o.Result is TargetResult.Created or TargetResult.Updated or TargetResult.Unchanged or TargetResult.Attached)
            .Select(o => (o.Namespace, o.SecretName)).ToHashSet();
        var entries = ledger.Entries.ToHashSet();
        entries.UnionWith(wanted.Where(w => attached.Contains((w.Namespace, w.SecretName))));
        entries.UnionWith(scopes);
        // A ConfigMap holds at most 1 MiB (etcd's request limit is 1.5 MiB): past LedgerBudget the namespaces an attach-only
        // selection newly took are not recorded (those recorded stay, and watch mode still detaches on a relabel), with a warning.
        if (entries.Sum(e => e.ToString().Length + 1) > LedgerBudget
            && selected.Where(a => !ledger.Entries.Contains(a) && !options.Targets.Any(t => Attachment.ScopesOf(t).Contains(a))).ToList() is { Count: > 0 } unrecorded)
        {
            entries.ExceptWith(unrecorded);
            LogLedgerFull(logger, configuration.Namespace, configuration.Name, unrecorded.Count, Math.Max(1, LedgerBudget / 1024));
        }
        int detached = 0, failed = 0;
        foreach (var entry in ledger.Entries.Where(e => !e.IsScope && !wanted.Contains(e) && !undecided.Contains(e.SecretName)).OrderBy(e => e.ToString(), StringComparer.Ordinal))
        {
            if (await DetachOneAsync(refresher, events, entry.Namespace, entry.ServiceAccount, entry.SecretName, null, work, overall).ConfigureAwait(false) is { } removed)
            {
                detached += removed ? 1 : 0;
                entries.Remove(entry);
            }
            else
            {
                failed++;
            }
        }
        // Not in a namespace being deleted (its accounts go with it), nor for a secret whose namespaces could not be listed.
        var sweeps = ledger.Entries.Where(e => e.IsScope && !scopes.Contains(e) && !listFailed.Contains(e.SecretName) && !terminating.Contains(e.Namespace))
            .OrderBy(e => e.ToString(), StringComparer.Ordinal).ToList();
        if (sweeps.Count > 0)
        {
            // Which targets still choose accounts where: by namespace and secret name, from this run's namespaces.
            var choices = jobs.GroupBy(j => (j.Namespace, j.Target.SecretName))
                .ToDictionary(g => g.Key, g => g.Select(j => AccountChoice.For(j.Target)).ToList());
            // Cluster-wide scopes sort first ("*" before any name): once one is swept for a secret, every other scope of that
            // secret is covered (the same accounts, the same choices) and leaves the ledger without a LIST of its own.
            var sweptClusterWide = new HashSet<string>(StringComparer.Ordinal);
            foreach (var scope in sweeps)
            {
                if (sweptClusterWide.Contains(scope.SecretName))
                {
                    entries.Remove(scope);
                    continue;
                }
                var (swept, sweepFailed, abandoned) = await SweepAsync(api, scope, (ns, account) => choices.TryGetValue((ns, scope.SecretName), out var c) && c.Any(x => x.Wants(account)),
                    refresher, events, retry, work, overall).ConfigureAwait(false);
                detached += swept;
                failed += sweepFailed;
                if (sweepFailed == 0)
                {
                    entries.Remove(scope);
                    if (scope.Namespace == Attachment.Any && !abandoned)
                    {
                        sweptClusterWide.Add(scope.SecretName);
                    }
                }
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

    /// <summary>Removes one name of ours from one account: true removed, false not there or not ours, null failed (logged, an Event, kept for the next run).</summary>
    private async Task<bool?> DetachOneAsync(SecretRefresher refresher, FailureEvents events, string ns, string account, string secretName, V1ServiceAccount? listed,
        CancellationToken work, CancellationToken overall)
    {
        try
        {
            if (await refresher.DetachAsync(ns, account, secretName, work, listed).ConfigureAwait(false) == DetachResult.Removed)
            {
                LogDetached(logger, ns, account, secretName);
                return true;
            }
            return false;
        }
        catch (TargetFailedException e) when (e.Reason == "Forbidden" && !Reaches(ns))
        {
            LogDetachAbandoned(logger, ns, account, secretName, SecretRefresher.AddedPullSecretsAnnotation);
            return false;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var message = e is TargetFailedException t ? t.Message : Describe(e, work);
            LogDetachFailed(logger, ns, account, secretName, message);
            await events.RecordAsync(ns, "ServiceAccount", account, "DetachFailed",
                $"removing {secretName} from imagePullSecrets failed: {message}; kept in the ledger for the next run", overall).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>
    /// One scope no target has any more: its accounts (one namespace, or the cluster) listed page by
    /// page, and every one that records <see cref="Attachment.SecretName"/> as added by us and that no target still chooses
    /// loses it. A LIST that fails fails the whole sweep (the scope stays in the ledger for the next run), except a LIST
    /// refused where no target of the configuration reaches any more (<see cref="Reaches"/>): that scope is abandoned.
    /// </summary>
    private async Task<(int Detached, int Failed, bool Abandoned)> SweepAsync(IKubeApi api, Attachment scope, Func<string, V1ServiceAccount, bool> stillChosen,
        SecretRefresher refresher, FailureEvents events, TransientRetry retry, CancellationToken work, CancellationToken overall)
    {
        var ours = new List<V1ServiceAccount>();
        try
        {
            string? next = null;
            for (var restarts = 0; ;)
            {
                try
                {
                    var page = await retry.RunAsync(c => scope.Namespace == Attachment.Any
                        ? api.ListAllServiceAccountsAsync(SecretRefresher.ServiceAccountPageSize, next, c)
                        : api.ListServiceAccountsAsync(scope.Namespace, null, SecretRefresher.ServiceAccountPageSize, next, c), work).ConfigureAwait(false);
                    ours.AddRange(page.Items.Where(a => a.Metadata is { Name: not null, NamespaceProperty: not null } m
                        && SecretOwnership.List(m.Annotations?.GetValueOrDefault(SecretRefresher.AddedPullSecretsAnnotation)).Contains(scope.SecretName)
                        && !stillChosen(m.NamespaceProperty, a)));
                    next = page.Metadata?.ContinueProperty;
                    if (string.IsNullOrEmpty(next))
                    {
                        break;
                    }
                }
                catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Gone && next is not null && restarts < ListRestarts)
                {
                    restarts++;
                    ours.Clear();
                    next = null;
                }
            }
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Forbidden && !Reaches(scope.Namespace))
        {
            LogSweepAbandoned(logger, scope.Namespace, scope.SecretName, SecretRefresher.AddedPullSecretsAnnotation);
            return (0, 0, true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogSweepFailed(logger, scope.Namespace, scope.SecretName, Describe(e, work));
            return (0, 1, false);
        }
        int detached = 0, failed = 0;
        foreach (var account in ours)
        {
            switch (await DetachOneAsync(refresher, events, account.Metadata!.NamespaceProperty!, account.Metadata.Name!, scope.SecretName, account, work, overall).ConfigureAwait(false))
            {
                case true:
                    detached++;
                    break;
                case null:
                    failed++;
                    break;
            }
        }
        return (detached, failed, false);
    }

    /// <summary>The most the ledger's text may hold, in characters: half of a ConfigMap's 1 MiB, for headroom (tests set less).</summary>
    internal int LedgerBudget { get; init; } = DefaultLedgerBudget;

    internal const int DefaultLedgerBudget = 512 * 1024;

    /// <summary>
    /// Whether a target of this configuration still gives the refresher rights in <paramref name="ns"/> (<c>*</c>: across
    /// the cluster): the component grants a namespace's rights with a Role while a target lists it, and the cluster's with
    /// the ClusterRole while a target selects namespaces. A 403 anywhere else is for good (the Role went with the target,
    /// after a run that could not finish the detach), so the ledger stops retrying there instead of failing every run.
    /// </summary>
    private bool Reaches(string ns) => options.Targets.Any(t => t.SelectsNamespaces || (ns != Attachment.Any && t.Namespaces.Contains(ns, StringComparer.Ordinal)));

    private static bool IsLedgerTarget(TargetConfiguration target) => !target.SelectsNamespaces && !target.SelectsServiceAccounts;

    /// <summary>
    /// Our secrets in namespaces that left their selection, found by ONE cluster-wide LIST of secret metadata by our instance
    /// label, page by page (a 410 restarts it, as for namespaces): never a request per namespace. Only the candidates are kept.
    /// </summary>
    private async Task<List<V1ObjectMeta>> PruneCandidatesAsync(CountingKubeApi api, TransientRetry retry, IReadOnlySet<string> prunable,
        List<(string Namespace, TargetConfiguration Target)> jobs, HashSet<string> undecided, HashSet<string> terminating, List<TargetOutcome> outcomes,
        CancellationToken ct)
    {
        var wanted = jobs.Select(j => (j.Namespace, j.Target.SecretName)).ToHashSet();
        var candidates = new List<V1ObjectMeta>();
        string? next = null;
        var selector = $"{RefresherConfiguration.InstanceLabel}={options.Instance}";
        try
        {
            for (var restarts = 0; ;)
            {
                try
                {
                    var page = await retry.RunAsync(c => api.ListSecretMetadataAsync(selector, NamespacePageSize, next, c), ct).ConfigureAwait(false);
                    candidates.AddRange(page.Items.Select(i => i.Metadata).OfType<V1ObjectMeta>().Where(m => m.Name is { } name && m.NamespaceProperty is { } ns
                        && prunable.Contains(name) && !undecided.Contains(name) && !terminating.Contains(ns) && !wanted.Contains((ns, name))));
                    next = page.Metadata?.ContinueProperty;
                    if (string.IsNullOrEmpty(next))
                    {
                        return candidates;
                    }
                }
                catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Gone && next is not null && restarts < ListRestarts)
                {
                    restarts++;
                    candidates.Clear();
                    next = null;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var names = string.Join(',', prunable.Order(StringComparer.Ordinal));
            var message = $"listing secrets labelled {selector} failed: {Describe(e, ct)}; nothing pruned this run";
            LogTargetFailed(logger, "*", names, "SecretListFailed", message);
            metrics.Failed("SecretListFailed");
            outcomes.Add(new TargetOutcome("*", names, TargetResult.Failed, "SecretListFailed", message));
            return [];
        }
    }

    /// <summary>
    /// The namespaces of a target: listed, or read page by page (<c>limit</c>/<c>continue</c>) from the API. A continue
    /// token that expired between two pages (410 Gone: etcd compacted the list's snapshot, after five to fifteen minutes)
    /// restarts the list from the first page, as kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks
    /// says a client that needs a consistent list must (the ledger decides what to detach from it), at most
    /// <see cref="ListRestarts"/> times.
    /// </summary>
    internal static async Task<IReadOnlyList<string>> ResolveNamespacesAsync(IKubeApi kubernetes, TargetConfiguration target, TransientRetry retry, CancellationToken ct,
        ISet<string>? terminating = null)
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
                foreach (var item in page.Items)
                {
                    if (item.Metadata?.Name is not { } name)
                    {
                        continue;
                    }
                    if (item.Status?.Phase == "Terminating")
                    {
                        terminating?.Add(name);
                    }
                    else if (!NamespaceReconciler.IsExcluded(target, name))
                    {
                        names.Add(name);
                    }
                }
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

    private static string Describe(Exception e, CancellationToken work) => NamespaceReconciler.Describe(e, work);

    [LoggerMessage(EventId = 20, Level = LogLevel.Error, Message = "Refresh of secret {Namespace}/{SecretName} failed: {Reason}: {Detail}")]
    private static partial void LogTargetFailed(ILogger logger, string @namespace, string secretName, string reason, string detail);

    [LoggerMessage(EventId = 25, Level = LogLevel.Information, Message = "Service account {Namespace}/{ServiceAccount}: {SecretName} removed from imagePullSecrets (no longer configured)")]
    private static partial void LogDetached(ILogger logger, string @namespace, string serviceAccount, string secretName);

    [LoggerMessage(EventId = 26, Level = LogLevel.Warning, Message = "Service account {Namespace}/{ServiceAccount}: removing {SecretName} failed: {Detail}; kept in the ledger")]
    private static partial void LogDetachFailed(ILogger logger, string @namespace, string serviceAccount, string secretName, string detail);

    [LoggerMessage(EventId = 34, Level = LogLevel.Warning, Message = "Ledger {Namespace}/{Name} is full ({BudgetKiB} KiB): {Count} namespaces taken by attach-only selections are not recorded, so the CronJob cannot remove our names there if they leave the selection (watch mode still does on the relabel)")]
    private static partial void LogLedgerFull(ILogger logger, string @namespace, string name, int count, int budgetKiB);

    [LoggerMessage(EventId = 35, Level = LogLevel.Warning, Message = "Sweep of the service accounts of {Scope} for {SecretName} refused (HTTP 403), and no target of the configuration reaches there any more: dropped from the ledger; accounts whose {Annotation} annotation lists {SecretName} may still name it (remove it by hand)")]
    private static partial void LogSweepAbandoned(ILogger logger, string scope, string secretName, string annotation);

    [LoggerMessage(EventId = 36, Level = LogLevel.Warning, Message = "Service account {Namespace}/{ServiceAccount}: removing {SecretName} refused (HTTP 403), and no target of the configuration reaches {Namespace} any more: dropped from the ledger; the account may still name it (its {Annotation} annotation says so; remove it by hand)")]
    private static partial void LogDetachAbandoned(ILogger logger, string @namespace, string serviceAccount, string secretName, string annotation);

    [LoggerMessage(EventId = 33, Level = LogLevel.Warning, Message = "Sweep of the service accounts of {Scope} for {SecretName} (no target has that scope any more) failed: {Detail}; kept in the ledger")]
    private static partial void LogSweepFailed(ILogger logger, string scope, string secretName, string detail);

    [LoggerMessage(EventId = 27, Level = LogLevel.Warning, Message = "Attachment ledger {Namespace}/{Name} could not be read or written: {Detail}")]
    private static partial void LogLedgerFailed(ILogger logger, string @namespace, string name, string detail);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Refresh run: checked {Checked}, written {Written} (created {Created}, updated {Updated}), unchanged {Unchanged}, attached {Attached}, skipped {Skipped}, failed {Failed}, not started {NotStarted}, token requests {TokenRequests}, service accounts patched {ServiceAccountsPatched}, earliest expiry {EarliestExpiry}, {DurationSeconds:F1} s, deadline exceeded {DeadlineExceeded}, stopped {Stopped}, service accounts missing {MissingServiceAccounts}, pruned {Pruned}, requests {Requests} ({RequestsByKind}), requests per namespace max {RequestsPerNamespaceMax} mean {RequestsPerNamespaceMean:F2}")]
    private static partial void LogSummary(ILogger logger, int @checked, int written, int created, int updated, int unchanged, int attached, int skipped, int failed,
        int notStarted, int tokenRequests, int serviceAccountsPatched, UtcTime earliestExpiry, double durationSeconds, bool deadlineExceeded, bool stopped,
        int missingServiceAccounts, int pruned, int requests, string requestsByKind, int requestsPerNamespaceMax, double requestsPerNamespaceMean);
}

/// <summary>A time in log lines: ISO 8601 in UTC (the invariant culture's default text is month-first), or "unknown".</summary>
internal readonly record struct UtcTime(DateTimeOffset? At)
{
    public override string ToString() => At?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "unknown";
}
