using System.Globalization;
using System.Net;
using RegistryInfra.Core;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Core.References;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher;

/// <summary>What a detach did to one service account.</summary>
internal enum DetachResult
{
    /// <summary>The name was ours and is gone from the account.</summary>
    Removed,

    /// <summary>The account does not record the name as added by us: left as it is.</summary>
    NotOurs,

    /// <summary>The account no longer exists.</summary>
    Gone,
}

/// <summary>What happened to one target secret in one namespace.</summary>
internal enum TargetResult
{
    Unchanged,
    Created,
    Updated,
    Failed,

    /// <summary>An attach-only target whose secret exists: its service accounts name it (patched or already).</summary>
    Attached,

    /// <summary>An attach-only target whose secret does not exist in the namespace: nothing to attach there.</summary>
    Skipped,

    /// <summary>Never started: the run was asked to stop first. Left exactly as it was.</summary>
    NotStarted,

    /// <summary>A namespace that left a selector target's selection: our secret there deleted and the names we added removed.</summary>
    Pruned,
}

/// <summary>The outcome of one target (secret name in a namespace); <see cref="Reason"/> and <see cref="Message"/> are secret-free.</summary>
internal sealed record TargetOutcome(string Namespace, string SecretName, TargetResult Result, string? Reason = null, string? Message = null, string? FailedKind = null, string? FailedName = null)
{
    public DateTimeOffset? ExpiresAt { get; init; }

    public int ServiceAccountsPatched { get; init; }

    /// <summary>Service accounts that left the target's <c>serviceAccountSelector</c> (relabelled) and lost the name we had added.</summary>
    public int ServiceAccountsDetached { get; init; }

    /// <summary>Named service accounts that do not exist in the namespace: skipped (a Normal Event each), attached once they exist.</summary>
    public IReadOnlyList<string> MissingServiceAccounts { get; init; } = [];
}

/// <summary>
/// Which service accounts of a namespace a target attaches: listed names, or every one matching a label selector ("" for
/// all); <see cref="Siblings"/> are the choices of the other targets of the same secret name, whose accounts keep the name.
/// </summary>
internal sealed record AccountChoice(IReadOnlyList<string> Names, string? Selector)
{
    private Core.Kubernetes.Selector? _parsed;

    /// <summary>The account choices of the configuration's other targets that write or attach the same secret name.</summary>
    public IReadOnlyList<AccountChoice> Siblings { get; init; } = [];

    public static AccountChoice For(TargetConfiguration target) => target.AllServiceAccounts
        ? new AccountChoice([], "")
        : !string.IsNullOrWhiteSpace(target.ServiceAccountSelector) ? new AccountChoice([], target.ServiceAccountSelector) : new AccountChoice(target.ServiceAccounts, null);

    /// <summary>The choice of <paramref name="target"/>, with those of the other targets in <paramref name="targets"/> that name the same secret.</summary>
    public static AccountChoice For(TargetConfiguration target, IEnumerable<TargetConfiguration> targets) => For(target) with
    {
        Siblings = [.. targets.Where(t => !ReferenceEquals(t, target) && t.SecretName == target.SecretName).Select(For)],
    };

    public bool IsEmpty => Selector is null && Names.Count == 0;

    /// <summary>A selector that is not "all": its accounts are matched here, so that one relabelled out of it is seen.</summary>
    public bool SelectsByLabel => !string.IsNullOrEmpty(Selector);

    /// <summary>
    /// Whether this choice takes <paramref name="account"/>, by name or by labels (apimachinery's label semantics,
    /// <see cref="Core.Kubernetes.Selector.Matches"/>). A named choice is not namespace-aware here: where a sibling names
    /// the account, the account is kept in every namespace (the conservative reading).
    /// </summary>
    public bool Wants(V1ServiceAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (Selector is null)
        {
            return account.Metadata?.Name is { } name && Names.Contains(name, StringComparer.Ordinal);
        }
        if (Selector.Length == 0)
        {
            return true;
        }
        // The configuration was validated: the selector parses.
        _parsed ??= Core.Kubernetes.Selector.TryParse(Selector, out var parsed, out _) ? parsed : null;
        return _parsed?.Matches(account.Metadata?.Labels) == true;
    }
}

/// <summary>A copy target's source Secret as read once per run: its <c>.dockerconfigjson</c> bytes and their version.</summary>
internal sealed record CopySource(string Namespace, string Name, byte[] Content, string Version);

