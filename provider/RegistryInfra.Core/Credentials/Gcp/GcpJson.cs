using System.Text.Json;
using System.Text.Json.Serialization;

namespace RegistryInfra.Core.Credentials;

/// <summary>The members of a Google credential file this project reads (service-account key, gcloud user credentials).</summary>
internal sealed class GcpCredentialFile
{
    [JsonPropertyName("type")] public string? Type { get; init; }

    [JsonPropertyName("client_email")] public string? ClientEmail { get; init; }

    [JsonPropertyName("private_key")] public string? PrivateKey { get; init; }

    [JsonPropertyName("private_key_id")] public string? PrivateKeyId { get; init; }

    [JsonPropertyName("token_uri")] public string? TokenUri { get; init; }

    [JsonPropertyName("client_id")] public string? ClientId { get; init; }

    [JsonPropertyName("client_secret")] public string? ClientSecret { get; init; }

    [JsonPropertyName("refresh_token")] public string? RefreshToken { get; init; }

    [JsonPropertyName("audience")] public string? Audience { get; init; }

    [JsonPropertyName("subject_token_type")] public string? SubjectTokenType { get; init; }

    [JsonPropertyName("token_url")] public string? TokenUrl { get; init; }

    [JsonPropertyName("service_account_impersonation_url")] public string? ServiceAccountImpersonationUrl { get; init; }

    [JsonPropertyName("service_account_impersonation")] public GcpImpersonationOptions? ServiceAccountImpersonation { get; init; }

    [JsonPropertyName("workforce_pool_user_project")] public string? WorkforcePoolUserProject { get; init; }

    [JsonPropertyName("credential_source")] public GcpCredentialSource? CredentialSource { get; init; }
}

/// <summary><c>service_account_impersonation</c> of an external account.</summary>
internal sealed class GcpImpersonationOptions
{
    [JsonPropertyName("token_lifetime_seconds")] public int? TokenLifetimeSeconds { get; init; }
}

/// <summary><c>credential_source</c> of an external account: where the subject token comes from.</summary>
internal sealed class GcpCredentialSource
{
    [JsonPropertyName("file")] public string? File { get; init; }

    [JsonPropertyName("url")] public string? Url { get; init; }

    [JsonPropertyName("headers")] public Dictionary<string, string>? Headers { get; init; }

    [JsonPropertyName("format")] public GcpSubjectTokenFormat? Format { get; init; }

    [JsonPropertyName("environment_id")] public string? EnvironmentId { get; init; }

    [JsonPropertyName("executable")] public JsonElement? Executable { get; init; }

    [JsonPropertyName("certificate")] public JsonElement? Certificate { get; init; }
}

/// <summary><c>credential_source.format</c>: <c>text</c> (the whole content) or <c>json</c> (one string member).</summary>
internal sealed class GcpSubjectTokenFormat
{
    [JsonPropertyName("type")] public string? Type { get; init; }

    [JsonPropertyName("subject_token_field_name")] public string? SubjectTokenFieldName { get; init; }
}

/// <summary>The body of IAM Credentials <c>generateAccessToken</c>.</summary>
internal sealed record GcpImpersonationRequest(
    [property: JsonPropertyName("scope")] IReadOnlyList<string> Scope,
    [property: JsonPropertyName("lifetime")] string Lifetime);

/// <summary>An OAuth 2.0 token answer (RFC 6749 section 5.1), from the token endpoint or the metadata server.</summary>
internal sealed class GcpTokenAnswer
{
    [JsonPropertyName("access_token")] public string? AccessToken { get; init; }

    [JsonPropertyName("expires_in")] public double? ExpiresIn { get; init; }

    [JsonPropertyName("token_type")] public string? TokenType { get; init; }

    /// <summary>IAM Credentials <c>generateAccessToken</c> answers in camelCase, with an RFC 3339 expiry.</summary>
    [JsonPropertyName("accessToken")] public string? AccessTokenCamel { get; init; }

    [JsonPropertyName("expireTime")] public DateTimeOffset? ExpireTime { get; init; }
}

/// <summary>The JOSE header of the service-account assertion.</summary>
internal sealed record GcpJwtHeader(
    [property: JsonPropertyName("alg")] string Algorithm,
    [property: JsonPropertyName("typ")] string Type,
    [property: JsonPropertyName("kid")] string? KeyId);

/// <summary>The claims of the service-account assertion (RFC 7523 section 3).</summary>
internal sealed record GcpJwtClaims(
    [property: JsonPropertyName("iss")] string Issuer,
    [property: JsonPropertyName("scope")] string Scope,
    [property: JsonPropertyName("aud")] string Audience,
    [property: JsonPropertyName("iat")] long IssuedAt,
    [property: JsonPropertyName("exp")] long Expires);

/// <summary>Generated (de)serialisers: no reflection, so the NativeAOT plugin reads and writes these as the JIT does.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(GcpCredentialFile))]
[JsonSerializable(typeof(GcpTokenAnswer))]
[JsonSerializable(typeof(GcpJwtHeader))]
[JsonSerializable(typeof(GcpJwtClaims))]
[JsonSerializable(typeof(GcpImpersonationRequest))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class GcpJsonContext : JsonSerializerContext;
