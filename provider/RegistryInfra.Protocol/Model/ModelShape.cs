using System.Collections.Immutable;

namespace RegistryInfra.Protocol.Model;

/// <summary>The Pulumi type kinds a property can have.</summary>
public enum PropertyTypeKind
{
    /// <summary>A string.</summary>
    String,
    /// <summary>A boolean.</summary>
    Boolean,
    /// <summary>An integer.</summary>
    Integer,
    /// <summary>A number.</summary>
    Number,
    /// <summary>Any value.</summary>
    Any,
    /// <summary>A list of <see cref="PropertyType.Element"/>.</summary>
    Array,
    /// <summary>A map from strings to <see cref="PropertyType.Element"/>.</summary>
    Map,
    /// <summary>An object of <see cref="PropertyType.Model"/>.</summary>
    Object,
    /// <summary>A string enum of <see cref="PropertyType.Enum"/>.</summary>
    Enum,
}

/// <summary>The Pulumi type of a property, as the schema states it.</summary>
public sealed record PropertyType(PropertyTypeKind Kind, PropertyType? Element = null, ModelShape? Model = null, EnumShape? Enum = null)
{
    /// <summary>A string.</summary>
    public static PropertyType String { get; } = new(PropertyTypeKind.String);

    /// <summary>A boolean.</summary>
    public static PropertyType Boolean { get; } = new(PropertyTypeKind.Boolean);

    /// <summary>An integer.</summary>
    public static PropertyType Integer { get; } = new(PropertyTypeKind.Integer);

    /// <summary>A number.</summary>
    public static PropertyType Number { get; } = new(PropertyTypeKind.Number);

    /// <summary>Any value.</summary>
    public static PropertyType Any { get; } = new(PropertyTypeKind.Any);
}

/// <summary>One property of a model: its wire name, type and schema facts.</summary>
public sealed record FieldShape(string Name, PropertyType Type, bool Required, bool Secret, bool ReplaceOnChanges, string? Description)
{
    /// <summary>The default the schema states (a string, bool, integer or number), or null.</summary>
    public object? Default { get; init; }
}

/// <summary>An object type: its CLR name, token and description (for named types) and fields in declaration order.</summary>
public sealed class ModelShape(string clrName, string? token, string? description, Func<ImmutableArray<FieldShape>> fields)
{
    private readonly Lazy<ImmutableArray<FieldShape>> _fields = new(fields);

    /// <summary>The CLR type's name (the schema token's last part when no token is given).</summary>
    public string ClrName { get; } = clrName;

    /// <summary>The type token, for a named object type.</summary>
    public string? Token { get; } = token;

    /// <summary>The description.</summary>
    public string? Description { get; } = description;

    /// <summary>The properties, in declaration order.</summary>
    public ImmutableArray<FieldShape> Fields => _fields.Value;

    /// <summary>The shape of <typeparamref name="T"/>.</summary>
    public static ModelShape Of<T>() where T : class, IPulumiModel<T> => T.Shape;
}

/// <summary>A string enum type.</summary>
public sealed record EnumShape(string ClrName, string? Token, string? Description, ImmutableArray<EnumMemberShape> Members);

/// <summary>One member of an enum: its CLR name, wire value and description.</summary>
public sealed record EnumMemberShape(string Name, string Value, string? Description);

/// <summary>
/// A type the Pulumi protocol can bind: its shape for the schema, and source-generated reading and writing
/// (no reflection, so NativeAOT keeps exactly what it needs). Declared by <see cref="Resources.PulumiModelAttribute"/>
/// or <see cref="Resources.PulumiTypeAttribute"/> on a <c>partial</c> record.
/// </summary>
public interface IPulumiModel<TSelf> where TSelf : class, IPulumiModel<TSelf>
{
    /// <summary>The model's shape.</summary>
    static abstract ModelShape Shape { get; }

    /// <summary>Reads the model from an object's properties.</summary>
    static abstract TSelf Read(ObjectReader reader);

    /// <summary>Writes the model's properties.</summary>
    static abstract ValueTask WriteAsync(TSelf value, ObjectWriter writer);
}
