using RegistryInfra.Protocol.Model;
using RegistryInfra.Provider.Components;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>The provider's LabelSelector input type: its conversion to Core's selector and the errors that name the field.</summary>
public sealed class LabelSelectorArgsTests
{
    private static LabelSelectorArgs Selector(string op, params string[] values) => new()
    {
        MatchLabels = new Dictionary<string, string> { ["team"] = "payments" },
        MatchExpressions = [new LabelSelectorRequirementArgs { Key = "env", Operator = op, Values = values }],
    };

    [Fact]
    public void A_known_selector_converts_to_cores_canonical_string()
    {
        Assert.True(LabelSelectors.ToSelectorString(Selector("NotIn", "test", "dev"), "namespaceSelector").TryGetKnown(out var text));
        Assert.Equal("env notin (dev,test),team=payments", text);
        Assert.Equal("env notin (dev,test),team=payments", Selector("NotIn", "test", "dev").ToCore("namespaceSelector").ToSelectorString());
        Assert.Equal("!env,team=payments", Selector("DoesNotExist").ToCore("s").ToSelectorString());
    }

    [Theory]
    [InlineData("Equals", new[] { "a" }, "namespaceSelector.matchExpressions[0].operator")]
    [InlineData("In", new string[0], "namespaceSelector.matchExpressions[0].values")]
    [InlineData("Exists", new[] { "a" }, "namespaceSelector.matchExpressions[0].values")]
    [InlineData("In", new[] { "-bad-" }, "namespaceSelector.matchExpressions[0].values[0]")]
    public void A_bad_selector_is_refused_naming_the_field(string op, string[] values, string field)
    {
        var error = Assert.Throws<ComponentInputException>(() => LabelSelectors.ToCore(Selector(op, values), "namespaceSelector"));
        Assert.Equal(field, error.Field);
        Assert.Equal(field, Assert.Throws<ComponentInputException>(() => Selector(op, values).ToCore("namespaceSelector")).Field);
    }

    [Fact]
    public void An_unknown_part_waits_but_a_known_bad_operator_is_refused_at_once()
    {
        var unknown = new LabelSelectorArgs { MatchLabels = InputMap.Unknown<string>(), MatchExpressions = [new LabelSelectorRequirementArgs { Key = "env", Operator = "Exists" }] };
        Assert.True(LabelSelectors.ToSelectorString(unknown, "s").IsUnknown);
        LabelSelectors.ValidateKnown(unknown, "s");

        var bad = unknown with { MatchExpressions = [new LabelSelectorRequirementArgs { Key = Output.Unknown<string>(), Operator = "Has" }] };
        Assert.Equal("s.matchExpressions[0].operator", Assert.Throws<ComponentInputException>(() => LabelSelectors.ValidateKnown(bad, "s")).Field);
    }
}
