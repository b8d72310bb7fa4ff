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
}

/// <summary>An OAuth 2.0 token answer (RFC 6749 section 5.1), from the token endpoint or the metadata server.</summary>
internal sealed class GcpTokenAnswer
{
    [JsonPropertyName("access_token")] public string? AccessToken { get; init; }

    [JsonPropertyName("expires_in")] public double? ExpiresIn { get; init; }

    [JsonPropertyName("token_type")] public string? TokenType { get; init; }
}

/// <summary>An OAuth 2.0 error answer (RFC 6749 section 5.2).</summary>
internal sealed class GcpTokenError
{
    [JsonPropertyName("error")] public string? Error { get; init; }

    [JsonPropertyName("error_description")] public string? ErrorDescription { get; init; }
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
[JsonSerializable(typeof(GcpTokenError))]
[JsonSerializable(typeof(GcpJwtHeader))]
[JsonSerializable(typeof(GcpJwtClaims))]
internal sealed partial class GcpJsonContext : JsonSerializerContext;
