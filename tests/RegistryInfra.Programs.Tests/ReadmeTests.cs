using System.Text.Json.Nodes;
using RegistryInfra.Testing;

namespace RegistryInfra.Programs.Tests;

/// <summary>The README's configuration reference is the schema's; a changed schema without a regenerated README fails here.</summary>
public sealed class ReadmeTests
{
    // Set to 1 to rewrite the README section instead of comparing (see README "Configuration reference").
    private const string UpdateVariable = "REGISTRYINFRA_UPDATE_README";

    private static string ReadmePath => Path.Combine(Requirements.RepositoryRoot, "README.md");

    private static JsonObject Schema => JsonNode.Parse(File.ReadAllText(RepositoryPrograms.SchemaPath))!.AsObject();

    [Fact]
    public void The_configuration_reference_is_generated_from_the_current_schema()
    {
        var readme = File.ReadAllText(ReadmePath);
        var expected = ConfigurationReference.Replace(readme, ConfigurationReference.Render(Schema));
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(ReadmePath, expected);
            return;
        }

        Assert.True(expected == readme,
            $"README.md's configuration reference is stale: run `{UpdateVariable}=1 dotnet test tests/RegistryInfra.Programs.Tests --filter FullyQualifiedName~ReadmeTests` and commit README.md");
    }

    [Fact]
    public void The_reference_names_every_resource_function_and_input_with_its_description()
    {
        var schema = Schema;
        var reference = ConfigurationReference.Render(schema);

        foreach (var (token, spec) in schema["resources"]!.AsObject())
        {
            Assert.Contains($"### `{token}`", reference, StringComparison.Ordinal);
            foreach (var (name, property) in spec!["inputProperties"]?.AsObject() ?? [])
            {
                Assert.Contains($"| `{name}` |", reference, StringComparison.Ordinal);
                if (property?["description"]?.GetValue<string>() is { Length: > 0 } description && !description.Contains('\n'))
                {
                    Assert.Contains(description.Trim().Replace("|", "\\|", StringComparison.Ordinal), reference, StringComparison.Ordinal);
                }
            }
        }
        foreach (var (token, _) in schema["functions"]?.AsObject() ?? [])
        {
            Assert.Contains($"### `{token}` (function)", reference, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_changed_description_makes_the_reference_differ()
    {
        var schema = Schema;
        var before = ConfigurationReference.Render(schema);
        var profile = schema["resources"]!["registryinfra:index:RegistryProfile"]!["inputProperties"]!["server"]!.AsObject();
        profile["description"] = "a different description";

        Assert.NotEqual(before, ConfigurationReference.Render(schema));
    }

    [Fact]
    public void A_readme_without_markers_is_refused_naming_them()
    {
        var error = Assert.Throws<InvalidDataException>(() => ConfigurationReference.Replace("# no markers\n", "x"));

        Assert.Contains(ConfigurationReference.Start, error.Message, StringComparison.Ordinal);
    }
}
