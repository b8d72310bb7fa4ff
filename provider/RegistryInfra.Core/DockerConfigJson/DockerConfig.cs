using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.DockerConfigJson;

/// <summary>
/// A <c>.dockerconfigjson</c> document (the data of a <c>kubernetes.io/dockerconfigjson</c> Secret, or
/// <c>~/.docker/config.json</c>): its <c>auths</c> entries plus any other top-level fields
/// (<c>credsStore</c>, <c>credHelpers</c>, …), which are kept as they were. Immutable; <see cref="Merge(IEnumerable{DockerConfigEntry})"/>
/// returns a new document. <see cref="Serialize"/> is deterministic, so "did the content change?" is a
/// string comparison; two documents are equal when their serialised forms are. <see cref="ToString"/>
/// lists keys only.
/// </summary>
public sealed class DockerConfig : IEquatable<DockerConfig>
{
    private const string AuthsField = "auths";

    /// <summary>
    /// The largest document read: a Secret holds at most 1 MiB of data in all (k8s.io/kubernetes
    /// pkg/apis/core/types.go, <c>MaxSecretSize = 1 * 1024 * 1024</c>), so a larger dockerconfigjson could never
    /// reach a kubelet.
    /// </summary>
    public const int MaxBytes = 1024 * 1024;

    // The fields of the kubelet's DockerConfigJSON struct (k8s.io/kubernetes pkg/credentialprovider/config.go).
    private static readonly string[] KubeletTopLevelFields = [AuthsField, "HttpHeaders"];

    private readonly ImmutableSortedDictionary<string, DockerConfigEntry> _entries;
    private readonly ImmutableSortedDictionary<string, JsonElement> _otherFields;
    private string? _serialized;

    private DockerConfig(ImmutableSortedDictionary<string, DockerConfigEntry> entries, ImmutableSortedDictionary<string, JsonElement> otherFields)
    {
        _entries = entries;
        _otherFields = otherFields;
    }

    /// <summary>A document with no entries and no other fields.</summary>
    public static DockerConfig Empty { get; } = new(
        ImmutableSortedDictionary.Create<string, DockerConfigEntry>(StringComparer.Ordinal),
        ImmutableSortedDictionary.Create<string, JsonElement>(StringComparer.Ordinal));

    /// <summary>The <c>auths</c> entries, ordered by key.</summary>
    public IReadOnlyList<DockerConfigEntry> Entries => [.. _entries.Values];

    /// <summary>The names of the top-level fields other than <c>auths</c> (kept on round-trip and merge).</summary>
    public IReadOnlyList<string> OtherFieldNames => [.. _otherFields.Keys];

    /// <summary>A document holding <paramref name="entries"/>; of entries whose keys name the same registry
    /// and path, the last one wins.</summary>
    public static DockerConfig FromEntries(IEnumerable<DockerConfigEntry> entries) => Empty.Merge(entries);

    /// <summary>A document with one entry per registry, each under its <see cref="RegistryHost.DockerConfigKey"/>.</summary>
    public static DockerConfig FromCredentials(IEnumerable<KeyValuePair<RegistryHost, RegistryCredential>> credentials) =>
        FromEntries(credentials.Select(c => DockerConfigEntry.Create(c.Key, c.Value)));

    /// <summary>Parses a dockerconfigjson document.</summary>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/>; the message names the
    /// field that is wrong (such as <c>auths["ghcr.io"].auth: not valid base64</c>) and never contains a secret.</exception>
    public static DockerConfig Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Parses a dockerconfigjson document from its UTF-8 bytes (as found in a Secret's data).</summary>
    /// <exception cref="RegistryException">As <see cref="Parse(string)"/>.</exception>
    public static DockerConfig Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxBytes)
        {
            throw DockerConfigEntry.Invalid(
                $"dockerconfigjson: {utf8Json.Length} bytes is more than a Secret can hold ({MaxBytes} bytes: Kubernetes' MaxSecretSize, 1 MiB)");
        }

        // System.Text.Json reads strings lazily: invalid UTF-8 inside a name or value would surface later as an
        // InvalidOperationException from GetString, not as a parse error. Go's decoder would replace it with U+FFFD,
        // a different key or password than the bytes say, so it is refused here, with its position only.
        if (System.Text.Unicode.Utf8.ToUtf16(utf8Json, new char[utf8Json.Length], out var validBytes, out _, replaceInvalidSequences: false)
            != System.Buffers.OperationStatus.Done)
        {
            throw DockerConfigEntry.Invalid($"dockerconfigjson: not valid UTF-8 (byte {validBytes + 1})");
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            // JsonException's message quotes the offending text, which may be part of a secret: give the position only.
            throw DockerConfigEntry.Invalid(
                $"dockerconfigjson: not valid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw DockerConfigEntry.Invalid($"dockerconfigjson: expected an object at the top level, found {DockerConfigEntry.Describe(root.ValueKind)}");
            }

            CanonicalJson.RefuseDuplicateNames(root, "dockerconfigjson");
            CanonicalJson.RefuseMiscasedNames(root, KubeletTopLevelFields, "dockerconfigjson");
            var entries = ImmutableSortedDictionary.CreateBuilder<string, DockerConfigEntry>(StringComparer.Ordinal);
            var others = ImmutableSortedDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
            foreach (var (name, value) in CanonicalJson.LastWins(root))
            {
                if (name != AuthsField)
                {
                    others[name] = value.Clone();
                    continue;
                }

                if (value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (value.ValueKind != JsonValueKind.Object)
                {
                    throw DockerConfigEntry.Invalid($"auths: expected an object, found {DockerConfigEntry.Describe(value.ValueKind)}");
                }

                foreach (var (key, entry) in CanonicalJson.LastWins(value))
                {
                    entries[key] = DockerConfigEntry.Parse(key, entry, $"auths[{JsonSerializer.Serialize(key, JsonStringContext.Default.String)}]");
                }
            }

            return new DockerConfig(entries.ToImmutable(), others.ToImmutable());
        }
    }

