using RegistryInfra.Core.References;
using RegistryInfra.Provider.Resources.RegistryProfile;

namespace RegistryInfra.Provider.Tests.Resources;

/// <summary>The schema's <c>RegistryKind</c> enum is a projection of Core's registry-kind table, never a second list.</summary>
public sealed class RegistryKindSchemaTests
{
    [Fact]
    public void Every_schema_member_is_the_core_kind_of_the_same_value_name_and_description()
    {
        var members = Enum.GetValues<RegistryProfileKind>();

        Assert.Equal(RegistryKindFacts.All.Count, members.Length);
        foreach (var member in members)
        {
            var info = ((RegistryKind)(int)member).Info();
            Assert.Equal(info.Name, RegistryProfileKindPulumiEnum.Converter.Wire(member));
            Assert.Equal(info.Description, RegistryProfileKindPulumiEnum.Converter.Type.Enum!.Members.Single(m => m.Name == member.ToString()).Description);
        }
    }
}
