using System.Collections.Immutable;
using System.Globalization;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Model;

/// <summary>
/// Reads and writes one CLR type as Pulumi property values, and states its Pulumi type. Generated model
/// code composes these; nothing here uses reflection.
/// </summary>
public abstract class PropertyConverter<T>
{
    /// <summary>The Pulumi type.</summary>
    public abstract PropertyType Type { get; }

    /// <summary>The value of a missing (or null) property.</summary>
    public virtual T ReadMissing() => default!;

    /// <summary>
    /// Reads <paramref name="raw"/> as it came from the engine: secret and output wrappers are noted and
    /// removed, an unknown value is noted (and gives the missing value), null gives the missing value.
    /// </summary>
    public virtual T Read(PropertyValue raw, string path, ReadContext context)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(context);
        var value = Unwrap(raw, path, context);
        if (value.Kind == PropertyValueKind.Computed)
        {
            context.NoteUnknown(path);
            return ReadMissing();
        }
        return value.IsNull ? ReadMissing() : ReadKnown(value, path, context);
    }

    /// <summary>Reads a known, unwrapped, non-null value.</summary>
    protected abstract T ReadKnown(PropertyValue value, string path, ReadContext context);

    /// <summary>Writes <paramref name="value"/>; null gives <see cref="PropertyValue.Null"/>.</summary>
    public abstract ValueTask<PropertyValue> WriteAsync(T value, WriteContext context);

    /// <summary>Removes secret and output wrappers, noting them.</summary>
    protected static PropertyValue Unwrap(PropertyValue raw, string path, ReadContext context)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(context);
        var value = raw;
        while (true)
        {
            switch (value.Kind)
            {
                case PropertyValueKind.Secret:
                    context.NoteWrapper(path, true, []);
                    value = value.SecretValue;
                    break;
                case PropertyValueKind.Output:
                    var output = value.OutputValue;
                    context.NoteWrapper(path, output.IsSecret, output.Dependencies);
                    if (output.Value is null)
                    {
                        return PropertyValue.Computed;
                    }
                    value = output.Value;
                    break;
                default:
                    return value;
            }
        }
    }

    /// <summary>Fails unless <paramref name="value"/> has <paramref name="kind"/>.</summary>
    protected static bool Expect(PropertyValue value, PropertyValueKind kind, string name, string path, ReadContext context)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(context);
        if (value.Kind == kind)
        {
            return true;
        }
        context.Fail(path, $"expected {name}, got {Describe(value.Kind)}");
        return false;
    }

    private static string Describe(PropertyValueKind kind) => kind switch
    {
        PropertyValueKind.Bool => "boolean",
        PropertyValueKind.ResourceReference => "resource reference",
        _ => kind.ToString().ToLowerInvariant(),
    };
}

/// <summary>The converters of the primitive and composite types generated model code uses.</summary>
public static class Converters
{
    /// <summary>Strings.</summary>
    public static PropertyConverter<string> String { get; } = new StringConverter();

    /// <summary>Booleans.</summary>
    public static PropertyConverter<bool> Boolean { get; } = new BooleanConverter();

    /// <summary>32-bit integers.</summary>
    public static PropertyConverter<int> Int32 { get; } = new Int32Converter();

    /// <summary>64-bit integers (within a double's exact range).</summary>
    public static PropertyConverter<long> Int64 { get; } = new Int64Converter();

    /// <summary>Numbers.</summary>
    public static PropertyConverter<double> Double { get; } = new DoubleConverter();

    /// <summary>Any value, kept as it came.</summary>
    public static PropertyConverter<PropertyValue> Any { get; } = new AnyConverter();

    /// <summary>An optional value type.</summary>
    public static PropertyConverter<T?> Nullable<T>(PropertyConverter<T> inner) where T : struct => new NullableConverter<T>(inner);

    /// <summary>A read-only list.</summary>
    public static PropertyConverter<IReadOnlyList<T>> List<T>(PropertyConverter<T> element) => new ListConverter<T>(element);

    /// <summary>An immutable array.</summary>
    public static PropertyConverter<ImmutableArray<T>> ImmutableArray<T>(PropertyConverter<T> element) => new ImmutableArrayConverter<T>(element);