/// <summary>How one target's secret is written: the registries (token) or the source (copy), the owner, the labels it must carry.</summary>
internal sealed record SecretWrite(IReadOnlyList<(string Key, RegistryHost Host)> Registries, CopySource? Copy, SecretOwner? Owner,
    string? OwnerConfigMap, IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>A selector target's secret must be ours to write (our owner reference or our shape): it may be pruned later.</summary>
    public bool MustBeOurs => Labels.Count > 0 || Copy is not null;
}

/// <summary>A target failed for a reason worth an Event; the message names what and why, never a credential.</summary>
internal sealed class TargetFailedException(string reason, string message, string kind, string name) : Exception(message)
{
    public string Reason { get; } = reason;

    public string Kind { get; } = kind;

    public string Name { get; } = name;
}

/// <summary>
/// Brings one pull secret in one namespace up to date: creates it if missing, merges only this refresher's
/// registry entries, writes only when they changed, with a resourceVersion precondition and a bounded retry
/// on conflict, then makes the listed service accounts name it. Never deletes, empties or truncates.
/// </summary>
internal sealed class SecretRefresher(IKubeApi kubernetes, TokenBroker tokens, TransientRetry retry, TimeProvider time, TimeSpan renewBefore, int conflictRetries)
{
    public const string DockerConfigType = "kubernetes.io/dockerconfigjson";
    public const string DockerConfigKey = ".dockerconfigjson";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "registryinfra-refresher";
    public const string RefreshedAtAnnotation = "registryinfra.io/refreshed-at";
    public const string ExpiresAtAnnotation = "registryinfra.io/expires-at";

    /// <summary>On a copied secret: the version of the source it holds (<see cref="RefresherConfiguration.SourceVersionAnnotation"/>).</summary>
    public const string SourceVersionAnnotation = RefresherConfiguration.SourceVersionAnnotation;

    /// <summary>On a secret: the <c>.dockerconfigjson</c> keys this refresher wrote, so a removed registry's entry is removed and nobody else's is touched.</summary>
    public const string EntriesAnnotation = "registryinfra.io/entries";

    /// <summary>On a service account: the <c>imagePullSecrets</c> names a RegistryInfra refresher added (and so may remove); names it found there are not listed.</summary>
    public const string AddedPullSecretsAnnotation = ServiceAccountPullSecrets.AddedAnnotation;

