using System.Collections;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Resources;

/// <summary>What to do with unknown (computed) inputs while binding.</summary>
public enum BindMode
{
    /// <summary>An unknown value is a failure (Create and Update outside preview).</summary>
    Strict,
    /// <summary>An unknown value binds to the type's default and is reported in <see cref="BindResult{T}.UnknownPaths"/> (preview).</summary>
    AllowUnknowns,
}

/// <summary>
/// The result of binding: the value (null when there are failures), the failures naming property paths,
/// the paths that were unknown, and the paths that were secret.
/// </summary>
public sealed record BindResult<T>(T? Value, IReadOnlyList<CheckFailure> Failures, ImmutableHashSet<string> UnknownPaths, ImmutableHashSet<string> SecretPaths)
{
    /// <summary>Whether binding succeeded.</summary>
    public bool Succeeded => Failures.Count == 0;
}

// One set of suppressions for the whole binder (every method of it walks model types by reflection); the
// reasons are the constants below.
/// <summary>Binds property maps to typed records and back, following <see cref="TypeShape"/>.</summary>
[UnconditionalSuppressMessage("Trimming", "IL2026", Justification = PropertyBinder.NestedModel)]
[UnconditionalSuppressMessage("Trimming", "IL2060", Justification = PropertyBinder.NestedModel)]
[UnconditionalSuppressMessage("Trimming", "IL2067", Justification = PropertyBinder.NestedModel)]
[UnconditionalSuppressMessage("Trimming", "IL2070", Justification = PropertyBinder.NestedModel)]
[UnconditionalSuppressMessage("Trimming", "IL2072", Justification = PropertyBinder.NestedModel)]
[UnconditionalSuppressMessage("Trimming", "IL2075", Justification = PropertyBinder.NestedModel)]
[UnconditionalSuppressMessage("AOT", "IL3050", Justification = PropertyBinder.ReferenceElements)]
public static class PropertyBinder
{
    // The binder walks nested records, lists and maps by reflection. Trimming keeps the top-level model types
    // through the annotated generic parameters, not the types below them: the plugin roots the assembly that
    // declares its model (TrimmerRootAssembly in RegistryInfra.Provider.csproj), and PluginBinaryTests bind
    // and unbind nested records in the NativeAOT binary.
    private const string NestedModel = "Nested model types are rooted by the plugin; see the comment on PropertyBinder.";

    // TypeShape rejects value-type list and map elements, so every generic instantiation made here is over
    // reference types, for which NativeAOT always has the shared canonical code.
    private const string ReferenceElements = "Lists and maps are only instantiated over reference types; see TypeShape.ReferenceElement.";

    /// <summary>Binds <paramref name="properties"/> to a <typeparamref name="T"/>.</summary>
    public static BindResult<T> Bind<[DynamicallyAccessedMembers(TypeShape.ModelMembers)] T>(IReadOnlyDictionary<string, PropertyValue> properties, BindMode mode) where T : class
    {
        ArgumentNullException.ThrowIfNull(properties);
        var context = new Context(mode);
        var value = BindObject(typeof(T), properties, "", context);
        return new BindResult<T>(context.Failures.Count == 0 ? (T?)value : null, context.Failures, [.. context.Unknowns], [.. context.Secrets]);
    }

    /// <summary>The property map of <paramref name="value"/>; properties marked <see cref="SecretAttribute"/> become secrets; null properties are left out.</summary>
    public static ImmutableSortedDictionary<string, PropertyValue> Unbind(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Unbind(value, value.GetType()).ObjectValue;
    }

