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
        if (value.Length > 253 || !DnsSubdomainPattern().IsMatch(value))
        {
            throw new ComponentInputException(field, $"'{value}' is not a valid name (lower-case DNS subdomain, at most 253 characters)");
        }
    }

    // A quantity as apimachinery's resource.ParseQuantity takes it: a decimal number and an optional suffix,
    // binary SI (Ki..Ei), decimal SI (n, u, m, k, M..E) or a decimal exponent (e3, E-2); see the grammar on
    // Quantity in kubernetes/apimachinery pkg/api/resource/quantity.go.
    [GeneratedRegex("^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")]
    private static partial Regex QuantityPattern();

    // A label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters of
    // [A-Za-z0-9._-] that starts and ends alphanumeric (apimachinery validation.IsQualifiedName).
    [GeneratedRegex("^(([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelKeyPattern();

    // A label value: empty, or at most 63 characters of [A-Za-z0-9._-] that start and end alphanumeric (IsValidLabelValue).
    [GeneratedRegex("^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")]
    private static partial Regex LabelValuePattern();

    /// <summary>A Kubernetes quantity such as <c>50m</c> or <c>128Mi</c>, when known and given.</summary>
    public static void RequireQuantity(RegistryInfra.Protocol.Model.Output<string?> value, string field)
    {
        if (value.TryGetKnown(out var text) && text is not null && (text.Length > 64 || !QuantityPattern().IsMatch(text)))
        {
            throw new ComponentInputException(field, "is not a Kubernetes quantity (such as 50m, 0.5, 64Mi or 1G)");
        }
    }

    /// <summary>Label keys and values, when known.</summary>
    public static void RequireLabels(RegistryInfra.Protocol.Model.InputMap<string>? labels, string field)
    {
        if (labels is null || !labels.TryGetKnown(out var entries))
        {
            return;
        }
        foreach (var (key, value) in entries)
        {
            var prefix = key.Contains('/', StringComparison.Ordinal) ? key[..key.IndexOf('/', StringComparison.Ordinal)] : "";
            if (key.Length > 317 || prefix.Length > 253 || !LabelKeyPattern().IsMatch(key))
            {
                throw new ComponentInputException($"{field}[\"{Printable(key)}\"]", "is not a valid label key (an optional DNS-subdomain prefix and '/', then at most 63 of A-Z a-z 0-9 . _ - starting and ending alphanumeric)");
            }
            if (!LabelValuePattern().IsMatch(value))
            {
                throw new ComponentInputException($"{field}[\"{Printable(key)}\"]", "is not a valid label value (at most 63 of A-Z a-z 0-9 . _ - starting and ending alphanumeric)");
            }
        }
    }

    // A key quoted in an error is cut and stripped of control characters.
    private static string Printable(string text)
    {
        var clean = new string([.. text.Take(64).Select(c => char.IsControl(c) ? '?' : c)]);
        return text.Length > 64 ? clean + "…" : clean;
    }

    /// <summary>
    /// A default object name that two components (or two stacks) never share: the component's name as a DNS label (at most
    /// 36 characters), <paramref name="suffix"/>, and 6 hex digits of the SHA-256 of its URN (which holds the stack, the
    /// project and the parents), so the name stays the same across updates and differs between stacks.
    /// </summary>
    public static string InstanceName(string name, string urn, string? suffix = null)
    {
        var label = new StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            var keep = c is >= 'a' and <= 'z' or >= '0' and <= '9';
            if (keep || (label.Length > 0 && label[^1] != '-'))
            {
                label.Append(keep ? c : '-');
            }
        }
        var head = label.ToString().Trim('-');
        head = head.Length > 36 ? head[..36].TrimEnd('-') : head;
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(urn)))[..6];
        return string.Join('-', new[] { head.Length == 0 ? "registryinfra" : head, suffix, hash }.Where(p => !string.IsNullOrEmpty(p)));
    }

    /// <summary>A short, stable hash of <paramref name="text"/> for names that must change when a content changes.</summary>
    public static string ShortHash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..10];
}
