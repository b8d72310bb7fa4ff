using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace RegistryInfra.Protocol.Values;

/// <summary>
/// Encodes a property map straight into the wire bytes of the <c>google.protobuf.Struct</c> that
/// <see cref="PropertyValueSerializer.Serialize(IEnumerable{KeyValuePair{string, PropertyValue}})"/> would build, byte for
/// byte, without building the Struct. Google.Protobuf's C# writer computes a nested message's size again each time it writes
/// the message's length prefix, so a value nested d levels deep is measured d times; here every length is measured once,
/// bottom-up, in a first pass (kept in order in a pooled array) and the second pass writes front to back, reading them back
/// in the same order. The wire format is that of google/protobuf's struct.proto (Struct = map&lt;string, Value&gt; fields = 1;
/// Value: null_value = 1, number_value = 2, string_value = 3, bool_value = 4, struct_value = 5, list_value = 6;
/// ListValue: repeated Value values = 1) with map entries as Google.Protobuf writes them (a key equal to "" left out,
/// the value always written).
/// </summary>
internal sealed class StructWireWriter
{
    private int[] _lengths = ArrayPool<int>.Shared.Rent(64);
    private int _count;
    private int _next;
    // Values built by the first pass (signature objects, assets) that the second pass writes: built once.
    private readonly List<object> _built = [];
    private int _nextBuilt;

    internal static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Measures <paramref name="properties"/>: the length of the Struct's encoding (without a tag or length prefix).</summary>
    public int Measure(ImmutableSortedDictionary<string, PropertyValue> properties)
    {
        _count = 0;
        _next = 0;
        _built.Clear();
        _nextBuilt = 0;
        return MeasureFields(properties);
    }

    /// <summary>Writes the Struct measured last into <paramref name="destination"/>, which is exactly as long as measured.</summary>
    public void Write(ImmutableSortedDictionary<string, PropertyValue> properties, Span<byte> destination)
    {
        var written = WriteFields(properties, destination);
        if (written != destination.Length || _next != _count)
        {
            throw new InvalidOperationException("the Struct encoding did not match its measured length");
        }
    }

    /// <summary>Gives the pooled array back.</summary>
    public void Release()
    {
        ArrayPool<int>.Shared.Return(_lengths);
        _lengths = [];
        _built.Clear();
    }

    private int Reserve()
    {
        if (_count == _lengths.Length)
        {
            var larger = ArrayPool<int>.Shared.Rent(_lengths.Length * 2);
            _lengths.AsSpan().CopyTo(larger);
            ArrayPool<int>.Shared.Return(_lengths);
            _lengths = larger;
        }
        return _count++;
    }

    private int Next() => _lengths[_next++];

    internal static int VarintLength(uint value) => value < 1u << 7 ? 1 : value < 1u << 14 ? 2 : value < 1u << 21 ? 3 : value < 1u << 28 ? 4 : 5;

