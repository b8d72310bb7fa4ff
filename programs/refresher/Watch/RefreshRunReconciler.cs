using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Kubernetes;
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

    /// <summary>A target selects a namespace it lists, or (unless excludeNamespaces names it) every namespace with allNamespaces, or one whose labels match its namespaceSelector.</summary>
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
        // An excluded namespace is treated exactly like one not selected.
        if (target.ExcludeNamespaces.Any(p => NamespacePatterns.Matches(p, name)))
        {
            return false;
        }
        if (target.AllNamespaces)
        {
            return true;
        }
        return target.NamespaceSelector is { } text && Selector.TryParse(text, out var selector, out _) && selector.Matches(ns.Metadata?.Labels);
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
