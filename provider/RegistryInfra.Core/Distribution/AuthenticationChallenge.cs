using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace RegistryInfra.Core.Distribution;

/// <summary>
/// One challenge of a <c>WWW-Authenticate</c> header (RFC 7235): a scheme such as <c>Bearer</c> or
/// <c>Basic</c> with its parameters (names compared without case) or a token68.
/// </summary>
/// <param name="Scheme">The authentication scheme as the server wrote it.</param>
/// <param name="Parameters">The auth-params, unquoted and unescaped.</param>
/// <param name="Token68">The token68 form, when the challenge has one instead of parameters.</param>
public sealed record AuthenticationChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters, string? Token68 = null)
{
    /// <summary>True when the scheme is <paramref name="scheme"/>, compared without case.</summary>
    public bool IsScheme(string scheme) => string.Equals(Scheme, scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>The parameter's value, or null.</summary>
    public string? this[string name] => Parameters.TryGetValue(name, out var value) ? value : null;

    /// <summary>Parses every challenge in the given header values, in order.</summary>
    /// <exception cref="FormatException">A header value is not a valid challenge list; the message says where.</exception>
    public static IReadOnlyList<AuthenticationChallenge> Parse(IEnumerable<string> headerValues)
    {
        ArgumentNullException.ThrowIfNull(headerValues);
        var challenges = new List<AuthenticationChallenge>();
        foreach (var value in headerValues)
        {
            new ChallengeReader(value).ReadAll(challenges);
        }
        return challenges;
    }

    /// <summary>Parses one header value.</summary>
    /// <exception cref="FormatException">The value is not a valid challenge list.</exception>
    public static IReadOnlyList<AuthenticationChallenge> Parse(string headerValue) => Parse([headerValue]);

    /// <summary>Parses the header values, or returns false with nothing parsed.</summary>
    public static bool TryParse(IEnumerable<string> headerValues, [NotNullWhen(true)] out IReadOnlyList<AuthenticationChallenge>? challenges)
    {
        try
        {
            challenges = Parse(headerValues);
            return true;
        }
        catch (FormatException)
        {
            challenges = null;
            return false;
        }
    }

    private ref struct ChallengeReader(string text)
    {
        private readonly string _text = text;
        private int _pos;

        public void ReadAll(List<AuthenticationChallenge> into)
        {
            while (true)
            {
                SkipSeparators();
                if (AtEnd)
                {
                    return;
                }
                into.Add(ReadChallenge());
            }
        }

        private readonly bool AtEnd => _pos >= _text.Length;

        private readonly char Current => _text[_pos];

        private AuthenticationChallenge ReadChallenge()
        {
            var scheme = ReadToken();
            if (scheme.Length == 0)
            {
                throw Error("expected an authentication scheme");
            }
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var hadSpace = SkipSpaces();
            if (AtEnd || Current == ',')
            {
                ReadParameters(parameters);
                return Build(scheme, parameters, null);
            }
            if (!hadSpace)
            {
                throw Error($"expected a space after the scheme '{scheme}'");
            }
            if (TryReadToken68() is { } token68)
            {
                return Build(scheme, parameters, token68);
            }
            ReadParameter(parameters);
            ReadParameters(parameters);
            return Build(scheme, parameters, null);
        }

        private static AuthenticationChallenge Build(string scheme, Dictionary<string, string> parameters, string? token68) =>
            new(scheme, new ReadOnlyDictionary<string, string>(parameters), token68);

        // After a comma, a token followed by '=' is another parameter; any other token starts the next challenge.
        private void ReadParameters(Dictionary<string, string> parameters)
        {
            while (true)
            {
                var start = _pos;
                SkipSeparators();
                if (AtEnd)
                {
                    return;
                }
                var name = ReadToken();
                SkipSpaces();
                var isParameter = name.Length > 0 && !AtEnd && Current == '=';
                _pos = start;
                if (!isParameter)
                {
                    return;
                }
                SkipSeparators();
                ReadParameter(parameters);
            }
        }

        private void ReadParameter(Dictionary<string, string> parameters)
        {
            var name = ReadToken();
            if (name.Length == 0)
            {
                throw Error("expected a parameter name");
            }
            SkipSpaces();
            if (AtEnd || Current != '=')
            {
                throw Error($"expected '=' after the parameter '{name}'");
            }
            _pos++;
            SkipSpaces();
            var value = !AtEnd && Current == '"' ? ReadQuoted() : ReadBareValue();
            parameters.TryAdd(name, value);
            SkipSpaces();
            if (!AtEnd && Current != ',')
            {
                throw Error($"expected ',' after the value of '{name}'");
            }
        }

        private string? TryReadToken68()
        {
            var start = _pos;
            while (!AtEnd && IsToken68Char(Current))
            {
                _pos++;
            }
            if (_pos == start)
            {
                return null;
            }
            while (!AtEnd && Current == '=')
            {
                _pos++;
            }
            var end = _pos;
            SkipSpaces();
            if (AtEnd || Current == ',')
            {
                return _text[start..end];
            }
            _pos = start;
            return null;
        }

        private string ReadQuoted()
        {
            _pos++; // opening quote
            var value = new StringBuilder();
            while (!AtEnd)
            {
                var c = Current;
                _pos++;
                if (c == '"')
                {
                    return value.ToString();
                }
                if (c == '\\')
                {
                    if (AtEnd)
                    {
                        break;
                    }
                    c = Current;
                    _pos++;
                }
                value.Append(c);
            }
            throw Error("unterminated quoted string");
        }

        // Registries in the wild send unquoted URLs (realm=https://...), which are not RFC tokens: take up to the next comma or space.
        private string ReadBareValue()
        {
            var start = _pos;
            while (!AtEnd && Current != ',' && !char.IsWhiteSpace(Current) && Current != '"')
            {
                _pos++;
            }
            return _text[start.._pos];
        }

        private string ReadToken()
        {
            var start = _pos;
            while (!AtEnd && IsTokenChar(Current))
            {
                _pos++;
            }
            return _text[start.._pos];
        }

        private bool SkipSpaces()
        {
            var start = _pos;
            while (!AtEnd && (Current == ' ' || Current == '\t'))
            {
                _pos++;
            }
            return _pos > start;
        }

        private void SkipSeparators()
        {
            while (!AtEnd && (Current == ' ' || Current == '\t' || Current == ','))
            {
                _pos++;
            }
        }

        private readonly FormatException Error(string what) =>
            new($"invalid WWW-Authenticate header at character {_pos + 1}: {what}");

        private static bool IsTokenChar(char c) =>
            char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

        private static bool IsToken68Char(char c) =>
            char.IsAsciiLetterOrDigit(c) || "-._~+/".Contains(c, StringComparison.Ordinal);
    }
}
