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
    CancellationToken runToken)
{
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
        try
        {
            credential = await retry.RunAsync(async ct => await source.GetCredentialAsync(ct).ConfigureAwait(false), runToken).ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            LogTokenFailed(logger, key, server, source.Description, e.Kind, e.Message);
            throw new TokenUnavailableException($"registry '{key}': {source.Description} failed ({e.Kind}): {e.Message}", e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTokenFailed(logger, key, server, source.Description, RegistryErrorKind.CredentialSource, e.GetType().Name);
            throw new TokenUnavailableException($"registry '{key}': {source.Description} failed ({e.GetType().Name})", e);
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
