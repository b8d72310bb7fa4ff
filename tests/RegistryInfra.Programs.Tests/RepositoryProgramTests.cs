using YamlDotNet.RepresentationModel;

namespace RegistryInfra.Programs.Tests;

/// <summary>The programs in the repository against the committed schema, so the examples cannot drift from the provider.</summary>
public sealed class RepositoryProgramTests
{
    private static readonly ProgramChecker Checker = ProgramChecker.FromFile(RepositoryPrograms.SchemaPath);

    public static TheoryData<string> Programs() => new(RepositoryPrograms.All());

    [Fact]
    public void The_quick_start_and_every_scenario_folder_are_found()
    {
        var programs = RepositoryPrograms.All();

        Assert.Contains("Pulumi.yaml", programs);
        var scenarios = Directory.EnumerateDirectories(Path.Combine(Testing.Requirements.RepositoryRoot, "programs"))
            .Select(Path.GetFileName)
            .Where(name => name != "refresher")
            .Select(name => $"programs/{name}/Pulumi.yaml")
            .ToList();
        Assert.NotEmpty(scenarios);
        Assert.All(scenarios, scenario => Assert.Contains(scenario, programs));
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void A_program_uses_the_package_and_matches_the_schema(string program)
    {
        var result = Checker.Check(program, RepositoryPrograms.Read(program));

        Assert.True(result.Problems.Count == 0, string.Join(Environment.NewLine, result.Problems));
        Assert.True(result.PackageResources + result.PackageCalls > 0, $"{program} declares no registryinfra resource or call");
    }

    // The quick start and the scenario programs are meant to be run from a clone; examples elsewhere are only type-checked.
    public static TheoryData<string> RunnablePrograms() =>
        new(RepositoryPrograms.All().Where(p => p == "Pulumi.yaml" || p.StartsWith("programs/", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(RunnablePrograms))]
    public void A_program_runs_the_local_plugin_build_and_has_a_readme(string program)
    {
        var root = (YamlMappingNode)Load(program).Documents[0].RootNode;
        var providers = root.Children.TryGetValue(new YamlScalarNode("plugins"), out var plugins) && plugins is YamlMappingNode pluginMap &&
            pluginMap.Children.TryGetValue(new YamlScalarNode("providers"), out var list) ? list as YamlSequenceNode : null;
        Assert.True(providers is not null, $"{program}: no 'plugins: providers:' list naming the local registryinfra build");
        var plugin = Assert.Single(providers.Children.OfType<YamlMappingNode>(), p => p.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n.ToString() == "registryinfra");
        var folder = Path.GetDirectoryName(Path.Combine(Testing.Requirements.RepositoryRoot, program))!;

        var path = Path.GetFullPath(Path.Combine(folder, plugin.Children[new YamlScalarNode("path")].ToString()));

        Assert.Equal(Path.Combine(Testing.Requirements.RepositoryRoot, "artifacts", "plugins", "registryinfra"), path);
        Assert.True(File.Exists(Path.Combine(folder, "README.md")), $"{program} has no README.md beside it");
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void A_copy_with_a_renamed_input_fails_naming_the_resource_and_property(string program)
    {
        var resources = PackageResources(Load(program)).Where(r => r.Properties is { Children.Count: > 0 }).ToList();
        Assert.NotEmpty(resources);

        foreach (var (name, type, properties) in resources)
        {
            var yaml = Load(program);
            var copy = PackageResources(yaml).Single(r => r.Name == name).Properties!;
            var (key, value) = copy.Children.First();
            var original = ((YamlScalarNode)key).Value!;
            copy.Children.Remove(key);
            copy.Children.Add(new YamlScalarNode(original + "Typo"), value);

            var problems = Checker.Check(program, Save(yaml)).Problems;

            var expected = $"resource '{name}' ({type}): property '{original}Typo' is not an input of {type}";
            Assert.True(problems.Any(p => p.Message.StartsWith(expected, StringComparison.Ordinal) && p.File == program),
                $"expected '{expected}', got:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
        }
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void A_copy_without_a_required_input_fails_naming_the_resource_and_property(string program)
    {
        var schema = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(RepositoryPrograms.SchemaPath))!;
        var dropped = 0;
        foreach (var (name, type, properties) in PackageResources(Load(program)))
        {
            var required = schema["resources"]![type]!["requiredInputs"]?.AsArray().Select(r => r!.GetValue<string>()) ?? [];
            foreach (var input in required)
            {
                var yaml = Load(program);
                var copy = PackageResources(yaml).Single(r => r.Name == name).Properties!;
                Assert.True(copy.Children.Remove(new YamlScalarNode(input)), $"{program}: resource '{name}' lacks required '{input}'");

                var problems = Checker.Check(program, Save(yaml)).Problems;

                var expected = $"resource '{name}' ({type}): required property '{input}' is missing";
                Assert.True(problems.Any(p => p.Message == expected),
                    $"expected '{expected}', got:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
                dropped++;
            }
        }
        Assert.True(dropped > 0, $"{program}: no registryinfra resource with a required input to drop");
    }

    private sealed record PackageResource(string Name, string Type, YamlMappingNode? Properties);

    private static YamlStream Load(string program)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(RepositoryPrograms.Read(program)));
        return stream;
    }

    private static string Save(YamlStream stream)
    {
        var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    private static IEnumerable<PackageResource> PackageResources(YamlStream stream)
    {
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        if (!root.Children.TryGetValue(new YamlScalarNode("resources"), out var resources) || resources is not YamlMappingNode map)
        {
            yield break;
        }
        foreach (var (key, value) in map.Children)
        {
            if (value is YamlMappingNode resource &&
                resource.Children.TryGetValue(new YamlScalarNode("type"), out var type) &&
                type is YamlScalarNode { Value: { } token } && token.StartsWith("registryinfra:", StringComparison.Ordinal))
            {
                resource.Children.TryGetValue(new YamlScalarNode("properties"), out var properties);
                yield return new PackageResource(((YamlScalarNode)key).Value!, token, properties as YamlMappingNode);
            }
        }
    }
}
