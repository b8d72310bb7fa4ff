namespace RegistryInfra.Core.Credentials;

/// <summary>
/// Where a Google credential's secret (a signed service-account assertion, a refresh token) may be sent: the
/// credential file's <c>token_uri</c> must be an https URL on the default port of <c>googleapis.com</c> or one of its
/// subdomains (<c>oauth2.googleapis.com</c>, Private Service Connect's <c>*.p.googleapis.com</c>), or
/// <c>accounts.google.com</c> (the endpoint that keys made before 2018 name). Any other endpoint (a test's fake on
/// 127.0.0.1, an emulator, a sovereign universe) is used only when its exact URL is listed in
/// <see cref="AllowEnvironmentVariable"/> (comma-separated) in the environment of the provider or the refresher;
/// otherwise the credential fails validation naming <c>token_uri</c>, and nothing is sent.
/// </summary>
/// <remarks>
/// A key file is data that may come from anyone (a stack configuration, a mounted Secret): without this rule, a key
/// whose <c>token_uri</c> names another host would hand that host an assertion that Google accepts for the service
/// account (Google's libraries send it wherever <c>token_uri</c> says). The metadata server is not subject to this
/// rule: it is plain http by design and is chosen by the environment (<c>GCE_METADATA_HOST</c>), not by a file.
/// </remarks>
public static class GcpTokenEndpoints
{
    /// <summary>The environment variable listing further token URLs that credentials may name.</summary>
    public const string AllowEnvironmentVariable = "REGISTRYINFRA_GCP_ALLOWED_TOKEN_URIS";

    /// <summary>Google's OAuth 2.0 token endpoint, for credentials that name none.</summary>
    public const string DefaultTokenUri = "https://oauth2.googleapis.com/token";

    /// <summary>Why <paramref name="tokenUri"/> may not receive a credential's secret, or null when it may.</summary>
    /// <returns>A reason that starts with a verb phrase (<c>is not …</c>), quoting only the URL's host.</returns>
    public static string? Refusal(string tokenUri)
    {
        if (!Uri.TryCreate(tokenUri, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return "is not an http(s) URL";
        }
        if (IsGoogle(uri) || IsListed(uri))
        {
            return null;
        }
        return $"names host '{Redaction.Excerpt(uri.Host, maxLength: 80)}', which is not a Google token endpoint (https on googleapis.com); " +
            $"to send credentials there deliberately, list the exact URL in {AllowEnvironmentVariable}";
    }

    private static bool IsGoogle(Uri uri)
    {
        if (uri.Scheme != Uri.UriSchemeHttps || !uri.IsDefaultPort || uri.UserInfo.Length > 0)
        {
            return false;
        }
        var host = uri.IdnHost;
        return host.Equals("googleapis.com", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".googleapis.com", StringComparison.OrdinalIgnoreCase)
            || host.Equals("accounts.google.com", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsListed(Uri uri)
    {
        var listed = Environment.GetEnvironmentVariable(AllowEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(listed))
        {
            return false;
        }
        foreach (var entry in listed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(entry, UriKind.Absolute, out var allowed) && string.Equals(allowed.AbsoluteUri, uri.AbsoluteUri, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
