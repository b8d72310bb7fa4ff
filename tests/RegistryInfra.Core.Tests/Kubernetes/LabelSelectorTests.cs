using RegistryInfra.Core.Kubernetes;

namespace RegistryInfra.Core.Tests.Kubernetes;

/// <summary>The structured and string forms of a label selector, their validation and matching (the upstream tables are in UpstreamConformanceTests).</summary>
public sealed class LabelSelectorTests
{
    private static Dictionary<string, string> Labels(params string[] pairs) =>
        pairs.Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public void Match_labels_and_expressions_print_in_the_canonical_form_and_parse_back()
    {
        var selector = new LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { ["team"] = "payments", ["app.kubernetes.io/part-of"] = "shop" },
            MatchExpressions =
            [
                new LabelSelectorRequirement { Key = "env", Operator = LabelSelectorRequirement.NotIn, Values = ["dev", "ci"] },
                new LabelSelectorRequirement { Key = "tier", Operator = LabelSelectorRequirement.In, Values = ["b", "a"] },
                new LabelSelectorRequirement { Key = "legacy", Operator = LabelSelectorRequirement.DoesNotExist },
                new LabelSelectorRequirement { Key = "owner", Operator = LabelSelectorRequirement.Exists },
            ],
        };

        var text = selector.ToSelectorString();

        Assert.Equal("app.kubernetes.io/part-of=shop,env notin (ci,dev),!legacy,owner,team=payments,tier in (a,b)", text);
        Assert.True(Selector.TryParse(text, out var parsed, out var problem), problem);
        Assert.Equal(text, parsed.ToString());
        Assert.True(parsed.Matches(Labels("app.kubernetes.io/part-of=shop", "team=payments", "tier=a", "owner=x")));
        Assert.False(parsed.Matches(Labels("app.kubernetes.io/part-of=shop", "team=payments", "tier=a", "owner=x", "legacy=1")));
        Assert.False(parsed.Matches(Labels("app.kubernetes.io/part-of=shop", "team=payments", "tier=a", "owner=x", "env=dev")));
        Assert.True(selector.ToSelector().Matches(Labels("app.kubernetes.io/part-of=shop", "team=payments", "tier=b", "owner=x", "env=prod")));
    }

    [Fact]
    public void An_empty_selector_prints_empty_and_matches_everything()
    {
        Assert.Equal("", new LabelSelector().ToSelectorString());
        Assert.True(new LabelSelector().IsEmpty);
        Assert.True(Selector.TryParse("", out var all, out _));
        Assert.True(all.Matches(null));
        Assert.True(all.Matches(Labels("a=b")));
    }

    [Fact]
    public void Not_equals_and_notin_match_a_missing_key_and_in_does_not()
    {
        Assert.True(Selector.TryParse("env!=dev", out var notEquals, out _));
        Assert.True(Selector.TryParse("env notin (dev)", out var notIn, out _));
        Assert.True(Selector.TryParse("env in (dev)", out var @in, out _));

        Assert.True(notEquals.Matches(Labels("team=a")));
        Assert.True(notIn.Matches(null));
        Assert.False(@in.Matches(Labels("team=a")));
        Assert.False(notEquals.Matches(Labels("env=dev")));
    }

    [Theory]
    [InlineData("x=a,", "identifier after ','")]
    [InlineData("x in a", "expected: '('")]
    [InlineData("x y", "expected: in, notin")]
    [InlineData("-x=a", "key '-x'")]
    [InlineData("x=a b", "expected: ',' or 'end of string'")]
    public void A_malformed_string_is_refused_with_what_was_expected(string text, string expected)
    {
        Assert.False(Selector.TryParse(text, out _, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_names_each_field()
    {
        var selector = new LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { ["bad key!"] = "ok", ["good"] = "bad value" },
            MatchExpressions =
            [
                new LabelSelectorRequirement { Key = "a", Operator = LabelSelectorRequirement.In },
                new LabelSelectorRequirement { Key = "b", Operator = LabelSelectorRequirement.Exists, Values = ["x"] },
                new LabelSelectorRequirement { Key = "c", Operator = "Gt", Values = ["1"] },
                new LabelSelectorRequirement { Key = "d", Operator = LabelSelectorRequirement.NotIn, Values = [new string('v', 64)] },
            ],
        };

        var problems = LabelSelector.Validate(selector, "namespaceSelector");

        Assert.Equal(
            [
                "namespaceSelector.matchLabels[\"bad key!\"]",
                "namespaceSelector.matchLabels[\"good\"]",
                "namespaceSelector.matchExpressions[0].values",
                "namespaceSelector.matchExpressions[1].values",
                "namespaceSelector.matchExpressions[2].operator",
                "namespaceSelector.matchExpressions[3].values[0]",
            ],
            problems.Select(p => p.Field));
        Assert.Throws<ArgumentException>(selector.ToSelectorString);
    }

    [Theory]
    [InlineData("kube-system", "kube-system", true)]
    [InlineData("kube-*", "kube-system", true)]
    [InlineData("kube-*", "kube-", true)]
    [InlineData("kube-*", "kube", false)]
    [InlineData("*-dev", "team-a-dev", true)]
    [InlineData("team-??", "team-ab", true)]
    [InlineData("team-??", "team-abc", false)]
    [InlineData("*a*b*", "xxaxxbxx", true)]
    [InlineData("*a*b*", "xxbxxaxx", false)]
    [InlineData("*", "", true)]
    [InlineData("default", "default-2", false)]
    public void Namespace_patterns_match_names_and_globs(string pattern, string name, bool matches) =>
        Assert.Equal(matches, NamespacePatterns.Matches(pattern, name));

    [Theory]
    [InlineData("kube-*", null)]
    [InlineData("", "not empty")]
    [InlineData("Kube-*", "lower-case")]
    [InlineData("a/b", "lower-case")]
    public void Namespace_patterns_are_checked(string pattern, string? problem)
    {
        var found = NamespacePatterns.Problem(pattern);
        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_long_glob_against_a_long_name_stays_linear()
    {
        var pattern = string.Concat(Enumerable.Repeat("*a", 30)) + "b";
        var name = new string('a', 63);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(NamespacePatterns.Matches(pattern, name));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
    }
}
