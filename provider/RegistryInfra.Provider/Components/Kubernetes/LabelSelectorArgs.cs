using System.Collections.Immutable;
using RegistryInfra.Core.Kubernetes;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.Kubernetes;

/// <summary>
/// A label selector as a component input, in the shape of Kubernetes' meta/v1 <c>LabelSelector</c>: the requirements
/// of <see cref="MatchLabels"/> and <see cref="MatchExpressions"/> are ANDed. Converted to Core's
/// <see cref="LabelSelector"/> (validated there) once every value is known.
/// </summary>
[PulumiType("registryinfra:index:LabelSelector", Description = "A label selector, as Kubernetes' meta/v1 LabelSelector: every `matchLabels` pair and every `matchExpressions` requirement must hold (AND). An empty selector selects everything.")]
public sealed partial record LabelSelectorArgs
{
    [PulumiProperty("matchLabels", Description = "Labels that must be present with exactly these values (each pair is the requirement `key In (value)`).")]
    public InputMap<string>? MatchLabels { get; init; }

    [PulumiProperty("matchExpressions", Description = "Set-based requirements: `key` with `operator` `In`, `NotIn` (one or more `values`), `Exists` or `DoesNotExist` (no `values`).")]
    public InputList<LabelSelectorRequirementArgs>? MatchExpressions { get; init; }

    /// <summary>
    /// This selector as Core's value, checked, for inputs whose every part is known (a resource's Check, Create or Update;
    /// a part still unknown reads as absent): a problem is a <see cref="ComponentInputException"/> naming the field under
    /// <paramref name="field"/>. Components use <see cref="LabelSelectors.ToCore"/>, which waits for unknown parts.
    /// </summary>
    public LabelSelector ToCore(string field) => LabelSelectors.Checked(new LabelSelector
    {
        MatchLabels = (MatchLabels?.KnownOrEmpty ?? ImmutableSortedDictionary<string, string>.Empty).ToImmutableSortedDictionary(StringComparer.Ordinal),
        MatchExpressions = [.. (MatchExpressions?.KnownOrEmpty ?? []).Select(e => new LabelSelectorRequirement
        {
            Key = e.Key.TryGetKnown(out var key) ? key : "",
            Operator = e.Operator.TryGetKnown(out var op) ? op : "",
            Values = [.. e.Values?.KnownOrEmpty ?? []],
        })],
    }, field);
}

/// <summary>One set-based requirement of a <see cref="LabelSelectorArgs"/>.</summary>
[PulumiType("registryinfra:index:LabelSelectorRequirement", Description = "One requirement of a label selector, as Kubernetes' meta/v1 LabelSelectorRequirement.")]
public sealed partial record LabelSelectorRequirementArgs
{
    [PulumiProperty("key", Description = "The label key (an optional DNS subdomain prefix and `/`, then a name of at most 63 characters).")]
    public Output<string> Key { get; init; } = "";

    [PulumiProperty("operator", Description = "`In`, `NotIn`, `Exists` or `DoesNotExist`.")]
    public Output<string> Operator { get; init; } = "";

    [PulumiProperty("values", Description = "The values for `In` and `NotIn` (at least one); none for `Exists` and `DoesNotExist`.")]
    public InputList<string>? Values { get; init; }
}

/// <summary>Conversions of <see cref="LabelSelectorArgs"/> to Core's <see cref="LabelSelector"/>, and its checks.</summary>
public static class LabelSelectors
{
    /// <summary>The operators Kubernetes' meta/v1 LabelSelectorRequirement takes.</summary>
    public static readonly IReadOnlyList<string> Operators = ["In", "NotIn", "Exists", "DoesNotExist"];

    /// <summary>
    /// The selector as Core's value once every part of it is known, checked: a problem is a
    /// <see cref="ComponentInputException"/> naming the field under <paramref name="field"/>
    /// (such as <c>namespaceSelector.matchExpressions[0].operator</c>).
    /// </summary>
    public static Output<LabelSelector> ToCore(LabelSelectorArgs selector, string field)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var labels = selector.MatchLabels?.Entries ?? Output.Create(ImmutableSortedDictionary<string, string>.Empty);
        var expressions = (selector.MatchExpressions ?? []).Items.Then(items => Output.All(items.Select(e =>
            Output.Tuple(e.Key, e.Operator, (e.Values ?? []).Items))));
        return Output.Tuple(labels, expressions).Apply(v => Checked(new LabelSelector
        {
            MatchLabels = v.Item1.ToImmutableSortedDictionary(StringComparer.Ordinal),
            MatchExpressions = [.. v.Item2.Select(e => new LabelSelectorRequirement { Key = e.Item1, Operator = e.Item2, Values = [.. e.Item3] })],
        }, field));
    }

    /// <summary>The canonical string form (as the refresher's configuration and the API's <c>labelSelector</c> take it).</summary>
    public static Output<string> ToSelectorString(LabelSelectorArgs selector, string field) =>
        ToCore(selector, field).Apply(s => s.ToSelectorString());

    /// <summary>
    /// Checks what is known of <paramref name="selector"/> (preview: an unknown never hides an error the known parts
    /// show): each known operator, and the whole selector when every part is known.
    /// </summary>
    public static void ValidateKnown(LabelSelectorArgs? selector, string field)
    {
        if (selector is null)
        {
            return;
        }
        if ((selector.MatchExpressions ?? []).TryGetKnown(out var expressions))
        {
            for (var i = 0; i < expressions.Length; i++)
            {
                if (expressions[i].Operator.TryGetKnown(out var op) && !Operators.Contains(op))
                {
                    throw new ComponentInputException($"{field}.matchExpressions[{i}].operator", $"'{op}' is not one of {string.Join(", ", Operators)}");
                }
            }
        }
        // Known values are converted (and checked) at once: a problem throws here.
        _ = ToCore(selector, field);
    }

    internal static LabelSelector Checked(LabelSelector selector, string field)
    {
        var problems = LabelSelector.Validate(selector, field);
        if (problems.Count > 0)
        {
            throw new ComponentInputException(problems[0].Field, problems[0].Problem);
        }
        return selector;
    }
}
