using System.Globalization;
using System.Text;

namespace RegistryInfra.Core.Kubernetes;

// The facts below are those of kubernetes/apimachinery at commit eed236ceee2c19c2753a3d93ac0631dc20750454:
// pkg/labels/selector.go (Parse's grammar, the lexer's tokens and whitespace, Requirement.Matches, String),
// pkg/apis/meta/v1/helpers.go (LabelSelectorAsSelector), pkg/util/validation/validation.go (IsQualifiedName,
// IsValidLabelValue). The tests check them against that repository's own test tables, ported as data
// (tests/RegistryInfra.Core.Tests/Fixtures/upstream/apimachinery-labels.json).

/// <summary>
/// A label selector in its structured form, as Kubernetes' <c>meta/v1</c> <c>LabelSelector</c>: every
/// <see cref="MatchLabels"/> entry and every <see cref="MatchExpressions"/> requirement must hold (AND). An empty
/// selector selects everything (<c>metav1.LabelSelectorAsSelector</c> returns <c>labels.Everything()</c>).
/// </summary>
public sealed record LabelSelector
{
    /// <summary>Labels that must be present with exactly these values.</summary>
    public IReadOnlyDictionary<string, string> MatchLabels { get; init; } = new Dictionary<string, string>();

    /// <summary>Set-based requirements.</summary>
    public IReadOnlyList<LabelSelectorRequirement> MatchExpressions { get; init; } = [];

    /// <summary>Whether the selector has no requirement at all, and so selects every object.</summary>
    public bool IsEmpty => MatchLabels.Count == 0 && MatchExpressions.Count == 0;

