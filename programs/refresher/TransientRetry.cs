using System.Net;
using RegistryInfra.Core;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher;

/// <summary>Retries transient failures (throttling, 5xx, timeouts, connection errors) with jittered exponential backoff, within the caller's token.</summary>
internal sealed class TransientRetry(int retries, TimeSpan baseDelay, TimeProvider time)
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);

    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await action(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < retries && IsTransient(e, cancellationToken))
            {
                await Task.Delay(Delay(attempt), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public Task RunAsync(Func<CancellationToken, Task> action, CancellationToken cancellationToken) =>
        RunAsync<bool>(async c =>
        {
            await action(c).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Full jitter: a uniform delay in [0, min(max, base·2^attempt)], so many workers do not retry in step.</summary>
    private TimeSpan Delay(int attempt)
    {
        var ceiling = Math.Min(MaxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }

    public static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        KubeApiException h => h.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout,
        HttpRequestException => true,
        RegistryException r => r.IsTransient,
        // A timeout of one request (HttpClient's own), not the run's cancellation.
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };
}
