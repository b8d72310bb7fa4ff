using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Refresher;

/// <summary>
/// One token per registry per run, fetched on first need and shared by every namespace; a failure is
/// shared too, so a broken source is asked once, not once per namespace.
/// </summary>
internal sealed partial class TokenBroker(
    IReadOnlyDictionary<string, (string Server, ICredentialSource Source)> registries,
    TransientRetry retry,
    TimeProvider time,
    ILogger logger,
    CancellationToken runToken,
    TimeSpan identityWait = default)
{
    /// <summary>The first wait after a refusal that may be a cloud identity still propagating; doubles, capped at 30 s.</summary>
    internal static readonly TimeSpan IdentityFirstDelay = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Lazy<Task<RegistryCredential>>> _tokens = new(StringComparer.Ordinal);
    private int _requests;

    /// <summary>How many times a source was asked (one per registry that was needed).</summary>
    public int Requests => _requests;

    public IEnumerable<(string Registry, RegistryCredential Credential)> Obtained =>
        _tokens.Where(kv => kv.Value.IsValueCreated && kv.Value.Value.IsCompletedSuccessfully)
            .Select(kv => (kv.Key, kv.Value.Value.Result));

    public Task<RegistryCredential> GetAsync(string registry) =>
        _tokens.GetOrAdd(registry, key => new Lazy<Task<RegistryCredential>>(() => FetchAsync(key))).Value;

    private async Task<RegistryCredential> FetchAsync(string key)
    {
        Interlocked.Increment(ref _requests);
        var (server, source) = registries[key];
        RegistryCredential credential;
        var started = time.GetTimestamp();
        var delay = TimeSpan.FromTicks(Math.Min(IdentityFirstDelay.Ticks, identityWait.Ticks / 8));
        var waited = false;
        while (true)
        {
            try
            {
                credential = await retry.RunAsync(async ct => await source.GetCredentialAsync(ct).ConfigureAwait(false), runToken).ConfigureAwait(false);
                break;
            }
            catch (RegistryException e) when (MayBePropagating(e) && time.GetElapsedTime(started) + delay <= identityWait)
            {
                // A new IAM role, policy or Workload Identity binding takes a while to be seen everywhere (seconds to
                // minutes): the first run after a deployment waits for it instead of failing the update.
                LogIdentityWaiting(logger, key, server, source.Description, e.Kind, e.Message, delay.TotalSeconds);
                waited = true;
                await Task.Delay(delay, time, runToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
            catch (RegistryException e)
            {
                LogTokenFailed(logger, key, server, source.Description, e.Kind, e.Message);
                var after = waited ? $" after waiting {time.GetElapsedTime(started).TotalSeconds:F0} s for the cloud identity to propagate" : "";
                throw new TokenUnavailableException($"registry '{key}': {source.Description} failed ({e.Kind}){after}: {e.Message}", e);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogTokenFailed(logger, key, server, source.Description, RegistryErrorKind.CredentialSource, e.GetType().Name);
                throw new TokenUnavailableException($"registry '{key}': {source.Description} failed ({e.GetType().Name})", e);
            }
        }
        var now = time.GetUtcNow();
        if (string.IsNullOrEmpty(credential.Username) || string.IsNullOrEmpty(credential.Password))
        {
            LogTokenFailed(logger, key, server, source.Description, RegistryErrorKind.InvalidResponse, "empty user name or password");
            throw new TokenUnavailableException($"registry '{key}': {source.Description} returned an empty user name or password");
        }
        if (credential.ExpiresAt is { } at && at <= now)
        {
            LogTokenFailed(logger, key, server, source.Description, RegistryErrorKind.InvalidResponse, "already expired");
            throw new TokenUnavailableException($"registry '{key}': {source.Description} returned a credential that expired at {at:O}");
        }
        LogTokenObtained(logger, key, server, source.Description, new UtcTime(credential.ExpiresAt));
        return credential;
    }

    /// <summary>Refusals that a cloud identity still propagating gives: denied, unauthorised, or the source failing to get credentials.</summary>
    internal static bool MayBePropagating(RegistryException e) =>
        e.Kind is RegistryErrorKind.Unauthorized or RegistryErrorKind.Forbidden or RegistryErrorKind.CredentialSource;

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Token for {Registry} ({Server}) from {Source} refused: {ErrorKind} {Reason}; the cloud identity may still be propagating, retrying in {DelaySeconds:F0} s")]
    private static partial void LogIdentityWaiting(ILogger logger, string registry, string server, string source, RegistryErrorKind errorKind, string reason, double delaySeconds);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Token obtained for {Registry} ({Server}) from {Source}, expires {ExpiresAt}")]
    private static partial void LogTokenObtained(ILogger logger, string registry, string server, string source, UtcTime expiresAt);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "Token for {Registry} ({Server}) from {Source} failed: {ErrorKind} {Reason}")]
    private static partial void LogTokenFailed(ILogger logger, string registry, string server, string source, RegistryErrorKind errorKind, string reason);
}

/// <summary>A registry's token could not be obtained in this run; the message is secret-free.</summary>
internal sealed class TokenUnavailableException : Exception
{
    public TokenUnavailableException(string message) : base(message) { }

    public TokenUnavailableException(string message, Exception innerException) : base(message, innerException) { }

    public TokenUnavailableException() : base("token unavailable") { }
}
