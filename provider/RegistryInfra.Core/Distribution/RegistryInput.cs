using System.Text.RegularExpressions;

namespace RegistryInfra.Core.Distribution;

/// <summary>Checks of the plain strings the client takes, with errors that name the field.</summary>
internal static partial class RegistryInput
{
    public static string Authority(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"{field} must be a registry host[:port], got an empty value");
        }
        if (value.Contains('@', StringComparison.Ordinal))
        {
            // Never echo it: the part before '@' is likely a user name and password.
            throw new RegistryException(RegistryErrorKind.InvalidInput,
                $"{field} must be a registry host[:port] without user info; credentials go in a credential source, not in the registry name");
        }
        if (!AuthorityPattern().IsMatch(value) || !Uri.TryCreate("https://" + value + "/", UriKind.Absolute, out var uri) || uri.UserInfo.Length > 0)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput,
                $"{field} '{Shorten(value)}' is not a registry host[:port] (no scheme, path or user info)");
        }
        return value;
    }

    public static string Repository(string? value, string field)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 255 || !RepositoryPattern().IsMatch(value))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput,
                $"{field} '{Shorten(value ?? "")}' is not a repository name: lower-case path components of [a-z0-9] separated by '.', '_', '__' or '-', joined by '/'");
        }
        return value;
    }

    public static string Reference(string? value, string field)
    {
        if (string.IsNullOrEmpty(value) || !(TagPattern().IsMatch(value) || IsDigest(value)))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput,
                $"{field} '{Shorten(value ?? "")}' is neither a tag ([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}) nor a digest (algorithm:hex)");
        }
        return value;
    }

    public static bool IsDigest(string reference) => DigestPattern().IsMatch(reference);

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "…";

    [GeneratedRegex(@"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)(:[0-9]{1,5})?$")]
    private static partial Regex AuthorityPattern();

    [GeneratedRegex(@"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")]
    private static partial Regex DigestPattern();
}
