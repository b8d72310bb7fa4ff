using System.Text.Encodings.Web;
using System.Text.Json;

namespace RegistryInfra.Core.DockerConfigJson;

/// <summary>
/// Writes JSON deterministically: object members sorted by ordinal name (the last of duplicate names
/// wins, as Go's decoder does), no whitespace, numbers as written, so equal content gives equal text.
/// </summary>
internal static class CanonicalJson
{
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        // Base64 (+, /, =) and registry URLs stay readable; the output is JSON for a file, not HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    internal static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(writer, LastWins(element));
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.Number:
                writer.WriteRawValue(element.GetRawText(), skipInputValidation: true);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    internal static void WriteObject(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, JsonElement>> members)
    {
        writer.WriteStartObject();
        foreach (var (name, value) in members.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            writer.WritePropertyName(name);
            Write(writer, value);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Refuses an object, at any depth of <paramref name="element"/>, that names a member twice. The kubelet reads a
    /// dockerconfigjson with Go's encoding/json (k8s.io/kubernetes pkg/credentialprovider/config.go at 78fc8e44,
    /// <c>readDockerConfigJSONFileFromBytes</c>: <c>json.Unmarshal</c> into <c>DockerConfigJSON</c>), which keeps
    /// no single rule for duplicates: a second <c>auths</c> is merged into the map of the first (Unmarshal reuses
    /// a non-nil map, keeping its entries), a second registry key replaces the first, a second <c>username</c> or
    /// <c>auth</c> inside an entry overwrites the first. Other readers (docker, containerd, this parser's
    /// last-wins) each differ from that in some case, so what such a document grants depends on who reads it:
    /// it is refused, naming the duplicate and where it is.
    /// </summary>
    internal static void RefuseDuplicateNames(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                RefuseDuplicateNames(item, $"{path}[{index++}]");
            }
            return;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!names.Add(property.Name))
            {
                throw DockerConfigEntry.Invalid($"{path}: duplicate key {Quoted(property.Name)} (the kubelet's Go decoder would merge or overwrite it; give each key once)");
            }

            RefuseDuplicateNames(property.Value, path == "dockerconfigjson" && property.Name == "auths" ? "auths" : $"{path}[{Quoted(property.Name)}]");
        }
    }

    /// <summary>
    /// Refuses a member whose name is one of <paramref name="fields"/> in another case (<c>Auths</c>, <c>Username</c>):
    /// Go's encoding/json matches struct fields without case, so the kubelet reads it as that field while a
    /// case-sensitive reader ignores it, and two spellings of one field are a duplicate to the kubelet.
    /// </summary>
    internal static void RefuseMiscasedNames(JsonElement obj, IReadOnlyCollection<string> fields, string path)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (!fields.Contains(property.Name, StringComparer.Ordinal)
                && fields.FirstOrDefault(f => string.Equals(f, property.Name, StringComparison.OrdinalIgnoreCase)) is { } field)
            {
                throw DockerConfigEntry.Invalid($"{path}: key {Quoted(property.Name)} is read by the kubelet as {Quoted(field)} (Go matches field names without case); write it as {Quoted(field)}");
            }
        }
    }

    private static string Quoted(string name) =>
        JsonSerializer.Serialize(name.Length <= 80 ? name : string.Concat(name.AsSpan(0, 77), "..."), JsonStringContext.Default.String);

    internal static SortedDictionary<string, JsonElement> LastWins(JsonElement obj)
    {
        var members = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            members[property.Name] = property.Value;
        }

        return members;
    }

    internal static string ToText(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal static JsonElement String(string value)
    {
        var text = ToText(writer => writer.WriteStringValue(value));
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
