namespace RegistryInfra.Core.Credentials;

/// <summary>
/// A short-lived Google OAuth2 access token (user <c>oauth2accesstoken</c>) for GCR and Artifact Registry,
/// scoped to <c>https://www.googleapis.com/auth/cloud-platform</c>. The project's own client: no reflection, so the
/// NativeAOT plugin behaves as the tests in process do.
/// </summary>
/// <remarks>
/// The credential is a service-account key (JWT bearer grant, <see cref="GcpServiceAccountGrant"/>), or Application
/// Default Credentials (<see cref="GcpApplicationDefault"/>: <c>GOOGLE_APPLICATION_CREDENTIALS</c>, gcloud's file, the
/// metadata server of GKE Workload Identity and GCE). A credential's secret goes only to a Google token endpoint
/// (<see cref="GcpTokenEndpoints"/>). The token is cached and refreshed five minutes before it expires (or at half its
/// life, when shorter); one refresh at a time, shared by every concurrent caller, and a caller that gives up does not
/// cancel it for the others. A failed refresh is not cached. The expiry is the token's own (about an hour).
/// </remarks>
public sealed class GcpAccessTokenSource : ICredentialSource
{
    /// <summary>The user name registries expect with an access token.</summary>
    public const string AccessTokenUsername = "oauth2accesstoken";

    /// <summary>The OAuth scope requested.</summary>
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    private readonly Func<GcpTokenGrant> _resolve;
    private readonly TimeSpan _timeout;
    private readonly HttpClient? _http;
    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private GcpTokenGrant? _grant;
    private RegistryCredential? _cached;
    private DateTimeOffset _refreshAt;
    private Task<RegistryCredential>? _refreshing;

    /// <summary>A source over Application Default Credentials (looked up at the first request, not here).</summary>
    public GcpAccessTokenSource(TimeSpan? timeout = null, HttpClient? httpClient = null, TimeProvider? clock = null)
        : this(GcpApplicationDefault.Resolve, "gcp-token(application-default)", timeout, httpClient, clock)
    {
    }

    private GcpAccessTokenSource(Func<GcpTokenGrant> resolve, string description, TimeSpan? timeout, HttpClient? httpClient, TimeProvider? clock)
    {
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "gcpAccessToken: 'timeout' must be positive");
        }
        _resolve = resolve;
        Description = description;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
        _http = httpClient;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>A source that signs in as the service account of <paramref name="keyJson"/> (validated like
    /// <see cref="GcpServiceAccountKey.Parse"/>, and its <c>token_uri</c> under <see cref="GcpTokenEndpoints"/>).</summary>
    /// <exception cref="RegistryException">A <see cref="RegistryException.ForField"/> failure on <paramref name="field"/>.</exception>
    public static GcpAccessTokenSource FromServiceAccountKey(string keyJson, TimeSpan? timeout = null, string field = "serviceAccountKey",
        HttpClient? httpClient = null, TimeProvider? clock = null)
    {
        var grant = GcpServiceAccountGrant.Create(keyJson, field);
        return new GcpAccessTokenSource(() => grant, $"gcp-token({grant.Identity.ClientEmail})", timeout, httpClient, clock);
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public async ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default)
    {
        Task<RegistryCredential> refreshing;
        lock (_lock)
        {
            if (_cached is { } cached && _clock.GetUtcNow() < _refreshAt)
            {
                return cached;
            }
            refreshing = _refreshing ??= RefreshAsync();
        }
        return await refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<RegistryCredential> RefreshAsync()
    {
        // Off the caller's context and lock; bounded by the source's own timeout, not by any one caller's token.
        await Task.Yield();
        using var deadline = new CancellationTokenSource(_timeout);
        try
        {
            var grant = _grant ??= _resolve();
            var started = _clock.GetUtcNow();
            var (token, lifetime) = await grant.FetchAsync(_http, _clock, Description, deadline.Token).ConfigureAwait(false);
            var credential = new RegistryCredential(AccessTokenUsername, token, lifetime is { } l ? started + l : null);
            lock (_lock)
            {
                if (lifetime is { } life)
                {
                    _cached = credential;
                    _refreshAt = started + life - (life / 2 < RefreshMargin ? life / 2 : RefreshMargin);
                }
                _refreshing = null;
            }
            return credential;
        }
        catch (Exception e)
        {
            lock (_lock)
            {
                _refreshing = null;
            }
            if (e is OperationCanceledException && deadline.IsCancellationRequested)
            {
                throw new RegistryException(RegistryErrorKind.Unreachable, $"{Description}: no token within {_timeout.TotalSeconds} s");
            }
            if (e is RegistryException { Field: { } field } invalid)
            {
                // A credential file found by Application Default Credentials that cannot be used.
                throw new RegistryException(RegistryErrorKind.CredentialSource, $"{Description}: {field}: {invalid.Reason}", invalid);
            }
            throw;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}