    /// <summary>
    /// Every problem of <paramref name="selector"/>, each naming its field under <paramref name="field"/>
    /// (<c>field.matchLabels["team"]</c>, <c>field.matchExpressions[0].values</c>); empty when it is valid.
    /// </summary>
    public static IReadOnlyList<(string Field, string Problem)> Validate(LabelSelector selector, string field)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(field);
        var problems = new List<(string, string)>();
        foreach (var (key, value) in selector.MatchLabels.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var at = $"{field}.matchLabels[\"{key}\"]";
            if (LabelSyntax.KeyProblem(key) is { } keyProblem)
            {
                problems.Add((at, $"key '{Quote(key)}': {keyProblem}"));
            }
            if (LabelSyntax.ValueProblem(value) is { } valueProblem)
            {
                problems.Add((at, $"value '{Quote(value)}': {valueProblem}"));
            }
        }
        for (var i = 0; i < selector.MatchExpressions.Count; i++)
        {
            var at = $"{field}.matchExpressions[{i.ToString(CultureInfo.InvariantCulture)}]";
            var requirement = selector.MatchExpressions[i];
            if (requirement is null)
            {
                problems.Add((at, "must be a requirement with key and operator"));
                continue;
            }
            if (LabelSyntax.KeyProblem(requirement.Key ?? "") is { } keyProblem)
            {
                problems.Add(($"{at}.key", $"'{Quote(requirement.Key ?? "")}': {keyProblem}"));
            }
            var values = requirement.Values ?? [];
            switch (requirement.Operator)
            {
                case LabelSelectorRequirement.In or LabelSelectorRequirement.NotIn:
                    if (values.Count == 0)
                    {
                        problems.Add(($"{at}.values", $"the {requirement.Operator} operator needs at least one value"));
                    }
                    break;
                case LabelSelectorRequirement.Exists or LabelSelectorRequirement.DoesNotExist:
                    if (values.Count != 0)
                    {
                        problems.Add(($"{at}.values", $"the {requirement.Operator} operator takes no values"));
                    }
                    break;
                default:
                    problems.Add(($"{at}.operator", $"'{Quote(requirement.Operator ?? "")}' must be one of {string.Join(", ", LabelSelectorRequirement.Operators)}"));
                    break;
            }
            for (var v = 0; v < values.Count; v++)
            {
                if (LabelSyntax.ValueProblem(values[v] ?? "") is { } valueProblem)
                {
                    problems.Add(($"{at}.values[{v.ToString(CultureInfo.InvariantCulture)}]", $"'{Quote(values[v] ?? "")}': {valueProblem}"));
                }
            }
        }
        return problems;
    }

    /// <summary>
    /// The canonical string form, as <c>metav1.LabelSelectorAsSelector(s).String()</c> prints it: requirements sorted
    /// by key, <c>k=v</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>, <c>k</c>, <c>!k</c>, values sorted; empty for an
    /// empty selector. It is what a <c>labelSelector</c> query parameter and the refresher configuration take, and
    /// <see cref="Selector.TryParse"/> reads it back to the same requirements. Throws when <see cref="Validate"/> finds a problem.
    /// </summary>
    public string ToSelectorString()
    {
        if (Validate(this, "selector") is { Count: > 0 } problems)
        {
            throw new ArgumentException($"{problems[0].Field}: {problems[0].Problem}");
        }
        var requirements = new List<SelectorRequirement>();
        foreach (var (key, value) in MatchLabels)
        {
            requirements.Add(new SelectorRequirement(key, SelectorOperator.Equals, [value]));
        }
        foreach (var e in MatchExpressions)
        {
            var op = e.Operator switch
            {
                LabelSelectorRequirement.In => SelectorOperator.In,
                LabelSelectorRequirement.NotIn => SelectorOperator.NotIn,
                LabelSelectorRequirement.Exists => SelectorOperator.Exists,
                _ => SelectorOperator.DoesNotExist,
            };
            requirements.Add(new SelectorRequirement(e.Key, op, [.. e.Values]));
        }
        return Selector.FromRequirements(requirements).ToString();
    }

    /// <summary>This selector as a parsed <see cref="Selector"/> (for matching); throws as <see cref="ToSelectorString"/>.</summary>
    public Selector ToSelector() => Selector.TryParse(ToSelectorString(), out var selector, out var problem)
        ? selector
        : throw new InvalidOperationException(problem);

    private static string Quote(string text) => text.Length <= 64 ? text : text[..61] + "...";

    /// <inheritdoc />
    public bool Equals(LabelSelector? other) =>
        other is not null
        && MatchLabels.Count == other.MatchLabels.Count
        && MatchLabels.All(p => other.MatchLabels.TryGetValue(p.Key, out var v) && v == p.Value)
        && MatchExpressions.SequenceEqual(other.MatchExpressions);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(MatchLabels.Count, MatchExpressions.Count);
}

/// <summary>One set-based requirement of a <see cref="LabelSelector"/>, as <c>meta/v1</c> <c>LabelSelectorRequirement</c>.</summary>
public sealed record LabelSelectorRequirement
{
    /// <summary>The label's value is one of <see cref="Values"/>.</summary>
    public const string In = "In";

    /// <summary>The label is missing or its value is none of <see cref="Values"/>.</summary>
    public const string NotIn = "NotIn";

    /// <summary>The label is present, whatever its value.</summary>
    public const string Exists = "Exists";

    /// <summary>The label is missing.</summary>
    public const string DoesNotExist = "DoesNotExist";

    /// <summary>The operators a requirement takes.</summary>
    public static readonly IReadOnlyList<string> Operators = [In, NotIn, Exists, DoesNotExist];

    /// <summary>The label key.</summary>
    public string Key { get; init; } = "";

    /// <summary>One of <see cref="Operators"/>.</summary>
    public string Operator { get; init; } = "";

    /// <summary>The values; at least one for In and NotIn, none for Exists and DoesNotExist.</summary>
    public IReadOnlyList<string> Values { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(LabelSelectorRequirement? other) =>
        other is not null && Key == other.Key && Operator == other.Operator && Values.SequenceEqual(other.Values);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Key, Operator, Values.Count);
}

