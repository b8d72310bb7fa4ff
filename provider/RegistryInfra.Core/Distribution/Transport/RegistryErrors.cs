using System.Globalization;
using System.Net;
using System.Security.Authentication;

namespace RegistryInfra.Core.Distribution.Transport;

/// <summary>
/// The one place where what a registry answered becomes a <see cref="RegistryException"/> (go-containerregistry's
/// <c>transport.CheckError</c> and <c>transport.Error</c>, pkg/v1/remote/transport/error.go). Whatever is quoted
/// from the registry goes through <see cref="Redaction"/> with the operation's secrets.
/// </summary>
internal static class RegistryErrors
{
    private const string RetryAfterKey = "RetryAfter";

    public static RegistryException For(RegistryOperation operation, RegistryResponse response, string what) =>
        For(operation, response.Message, RegistryErrorBody.Parse(response.Body), what);

    public static RegistryException For(RegistryOperation operation, HttpResponseMessage response, RegistryErrorBody errors, string what)
    {
        var status = (int)response.StatusCode;
        var quoted = errors.Describe(operation.Secrets);
        var detail = $"{operation.Describe()}: {what}: HTTP {status.ToString(CultureInfo.InvariantCulture)}{quoted}";
        if (response.StatusCode == HttpStatusCode.TooManyRequests || errors.Has("TOOMANYREQUESTS"))
        {
            var retryAfter = RetryAfter(response);
            var exception = new RegistryException(RegistryErrorKind.RateLimited,
                detail + (retryAfter is { } r ? $"; retry after {Math.Ceiling(r.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s" : ""));
            if (retryAfter is not null)
            {
                exception.Data[RetryAfterKey] = retryAfter.Value;
            }
            return exception;
        }
        return response.StatusCode switch
        {
            HttpStatusCode.Unauthorized when operation.HadCredential && Challenged(response, "insufficient_scope") =>
                new RegistryException(RegistryErrorKind.Forbidden, $"{operation.Describe()}: the credentials may not pull this repository (insufficient_scope){quoted}"),
            HttpStatusCode.Unauthorized => new RegistryException(RegistryErrorKind.Unauthorized,
                operation.HadCredential
                    ? $"{operation.Describe()}: the registry rejected the credentials{quoted}"
                    : $"{operation.Describe()}: the registry requires credentials and none were given{quoted}"),
            HttpStatusCode.Forbidden => new RegistryException(RegistryErrorKind.Forbidden, $"{operation.Describe()}: access denied{quoted}"),
            HttpStatusCode.NotFound when errors.Has("NAME_UNKNOWN") => new RegistryException(RegistryErrorKind.RepositoryNotFound, $"{operation.Describe()}: repository not found{quoted}"),
            HttpStatusCode.NotFound => new RegistryException(RegistryErrorKind.ManifestNotFound, $"{operation.Describe()}: {what} not found{quoted}"),
            _ when status >= 500 => new RegistryException(RegistryErrorKind.Unreachable, detail),
            _ => new RegistryException(RegistryErrorKind.InvalidResponse, detail),
        };
    }

    /// <summary>A redirect target that asked for credentials: the registry's credentials are never sent to it.</summary>
    public static RegistryException ForeignChallenge(RegistryOperation operation, RegistryResponse response) =>
        new(RegistryErrorKind.Unauthorized,
            $"{operation.Describe()}: the registry redirected to {Shorten(response.Final.Authority)}, which asks for credentials; "
            + "the registry's credentials are never sent to another host, and an anonymous token from that host was not accepted");

    /// <summary>The <c>Retry-After</c> a rate-limited failure carried, when the registry sent one.</summary>
    public static TimeSpan? RetryAfterOf(RegistryException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.Data[RetryAfterKey] is TimeSpan t ? t : null;
    }

    public static string Describe(HttpRequestException ex, RegistryOperation operation)
    {
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException)
            {
                return "TLS handshake failed: the server certificate is not trusted or does not match the host "
                    + "(for a private CA, give its root in TrustedRootCertificates)";
            }
        }
        var message = Redaction.Excerpt(ex.Message, operation.Secrets, 200);
        return ex.HttpRequestError == HttpRequestError.Unknown ? message : $"{ex.HttpRequestError}: {message}";
    }

    public static bool Challenged(HttpResponseMessage response, string error) =>
        response.Headers.TryGetValues("WWW-Authenticate", out var values)
        && AuthenticationChallenge.TryParse(values, out var challenges)
        && challenges.Any(c => string.Equals(c["error"], error, StringComparison.OrdinalIgnoreCase));

    public static string Shorten(string value) => value.Length <= 100 ? value : value[..100] + "…";

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }
        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null;
    }
}
