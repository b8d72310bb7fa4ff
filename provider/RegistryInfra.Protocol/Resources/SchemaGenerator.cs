using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

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
    public static string Generate(PackageInfo package, ResourceTable table)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(table);
        var types = new SortedDictionary<string, JsonNode>(StringComparer.Ordinal);
        var resources = new JsonObject();
        foreach (var declaration in table.Resources.Values.Select(r => r.Declaration)
            .Concat(table.Components.Values.Select(c => c.Declaration)).OrderBy(d => d.Token, StringComparer.Ordinal))
        {
            var inputs = TypeShape.Of(declaration.Inputs);
            var outputs = TypeShape.Of(declaration.Outputs);
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
                ["inputs"] = ObjectType(TypeShape.Of(declaration.Inputs), package, types),
                ["outputs"] = ObjectType(TypeShape.Of(declaration.Outputs), package, types),
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
            ["keywords"] = new JsonArray([.. package.Keywords.Select(k => JsonValue.Create(k))]),
            ["license"] = package.License,
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
            ["config"] = new JsonObject(),
            ["types"] = typesObject,
            ["provider"] = new JsonObject { ["description"] = $"The provider type for the {package.Name} package." },
            ["resources"] = resources,
            ["functions"] = functions,
        };
        return schema.ToJsonString(Indented).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    private static JsonObject ObjectType(TypeShape shape, PackageInfo package, SortedDictionary<string, JsonNode> types) => new()
    {
        ["type"] = "object",
        ["properties"] = Properties(shape, package, types, inputs: false),
        ["required"] = Required(shape),
    };

    private static JsonObject Properties(TypeShape shape, PackageInfo package, SortedDictionary<string, JsonNode> types, bool inputs)
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
            if (inputs && field.ReplaceOnChanges)
            {
                property["replaceOnChanges"] = true;
            }
            properties[field.Name] = property;
        }
        return properties;
    }

    private static JsonArray Required(TypeShape shape) =>
        new([.. shape.Fields.Where(f => f.Required).Select(f => f.Name).Order(StringComparer.Ordinal).Select(n => JsonValue.Create(n))]);

    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "Property types are nested model types, rooted by the plugin; see TypeShape.Classify.")]
    private static JsonObject TypeOf(Type type, PackageInfo package, SortedDictionary<string, JsonNode> types)
    {
        var shape = TypeShape.Of(Nullable.GetUnderlyingType(type) ?? type);
        switch (shape.Kind)
        {
            case ShapeKind.String: return new JsonObject { ["type"] = "string" };
            case ShapeKind.Bool: return new JsonObject { ["type"] = "boolean" };
            case ShapeKind.Integer: return new JsonObject { ["type"] = "integer" };
            case ShapeKind.Number: return new JsonObject { ["type"] = "number" };
            case ShapeKind.Any: return new JsonObject { ["$ref"] = "pulumi.json#/Any" };
            case ShapeKind.List: return new JsonObject { ["type"] = "array", ["items"] = TypeOf(shape.Element!, package, types) };
            case ShapeKind.Map: return new JsonObject { ["type"] = "object", ["additionalProperties"] = TypeOf(shape.Element!, package, types) };
        }
        var token = shape.Token ?? $"{package.Name}:index:{shape.Type.Name}";
        if (!types.ContainsKey(token))
        {
            if (shape.Kind == ShapeKind.Enum)
            {
                var enumType = new JsonObject
                {
                    ["type"] = "string",
                    ["enum"] = new JsonArray([.. shape.EnumMembers.Select(m =>
                    {
                        var member = new JsonObject { ["name"] = m.Value.ToString(), ["value"] = m.Wire };
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
            else
            {
                types[token] = new JsonObject(); // placeholder so that a recursive type terminates
                var objectType = ObjectType(shape, package, types);
                if (shape.Description is not null)
                {
                    objectType["description"] = shape.Description;
                }
                types[token] = objectType;
            }
        }
        return new JsonObject { ["$ref"] = $"#/types/{token}" };
    }
}
