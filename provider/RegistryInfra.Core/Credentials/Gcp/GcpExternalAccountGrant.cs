using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RegistryInfra.Core.Credentials;

/// <summary>
/// Workload identity federation (<c>type</c> <c>external_account</c>, identity pools): a subject token read from
/// <c>credential_source.file</c> or fetched from <c>credential_source.url</c> (format <c>text</c>, or <c>json</c> with
/// <c>subject_token_field_name</c>) is exchanged at <c>token_url</c> (Google STS) with the RFC 8693 token-exchange grant
/// for a federated access token with scope cloud-platform, which is used as it is or, with
/// <c>service_account_impersonation_url</c>, exchanged once more through IAM Credentials <c>generateAccessToken</c>
/// for the service account's token — as googleapis/google-auth-library-python google/auth/external_account.py
/// (<c>refresh</c>, <c>_initialize_impersonated_credentials</c>), google/auth/identity_pool.py and google/oauth2/sts.py
/// (<c>exchange_token</c>, commit c3b1148be90f08deca8640b1bc8a7b901c5a48f5) do. AWS-sourced
/// (<c>credential_source.environment_id</c>), executable-sourced and certificate-sourced credentials and workforce pools'
/// <c>workforce_pool_user_project</c> are refused naming the member. Both Google URLs must pass
/// <see cref="GcpTokenEndpoints"/>: they receive the subject token and the federated token.
/// </summary>
internal sealed class GcpExternalAccountGrant : GcpTokenGrant
{
    private const string TokenExchangeGrantType = "urn:ietf:params:oauth:grant-type:token-exchange";
    private const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    private readonly string _audience;
    private readonly string _subjectTokenType;
    private readonly Uri _tokenUrl;
    private readonly Uri? _impersonationUrl;
    private readonly int _lifetimeSeconds;
    private readonly string? _file;
    private readonly Uri? _url;
    private readonly IReadOnlyDictionary<string, string> _headers;
    private readonly string? _jsonField;
    private readonly (string Id, string Secret)? _client;

    private GcpExternalAccountGrant(string audience, string subjectTokenType, Uri tokenUrl, Uri? impersonationUrl, int lifetimeSeconds,
        string? file, Uri? url, IReadOnlyDictionary<string, string> headers, string? jsonField, (string, string)? client)
    {
        _audience = audience;
        _subjectTokenType = subjectTokenType;
        _tokenUrl = tokenUrl;
        _impersonationUrl = impersonationUrl;
        _lifetimeSeconds = lifetimeSeconds;
        _file = file;
        _url = url;
        _headers = headers;
        _jsonField = jsonField;
        _client = client;
    }

    /// <inheritdoc />
    public override string Host => _tokenUrl.Authority;

    /// <exception cref="RegistryException">A <see cref="RegistryException.ForField"/> failure on <paramref name="where"/>
    /// naming the member that is missing, refused or not supported.</exception>
    public static GcpExternalAccountGrant Create(GcpCredentialFile file, string where, string? clientId, string? clientSecret)
    {
        RegistryException Invalid(string what) => RegistryException.ForField(where, $"the external_account credentials {what}");
        var audience = file.Audience is { Length: > 0 } a ? a : throw Invalid("have no 'audience'");
        var subjectTokenType = file.SubjectTokenType is { Length: > 0 } t ? t : throw Invalid("have no 'subject_token_type'");
        var source = file.CredentialSource ?? throw Invalid("have no 'credential_source'");
        if (source.EnvironmentId is { Length: > 0 })
        {
            throw Invalid("take their subject token from AWS ('credential_source.environment_id'), which RegistryInfra does not support; use a file- or URL-sourced identity pool");
        }
        if (source.Executable is not null || source.Certificate is not null)
        {
            throw Invalid($"take their subject token from '{(source.Executable is not null ? "credential_source.executable" : "credential_source.certificate")}', which RegistryInfra does not support; use a file- or URL-sourced identity pool");
        }
        if (file.WorkforcePoolUserProject is { Length: > 0 })
        {
            throw Invalid("are for a workforce pool ('workforce_pool_user_project'), which RegistryInfra does not support");
        }
        var tokenUrl = Allowed(file.TokenUrl is { Length: > 0 } given ? given : "https://sts.googleapis.com/v1/token", "token_url", Invalid);
        var impersonationUrl = file.ServiceAccountImpersonationUrl is { Length: > 0 } impersonation ? Allowed(impersonation, "service_account_impersonation_url", Invalid) : null;
        var lifetime = file.ServiceAccountImpersonation?.TokenLifetimeSeconds ?? 3600;
        if (lifetime is < 600 or > 43200)
        {
            throw Invalid("have 'service_account_impersonation.token_lifetime_seconds' outside 600 to 43200");
        }
        string? path = null;
        Uri? url = null;
        if (source.File is { Length: > 0 } f)
        {
            path = f;
        }
        else if (source.Url is { Length: > 0 } u)
        {
            url = Uri.TryCreate(u, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps)
                ? parsed
                : throw Invalid("have a 'credential_source.url' that is not an http(s) URL");
        }
        else
        {
            throw Invalid("have neither 'credential_source.file' nor 'credential_source.url'");
        }
        string? jsonField = null;
        switch (source.Format?.Type)
        {
            case null or "text":
                break;
            case "json":
                jsonField = source.Format.SubjectTokenFieldName is { Length: > 0 } name ? name : throw Invalid("have 'credential_source.format' json without 'subject_token_field_name'");
                break;
            default:
                throw Invalid($"have 'credential_source.format.type' \"{Redaction.Excerpt(source.Format.Type, maxLength: 20)}\", expected \"text\" or \"json\"");
        }
        (string, string)? client = clientId is { Length: > 0 } id ? (id, clientSecret ?? "") : null;
        return new GcpExternalAccountGrant(audience, subjectTokenType, tokenUrl, impersonationUrl, lifetime, path, url,
            source.Headers ?? new Dictionary<string, string>(), jsonField, client);
    }

