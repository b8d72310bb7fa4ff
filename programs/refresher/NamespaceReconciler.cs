using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Kubernetes;
using RegistryInfra.Core.References;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher;

/// <summary>
/// Everything the refresher does for one namespace, shared by the CronJob run (<see cref="RefreshRun"/>, which finds the
/// namespaces by LIST) and the watch mode (which calls <see cref="ReconcileAsync"/> as namespace and service-account events
/// arrive): for every target that selects the namespace, write (token), copy (source) or attach (attachOnly) its secret and
/// make the chosen service accounts name it; for every selector target that no longer selects it, prune ours.
/// </summary>
/// <remarks>
/// What is read once and kept (per run in CronJob mode, until <see cref="ResetRunState"/> in watch mode): each copy
/// target's source Secret and each cluster owner's uid. A failure of one target is that target's outcome, recorded as a
/// Warning Event on the object it is about; a named service account that does not exist is skipped with a Normal Event
/// (reason <see cref="ServiceAccountMissingReason"/>) and attached by the first reconcile that finds it.
/// </remarks>
internal sealed partial class NamespaceReconciler
{
    public const string ServiceAccountMissingReason = "ServiceAccountMissing";

    private readonly IKubeApi _kubernetes;
    private readonly RefresherConfiguration _options;
    private readonly SecretRefresher _refresher;
    private readonly FailureEvents _events;
    private readonly TransientRetry _retry;
    private readonly ILogger _logger;
    private readonly RefresherMetrics _metrics;
    private readonly Dictionary<string, RegistryHost> _hosts;
    private readonly Selector?[] _namespaceSelectors;
    private ConcurrentDictionary<string, Lazy<Task<CopySource>>> _sources = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, Lazy<Task<SecretOwner?>>> _clusterOwners = new(StringComparer.Ordinal);

    public NamespaceReconciler(IKubeApi kubernetes, RefresherConfiguration options, SecretRefresher refresher, FailureEvents events, TransientRetry retry,
        ILogger logger, RefresherMetrics metrics)
    {
        _kubernetes = kubernetes;
        _options = options;
        _refresher = refresher;
        _events = events;
        _retry = retry;
        _logger = logger;
        _metrics = metrics;
        _hosts = options.Registries.ToDictionary(r => r.Key, r => RegistryHost.Parse(r.Server), StringComparer.Ordinal);
        // The configuration was validated: a selector that does not parse never reaches here.
        _namespaceSelectors = [.. options.Targets.Select(t => !string.IsNullOrWhiteSpace(t.NamespaceSelector) && Selector.TryParse(t.NamespaceSelector, out var s, out _) ? s : null)];
    }

    /// <summary>The labels a secret of <paramref name="target"/> carries: the instance label for a selector or all-namespaces target.</summary>
    public IReadOnlyDictionary<string, string> LabelsOf(TargetConfiguration target) =>
        target.SelectsNamespaces && _options.Instance is { Length: > 0 } instance
            ? new Dictionary<string, string>(StringComparer.Ordinal) { [RefresherConfiguration.InstanceLabel] = instance }
            : new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Forgets the sources and owner uids read so far (watch mode: before a resync).</summary>
    public void ResetRunState()
    {
        _sources = new(StringComparer.Ordinal);
        _clusterOwners = new(StringComparer.Ordinal);
    }

    /// <summary>Forgets one source Secret read so far (watch mode: its data changed), so the next reconciliation reads it again.</summary>
    public void ForgetSource(SecretSourceConfiguration source) => _sources.TryRemove($"{source.Namespace}/{source.Name}", out _);