    /// <summary>Parses like <see cref="Parse(string)"/>, returning false and the secret-free reason instead of throwing.</summary>
    public static bool TryParse(string json, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DockerConfig? config,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        try
        {
            config = Parse(json);
            error = null;
            return true;
        }
        catch (RegistryException e)
        {
            config = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>
    /// A new document where each of <paramref name="entries"/> replaces every existing entry whose key names
    /// the same registry and repository prefix (so <c>docker.io</c> replaces <c>https://index.docker.io/v1/</c>);
    /// every other entry and every other top-level field stays exactly as it was.
    /// </summary>
    public DockerConfig Merge(IEnumerable<DockerConfigEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var builder = _entries.ToBuilder();
        foreach (var entry in entries)
        {
            RemoveSameServer(builder, entry.Key, entry.Server);
            builder[entry.Key] = entry;
        }

        return new DockerConfig(builder.ToImmutable(), _otherFields);
    }

    /// <summary>Merges the entries of <paramref name="other"/> (not its other top-level fields) into this document.</summary>
    public DockerConfig Merge(DockerConfig other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Merge(other._entries.Values);
    }

    /// <summary>A new document without the entries whose keys name the same registry and prefix as <paramref name="key"/>
    /// (or, for a key that is not a registry host, without that exact key).</summary>
    public DockerConfig Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var builder = _entries.ToBuilder();
        RemoveSameServer(builder, key, ServerKey.ParseOrNull(key));
        return new DockerConfig(builder.ToImmutable(), _otherFields);
    }

    private static void RemoveSameServer(ImmutableSortedDictionary<string, DockerConfigEntry>.Builder builder, string key, ServerKey? server)
    {
        builder.Remove(key);
        if (server is not null)
        {
            builder.RemoveRange([.. builder.Where(e => e.Value.Server == server).Select(e => e.Key)]);
        }
    }

    /// <summary>
    /// The entry whose credentials the kubelet would use first for <paramref name="image"/>, matched exactly as
    /// the kubelet matches (see <see cref="KubeletKeyring"/>: globs per host label, case-sensitive hosts, string
    /// prefixes of the path, <c>https://index.docker.io/v1/</c> for Docker Hub images no other key matched).
    /// Null when the kubelet would pull anonymously.
    /// </summary>
    public DockerConfigEntry? FindEntry(ImageReference image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return KubeletKeyring.KeyFor(_entries.Keys, image) is { } key ? _entries[key] : null;
    }

    /// <summary>The entry for the whole of <paramref name="registry"/> (a key without repository prefix), or null.</summary>
    public DockerConfigEntry? FindEntry(RegistryHost registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return _entries.Values
            .Where(e => e.Server is { } server && server.Host == registry && server.Path.Length == 0)
            .OrderBy(e => e.Key == e.Server!.CanonicalKey ? 0 : 1)
            .FirstOrDefault();
    }

    /// <summary>The credential that applies to <paramref name="image"/> (see <see cref="FindEntry(ImageReference)"/>), or null.</summary>
    public RegistryCredential? FindCredential(ImageReference image) => FindEntry(image)?.ToCredential();

    /// <summary>
    /// The document as compact JSON with every object's members sorted by ordinal name and no whitespace:
    /// equal content gives an equal string. Contains the secrets: write it only to a Secret or a file.
    /// </summary>
    public string Serialize() => _serialized ??= CanonicalJson.ToText(writer =>
    {
        writer.WriteStartObject();
        var names = _otherFields.Keys.Append(AuthsField).Order(StringComparer.Ordinal);
        foreach (var name in names)
        {
            writer.WritePropertyName(name);
            if (name == AuthsField)
            {
                writer.WriteStartObject();
                foreach (var (key, entry) in _entries)
                {
                    writer.WritePropertyName(key);
                    CanonicalJson.WriteObject(writer, entry.Fields);
                }

                writer.WriteEndObject();
            }
            else
            {
                CanonicalJson.Write(writer, _otherFields[name]);
            }
        }

        writer.WriteEndObject();
    });

    /// <summary>The UTF-8 bytes of <see cref="Serialize"/>, as a Secret's <c>.dockerconfigjson</c> data holds them.</summary>
    public byte[] ToUtf8Bytes() => Encoding.UTF8.GetBytes(Serialize());

    /// <inheritdoc/>
    public bool Equals(DockerConfig? other) => other is not null && Serialize() == other.Serialize();

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DockerConfig);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Serialize());

    /// <summary>The entry keys and other field names; never a credential.</summary>
    public override string ToString() =>
        $"DockerConfig {{ Auths = [{string.Join(", ", _entries.Keys)}]"
        + (_otherFields.Count == 0 ? "" : $", OtherFields = [{string.Join(", ", _otherFields.Keys)}]")
        + " }";
}
