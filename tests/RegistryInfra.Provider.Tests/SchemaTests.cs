using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Tests;

public sealed class SchemaTests
{
    [Fact]
    public void Committed_schema_is_the_one_the_code_generates()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "RegistryInfra.sln")))
        {
            root = root.Parent;
        }
        Assert.NotNull(root);
        var committed = File.ReadAllText(Path.Combine(root.FullName, "schema", "schema.json"));

        var generated = SchemaGenerator.Generate(RegistryInfraPackage.Info, RegistryInfraPackage.CreateTable());

        Assert.True(committed == generated,
            "schema/schema.json is stale: run `dotnet run --project provider/RegistryInfra.Provider -- --schema schema/schema.json` and commit it");
    }
}
