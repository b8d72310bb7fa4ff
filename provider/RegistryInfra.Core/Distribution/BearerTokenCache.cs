using System.Collections.Concurrent;

namespace RegistryInfra.Core.Distribution;

/// <summary>A registry bearer token and when it stops being usable. <see cref="ToString"/> hides the token.</summary>
/// <param name="Value">The token.</param>
/// <param name="ExpiresAt">When the issuer says it expires.</param>
/// <param name="RenewAt">When the cache stops handing it out: before expiry by the renewal margin, at most half its lifetime.</param>
internal sealed record BearerToken(string Value, DateTimeOffset ExpiresAt, DateTimeOffset RenewAt)
{
    public override string ToString() => $"BearerToken {{ Value = ***, ExpiresAt = {ExpiresAt:O} }}";
}

/// <summary>What a token is cached under: the registry, the set of scopes and who asked (a hash, never the secret).</summary>
internal sealed record TokenKey(string Registry, string Scopes, string Identity);

/// <summary>
/// Bearer tokens by key until shortly before they expire. Concurrent callers for the same key share one
/// token request; failed requests are not cached.
/// </summary>
internal sealed class BearerTokenCache(TimeProvider time)
{
    private readonly ConcurrentDictionary<TokenKey, Lazy<Task<BearerToken>>> _entries = new();

    public int Count => _entries.Count;

    /// <summary>
    /// A usable token for <paramref name="key"/>. <paramref name="rejected"/> is a token the registry just refused:
    /// it is not handed out again, but a newer one fetched meanwhile by another caller is.
    /// </summary>
    public async Task<BearerToken> GetAsync(
        TokenKey key,
        Func<CancellationToken, Task<BearerToken>> fetch,
        BearerToken? rejected,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_entries.TryGetValue(key, out var existing))
            {
                var task = existing.Value;
                if (!task.IsCompleted)
                {
                    try
                    {
                        var shared = await task.WaitAsync(cancellationToken);
                        if (!ReferenceEquals(shared, rejected))
                        {
                            return shared;
                        }
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // the caller that started this request gave up; start our own below
                    }
                }
                else if (task.IsCompletedSuccessfully && !ReferenceEquals(task.Result, rejected) && IsFresh(task.Result))
                {
                    return task.Result;
                }
                var replacement = NewEntry(key, fetch, cancellationToken);
                if (_entries.TryUpdate(key, replacement, existing))
                {
                    return await replacement.Value;
                }
                continue;
            }
            var created = NewEntry(key, fetch, cancellationToken);
            if (_entries.TryAdd(key, created))
            {
                return await created.Value;
            }
        }
    }

    public void Clear() => _entries.Clear();

    private Lazy<Task<BearerToken>> NewEntry(TokenKey key, Func<CancellationToken, Task<BearerToken>> fetch, CancellationToken cancellationToken)
    {
        Lazy<Task<BearerToken>>? self = null;
        self = new Lazy<Task<BearerToken>>(async () =>
        {
            try
            {
                return await fetch(cancellationToken);
            }
            catch
            {
                _entries.TryRemove(new KeyValuePair<TokenKey, Lazy<Task<BearerToken>>>(key, self!));
                throw;
            }
        }, LazyThreadSafetyMode.ExecutionAndPublication);
        return self;
    }

    private bool IsFresh(BearerToken token) => time.GetUtcNow() < token.RenewAt;
}