    internal static int WriteVarint(Span<byte> destination, uint value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    private static int Delimited(int length) => 1 + VarintLength((uint)length) + length;

    // Struct body: one entry per field (tag 1, length-delimited), each entry its key (tag 1, left out when "") and value (tag 2).
    private int MeasureFields(IEnumerable<KeyValuePair<string, PropertyValue>> fields)
    {
        var total = 0;
        foreach (var (key, value) in fields)
        {
            var entrySlot = Reserve();
            var keySlot = Reserve();
            var keyBytes = Utf8.GetByteCount(key);
            _lengths[keySlot] = keyBytes;
            var valueSlot = Reserve();
            var valueLength = MeasureValue(value);
            _lengths[valueSlot] = valueLength;
            var entry = (keyBytes == 0 ? 0 : Delimited(keyBytes)) + Delimited(valueLength);
            _lengths[entrySlot] = entry;
            total += Delimited(entry);
        }
        return total;
    }

    private int WriteFields(IEnumerable<KeyValuePair<string, PropertyValue>> fields, Span<byte> destination)
    {
        var at = 0;
        foreach (var (key, value) in fields)
        {
            var entry = Next();
            var keyBytes = Next();
            var valueLength = Next();
            destination[at++] = 0x0A;
            at += WriteVarint(destination[at..], (uint)entry);
            if (keyBytes != 0)
            {
                destination[at++] = 0x0A;
                at += WriteVarint(destination[at..], (uint)keyBytes);
                at += Utf8.GetBytes(key, destination.Slice(at, keyBytes));
            }
            destination[at++] = 0x12;
            at += WriteVarint(destination[at..], (uint)valueLength);
            var written = WriteValue(value, destination.Slice(at, valueLength));
            if (written != valueLength)
            {
                throw new InvalidOperationException("a Value's encoding did not match its measured length");
            }
            at += written;
        }
        return at;
    }

    // The length of a Value's encoding, as PropertyValueSerializer.Serialize(PropertyValue) builds it.
    private int MeasureValue(PropertyValue value)
    {
        switch (value.Kind)
        {
            case PropertyValueKind.Null:
            case PropertyValueKind.Bool:
                return 2;
            case PropertyValueKind.Number:
                return 9;
            case PropertyValueKind.String:
                return MeasureString(value.StringValue);
            case PropertyValueKind.Computed:
                return MeasureString(value.UnknownSentinel ?? UnknownValues.String);
            case PropertyValueKind.Array:
                {
                    var slot = Reserve();
                    var items = value.ArrayValue;
                    var body = 0;
                    foreach (var item in items)
                    {
                        var itemSlot = Reserve();
                        var length = MeasureValue(item);
                        _lengths[itemSlot] = length;
                        body += Delimited(length);
                    }
                    _lengths[slot] = body;
                    return Delimited(body);
                }
            case PropertyValueKind.Object:
                return MeasureStruct(value.ObjectValue);
            case PropertyValueKind.Secret:
                return MeasureStruct(Built([Signed(Signatures.Secret), KeyValuePair.Create("value", value.SecretValue)]));
            case PropertyValueKind.ResourceReference:
                {
                    var reference = value.ReferenceValue;
                    var fields = new List<KeyValuePair<string, PropertyValue>>(6) { Signed(Signatures.ResourceReference), Text("urn", reference.Urn) };
                    if (reference.Id is not null)
                    {
                        fields.Add(Text("id", reference.Id));
                    }
                    if (reference.PackageVersion is not null)
                    {
                        fields.Add(Text("packageVersion", reference.PackageVersion));
                    }
                    if (reference.Name is not null)
                    {
                        fields.Add(Text("name", reference.Name));
                    }
                    if (reference.Type is not null)
                    {
                        fields.Add(Text("type", reference.Type));
                    }
                    return MeasureStruct(Built([.. fields]));
                }
            case PropertyValueKind.Output:
                {
                    var output = value.OutputValue;
                    var fields = new List<KeyValuePair<string, PropertyValue>>(4) { Signed(Signatures.OutputValue) };
                    if (output.Value is not null)
                    {
                        fields.Add(KeyValuePair.Create("value", output.Value));
                    }
                    if (output.IsSecret)
                    {
                        fields.Add(KeyValuePair.Create("secret", PropertyValue.Create(true)));
                    }
                    if (output.Dependencies.Length > 0)
                    {
                        var dependencies = new PropertyValue[output.Dependencies.Length];
                        for (var i = 0; i < dependencies.Length; i++)
                        {
                            dependencies[i] = PropertyValue.Create(output.Dependencies[i]);
                        }
                        fields.Add(KeyValuePair.Create("dependencies", PropertyValue.CreateArray(dependencies)));
                    }
                    return MeasureStruct(Built([.. fields]));
                }
            case PropertyValueKind.Asset:
            case PropertyValueKind.Archive:
                {
                    // Rare in registrations: the Value the serializer builds (its signature key after the fields), measured by Google.Protobuf.
                    var built = PropertyValueSerializer.Serialize(value);
                    _built.Add(built);
                    return built.CalculateSize();
                }
            default:
                throw new InvalidOperationException($"cannot encode a {value.Kind} value");
        }
    }

    private int WriteValue(PropertyValue value, Span<byte> destination)
    {
        switch (value.Kind)
        {
            case PropertyValueKind.Null:
                destination[0] = 0x08;
                destination[1] = 0;
                return 2;
            case PropertyValueKind.Bool:
                destination[0] = 0x20;
                destination[1] = value.BoolValue ? (byte)1 : (byte)0;
                return 2;
            case PropertyValueKind.Number:
                destination[0] = 0x11;
                BinaryPrimitives.WriteDoubleLittleEndian(destination[1..], value.NumberValue);
                return 9;
            case PropertyValueKind.String:
                return WriteString(value.StringValue, destination);
            case PropertyValueKind.Computed:
                return WriteString(value.UnknownSentinel ?? UnknownValues.String, destination);
            case PropertyValueKind.Array:
                {
                    var body = Next();
                    destination[0] = 0x32;
                    var at = 1 + WriteVarint(destination[1..], (uint)body);
                    foreach (var item in value.ArrayValue)
                    {
                        var length = Next();
                        destination[at++] = 0x0A;
                        at += WriteVarint(destination[at..], (uint)length);
                        at += WriteValue(item, destination.Slice(at, length));
                    }
                    return at;
                }
            case PropertyValueKind.Object:
                return WriteStruct(value.ObjectValue, destination);
            case PropertyValueKind.Secret:
            case PropertyValueKind.ResourceReference:
            case PropertyValueKind.Output:
                return WriteStruct((KeyValuePair<string, PropertyValue>[])_built[_nextBuilt++], destination);
            case PropertyValueKind.Asset:
            case PropertyValueKind.Archive:
                {
                    var built = (Value)_built[_nextBuilt++];
                    var length = built.CalculateSize();
                    built.WriteTo(destination[..length]);
                    return length;
                }
            default:
                throw new InvalidOperationException($"cannot encode a {value.Kind} value");
        }
    }

    // A Value holding a Struct: tag 5, the Struct's length, its body.
    private int MeasureStruct(IEnumerable<KeyValuePair<string, PropertyValue>> fields)
    {
        var slot = Reserve();
        var body = MeasureFields(fields);
        _lengths[slot] = body;
        return Delimited(body);
    }

    private int WriteStruct(IEnumerable<KeyValuePair<string, PropertyValue>> fields, Span<byte> destination)
    {
        var body = Next();
        destination[0] = 0x2A;
        var at = 1 + WriteVarint(destination[1..], (uint)body);
        return at + WriteFields(fields, destination.Slice(at, body));
    }

    private int MeasureString(string text)
    {
        var slot = Reserve();
        var bytes = Utf8.GetByteCount(text);
        _lengths[slot] = bytes;
        return Delimited(bytes);
    }

    private int WriteString(string text, Span<byte> destination)
    {
        var bytes = Next();
        destination[0] = 0x1A;
        var at = 1 + WriteVarint(destination[1..], (uint)bytes);
        return at + Utf8.GetBytes(text, destination.Slice(at, bytes));
    }

    private KeyValuePair<string, PropertyValue>[] Built(KeyValuePair<string, PropertyValue>[] fields)
    {
        _built.Add(fields);
        return fields;
    }

    private static KeyValuePair<string, PropertyValue> Signed(string signature) => KeyValuePair.Create(Signatures.Key, PropertyValue.Create(signature));

    private static KeyValuePair<string, PropertyValue> Text(string key, string text) => KeyValuePair.Create(key, PropertyValue.Create(text));
}
