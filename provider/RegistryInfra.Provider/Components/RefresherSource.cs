using RegistryInfra.Core;
using RegistryInfra.Core.References;

namespace RegistryInfra.Provider.Components;

/// <summary>
/// Which credential source of the refresher renews a registry's token, decided by Core's
/// <see cref="RegistryKind"/>: the profile's <c>kind</c> when given, else the kind detected from the server.
/// </summary>
internal static class RefresherSource
{
    public const string Ecr = "ecr";
    public const string Gcp = "gcp";
    public const string Acr = "acr";

    /// <summary>The registry's kind: <paramref name="kind"/> (a <see cref="RegistryKind"/> name in any case with dashes or underscores allowed, or <c>ecr</c>, <c>gar</c>) or detected from <paramref name="server"/>.</summary>
    public static RegistryKind KindOf(string? kind, string server, string field)
    {
        if (!string.IsNullOrWhiteSpace(kind))
        {
            var normalized = kind.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
            // The short names users and the refresher's source types use.
            normalized = normalized.ToLowerInvariant() switch
            {
                "ecr" => nameof(RegistryKind.EcrPrivate),
                "gar" => nameof(RegistryKind.ArtifactRegistry),
                _ => normalized,
            };
            if (!Enum.TryParse<RegistryKind>(normalized, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || normalized.Any(char.IsAsciiDigit))
            {
                throw new ComponentInputException($"{field}.kind", $"'{kind}' is not a registry kind (one of {string.Join(", ", Enum.GetNames<RegistryKind>())})");
            }
            return parsed;
        }
        try
        {
            return RegistryHost.Parse(server).Kind;
        }
        catch (RegistryException e)
        {
            throw new ComponentInputException($"{field}.server", e.Message);
        }
    }

    /// <summary>The refresher's source type for a kind, or null when the refresher cannot renew it (static credentials).</summary>
    /// <remarks>ECR Public issues short-lived tokens too, but the refresher has no source for it and its images pull anonymously.</remarks>
    public static string? For(RegistryKind kind) => kind switch
    {
        RegistryKind.EcrPrivate => Ecr,
        RegistryKind.Gcr or RegistryKind.ArtifactRegistry => Gcp,
        RegistryKind.Acr => Acr,
        _ => null,
    };

    public static string? For(string? kind, string server, string field) => For(KindOf(kind, server, field));
}
