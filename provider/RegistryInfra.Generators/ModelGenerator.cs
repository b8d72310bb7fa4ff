using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RegistryInfra.Generators;

/// <summary>
/// Writes, for every <c>partial</c> record marked <c>[PulumiModel]</c> or <c>[PulumiType]</c>, its
/// implementation of <c>IPulumiModel&lt;T&gt;</c>: the shape the schema is generated from, and reading and
/// writing Pulumi property values through the protocol's converters. For every enum marked
/// <c>[PulumiType]</c>, a converter with its wire values. What used to be found by reflection at run time
/// is decided here at compile time, so NativeAOT needs no metadata and trims nothing it must keep.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    private const string Attributes = "RegistryInfra.Protocol.Resources.";
    private const string ModelNamespace = "global::RegistryInfra.Protocol.Model.";

    private static readonly DiagnosticDescriptor NotPartial = new(
        "RI0001", "Model type must be partial", "The Pulumi model type '{0}' must be declared partial so that its binding can be generated",
        "RegistryInfra", DiagnosticSeverity.Error, true);

    private static readonly DiagnosticDescriptor Unsupported = new(
        "RI0002", "Unsupported property type", "Property '{0}' of '{1}' has type '{2}', which is not a Pulumi property type (string, bool, int, long, double, PropertyValue, a [PulumiType] enum, a model, a list or map of them, Output<T>, InputList<T>, InputMap<T>)",
        "RegistryInfra", DiagnosticSeverity.Error, true);

    private static readonly DiagnosticDescriptor Nested = new(
        "RI0003", "Model type must be top-level", "The Pulumi model type '{0}' must be declared directly in a namespace",
        "RegistryInfra", DiagnosticSeverity.Error, true);

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var models = context.SyntaxProvider.ForAttributeWithMetadataName(Attributes + "PulumiModelAttribute", static (node, _) => node is TypeDeclarationSyntax, static (ctx, _) => (INamedTypeSymbol)ctx.TargetSymbol);
        var types = context.SyntaxProvider.ForAttributeWithMetadataName(Attributes + "PulumiTypeAttribute", static (node, _) => node is TypeDeclarationSyntax or EnumDeclarationSyntax, static (ctx, _) => (INamedTypeSymbol)ctx.TargetSymbol);
        context.RegisterSourceOutput(models.Collect().Combine(types.Collect()), static (spc, pair) =>
        {
            var seen = new HashSet<string>();
            foreach (var symbol in pair.Left.Concat(pair.Right))
            {
                if (!seen.Add(symbol.ToDisplayString()))
                {
                    continue;
                }
                if (symbol.TypeKind == TypeKind.Enum)
                {
                    spc.AddSource(FileName(symbol), EmitEnum(symbol));
                }
                else
                {
                    var source = EmitModel(symbol, spc);
                    if (source is not null)
                    {
                        spc.AddSource(FileName(symbol), source);
                    }
                }
            }
        });
    }

    private static string FileName(INamedTypeSymbol symbol) => symbol.ToDisplayString().Replace('<', '_').Replace('>', '_') + ".PulumiModel.g.cs";

    private static AttributeData? Find(ISymbol symbol, string name) =>
        symbol.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == Attributes + name);

    private static string? Named(AttributeData? attribute, string name)
    {
        if (attribute is null)
        {
            return null;
        }
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == name && argument.Value.Value is string text)
            {
                return text;
            }
        }
        return null;
    }

    private static string Literal(string? text) => text is null ? "null" : SymbolDisplay.FormatLiteral(text, true);

    private static string Constant(TypedConstant constant) => constant.Value switch
    {
        null => "null",
        string s => Literal(s),
        bool b => b ? "true" : "false",
        int i => i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture) + "L",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "d",
        var other => Literal(other.ToString()),
    };

    private static string EmitEnum(INamedTypeSymbol symbol)
    {
        var type = Find(symbol, "PulumiTypeAttribute");
        var token = type?.ConstructorArguments.FirstOrDefault().Value as string;
        var members = symbol.GetMembers().OfType<IFieldSymbol>().Where(f => f.IsConst).ToList();
        var full = symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        var shapeMembers = new List<string>();
        var table = new List<string>();
        foreach (var member in members)
        {
            var value = Find(member, "EnumValueAttribute");
            var wire = value?.ConstructorArguments.FirstOrDefault().Value as string ?? member.Name;
            shapeMembers.Add($"new {ModelNamespace}EnumMemberShape({Literal(member.Name)}, {Literal(wire)}, {Literal(Named(value, "Description"))})");
            table.Add($"({full}.{member.Name}, {Literal(wire)})");
        }
        var builder = new StringBuilder();
        builder.AppendLine("// <auto-generated/> by RegistryInfra.Generators.ModelGenerator");
        builder.AppendLine("#nullable enable");
        builder.AppendLine($"namespace {symbol.ContainingNamespace.ToDisplayString()};");
        builder.AppendLine();
        builder.AppendLine($"/// <summary>The Pulumi converter of <see cref=\"{symbol.Name}\"/>.</summary>");
        builder.AppendLine($"internal static class {symbol.Name}PulumiEnum");
        builder.AppendLine("{");
        builder.AppendLine($"    public static readonly {ModelNamespace}EnumConverter<{full}> Converter = new(");
        builder.AppendLine($"        new {ModelNamespace}EnumShape({Literal(symbol.Name)}, {Literal(token)}, {Literal(Named(type, "Description"))}, [{string.Join(", ", shapeMembers)}]),");
        builder.AppendLine($"        {string.Join(", ", table)});");
        builder.AppendLine("}");
        return builder.ToString();
    }

    private sealed class Field
    {
        public string Name = "";
        public string Property = "";
        public string TypeName = "";
        public string Converter = "";
        public bool Required;
        public bool Secret;
        public bool ReplaceOnChanges;
        public string? Description;
        public string? Default;
        public string? Initializer;
        public bool InConstructor;
        public bool NullWhenAbsent;
    }

    private static string? EmitModel(INamedTypeSymbol symbol, SourceProductionContext context)
    {
        var declarations = symbol.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).OfType<TypeDeclarationSyntax>().ToList();
        var location = declarations.FirstOrDefault()?.Identifier.GetLocation();
        if (!declarations.Any(d => d.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword))))
        {
            context.ReportDiagnostic(Diagnostic.Create(NotPartial, location, symbol.Name));
            return null;
        }
        if (symbol.ContainingType is not null)
        {
            context.ReportDiagnostic(Diagnostic.Create(Nested, location, symbol.Name));
            return null;
        }
        var constructor = symbol.InstanceConstructors.Where(c => c.DeclaredAccessibility == Accessibility.Public && !IsCopyConstructor(c, symbol))
            .OrderByDescending(c => c.Parameters.Length).FirstOrDefault();
        var parameters = constructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
        var fields = new List<Field>();
        var ok = true;
        foreach (var property in symbol.GetMembers().OfType<IPropertySymbol>())
        {
            if (property.IsStatic || property.IsIndexer || property.DeclaredAccessibility != Accessibility.Public || property.Name == "EqualityContract" || property.GetMethod is null)
            {
                continue;
            }
            var parameter = parameters.FirstOrDefault(p => string.Equals(p.Name, property.Name, System.StringComparison.OrdinalIgnoreCase));
            if (parameter is null && (property.SetMethod is null || property.SetMethod.DeclaredAccessibility != Accessibility.Public))
            {
                continue;
            }
            AttributeData? Attribute(string name) => Find(property, name) ?? (parameter is null ? null : Find(parameter, name));
            var pulumi = Attribute("PulumiPropertyAttribute");
            var converter = ConverterOf(property.Type);
            if (converter is null)
            {
                context.ReportDiagnostic(Diagnostic.Create(Unsupported, property.Locations.FirstOrDefault() ?? location, property.Name, symbol.Name, property.Type.ToDisplayString()));
                ok = false;
                continue;
            }
            var optional = property.Type.NullableAnnotation == NullableAnnotation.Annotated
                || (property.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T })
                || parameter?.HasExplicitDefaultValue == true
                || IsOutputOfOptional(property.Type);
            string? defaultValue = null;
            if (pulumi is not null)
            {
                foreach (var argument in pulumi.NamedArguments)
                {
                    if (argument.Key == "Default")
                    {
                        defaultValue = Constant(argument.Value);
                    }
                }
            }
            var initializer = property.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).OfType<PropertyDeclarationSyntax>()
                .Select(p => p.Initializer?.Value.ToString()).FirstOrDefault(i => i is not null);
            fields.Add(new Field
            {
                Name = pulumi?.ConstructorArguments.FirstOrDefault().Value as string ?? char.ToLowerInvariant(property.Name[0]) + property.Name.Substring(1),
                Property = property.Name,
                TypeName = property.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier | SymbolDisplayMiscellaneousOptions.UseSpecialTypes)),
                Converter = converter,
                Required = !optional,
                Secret = Attribute("SecretAttribute") is not null,
                ReplaceOnChanges = Attribute("ReplaceOnChangesAttribute") is not null,
                Description = Named(pulumi, "Description"),
                Default = defaultValue,
                Initializer = initializer,
                InConstructor = parameter is not null,
                // An optional reference (InputList<T>?, a nested model) is null when absent, whatever its converter's missing value.
                NullWhenAbsent = property.Type.IsReferenceType && property.Type.NullableAnnotation == NullableAnnotation.Annotated,
            });
        }
        if (!ok)
        {
            return null;
        }

        var typeAttribute = Find(symbol, "PulumiTypeAttribute");
        var modelAttribute = Find(symbol, "PulumiModelAttribute");
        var token = typeAttribute?.ConstructorArguments.FirstOrDefault().Value as string;
        var description = Named(typeAttribute, "Description") ?? Named(modelAttribute, "Description");
        var full = symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        var usings = declarations.Select(d => d.SyntaxTree.GetCompilationUnitRoot()).SelectMany(u => u.Usings).Select(u => u.ToString()).Distinct().ToList();

        var b = new StringBuilder();
        b.AppendLine("// <auto-generated/> by RegistryInfra.Generators.ModelGenerator");
        b.AppendLine("#nullable enable");
        b.AppendLine("#pragma warning disable CS1591");
        foreach (var u in usings)
        {
            b.AppendLine(u);
        }
        b.AppendLine($"namespace {symbol.ContainingNamespace.ToDisplayString()};");
        b.AppendLine();
        var keyword = symbol.IsRecord ? "record" : "class";
        b.AppendLine($"partial {keyword} {symbol.Name} : {ModelNamespace}IPulumiModel<{full}>");
        b.AppendLine("{");
        for (var i = 0; i < fields.Count; i++)
        {
            b.AppendLine($"    private static readonly {ModelNamespace}PropertyConverter<{fields[i].TypeName}> __pulumiConverter{i} = {fields[i].Converter}!;");
        }
        b.AppendLine();
        b.AppendLine($"    private static readonly {ModelNamespace}ModelShape __pulumiShape = new({Literal(symbol.Name)}, {Literal(token)}, {Literal(description)}, static () =>");
        b.AppendLine("    [");
        for (var i = 0; i < fields.Count; i++)
        {
            var f = fields[i];
            var defaults = f.Default is null ? "" : $" {{ Default = {f.Default} }}";
            b.AppendLine($"        new {ModelNamespace}FieldShape({Literal(f.Name)}, __pulumiConverter{i}.Type, {Bool(f.Required)}, {Bool(f.Secret)}, {Bool(f.ReplaceOnChanges)}, {Literal(f.Description)}){defaults},");
        }
        b.AppendLine("    ]);");
        b.AppendLine();
        b.AppendLine($"    static {ModelNamespace}ModelShape {ModelNamespace}IPulumiModel<{full}>.Shape => __pulumiShape;");
        b.AppendLine();
        b.AppendLine($"    static {full} {ModelNamespace}IPulumiModel<{full}>.Read({ModelNamespace}ObjectReader reader)");
        b.AppendLine("    {");
        for (var i = 0; i < fields.Count; i++)
        {
            var read = $"reader.Read({Literal(fields[i].Name)}, __pulumiConverter{i}, {Bool(fields[i].Required)})";
            b.AppendLine(fields[i].NullWhenAbsent
                ? $"        var v{i} = reader.Has({Literal(fields[i].Name)}) ? {read} : reader.Skip({Literal(fields[i].Name)}, default({fields[i].TypeName}));"
                : $"        var v{i} = {read};");
        }
        var ctorArgs = parameters.Select(p =>
        {
            var index = fields.FindIndex(f => f.InConstructor && string.Equals(f.Property, p.Name, System.StringComparison.OrdinalIgnoreCase));
            return index >= 0 ? $"v{index}" : "default!";
        });
        b.Append($"        return new {full}({string.Join(", ", ctorArgs)})");
        var initialised = fields.Select((f, i) => (f, i)).Where(x => !x.f.InConstructor).ToList();
        if (initialised.Count > 0)
        {
            b.AppendLine();
            b.AppendLine("        {");
            foreach (var (f, i) in initialised)
            {
                var value = f.Initializer is null ? $"v{i}" : $"reader.Has({Literal(f.Name)}) ? v{i} : {f.Initializer}";
                b.AppendLine($"            {f.Property} = {value},");
            }
            b.Append("        }");
        }
        b.AppendLine(";");
        b.AppendLine("    }");
        b.AppendLine();
        b.AppendLine($"    static async global::System.Threading.Tasks.ValueTask {ModelNamespace}IPulumiModel<{full}>.WriteAsync({full} value, {ModelNamespace}ObjectWriter writer)");
        b.AppendLine("    {");
        for (var i = 0; i < fields.Count; i++)
        {
            b.AppendLine($"        await writer.WriteAsync({Literal(fields[i].Name)}, __pulumiConverter{i}, value.{fields[i].Property}, {Bool(fields[i].Secret)}).ConfigureAwait(false);");
        }
        b.AppendLine("    }");
        b.AppendLine("}");
        return b.ToString();
    }

    private static string Bool(bool value) => value ? "true" : "false";

    private static bool IsCopyConstructor(IMethodSymbol constructor, INamedTypeSymbol type) =>
        constructor.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(constructor.Parameters[0].Type, type);

    // Output<string?> (and InputList/InputMap, which are empty when absent) are optional inputs.
    private static bool IsOutputOfOptional(ITypeSymbol type) =>
        type is INamedTypeSymbol { IsGenericType: true } named
        && named.ContainingNamespace.ToDisplayString() == "RegistryInfra.Protocol.Model"
        && named.Name == "Output"
        && (named.TypeArguments[0].NullableAnnotation == NullableAnnotation.Annotated
            || named.TypeArguments[0] is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T });

    private static string? ConverterOf(ITypeSymbol type)
    {
        const string c = ModelNamespace + "Converters.";
        switch (type.SpecialType)
        {
            case SpecialType.System_String: return c + "String";
            case SpecialType.System_Boolean: return c + "Boolean";
            case SpecialType.System_Int32: return c + "Int32";
            case SpecialType.System_Int64: return c + "Int64";
            case SpecialType.System_Double: return c + "Double";
        }
        if (type is not INamedTypeSymbol named)
        {
            return null;
        }
        if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            var inner = ConverterOf(named.TypeArguments[0]);
            return inner is null ? null : $"{c}Nullable({inner})";
        }
        var ns = named.ContainingNamespace.ToDisplayString();
        if (named.TypeKind == TypeKind.Enum)
        {
            return Find(named, "PulumiTypeAttribute") is null ? null : $"global::{ns}.{named.Name}PulumiEnum.Converter";
        }
        if (ns == "RegistryInfra.Protocol.Values" && named.Name == "PropertyValue")
        {
            return c + "Any";
        }
        if (named.IsGenericType)
        {
            var arguments = named.TypeArguments;
            string? Element(int index) => ConverterOf(arguments[index]);
            var definition = named.OriginalDefinition.ToDisplayString();
            switch (definition)
            {
                case "RegistryInfra.Protocol.Model.Output<T>": return Element(0) is { } o ? $"{c}Output({o})" : null;
                case "RegistryInfra.Protocol.Model.InputList<T>": return Element(0) is { } l ? $"{c}InputList({l})" : null;
                case "RegistryInfra.Protocol.Model.InputMap<T>": return Element(0) is { } m ? $"{c}InputMap({m})" : null;
                case "System.Collections.Generic.IReadOnlyList<T>": return Element(0) is { } r ? $"{c}List({r})" : null;
                case "System.Collections.Immutable.ImmutableArray<T>": return Element(0) is { } a ? $"{c}ImmutableArray({a})" : null;
                case "System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>":
                    return arguments[0].SpecialType == SpecialType.System_String && Element(1) is { } d ? $"{c}Map({d})" : null;
            }
            return null;
        }
        if (named.TypeKind == TypeKind.Class && (Find(named, "PulumiModelAttribute") is not null || Find(named, "PulumiTypeAttribute") is not null))
        {
            return $"{c}Model<{named.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)}>()";
        }
        return null;
    }
}