    /// <summary>A read-only map from strings.</summary>
    public static PropertyConverter<IReadOnlyDictionary<string, T>> Map<T>(PropertyConverter<T> element) => new MapConverter<T>(element);

    /// <summary>An output of <typeparamref name="T"/>: unknown and secret values inside it are kept, not failed.</summary>
    public static PropertyConverter<Output<T>> Output<T>(PropertyConverter<T> inner) => new OutputConverter<T>(inner);

    /// <summary>A component's list input.</summary>
    public static PropertyConverter<InputList<T>> InputList<T>(PropertyConverter<T> element) => new InputListConverter<T>(element);

    /// <summary>A component's map input.</summary>
    public static PropertyConverter<InputMap<T>> InputMap<T>(PropertyConverter<T> element) => new InputMapConverter<T>(element);

    /// <summary>A model type.</summary>
    public static PropertyConverter<T> Model<T>() where T : class, IPulumiModel<T> => ModelConverter<T>.Instance;

    private sealed class StringConverter : PropertyConverter<string>
    {
        public override PropertyType Type => PropertyType.String;

        protected override string ReadKnown(PropertyValue value, string path, ReadContext context) =>
            Expect(value, PropertyValueKind.String, "string", path, context) ? value.StringValue : null!;

        public override ValueTask<PropertyValue> WriteAsync(string value, WriteContext context) => ValueTask.FromResult(PropertyValue.Create(value));
    }

    private sealed class BooleanConverter : PropertyConverter<bool>
    {
        public override PropertyType Type => PropertyType.Boolean;

        protected override bool ReadKnown(PropertyValue value, string path, ReadContext context) =>
            Expect(value, PropertyValueKind.Bool, "boolean", path, context) && value.BoolValue;

        public override ValueTask<PropertyValue> WriteAsync(bool value, WriteContext context) => ValueTask.FromResult(PropertyValue.Create(value));
    }

    private sealed class DoubleConverter : PropertyConverter<double>
    {
        public override PropertyType Type => PropertyType.Number;

        protected override double ReadKnown(PropertyValue value, string path, ReadContext context) =>
            Expect(value, PropertyValueKind.Number, "number", path, context) ? value.NumberValue : 0;

        public override ValueTask<PropertyValue> WriteAsync(double value, WriteContext context) => ValueTask.FromResult(PropertyValue.Create(value));
    }

    private abstract class IntegerConverter<T> : PropertyConverter<T>
    {
        public override PropertyType Type => PropertyType.Integer;

        protected abstract double Limit { get; }

        protected abstract T From(double value);

        protected override T ReadKnown(PropertyValue value, string path, ReadContext context)
        {
            if (!Expect(value, PropertyValueKind.Number, "integer", path, context))
            {
                return default!;
            }
            var number = value.NumberValue;
            if (Math.Floor(number) != number || Math.Abs(number) > Limit)
            {
                context.Fail(path, $"expected integer, got {number.ToString(CultureInfo.InvariantCulture)}");
                return default!;
            }
            return From(number);
        }
    }

    private sealed class Int32Converter : IntegerConverter<int>
    {
        protected override double Limit => int.MaxValue;

        protected override int From(double value) => (int)value;

        public override ValueTask<PropertyValue> WriteAsync(int value, WriteContext context) => ValueTask.FromResult(PropertyValue.Create(value));
    }

    private sealed class Int64Converter : IntegerConverter<long>
    {
        // Beyond 2^53 a double no longer holds every integer.
        protected override double Limit => 9007199254740992d;

        protected override long From(double value) => (long)value;

        public override ValueTask<PropertyValue> WriteAsync(long value, WriteContext context) => ValueTask.FromResult(PropertyValue.Create(value));
    }

    private sealed class AnyConverter : PropertyConverter<PropertyValue>
    {
        public override PropertyType Type => PropertyType.Any;

        public override PropertyValue ReadMissing() => null!;

        public override PropertyValue Read(PropertyValue raw, string path, ReadContext context) => raw;

        protected override PropertyValue ReadKnown(PropertyValue value, string path, ReadContext context) => value;

