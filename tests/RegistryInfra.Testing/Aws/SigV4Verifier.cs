using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RegistryInfra.Testing.Aws;

/// <summary>A request as the verifier sees it.</summary>
public sealed record SignedRequest(string Method, string Path, string Query, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string? Header(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();
}

/// <summary>The verifier's verdict: accepted, or the AWS error code and reason it would answer.</summary>
public sealed record SigV4Verdict(bool Valid, string? ErrorCode, string? Reason, string? AccessKeyId, string? Region, string? Service)
{
    public static SigV4Verdict Reject(string code, string reason, string? accessKeyId = null) => new(false, code, reason, accessKeyId, null, null);
}

/// <summary>
/// An independent implementation of AWS Signature Version 4 (header form) from AWS's published
/// specification: canonical request, string to sign, signing key derivation, HMAC-SHA256. It shares no
/// code with AWSSDK.Core's signer, so a test that passes proves the client signs the way AWS checks.
/// </summary>
public sealed class SigV4Verifier
{
    private const string Algorithm = "AWS4-HMAC-SHA256";
    private readonly Func<string, (string SecretKey, string? SessionToken)?> _lookup;

    /// <param name="expectedRegion">The region the server is in.</param>
    /// <param name="expectedServices">The signing service names accepted.</param>
    /// <param name="lookup">Access key id to secret key and session token, or null for an unknown key.</param>
    /// <param name="clock">The server's clock.</param>
    /// <param name="maxSkew">How far x-amz-date may be from the server's clock (AWS: 5 minutes).</param>
    public SigV4Verifier(string expectedRegion, IReadOnlyCollection<string> expectedServices, Func<string, (string SecretKey, string? SessionToken)?> lookup,
        TimeProvider? clock = null, TimeSpan? maxSkew = null)
    {
        ExpectedRegion = expectedRegion;
        ExpectedServices = expectedServices;
        _lookup = lookup;
        Clock = clock ?? TimeProvider.System;
        MaxSkew = maxSkew ?? TimeSpan.FromMinutes(5);
    }

    public string ExpectedRegion { get; }

    public IReadOnlyCollection<string> ExpectedServices { get; }

    public TimeProvider Clock { get; }

    public TimeSpan MaxSkew { get; }

    public SigV4Verdict Verify(SignedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var authorization = request.Header("Authorization");
        if (authorization is null || !authorization.StartsWith(Algorithm + " ", StringComparison.Ordinal))
        {
            return SigV4Verdict.Reject("MissingAuthenticationTokenException", "no AWS4-HMAC-SHA256 Authorization header");
        }
        var parts = authorization[(Algorithm.Length + 1)..]
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        if (!parts.TryGetValue("Credential", out var credential) || !parts.TryGetValue("SignedHeaders", out var signedHeaderList) || !parts.TryGetValue("Signature", out var signature))
        {
            return SigV4Verdict.Reject("IncompleteSignatureException", "Authorization lacks Credential, SignedHeaders or Signature");
        }
        var scope = credential.Split('/');
        if (scope.Length != 5 || scope[4] != "aws4_request")
        {
            return SigV4Verdict.Reject("IncompleteSignatureException", "malformed credential scope");
        }
        var (accessKeyId, scopeDate, region, service) = (scope[0], scope[1], scope[2], scope[3]);
        var known = _lookup(accessKeyId);
        if (known is null)
        {
            return SigV4Verdict.Reject("UnrecognizedClientException", "The security token included in the request is invalid.", accessKeyId);
        }
        if (region != ExpectedRegion)
        {
            return SigV4Verdict.Reject("InvalidSignatureException", $"Credential should be scoped to a valid region, not '{region}'.", accessKeyId);
        }
        if (!ExpectedServices.Contains(service))
        {
            return SigV4Verdict.Reject("InvalidSignatureException", $"Credential should be scoped to correct service, not '{service}'.", accessKeyId);
        }
        var amzDate = request.Header("x-amz-date");
        if (amzDate is null || !DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var signedAt))
        {
            return SigV4Verdict.Reject("IncompleteSignatureException", "missing or malformed X-Amz-Date", accessKeyId);
        }
        if (scopeDate != amzDate[..8])
        {
            return SigV4Verdict.Reject("InvalidSignatureException", "credential scope date does not match X-Amz-Date", accessKeyId);
        }
        var skew = (Clock.GetUtcNow() - signedAt).Duration();
        if (skew > MaxSkew)
        {
            return SigV4Verdict.Reject("InvalidSignatureException", "Signature expired: X-Amz-Date is more than 5 minutes from the server time.", accessKeyId);
        }
        var signedHeaders = signedHeaderList.Split(';');
        if (!signedHeaders.Contains("host") || !signedHeaders.Contains("x-amz-date"))
        {
            return SigV4Verdict.Reject("IncompleteSignatureException", "host and x-amz-date must be signed", accessKeyId);
        }
        if (!signedHeaders.SequenceEqual(signedHeaders.Order(StringComparer.Ordinal)) || signedHeaders.Any(h => h.Any(char.IsAsciiLetterUpper)))
        {
            return SigV4Verdict.Reject("IncompleteSignatureException", "SignedHeaders must be lower case and sorted", accessKeyId);
        }
        if (known.Value.SessionToken is { } expectedToken)
        {
            if (request.Header("x-amz-security-token") != expectedToken || !signedHeaders.Contains("x-amz-security-token"))
            {
                return SigV4Verdict.Reject("UnrecognizedClientException", "The security token included in the request is invalid.", accessKeyId);
            }
        }
        var bodyHash = Hex(SHA256.HashData(request.Body));
        var declaredHash = request.Header("x-amz-content-sha256");
        if (declaredHash is not null && declaredHash != "UNSIGNED-PAYLOAD" && declaredHash != bodyHash)
        {
            return SigV4Verdict.Reject("InvalidSignatureException", "x-amz-content-sha256 does not match the body", accessKeyId);
        }

        var canonicalHeaders = new StringBuilder();
        foreach (var name in signedHeaders)
        {
            var values = request.Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => Trim(h.Value)).ToList();
            if (values.Count == 0)
            {
                return SigV4Verdict.Reject("IncompleteSignatureException", $"signed header '{name}' is missing", accessKeyId);
            }
            canonicalHeaders.Append(name).Append(':').Append(string.Join(',', values)).Append('\n');
        }
        var canonicalRequest = string.Join('\n',
            request.Method.ToUpperInvariant(),
            CanonicalPath(request.Path),
            CanonicalQuery(request.Query),
            canonicalHeaders.ToString(),
            signedHeaderList,
            bodyHash);
        var stringToSign = string.Join('\n', Algorithm, amzDate, $"{scopeDate}/{region}/{service}/aws4_request",
            Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
        var key = SigningKey(known.Value.SecretKey, scopeDate, region, service);
        var expected = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
        {
            return SigV4Verdict.Reject("InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.", accessKeyId);
        }
        return new SigV4Verdict(true, null, null, accessKeyId, region, service);
    }

    /// <summary>kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").</summary>
    public static byte[] SigningKey(string secretKey, string date, string region, string service)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secretKey), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8);
    }

    private static string Trim(string value) => string.Join(' ', value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static string CanonicalPath(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "/";
        }
        return string.Join('/', path.Split('/').Select(segment => Uri.EscapeDataString(Uri.UnescapeDataString(segment))));
    }

    private static string CanonicalQuery(string query)
    {
        var q = query.TrimStart('?');
        if (q.Length == 0)
        {
            return "";
        }
        return string.Join('&', q.Split('&')
            .Select(pair => pair.Split('=', 2))
            .Select(p => (Name: Uri.EscapeDataString(Uri.UnescapeDataString(p[0])), Value: Uri.EscapeDataString(Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""))))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => $"{p.Name}={p.Value}"));
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