    /// <summary>
    /// Whether <paramref name="target"/> covers <paramref name="ns"/>: listed by name, or (not Terminating) matched by its
    /// selector or taken as one of all, and not excluded.
    /// </summary>
    public bool Selects(TargetConfiguration target, V1Namespace ns)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(ns);
        var name = ns.Metadata?.Name;
        if (name is null)
        {
            return false;
        }
        if (target.Namespaces.Count > 0)
        {
            return target.Namespaces.Contains(name, StringComparer.Ordinal);
        }
        if (ns.Status?.Phase == "Terminating" || IsExcluded(target, name))
        {
            return false;
        }
        if (target.AllNamespaces)
        {
            return true;
        }
        var index = IndexOf(target);
        var selector = index >= 0 ? _namespaceSelectors[index] : Selector.TryParse(target.NamespaceSelector, out var parsed, out _) ? parsed : null;
        return selector is not null && selector.Matches(ns.Metadata?.Labels);
    }

    /// <summary>Whether one of the target's <c>excludeNamespaces</c> entries matches <paramref name="name"/>.</summary>
    public static bool IsExcluded(TargetConfiguration target, string name) => NamespacePatterns.MatchesAny(target.ExcludeNamespaces, name);

    private int IndexOf(TargetConfiguration target)
    {
        for (var i = 0; i < _options.Targets.Count; i++)
        {
            if (ReferenceEquals(_options.Targets[i], target))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// Everything for one namespace: each target that selects it is reconciled; each selector target that does not has
    /// our secret there (read by name: one request) pruned. The outcomes are those of the targets that did something.
    /// </summary>
    public async Task<IReadOnlyList<TargetOutcome>> ReconcileAsync(V1Namespace ns, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var name = ns.Metadata?.Name ?? throw new ArgumentException("a namespace without a name", nameof(ns));
        var outcomes = new List<TargetOutcome>();
        var selected = _options.Targets.Where(t => Selects(t, ns)).ToList();
        foreach (var target in selected)
        {
            outcomes.Add(await ReconcileTargetAsync(name, target, ct, ct, ct).ConfigureAwait(false));
        }
        if (ns.Status?.Phase == "Terminating")
        {
            return outcomes;
        }
        var wanted = selected.Select(t => t.SecretName).ToHashSet(StringComparer.Ordinal);
        foreach (var secretName in PrunableNames().Where(n => !wanted.Contains(n)))
        {
            V1ObjectMeta secret;
            try
            {
                secret = await _retry.RunAsync(c => _kubernetes.ReadSecretMetadataAsync(name, secretName, c), ct).ConfigureAwait(false);
            }
            catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                continue;
            }
            if (secret.Labels?.GetValueOrDefault(RefresherConfiguration.InstanceLabel) == _options.Instance)
            {
                outcomes.Add(await PruneAsync(name, secretName, secret, ct, ct).ConfigureAwait(false));
            }
        }
        // An attach-only target that selects namespaces leaves no Secret of ours to prune here: where the namespace is no
        // longer selected for its secret, the names we added to its accounts go (theirs stay). The watch loop reconciles a
        // namespace only when it is or was selected and its labels or phase changed, so this LIST runs on a relabel, not per
        // event; a full run does the same through its ledger (RefreshRun.ReconcileLedgerAsync).
        foreach (var secretName in _options.Targets.Where(t => t.SelectsNamespaces && t.AttachOnly).Select(t => t.SecretName)
            .Where(n => !wanted.Contains(n)).Distinct(StringComparer.Ordinal))
        {
            try
            {
                var detached = await _refresher.DetachAllAsync(name, secretName, ct).ConfigureAwait(false);
                if (detached > 0)
                {
                    outcomes.Add(new TargetOutcome(name, secretName, TargetResult.Unchanged, "LeftSelection") { ServiceAccountsDetached = detached });
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && ct.IsCancellationRequested))
            {
                var message = e is TargetFailedException t ? t.Message : Describe(e, ct);
                outcomes.Add(new TargetOutcome(name, secretName, TargetResult.Failed, "DetachFailed",
                    $"removing {secretName} from the service accounts of {name}, which left the selection, failed: {message}; the next full run tries again"));
            }
        }
        return outcomes;
    }

    /// <summary>The secret names a namespace that leaves the selection may lose: those of selector and all-namespaces targets (with an instance to tell ours).</summary>
    public IReadOnlySet<string> PrunableNames() => _options.Instance is { Length: > 0 }
        ? _options.Targets.Where(t => t.SelectsNamespaces && !t.AttachOnly).Select(t => t.SecretName).ToHashSet(StringComparer.Ordinal)
        : new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// One target in one namespace: <paramref name="admit"/> cancelled (a stop) leaves it not started, <paramref name="work"/>
    /// cancelled (the deadline) fails it, <paramref name="overall"/> bounds the recording of its Events.
    /// </summary>
    public async Task<TargetOutcome> ReconcileTargetAsync(string ns, TargetConfiguration target, CancellationToken admit, CancellationToken work, CancellationToken overall)
    {
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
            return await RecordAsync(outcome, target, overall).ConfigureAwait(false);
        }
        try
        {
            var accounts = AccountChoice.For(target, _options.Targets);
            if (target.AttachOnly)
            {
                outcome = await _refresher.AttachAsync(ns, target.SecretName, accounts, work).ConfigureAwait(false);
            }
            else
            {
                SecretOwner? clusterOwner = null;
                if (target.ClusterOwner is { } role)
                {
                    clusterOwner = await ClusterOwnerAsync(role, work).ConfigureAwait(false);
                    if (clusterOwner is null)
                    {
                        return await RecordAsync(new TargetOutcome(ns, target.SecretName, TargetResult.Skipped, "OwnerNotFound",
                            $"clusterrole {role}, which owns secret {target.SecretName}, does not exist; the secret is not created here (its copies are garbage-collected once their owner is gone)"),
                            target, overall).ConfigureAwait(false);
                    }
                }
                var copy = target.Source is { } source ? await SourceAsync(source, work).ConfigureAwait(false) : null;
                var registries = copy is not null ? [] : _options.Registries.Where(r => target.Registries.Count == 0 || target.Registries.Contains(r.Key))
                    .Select(r => (r.Key, _hosts[r.Key])).ToList();
                var write = new SecretWrite(registries, copy, clusterOwner, target.Owner, LabelsOf(target));
                outcome = await _refresher.RefreshAsync(ns, target.SecretName, write, accounts, work).ConfigureAwait(false);
            }
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
        outcome = await RecordAsync(outcome, target, overall).ConfigureAwait(false);
        if (outcome.ServiceAccountsDetached > 0)
        {
            LogLeftSelector(_logger, ns, target.SecretName, outcome.ServiceAccountsDetached);
        }
        foreach (var account in outcome.MissingServiceAccounts)
        {
            LogServiceAccountMissing(_logger, ns, account, target.SecretName);
            await _events.RecordAsync(ns, "Secret", target.SecretName, ServiceAccountMissingReason,
                $"service account {ns}/{account} does not exist; it is skipped and will name {target.SecretName} once it exists", overall, "Normal").ConfigureAwait(false);
        }
        return outcome;
    }

    /// <summary>
    /// Removes our secret from a namespace that no longer belongs to any target of that name: only when it carries our
    /// instance label and, for a target with a cluster owner, that owner's reference (theirs is never touched). First
    /// the names we added to service accounts there (the accounts' own annotation says which), then the secret, deleted
    /// with preconditions on its uid and resourceVersion so that a secret changed since it was listed stays.
    /// </summary>
    public async Task<TargetOutcome> PruneAsync(string ns, string secretName, V1ObjectMeta secret, CancellationToken work, CancellationToken overall)
    {
        var targets = _options.Targets.Where(t => t.SecretName == secretName && t.SelectsNamespaces && !t.AttachOnly).ToList();
        TargetOutcome outcome;
        try
        {
            outcome = await PruneOursAsync(ns, secretName, secret, targets, work).ConfigureAwait(false);
        }
        catch (TargetFailedException e)
        {
            outcome = new TargetOutcome(ns, secretName, TargetResult.Failed, "PruneFailed", e.Message, e.Kind, e.Name);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            outcome = new TargetOutcome(ns, secretName, TargetResult.Failed, "PruneFailed", $"secret {ns}/{secretName}: {Describe(e, work)}", "Secret", secretName);
        }
        if (outcome.Result == TargetResult.Failed)
        {
            LogTargetFailed(_logger, ns, secretName, outcome.Reason!, outcome.Message!);
            _metrics.Failed(outcome.Reason!);
            await _events.RecordAsync(ns, outcome.FailedKind ?? "Secret", outcome.FailedName ?? secretName, "PruneFailed", outcome.Message!, overall).ConfigureAwait(false);
        }
        else if (outcome.Result == TargetResult.Pruned)
        {
            LogPruned(_logger, ns, secretName, outcome.ServiceAccountsPatched);
        }
        else
        {
            LogPruneSkipped(_logger, ns, secretName, outcome.Message!);
        }
        return outcome;
    }

    private async Task<TargetOutcome> PruneOursAsync(string ns, string secretName, V1ObjectMeta secret, List<TargetConfiguration> targets, CancellationToken work)
    {
        if (_options.Instance is not { Length: > 0 } instance || secret.Labels?.GetValueOrDefault(RefresherConfiguration.InstanceLabel) != instance
            || targets.Count == 0 || secret.Uid is not { } uid || secret.ResourceVersion is not { } version)
        {
            return new TargetOutcome(ns, secretName, TargetResult.Skipped, "NotOurs", $"secret {ns}/{secretName} does not carry {RefresherConfiguration.InstanceLabel}={_options.Instance}; left alone");
        }
        // With a cluster owner, ours points at it (uid and all); without one, ours has no other owner.
        var owners = new List<SecretOwner>();
        foreach (var role in targets.Select(t => t.ClusterOwner).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            if (await ClusterOwnerAsync(role, work).ConfigureAwait(false) is { } owner)
            {
                owners.Add(owner);
            }
        }
        var needsOwner = targets.Any(t => t.ClusterOwner is not null);
        var references = secret.OwnerReferences ?? [];
        var ours = needsOwner ? owners.Any(o => SecretOwnership.Points(secret, o)) : references.Count == 0;
        if (!ours)
        {
            return new TargetOutcome(ns, secretName, TargetResult.Skipped, "NotOurs",
                $"secret {ns}/{secretName} carries our instance label but not our owner reference; left alone");
        }
        var detached = 0;
        string? next = null;
        do
        {
            var page = await _retry.RunAsync(c => _kubernetes.ListServiceAccountsAsync(ns, null, SecretRefresher.ServiceAccountPageSize, next, c), work).ConfigureAwait(false);
            foreach (var account in page.Items)
            {
                if (account.Metadata?.Name is { } accountName
                    && SecretOwnership.List(account.Metadata.Annotations?.GetValueOrDefault(SecretRefresher.AddedPullSecretsAnnotation)).Contains(secretName)
                    && await _refresher.DetachAsync(ns, accountName, secretName, work).ConfigureAwait(false) == DetachResult.Removed)
                {
                    detached++;
                }
            }
            next = page.Metadata?.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));
        try
        {
            await _retry.RunAsync(c => _kubernetes.DeleteSecretAsync(ns, secretName, uid, version, c), work).ConfigureAwait(false);
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // Gone already (garbage collection, someone else): what pruning wanted.
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            return new TargetOutcome(ns, secretName, TargetResult.Skipped, "ChangedSinceListed",
                $"secret {ns}/{secretName} changed since it was listed; left for the next run")
            { ServiceAccountsPatched = detached };
        }
        catch (KubeApiException e)
        {
            throw new TargetFailedException("PruneFailed", $"delete Secret {ns}/{secretName} failed: HTTP {((int)e.StatusCode).ToString(CultureInfo.InvariantCulture)}", "Secret", secretName);
        }
        return new TargetOutcome(ns, secretName, TargetResult.Pruned) { ServiceAccountsPatched = detached };
    }

    private Task<SecretOwner?> ClusterOwnerAsync(string role, CancellationToken ct) =>
        _clusterOwners.GetOrAdd(role, r => new Lazy<Task<SecretOwner?>>(() => ReadClusterOwnerAsync(r, ct))).Value;

    private async Task<SecretOwner?> ReadClusterOwnerAsync(string role, CancellationToken ct)
    {
        try
        {
            var meta = await _retry.RunAsync(c => _kubernetes.ReadClusterRoleMetadataAsync(role, c), ct).ConfigureAwait(false);
            meta.Name ??= role;
            return SecretOwner.ClusterRole(meta);
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (KubeApiException e)
        {
            throw new TargetFailedException(e.StatusCode == HttpStatusCode.Forbidden ? "Forbidden" : "ApiError",
                $"read ClusterRole {role} failed: HTTP {((int)e.StatusCode).ToString(CultureInfo.InvariantCulture)}", "Secret", role);
        }
    }

    private Task<CopySource> SourceAsync(SecretSourceConfiguration source, CancellationToken ct) =>
        _sources.GetOrAdd($"{source.Namespace}/{source.Name}", _ => new Lazy<Task<CopySource>>(() => ReadSourceAsync(source, ct))).Value;

    /// <summary>The source Secret's <c>.dockerconfigjson</c>; its version is a hash of that content, so a write that changes nothing in it costs no copy.</summary>
    private async Task<CopySource> ReadSourceAsync(SecretSourceConfiguration source, CancellationToken ct)
    {
        V1Secret secret;
        try
        {
            secret = await _retry.RunAsync(c => _kubernetes.ReadSecretAsync(source.Namespace, source.Name, c), ct).ConfigureAwait(false);
        }
        catch (KubeApiException e)
        {
            throw new TargetFailedException(e.StatusCode == HttpStatusCode.NotFound ? "SourceNotFound" : "ApiError",
                $"read source Secret {source.Namespace}/{source.Name} failed: HTTP {((int)e.StatusCode).ToString(CultureInfo.InvariantCulture)}", "Secret", source.Name);
        }
        if (secret.Type != SecretRefresher.DockerConfigType || secret.Data?.GetValueOrDefault(SecretRefresher.DockerConfigKey) is not { Length: > 0 } content)
        {
            throw new TargetFailedException("MalformedSource",
                $"source Secret {source.Namespace}/{source.Name} is not a {SecretRefresher.DockerConfigType} Secret with a {SecretRefresher.DockerConfigKey} key; nothing copied", "Secret", source.Name);
        }
        var version = Convert.ToHexStringLower(SHA256.HashData(content))[..32];
        return new CopySource(source.Namespace, source.Name, content, version);
    }

    private async Task<TargetOutcome> RecordAsync(TargetOutcome outcome, TargetConfiguration target, CancellationToken overall)
    {
        var ns = outcome.Namespace;
        switch (outcome.Result)
        {
            case TargetResult.Failed:
                LogTargetFailed(_logger, ns, target.SecretName, outcome.Reason!, outcome.Message!);
                _metrics.Failed(outcome.Reason!);
                await _events.RecordAsync(ns, outcome.FailedKind ?? "Secret", outcome.FailedName ?? target.SecretName, "RefreshFailed",
                    $"{outcome.Reason}: {outcome.Message}", overall).ConfigureAwait(false);
                break;
            case TargetResult.Attached:
                _metrics.Unchanged();
                LogAttached(_logger, ns, target.SecretName, outcome.ServiceAccountsPatched);
                break;
            case TargetResult.Skipped:
                LogSkipped(_logger, ns, target.SecretName, target.AttachOnly ? "attach only" : target.Source is not null ? "copy" : "token", outcome.Message!);
                break;
            case TargetResult.Created or TargetResult.Updated:
                _metrics.Written(outcome.Result == TargetResult.Created ? "create" : "update");
                LogWritten(_logger, ns, target.SecretName, outcome.Result, new UtcTime(outcome.ExpiresAt), outcome.ServiceAccountsPatched);
                break;
            default:
                _metrics.Unchanged();
                LogUnchanged(_logger, ns, target.SecretName, new UtcTime(outcome.ExpiresAt), outcome.ServiceAccountsPatched);
                break;
        }
        return outcome;
    }

    internal static string Describe(Exception e, CancellationToken work) => e switch
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

    [LoggerMessage(EventId = 24, Level = LogLevel.Information, Message = "Secret {Namespace}/{SecretName} skipped ({Kind}): {Detail}")]
    private static partial void LogSkipped(ILogger logger, string @namespace, string secretName, string kind, string detail);

    [LoggerMessage(EventId = 28, Level = LogLevel.Information, Message = "Service account {Namespace}/{ServiceAccount} does not exist: skipped, {SecretName} is attached once it exists")]
    private static partial void LogServiceAccountMissing(ILogger logger, string @namespace, string serviceAccount, string secretName);

    [LoggerMessage(EventId = 29, Level = LogLevel.Information, Message = "Secret {Namespace}/{SecretName} pruned (the namespace is no longer selected), service accounts detached {ServiceAccountsDetached}")]
    private static partial void LogPruned(ILogger logger, string @namespace, string secretName, int serviceAccountsDetached);

    [LoggerMessage(EventId = 32, Level = LogLevel.Information, Message = "Secret {Namespace}/{SecretName}: removed from the imagePullSecrets of {ServiceAccounts} service accounts that left serviceAccountSelector")]
    private static partial void LogLeftSelector(ILogger logger, string @namespace, string secretName, int serviceAccounts);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "Secret {Namespace}/{SecretName} not pruned: {Detail}")]
    private static partial void LogPruneSkipped(ILogger logger, string @namespace, string secretName, string detail);
}