        public override ValueTask<PropertyValue> WriteAsync(PropertyValue value, WriteContext context) => ValueTask.FromResult(value ?? PropertyValue.Null);
    }

    private sealed class NullableConverter<T>(PropertyConverter<T> inner) : PropertyConverter<T?> where T : struct
    {
        public override PropertyType Type => inner.Type;

        public override T? ReadMissing() => null;

        public override T? Read(PropertyValue raw, string path, ReadContext context)
        {
            var value = Unwrap(raw, path, context);
            if (value.Kind == PropertyValueKind.Computed)
            {
                context.NoteUnknown(path);
                return null;
            }
            return value.IsNull ? null : inner.Read(value, path, context);
        }

        protected override T? ReadKnown(PropertyValue value, string path, ReadContext context) => inner.Read(value, path, context);

        public override ValueTask<PropertyValue> WriteAsync(T? value, WriteContext context) =>
            value is { } known ? inner.WriteAsync(known, context) : ValueTask.FromResult(PropertyValue.Null);
    }

    internal static ImmutableArray<T> ReadItems<T>(PropertyConverter<T> element, PropertyValue value, string path, ReadContext context)
    {
        if (!Enter(path, context))
        {
            return [];
        }
        var items = System.Collections.Immutable.ImmutableArray.CreateBuilder<T>(value.ArrayValue.Length);
        var index = 0;
        foreach (var item in value.ArrayValue)
        {
            var itemPath = $"{path}[{index++}]";
            if (item.IsNull)
            {
                context.Fail(itemPath, "a list item cannot be null");
                continue;
            }
            items.Add(element.Read(item, itemPath, context));
        }
        context.Depth--;
        return items.MoveToImmutable();
    }

    internal static ImmutableSortedDictionary<string, T> ReadEntries<T>(PropertyConverter<T> element, PropertyValue value, string path, ReadContext context)
    {
        if (!Enter(path, context))
        {
            return ImmutableSortedDictionary<string, T>.Empty.WithComparers(StringComparer.Ordinal);
        }
        var entries = ImmutableSortedDictionary.CreateBuilder<string, T>(StringComparer.Ordinal);
        foreach (var (key, item) in value.ObjectValue)
        {
            var itemPath = $"{path}[\"{key}\"]";
            if (item.IsNull)
            {
                context.Fail(itemPath, "a map value cannot be null");
                continue;
            }
            entries[key] = element.Read(item, itemPath, context);
        }
        context.Depth--;
        return entries.ToImmutable();
    }

    internal static bool Enter(string path, ReadContext context)
    {
        if (context.Depth >= ReadContext.MaximumDepth)
        {
            context.Fail(path, $"nested more than {ReadContext.MaximumDepth} levels deep");
            return false;
        }
        context.Depth++;
        return true;
    }

    internal static async ValueTask<PropertyValue> WriteItemsAsync<T>(PropertyConverter<T> element, IEnumerable<T> items, WriteContext context)
    {
        var written = new List<PropertyValue>();
        foreach (var item in items)
        {
            written.Add(await element.WriteAsync(item, context).ConfigureAwait(false));
        }
        return PropertyValue.CreateArray(written);
    }

    internal static async ValueTask<PropertyValue> WriteEntriesAsync<T>(PropertyConverter<T> element, IEnumerable<KeyValuePair<string, T>> entries, WriteContext context)
    {
        var written = new List<KeyValuePair<string, PropertyValue>>();
        foreach (var (key, item) in entries)
        {
            written.Add(KeyValuePair.Create(key, await element.WriteAsync(item, context).ConfigureAwait(false)));
        }
        return PropertyValue.CreateObject(written);
    }

    private sealed class ListConverter<T>(PropertyConverter<T> element) : PropertyConverter<IReadOnlyList<T>>
    {
        public override PropertyType Type { get; } = new(PropertyTypeKind.Array, element.Type);

        protected override IReadOnlyList<T> ReadKnown(PropertyValue value, string path, ReadContext context) =>
            Expect(value, PropertyValueKind.Array, "array", path, context) ? ReadItems(element, value, path, context) : null!;