/// <summary>The operators of the string form of a selector (apimachinery <c>selection.Operator</c>).</summary>
public enum SelectorOperator
{
    /// <summary><c>k=v</c>.</summary>
    Equals,

    /// <summary><c>k==v</c>.</summary>
    DoubleEquals,

    /// <summary><c>k!=v</c>: also matches when the label is missing.</summary>
    NotEquals,

    /// <summary><c>k in (a,b)</c>.</summary>
    In,

    /// <summary><c>k notin (a,b)</c>: also matches when the label is missing.</summary>
    NotIn,

    /// <summary><c>k</c>.</summary>
    Exists,

    /// <summary><c>!k</c>.</summary>
    DoesNotExist,

    /// <summary><c>k&gt;n</c>: the label's value is an integer greater than n.</summary>
    GreaterThan,

    /// <summary><c>k&lt;n</c>: the label's value is an integer less than n.</summary>
    LessThan,
}

/// <summary>One requirement of a parsed <see cref="Selector"/>; <see cref="Values"/> are sorted and distinct.</summary>
/// <param name="Key">The label key.</param>
/// <param name="Operator">The operator.</param>
/// <param name="Values">The values (one for the exact-match and integer operators, none for Exists and DoesNotExist).</param>
public sealed record SelectorRequirement(string Key, SelectorOperator Operator, IReadOnlyList<string> Values)
{
    /// <summary>Whether <paramref name="labels"/> satisfy this requirement (apimachinery <c>Requirement.Matches</c>).</summary>
    public bool Matches(IReadOnlyDictionary<string, string>? labels)
    {
        string? value = null;
        var present = labels is not null && labels.TryGetValue(Key, out value);
        switch (Operator)
        {
            case SelectorOperator.In or SelectorOperator.Equals or SelectorOperator.DoubleEquals:
                return present && Values.Contains(value!, StringComparer.Ordinal);
            case SelectorOperator.NotIn or SelectorOperator.NotEquals:
                return !present || !Values.Contains(value!, StringComparer.Ordinal);
            case SelectorOperator.Exists:
                return present;
            case SelectorOperator.DoesNotExist:
                return !present;
            default:
                // Gt/Lt: both sides parse as 64-bit integers (strconv.ParseInt base 10), else no match.
                if (!present || Values.Count != 1
                    || !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var actual)
                    || !long.TryParse(Values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bound))
                {
                    return false;
                }
                return Operator == SelectorOperator.GreaterThan ? actual > bound : actual < bound;
        }
    }

    /// <summary>The requirement as apimachinery's <c>Requirement.String</c> prints it.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        if (Operator == SelectorOperator.DoesNotExist)
        {
            text.Append('!');
        }
        text.Append(Key);
        var (op, parenthesised) = Operator switch
        {
            SelectorOperator.Equals => ("=", false),
            SelectorOperator.DoubleEquals => ("==", false),
            SelectorOperator.NotEquals => ("!=", false),
            SelectorOperator.In => (" in ", true),
            SelectorOperator.NotIn => (" notin ", true),
            SelectorOperator.GreaterThan => (">", false),
            SelectorOperator.LessThan => ("<", false),
            _ => ((string?)null, false),
        };
        if (op is null)
        {
            return text.ToString();
        }
        text.Append(op);
        if (parenthesised)
        {
            text.Append('(');
        }
        text.AppendJoin(',', Values.Order(StringComparer.Ordinal));
        if (parenthesised)
        {
            text.Append(')');
        }
        return text.ToString();
    }

    /// <inheritdoc />
    public bool Equals(SelectorRequirement? other) =>
        other is not null && Key == other.Key && Operator == other.Operator && Values.SequenceEqual(other.Values);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Key, Operator, Values.Count);
}

