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
