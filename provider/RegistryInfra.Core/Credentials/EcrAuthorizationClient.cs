using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Amazon.Util;

namespace RegistryInfra.Core.Credentials;

/// <summary>Which ECR API a <see cref="EcrAuthorizationClient"/> calls.</summary>
public enum EcrApi
{
    /// <summary>Private ECR (<c>ACCOUNT.dkr.ecr.REGION.amazonaws.com</c>): service <c>ecr</c>, target
    /// <c>AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken</c>.</summary>
    Private,
    /// <summary>ECR Public (<c>public.ecr.aws</c>): service <c>ecr-public</c>, always in <c>us-east-1</c>,
    /// target <c>SpencerFrontendService.GetAuthorizationToken</c>.</summary>
    Public,
}

/// <summary>The answer of <c>GetAuthorizationToken</c>, decoded.</summary>
/// <param name="Username">The user name from the token (always <c>AWS</c> today).</param>
/// <param name="Password">The registry password. Never logged.</param>
/// <param name="ExpiresAt">When the token expires (12 hours after issue).</param>
/// <param name="ProxyEndpoint">The registry URL the token is for (private ECR only).</param>
public sealed record EcrAuthorization(string Username, string Password, DateTimeOffset ExpiresAt, Uri? ProxyEndpoint)
{
    /// <summary>Shows everything but the password.</summary>
    public override string ToString() =>
        $"EcrAuthorization {{ Username = {Username}, Password = ***, ExpiresAt = {ExpiresAt.ToString("O", CultureInfo.InvariantCulture)}, ProxyEndpoint = {ProxyEndpoint} }}";
}

/// <summary>
/// A small typed client for the one ECR call the project needs, <c>GetAuthorizationToken</c>, spoken
/// over the AWS JSON 1.1 protocol and signed with Signature Version 4 by AWSSDK.Core's signer (AWSSDK.ECR
/// is not available). The request body is <c>{}</c>: <c>registryIds</c> is deprecated and ignored by the
/// API, the token is valid for every registry the identity may pull from. Safe to use concurrently.
/// </summary>
public sealed class EcrAuthorizationClient
{
    private const string TargetHeader = "X-Amz-Target";
    private const string JsonContentType = "application/x-amz-json-1.1";
    private static readonly byte[] RequestBody = "{}"u8.ToArray();
    private static readonly HttpClient SharedHttp = new() { Timeout = Timeout.InfiniteTimeSpan };

    private readonly HttpClient _http;
    private readonly TimeProvider _clock;

