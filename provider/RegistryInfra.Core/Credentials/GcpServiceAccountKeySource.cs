using System.Text;
using System.Text.Json;

namespace RegistryInfra.Core.Credentials;

/// <summary>
/// A Google service-account key used directly as the registry password (GCR and Artifact Registry accept
/// it without a token exchange): user <c>_json_key</c> with the raw JSON key, or <c>_json_key_base64</c>
/// with the key base64-encoded. The credential does not expire until the key is disabled.
/// </summary>
public sealed class GcpServiceAccountKeySource : ICredentialSource
{
    /// <summary>The user name for the raw JSON key.</summary>
    public const string JsonKeyUsername = "_json_key";

    /// <summary>The user name for the base64-encoded key.</summary>
    public const string Base64KeyUsername = "_json_key_base64";

    private readonly RegistryCredential _credential;

    /// <summary>A source for <paramref name="keyJson"/>, the JSON key file's content.</summary>
    /// <param name="keyJson">The service-account key (JSON, as downloaded from IAM).</param>
    /// <param name="base64">Send it as <c>_json_key_base64</c> instead of <c>_json_key</c>.</param>
    /// <param name="field">The configuration field holding the key, for error messages.</param>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/> naming the
    /// missing or wrong field of the key; the key itself is never echoed.</exception>
    public GcpServiceAccountKeySource(string keyJson, bool base64 = false, string field = "key")
    {
        Key = GcpServiceAccountKey.Parse(keyJson, field);
        var password = base64 ? Convert.ToBase64String(Encoding.UTF8.GetBytes(keyJson)) : keyJson;
        _credential = new RegistryCredential(base64 ? Base64KeyUsername : JsonKeyUsername, password);
    }

    /// <summary>The key's non-secret identity.</summary>
    public GcpServiceAccountKey Key { get; }

    /// <inheritdoc />
    public string Description => $"gcp-key({Key.ClientEmail})";

    /// <inheritdoc />
    public ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_credential);
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}

/// <summary>The non-secret identity of a validated Google service-account key.</summary>
/// <param name="ClientEmail">The service account's e-mail.</param>
/// <param name="ProjectId">Its project, where the key names it.</param>
/// <param name="PrivateKeyId">The key's id, where given.</param>
/// <param name="TokenUri">The OAuth token endpoint, where given.</param>
public sealed record GcpServiceAccountKey(string ClientEmail, string? ProjectId, string? PrivateKeyId, string? TokenUri)
{
    /// <summary>Checks that <paramref name="json"/> is a service-account key: a JSON object with
    /// <c>type</c> <c>service_account</c>, a <c>client_email</c> and a PEM <c>private_key</c>.</summary>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/>, naming
    /// <paramref name="field"/> and the key field at fault, never the key's content.</exception>
    public static GcpServiceAccountKey Parse(string json, string field = "key")
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw Invalid(field, "must not be empty");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            // JsonException's message quotes the offending text, which is part of the key: not passed on.
            throw Invalid(field, "is not valid JSON (expected the service-account key file's content)");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(field, "must be a JSON object");
            }
            var type = Text(root, "type");
            if (type is null)
            {
                throw Invalid(field, "has no 'type' (expected \"service_account\")");
            }
            if (type != "service_account")
            {
                throw Invalid(field, $"has 'type' \"{Redaction.Excerpt(type, maxLength: 40)}\", expected \"service_account\"");
            }
            var email = Text(root, "client_email") ?? throw Invalid(field, "has no 'client_email'");
            var privateKey = Text(root, "private_key") ?? throw Invalid(field, "has no 'private_key'");
            if (!privateKey.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
            {
                throw Invalid(field, "has a 'private_key' that is not a PEM private key");
            }
            return new GcpServiceAccountKey(email, Text(root, "project_id"), Text(root, "private_key_id"), Text(root, "token_uri"));
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static RegistryException Invalid(string field, string what) => RegistryException.ForField(field, $"the service-account key {what}");
}
