namespace RegistryInfra.Testing.Kubernetes;

/// <summary>
/// The fake API's <c>fieldSelector</c> on a LIST or WATCH, for the two fields every resource supports
/// (kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/, "Supported fields": "All resource types support
/// the metadata.name and metadata.namespace fields"; "Supported operators": <c>=</c>, <c>==</c> and <c>!=</c>, the first two
/// the same; "Chained selectors": a comma means AND). Another field is a 400 BadRequest, as the API server answers
/// ("field label not supported").
/// </summary>
internal sealed class FieldSelector
{
    private readonly List<(string Field, bool Equal, string Value)> _requirements;

    private FieldSelector(List<(string Field, bool Equal, string Value)> requirements) => _requirements = requirements;

    public static bool TryParse(string text, out FieldSelector selector, out string problem)
    {
        var requirements = new List<(string, bool, string)>();
        selector = new FieldSelector(requirements);
        problem = "";
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (at, width, equal) = part.IndexOf("!=", StringComparison.Ordinal) is var ne and >= 0 ? (ne, 2, false)
                : part.IndexOf("==", StringComparison.Ordinal) is var eq2 and >= 0 ? (eq2, 2, true)
                : part.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0 ? (eq, 1, true)
                : (-1, 0, false);
            if (at <= 0)
            {
                problem = $"invalid selector: '{text}'; can't understand '{part}'";
                return false;
            }
            var field = part[..at].Trim();
            if (field is not ("metadata.name" or "metadata.namespace"))
            {
                problem = $"field label not supported: {field}";
                return false;
            }
            requirements.Add((field, equal, part[(at + width)..].Trim()));
        }
        return true;
    }

    /// <summary>
    /// The value <c>metadata.name</c> must equal, or null (apimachinery fields.Selector RequiresExactMatch: the first <c>=</c> or
    /// <c>==</c> term on the field; a <c>!=</c> term requires nothing), which the API server's request info takes as the request's name.
    /// </summary>
    public string? RequiredName() => _requirements.FirstOrDefault(r => r.Field == "metadata.name" && r.Equal).Value;

    /// <summary>Whether an object of this namespace ("" for a cluster-scoped one) and name is selected.</summary>
    public bool Matches(string ns, string name) =>
        _requirements.All(r => ((r.Field == "metadata.name" ? name : ns) == r.Value) == r.Equal);
}
