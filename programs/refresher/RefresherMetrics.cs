using System.Diagnostics.Metrics;

namespace RegistryInfra.Refresher;

/// <summary>
/// Metrics on <see cref="System.Diagnostics.Metrics"/> (meter <c>RegistryInfra.Refresher</c>), so any
/// listener (OpenTelemetry's MeterProvider, dotnet-counters) can export them without a dependency here.
/// </summary>
internal sealed class RefresherMetrics : IDisposable
{
    public const string MeterName = "RegistryInfra.Refresher";

    private readonly Meter _meter;
    private readonly Counter<long> _writes;
    private readonly Counter<long> _unchanged;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _tokenRequests;
    private long? _expirySeconds;

    public RefresherMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _writes = _meter.CreateCounter<long>("registryinfra.refresher.secret.writes", "{write}", "Pull secrets created or updated.");
        _unchanged = _meter.CreateCounter<long>("registryinfra.refresher.secret.unchanged", "{secret}", "Pull secrets checked and left as they were.");
        _failures = _meter.CreateCounter<long>("registryinfra.refresher.target.failures", "{failure}", "Targets (secret in a namespace) that failed.");
        _tokenRequests = _meter.CreateCounter<long>("registryinfra.refresher.token.requests", "{request}", "Tokens asked of credential sources.");
        // No measurement at all when no expiry is known: a NaN or 0 would read as "expired" on a dashboard.
        _meter.CreateObservableGauge("registryinfra.refresher.token.expiry",
            () => _expirySeconds is { } at ? [new Measurement<long>(at)] : Array.Empty<Measurement<long>>(),
            "s", "When the earliest token of the run expires, as Unix time.");
    }

    public void Written(string kind) => _writes.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Unchanged() => _unchanged.Add(1);

    public void Failed(string reason) => _failures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void TokensRequested(int count) => _tokenRequests.Add(count);

    public void Expiry(DateTimeOffset? at) => _expirySeconds = at?.ToUnixTimeSeconds();

    /// <summary>The meter, so an in-process listener can tell this instance's instruments from another's.</summary>
    internal Meter Meter => _meter;

    public void Dispose() => _meter.Dispose();
}
