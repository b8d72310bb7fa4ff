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
}

/// <summary>The outcome of one target (secret name in a namespace); <see cref="Reason"/> and <see cref="Message"/> are secret-free.</summary>
internal sealed record TargetOutcome(string Namespace, string SecretName, TargetResult Result, string? Reason = null, string? Message = null, string? FailedKind = null, string? FailedName = null)
{
    public DateTimeOffset? ExpiresAt { get; init; }

    public int ServiceAccountsPatched { get; init; }
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

    /// <summary>On a secret: the <c>.dockerconfigjson</c> keys this refresher wrote, so a removed registry's entry is removed and nobody else's is touched.</summary>
    public const string EntriesAnnotation = "registryinfra.io/entries";

    /// <summary>On a service account: the <c>imagePullSecrets</c> names a RegistryInfra refresher added (and so may remove); names it found there are not listed.</summary>
    public const string AddedPullSecretsAnnotation = ServiceAccountPullSecrets.AddedAnnotation;

    /// <summary>
    /// Refreshes one target; the registries are (key, host) pairs. The service accounts are read while the secret
    /// is worked on (one round trip instead of two on an unchanged namespace); an account is patched to name the
    /// secret only once the secret exists, so no account ever names a secret this run failed to create.
    /// </summary>
    public async Task<TargetOutcome> RefreshAsync(string ns, string secretName, IReadOnlyList<(string Key, RegistryHost Host)> registries,
        IReadOnlyList<string> serviceAccounts, string? owner, CancellationToken cancellationToken)
    {
        V1ObjectMeta? ownerMeta = null;
        if (owner is not null)
        {
            // No owner, no secret: a secret created without it would outlive the namespace's removal from the program.
            ownerMeta = await ReadOwnerAsync(ns, owner, cancellationToken).ConfigureAwait(false);
            if (ownerMeta is null)
            {
                return new TargetOutcome(ns, secretName, TargetResult.Skipped, "OwnerNotFound",
                    $"configmap {ns}/{owner}, which owns secret {secretName}, does not exist; the secret is not created here (it is garbage-collected once its owner is gone)");
            }
        }
        var accounts = serviceAccounts.Select(a => ReadServiceAccountAsync(ns, a, cancellationToken)).ToList();
        TargetResult result;
        DateTimeOffset? expiresAt;
        try
        {
            (result, expiresAt) = await WriteSecretAsync(ns, secretName, registries, ownerMeta, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The reads' own failures are not this target's story once the secret failed; they must not go unobserved.
            await Task.WhenAll(accounts.Select(a => a.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default))).ConfigureAwait(false);
            throw;
        }
        var patched = await EnsureServiceAccountsAsync(ns, serviceAccounts, accounts, secretName, cancellationToken).ConfigureAwait(false);
        return new TargetOutcome(ns, secretName, result) { ExpiresAt = expiresAt, ServiceAccountsPatched = patched };
    }

    private async Task<int> EnsureServiceAccountsAsync(string ns, IReadOnlyList<string> serviceAccounts, List<Task<V1ServiceAccount>> reads,
        string secretName, CancellationToken cancellationToken)
    {
        var patches = serviceAccounts.Select((account, i) => EnsureServiceAccountAsync(ns, account, secretName, reads[i], cancellationToken)).ToList();
        var done = await Task.WhenAll(patches).ConfigureAwait(false);
        return done.Count(p => p);
    }

    /// <summary>True for an answer the client could not read: truncated or non-JSON bodies, data that is not base64.</summary>
    internal static bool IsMalformedAnswer(Exception e) => e is System.Text.Json.JsonException or FormatException
        || e.InnerException is { } inner && IsMalformedAnswer(inner);

    /// <summary>
    /// An attach-only target: when the secret exists in <paramref name="ns"/>, makes each service account name
    /// it (keeping every other entry). It reads only the secret's metadata and never writes it; a missing
    /// secret skips the namespace.
    /// </summary>
    public async Task<TargetOutcome> AttachAsync(string ns, string secretName, IReadOnlyList<string> serviceAccounts, CancellationToken cancellationToken)
    {
        if (!await SecretExistsAsync(ns, secretName, cancellationToken).ConfigureAwait(false))
        {
            return new TargetOutcome(ns, secretName, TargetResult.Skipped, "SecretNotFound",
                $"secret {ns}/{secretName} does not exist; nothing to attach in this namespace");
        }
        var reads = serviceAccounts.Select(a => ReadServiceAccountAsync(ns, a, cancellationToken)).ToList();
        var patched = await EnsureServiceAccountsAsync(ns, serviceAccounts, reads, secretName, cancellationToken).ConfigureAwait(false);
        return new TargetOutcome(ns, secretName, TargetResult.Attached) { ServiceAccountsPatched = patched };
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
        V1ObjectMeta? owner, CancellationToken ct)
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
                if (owner is not null)
                {
                    SecretOwnership.Claim(existing, owner, ns, name);
                }
                current = ParseExisting(existing, ns, name);
                // Entries this refresher wrote for registries it no longer renews; entries it never wrote are not ours.
                stale = SecretOwnership.List(Annotation(existing, EntriesAnnotation)).Except(ours, StringComparer.Ordinal).ToList();
                if (stale.Count == 0 && IsFresh(existing, current, registries) is { } freshUntil
                    && Annotation(existing, EntriesAnnotation) == oursText && SecretOwnership.Points(existing, owner))
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
                && Annotation(existing, EntriesAnnotation) == oursText && SecretOwnership.Points(existing, owner))
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
            if (existing is null)
            {
                secret.Metadata.Labels = new Dictionary<string, string> { [ManagedByLabel] = ManagedByValue };
            }
            if (owner is not null)
            {
                SecretOwnership.PointAt(secret, owner);
            }

            try
            {
                if (existing is null)
                {
                    await retry.RunAsync(c => kubernetes.CreateSecretAsync(secret, ns, c), ct).ConfigureAwait(false);
                    return (TargetResult.Created, expiresAt);
                }
                // The resourceVersion read above travels in the body: the API server refuses the write if anyone wrote since.
                await retry.RunAsync(c => kubernetes.ReplaceSecretAsync(secret, ns, name, c), ct).ConfigureAwait(false);
                return (TargetResult.Updated, expiresAt);
            }
            catch (KubeApiException e) when (attempt < conflictRetries
                && (e.StatusCode == HttpStatusCode.Conflict || (existing is not null && e.StatusCode == HttpStatusCode.NotFound)))
            {
                // Someone else wrote (or created) it first, or garbage collection deleted it since the read: read again and start from what is there.
            }
            catch (KubeApiException e)
            {
                throw ApiFailure(e, existing is null ? "create" : "update", "Secret", ns, name);
            }
        }
    }

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
    private async Task<bool> EnsureServiceAccountAsync(string ns, string account, string secretName, Task<V1ServiceAccount> firstRead, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = attempt == 0 ? await firstRead.ConfigureAwait(false) : await ReadServiceAccountAsync(ns, account, ct).ConfigureAwait(false);
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
    /// kept, with a resourceVersion precondition and a bounded retry on conflict.
    /// </summary>
    public async Task<DetachResult> DetachAsync(string ns, string account, string secretName, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            V1ServiceAccount current;
            try
            {
                current = await retry.RunAsync(c => kubernetes.ReadServiceAccountAsync(ns, account, c), ct).ConfigureAwait(false);
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