/// <summary>
/// A label selector in its string form (<c>team=payments,env!=dev</c>, <c>tier in (a,b)</c>, <c>!legacy</c>), parsed
/// with the grammar of apimachinery's <c>labels.Parse</c> and matched with its semantics: every requirement must hold,
/// <c>!=</c> and <c>notin</c> also match an object without the key, the empty selector matches everything.
/// </summary>
public sealed class Selector
{
    private Selector(IReadOnlyList<SelectorRequirement> requirements) => Requirements = requirements;

    /// <summary>The selector that matches every object (the empty string).</summary>
    public static Selector Everything { get; } = new([]);

    /// <summary>The requirements, sorted by key.</summary>
    public IReadOnlyList<SelectorRequirement> Requirements { get; }

    /// <summary>Whether the selector has no requirement, and so matches everything.</summary>
    public bool IsEmpty => Requirements.Count == 0;

    /// <summary>
    /// Parses <paramref name="text"/> with <c>labels.Parse</c>'s grammar:
    /// <c>requirement ("," requirement)*</c> where a requirement is <c>[!]KEY</c>, <c>KEY (=|==|!=) VALUE</c>,
    /// <c>KEY (in|notin) (VALUE, ...)</c> or <c>KEY (&gt;|&lt;) INTEGER</c>; blanks (space, tab, CR, LF) separate tokens;
    /// keys and values are checked as Kubernetes checks label keys and values. On failure <paramref name="problem"/>
    /// says what was found where something else was expected.
    /// </summary>
    public static bool TryParse(string? text, out Selector selector, out string problem)
    {
        selector = Everything;
        problem = "";
        var parser = new Parser(text ?? "");
        if (!parser.Parse(out var requirements, out problem))
        {
            return false;
        }
        selector = FromRequirements(requirements);
        return true;
    }

