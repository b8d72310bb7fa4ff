using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using RegistryInfra.Core.Kubernetes;
using RegistryInfra.Provider.Kubernetes;

namespace RegistryInfra.Provider.Resources.PullSecretAttachment;

/// <summary>
/// What a cluster-wide attachment selects, in the form the API and the matching take: one namespace, or the namespaces
/// a label selector (<see cref="NamespaceSelector"/>, the API's <c>labelSelector</c> string; null: every namespace)
/// matches but <see cref="Exclude"/>; and the accounts named, matched by <see cref="AccountSelector"/>, or (both null) all.
/// </summary>
internal sealed record ClusterSelection(
    string? Namespace,
    string? NamespaceSelector,
    IReadOnlyList<string> Exclude,
    IReadOnlyList<string>? Named,
    Selector? AccountSelector);

/// <summary>What a cluster-wide pass found and did.</summary>
/// <param name="NamespaceCount">The namespaces selected.</param>
/// <param name="AccountCount">The selected accounts that exist.</param>
/// <param name="AttachedCount">The selected accounts that name every wanted secret afterwards.</param>
/// <param name="Missing">The named accounts not found in a selected namespace, as <c>namespace/name</c>, sorted.</param>
/// <param name="Ours">Per account (<c>namespace/name</c>) of the selection, the wanted names that are RegistryInfra's there.</param>
/// <param name="Patched">The accounts written.</param>
internal sealed record ClusterOutcome(int NamespaceCount, int AccountCount, int AttachedCount, IReadOnlyList<string> Missing,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Ours, int Patched);

/// <summary>
/// The cluster-wide pass of <c>PullSecretAttachment</c>: no per-namespace record in the state, the annotation
/// <c>registryinfra.io/added-image-pull-secrets</c> on each account is the record. One pass lists the selected namespaces
/// (server-side <c>labelSelector</c>, in pages), then every service account of the cluster (<c>/api/v1/serviceaccounts</c>,
/// in pages) and, for each, makes it name the wanted secrets when it is selected and drops the names it records as
/// RegistryInfra's among <c>removable</c> that are not wanted there, so an account whose namespace or labels left the
/// selection loses exactly our names. Each write is the read-merge-patch with the <c>resourceVersion</c> read (the one the
/// list returned, then a fresh GET after each 409 Conflict). Pages are processed as they arrive, their writes with bounded
/// concurrency, so memory is bounded by a page and the set of selected namespace names, not by the accounts.
/// Semantics from kubernetes.io/docs/reference/using-api/api-concepts/: a LIST with <c>limit</c> returns a
/// <c>metadata.continue</c> token while more remain ("Retrieving large results sets in chunks"); a token whose snapshot was
/// compacted answers 410 Gone, and "if the client needs a consistent list, it must restart their list without the continue
/// field" (done here, at most <see cref="ListRestarts"/> times: a pass is idempotent, so a restart only repeats reads); a
/// patch carrying a stale <c>metadata.resourceVersion</c> answers 409 Conflict ("Patch and apply"); <c>labelSelector</c>
/// takes the selector's string form (kubernetes.io/docs/concepts/overview/working-with-objects/labels/#api).
/// </summary>
internal static class ClusterAttachment
{
    /// <summary>Items per LIST page: the API server's chunk size for kubectl (500), as the refresher uses.</summary>
    internal const int PageSize = 500;

    /// <summary>How often a list whose continue token expired is started again before the operation fails.</summary>
    internal const int ListRestarts = 3;

    /// <summary>Account writes in flight at once.</summary>
    internal const int Concurrency = 8;

