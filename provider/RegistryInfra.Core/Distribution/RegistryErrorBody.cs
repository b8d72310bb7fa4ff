using System.Text.Json;

namespace RegistryInfra.Core.Distribution;

/// <summary>
/// The distribution spec's error body: <c>{"errors":[{"code":"…","message":"…","detail":…}]}</c>, as
/// go-containerregistry's <c>transport.Error</c> reads it (pkg/v1/remote/transport/error.go). Codes are kept
/// for classification; messages come from the registry and are quoted only through <see cref="Redaction"/>.
/// </summary>
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
            var document = JsonSerializer.Deserialize(body, DistributionJson.Default.ErrorBodyDocument);
            if (document?.Errors is not { } errors)
            {
                return Empty;
            }
            return new RegistryErrorBody([.. errors.Take(16).OfType<ErrorDocument>().Select(e => (Text(e.Code), Text(e.Message)))]);
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    private static string Text(JsonElement? element) =>
        element is { ValueKind: JsonValueKind.String } e ? e.GetString() ?? "" : "";

    /// <summary>
    /// Codes and messages for an exception message: scrubbed of <paramref name="secrets"/> and of anything that
    /// looks like a credential, and cut, so a chatty or hostile registry can neither flood nor leak through it.
    /// </summary>
    public string Describe(IEnumerable<string?> secrets)
    {
        if (Errors.Count == 0)
        {
            return "";
        }
        var text = string.Join("; ", Errors.Take(3).Select(e => e.Message.Length == 0 ? e.Code : $"{e.Code}: {e.Message}"));
        var excerpt = Redaction.Excerpt(text, secrets, 200);
        return excerpt.Length == 0 ? "" : " (" + excerpt + ")";
    }
}
