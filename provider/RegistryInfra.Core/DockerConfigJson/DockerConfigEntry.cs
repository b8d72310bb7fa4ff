using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.DockerConfigJson;

/// <summary>
/// One member of a dockerconfigjson's <c>auths</c>: a key (a registry host, optionally with a
/// repository path prefix) and its credential. Fields this type does not know are kept as they were.
/// Two entries are equal when their keys and canonical JSON are. <see cref="ToString"/> redacts secrets.
/// </summary>
public sealed class DockerConfigEntry : IEquatable<DockerConfigEntry>
{
    // The fields of the kubelet's dockerConfigEntryWithAuth (k8s.io/kubernetes pkg/credentialprovider/config.go).
    private static readonly string[] KubeletEntryFields = ["username", "password", "email", "auth"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ImmutableSortedDictionary<string, JsonElement> _fields;
    private string? _canonical;

    private DockerConfigEntry(string key, ServerKey? server, ImmutableSortedDictionary<string, JsonElement> fields,
        string? username, string? password, string? identityToken, string? email)
    {
        Key = key;
        Server = server;
        _fields = fields;
        Username = username;
        Password = password;
        IdentityToken = identityToken;
        Email = email;
    }

    /// <summary>The key exactly as it appears in the document, such as <c>https://index.docker.io/v1/</c> or <c>ghcr.io</c>.</summary>
    public string Key { get; }

    /// <summary>The registry of the key, or null when the key is not a registry host (such entries are kept but never match).</summary>
    public RegistryHost? Registry => Server?.Host;

    /// <summary>The repository path prefix of the key (<c>team</c> for <c>registry.example.com/team</c>), empty for a whole registry.</summary>
    public string RepositoryPrefix => Server?.Path ?? "";

    /// <summary>The user name, from <c>auth</c> when present, else from <c>username</c>.</summary>
    public string? Username { get; }

    /// <summary>The password, from <c>auth</c> when present, else from <c>password</c>.</summary>
    public string? Password { get; }

    /// <summary>The <c>identitytoken</c> (an OAuth2 refresh token), when present.</summary>
    public string? IdentityToken { get; }

    /// <summary>The <c>email</c>, when present (legacy; registries ignore it).</summary>
    public string? Email { get; }

    internal ServerKey? Server { get; }

    /// <summary>
    /// An entry for <paramref name="key"/> (a registry host such as <c>ghcr.io</c>, a server URL such as
    /// <c>https://index.docker.io/v1/</c>, or host/path for a repository prefix) holding
    /// <paramref name="credential"/>: <c>auth</c>, <c>username</c>, <c>password</c>, and <c>identitytoken</c>
    /// when the credential has one. The key is written in its canonical form.
    /// </summary>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/> when the key is not a registry host.</exception>
    public static DockerConfigEntry Create(string key, RegistryCredential credential, string? email = null)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (!ServerKey.TryParse(key, out var server, out var error))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"dockerconfigjson key: {error}");
        }

        // A prefix that is not a valid repository path could never match an image: refuse it rather than keep a dead entry.
        if (server.Path.Length > 0 && server.Path.AsSpan().IndexOfAny(':', '@') >= 0)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput,
                $"dockerconfigjson key: repository prefix \"{server.Path}\" must not carry a tag or digest");
        }

        if (server.Path.Length > 0 && !ImageReference.TryParse($"{server.Host.Name}/{server.Path}", out _, out var pathError))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput,
                $"dockerconfigjson key: repository prefix \"{server.Path}\" is not a valid repository path ({pathError.Replace("invalid image reference: ", "", StringComparison.Ordinal)})");
        }

        return Create(server, credential, email);
    }

    /// <summary>An entry for the whole of <paramref name="registry"/>, under its <see cref="RegistryHost.DockerConfigKey"/>.</summary>
    public static DockerConfigEntry Create(RegistryHost registry, RegistryCredential credential, string? email = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(credential);
        return Create(new ServerKey(registry, ""), credential, email);
    }

    private static DockerConfigEntry Create(ServerKey server, RegistryCredential credential, string? email)
    {
        RequireUnicode(server, "username", credential.Username);
        RequireUnicode(server, "password", credential.Password);
        RequireUnicode(server, "identitytoken", credential.IdentityToken);
        RequireUnicode(server, "email", email);
        var fields = ImmutableSortedDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
        fields["auth"] = CanonicalJson.String(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
        fields["username"] = CanonicalJson.String(credential.Username);
        fields["password"] = CanonicalJson.String(credential.Password);
        if (credential.IdentityToken is { } identityToken)
        {
            fields["identitytoken"] = CanonicalJson.String(identityToken);
        }

        if (email is not null)
        {
            fields["email"] = CanonicalJson.String(email);
        }

        return new DockerConfigEntry(server.CanonicalKey, server, fields.ToImmutable(),
            credential.Username, credential.Password, credential.IdentityToken, email);
    }

    // UTF-8 encoding would silently turn an unpaired surrogate into U+FFFD: a different, wrong secret.
    private static void RequireUnicode(ServerKey server, string field, string? value)
    {
        if (value is not null && System.Text.Unicode.Utf8.FromUtf16(value, new byte[value.Length * 3], out _, out _, replaceInvalidSequences: false) != System.Buffers.OperationStatus.Done)
        {
            throw Invalid($"dockerconfigjson entry \"{server.CanonicalKey}\": {field} is not valid Unicode (unpaired surrogate)");
        }
    }

    /// <summary>Reads one <c>auths</c> member; <paramref name="path"/> names it in errors.</summary>
    internal static DockerConfigEntry Parse(string key, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{path}: expected an object, found {Describe(value.ValueKind)}");
        }

        CanonicalJson.RefuseMiscasedNames(value, KubeletEntryFields, path);
        var fields = CanonicalJson.LastWins(value).ToImmutableSortedDictionary(m => m.Key, m => m.Value.Clone(), StringComparer.Ordinal);
        var username = StringField(fields, "username", path);
        var password = StringField(fields, "password", path);
        var identityToken = StringField(fields, "identitytoken", path);
        var email = StringField(fields, "email", path);
        var auth = StringField(fields, "auth", path);
        if (!string.IsNullOrEmpty(auth))
        {
            (username, password) = DecodeAuth(auth, path);
        }

        return new DockerConfigEntry(key, ServerKey.ParseOrNull(key), fields, username, password, identityToken, email);
    }

    private static (string Username, string Password) DecodeAuth(string auth, string path)
    {
        var bytes = new byte[auth.Length];
        if (!Convert.TryFromBase64String(auth, bytes, out var length))
        {
            throw Invalid($"{path}.auth: not valid base64");
        }

        string decoded;
        try
        {
            decoded = StrictUtf8.GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            throw Invalid($"{path}.auth: not valid UTF-8 after base64 decoding");
        }

        // The user name cannot contain ':', the password can: split at the first one, as docker does.
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        return colon < 0
            ? throw Invalid($"{path}.auth: not of the form base64(user:password) (no ':' after decoding)")
            : (decoded[..colon], decoded[(colon + 1)..]);
    }

    private static string? StringField(ImmutableSortedDictionary<string, JsonElement> fields, string name, string path)
    {
        if (!fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw Invalid($"{path}.{name}: expected a string, found {Describe(value.ValueKind)}");
    }

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    internal static RegistryException Invalid(string message) => new(RegistryErrorKind.InvalidInput, message);

    /// <summary>The credential of this entry: user name and password (empty when absent) and identity token.</summary>
    public RegistryCredential ToCredential() => new(Username ?? "", Password ?? "", IdentityToken: IdentityToken);

    /// <summary>All fields of the entry, as they will be written.</summary>
    internal IEnumerable<KeyValuePair<string, JsonElement>> Fields => _fields;

    /// <summary>The entry's JSON object in canonical form (sorted, no whitespace). Contains secrets.</summary>
    internal string CanonicalJsonText => _canonical ??= CanonicalJson.ToText(writer => CanonicalJson.WriteObject(writer, _fields));

    /// <inheritdoc/>
    public bool Equals(DockerConfigEntry? other) =>
        other is not null && Key == other.Key && CanonicalJsonText == other.CanonicalJsonText;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DockerConfigEntry);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(StringComparer.Ordinal.GetHashCode(Key), StringComparer.Ordinal.GetHashCode(CanonicalJsonText));

    /// <summary>The key, user name and the names of the other fields; secrets are redacted.</summary>
    public override string ToString()
    {
        var others = _fields.Keys.Where(k => k is not ("auth" or "username" or "password" or "identitytoken" or "email")).ToList();
        return $"DockerConfigEntry {{ Key = {Key}, Username = {Username ?? "(none)"}, Password = {(Password is null ? "(none)" : "***")}"
            + (IdentityToken is null ? "" : ", IdentityToken = ***")
            + (others.Count == 0 ? "" : $", OtherFields = [{string.Join(", ", others)}]")
            + " }";
    }
}