    /// <summary>
    /// One pass. <paramref name="selection"/> null selects nothing (delete: only removals). With
    /// <paramref name="write"/> false nothing is written and the counts are of the cluster as it is (refresh).
    /// </summary>
    public static async Task<ClusterOutcome> RunAsync(KubeApi api, ClusterSelection? selection, IReadOnlyList<string> wanted,
        IReadOnlyCollection<string> removable, bool write, CancellationToken cancellationToken)
    {
        var namespaces = selection is null ? [] : await SelectedNamespacesAsync(api, selection, cancellationToken).ConfigureAwait(false);
        var accounts = 0;
        var attached = 0;
        var patched = 0;
        var seen = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var ours = new ConcurrentDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        await ListAsync(api, "/api/v1/serviceaccounts", null, "ServiceAccounts in all namespaces", async (items, ct) =>
        {
            var work = new List<(string Ns, string Name, JsonObject Item, IReadOnlyList<string> Wanted, bool Selected)>();
            foreach (var item in items)
            {
                var ns = (string?)item["metadata"]?["namespace"];
                var name = (string?)item["metadata"]?["name"];
                if (ns is null || name is null)
                {
                    continue;
                }
                var selected = selection is not null && namespaces.Contains(ns) && Selects(selection, name, item);
                if (selected && selection!.Named is not null)
                {
                    seen[ns + "/" + name] = true;
                }
                work.Add((ns, name, item, selected ? wanted : [], selected));
            }
            await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = ct }, async (w, c) =>
            {
                var result = await AccountPass.RunAsync(api, w.Ns, w.Name, w.Wanted, removable, w.Item, write, c).ConfigureAwait(false);
                if (result is null)
                {
                    if (w.Selected && selection!.Named is not null)
                    {
                        seen.TryRemove(w.Ns + "/" + w.Name, out _);
                    }
                    return;
                }
                if (result.Value.Patched)
                {
                    Interlocked.Increment(ref patched);
                }
                if (w.Selected)
                {
                    Interlocked.Increment(ref accounts);
                    if (w.Wanted.All(result.Value.Names.Contains))
                    {
                        Interlocked.Increment(ref attached);
                    }
                    if (selection!.Namespace is not null)
                    {
                        ours[w.Ns + "/" + w.Name] = result.Value.Ours;
                    }
                }
            }).ConfigureAwait(false);
        }, () =>
        {
            // A restarted list sees every account again: count afresh (the writes already made are not repeated).
            accounts = 0;
            attached = 0;
            seen.Clear();
            ours.Clear();
        }, cancellationToken).ConfigureAwait(false);

        var missing = new List<string>();
        if (selection?.Named is { } named)
        {
            foreach (var ns in namespaces.Order(StringComparer.Ordinal))
            {
                missing.AddRange(named.Select(a => ns + "/" + a).Where(key => !seen.ContainsKey(key)));
            }
        }
        return new ClusterOutcome(namespaces.Count, accounts, attached, missing, ours, patched);
    }

    private static bool Selects(ClusterSelection selection, string name, JsonObject item)
    {
        if (selection.Named is { } named)
        {
            return named.Contains(name, StringComparer.Ordinal);
        }
        return selection.AccountSelector is not { } selector || selector.Matches(LabelsOf(item));
    }

    /// <summary>The namespaces selected now: the one named, or those the selector matches (listed in pages), not Terminating, not excluded.</summary>
    internal static async Task<HashSet<string>> SelectedNamespacesAsync(KubeApi api, ClusterSelection selection, CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (selection.Namespace is { } one)
        {
            names.Add(one);
            return names;
        }
        await ListAsync(api, "/api/v1/namespaces", selection.NamespaceSelector, "Namespaces", (items, _) =>
        {
            foreach (var item in items)
            {
                // A namespace being deleted takes no new names (and may refuse writes); it is not selected.
                if ((string?)item["status"]?["phase"] == "Terminating" || (string?)item["metadata"]?["name"] is not { } name)
                {
                    continue;
                }
                if (!selection.Exclude.Any(p => NamespacePatterns.Matches(p, name)))
                {
                    names.Add(name);
                }
            }
            return Task.CompletedTask;
        }, names.Clear, cancellationToken).ConfigureAwait(false);
        return names;
    }

    /// <summary>Lists <paramref name="path"/> page by page, handing each page's items to <paramref name="page"/>; on an expired continue token, <paramref name="restart"/> and from the first page again.</summary>
    private static async Task ListAsync(KubeApi api, string path, string? labelSelector, string what, Func<IReadOnlyList<JsonObject>, CancellationToken, Task> page,
        Action restart, CancellationToken cancellationToken)
    {
        string? next = null;
        for (var restarts = 0; ;)
        {
            JsonObject list;
            try
            {
                list = await api.ListAsync(path, labelSelector, PageSize, next, what, cancellationToken).ConfigureAwait(false);
            }
            catch (KubeApiException e) when (e.Status == HttpStatusCode.Gone && next is not null && restarts < ListRestarts)
            {
                restarts++;
                next = null;
                restart();
                continue;
            }
            await page([.. (list["items"] as JsonArray ?? []).OfType<JsonObject>()], cancellationToken).ConfigureAwait(false);
            next = (string?)list["metadata"]?["continue"];
            if (string.IsNullOrEmpty(next))
            {
                return;
            }
        }
    }

    private static Dictionary<string, string> LabelsOf(JsonObject item) =>
        (item["metadata"]?["labels"] as JsonObject ?? [])
            .Where(kv => kv.Value is JsonValue)
            .ToDictionary(kv => kv.Key, kv => (string?)kv.Value ?? "", StringComparer.Ordinal);
}

