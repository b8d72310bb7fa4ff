using RegistryInfra.Core;
using RegistryInfra.Core.References;

namespace RegistryInfra.Provider.Components;

/// <summary>
/// Which credential source of the refresher renews a registry's token, read from Core's registry-kind table
/// (<see cref="RegistryKindFacts"/>): the profile's <c>kind</c> when given, else the kind detected from the server.
/// </summary>
internal static class RefresherSource
{
    public const string Ecr = "ecr";
    public const string Gcp = "gcp";
    public const string Acr = "acr";

    /// <summary>The registry's kind: <paramref name="kind"/> (a name of the kind table) or detected from <paramref name="server"/>.</summary>
    public static RegistryKind KindOf(string? kind, string server, string field)
    {
        if (!string.IsNullOrWhiteSpace(kind))
        {
            return RegistryKindFacts.TryParse(kind, out var parsed)
                ? parsed
                : throw new ComponentInputException($"{field}.kind", $"'{kind}' is not a registry kind (one of {string.Join(", ", RegistryKindFacts.All.Select(k => k.Name))})");
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
    public static string? For(RegistryKind kind) => kind.Info().RefresherSource;

    public static string? For(string? kind, string server, string field) => For(KindOf(kind, server, field));
}
