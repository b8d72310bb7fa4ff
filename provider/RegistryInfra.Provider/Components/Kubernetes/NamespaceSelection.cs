using System.Collections.Immutable;
using RegistryInfra.Core.Kubernetes;
using RegistryInfra.Protocol.Model;

namespace RegistryInfra.Provider.Components.Kubernetes;

/// <summary>How a component's namespaces are chosen: listed, by a label selector, all of them, or not known yet (preview).</summary>
public enum NamespaceSelectionKind
{
    Listed,
    Selector,
    All,
    Unknown,
}

/// <summary>How a component's service accounts are chosen in each namespace.</summary>
public enum AccountSelectionKind
{
    Named,
    All,
    Selector,
    Unknown,
}

/// <summary>
/// The exactly-one rules of <c>namespaces</c> | <c>namespaceSelector</c> | <c>allNamespaces</c> (with
/// <c>excludeNamespaces</c>) and <c>serviceAccounts</c> | <c>allServiceAccounts</c> | <c>serviceAccountSelector</c>, on
/// what is known: two given is an error naming both; with one given, the unknown others are taken as not given (the
/// update refuses them if they are); with none given and exactly one unknown, that one is the choice (the only reading
/// under which the inputs are valid), so preview registers what the update will.
/// </summary>
public static class NamespaceSelection
{
    /// <summary>The namespace choice, checked; <paramref name="listed"/> holds the names when it is <see cref="NamespaceSelectionKind.Listed"/> and known.</summary>
    public static NamespaceSelectionKind Resolve(InputList<string>? namespaces, Output<LabelSelectorArgs?> selector, Output<bool?> all,
        InputList<string>? exclude, string prefix, out ImmutableArray<string> listed)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(all);
        listed = [];
        var namespacesKnown = (namespaces ?? []).TryGetKnown(out var names);
        var selectorKnown = selector.TryGetKnown(out var labels);
        var allKnown = all.TryGetKnown(out var everything);
        var given = new List<string>();
        if (namespacesKnown && names.Length > 0)
        {
            given.Add("namespaces");
        }
        if (selectorKnown && labels is not null)
        {
            given.Add("namespaceSelector");
        }
        if (allKnown && everything == true)
        {
            given.Add("allNamespaces");
        }
        var unknown = new List<string>();
        if (!namespacesKnown)
        {
            unknown.Add("namespaces");
        }
        if (!selectorKnown)
        {
            unknown.Add("namespaceSelector");
        }
        if (!allKnown)
        {
            unknown.Add("allNamespaces");
        }
        if (given.Count > 1)
        {
            throw new ComponentInputException(prefix + given[1], $"give exactly one of namespaces, namespaceSelector or allNamespaces (got {string.Join(" and ", given)})");
        }
        var choice = given.Count == 1 ? given[0] : unknown.Count == 1 ? unknown[0] : null;
        if (choice is null && unknown.Count == 0)
        {
            throw new ComponentInputException(prefix + "namespaces", namespacesKnown && namespaces is not null
                ? "at least one namespace is required (or give namespaceSelector or allNamespaces)"
                : "give exactly one of namespaces, namespaceSelector or allNamespaces");
        }
        var kind = choice switch
        {
            "namespaces" => NamespaceSelectionKind.Listed,
            "namespaceSelector" => NamespaceSelectionKind.Selector,
            "allNamespaces" => NamespaceSelectionKind.All,
            _ => NamespaceSelectionKind.Unknown,
        };
        if (kind == NamespaceSelectionKind.Listed && namespacesKnown)
        {
            listed = names;
            for (var i = 0; i < names.Length; i++)
            {
                KubernetesNames.RequireLabel(names[i], $"{prefix}namespaces[{i}]");
            }
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            {
                throw new ComponentInputException(prefix + "namespaces", "a namespace is listed twice");
            }
        }
        if (selectorKnown)
        {
            LabelSelectors.ValidateKnown(labels, prefix + "namespaceSelector");
        }
        if ((exclude ?? []).TryGetKnown(out var patterns))
        {
            if (patterns.Length > 0 && kind == NamespaceSelectionKind.Listed)
            {
                throw new ComponentInputException(prefix + "excludeNamespaces", "only with namespaceSelector or allNamespaces: listed namespaces are the ones served");
            }
            for (var i = 0; i < patterns.Length; i++)
            {
                if (NamespacePatterns.Problem(patterns[i]) is { } problem)
                {
                    throw new ComponentInputException($"{prefix}excludeNamespaces[{i}]", problem);
                }
            }
        }
        return kind;
    }

    /// <summary>The service-account choice, checked; none given means by name (the component's default names).</summary>
    public static AccountSelectionKind ResolveAccounts(InputList<string>? accounts, Output<bool?> all, Output<LabelSelectorArgs?> selector, string prefix)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(all);
        var accountsKnown = accounts is null || accounts.TryGetKnown(out _);
        var named = accounts is not null && accountsKnown;
        var allKnown = all.TryGetKnown(out var everything);
        var selectorKnown = selector.TryGetKnown(out var labels);
        var given = new List<string>();
        if (named)
        {
            given.Add("serviceAccounts");
        }
        if (allKnown && everything == true)
        {
            given.Add("allServiceAccounts");
        }
        if (selectorKnown && labels is not null)
        {
            given.Add("serviceAccountSelector");
        }
        if (given.Count > 1)
        {
            throw new ComponentInputException(prefix + given[1], $"give at most one of serviceAccounts, allServiceAccounts or serviceAccountSelector (got {string.Join(" and ", given)})");
        }
        if (selectorKnown)
        {
            LabelSelectors.ValidateKnown(labels, prefix + "serviceAccountSelector");
        }
        if (accounts is not null && accounts.TryGetKnown(out var names))
        {
            for (var i = 0; i < names.Length; i++)
            {
                KubernetesNames.RequireSubdomain(names[i], $"{prefix}serviceAccounts[{i}]");
            }
        }
        if (given.Count == 1)
        {
            return given[0] switch
            {
                "allServiceAccounts" => AccountSelectionKind.All,
                "serviceAccountSelector" => AccountSelectionKind.Selector,
                _ => AccountSelectionKind.Named,
            };
        }
        var unknown = (!accountsKnown ? 1 : 0) + (!allKnown ? 1 : 0) + (!selectorKnown ? 1 : 0);
        if (unknown == 0)
        {
            return AccountSelectionKind.Named;
        }
        if (unknown == 1)
        {
            return !accountsKnown ? AccountSelectionKind.Named : !allKnown ? AccountSelectionKind.All : AccountSelectionKind.Selector;
        }
        return AccountSelectionKind.Unknown;
    }
}