    private static Uri Allowed(string url, string member, Func<string, RegistryException> invalid) =>
        GcpTokenEndpoints.Refusal(url) is { } refusal ? throw invalid($"have a '{member}' that {refusal}") : new Uri(url);

    /// <inheritdoc />
    public override HttpRequestMessage CreateRequest(DateTimeOffset now) =>
        throw new InvalidOperationException("an external account takes several requests: FetchAsync");

    /// <inheritdoc />
    public override async Task<(string Token, TimeSpan? Lifetime)> FetchAsync(HttpClient? http, TimeProvider clock, string description, CancellationToken cancellationToken)
    {
        var subject = await SubjectTokenAsync(http ?? GcpTokenClient.OAuthHttp, description, cancellationToken).ConfigureAwait(false);
        var federated = await GcpTokenClient.FetchAsync(new Exchange(this, subject), http, clock, description, cancellationToken).ConfigureAwait(false);
        if (_impersonationUrl is null)
        {
            return federated;
        }
        return await GcpTokenClient.FetchAsync(new Impersonation(_impersonationUrl, federated.Token, _lifetimeSeconds), http, clock, description, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> SubjectTokenAsync(HttpClient http, string description, CancellationToken cancellationToken)
    {
        string content;
        string from;
        if (_file is { } file)
        {
            from = $"credential_source.file '{file}'";
            try
            {
                content = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new RegistryException(RegistryErrorKind.CredentialSource,
                    $"{description}: {from}: cannot read the subject token ({(e is FileNotFoundException or DirectoryNotFoundException ? "it does not exist" : e.GetType().Name)})", e);
            }
        }
        else
        {
            from = $"credential_source.url {_url!.Authority}";
            using var request = new HttpRequestMessage(HttpMethod.Get, _url);
            foreach (var (name, value) in _headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
            try
            {
                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw new RegistryException(RegistryErrorKind.CredentialSource, $"{description}: {from} answered HTTP {(int)response.StatusCode} instead of a subject token");
                }
                content = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RegistryException(RegistryErrorKind.Unreachable, $"{description}: cannot reach {from}: {e.Message}", e);
            }
        }
        var token = _jsonField is null ? content.Trim() : JsonField(content, _jsonField);
        return token is { Length: > 0 }
            ? token
            : throw new RegistryException(RegistryErrorKind.CredentialSource,
                $"{description}: {from} gave no subject token{(_jsonField is null ? "" : $" (no string '{_jsonField}' in its JSON)")}");
    }

    private static string? JsonField(string content, string field)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The RFC 8693 exchange at Google STS.</summary>
    private sealed class Exchange(GcpExternalAccountGrant account, string subjectToken) : GcpTokenGrant
    {
        public override string Host => account._tokenUrl.Authority;

        public override HttpRequestMessage CreateRequest(DateTimeOffset now)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, account._tokenUrl)
            {
                Content = Form(
                    ("grant_type", TokenExchangeGrantType),
                    ("audience", account._audience),
                    ("scope", GcpAccessTokenSource.CloudPlatformScope),
                    ("requested_token_type", AccessTokenType),
                    ("subject_token", subjectToken),
                    ("subject_token_type", account._subjectTokenType)),
            };
            if (account._client is var (id, secret))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));
            }
            return request;
        }
    }

    /// <summary>IAM Credentials <c>generateAccessToken</c> for the impersonated service account.</summary>
    private sealed class Impersonation(Uri url, string federatedToken, int lifetimeSeconds) : GcpTokenGrant
    {
        public override string Host => url.Authority;

        public override HttpRequestMessage CreateRequest(DateTimeOffset now)
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(
                new GcpImpersonationRequest([GcpAccessTokenSource.CloudPlatformScope], lifetimeSeconds.ToString(CultureInfo.InvariantCulture) + "s"),
                GcpJsonContext.Default.GcpImpersonationRequest);
            var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", federatedToken);
            return request;
        }
    }
}