    /// <summary>A client for <paramref name="region"/> that sends to <paramref name="endpoint"/>
    /// (or the region's public endpoint, see <see cref="DefaultEndpoint"/>).</summary>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/> for a malformed region or endpoint.</exception>
    public EcrAuthorizationClient(string region, EcrApi api = EcrApi.Private, Uri? endpoint = null, bool useFips = false,
        HttpClient? httpClient = null, TimeProvider? clock = null)
    {
        Region = ValidateRegion(region, "region");
        Api = api;
        if (endpoint is not null && (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttps && endpoint.Scheme != Uri.UriSchemeHttp)))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"ecr: 'endpoint' must be an absolute http(s) URL, got '{endpoint}'");
        }
        Endpoint = endpoint ?? DefaultEndpoint(Region, api, useFips);
        _http = httpClient ?? SharedHttp;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>The signing region.</summary>
    public string Region { get; }

    /// <summary>Private ECR or ECR Public.</summary>
    public EcrApi Api { get; }

    /// <summary>Where requests go.</summary>
    public Uri Endpoint { get; }

    /// <summary>The SigV4 service name.</summary>
    public string SigningService => Api == EcrApi.Private ? "ecr" : "ecr-public";

    /// <summary>The <c>X-Amz-Target</c> of GetAuthorizationToken.</summary>
    public string Target => Api == EcrApi.Private
        ? "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
        : "SpencerFrontendService.GetAuthorizationToken";

    /// <summary>The region's endpoint in its partition (see <see cref="References.AwsPartition.EcrEndpoint"/>):
    /// <c>https://api.ecr.REGION.amazonaws.com</c>, <c>.amazonaws.com.cn</c> in China, the ISO and EU Sovereign
    /// suffixes, <c>https://ecr-fips.REGION.SUFFIX</c> for FIPS, <c>https://api.ecr-public.REGION.amazonaws.com</c> for ECR Public.</summary>
    public static Uri DefaultEndpoint(string region, EcrApi api = EcrApi.Private, bool useFips = false, bool dualStack = false) =>
        References.AwsPartition.OfRegion(ValidateRegion(region, "region")).EcrEndpoint(region, api == EcrApi.Public, useFips, dualStack);

    /// <summary>Calls GetAuthorizationToken with <paramref name="credentials"/>.</summary>
    /// <exception cref="RegistryException">RateLimited (throttling, HTTP 429), Unreachable (connection
    /// failures, HTTP 5xx), CredentialSource (AWS rejected the call: the message names the AWS error code),
    /// InvalidResponse (a body that is not the documented shape).</exception>
    public async Task<EcrAuthorization> GetAuthorizationTokenAsync(ImmutableCredentials credentials, string description, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        using var request = BuildSignedRequest(credentials);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable, $"{description}: cannot reach {Endpoint.Host}: {e.Message}", e);
        }
        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw MapError(response, body, description);
            }
            return ParseAuthorization(body, description);
        }
    }

    internal HttpRequestMessage BuildSignedRequest(ImmutableCredentials credentials)
    {
        // AWSSDK.Core's AWS4Signer canonicalises and signs an IRequest; DefaultRequest carries ours.
        var sdkRequest = new DefaultRequest(new GetAuthorizationTokenRequest(), SigningService)
        {
            HttpMethod = "POST",
            Endpoint = Endpoint,
            ResourcePath = "/",
            Content = RequestBody,
            AuthenticationRegion = Region,
            OverrideSigningServiceName = SigningService,
        };
        sdkRequest.Headers[HeaderKeys.ContentTypeHeader] = JsonContentType;
        sdkRequest.Headers[TargetHeader] = Target;
        if (credentials.UseToken)
        {
            sdkRequest.Headers[HeaderKeys.XAmzSecurityTokenHeader] = credentials.Token;
        }
        // Any concrete ClientConfig serves: the signer reads only the region, service and URL set here.
        var config = new Amazon.SecurityToken.AmazonSecurityTokenServiceConfig
        {
            AuthenticationRegion = Region,
            AuthenticationServiceName = SigningService,
            ServiceURL = Endpoint.ToString(),
        };
        var signature = new AWS4Signer().SignRequest(sdkRequest, config, null, credentials.AccessKey, credentials.SecretKey, _clock.GetUtcNow().UtcDateTime);

        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Endpoint, "/"))
        {
            Content = new ByteArrayContent(RequestBody),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(JsonContentType);
        foreach (var (name, value) in sdkRequest.Headers)
        {
            if (name.Equals(HeaderKeys.ContentTypeHeader, StringComparison.OrdinalIgnoreCase) ||
                name.Equals(HeaderKeys.HostHeader, StringComparison.OrdinalIgnoreCase) ||
                name.Equals(HeaderKeys.ContentLengthHeader, StringComparison.OrdinalIgnoreCase))
            {
                continue; // HttpClient sends these from the URI and the content
            }
            request.Headers.TryAddWithoutValidation(name, value);
        }
        request.Headers.TryAddWithoutValidation(HeaderKeys.AuthorizationHeader, signature.ForAuthorizationHeader);
        return request;
    }

    private sealed class GetAuthorizationTokenRequest : AmazonWebServiceRequest;

    private RegistryException MapError(HttpResponseMessage response, byte[] body, string description)
    {
        var status = (int)response.StatusCode;
        var code = ErrorCode(response, body);
        var where = $"{description}: ECR GetAuthorizationToken in {Region} failed";
        if (code is "ThrottlingException" or "ThrottledException" or "TooManyRequestsException" || response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return new RegistryException(RegistryErrorKind.RateLimited, $"{where}: throttled ({code ?? "HTTP 429"}); retry later");
        }
        if (status >= 500)
        {
            return new RegistryException(RegistryErrorKind.Unreachable, $"{where}: HTTP {status}{(code is null ? "" : " " + code)} (service error; retry later)");
        }
        var hint = code switch
        {
            "ExpiredTokenException" => "the AWS session credentials have expired",
            "UnrecognizedClientException" => "the AWS access key id is not known (wrong key, or a session token missing)",
            "InvalidSignatureException" or "SignatureDoesNotMatch" => "the request signature does not match (wrong secret key, or clock skew)",
            "AccessDeniedException" => "the identity may not call ecr:GetAuthorizationToken",
            "IncompleteSignatureException" or "MissingAuthenticationTokenException" => "the request is not signed correctly",
            null => "unrecognised error response",
            _ => "AWS rejected the request",
        };
        return new RegistryException(RegistryErrorKind.CredentialSource, $"{where} with HTTP {status} {code ?? "(no error code)"}: {hint}");
    }

    private static string? ErrorCode(HttpResponseMessage response, byte[] body)
    {
        string? raw = null;
        if (response.Headers.TryGetValues("x-amzn-ErrorType", out var values))
        {
            raw = values.FirstOrDefault();
        }
        if (raw is null)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind == JsonValueKind.Object &&
                    (document.RootElement.TryGetProperty("__type", out var type) || document.RootElement.TryGetProperty("code", out type)) &&
                    type.ValueKind == JsonValueKind.String)
                {
                    raw = type.GetString();
                }
            }
            catch (JsonException)
            {
                return null;
            }
        }
        if (string.IsNullOrEmpty(raw))
        {
            return null;
        }
        // "com.amazonaws.ecr#ThrottlingException" or "ThrottlingException:http://internal..."
        var hash = raw.LastIndexOf('#');
        if (hash >= 0)
        {
            raw = raw[(hash + 1)..];
        }
        var colon = raw.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            raw = raw[..colon];
        }
        // An error code is an identifier; anything else is not echoed.
        return raw.Length is > 0 and <= 64 && raw.All(char.IsAsciiLetterOrDigit) ? raw : null;
    }

    private EcrAuthorization ParseAuthorization(byte[] body, string description)
    {
        var invalid = $"{description}: ECR GetAuthorizationToken in {Region} returned an invalid response";
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("authorizationData", out var data))
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{invalid}: no 'authorizationData'");
            }
            // Private ECR answers with a list (one entry since registryIds is deprecated), ECR Public with an object.
            if (data.ValueKind == JsonValueKind.Array)
            {
                if (data.GetArrayLength() == 0)
                {
                    throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{invalid}: 'authorizationData' is empty");
                }
                data = data[0];
            }
            if (data.ValueKind != JsonValueKind.Object)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{invalid}: 'authorizationData' is not an object");
            }
            if (!data.TryGetProperty("authorizationToken", out var tokenElement) || tokenElement.ValueKind != JsonValueKind.String)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{invalid}: no 'authorizationToken'");
            }
            if (!data.TryGetProperty("expiresAt", out var expiresElement) || expiresElement.ValueKind != JsonValueKind.Number)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{invalid}: 'expiresAt' is missing or not a number");
            }
            var expiresAt = DateTimeOffset.UnixEpoch.AddSeconds(expiresElement.GetDouble());
            Uri? proxy = null;
            if (data.TryGetProperty("proxyEndpoint", out var proxyElement) && proxyElement.ValueKind == JsonValueKind.String &&
                Uri.TryCreate(proxyElement.GetString(), UriKind.Absolute, out var parsed))
            {
                proxy = parsed;
            }
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(tokenElement.GetString()!));
            }
            catch (FormatException)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{invalid}: 'authorizationToken' is not base64");
            }
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == decoded.Length - 1)
            {
                throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{invalid}: 'authorizationToken' is not 'user:password'");
            }
            return new EcrAuthorization(decoded[..colon], decoded[(colon + 1)..], expiresAt, proxy);
        }
        catch (JsonException)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{invalid}: the body is not JSON");
        }
    }

    private static string ValidateRegion(string region, string field)
    {
        if (string.IsNullOrEmpty(region) || region.Length > 32 || !region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') || region.StartsWith('-') || region.EndsWith('-'))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"ecr: '{field}' must be an AWS region such as 'eu-west-1', got '{region}'");
        }
        return region;
    }
}
