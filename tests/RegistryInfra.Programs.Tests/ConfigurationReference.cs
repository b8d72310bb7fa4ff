using System.Text;
using System.Text.Json.Nodes;

namespace RegistryInfra.Programs.Tests;

/// <summary>
/// The README's configuration reference, rendered from the descriptions in <c>schema/schema.json</c>:
/// one section per resource and function (inputs and outputs), then the object and enum types they use.
/// The README holds it between <see cref="Start"/> and <see cref="End"/>.
/// </summary>
public static class ConfigurationReference
{
    public const string Start = "<!-- configuration-reference:start (generated from schema/schema.json; do not edit) -->";
    public const string End = "<!-- configuration-reference:end -->";

    public static string Render(JsonObject schema)
    {
        var text = new StringBuilder();
        foreach (var (token, node) in Sorted(schema["resources"]))
        {
            var spec = node!.AsObject();
            var kind = spec["isComponent"]?.GetValue<bool>() == true ? "component" : "resource";
            text.Append($"### `{token}` ({kind})\n\n");
            Paragraph(text, spec["description"]);
            Table(text, "Inputs", spec["inputProperties"] as JsonObject, spec["requiredInputs"] as JsonArray);
            Table(text, "Outputs", spec["properties"] as JsonObject, null);
        }
        foreach (var (token, node) in Sorted(schema["functions"]))
        {
            var spec = node!.AsObject();
            text.Append($"### `{token}` (function)\n\n");
            Paragraph(text, spec["description"]);
            Table(text, "Arguments", spec["inputs"]?["properties"] as JsonObject, spec["inputs"]?["required"] as JsonArray);
            Table(text, "Result", spec["outputs"]?["properties"] as JsonObject, null);
        }
        var types = Sorted(schema["types"]);
        if (types.Count > 0)
        {
            text.Append("### Types\n\n");
            foreach (var (token, node) in types)
            {
                var spec = node!.AsObject();
                text.Append($"#### `{token}`\n\n");
                Paragraph(text, spec["description"]);
                if (spec["enum"] is JsonArray values)
                {
                    text.Append("| value | meaning |\n| --- | --- |\n");
                    foreach (var value in values)
                    {
                        text.Append($"| `{value?["value"]}` | {Cell(value?["description"])} |\n");
                    }
                    text.Append('\n');
                }
                else
                {
                    Table(text, "Fields", spec["properties"] as JsonObject, spec["required"] as JsonArray);
                }
            }
        }
        return text.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>The README with its reference section replaced by <paramref name="reference"/>.</summary>
    public static string Replace(string readme, string reference)
    {
        var start = readme.IndexOf(Start, StringComparison.Ordinal);
        var end = readme.IndexOf(End, StringComparison.Ordinal);
        if (start < 0 || end < start)
        {
            throw new InvalidDataException($"README.md lacks the markers '{Start}' and '{End}' in that order");
        }
        return readme[..(start + Start.Length)] + "\n\n" + reference + "\n" + readme[end..];
    }

    private static List<KeyValuePair<string, JsonNode?>> Sorted(JsonNode? section) =>
        (section as JsonObject)?.OrderBy(p => p.Key, StringComparer.Ordinal).ToList() ?? [];

    private static void Paragraph(StringBuilder text, JsonNode? description)
    {
        if (description?.GetValue<string>() is { Length: > 0 } value)
        {
            text.Append(value.Trim()).Append("\n\n");
        }
    }

    private static void Table(StringBuilder text, string title, JsonObject? properties, JsonArray? required)
    {
        if (properties is null || properties.Count == 0)
        {
            return;
        }
        var requiredNames = required?.Select(r => r!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
        text.Append($"{title}:\n\n| name | type | | description |\n| --- | --- | --- | --- |\n");
        foreach (var (name, node) in properties.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var spec = node!.AsObject();
            var flags = new List<string>();
            if (requiredNames.Contains(name))
            {
                flags.Add("required");
            }
            if (spec["secret"]?.GetValue<bool>() == true)
            {
                flags.Add("secret");
            }
            text.Append($"| `{name}` | {TypeOf(spec)} | {string.Join(", ", flags)} | {Cell(spec["description"])} |\n");
        }
        text.Append('\n');
    }

    private static string TypeOf(JsonObject spec)
    {
        if (spec["$ref"]?.GetValue<string>() is { } reference)
        {
            var name = reference[(reference.LastIndexOf(':') + 1)..];
            return reference.StartsWith("pulumi.json#/", StringComparison.Ordinal) ? reference["pulumi.json#/".Length..] : name;
        }
        if (spec["oneOf"] is JsonArray alternatives)
        {
            return string.Join(" or ", alternatives.OfType<JsonObject>().Select(TypeOf));
        }
        return spec["type"]?.GetValue<string>() switch
        {
            "array" => $"list of {(spec["items"] is JsonObject items ? TypeOf(items) : "any")}",
            "object" => spec["additionalProperties"] is JsonObject values ? $"map of {TypeOf(values)}" : "object",
            { } type => type,
            null => "any",
        };
    }

    // Markdown tables end a cell at '|' and a row at a line break.
    private static string Cell(JsonNode? description) =>
        (description?.GetValue<string>() ?? "").Trim().Replace("|", "\\|", StringComparison.Ordinal).Replace("\r\n", " ", StringComparison.Ordinal).Replace('\n', ' ');
}