/// <summary>One account's read-merge-patch, shared by the one-namespace and the cluster-wide modes.</summary>
internal static class AccountPass
{
    private const int ConflictRetries = 8;

    /// <summary>
    /// Makes the account name every one of <paramref name="wanted"/> (appended after its names) and drops the names of
    /// <paramref name="removable"/> that it records as RegistryInfra's and that are not wanted. <paramref name="current"/>
    /// is the account as already read (a list item), or null to GET it. Returns null when the account does not exist;
    /// else the wanted names that are RegistryInfra's there (added now or recorded before: a name the account had and
    /// does not record is someone else's), its names afterwards, and whether it was written.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Ours, IReadOnlyList<string> Names, bool Patched)?> RunAsync(KubeApi api, string ns, string account,
        IReadOnlyList<string> wanted, IReadOnlyCollection<string> removable, JsonObject? current, bool write, CancellationToken cancellationToken)
    {
        var path = PullSecretAttachmentResource.AccountPath(ns, account);
        var what = $"ServiceAccount {ns}/{account}";
        for (var attempt = 0; ; attempt++)
        {
            current ??= await api.GetAsync(path, what, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return null;
            }
            var names = PullSecretAttachmentResource.NamesOf(current);
            var recorded = PullSecretAttachmentResource.RecordedOf(current);
            var remove = removable.Where(n => !wanted.Contains(n) && recorded.Contains(n)).ToHashSet(StringComparer.Ordinal);
            var add = wanted.Where(n => !names.Contains(n)).ToList();
            var newNames = names.Where(n => !remove.Contains(n)).Concat(add).ToList();
            var newRecorded = recorded.Where(n => !remove.Contains(n)).Concat(add).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var ours = wanted.Where(n => add.Contains(n) || recorded.Contains(n)).ToList();
            if (!write)
            {
                return (wanted.Where(recorded.Contains).ToList(), names, false);
            }
            if (remove.Count == 0 && add.Count == 0)
            {
                return (ours, names, false);
            }
            var patch = PullSecretAttachmentResource.PatchOf((string?)current["metadata"]?["resourceVersion"], newNames, newRecorded);
            var (patched, conflict) = await api.MergePatchAsync(path, patch, what, cancellationToken).ConfigureAwait(false);
            if (conflict)
            {
                if (attempt >= ConflictRetries)
                {
                    throw new KubeApiException(HttpStatusCode.Conflict, $"patch {what}: it kept changing under {ConflictRetries + 1} attempts (409 Conflict each time); nothing of it was changed by this attempt, run the update again");
                }
                await Task.Delay(TimeSpan.FromMilliseconds(20 << Math.Min(attempt, 5)), cancellationToken).ConfigureAwait(false);
                current = null;
                continue;
            }
            return patched is null ? null : (ours, newNames, true);
        }
    }
}
