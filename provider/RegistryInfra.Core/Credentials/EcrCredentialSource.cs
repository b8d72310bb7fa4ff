using System.Globalization;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;

namespace RegistryInfra.Core.Credentials;

/// <summary>
/// An ECR registry token (user <c>AWS</c>, valid 12 hours) from <c>GetAuthorizationToken</c>.
/// </summary>
/// <remarks>
/// AWS credentials come from the given <see cref="AWSCredentials"/> or, when none is given, from
/// AWSSDK.Core's default chain: environment variables (<c>AWS_ACCESS_KEY_ID</c>, ...), the shared profile,
/// web identity (<c>AWS_ROLE_ARN</c> + <c>AWS_WEB_IDENTITY_TOKEN_FILE</c>, as set by IRSA; STS is called
/// through AWSSDK.SecurityToken), the container endpoint (<c>AWS_CONTAINER_CREDENTIALS_FULL_URI</c> +
/// <c>AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE</c>, as set by EKS Pod Identity; the SDK only accepts plain
/// HTTP to loopback and the ECS/EKS link-local hosts), then instance metadata. The chain's result is cached
/// per source instance (the SDK refreshes temporary credentials before they expire, one resolution at a
/// time), so the source is safe to call concurrently; each call asks ECR for a fresh token.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The resolver holds only file watchers for the shared credentials files; sources live as long as the process.")]
public sealed class EcrCredentialSource : ICredentialSource
{
    private readonly EcrAuthorizationClient _client;
    private readonly AWSCredentials? _credentials;
    private readonly TimeSpan _timeout;

    // The chain is resolved (and its result cached) per source, not through the SDK's process-wide cache,
    // so that each source sees the environment as it is when the source is made.
    private readonly DefaultAWSCredentialsIdentityResolver _chain = new();

    /// <summary>A source for private ECR in <paramref name="region"/>.</summary>
    /// <param name="region">The AWS region of the registry, such as <c>eu-west-1</c>.</param>
    /// <param name="accountId">The 12-digit account of the registry, for descriptions (the token covers every
    /// registry the identity may read).</param>
    /// <param name="credentials">Explicit AWS credentials; null for the SDK's default chain.</param>
    /// <param name="endpoint">An endpoint override (VPC endpoint, or a test server).</param>
    /// <param name="useFips">Use the <c>ecr-fips</c> endpoint.</param>
    /// <param name="timeout">Limit for one call, credential resolution included (default 30 s).</param>
    /// <param name="httpClient">The HTTP client to send with (default: a shared one).</param>
    /// <param name="clock">The clock that dates signatures.</param>
    public EcrCredentialSource(string region, string? accountId = null, AWSCredentials? credentials = null, Uri? endpoint = null,
        bool useFips = false, TimeSpan? timeout = null, HttpClient? httpClient = null, TimeProvider? clock = null)
        : this(new EcrAuthorizationClient(region, EcrApi.Private, endpoint, useFips, httpClient, clock), accountId, credentials, timeout)
    {
    }

    private EcrCredentialSource(EcrAuthorizationClient client, string? accountId, AWSCredentials? credentials, TimeSpan? timeout)
    {
        if (accountId is not null && (accountId.Length != 12 || !accountId.All(char.IsAsciiDigit)))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"ecr: 'accountId' must be 12 digits, got '{accountId}'");
        }
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "ecr: 'timeout' must be positive");
        }
        _client = client;
        _credentials = credentials;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
        AccountId = accountId;
        Description = client.Api == EcrApi.Public
            ? "ecr-public(us-east-1)"
            : accountId is null ? $"ecr({client.Region})" : $"ecr({accountId}, {client.Region})";
    }

    /// <summary>A source for ECR Public (<c>public.ecr.aws</c>): the token is issued in <c>us-east-1</c> only,
    /// user <c>AWS</c>, and gives higher pull limits than anonymous access.</summary>
    public static EcrCredentialSource ForPublic(AWSCredentials? credentials = null, Uri? endpoint = null, TimeSpan? timeout = null,
        HttpClient? httpClient = null, TimeProvider? clock = null) =>
        new(new EcrAuthorizationClient("us-east-1", EcrApi.Public, endpoint, false, httpClient, clock), null, credentials, timeout);

    /// <summary>The account given, if any.</summary>
    public string? AccountId { get; }

    /// <summary>The ECR client in use (endpoint, region, service).</summary>
    public EcrAuthorizationClient Client => _client;

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public async ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            var credentials = await ResolveCredentialsAsync(deadline.Token).ConfigureAwait(false);
            var authorization = await _client.GetAuthorizationTokenAsync(credentials, Description, deadline.Token).ConfigureAwait(false);
            return new RegistryCredential(authorization.Username, authorization.Password, authorization.ExpiresAt);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable,
                $"{Description}: no answer within {_timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s from {_client.Endpoint.Host} or the AWS credential provider");
        }
    }

    private async Task<ImmutableCredentials> ResolveCredentialsAsync(CancellationToken cancellationToken)
    {
        AWSCredentials credentials;
        try
        {
            credentials = _credentials ?? await _chain.ResolveIdentityAsync(null, cancellationToken).ConfigureAwait(false);
            return await credentials.GetCredentialsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonServiceException e)
        {
            // STS (web identity) or a container endpoint refused: name the code, never the token.
            var kind = e.StatusCode == System.Net.HttpStatusCode.TooManyRequests || e.ErrorCode is "Throttling" or "ThrottlingException"
                ? RegistryErrorKind.RateLimited
                : (int)e.StatusCode >= 500 ? RegistryErrorKind.Unreachable : RegistryErrorKind.CredentialSource;
            throw new RegistryException(kind, $"{Description}: the AWS credential provider failed with {e.ErrorCode ?? "HTTP " + (int)e.StatusCode} ({e.GetType().Name})", e);
        }
        catch (AmazonClientException e)
        {
            throw new RegistryException(RegistryErrorKind.CredentialSource,
                $"{Description}: no usable AWS credentials (environment, profile, web identity, container endpoint, instance metadata): {e.GetType().Name}", e);
        }
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}