        public override ValueTask<PropertyValue> WriteAsync(IReadOnlyList<T> value, WriteContext context) =>
            value is null ? ValueTask.FromResult(PropertyValue.Null) : WriteItemsAsync(element, value, context);
    }

    private sealed class ImmutableArrayConverter<T>(PropertyConverter<T> element) : PropertyConverter<ImmutableArray<T>>
    {
        public override PropertyType Type { get; } = new(PropertyTypeKind.Array, element.Type);

        protected override ImmutableArray<T> ReadKnown(PropertyValue value, string path, ReadContext context) =>
            Expect(value, PropertyValueKind.Array, "array", path, context) ? ReadItems(element, value, path, context) : default;

        public override ValueTask<PropertyValue> WriteAsync(ImmutableArray<T> value, WriteContext context) =>
            value.IsDefault ? ValueTask.FromResult(PropertyValue.Null) : WriteItemsAsync(element, value, context);
    }

    private sealed class MapConverter<T>(PropertyConverter<T> element) : PropertyConverter<IReadOnlyDictionary<string, T>>
    {
        public override PropertyType Type { get; } = new(PropertyTypeKind.Map, element.Type);

        protected override IReadOnlyDictionary<string, T> ReadKnown(PropertyValue value, string path, ReadContext context) =>
            Expect(value, PropertyValueKind.Object, "object", path, context) ? ReadEntries(element, value, path, context) : null!;

        public override ValueTask<PropertyValue> WriteAsync(IReadOnlyDictionary<string, T> value, WriteContext context) =>
            value is null ? ValueTask.FromResult(PropertyValue.Null) : WriteEntriesAsync(element, value, context);
    }

    private sealed class ModelConverter<T> : PropertyConverter<T> where T : class, IPulumiModel<T>
    {
        public static readonly ModelConverter<T> Instance = new();

        public override PropertyType Type { get; } = new(PropertyTypeKind.Object, Model: T.Shape);

        protected override T ReadKnown(PropertyValue value, string path, ReadContext context)
        {
            if (!Expect(value, PropertyValueKind.Object, "object", path, context) || !Enter(path, context))
            {
                return null!;
            }
            var reader = new ObjectReader(value.ObjectValue, path, context);
            var model = T.Read(reader);
            reader.RejectUnread();
            context.Depth--;
            return model;
        }

        public override async ValueTask<PropertyValue> WriteAsync(T value, WriteContext context)
        {
            if (value is null)
            {
                return PropertyValue.Null;
            }
            var writer = new ObjectWriter(context, topLevel: false);
            await T.WriteAsync(value, writer).ConfigureAwait(false);
            return PropertyValue.CreateObject(writer.ToProperties());
        }
    }

    private sealed class OutputConverter<T>(PropertyConverter<T> inner) : PropertyConverter<Output<T>>
    {
        public override PropertyType Type => inner.Type;

        public override Output<T> ReadMissing() => global::RegistryInfra.Protocol.Model.Output.Create(inner.ReadMissing());

        public override Output<T> Read(PropertyValue raw, string path, ReadContext context)
        {
            context.PushOutput();
            var value = inner.Read(raw, path, context);
            var frame = context.PopOutput();
            return new Output<T>(new OutputData<T>(frame.Unknown ? default! : value, !frame.Unknown, frame.Secret, [.. frame.Resources]));
        }

        protected override Output<T> ReadKnown(PropertyValue value, string path, ReadContext context) => Read(value, path, context);

        public override async ValueTask<PropertyValue> WriteAsync(Output<T> value, WriteContext context)
        {
            if (value is null)
            {
                return PropertyValue.Null;
            }
            var data = await value.GetDataAsync().ConfigureAwait(false);
            context.AddDependencies(data.Resources);
            var written = data.IsKnown ? await inner.WriteAsync(data.Value, context).ConfigureAwait(false) : PropertyValue.Computed;
            // A known null stays null (an absent property), secret or not.
            return data.IsSecret && !written.IsNull ? written.AsSecret() : written;
        }
    }

    private sealed class InputListConverter<T>(PropertyConverter<T> element) : PropertyConverter<InputList<T>>
    {
        private readonly OutputConverter<ImmutableArray<T>> _output = new(new ImmutableArrayConverter<T>(element));

        public override PropertyType Type => _output.Type;

