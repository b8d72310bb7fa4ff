using System.Text;
using System.Text.RegularExpressions;

namespace RegistryInfra.Core;

/// <summary>
/// What may be quoted from text the core cannot vouch for (a registry's error body, a credential helper's or
/// exec command's output): every credential byte sequence in play is removed, in the forms it travels in
/// (as is, base64 of <c>user:password</c>, base64 and URL-encoded), then anything that looks like a
/// credential (<c>Basic …</c>, <c>Bearer …</c>, long runs of base64 mixing cases and digits, the form of
/// tokens and keys), and control characters; the result is cut to a bound.
/// </summary>
/// <remarks>
/// Lower-case hex (digests) survives: it is what a registry answer is about and never a credential the core
/// holds. Known secrets are removed before the text is cut, so a cut can never leave a prefix of one behind;
/// the look-alike rule runs after the cut, on a bounded text.
/// </remarks>
public static partial class Redaction
{
    /// <summary>What stands for a removed secret.</summary>
    public const string Mask = "***";

    /// <summary>The default bound of a quoted excerpt, in characters.</summary>
    public const int DefaultExcerptLength = 300;

    // Shorter secrets are too likely to be ordinary words of the text to be replaced everywhere; they are still
    // caught in their encoded forms (base64 of user:password) and by the look-alike rules.
    private const int MinimumSecretLength = 4;

    /// <summary>
    /// <paramref name="text"/> without the <paramref name="secrets"/> (in every form they travel in), without
    /// credential look-alikes and control characters, and at most <paramref name="maxLength"/> characters long.
    /// </summary>
    public static string Excerpt(string? text, IEnumerable<string?>? secrets = null, int maxLength = DefaultExcerptLength)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 16);
        var scrubbed = RemoveSecrets(text, secrets);
        if (scrubbed.Length > maxLength * 4)
        {
            // Bound the work of the look-alike rules on a huge body before cutting precisely below.
            scrubbed = scrubbed[..(maxLength * 4)];
        }
        scrubbed = ScrubLookAlikes(scrubbed);
        return Cut(scrubbed, maxLength);
    }

    /// <summary>An excerpt of bytes read from a server (UTF-8, invalid sequences replaced).</summary>
    public static string Excerpt(ReadOnlySpan<byte> body, IEnumerable<string?>? secrets = null, int maxLength = DefaultExcerptLength) =>
        Excerpt(Encoding.UTF8.GetString(body[..Math.Min(body.Length, 64 * 1024)]), secrets, maxLength);

    /// <summary>Every form of the secrets removed from <paramref name="text"/>; nothing cut.</summary>
    public static string RemoveSecrets(string text, IEnumerable<string?>? secrets)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (secrets is null)
        {
            return text;
        }
        // Longest first, so a secret that contains another is removed whole.
        foreach (var form in Forms(secrets).OrderByDescending(f => f.Length))
        {
            text = text.Replace(form, Mask, StringComparison.Ordinal);
        }
        return text;
    }

    /// <summary>The forms of <paramref name="username"/> and <paramref name="password"/> that HTTP Basic sends.</summary>
    public static IEnumerable<string> BasicForms(string username, string password)
    {
        ArgumentNullException.ThrowIfNull(username);
        ArgumentNullException.ThrowIfNull(password);
        yield return Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password));
        yield return password;
    }

    /// <summary>True when <paramref name="text"/> holds one of the secrets in any of its forms.</summary>
    public static bool Contains(string text, IEnumerable<string?> secrets)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Forms(secrets).Any(f => text.Contains(f, StringComparison.Ordinal));
    }

    private static HashSet<string> Forms(IEnumerable<string?> secrets)
    {
        var forms = new HashSet<string>(StringComparer.Ordinal);
        foreach (var secret in secrets)
        {
            if (string.IsNullOrEmpty(secret) || secret.Length < MinimumSecretLength)
            {
                continue;
            }
            forms.Add(secret);
            var base64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(secret));
            forms.Add(base64);
            forms.Add(base64.TrimEnd('='));
            forms.Add(Uri.EscapeDataString(secret));
        }
        return forms;
    }

    private static string ScrubLookAlikes(string text)
    {
        text = AuthorizationPattern().Replace(text, m => m.Groups[1].Value + " " + Mask);
        // A URL's user information (RFC 3986 section 3.2.1) is where a password travels in a URL.
        text = UserInfoPattern().Replace(text, m => m.Groups[1].Value + Mask + "@");
        text = AssignmentPattern().Replace(text, m => m.Groups[1].Value + m.Groups[2].Value + Mask);
        return TokenPattern().Replace(text, m => LooksLikeToken(m.ValueSpan) ? Mask : m.Value);
    }

    // Base64 of random bytes mixes upper and lower case and digits; words, host names, paths and hex digests do not.
    private static bool LooksLikeToken(ReadOnlySpan<char> run)
    {
        bool upper = false, lower = false, digit = false;
        foreach (var c in run)
        {
            upper |= char.IsAsciiLetterUpper(c);
            lower |= char.IsAsciiLetterLower(c);
            digit |= char.IsAsciiDigit(c);
        }
        return upper && lower && digit;
    }

    private static string Cut(string text, int maxLength)
    {
        var builder = new StringBuilder(Math.Min(text.Length, maxLength + 1));
        foreach (var c in text)
        {
            if (builder.Length >= maxLength)
            {
                builder.Append('…');
                break;
            }
            // Control characters would let a server forge log lines or terminal output.
            builder.Append(char.IsControl(c) ? ' ' : c);
        }
        if (builder.Length > 0 && char.IsHighSurrogate(builder[^1]))
        {
            builder.Length--;
        }
        return builder.ToString();
    }

    [GeneratedRegex(@"\b(Basic|Bearer)\s+[^\s""',;]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AuthorizationPattern();

    [GeneratedRegex(@"(\b[A-Za-z][A-Za-z0-9+.\-]*://)[^\s/?#@""']+@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfoPattern();

    [GeneratedRegex(@"\b(password|passwd|secret|token|access_token|refresh_token|auth)(""?\s*[=:]\s*""?)[^\s""',;&}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AssignmentPattern();

    [GeneratedRegex(@"[A-Za-z0-9+/_\-]{24,}={0,2}")]
    private static partial Regex TokenPattern();
}
