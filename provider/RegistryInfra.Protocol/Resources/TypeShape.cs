using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Resources;

/// <summary>How a CLR type maps to a Pulumi type.</summary>
public enum ShapeKind
{
    /// <summary>A string.</summary>
    String,
    /// <summary>A boolean.</summary>
    Bool,
    /// <summary>An integer.</summary>
    Integer,
    /// <summary>A number.</summary>
    Number,
    /// <summary>An enum, sent as a string.</summary>
    Enum,
    /// <summary>A list.</summary>
    List,
    /// <summary>A map from string keys.</summary>
    Map,
    /// <summary>An object (a record type).</summary>
    Object,
    /// <summary>Any value, bound as a raw <see cref="PropertyValue"/>.</summary>
    Any,
}

/// <summary>One property of an object shape.</summary>
public sealed record FieldShape(
    string Name, PropertyInfo Property, [DynamicallyAccessedMembers(TypeShape.ModelMembers)] Type Type, bool Required, bool Secret, bool ReplaceOnChanges, string? Description);

/// <summary>
/// The Pulumi view of a CLR type, read once by reflection and cached (built on first use, never at start-up).
/// </summary>
public sealed class TypeShape
{
    /// <summary>
    /// What reflection reads of a model type (Args, State, Outputs and their nested records and enums); the
    /// generic parameters of the resource table carry it so that trimming keeps those members.
    /// </summary>
    public const DynamicallyAccessedMemberTypes ModelMembers =
        DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicFields;

    private static readonly ConcurrentDictionary<Type, TypeShape> Cache = new();
    private readonly Lazy<ImmutableArray<FieldShape>> _fields;

    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "Element types are nested model types, rooted by the plugin (see Classify).")]
    [UnconditionalSuppressMessage("Trimming", "IL2079", Justification = "Element types are nested model types, rooted by the plugin (see Classify).")]
    private TypeShape([DynamicallyAccessedMembers(TypeShape.ModelMembers)] Type type)
    {
        Type = type;
        (Kind, Element) = Classify(type);
        _fields = new Lazy<ImmutableArray<FieldShape>>(() => Kind == ShapeKind.Object ? ReadFields(Type) : []);
        var typeAttribute = type.GetCustomAttribute<PulumiTypeAttribute>();
        Token = typeAttribute?.Token;
        Description = typeAttribute?.Description;
    }

    /// <summary>The shape of <paramref name="type"/>.</summary>
    public static TypeShape Of([DynamicallyAccessedMembers(TypeShape.ModelMembers)] Type type) => Cache.TryGetValue(type, out var shape) ? shape : Cache.GetOrAdd(type, new TypeShape(type));

    /// <summary>The CLR type.</summary>
    [DynamicallyAccessedMembers(ModelMembers)]
    public Type Type { get; }

    /// <summary>The kind.</summary>
    public ShapeKind Kind { get; }

    /// <summary>The element type of a list or map.</summary>
    [DynamicallyAccessedMembers(ModelMembers)]
    public Type? Element { get; }

    /// <summary>The type token from <see cref="PulumiTypeAttribute"/>.</summary>
    public string? Token { get; }

    /// <summary>The description from <see cref="PulumiTypeAttribute"/>.</summary>
    public string? Description { get; }

    /// <summary>The properties of an object shape, in declaration order.</summary>
    public ImmutableArray<FieldShape> Fields => _fields.Value;

    /// <summary>The enum members and their wire values.</summary>
    public IEnumerable<(object Value, string Wire, string? Description)> EnumMembers =>
        // An optional enum property is Nullable<TEnum>; its members are the enum's.
        (Nullable.GetUnderlyingType(Type) ?? Type).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f =>
        {
            var attribute = f.GetCustomAttribute<EnumValueAttribute>();
            return (f.GetValue(null)!, attribute?.Value ?? f.Name, attribute?.Description);
        });

    // Trimming keeps the members of the top-level model types through the annotated generic parameters of
    // ResourceTable, but cannot follow property and element types further down. Those nested model types are
    // kept whole because the plugin roots the assembly that declares them (TrimmerRootAssembly in
    // RegistryInfra.Provider.csproj); PluginBinaryTests bind nested records in the NativeAOT binary.
    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "Nested model types are rooted by the plugin; see comment.")]
    [UnconditionalSuppressMessage("Trimming", "IL2073", Justification = "Nested model types are rooted by the plugin; see comment.")]
    private static (ShapeKind, Type?) Classify(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) { return (ShapeKind.String, null); }
        if (type == typeof(bool)) { return (ShapeKind.Bool, null); }
        if (type == typeof(int) || type == typeof(long)) { return (ShapeKind.Integer, null); }
        if (type == typeof(double)) { return (ShapeKind.Number, null); }
        if (type == typeof(PropertyValue)) { return (ShapeKind.Any, null); }
        if (type.IsEnum) { return (ShapeKind.Enum, null); }
        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            var arguments = type.GetGenericArguments();
            if (definition == typeof(ImmutableArray<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(List<>)
                || definition == typeof(IList<>) || definition == typeof(IEnumerable<>) || definition == typeof(ImmutableList<>))
            {
                return (ShapeKind.List, ReferenceElement(type, arguments[0]));
            }
            if ((definition == typeof(IReadOnlyDictionary<,>) || definition == typeof(ImmutableDictionary<,>)
                || definition == typeof(Dictionary<,>) || definition == typeof(ImmutableSortedDictionary<,>)) && arguments[0] == typeof(string))
            {
                return (ShapeKind.Map, ReferenceElement(type, arguments[1]));
            }
        }
        if (type.IsArray)
        {
            return (ShapeKind.List, ReferenceElement(type, type.GetElementType()!));
        }
        if (type.IsClass && type != typeof(object))
        {
            return (ShapeKind.Object, null);
        }
        throw new NotSupportedException($"type {type} cannot be a Pulumi property type");
    }

    // The binder builds lists and maps of the element type at run time; NativeAOT has shared code for every
    // instantiation over reference types, but not for one over a value type it did not see compiled.
    private static Type ReferenceElement(Type collection, Type element) => element.IsValueType
        ? throw new NotSupportedException($"type {collection} cannot be a Pulumi property type: list and map elements must be strings, records or PropertyValue")
        : element;

    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "Nested model types are rooted by the plugin; see Classify.")]
    private static ImmutableArray<FieldShape> ReadFields([DynamicallyAccessedMembers(TypeShape.ModelMembers)] Type type)
    {
        var nullability = new NullabilityInfoContext();
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        var parameters = constructor?.GetParameters() ?? [];
        var fields = ImmutableArray.CreateBuilder<FieldShape>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.Name == "EqualityContract")
            {
                continue;
            }
            var parameter = parameters.FirstOrDefault(p => string.Equals(p.Name, property.Name, StringComparison.OrdinalIgnoreCase));
            T? Find<T>() where T : Attribute => property.GetCustomAttribute<T>() ?? parameter?.GetCustomAttribute<T>();
            var name = Find<PulumiPropertyAttribute>();
            var info = nullability.Create(property);
            var optional = info.ReadState == NullabilityState.Nullable || Nullable.GetUnderlyingType(property.PropertyType) is not null
                || parameter?.HasDefaultValue == true;
            fields.Add(new FieldShape(
                name?.Name ?? char.ToLowerInvariant(property.Name[0]) + property.Name[1..],
                property, property.PropertyType, !optional,
                Find<SecretAttribute>() is not null, Find<ReplaceOnChangesAttribute>() is not null, name?.Description));
        }
        return fields.ToImmutable();
    }
}
