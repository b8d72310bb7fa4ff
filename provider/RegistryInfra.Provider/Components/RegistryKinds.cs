namespace RegistryInfra.Provider.Components;

/// <summary>
/// Which registries hand out short-lived tokens (so the refresher owns their secret data) and which
/// credential source the refresher uses for them. The kind comes from the RegistryProfile's <c>kind</c>
/// output when the user passes it; the host patterns are the fallback for a bare server.
/// </summary>
internal static class RegistryKinds
{
    public const string Ecr = "ecr";
    public const string Gcp = "gcp";
    public const string Acr = "acr";
    public const string Static = "static";

    /// <summary>The refresher's credential source type for a profile kind, or <see cref="Static"/>.</summary>
    public static string SourceFor(string? kind, string server)
    {
        var k = (kind ?? "").Trim().ToLowerInvariant();
        if (k.Length > 0)
        {
            return k switch
            {
                "ecr" or "ecrprivate" or "ecr-private" => Ecr,
                "gcr" or "artifactregistry" or "artifact-registry" or "gar" or "gcp" => Gcp,
                "acr" => Acr,
                _ => Static,
            };
        }
        var host = server.Split('/')[0].ToLowerInvariant();
        if (host.Contains(".dkr.ecr.", StringComparison.Ordinal) && (host.EndsWith(".amazonaws.com", StringComparison.Ordinal) || host.EndsWith(".amazonaws.com.cn", StringComparison.Ordinal)))
        {
            return Ecr;
        }
        if (host.EndsWith("-docker.pkg.dev", StringComparison.Ordinal) || host is "gcr.io" || host.EndsWith(".gcr.io", StringComparison.Ordinal))
        {
            return Gcp;
        }
        return host.EndsWith(".azurecr.io", StringComparison.Ordinal) ? Acr : Static;
    }

    public static bool IsTokenBased(string? kind, string server) => SourceFor(kind, server) != Static;
}