    private static PropertyValue Unbind(object? value, Type type)
    {
        if (value is null)
        {
            return PropertyValue.Null;
        }
        type = Nullable.GetUnderlyingType(type) ?? type;
        var shape = TypeShape.Of(type);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableArray<>) && (bool)type.GetProperty("IsDefault")!.GetValue(value)!)
        {
            return PropertyValue.Null;
        }
        switch (shape.Kind)
        {
            case ShapeKind.String: return PropertyValue.Create((string)value);
            case ShapeKind.Bool: return PropertyValue.Create((bool)value);
            case ShapeKind.Integer: return PropertyValue.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture));
            case ShapeKind.Number: return PropertyValue.Create((double)value);
            case ShapeKind.Any: return (PropertyValue)value;
            case ShapeKind.Enum: return PropertyValue.Create(shape.EnumMembers.First(m => m.Value.Equals(value)).Wire);
            case ShapeKind.List: return PropertyValue.CreateArray(((IEnumerable)value).Cast<object?>().Select(item => Unbind(item, shape.Element!)));
            case ShapeKind.Map:
                var entries = new List<KeyValuePair<string, PropertyValue>>();
                foreach (var entry in ((IEnumerable)value).Cast<object>())
                {
                    var entryType = entry.GetType();
                    var key = (string)entryType.GetProperty("Key")!.GetValue(entry)!;
                    entries.Add(KeyValuePair.Create(key, Unbind(entryType.GetProperty("Value")!.GetValue(entry), shape.Element!)));
                }
                return PropertyValue.CreateObject(entries);
            default:
                var properties = new List<KeyValuePair<string, PropertyValue>>();
                foreach (var field in TypeShape.Of(value.GetType()).Fields)
                {
                    var fieldValue = field.Property.GetValue(value);
                    if (fieldValue is null)
                    {
                        continue;
                    }
                    var encoded = Unbind(fieldValue, field.Type);
                    if (encoded.IsNull)
                    {
                        continue;
                    }
                    properties.Add(KeyValuePair.Create(field.Name, field.Secret ? encoded.AsSecret() : encoded));
                }
                return PropertyValue.CreateObject(properties);
        }
    }

    private sealed class Context(BindMode mode)
    {
        public BindMode Mode { get; } = mode;
        public List<CheckFailure> Failures { get; } = [];
        public HashSet<string> Unknowns { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Secrets { get; } = new(StringComparer.Ordinal);
    }

    private static object? BindObject(Type type, IReadOnlyDictionary<string, PropertyValue> properties, string path, Context context)
    {
        var shape = TypeShape.Of(type);
        var values = new Dictionary<PropertyInfo, object?>();
        foreach (var field in shape.Fields)
        {
            var fieldPath = path.Length == 0 ? field.Name : $"{path}.{field.Name}";
            properties.TryGetValue(field.Name, out var raw);
            values[field.Property] = BindValue(field.Type, raw ?? PropertyValue.Null, fieldPath, field.Required, context);
        }
        foreach (var key in properties.Keys.Where(k => shape.Fields.All(f => f.Name != k)))
        {
            context.Failures.Add(new CheckFailure(path.Length == 0 ? key : $"{path}.{key}", "unknown property"));
        }
        if (context.Failures.Count > 0)
        {
            return null;
        }
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var arguments = constructor.GetParameters()
            .Select(p => values.FirstOrDefault(v => string.Equals(v.Key.Name, p.Name, StringComparison.OrdinalIgnoreCase)).Value
                ?? (p.HasDefaultValue ? p.DefaultValue : p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null))
            .ToArray();
        var instance = constructor.Invoke(arguments);
        foreach (var (property, value) in values)
        {
            if (!constructor.GetParameters().Any(p => string.Equals(p.Name, property.Name, StringComparison.OrdinalIgnoreCase)) && property.CanWrite)
            {
                property.SetValue(instance, value);
            }
        }
        return instance;
    }

    private static object? BindValue(Type type, PropertyValue raw, string path, bool required, Context context)
    {
        var shape = TypeShape.Of(type);
        if (shape.Kind == ShapeKind.Any)
        {
            return raw;
        }
        var (value, secret) = raw.Unwrap();
        if (secret)
        {
            context.Secrets.Add(path);
        }
        if (value.Kind == PropertyValueKind.Computed)
        {
            if (context.Mode == BindMode.AllowUnknowns)
            {
                context.Unknowns.Add(path);
                return Default(type);
            }
            context.Failures.Add(new CheckFailure(path, "value is unknown"));
            return null;
        }
        if (value.IsNull)
        {
            if (required)
            {
                context.Failures.Add(new CheckFailure(path, "required property is missing"));
            }
            return Default(type);
        }
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        switch (shape.Kind)
        {
            case ShapeKind.String:
                return Expect(value, PropertyValueKind.String, "string", path, context) ? value.StringValue : null;
            case ShapeKind.Bool:
                return Expect(value, PropertyValueKind.Bool, "boolean", path, context) ? value.BoolValue : Default(type);
            case ShapeKind.Number:
                return Expect(value, PropertyValueKind.Number, "number", path, context) ? value.NumberValue : Default(type);
            case ShapeKind.Integer:
                if (!Expect(value, PropertyValueKind.Number, "integer", path, context))
                {
                    return Default(type);
                }
                if (Math.Floor(value.NumberValue) != value.NumberValue || Math.Abs(value.NumberValue) > int.MaxValue)
                {
                    context.Failures.Add(new CheckFailure(path, $"expected integer, got {value.NumberValue.ToString(CultureInfo.InvariantCulture)}"));
                    return Default(type);
                }
                return Convert.ChangeType(value.NumberValue, underlying, CultureInfo.InvariantCulture);
            case ShapeKind.Enum:
                if (!Expect(value, PropertyValueKind.String, "string", path, context))
                {
                    return Default(type);
                }
                var members = TypeShape.Of(underlying).EnumMembers.ToList();
                var match = members.FirstOrDefault(m => m.Wire == value.StringValue);
                if (match.Wire is null)
                {
                    context.Failures.Add(new CheckFailure(path, $"expected one of {string.Join(", ", members.Select(m => $"\"{m.Wire}\""))}"));
                    return Default(type);
                }
                return match.Value;
            case ShapeKind.List:
                if (!Expect(value, PropertyValueKind.Array, "array", path, context))
                {
                    return null;
                }
                var items = value.ArrayValue.Select((item, index) => BindValue(shape.Element!, item, $"{path}[{index}]", true, context)).ToList();
                return MakeList(underlying, shape.Element!, items);
            case ShapeKind.Map:
                if (!Expect(value, PropertyValueKind.Object, "object", path, context))
                {
                    return null;
                }
                var entries = value.ObjectValue.Select(e => KeyValuePair.Create(e.Key, BindValue(shape.Element!, e.Value, $"{path}[\"{e.Key}\"]", true, context))).ToList();
                return MakeMap(underlying, shape.Element!, entries);
            default:
                return Expect(value, PropertyValueKind.Object, "object", path, context)
                    ? BindObject(underlying, value.ObjectValue, path, context)
                    : null;
        }
    }

    private static bool Expect(PropertyValue value, PropertyValueKind kind, string name, string path, Context context)
    {
        if (value.Kind == kind)
        {
            return true;
        }
        context.Failures.Add(new CheckFailure(path, $"expected {name}, got {Describe(value.Kind)}"));
        return false;
    }

    private static string Describe(PropertyValueKind kind) => kind switch
    {
        PropertyValueKind.Bool => "boolean",
        PropertyValueKind.ResourceReference => "resource reference",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static object? Default(Type type) => type.IsValueType && Nullable.GetUnderlyingType(type) is null ? Activator.CreateInstance(type) : null;

    private static object MakeList(Type type, Type element, List<object?> items)
    {
        var array = Array.CreateInstance(element, items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            array.SetValue(items[i], i);
        }
        if (type.IsArray)
        {
            return array;
        }
        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(ImmutableArray<>))
        {
            return typeof(ImmutableArray).GetMethods().First(m => m.Name == "Create" && m.GetParameters() is [{ ParameterType.IsArray: true }])
                .MakeGenericMethod(element).Invoke(null, [array])!;
        }
        if (definition == typeof(ImmutableList<>))
        {
            return typeof(ImmutableList).GetMethods().First(m => m.Name == "CreateRange").MakeGenericMethod(element).Invoke(null, [array])!;
        }
        return Activator.CreateInstance(typeof(List<>).MakeGenericType(element), array)!;
    }

    private static object MakeMap(Type type, Type element, List<KeyValuePair<string, object?>> entries)
    {
        var dictionary = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), element), StringComparer.Ordinal)!;
        foreach (var (key, value) in entries)
        {
            dictionary[key] = value;
        }
        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(ImmutableDictionary<,>) || definition == typeof(ImmutableSortedDictionary<,>))
        {
            var factory = definition == typeof(ImmutableDictionary<,>) ? typeof(ImmutableDictionary) : typeof(ImmutableSortedDictionary);
            return factory.GetMethods().First(m => m.Name == "CreateRange" && m.GetParameters().Length == 1)
                .MakeGenericMethod(typeof(string), element).Invoke(null, [dictionary])!;
        }
        return dictionary;
    }
}
