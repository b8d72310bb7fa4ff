using System.Globalization;
using System.Text.Json;
using RegistryInfra.Core.Kubernetes;

namespace RegistryInfra.Core.Tests.Kubernetes;

/// <summary>
/// Core's <see cref="Selector"/> and <see cref="LabelSelector"/> against the test tables of kubernetes/apimachinery
/// (pkg/labels/selector_test.go and pkg/apis/meta/v1/helpers_test.go, ported as data in
/// <c>Fixtures/upstream/apimachinery-labels.json</c>, which names the repository and commit at its top). Every row agrees,
/// or carries a <c>differs</c> reason; a reason on a row that agrees fails too (it would hide a later regression).
/// </summary>
public sealed class ApimachineryLabelTablesTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_row_of_the_upstream_tables_agrees_or_says_why_not()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "upstream", "apimachinery-labels.json")));
        var root = document.RootElement;
        Assert.Equal("kubernetes/apimachinery", root.GetProperty("repository").GetString());
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        var problems = new List<string>();
        int agree = 0, byDesign = 0;
        foreach (var (row, i) in rows.Select((r, i) => (r, i)))
        {
            string? disagreement;
            try
            {
                disagreement = Check(row);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException)
            {
                disagreement = $"threw {e.GetType().Name}: {e.Message}";
            }
            var reason = row.TryGetProperty("differs", out var d) ? d.GetString() : null;
            var where = $"rows[{i.ToString(CultureInfo.InvariantCulture)}] {row.GetProperty("test").GetString()} {(row.TryGetProperty("input", out var input) ? JsonSerializer.Serialize(input.GetString()) : "")}";
            switch (disagreement, reason)
            {
                case (null, null):
                    agree++;
                    break;
                case (null, not null):
                    problems.Add($"{where}: agrees now, but the row says it differs by design ({reason}); remove the reason");
                    break;
                case (not null, null):
                    problems.Add($"{where}: {disagreement}");
                    break;
                default:
                    byDesign++;
                    break;
            }
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{root.GetProperty("repository").GetString()} @{root.GetProperty("commit").GetString()![..12]}: rows {rows.Count}, agree {agree}, differ by design {byDesign}"));
        Assert.True(rows.Count > 150, "the tables are all there");
        Assert.True(problems.Count == 0, "unexplained disagreements with upstream:\n" + string.Join("\n", problems));
    }

    private static string? Check(JsonElement row)
    {
        var test = row.GetProperty("test").GetString();
        switch (test)
        {
            case "TestSelectorParse" or "TestDeterministicParse":
                {
                    var text = row.GetProperty("input").GetString()!;
                    var valid = !row.TryGetProperty("valid", out var v) || v.GetBoolean();
                    var parsed = Selector.TryParse(text, out var selector, out var problem);
                    if (parsed != valid)
                    {
                        return valid ? $"upstream accepts, core rejects: {problem}" : $"upstream rejects, core accepts as {selector}";
                    }
                    return valid ? Same("string", row.GetProperty("string").GetString(), selector.ToString()) : null;
                }
            case "TestSelectorMatches" or "TestEverything":
                {
                    if (!Selector.TryParse(row.GetProperty("input").GetString(), out var selector, out var problem))
                    {
                        return $"core rejects: {problem}";
                    }
                    return Matches(row, selector);
                }
            case "TestSetMatches":
                return Matches(row, ReadLabelSelector(row).ToSelector());
            case "TestSetSelectorString":
                return Same("string", row.GetProperty("string").GetString(), ReadLabelSelector(row).ToSelectorString());
            case "TestValidatedSelectorFromSet" or "TestLabelSelectorAsSelector":
                {
                    var selector = ReadLabelSelector(row);
                    var problems = LabelSelector.Validate(selector, "selector");
                    var valid = row.GetProperty("valid").GetBoolean();
                    if ((problems.Count == 0) != valid)
                    {
                        return valid ? $"upstream accepts, core refuses: {problems[0].Field}: {problems[0].Problem}" : "upstream refuses, core accepts";
                    }
                    return valid ? Same("string", row.GetProperty("string").GetString(), selector.ToSelectorString()) : null;
                }
            case "TestLexer":
                return Same("first token", row.GetProperty("first").GetString(), Selector.Lex(row.GetProperty("input").GetString()!)[0]);
            case "TestLexerSequence" or "TestParserLookahead":
                {
                    var tokens = Selector.Lex(row.GetProperty("input").GetString()!);
                    var expected = row.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList();
                    if (test == "TestLexerSequence")
                    {
                        tokens = [.. tokens.Where(t => t != "EndOfStringToken")];
                    }
                    return Same("tokens", string.Join(' ', expected), string.Join(' ', tokens));
                }
            case "TestParseOperator":
                {
                    // The operator between a key and a value, in the context the parser reads it in.
                    var op = row.GetProperty("operator").GetString()!;
                    var text = op is "in" or "notin" ? $"k {op} (1)" : $"k {op} 1";
                    return Validity(text, row.GetProperty("valid").GetBoolean());
                }
            case "TestRequirementConstructor":
                return CheckRequirement(row);
            case "TestToString":
                return Same("string", row.GetProperty("string").GetString(), Selector.FromRequirements(ReadRequirements(row)).ToString());
            case "TestRequirementSelectorMatching":
                return Matches(row, Selector.FromRequirements(ReadRequirements(row)));
            case "TestSetSelectorParser":
                {
                    var text = row.GetProperty("input").GetString()!;
                    if (Validity(text, row.GetProperty("valid").GetBoolean()) is { } wrong)
                    {
                        return wrong;
                    }
                    if (!row.GetProperty("valid").GetBoolean() || !row.GetProperty("match").GetBoolean())
                    {
                        return null;
                    }
                    Assert.True(Selector.TryParse(text, out var selector, out _));
                    return Same("requirements", string.Join(" & ", ReadRequirements(row).Select(Describe)), string.Join(" & ", selector.Requirements.Select(Describe)));
                }
            default:
                return $"no check for {test}";
        }
    }

    // The set-based operators through the structured form (LabelSelector.Validate, the field named as upstream names it
    // after "matchExpressions[0]."); "=" with one value through matchLabels; gt and lt through the string form.
    private static string? CheckRequirement(JsonElement row)
    {
        var key = row.GetProperty("key").GetString()!;
        var op = row.GetProperty("operator").GetString()!;
        var values = row.GetProperty("values").EnumerateArray().Select(v => v.GetString()!).ToList();
        var valid = row.GetProperty("valid").GetBoolean();
        switch (op)
        {
            case "gt" or "lt":
                return Validity($"{key}{(op == "gt" ? ">" : "<")}{string.Join(',', values)}", valid);
            case "=":
                {
                    if (values.Count != 1)
                    {
                        return "not expressible";
                    }
                    var problems = LabelSelector.Validate(new LabelSelector { MatchLabels = new Dictionary<string, string> { [key] = values[0] } }, "s");
                    return (problems.Count == 0) == valid ? null : valid ? $"upstream accepts, core refuses: {problems[0].Problem}" : "upstream refuses, core accepts";
                }
            default:
                {
                    var selector = new LabelSelector { MatchExpressions = [new LabelSelectorRequirement { Key = key, Operator = op, Values = values }] };
                    var problems = LabelSelector.Validate(selector, "s");
                    if ((problems.Count == 0) != valid)
                    {
                        return valid ? $"upstream accepts, core refuses: {problems[0].Field}: {problems[0].Problem}" : "upstream refuses, core accepts";
                    }
                    var field = row.TryGetProperty("field", out var f) ? f.GetString() : null;
                    return field is null || problems.Any(p => p.Field == $"s.matchExpressions[0].{field}") ? null
                        : $"upstream names {field}, core names {string.Join(", ", problems.Select(p => p.Field))}";
                }
        }
    }

    private static string? Validity(string text, bool valid) =>
        Selector.TryParse(text, out var selector, out var problem) == valid ? null
            : valid ? $"upstream accepts, core rejects: {problem}" : $"upstream rejects, core accepts as '{selector}'";

    private static string? Matches(JsonElement row, Selector selector)
    {
        var labels = row.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        var expected = row.GetProperty("matches").GetBoolean();
        return selector.Matches(labels) == expected ? null : $"'{selector}' upstream {(expected ? "matches" : "does not match")}, core {(expected ? "does not" : "does")}";
    }

    private static LabelSelector ReadLabelSelector(JsonElement row)
    {
        var node = row.TryGetProperty("labelSelector", out var s) ? s : row;
        if (node.ValueKind == JsonValueKind.Null)
        {
            throw new InvalidOperationException("a nil selector");
        }
        var labels = node.TryGetProperty("matchLabels", out var m) ? m.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!) : [];
        var expressions = node.TryGetProperty("matchExpressions", out var e)
            ? e.EnumerateArray().Select(x => new LabelSelectorRequirement
            {
                Key = x.GetProperty("key").GetString()!,
                Operator = x.GetProperty("operator").GetString()!,
                Values = [.. x.GetProperty("values").EnumerateArray().Select(v => v.GetString()!)],
            }).ToList()
            : [];
        return new LabelSelector { MatchLabels = labels, MatchExpressions = expressions };
    }

    private static List<SelectorRequirement> ReadRequirements(JsonElement row)
    {
        var list = new List<SelectorRequirement>();
        foreach (var r in row.GetProperty("requirements").EnumerateArray())
        {
            if (r.ValueKind == JsonValueKind.Null)
            {
                throw new InvalidOperationException("an empty requirement");
            }
            var op = r.GetProperty("operator").GetString() switch
            {
                "=" => SelectorOperator.Equals,
                "==" => SelectorOperator.DoubleEquals,
                "!=" => SelectorOperator.NotEquals,
                "in" => SelectorOperator.In,
                "notin" => SelectorOperator.NotIn,
                "exists" => SelectorOperator.Exists,
                "!" => SelectorOperator.DoesNotExist,
                "gt" => SelectorOperator.GreaterThan,
                "lt" => SelectorOperator.LessThan,
                var other => throw new InvalidOperationException($"operator {other}"),
            };
            list.Add(new SelectorRequirement(r.GetProperty("key").GetString()!, op, [.. r.GetProperty("values").EnumerateArray().Select(v => v.GetString()!).Order(StringComparer.Ordinal)]));
        }
        return list;
    }

    private static string Describe(SelectorRequirement r) => $"{r.Key} {r.Operator} [{string.Join(',', r.Values)}]";

    private static string? Same(string what, string? expected, string? actual) =>
        string.Equals(expected, actual, StringComparison.Ordinal) ? null : $"{what}: upstream \"{expected}\", core \"{actual}\"";
}
