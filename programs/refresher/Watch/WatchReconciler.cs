using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.References;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher.Watch;

/// <summary>
/// The watch loop's reconciliation of one namespace: <see cref="NamespaceReconciler"/>, the code path of a full run, built
/// from the same pieces <see cref="RefreshRun"/> builds for a run (retry, token broker, secret refresher, failure events).
/// What those pieces keep (each registry's token, each copy source, each cluster owner's uid) is kept for one epoch: from
/// one full run to the next (<see cref="NewEpoch"/>), so a burst of new namespaces costs one token per registry, and no
/// token is kept past the timer that renews tokens (a full run of the token targets, after which a new epoch starts).
/// </summary>
internal sealed class WatchReconciler(
    IKubeApi kubernetes,
    RefresherConfiguration options,
    IReadOnlyDictionary<string, ICredentialSource> sources,
    TimeProvider time,
    ILogger logger,
    RefresherMetrics metrics) : INamespaceReconciler, IDisposable
{
    private readonly object _gate = new();
    private readonly List<Epoch> _retired = [];
    private Epoch? _epoch;

    private sealed class Epoch : IDisposable
    {
        public Epoch(IKubeApi kubernetes, RefresherConfiguration options, IReadOnlyDictionary<string, ICredentialSource> sources, TimeProvider time, ILogger logger,
            RefresherMetrics metrics)
        {
            var retry = new TransientRetry(options.EffectiveTransientRetries, options.EffectiveRetryBaseDelay, time);
            var registries = options.Registries.ToDictionary(r => r.Key, r => (RegistryHost.Parse(r.Server).Name, sources[r.Key]), StringComparer.Ordinal);
            Tokens = new TokenBroker(registries, retry, time, logger, Stop.Token);
            var refresher = new SecretRefresher(kubernetes, Tokens, retry, time, options.EffectiveRenewBefore, options.EffectiveConflictRetries);
            Reconciler = new NamespaceReconciler(kubernetes, options, refresher, new FailureEvents(kubernetes, time, logger), retry, logger, metrics);
        }

        public CancellationTokenSource Stop { get; } = new();

        public TokenBroker Tokens { get; }

        public NamespaceReconciler Reconciler { get; }

        public void Dispose()
        {
            Stop.Cancel();
            Stop.Dispose();
        }
    }

    private Epoch Current
    {
        get
        {
            lock (_gate)
            {
                return _epoch ??= new Epoch(kubernetes, options, sources, time, logger, metrics);
            }
        }
    }

    public bool Selects(V1Namespace ns)
    {
        var reconciler = Current.Reconciler;
        return options.Targets.Any(t => reconciler.Selects(t, ns));
    }

    public async Task<IReadOnlyList<TargetOutcome>> ReconcileAsync(V1Namespace ns, CancellationToken ct)
    {
        var epoch = Current;
        var before = epoch.Tokens.Requests;
        var outcomes = await epoch.Reconciler.ReconcileAsync(ns, ct).ConfigureAwait(false);
        metrics.TokensRequested(epoch.Tokens.Requests - before);
        return outcomes;
    }

    public bool Copies(V1Namespace ns, SecretSourceConfiguration source)
    {
        var reconciler = Current.Reconciler;
        return options.Targets.Any(t => t.Source is { } s && s.Namespace == source.Namespace && s.Name == source.Name && reconciler.Selects(t, ns));
    }

    public void SourceChanged(SecretSourceConfiguration source) => Current.Reconciler.ForgetSource(source);

    /// <summary>Forgets the tokens, sources and owners kept (after a full run): the next reconciliation reads them again.</summary>
    public void NewEpoch()
    {
        lock (_gate)
        {
            // Not disposed at once: a reconciliation may still be using it; it is when the watch loop ends.
            if (_epoch is not null)
            {
                _retired.Add(_epoch);
            }
            _epoch = null;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _epoch?.Dispose();
            _epoch = null;
            _retired.ForEach(e => e.Dispose());
            _retired.Clear();
        }
    }
}
