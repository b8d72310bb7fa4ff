using System.Text.Json.Nodes;
using NJsonSchema;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Testing;

namespace RegistryInfra.Provider.Tests;

public sealed class SchemaTests
{
    private static string CommittedSchemaPath => Path.Combine(Requirements.RepositoryRoot, "schema", "schema.json");

    private static string MetaschemaPath => Path.Combine(Requirements.RepositoryRoot, "..", "shared", "pulumi", "package-metaschema.json");

    private static string Generated => RegistryInfraPackage.Schema();

    [Fact]
    public async Task Committed_schema_is_what_the_code_generates()
    {
        var committed = await File.ReadAllTextAsync(CommittedSchemaPath, TestContext.Current.CancellationToken);
        Assert.True(committed == Generated, "schema/schema.json is stale: run provider/build (or the plugin with --schema schema/schema.json) and commit it");
    }

    [Fact]
    public async Task Get_schema_serves_the_embedded_schema_which_is_the_generated_one()
    {
        Assert.Equal(Generated, RegistryInfraPackage.EmbeddedSchema());
        Assert.Equal(Generated, await RegistryInfraPackage.CreateProvider().GetSchemaAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Schema_is_valid_against_the_pulumi_metaschema()
    {
        var errors = await ValidateAsync(Generated);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async Task A_broken_schema_fails_the_metaschema_validation()
    {
        var broken = JsonNode.Parse(Generated)!;
        broken["name"] = "not a valid name!";
        broken["resources"]!["registryinfra:index:RegistryProfile"]!["properties"]!["server"]!["type"] = 42;

        var errors = await ValidateAsync(broken.ToJsonString());

        Assert.Contains(errors, e => e.Contains("name", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("server", StringComparison.Ordinal));
    }

    [Fact]
    public void Schema_declares_the_registry_profile_with_secrets_required_inputs_and_replace_on_changes()
    {
        var schema = JsonNode.Parse(Generated)!;
        var profile = schema["resources"]!["registryinfra:index:RegistryProfile"]!;

        Assert.True(profile["inputProperties"]!["password"]!["secret"]!.GetValue<bool>());
        Assert.True(profile["inputProperties"]!["server"]!["replaceOnChanges"]!.GetValue<bool>());
        Assert.True(profile["properties"]!["authEntry"]!["secret"]!.GetValue<bool>());
        Assert.Equal(["server"], profile["requiredInputs"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Contains("dockerConfigJson", profile["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(profile["inputProperties"]!["server"]!["description"]!.GetValue<string>()));
        foreach (var language in new[] { "csharp", "nodejs", "python", "go" })
        {
            Assert.NotNull(schema["language"]![language]);
        }
    }

    [Fact]
    public void Every_resource_function_type_property_and_enum_value_has_a_description()
    {
        var missing = Undescribed(JsonNode.Parse(Generated)!);

        Assert.True(missing.Count == 0, "no description (add PulumiProperty/PulumiType/EnumValue Description): " + string.Join(", ", missing));
    }

    [Fact]
    public void The_description_check_finds_a_missing_property_type_or_enum_description()
    {
        var schema = JsonNode.Parse(Generated)!;
        schema["resources"]!["registryinfra:index:ClusterRegistryAccess"]!["inputProperties"]!["attachServiceAccounts"]!.AsObject().Remove("description");
        schema["resources"]!["registryinfra:kubernetes:PullSecret"]!["properties"]!["imagePullSecrets"]!["description"] = " ";
        schema["types"]!["registryinfra:index:RefresherTarget"]!.AsObject().Remove("description");
        schema["types"]!["registryinfra:index:RefresherTarget"]!["properties"]!["attachOnly"]!.AsObject().Remove("description");
        schema["types"]!["registryinfra:index:RegistryKind"]!["enum"]![0]!.AsObject().Remove("description");
        schema["functions"]!["registryinfra:index:getImage"]!["outputs"]!["properties"]!["digest"]!.AsObject().Remove("description");

        Assert.Equal(
        [
            "resources.registryinfra:index:ClusterRegistryAccess.inputProperties.attachServiceAccounts",
            "resources.registryinfra:kubernetes:PullSecret.properties.imagePullSecrets",
            "functions.registryinfra:index:getImage.outputs.digest",
            "types.registryinfra:index:RefresherTarget",
            "types.registryinfra:index:RefresherTarget.properties.attachOnly",
            "types.registryinfra:index:RegistryKind.enum.generic",
        ], Undescribed(schema));
    }

    /// <summary>Every place of the schema that SDK docs and the README reference show a description for, and that lacks one.</summary>
    private static List<string> Undescribed(JsonNode schema)
    {
        var missing = new List<string>();
        static bool Described(JsonNode? node) => !string.IsNullOrWhiteSpace(node?["description"]?.GetValue<string>());
        void Properties(string at, JsonNode? properties)
        {
            foreach (var (name, property) in properties?.AsObject() ?? [])
            {
                if (!Described(property))
                {
                    missing.Add($"{at}.{name}");
                }
            }
        }
        foreach (var (token, resource) in schema["resources"]!.AsObject())
        {
            if (!Described(resource))
            {
                missing.Add($"resources.{token}");
            }
            Properties($"resources.{token}.inputProperties", resource!["inputProperties"]);
            Properties($"resources.{token}.properties", resource["properties"]);
        }
        foreach (var (token, function) in schema["functions"]!.AsObject())
        {
            if (!Described(function))
            {
                missing.Add($"functions.{token}");
            }
            Properties($"functions.{token}.inputs", function!["inputs"]?["properties"]);
            Properties($"functions.{token}.outputs", function["outputs"]?["properties"]);
        }
        foreach (var (token, type) in schema["types"]!.AsObject())
        {
            if (!Described(type))
            {
                missing.Add($"types.{token}");
            }
            Properties($"types.{token}.properties", type!["properties"]);
            foreach (var member in type["enum"]?.AsArray() ?? [])
            {
                if (!Described(member))
                {
                    missing.Add($"types.{token}.enum.{member!["value"]}");
                }
            }
        }
        return missing;
    }

    private static async Task<List<string>> ValidateAsync(string json)
    {
        var metaschema = await JsonSchema.FromJsonAsync(ToDraft7(await File.ReadAllTextAsync(MetaschemaPath)));
        return [.. metaschema.Validate(json).SelectMany(Flatten)];
    }

    private static IEnumerable<string> Flatten(NJsonSchema.Validation.ValidationError error) =>
        error is NJsonSchema.Validation.ChildSchemaValidationError child
            ? child.Errors.SelectMany(e => e.Value).SelectMany(Flatten).DefaultIfEmpty($"{error.Path}: {error.Kind}")
            : [$"{error.Path}: {error.Kind}"];

    /// <summary>
    /// The metaschema is draft 2020-12; NJsonSchema reads drafts 4-7 and ignores "const" (it becomes a one-value
    /// "enum"). Two 2020-12 forms it uses need a
    /// rewrite with the same meaning: definitions under "$defs" (moved to "definitions") and boolean
    /// subschemas such as <c>"items": false</c> inside "properties", which NJsonSchema cannot read and which
    /// only forbid extra keys on a primitive type reference: they are dropped (the one check this loses).
    /// </summary>
    private static string ToDraft7(string metaschema)
    {
        var root = JsonNode.Parse(metaschema)!.AsObject();
        root["definitions"] = root["$defs"]!.DeepClone();
        root.Remove("$defs");
        root.Remove("$schema");
        Rewrite(root);
        return root.ToJsonString().Replace("#/$defs/", "#/definitions/", StringComparison.Ordinal);
    }

    private static void Rewrite(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["const"] is JsonNode constant && obj["description"]?.GetValueKind() != System.Text.Json.JsonValueKind.Object)
                {
                    obj.Remove("const");
                    obj["enum"] = new JsonArray(constant);
                }
                if (obj["properties"] is JsonObject properties)
                {
                    foreach (var name in properties.Where(p => p.Value is JsonValue).Select(p => p.Key).ToList())
                    {
                        properties.Remove(name);
                    }
                }
                foreach (var child in obj.Select(p => p.Value).ToList())
                {
                    Rewrite(child);
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Rewrite(child);
                }
                break;
        }
    }
}
