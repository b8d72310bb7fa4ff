using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher.Watch;

/// <summary>
/// Reconciles one namespace with the code path of a full run: a <see cref="RefreshRun"/> of the targets that select it,
/// each narrowed to that one namespace (and without the ledger, which only a full run reconciles).
/// </summary>
internal sealed class RefreshRunReconciler(
    IKubeApi kubernetes,
    RefresherConfiguration options,
    IReadOnlyDictionary<string, ICredentialSource> sources,
    TimeProvider time,
    ILogger<RefreshRun> logger,
    RefresherMetrics metrics) : INamespaceReconciler
{
    public bool Selects(V1Namespace ns) => options.Targets.Any(t => Selects(t, ns));

    /// <summary>A target selects a namespace it lists, every namespace with allNamespaces, or one whose labels match its namespaceSelector.</summary>
    internal static bool Selects(TargetConfiguration target, V1Namespace ns)
    {
        var name = ns.Metadata?.Name;
        if (name is null)
        {
            return false;
        }
        if (target.Namespaces.Count > 0)
        {
            return target.Namespaces.Contains(name, StringComparer.Ordinal);
        }
        if (target.AllNamespaces)
        {
            return true;
        }
        return target.NamespaceSelector is { } selector && EqualitySelector.Matches(selector, ns.Metadata?.Labels);
    }

    public async Task<IReadOnlyList<TargetOutcome>> ReconcileAsync(V1Namespace ns, CancellationToken ct)
    {
        var name = ns.Metadata!.Name!;
        var targets = options.Targets.Where(t => Selects(t, ns))
            .Select(t => t with { Namespaces = [name], NamespaceSelector = null, AllNamespaces = false })
            .ToList();
        if (targets.Count == 0)
        {
            return [];
        }
        var run = new RefreshRun(kubernetes, options with { Targets = targets, Ledger = null }, sources, time, logger, metrics);
        return (await run.RunAsync(ct).ConfigureAwait(false)).Outcomes;
    }
}

/// <summary>
/// Label matching for the equality-based selector grammar the API's <c>labelSelector</c> takes (kubernetes.io/docs/concepts/
/// overview/working-with-objects/labels/#label-selectors): comma-separated requirements, each <c>k=v</c>, <c>k==v</c>,
/// <c>k!=v</c> (which a missing key also matches), <c>k</c> (the key exists) or <c>!k</c> (it does not).
/// </summary>
internal static class EqualitySelector
{
    public static bool Matches(string selector, IReadOnlyDictionary<string, string>? labels)
    {
        foreach (var raw in selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string? value = null;
            bool ok;
            if (raw.Contains("!=", StringComparison.Ordinal))
            {
                var at = raw.IndexOf("!=", StringComparison.Ordinal);
                ok = labels?.TryGetValue(raw[..at].Trim(), out value) != true || value != raw[(at + 2)..].Trim();
            }
            else if (raw.Contains('=', StringComparison.Ordinal))
            {
                var op = raw.Contains("==", StringComparison.Ordinal) ? "==" : "=";
                var at = raw.IndexOf(op, StringComparison.Ordinal);
                ok = labels?.TryGetValue(raw[..at].Trim(), out value) == true && value == raw[(at + op.Length)..].Trim();
            }
            else if (raw.StartsWith('!'))
            {
                ok = labels?.ContainsKey(raw[1..].Trim()) != true;
            }
            else
            {
                ok = labels?.ContainsKey(raw) == true;
            }
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }
}
