using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace RegistryInfra.Provider.Components;

/// <summary>Validation of Kubernetes object names, so a bad name fails the preview with the field named.</summary>
internal static partial class KubernetesNames
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabelPattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomainPattern();

    public static void RequireLabel(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ComponentInputException(field, "required");
        }
        RequireKnown(value, field);
        if (value.Length > 63 || !DnsLabelPattern().IsMatch(value))
        {
            throw new ComponentInputException(field, $"'{value}' is not a valid name (lower-case letters, digits and '-', at most 63 characters)");
        }
    }

    public static void RequireSubdomain(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ComponentInputException(field, "required");
        }
        RequireKnown(value, field);
        if (value.Length > 253 || !DnsSubdomainPattern().IsMatch(value))
        {
            throw new ComponentInputException(field, $"'{value}' is not a valid name (lower-case DNS subdomain, at most 253 characters)");
        }
    }

    // A name makes URNs and object names, so it must be known even in preview.
    private static void RequireKnown(string value, string field)
    {
        if (Engine.Computed.IsComputed(value))
        {
            throw new ComponentInputException(field, "is not known yet (it comes from a resource not yet created)");
        }
    }

    /// <summary>A short, stable hash of <paramref name="text"/> for names that must change when a content changes.</summary>
    public static string ShortHash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..10];
}
