using System.Text.Json;

namespace RegistryInfra.Core.Credentials;

/// <summary>
/// Application Default Credentials, in the order Google's libraries look (googleapis/google-auth-library-python
/// google/auth/_default.py <c>default()</c>, commit 8e47eaed4abd551c25b876e2ad4e048d9bd33e83, and AIP-4110):
/// <list type="number">
/// <item>the file named by <c>GOOGLE_APPLICATION_CREDENTIALS</c>, when set (a missing or bad file is an error, not a
/// reason to look further);</item>
/// <item>gcloud's well-known file <c>application_default_credentials.json</c> in <c>CLOUDSDK_CONFIG</c>, else
/// <c>~/.config/gcloud</c> (<c>%APPDATA%\gcloud</c> on Windows) (google/auth/_cloud_sdk.py
/// <c>get_config_path</c>, commit 4262c90259352e04d0816ec01e3835f434438d91);</item>
/// <item>the metadata server (<see cref="GcpMetadataGrant"/>), which is how GKE Workload Identity, GCE and Cloud Run
/// serve a token. Google's libraries ping it first; here the token request itself is the probe, and a name that
/// does not resolve (off Google Cloud) is the "no credentials" answer.</item>
/// </list>
/// A file may be a service-account key (<c>service_account</c>), gcloud user credentials (<c>authorized_user</c>) or
/// workload identity federation (<c>external_account</c>, file- or URL-sourced: <see cref="GcpExternalAccountGrant"/>);
/// the other types Google's libraries know (<c>external_account_authorized_user</c>, <c>impersonated_service_account</c>,
/// <c>gdch_service_account</c>) are refused with an error that names the file's <c>type</c>. App Engine's first-generation runtime (python27 only) is not looked for.
/// </summary>
internal static class GcpApplicationDefault
{
    /// <summary>The variable naming a credential file.</summary>
    public const string CredentialsVariable = "GOOGLE_APPLICATION_CREDENTIALS";

    private static readonly string[] Unsupported = ["external_account_authorized_user", "impersonated_service_account", "gdch_service_account"];

    /// <summary>The grant of this environment. Reads files; sends nothing.</summary>
    /// <exception cref="RegistryException">A file that is named but missing, unreadable, or not a supported credential.</exception>
    public static GcpTokenGrant Resolve()
    {
        if (Environment.GetEnvironmentVariable(CredentialsVariable) is { Length: > 0 } named)
        {
            return FromFile(named, $"{CredentialsVariable} ('{named}')");
        }
        var wellKnown = WellKnownFile();
        if (wellKnown is not null && File.Exists(wellKnown))
        {
            return FromFile(wellKnown, $"gcloud credentials ('{wellKnown}')");
        }
        return GcpMetadataGrant.FromEnvironment(
            $"{CredentialsVariable} is not set, there is no gcloud file {(wellKnown is null ? "(no home directory)" : $"'{wellKnown}'")}");
    }

    /// <summary>gcloud's application-default credential file for this user (it may not exist), or null without a home.</summary>
    public static string? WellKnownFile()
    {
        string? directory = Environment.GetEnvironmentVariable("CLOUDSDK_CONFIG") is { Length: > 0 } configured ? configured : null;
        if (directory is null)
        {
            if (OperatingSystem.IsWindows())
            {
                directory = Environment.GetEnvironmentVariable("APPDATA") is { Length: > 0 } appData ? Path.Combine(appData, "gcloud") : null;
            }
            else
            {
                var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                directory = home.Length > 0 ? Path.Combine(home, ".config", "gcloud") : null;
            }
        }
        return directory is null ? null : Path.Combine(directory, "application_default_credentials.json");
    }

    /// <summary>The grant of the credential file at <paramref name="path"/>; errors name <paramref name="where"/>.</summary>
    public static GcpTokenGrant FromFile(string path, string where)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new RegistryException(RegistryErrorKind.CredentialSource,
                $"{where}: cannot read the credential file ({(e is FileNotFoundException or DirectoryNotFoundException ? "it does not exist" : e.GetType().Name)})", e);
        }
        return FromJson(json, where);
    }

    /// <summary>The grant of a credential file's content; errors name <paramref name="where"/> and the file's member at fault.</summary>
    public static GcpTokenGrant FromJson(string json, string where)
    {
        GcpCredentialFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, GcpJsonContext.Default.GcpCredentialFile);
        }
        catch (JsonException e)
        {
            // JsonException's message quotes the text, which is secret: only the path is kept.
            throw RegistryException.ForField(where, $"is not a Google credential file (invalid JSON at '{e.Path ?? "$"}')");
        }
        return file?.Type switch
        {
            null => throw RegistryException.ForField(where, "has no 'type' (expected \"service_account\", \"authorized_user\" or \"external_account\")"),
            "service_account" => GcpServiceAccountGrant.Create(json, where),
            "authorized_user" => GcpAuthorizedUserGrant.Create(file, where),
            "external_account" => GcpExternalAccountGrant.Create(file, where, file.ClientId, file.ClientSecret),
            { } type when Unsupported.Contains(type, StringComparer.Ordinal) => throw RegistryException.ForField(where,
                $"has 'type' \"{type}\", which RegistryInfra does not support; use a service-account key (\"service_account\"), " +
                "gcloud user credentials (\"authorized_user\"), workload identity federation (\"external_account\") or the metadata server " +
                "(GKE Workload Identity, with GOOGLE_APPLICATION_CREDENTIALS unset)"),
            { } type => throw RegistryException.ForField(where,
                $"has 'type' \"{Redaction.Excerpt(type, maxLength: 40)}\", expected \"service_account\", \"authorized_user\" or \"external_account\""),
        };
    }
}
