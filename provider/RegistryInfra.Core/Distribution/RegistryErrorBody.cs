using System.Text.Json;

namespace RegistryInfra.Core.Distribution;

/// <summary>The distribution spec's error body: <c>{"errors":[{"code":"…","message":"…","detail":…}]}</c>.</summary>
internal sealed record RegistryErrorBody(IReadOnlyList<(string Code, string Message)> Errors)
{
    public static readonly RegistryErrorBody Empty = new([]);

    public bool Has(string code) => Errors.Any(e => string.Equals(e.Code, code, StringComparison.OrdinalIgnoreCase));

    public static RegistryErrorBody Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return Empty;
        }
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("errors", out var errors)
                || errors.ValueKind != JsonValueKind.Array)
            {
                return Empty;
            }
            var list = new List<(string, string)>();
            foreach (var error in errors.EnumerateArray())
            {
                if (error.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }
                var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "";
                var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
                list.Add((code, message));
            }
            return new RegistryErrorBody(list);
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    /// <summary>Codes and messages for an exception message, trimmed so a chatty registry cannot flood it.</summary>
    public string Describe()
    {
        if (Errors.Count == 0)
        {
            return "";
        }
        var text = string.Join("; ", Errors.Take(3).Select(e => e.Message.Length == 0 ? e.Code : $"{e.Code}: {e.Message}"));
        return " (" + (text.Length <= 200 ? text : text[..200] + "…") + ")";
    }
}
