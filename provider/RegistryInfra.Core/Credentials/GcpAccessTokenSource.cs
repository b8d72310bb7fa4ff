using Google;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;

namespace RegistryInfra.Core.Credentials;

/// <summary>
/// A short-lived Google OAuth2 access token (user <c>oauth2accesstoken</c>) for GCR and Artifact Registry,
/// scoped to <c>https://www.googleapis.com/auth/cloud-platform</c>, through Google.Apis.Auth.
/// </summary>
/// <remarks>
/// The Google credential is Application Default Credentials (<c>GOOGLE_APPLICATION_CREDENTIALS</c>, gcloud,
/// GKE Workload Identity through the metadata server), a service-account key, or any credential given.
/// Google.Apis.Auth caches the token and refreshes it before it expires, one refresh at a time, so the
/// source is safe to call concurrently. The expiry is the token's own (about an hour).
/// </remarks>
public sealed class GcpAccessTokenSource : ICredentialSource
{
    /// <summary>The user name registries expect with an access token.</summary>
    public const string AccessTokenUsername = "oauth2accesstoken";

    /// <summary>The OAuth scope requested.</summary>
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    private readonly Lazy<Task<GoogleCredential>> _credential;
    private readonly TimeSpan _timeout;

    /// <summary>A source over <paramref name="credential"/>, or Application Default Credentials when null.</summary>
    public GcpAccessTokenSource(GoogleCredential? credential = null, TimeSpan? timeout = null)
        : this(credential is null ? null : Task.FromResult(credential), credential is null ? "gcp-token(application-default)" : "gcp-token(credential)", timeout)
    {
    }

    private GcpAccessTokenSource(Task<GoogleCredential>? credential, string description, TimeSpan? timeout)
    {
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "gcpAccessToken: 'timeout' must be positive");
        }
        Description = description;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
        _credential = new Lazy<Task<GoogleCredential>>(
            async () => (await (credential ?? GoogleCredential.GetApplicationDefaultAsync()).ConfigureAwait(false)).CreateScoped(CloudPlatformScope),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>A source that signs in as the service account of <paramref name="keyJson"/> (validated
    /// like <see cref="GcpServiceAccountKey.Parse"/>); the key's <c>token_uri</c> is honoured.</summary>
    public static GcpAccessTokenSource FromServiceAccountKey(string keyJson, TimeSpan? timeout = null, string field = "serviceAccountKey")
    {
        var key = GcpServiceAccountKey.Parse(keyJson, field);
        var serviceAccount = CredentialFactory.FromJson<ServiceAccountCredential>(keyJson);
        return new GcpAccessTokenSource(Task.FromResult(serviceAccount.ToGoogleCredential()), $"gcp-token({key.ClientEmail})", timeout);
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public async ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            GoogleCredential credential;
            try
            {
                credential = await _credential.Value.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (InvalidOperationException e)
            {
                throw new RegistryException(RegistryErrorKind.CredentialSource,
                    $"{Description}: no Google Application Default Credentials (set GOOGLE_APPLICATION_CREDENTIALS, or run on GKE with Workload Identity)", e);
            }
            var access = (ITokenAccess)credential;
            var token = await access.GetAccessTokenForRequestAsync(null, deadline.Token).ConfigureAwait(false);
            if (string.IsNullOrEmpty(token))
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{Description}: Google returned an empty access token");
            }
            DateTimeOffset? expiresAt = credential.UnderlyingCredential is ServiceCredential { Token: { ExpiresInSeconds: { } seconds } response }
                ? new DateTimeOffset(DateTime.SpecifyKind(response.IssuedUtc, DateTimeKind.Utc)).AddSeconds(seconds)
                : null;
            return new RegistryCredential(AccessTokenUsername, token, expiresAt);
        }
        catch (TokenResponseException e)
        {
            var status = e.StatusCode is { } code ? (int)code : 0;
            var kind = status == 429 ? RegistryErrorKind.RateLimited : status >= 500 ? RegistryErrorKind.Unreachable : RegistryErrorKind.CredentialSource;
            throw new RegistryException(kind, $"{Description}: the Google token endpoint refused the request: {e.Error?.Error ?? "unknown error"} (HTTP {status})", e);
        }
        catch (GoogleApiException e)
        {
            throw new RegistryException(RegistryErrorKind.CredentialSource, $"{Description}: Google API error HTTP {(int)e.HttpStatusCode}", e);
        }
        catch (HttpRequestException e)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable, $"{Description}: cannot reach the Google token endpoint: {e.Message}", e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable, $"{Description}: no token within {_timeout.TotalSeconds} s");
        }
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}
