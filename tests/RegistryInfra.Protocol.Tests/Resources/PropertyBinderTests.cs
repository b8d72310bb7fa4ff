using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Tests.Resources;

[PulumiType("test:index:Arch")]
public enum Arch
{
    [EnumValue("amd64")] Amd64,
    [EnumValue("arm64")] Arm64,
}

[PulumiType("test:index:Image")]
public sealed partial record Image([property: PulumiProperty("ref")] string Ref, [property: PulumiProperty("platform")] Arch? Platform = null);

[PulumiModel]
public sealed partial record Args(
    [property: PulumiProperty("name")][property: ReplaceOnChanges] string Name,
    [property: PulumiProperty("token")][property: Secret] string? Token = null,
    [property: PulumiProperty("images")] ImmutableArray<Image> Images = default,
    [property: PulumiProperty("labels")] IReadOnlyDictionary<string, string>? Labels = null,
    [property: PulumiProperty("replicas")] int? Replicas = null);

public sealed class PropertyBinderTests
{
    private static PropertyValue ImageValue(PropertyValue platform) =>
        PropertyValue.CreateObject(("ref", PropertyValue.Create("nginx")), ("platform", platform));

    [Fact]
    public void Binds_nested_lists_maps_and_enums()
    {
        var result = PropertyBinder.Bind<Args>(new Dictionary<string, PropertyValue>
        {
            ["name"] = PropertyValue.Create("a"),
            ["images"] = PropertyValue.CreateArray(ImageValue(PropertyValue.Create("arm64"))),
            ["labels"] = PropertyValue.CreateObject(("team", PropertyValue.Create("infra"))),
            ["replicas"] = PropertyValue.Create(3),
        }, BindMode.Strict);

        Assert.True(result.Succeeded);
        Assert.Equal(Arch.Arm64, result.Value!.Images[0].Platform);
        Assert.Equal("infra", result.Value.Labels!["team"]);
        Assert.Equal(3, result.Value.Replicas);
    }

    [Fact]
    public void Failures_name_the_property_path()
    {
        var result = PropertyBinder.Bind<Args>(new Dictionary<string, PropertyValue>
        {
            ["name"] = PropertyValue.Create("a"),
            ["images"] = PropertyValue.CreateArray(ImageValue(PropertyValue.Create("amd64")), ImageValue(PropertyValue.Create("amd64")), ImageValue(PropertyValue.Create(7))),
            ["replicas"] = PropertyValue.Create(1.5),
            ["extra"] = PropertyValue.Create(true),
        }, BindMode.Strict);

        Assert.False(result.Succeeded);
        Assert.Contains(new CheckFailure("images[2].platform", "expected string, got number"), result.Failures);
        Assert.Contains(new CheckFailure("replicas", "expected integer, got 1.5"), result.Failures);
        Assert.Contains(new CheckFailure("extra", "unknown property"), result.Failures);
    }

    [Fact]
    public void Missing_required_property_fails()
    {
        var result = PropertyBinder.Bind<Args>(ImmutableDictionary<string, PropertyValue>.Empty, BindMode.Strict);
        Assert.Equal(new CheckFailure("name", "required property is missing"), Assert.Single(result.Failures));
    }

    [Fact]
    public void Unknowns_are_reported_in_preview_mode_and_fail_in_strict_mode()
    {
        var inputs = new Dictionary<string, PropertyValue>
        {
            ["name"] = PropertyValue.Create("a"),
            ["images"] = PropertyValue.CreateArray(ImageValue(PropertyValue.Computed)),
            ["token"] = PropertyValue.CreateOutput(new OutputReference(null, isSecret: true, ["urn:x"])),
        };

        var preview = PropertyBinder.Bind<Args>(inputs, BindMode.AllowUnknowns);
        Assert.True(preview.Succeeded);
        Assert.Equal(["images[0].platform", "token"], preview.UnknownPaths.Order(StringComparer.Ordinal));
        Assert.Contains("token", preview.SecretPaths);

        var strict = PropertyBinder.Bind<Args>(inputs, BindMode.Strict);
        Assert.Contains(new CheckFailure("token", "value is unknown"), strict.Failures);
    }

    [Fact]
    public void Unbind_marks_secret_fields_as_secrets()
    {
        var map = PropertyBinder.Unbind(new Args("a", Token: "t0ken", Images: [new Image("nginx", Arch.Amd64)]));

        Assert.True(map["token"].IsSecret);
        Assert.Equal(PropertyValue.Create("amd64"), map["images"].ArrayValue[0].ObjectValue["platform"]);
        Assert.DoesNotContain("t0ken", PropertyValue.CreateObject(map).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Default_diff_marks_replace_on_changes_and_hides_secret_values()
    {
        var olds = new Dictionary<string, PropertyValue> { ["name"] = PropertyValue.Create("a"), ["token"] = PropertyValue.CreateSecret(PropertyValue.Create("old-secret")) };
        var news = new Dictionary<string, PropertyValue> { ["name"] = PropertyValue.Create("b"), ["token"] = PropertyValue.CreateSecret(PropertyValue.Create("new-secret")), ["replicas"] = PropertyValue.Create(2) };

        var diff = InputDiff.Compute(ModelShape.Of<Args>(), olds, news, [], replaceEveryChange: false);

        Assert.True(diff.HasChanges);
        Assert.Equal(["name"], diff.Replaces);
        Assert.Equal(PropertyDiffKind.UpdateReplace, diff.DetailedDiff["name"].Kind);
        Assert.Equal(PropertyDiffKind.Update, diff.DetailedDiff["token"].Kind);
        Assert.Equal(PropertyDiffKind.Add, diff.DetailedDiff["replicas"].Kind);
        Assert.DoesNotContain("secret", diff.ToString() + string.Join(",", diff.DetailedDiff), StringComparison.Ordinal);

        var same = InputDiff.Compute(ModelShape.Of<Args>(), olds, olds, [], replaceEveryChange: false);
        Assert.False(same.HasChanges);
        var ignored = InputDiff.Compute(ModelShape.Of<Args>(), olds, news, ["name", "token", "replicas"], replaceEveryChange: false);
        Assert.False(ignored.HasChanges);
    }
}