        public override InputList<T> ReadMissing() => global::RegistryInfra.Protocol.Model.InputList.Empty<T>();

        public override InputList<T> Read(PropertyValue raw, string path, ReadContext context)
        {
            var output = _output.Read(raw, path, context);
            // A null list is an empty one: components treat an absent list as empty.
            return new InputList<T>(output.Apply(items => items.IsDefault ? [] : items));
        }

        protected override InputList<T> ReadKnown(PropertyValue value, string path, ReadContext context) => Read(value, path, context);

        public override ValueTask<PropertyValue> WriteAsync(InputList<T> value, WriteContext context) =>
            value is null ? ValueTask.FromResult(PropertyValue.Null) : _output.WriteAsync(value.Items, context);
    }

    private sealed class SortedMapConverter<T>(PropertyConverter<T> element) : PropertyConverter<ImmutableSortedDictionary<string, T>>
    {
        public override PropertyType Type { get; } = new(PropertyTypeKind.Map, element.Type);

        protected override ImmutableSortedDictionary<string, T> ReadKnown(PropertyValue value, string path, ReadContext context) =>
            Expect(value, PropertyValueKind.Object, "object", path, context) ? ReadEntries(element, value, path, context) : null!;

        public override ValueTask<PropertyValue> WriteAsync(ImmutableSortedDictionary<string, T> value, WriteContext context) =>
            value is null ? ValueTask.FromResult(PropertyValue.Null) : WriteEntriesAsync(element, value, context);
    }

    private sealed class InputMapConverter<T>(PropertyConverter<T> element) : PropertyConverter<InputMap<T>>
    {
        private readonly OutputConverter<ImmutableSortedDictionary<string, T>> _output = new(new SortedMapConverter<T>(element));

        public override PropertyType Type => _output.Type;

        public override InputMap<T> ReadMissing() => global::RegistryInfra.Protocol.Model.InputMap.Empty<T>();

        public override InputMap<T> Read(PropertyValue raw, string path, ReadContext context)
        {
            var output = _output.Read(raw, path, context);
            return new InputMap<T>(output.Apply(entries => entries ?? ImmutableSortedDictionary<string, T>.Empty.WithComparers(StringComparer.Ordinal)));
        }

        protected override InputMap<T> ReadKnown(PropertyValue value, string path, ReadContext context) => Read(value, path, context);

        public override ValueTask<PropertyValue> WriteAsync(InputMap<T> value, WriteContext context) =>
            value is null ? ValueTask.FromResult(PropertyValue.Null) : _output.WriteAsync(value.Entries, context);
    }
}

/// <summary>A string enum: each member's wire value, as the generated table states it.</summary>
public sealed class EnumConverter<T> : PropertyConverter<T> where T : struct, Enum
{
    private readonly (T Value, string Wire)[] _members;

    /// <summary>A converter for the members given.</summary>
    public EnumConverter(EnumShape shape, params (T Value, string Wire)[] members)
    {
        ArgumentNullException.ThrowIfNull(shape);
        _members = members;
        Type = new PropertyType(PropertyTypeKind.Enum, Enum: shape);
    }

    /// <inheritdoc/>
    public override PropertyType Type { get; }

    /// <inheritdoc/>
    protected override T ReadKnown(PropertyValue value, string path, ReadContext context)
    {
        if (!Expect(value, PropertyValueKind.String, "string", path, context))
        {
            return default;
        }
        foreach (var (member, wire) in _members)
        {
            if (wire == value.StringValue)
            {
                return member;
            }
        }
        context.Fail(path, $"expected one of {string.Join(", ", _members.Select(m => $"\"{m.Wire}\""))}");
        return default;
    }

    /// <summary>The wire value of <paramref name="value"/>.</summary>
    public string Wire(T value)
    {
        foreach (var (member, wire) in _members)
        {
            if (EqualityComparer<T>.Default.Equals(member, value))
            {
                return wire;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(value), "not a member of the enum's table");
    }

    /// <inheritdoc/>
    public override ValueTask<PropertyValue> WriteAsync(T value, WriteContext context) => ValueTask.FromResult(PropertyValue.Create(Wire(value)));
}
