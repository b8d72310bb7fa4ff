using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Model;

namespace RegistryInfra.Protocol.Resources;

/// <summary>Generates the Pulumi package schema (JSON) from the declarations of a <see cref="ResourceTable"/>.</summary>
public static class SchemaGenerator
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        // Descriptions hold Markdown and version ranges; keep them readable rather than \u-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The schema as indented JSON with a final newline; the same table always gives the same bytes.</summary>
    public static string Generate(PackageInfo package, ResourceTable table, IProviderConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(table);
        var types = new SortedDictionary<string, JsonNode>(StringComparer.Ordinal);
        var resources = new JsonObject();
        foreach (var declaration in table.Resources.Values.Select(r => r.Declaration)
            .Concat(table.Components.Values.Select(c => c.Declaration)).OrderBy(d => d.Token, StringComparer.Ordinal))
        {
            var inputs = declaration.Inputs;
            var outputs = declaration.Outputs;
            var resource = new JsonObject
            {
                ["description"] = declaration.Description,
                ["properties"] = Properties(outputs, package, types, inputs: false),
                ["required"] = Required(outputs),
                ["inputProperties"] = Properties(inputs, package, types, inputs: true),
                ["requiredInputs"] = Required(inputs),
            };
            if (declaration is ComponentDeclaration)
            {
                resource["isComponent"] = true;
            }
            resources[declaration.Token] = resource;
        }
        var functions = new JsonObject();
        foreach (var declaration in table.Functions.Values.Select(f => f.Declaration).OrderBy(d => d.Token, StringComparer.Ordinal))
        {
            functions[declaration.Token] = new JsonObject
            {
                ["description"] = declaration.Description,
                ["inputs"] = ObjectType(declaration.Inputs, package, types),
                ["outputs"] = ObjectType(declaration.Outputs, package, types),
            };
        }
        var typesObject = new JsonObject();
        foreach (var (token, node) in types)
        {
            typesObject[token] = node;
        }
        var schema = new JsonObject
        {
            ["name"] = package.Name,
            ["displayName"] = package.DisplayName,
            ["description"] = package.Description,
            ["version"] = package.Version,
            ["keywords"] = new JsonArray([.. package.Keywords.Select(k => JsonValue.Create(k))]),
            ["homepage"] = package.Homepage,
            ["license"] = package.License,
            ["logoUrl"] = package.LogoUrl,
            ["pluginDownloadURL"] = package.PluginDownloadUrl,
            ["publisher"] = package.Publisher,
            ["repository"] = package.Repository,
            ["meta"] = new JsonObject { ["moduleFormat"] = "(.*)" },
            ["language"] = new JsonObject
            {
                ["csharp"] = new JsonObject
                {
                    ["rootNamespace"] = package.CSharpRootNamespace,
                    ["respectSchemaVersion"] = true,
                    ["packageReferences"] = new JsonObject { ["Pulumi"] = "3.*" },
                },
                ["go"] = new JsonObject
                {
                    ["importBasePath"] = package.GoImportBasePath,
                    ["generateResourceContainerTypes"] = true,
                    ["respectSchemaVersion"] = true,
                },
                ["nodejs"] = new JsonObject
                {
                    ["packageName"] = package.NodePackageName,
                    ["respectSchemaVersion"] = true,
                    ["dependencies"] = new JsonObject { ["@pulumi/pulumi"] = "^3.0.0" },
                },
                ["python"] = new JsonObject
                {
                    ["packageName"] = package.PythonPackageName,
                    ["respectSchemaVersion"] = true,
                    ["requires"] = new JsonObject { ["pulumi"] = ">=3.0.0,<4.0.0" },
                },
            },
            ["config"] = configuration is null ? new JsonObject() : new JsonObject { ["variables"] = ConfigProperties(configuration) },
            ["types"] = typesObject,
            ["provider"] = Provider(package, configuration),
            ["resources"] = resources,
            ["functions"] = functions,
        };
        return schema.ToJsonString(Indented).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    private static JsonObject Provider(PackageInfo package, IProviderConfiguration? configuration)
    {
        var provider = new JsonObject { ["description"] = $"The provider type for the {package.Name} package." };
        if (configuration is not null)
        {
            provider["properties"] = ConfigProperties(configuration);
            provider["inputProperties"] = ConfigProperties(configuration);
        }
        return provider;
    }

    private static JsonObject ConfigProperties(IProviderConfiguration configuration)
    {
        var properties = new JsonObject();
        foreach (var variable in configuration.Variables)
        {
            var property = new JsonObject { ["type"] = variable.SchemaType, ["description"] = variable.Description };
            if (variable.Default is { } value)
            {
                property["default"] = value switch
                {
                    string text => JsonValue.Create(text),
                    bool flag => JsonValue.Create(flag),
                    int number => JsonValue.Create(number),
                    double number => JsonValue.Create(number),
                    _ => throw new InvalidOperationException($"{variable.Name}: a default must be a string, bool or number"),
                };
            }
            properties[variable.Name] = property;
        }
        return properties;
    }

    private static JsonObject ObjectType(ModelShape shape, PackageInfo package, SortedDictionary<string, JsonNode> types) => new()
    {
        ["type"] = "object",
        ["properties"] = Properties(shape, package, types, inputs: false),
        ["required"] = Required(shape),
    };

    private static JsonObject Properties(ModelShape shape, PackageInfo package, SortedDictionary<string, JsonNode> types, bool inputs)
    {
        var properties = new JsonObject();
        foreach (var field in shape.Fields.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            var property = TypeOf(field.Type, package, types);
            if (field.Description is not null)
            {
                property["description"] = field.Description;
            }
            if (field.Secret)
            {
                property["secret"] = true;
            }
            if (field.Default is { } value)
            {
                property["default"] = value switch
                {
                    string text => JsonValue.Create(text),
                    bool flag => JsonValue.Create(flag),
                    int number => JsonValue.Create(number),
                    long number => JsonValue.Create(number),
                    double number => JsonValue.Create(number),
                    _ => throw new InvalidOperationException($"{field.Name}: a default must be a string, bool or number"),
                };
            }
            if (inputs && field.ReplaceOnChanges)
            {
                property["replaceOnChanges"] = true;
            }
            properties[field.Name] = property;
        }
        return properties;
    }

    private static JsonArray Required(ModelShape shape) =>
        new([.. shape.Fields.Where(f => f.Required).Select(f => f.Name).Order(StringComparer.Ordinal).Select(n => JsonValue.Create(n))]);

    private static JsonObject TypeOf(PropertyType type, PackageInfo package, SortedDictionary<string, JsonNode> types)
    {
        switch (type.Kind)
        {
            case PropertyTypeKind.String: return new JsonObject { ["type"] = "string" };
            case PropertyTypeKind.Boolean: return new JsonObject { ["type"] = "boolean" };
            case PropertyTypeKind.Integer: return new JsonObject { ["type"] = "integer" };
            case PropertyTypeKind.Number: return new JsonObject { ["type"] = "number" };
            case PropertyTypeKind.Any: return new JsonObject { ["$ref"] = "pulumi.json#/Any" };
            case PropertyTypeKind.Array: return new JsonObject { ["type"] = "array", ["items"] = TypeOf(type.Element!, package, types) };
            case PropertyTypeKind.Map: return new JsonObject { ["type"] = "object", ["additionalProperties"] = TypeOf(type.Element!, package, types) };
        }
        if (type.Kind == PropertyTypeKind.Enum)
        {
            var shape = type.Enum!;
            var token = shape.Token ?? $"{package.Name}:index:{shape.ClrName}";
            if (!types.ContainsKey(token))
            {
                var enumType = new JsonObject
                {
                    ["type"] = "string",
                    ["enum"] = new JsonArray([.. shape.Members.Select(m =>
                    {
                        var member = new JsonObject { ["name"] = m.Name, ["value"] = m.Value };
                        if (m.Description is not null)
                        {
                            member["description"] = m.Description;
                        }
                        return (JsonNode)member;
                    })]),
                };
                if (shape.Description is not null)
                {
                    enumType["description"] = shape.Description;
                }
                types[token] = enumType;
            }
            return new JsonObject { ["$ref"] = $"#/types/{token}" };
        }
        var model = type.Model!;
        var objectToken = model.Token ?? $"{package.Name}:index:{model.ClrName}";
        if (!types.ContainsKey(objectToken))
        {
            types[objectToken] = new JsonObject(); // placeholder so that a recursive type terminates
            var objectType = ObjectType(model, package, types);
            if (model.Description is not null)
            {
                objectType["description"] = model.Description;
            }
            types[objectToken] = objectType;
        }
        return new JsonObject { ["$ref"] = $"#/types/{objectToken}" };
    }
}
