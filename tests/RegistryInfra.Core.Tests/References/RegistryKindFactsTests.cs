using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Tests.References;

/// <summary>The registry-kind table is the one place that says what each kind is.</summary>
public sealed class RegistryKindFactsTests
{
    [Fact]
    public void The_table_has_one_row_per_kind_in_enum_order()
    {
        Assert.Equal(Enum.GetValues<RegistryKind>(), RegistryKindFacts.All.Select(k => k.Kind));
        Assert.Equal(RegistryKindFacts.All.Count, RegistryKindFacts.All.Select(k => k.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Theory]
    [InlineData(RegistryKind.EcrPrivate, true, 12, RegistryIdentity.AwsIamRole, "ecr")]
    [InlineData(RegistryKind.EcrPublic, true, 12, RegistryIdentity.AwsIamRole, null)]
    [InlineData(RegistryKind.Gcr, true, 1, RegistryIdentity.GoogleServiceAccount, "gcp")]
    [InlineData(RegistryKind.ArtifactRegistry, true, 1, RegistryIdentity.GoogleServiceAccount, "gcp")]
    [InlineData(RegistryKind.Acr, true, 3, RegistryIdentity.EntraIdentity, "acr")]
    [InlineData(RegistryKind.DockerHub, false, 0, RegistryIdentity.None, null)]
    [InlineData(RegistryKind.Ghcr, false, 0, RegistryIdentity.None, null)]
    [InlineData(RegistryKind.Generic, false, 0, RegistryIdentity.None, null)]
    public void Each_kind_says_whether_it_is_token_based_and_what_renews_it(RegistryKind kind, bool tokenBased, int lifetimeHours, RegistryIdentity identity, string? refresher)
    {
        var info = kind.Info();

        Assert.Equal(tokenBased, info.TokenBased);
        Assert.Equal(tokenBased, kind.UsesShortLivedTokens());
        Assert.Equal(tokenBased ? TimeSpan.FromHours(lifetimeHours) : null, info.TokenLifetime);
        Assert.Equal(identity, info.Identity);
        Assert.Equal(refresher, info.RefresherSource);
        // A refresher source needs a token-based kind with an identity to obtain it.
        Assert.True(info.RefresherSource is null || (info.TokenBased && info.Identity != RegistryIdentity.None));
    }

    [Theory]
    [InlineData("ecr", RegistryKind.EcrPrivate)]
    [InlineData("ECR", RegistryKind.EcrPrivate)]
    [InlineData("ecrPrivate", RegistryKind.EcrPrivate)]
    [InlineData("ecr-private", RegistryKind.EcrPrivate)]
    [InlineData("gar", RegistryKind.ArtifactRegistry)]
    [InlineData("artifact_registry", RegistryKind.ArtifactRegistry)]
    [InlineData("dockerHub", RegistryKind.DockerHub)]
    [InlineData("generic", RegistryKind.Generic)]
    public void Names_aliases_and_spellings_parse(string name, RegistryKind expected)
    {
        Assert.True(RegistryKindFacts.TryParse(name, out var kind));
        Assert.Equal(expected, kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("docker")]
    [InlineData("1")]
    [InlineData("ecr2")]
    public void Other_names_do_not_parse(string name) => Assert.False(RegistryKindFacts.TryParse(name, out _));
}