    /// <summary>
    /// Refreshes one target; the registries are (key, host) pairs. The service accounts are read while the secret
    /// is worked on (one round trip instead of two on an unchanged namespace); an account is patched to name the
    /// secret only once the secret exists, so no account ever names a secret this run failed to create. A named
    /// account that does not exist is skipped (<see cref="TargetOutcome.MissingServiceAccounts"/>), not a failure.
    /// </summary>
    public async Task<TargetOutcome> RefreshAsync(string ns, string secretName, SecretWrite write, AccountChoice accounts, CancellationToken cancellationToken)
    {
        var owner = write.Owner;
        if (write.OwnerConfigMap is { } ownerName)
        {
            // No owner, no secret: a secret created without it would outlive the namespace's removal from the program.
            var ownerMeta = await ReadOwnerAsync(ns, ownerName, cancellationToken).ConfigureAwait(false);
            if (ownerMeta is null)
            {
                return new TargetOutcome(ns, secretName, TargetResult.Skipped, "OwnerNotFound",
                    $"configmap {ns}/{ownerName}, which owns secret {secretName}, does not exist; the secret is not created here (it is garbage-collected once its owner is gone)");
            }
            owner = SecretOwner.ConfigMap(ownerMeta);
        }
        var reads = ReadServiceAccountsAsync(ns, accounts, cancellationToken);
        TargetResult result;
        DateTimeOffset? expiresAt;
        try
        {
            (result, expiresAt) = write.Copy is { } copy
                ? await WriteCopyAsync(ns, secretName, copy, owner, write.Labels, cancellationToken).ConfigureAwait(false)
                : await WriteSecretAsync(ns, secretName, write.Registries, owner, write.Labels, write.MustBeOurs, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The reads' own failures are not this target's story once the secret failed; they must not go unobserved.
            await reads.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }
        var (patched, detached, missing) = await EnsureServiceAccountsAsync(ns, await reads.ConfigureAwait(false), secretName, accounts, cancellationToken).ConfigureAwait(false);
        return new TargetOutcome(ns, secretName, result) { ExpiresAt = expiresAt, ServiceAccountsPatched = patched, ServiceAccountsDetached = detached, MissingServiceAccounts = missing };
    }

    /// <summary>
    /// The accounts to look at: each named one read (null when it does not exist), or every account of the namespace
    /// listed page by page. A label selector is matched here rather than sent as <c>labelSelector</c>: the same one LIST
    /// then also shows the accounts relabelled out of the selection that still record our name
    /// (<see cref="EnsureServiceAccountsAsync"/> removes it).
    /// </summary>
    private async Task<IReadOnlyList<(string Name, V1ServiceAccount? Account)>> ReadServiceAccountsAsync(string ns, AccountChoice accounts, CancellationToken ct)
    {
        if (accounts.Selector is not null)
        {
            var listed = new List<(string, V1ServiceAccount?)>();
            string? next = null;
            do
            {
                V1ServiceAccountList page;
                try
                {
                    page = await retry.RunAsync(c => kubernetes.ListServiceAccountsAsync(ns, null, ServiceAccountPageSize, next, c), ct).ConfigureAwait(false);
                }
                catch (KubeApiException e)
                {
                    // A 410 here (a continue token expired while this namespace was listed) fails the namespace for this run only.
                    throw ApiFailure(e, "list", "ServiceAccount", ns, "*");
                }
                listed.AddRange(page.Items.Where(a => a.Metadata?.Name is not null).Select(a => (a.Metadata!.Name!, (V1ServiceAccount?)a)));
                next = page.Metadata?.ContinueProperty;
            }
            while (!string.IsNullOrEmpty(next));
            return listed;
        }
        var reads = accounts.Names.Select(async a => (a, await ReadServiceAccountOrNullAsync(ns, a, ct).ConfigureAwait(false))).ToList();
        return await Task.WhenAll(reads).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes <paramref name="secretName"/> from every account of <paramref name="ns"/> that records it as added by us (one
    /// paginated LIST of the namespace's accounts, a detach for each); a name an account did not get from us stays.
    /// </summary>
    public async Task<int> DetachAllAsync(string ns, string secretName, CancellationToken ct)
    {
        var detached = 0;
        foreach (var (name, account) in await ReadServiceAccountsAsync(ns, new AccountChoice([], ""), ct).ConfigureAwait(false))
        {
            if (SecretOwnership.List(AddedOf(account!)).Contains(secretName)
                && await DetachAsync(ns, name, secretName, ct, account).ConfigureAwait(false) == DetachResult.Removed)
            {
                detached++;
            }
        }
        return detached;
    }

    /// <summary>Service accounts per LIST page in one namespace.</summary>
    internal const int ServiceAccountPageSize = 500;

    /// <summary>
    /// Makes the chosen accounts name the secret. With a label selector, an account that no longer matches it and records
    /// the name as added by us loses it, unless another target of the same secret name still wants that account; an
    /// account that never recorded it (the name is someone else's) is never touched.
    /// </summary>
    private async Task<(int Patched, int Detached, IReadOnlyList<string> Missing)> EnsureServiceAccountsAsync(string ns,
        IReadOnlyList<(string Name, V1ServiceAccount? Account)> accounts, string secretName, AccountChoice choice, CancellationToken cancellationToken)
    {
        var present = accounts.Where(a => a.Account is not null).ToList();
        var chosen = choice.SelectsByLabel ? present.Where(a => choice.Wants(a.Account!)).ToList() : present;
        var leaving = choice.SelectsByLabel
            ? present.Where(a => !choice.Wants(a.Account!) && SecretOwnership.List(AddedOf(a.Account!)).Contains(secretName) && !choice.Siblings.Any(s => s.Wants(a.Account!))).ToList()
            : [];
        var patches = chosen.Select(a => EnsureServiceAccountAsync(ns, a.Name, secretName, a.Account!, cancellationToken)).ToList();
        var detaches = leaving.Select(a => DetachAsync(ns, a.Name, secretName, cancellationToken, a.Account)).ToList();
        var done = await Task.WhenAll(patches).ConfigureAwait(false);
        var undone = await Task.WhenAll(detaches).ConfigureAwait(false);
        return (done.Count(p => p), undone.Count(d => d == DetachResult.Removed), [.. accounts.Where(a => a.Account is null).Select(a => a.Name)]);
    }

    /// <summary>True for an answer the client could not read: truncated or non-JSON bodies, data that is not base64.</summary>
    internal static bool IsMalformedAnswer(Exception e) => e is System.Text.Json.JsonException or FormatException
        || e.InnerException is { } inner && IsMalformedAnswer(inner);

    /// <summary>
    /// An attach-only target: when the secret exists in <paramref name="ns"/>, makes each service account name
    /// it (keeping every other entry). It reads only the secret's metadata and never writes it; a missing
    /// secret skips the namespace.
    /// </summary>
    public async Task<TargetOutcome> AttachAsync(string ns, string secretName, AccountChoice accounts, CancellationToken cancellationToken)
    {
        if (!await SecretExistsAsync(ns, secretName, cancellationToken).ConfigureAwait(false))
        {
            return new TargetOutcome(ns, secretName, TargetResult.Skipped, "SecretNotFound",
                $"secret {ns}/{secretName} does not exist; nothing to attach in this namespace");
        }
        var reads = await ReadServiceAccountsAsync(ns, accounts, cancellationToken).ConfigureAwait(false);
        var (patched, detached, missing) = await EnsureServiceAccountsAsync(ns, reads, secretName, accounts, cancellationToken).ConfigureAwait(false);
        return new TargetOutcome(ns, secretName, TargetResult.Attached) { ServiceAccountsPatched = patched, ServiceAccountsDetached = detached, MissingServiceAccounts = missing };
    }

    private async Task<bool> SecretExistsAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            await retry.RunAsync(c => kubernetes.ReadSecretMetadataAsync(ns, name, c), ct).ConfigureAwait(false);
            return true;
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        catch (KubeApiException e)
        {
            throw ApiFailure(e, "read", "Secret", ns, name);
        }
    }

    private async Task<(TargetResult, DateTimeOffset?)> WriteSecretAsync(string ns, string name, IReadOnlyList<(string Key, RegistryHost Host)> registries,
        SecretOwner? owner, IReadOnlyDictionary<string, string> labels, bool mustBeOurs, CancellationToken ct)
    {
        var ours = registries.Select(r => r.Host.DockerConfigKey).Order(StringComparer.Ordinal).ToList();
        var oursText = string.Join(',', ours);
        for (var attempt = 0; ; attempt++)
        {
            var existing = await ReadSecretAsync(ns, name, ct).ConfigureAwait(false);
            DockerConfig current;
            List<string> stale = [];
            if (existing is null)
            {
                current = DockerConfig.Empty;
            }
            else
            {
                Claim(existing, owner, mustBeOurs, ns, name);
                current = ParseExisting(existing, ns, name);
                // Entries this refresher wrote for registries it no longer renews; entries it never wrote are not ours.
                stale = SecretOwnership.List(Annotation(existing, EntriesAnnotation)).Except(ours, StringComparer.Ordinal).ToList();
                if (stale.Count == 0 && IsFresh(existing, current, registries) is { } freshUntil
                    && Annotation(existing, EntriesAnnotation) == oursText && SecretOwnership.Points(existing, owner) && HasLabels(existing, labels))
                {
                    return (TargetResult.Unchanged, freshUntil);
                }
            }

            var entries = new List<DockerConfigEntry>(registries.Count);
            var expiries = new List<DateTimeOffset?>(registries.Count);
            foreach (var (key, host) in registries)
            {
                try
                {
                    var credential = await tokens.GetAsync(key).WaitAsync(ct).ConfigureAwait(false);
                    entries.Add(DockerConfigEntry.Create(host, credential));
                    expiries.Add(credential.ExpiresAt);
                }
                catch (TokenUnavailableException e)
                {
                    throw new TargetFailedException("TokenUnavailable", e.Message, "Secret", name);
                }
            }
            var expiresAt = expiries.Where(e => e.HasValue).Min();
            var expiresText = expiresAt?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

            // Only this refresher's entries are replaced; the serialisation is canonical, so equality is "content unchanged".
            var merged = stale.Aggregate(current.Merge(entries), (config, key) => config.Remove(key));
            if (existing is not null && merged.Equals(current) && Annotation(existing, ExpiresAtAnnotation) == expiresText && IsManagedShape(existing)
                && Annotation(existing, EntriesAnnotation) == oursText && SecretOwnership.Points(existing, owner) && HasLabels(existing, labels))
            {
                return (TargetResult.Unchanged, expiresAt);
            }

            var secret = existing ?? new V1Secret { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Type = DockerConfigType };
            secret.Data ??= new Dictionary<string, byte[]>();
            secret.Data[DockerConfigKey] = merged.ToUtf8Bytes();
            secret.Metadata.Annotations ??= new Dictionary<string, string>();
            secret.Metadata.Annotations[RefreshedAtAnnotation] = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            if (expiresText is null)
            {
                secret.Metadata.Annotations.Remove(ExpiresAtAnnotation);
            }
            else
            {
                secret.Metadata.Annotations[ExpiresAtAnnotation] = expiresText;
            }
            secret.Metadata.Annotations[EntriesAnnotation] = oursText;
            if (await SaveAsync(secret, existing is null, owner, labels, attempt, ns, name, ct).ConfigureAwait(false) is { } saved)
            {
                return (saved, expiresAt);
            }
        }
    }

    /// <summary>
    /// Writes a copy target's secret: the source's <c>.dockerconfigjson</c> as it is, annotated with the source's version,
    /// so an unchanged source (same content in the copy, same version annotation) costs no write.
    /// </summary>
    private async Task<(TargetResult, DateTimeOffset?)> WriteCopyAsync(string ns, string name, CopySource source, SecretOwner? owner,
        IReadOnlyDictionary<string, string> labels, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var existing = await ReadSecretAsync(ns, name, ct).ConfigureAwait(false);
            if (existing is not null)
            {
                Claim(existing, owner, mustBeOurs: true, ns, name);
                if (existing.Type != DockerConfigType)
                {
                    throw new TargetFailedException("MalformedSecret", $"secret {ns}/{name} has type '{existing.Type}', not {DockerConfigType}; left untouched", "Secret", name);
                }
                if (existing.Data is { } data && data.TryGetValue(DockerConfigKey, out var content) && content.AsSpan().SequenceEqual(source.Content)
                    && Annotation(existing, SourceVersionAnnotation) == source.Version && SecretOwnership.Points(existing, owner) && HasLabels(existing, labels))
                {
                    return (TargetResult.Unchanged, null);
                }
            }
            var secret = existing ?? new V1Secret { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Type = DockerConfigType };
            secret.Data = new Dictionary<string, byte[]> { [DockerConfigKey] = source.Content };
            secret.Metadata.Annotations ??= new Dictionary<string, string>();
            secret.Metadata.Annotations[RefreshedAtAnnotation] = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            secret.Metadata.Annotations[SourceVersionAnnotation] = source.Version;
            secret.Metadata.Annotations.Remove(ExpiresAtAnnotation);
            secret.Metadata.Annotations.Remove(EntriesAnnotation);
            if (await SaveAsync(secret, existing is null, owner, labels, attempt, ns, name, ct).ConfigureAwait(false) is { } saved)
            {
                return (saved, null);
            }
        }
    }

    /// <summary>Creates or replaces <paramref name="secret"/> with our labels and owner; null when a conflict means: read again.</summary>
    private async Task<TargetResult?> SaveAsync(V1Secret secret, bool create, SecretOwner? owner, IReadOnlyDictionary<string, string> labels, int attempt,
        string ns, string name, CancellationToken ct)
    {
        secret.Metadata.Labels ??= new Dictionary<string, string>();
        if (create)
        {
            secret.Metadata.Labels[ManagedByLabel] = ManagedByValue;
        }
        foreach (var (key, value) in labels)
        {
            secret.Metadata.Labels[key] = value;
        }
        if (owner is not null)
        {
            SecretOwnership.PointAt(secret, owner);
        }
        try
        {
            if (create)
            {
                await retry.RunAsync(c => kubernetes.CreateSecretAsync(secret, ns, c), ct).ConfigureAwait(false);
                return TargetResult.Created;
            }
            // The resourceVersion read travels in the body: the API server refuses the write if anyone wrote since.
            await retry.RunAsync(c => kubernetes.ReplaceSecretAsync(secret, ns, name, c), ct).ConfigureAwait(false);
            return TargetResult.Updated;
        }
        catch (KubeApiException e) when (attempt < conflictRetries
            && (e.StatusCode == HttpStatusCode.Conflict || (!create && e.StatusCode == HttpStatusCode.NotFound)))
        {
            // Someone else wrote (or created) it first, or garbage collection deleted it since the read: read again and start from what is there.
            return null;
        }
        catch (KubeApiException e)
        {
            throw ApiFailure(e, create ? "create" : "update", "Secret", ns, name);
        }
    }

    /// <summary>
    /// With an owner, the secret must point at it (or be an ownerless one of ours, adopted); a secret a selector target may
    /// later prune must be ours even without an owner. A plain token target merges its entries into whatever is there, as before.
    /// </summary>
    private static void Claim(V1Secret existing, SecretOwner? owner, bool mustBeOurs, string ns, string name)
    {
        if (owner is not null)
        {
            SecretOwnership.Claim(existing, owner, ns, name);
        }
        else if (mustBeOurs && !SecretOwnership.IsOurShape(existing))
        {
            throw new TargetFailedException("OwnedElsewhere",
                $"secret {ns}/{name} exists and was not written by registryinfra-refresher; left untouched: give this target another secretName", "Secret", name);
        }
    }

    private static bool HasLabels(V1Secret secret, IReadOnlyDictionary<string, string> labels) =>
        labels.All(l => secret.Metadata?.Labels?.TryGetValue(l.Key, out var v) == true && v == l.Value);

    /// <summary>The expiry when the secret can be left alone: it holds entries for all our registries and expires after now + renewBefore.</summary>
    private DateTimeOffset? IsFresh(V1Secret existing, DockerConfig current, IReadOnlyList<(string Key, RegistryHost Host)> registries)
    {
        if (!registries.All(r => current.Entries.Any(e => e.Key == r.Host.DockerConfigKey)) || !IsManagedShape(existing))
        {
            return null;
        }
        if (Annotation(existing, ExpiresAtAnnotation) is not { } text
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiresAt))
        {
            return null;
        }
        return expiresAt > time.GetUtcNow() + renewBefore ? expiresAt : null;
    }