    /// <summary>Whether <paramref name="labels"/> (null: none) satisfy every requirement.</summary>
    public bool Matches(IReadOnlyDictionary<string, string>? labels)
    {
        foreach (var requirement in Requirements)
        {
            if (!requirement.Matches(labels))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The canonical string form (<c>labels.Selector.String()</c>): requirements sorted by key, joined by commas.</summary>
    public override string ToString() => string.Join(',', Requirements.Select(r => r.ToString()));

    /// <summary>The lexer's tokens of <paramref name="text"/>, named as apimachinery names them (<c>IdentifierToken</c>, ..., <c>EndOfStringToken</c> last), for the upstream lexer tables.</summary>
    internal static IReadOnlyList<string> Lex(string text) => [.. new Parser(text).Tokens.Select(t => t switch
    {
        Token.Error => "ErrorToken",
        Token.End => "EndOfStringToken",
        Token.ClosedParenthesis => "ClosedParToken",
        Token.OpenParenthesis => "OpenParToken",
        Token.Not => "DoesNotExistToken",
        _ => t + "Token",
    })];

    internal static Selector FromRequirements(IEnumerable<SelectorRequirement> requirements) =>
        new([.. requirements.OrderBy(r => r.Key, StringComparer.Ordinal)]);

    private enum Token
    {
        Error,
        End,
        ClosedParenthesis,
        Comma,
        Not,
        DoubleEquals,
        Equals,
        GreaterThan,
        Identifier,
        In,
        LessThan,
        NotEquals,
        NotIn,
        OpenParenthesis,
    }

    private static Token Literal(string text) => text switch
    {
        ")" => Token.ClosedParenthesis,
        "," => Token.Comma,
        "!" => Token.Not,
        "==" => Token.DoubleEquals,
        "=" => Token.Equals,
        ">" => Token.GreaterThan,
        "in" => Token.In,
        "<" => Token.LessThan,
        "!=" => Token.NotEquals,
        "notin" => Token.NotIn,
        "(" => Token.OpenParenthesis,
        _ => Token.Error,
    };

    private static bool IsBlank(char c) => c is ' ' or '\t' or '\r' or '\n';

    private static bool IsSpecial(char c) => c is '=' or '!' or '(' or ')' or ',' or '>' or '<';

    /// <summary>The tokens of the whole text, then a recursive descent over them with one token of lookahead.</summary>
    private sealed class Parser
    {
        private readonly List<(Token Token, string Text)> _items = [];
        private int _position;

        public IEnumerable<Token> Tokens => _items.Select(i => i.Token);

        public Parser(string text)
        {
            var i = 0;
            while (true)
            {
                while (i < text.Length && IsBlank(text[i]))
                {
                    i++;
                }
                if (i == text.Length)
                {
                    _items.Add((Token.End, ""));
                    return;
                }
                var start = i;
                if (IsSpecial(text[i]))
                {
                    // The longest run of special characters that is still a token ("!=" rather than "!" then "=").
                    var last = (Token: Token.Error, Length: 0);
                    while (i < text.Length && IsSpecial(text[i]))
                    {
                        var token = Literal(text[start..(i + 1)]);
                        if (token != Token.Error)
                        {
                            last = (token, i + 1 - start);
                        }
                        else if (last.Token != Token.Error)
                        {
                            break;
                        }
                        i++;
                    }
                    if (last.Token == Token.Error)
                    {
                        _items.Add((Token.Error, $"error expected: keyword found '{text[start..i]}'"));
                        _items.Add((Token.End, ""));
                        return;
                    }
                    i = start + last.Length;
                    _items.Add((last.Token, text[start..i]));
                }
                else
                {
                    while (i < text.Length && !IsSpecial(text[i]) && !IsBlank(text[i]))
                    {
                        i++;
                    }
                    var word = text[start..i];
                    var token = word is "in" or "notin" ? Literal(word) : Token.Identifier;
                    _items.Add((token, word));
                }
            }
        }

        // Where a value is expected, "in" and "notin" are values like any other word ("x in (in)").
        private (Token Token, string Text) Peek(bool values)
        {
            var item = _items[Math.Min(_position, _items.Count - 1)];
            return values && item.Token is Token.In or Token.NotIn ? (Token.Identifier, item.Text) : item;
        }

        private (Token Token, string Text) Next(bool values)
        {
            var item = Peek(values);
            _position = Math.Min(_position + 1, _items.Count - 1);
            return item;
        }

        public bool Parse(out List<SelectorRequirement> requirements, out string problem)
        {
            requirements = [];
            problem = "";
            while (true)
            {
                var (token, text) = Peek(values: true);
                switch (token)
                {
                    case Token.End:
                        return true;
                    case Token.Identifier or Token.Not:
                        if (!Requirement(out var requirement, out problem))
                        {
                            problem = $"unable to parse requirement: {problem}";
                            return false;
                        }
                        requirements.Add(requirement);
                        var (after, afterText) = Next(values: true);
                        if (after == Token.End)
                        {
                            return true;
                        }
                        if (after != Token.Comma)
                        {
                            problem = $"found '{afterText}', expected: ',' or 'end of string'";
                            return false;
                        }
                        var (following, followingText) = Peek(values: true);
                        if (following is not (Token.Identifier or Token.Not))
                        {
                            problem = $"found '{followingText}', expected: identifier after ','";
                            return false;
                        }
                        break;
                    default:
                        problem = $"found '{text}', expected: !, identifier, or 'end of string'";
                        return false;
                }
            }
        }

        private bool Requirement(out SelectorRequirement requirement, out string problem)
        {
            requirement = null!;
            problem = "";
            var (token, key) = Next(values: true);
            var negated = token == Token.Not;
            if (negated)
            {
                (token, key) = Next(values: true);
            }
            if (token != Token.Identifier)
            {
                problem = $"found '{key}', expected: identifier";
                return false;
            }
            if (LabelSyntax.KeyProblem(key) is { } keyProblem)
            {
                problem = $"key '{key}': {keyProblem}";
                return false;
            }
            var lookahead = Peek(values: true).Token;
            if (negated || lookahead is Token.End or Token.Comma)
            {
                requirement = new SelectorRequirement(key, negated ? SelectorOperator.DoesNotExist : SelectorOperator.Exists, []);
                return true;
            }
            var (opToken, opText) = Next(values: false);
            SelectorOperator op;
            switch (opToken)
            {
                case Token.In: op = SelectorOperator.In; break;
                case Token.NotIn: op = SelectorOperator.NotIn; break;
                case Token.Equals: op = SelectorOperator.Equals; break;
                case Token.DoubleEquals: op = SelectorOperator.DoubleEquals; break;
                case Token.NotEquals: op = SelectorOperator.NotEquals; break;
                case Token.GreaterThan: op = SelectorOperator.GreaterThan; break;
                case Token.LessThan: op = SelectorOperator.LessThan; break;
                default:
                    problem = $"found '{opText}', expected: in, notin, =, ==, !=, gt, lt";
                    return false;
            }
            var values = new SortedSet<string>(StringComparer.Ordinal);
            if (op is SelectorOperator.In or SelectorOperator.NotIn)
            {
                if (!SetValues(values, out problem))
                {
                    return false;
                }
                if (values.Count == 0)
                {
                    problem = "values: for 'in', 'notin' operators, values set can't be empty";
                    return false;
                }
            }
            else
            {
                var (next, nextText) = Peek(values: true);
                if (next is Token.End or Token.Comma)
                {
                    values.Add("");
                }
                else
                {
                    Next(values: true);
                    if (next != Token.Identifier)
                    {
                        problem = $"found '{nextText}', expected: identifier";
                        return false;
                    }
                    values.Add(nextText);
                }
                if (op is SelectorOperator.GreaterThan or SelectorOperator.LessThan
                    && !long.TryParse(values.Min, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                {
                    problem = $"values[0]: '{values.Min}': for 'Gt', 'Lt' operators, the value must be an integer";
                    return false;
                }
            }
            foreach (var value in values)
            {
                if (LabelSyntax.ValueProblem(value) is { } valueProblem)
                {
                    problem = $"values[{key}]: '{value}': {valueProblem}";
                    return false;
                }
            }
            requirement = new SelectorRequirement(key, op, [.. values]);
            return true;
        }

        // "(a,b)", "()" (one empty value), "(,a)", "(a,)", "(a,,b)": an empty value wherever a comma has no word beside it.
        private bool SetValues(SortedSet<string> values, out string problem)
        {
            problem = "";
            var (open, openText) = Next(values: true);
            if (open != Token.OpenParenthesis)
            {
                problem = $"found '{openText}' expected: '('";
                return false;
            }
            var (first, firstText) = Peek(values: true);
            if (first == Token.ClosedParenthesis)
            {
                Next(values: true);
                values.Add("");
                return true;
            }
            if (first is not (Token.Identifier or Token.Comma))
            {
                problem = $"found '{firstText}', expected: ',', ')' or identifier";
                return false;
            }
            var expectValue = true;
            while (true)
            {
                var (token, text) = Next(values: true);
                switch (token)
                {
                    case Token.Identifier when expectValue:
                        values.Add(text);
                        expectValue = false;
                        break;
                    case Token.Comma:
                        if (expectValue)
                        {
                            values.Add("");
                        }
                        expectValue = true;
                        break;
                    case Token.ClosedParenthesis:
                        if (expectValue)
                        {
                            values.Add("");
                        }
                        return true;
                    default:
                        problem = expectValue ? $"found '{text}', expected: ',', or identifier" : $"found '{text}', expected: ',' or ')'";
                        return false;
                }
            }
        }
    }
}

/// <summary>
/// Label key and value syntax (apimachinery pkg/util/validation: <c>IsQualifiedName</c>, <c>IsValidLabelValue</c>):
/// a key is an optional DNS-subdomain prefix (at most 253) and '/', then a name of at most 63 characters
/// <c>[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?</c>; a value is empty or such a name.
/// </summary>
public static class LabelSyntax
{
    /// <summary>The longest label value, and the longest name part of a key.</summary>
    public const int MaxNameLength = 63;

    /// <summary>The longest key prefix.</summary>
    public const int MaxPrefixLength = 253;

    /// <summary>What is wrong with <paramref name="key"/> as a label key, or null.</summary>
    public static string? KeyProblem(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parts = key.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1:
                name = parts[0];
                break;
            case 2:
                if (parts[0].Length == 0)
                {
                    return "prefix part must be non-empty";
                }
                if (DnsSubdomainProblem(parts[0]) is { } prefixProblem)
                {
                    return $"prefix part {prefixProblem}";
                }
                name = parts[1];
                break;
            default:
                return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
        }
        if (name.Length == 0)
        {
            return "name part must be non-empty";
        }
        if (name.Length > MaxNameLength)
        {
            return $"name part must be no more than {MaxNameLength} characters";
        }
        return IsName(name) ? null : "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
    }

    /// <summary>What is wrong with <paramref name="value"/> as a label value, or null.</summary>
    public static string? ValueProblem(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > MaxNameLength)
        {
            return $"must be no more than {MaxNameLength} characters";
        }
        return value.Length == 0 || IsName(value) ? null : "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
    }

    private static bool IsName(string s)
    {
        if (!char.IsAsciiLetterOrDigit(s[0]) || !char.IsAsciiLetterOrDigit(s[^1]))
        {
            return false;
        }
        foreach (var c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }
        return true;
    }

    private static string? DnsSubdomainProblem(string s)
    {
        if (s.Length > MaxPrefixLength)
        {
            return $"must be no more than {MaxPrefixLength} characters";
        }
        foreach (var label in s.Split('.'))
        {
            if (label.Length == 0 || !IsLowerAlphanumeric(label[0]) || !IsLowerAlphanumeric(label[^1]) || label.Any(c => !IsLowerAlphanumeric(c) && c != '-'))
            {
                return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
            }
        }
        return null;
    }

    private static bool IsLowerAlphanumeric(char c) => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c);
}

/// <summary>
/// The entries of <c>excludeNamespaces</c>: a namespace name, or a glob where <c>*</c> stands for any run of
/// characters (possibly none) and <c>?</c> for exactly one (<c>kube-*</c>, <c>team-??-dev</c>).
/// </summary>
public static class NamespacePatterns
{
    /// <summary>Whether <paramref name="name"/> is <paramref name="pattern"/> or matches it as a glob.</summary>
    public static bool Matches(string pattern, string name)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(name);
        // Iterative glob with one backtrack point (the last '*'): linear in practice, never exponential.
        int p = 0, n = 0, star = -1, resume = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == name[n]))
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++resume;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }

    /// <summary>Whether any of <paramref name="patterns"/> matches <paramref name="name"/>.</summary>
    public static bool MatchesAny(IEnumerable<string> patterns, string name)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        return patterns.Any(p => Matches(p, name));
    }

    /// <summary>What is wrong with <paramref name="pattern"/>, or null: lower-case letters, digits, '-', '*' and '?', at most 63 characters.</summary>
    public static string? Problem(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return "must be a namespace name or a pattern with * and ?, not empty";
        }
        if (pattern.Length > 63)
        {
            return "must be at most 63 characters (a namespace name is a DNS label)";
        }
        foreach (var c in pattern)
        {
            if (!char.IsAsciiDigit(c) && !char.IsAsciiLetterLower(c) && c is not ('-' or '*' or '?'))
            {
                return $"'{pattern}' may hold only lower-case letters, digits, '-' and the wildcards * and ?";
            }
        }
        return null;
    }
}