    private static bool IsManagedShape(V1Secret existing) => Annotation(existing, RefreshedAtAnnotation) is not null;

    private static string? Annotation(V1Secret secret, string key) =>
        secret.Metadata?.Annotations is { } a && a.TryGetValue(key, out var v) ? v : null;

    private static DockerConfig ParseExisting(V1Secret existing, string ns, string name)
    {
        if (existing.Type != DockerConfigType)
        {
            throw new TargetFailedException("MalformedSecret", $"secret {ns}/{name} has type '{existing.Type}', not {DockerConfigType}; left untouched", "Secret", name);
        }
        if (existing.Data is null || !existing.Data.TryGetValue(DockerConfigKey, out var content))
        {
            throw new TargetFailedException("MalformedSecret", $"secret {ns}/{name} has no {DockerConfigKey} key; left untouched", "Secret", name);
        }
        try
        {
            return DockerConfig.Parse(content);
        }
        catch (RegistryException e)
        {
            throw new TargetFailedException("MalformedSecret", $"secret {ns}/{name}: {e.Message}; left untouched", "Secret", name);
        }
    }

    /// <summary>The owner ConfigMap's metadata (only its metadata is asked for), or null when it does not exist.</summary>
    private async Task<V1ObjectMeta?> ReadOwnerAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            return await retry.RunAsync(c => kubernetes.ReadConfigMapMetadataAsync(ns, name, c), ct).ConfigureAwait(false);
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (KubeApiException e)
        {
            throw ApiFailure(e, "read", "ConfigMap", ns, name);
        }
    }

    private async Task<V1Secret?> ReadSecretAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            return await retry.RunAsync(c => kubernetes.ReadSecretAsync(ns, name, c), ct).ConfigureAwait(false);
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (KubeApiException e)
        {
            throw ApiFailure(e, "read", "Secret", ns, name);
        }
    }

    private async Task<V1ServiceAccount?> ReadServiceAccountOrNullAsync(string ns, string account, CancellationToken ct)
    {
        try
        {
            return await retry.RunAsync(c => kubernetes.ReadServiceAccountAsync(ns, account, c), ct).ConfigureAwait(false);
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (KubeApiException e)
        {
            throw ApiFailure(e, "read", "ServiceAccount", ns, account);
        }
    }

    private async Task<V1ServiceAccount> ReadServiceAccountAsync(string ns, string account, CancellationToken ct)
    {
        try
        {
            return await retry.RunAsync(c => kubernetes.ReadServiceAccountAsync(ns, account, c), ct).ConfigureAwait(false);
        }
        catch (KubeApiException e)
        {
            throw ApiFailure(e, "read", "ServiceAccount", ns, account);
        }
    }

    /// <summary>Adds the secret to the account's imagePullSecrets when missing; true when it patched. Existing entries are always kept.</summary>
    private async Task<bool> EnsureServiceAccountAsync(string ns, string account, string secretName, V1ServiceAccount firstRead, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = attempt == 0 ? firstRead : await ReadServiceAccountAsync(ns, account, ct).ConfigureAwait(false);
            var names = (current.ImagePullSecrets ?? []).Select(r => r?.Name).ToList();
            if (names.Contains(secretName))
            {
                // Already named: by us in an earlier run (recorded), or by someone else (not recorded, so never removed by us).
                return false;
            }
            // A merge patch replaces the whole list, so it carries the union, and the resourceVersion makes
            // the API server refuse it if the list changed since we read it. The annotation records the name as ours.
            var added = SecretOwnership.List(AddedOf(current)).Append(secretName).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            var patch = ServiceAccountPullSecrets.MergePatch(current.Metadata?.ResourceVersion, [.. names.Where(n => n is not null)!, secretName], string.Join(',', added));
            try
            {
                await retry.RunAsync(c => kubernetes.PatchServiceAccountAsync(ns, account, patch, c), ct).ConfigureAwait(false);
                return true;
            }
            catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Conflict && attempt < conflictRetries)
            {
            }
            catch (KubeApiException e)
            {
                throw ApiFailure(e, "patch", "ServiceAccount", ns, account);
            }
        }
    }

    private static string? AddedOf(V1ServiceAccount account) =>
        account.Metadata?.Annotations is { } a && a.TryGetValue(AddedPullSecretsAnnotation, out var v) ? v : null;

    /// <summary>
    /// Removes <paramref name="secretName"/> from the account's <c>imagePullSecrets</c> when the account records that a
    /// RegistryInfra refresher added it; a name it does not record is someone else's and stays. Every other entry is
    /// kept, with a resourceVersion precondition and a bounded retry on conflict. <paramref name="firstRead"/>: the account
    /// as just listed, which saves the first read (a conflict reads it again).
    /// </summary>
    public async Task<DetachResult> DetachAsync(string ns, string account, string secretName, CancellationToken ct, V1ServiceAccount? firstRead = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            V1ServiceAccount current;
            try
            {
                current = attempt == 0 && firstRead is not null ? firstRead : await retry.RunAsync(c => kubernetes.ReadServiceAccountAsync(ns, account, c), ct).ConfigureAwait(false);
            }
            catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return DetachResult.Gone;
            }
            catch (KubeApiException e)
            {
                throw ApiFailure(e, "read", "ServiceAccount", ns, account);
            }
            var added = SecretOwnership.List(AddedOf(current));
            if (!added.Contains(secretName))
            {
                return DetachResult.NotOurs;
            }
            var names = (current.ImagePullSecrets ?? []).Select(r => r?.Name).Where(n => n is not null && n != secretName).ToList();
            var remaining = added.Where(n => n != secretName).ToList();
            var patch = ServiceAccountPullSecrets.MergePatch(current.Metadata?.ResourceVersion, names!, remaining.Count == 0 ? null : string.Join(',', remaining));
            try
            {
                await retry.RunAsync(c => kubernetes.PatchServiceAccountAsync(ns, account, patch, c), ct).ConfigureAwait(false);
                return DetachResult.Removed;
            }
            catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Conflict && attempt < conflictRetries)
            {
            }
            catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return DetachResult.Gone;
            }
            catch (KubeApiException e)
            {
                throw ApiFailure(e, "patch", "ServiceAccount", ns, account);
            }
        }
    }

    private static TargetFailedException ApiFailure(KubeApiException e, string verb, string kind, string ns, string name)
    {
        var status = ((int)e.StatusCode).ToString(CultureInfo.InvariantCulture);
        var reason = e.StatusCode switch
        {
            HttpStatusCode.Conflict => "Conflict",
            HttpStatusCode.Forbidden => "Forbidden",
            HttpStatusCode.NotFound => "NotFound",
            _ => "ApiError",
        };
        // The response body of a failed write can echo the object sent; only the status code is kept.
        return new TargetFailedException(reason, $"{verb} {kind} {ns}/{name} failed: HTTP {status}", kind, name);
    }

}
