using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Google.Protobuf.WellKnownTypes;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Monitor;

/// <summary>A resource to register with the engine's ResourceMonitor (a component's child, or the component itself).</summary>
/// <param name="Type">The type token, such as <c>kubernetes:core/v1:Secret</c>.</param>
/// <param name="Name">The logical name; with the type and parent it makes the URN.</param>
public sealed record ResourceRegistration(string Type, string Name)
{
    /// <summary>True for a resource a provider manages; false for a component that only groups children.</summary>
    public bool Custom { get; init; }

    /// <summary>The parent's URN; empty for the stack.</summary>
    public string Parent { get; init; } = "";

    /// <summary>The inputs; secrets and unknowns are kept as such on the wire.</summary>
    public ImmutableSortedDictionary<string, PropertyValue> Inputs { get; init; } = ImmutableSortedDictionary<string, PropertyValue>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>URNs this resource depends on.</summary>
    public ImmutableArray<string> Dependencies { get; init; } = [];

    /// <summary>For each input, the URNs its value came from.</summary>
    public ImmutableDictionary<string, ImmutableArray<string>> PropertyDependencies { get; init; } = ImmutableDictionary<string, ImmutableArray<string>>.Empty;

    /// <summary>The provider reference <c>URN::ID</c>; empty for the default provider of the package.</summary>
    public string Provider { get; init; } = "";

    /// <summary>Provider references by package, passed to a component so its children inherit them.</summary>
    public ImmutableDictionary<string, string> Providers { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The version of the resource's package, when known.</summary>
    public string Version { get; init; } = "";

    /// <summary>Input paths whose changes the engine ignores on diff.</summary>
    public ImmutableArray<string> IgnoreChanges { get; init; } = [];

    /// <summary>Outputs the engine keeps secret whatever the provider returns.</summary>
    public ImmutableArray<string> AdditionalSecretOutputs { get; init; } = [];

    /// <summary>Input paths whose change forces a replacement.</summary>
    public ImmutableArray<string> ReplaceOnChanges { get; init; } = [];

    /// <summary>Delete the old resource before creating its replacement.</summary>
    public bool DeleteBeforeReplace { get; init; }

    /// <summary>
    /// What this resource was known as before (renames, re-parenting): full URNs or specs. Specs are sent
    /// only to an engine with the <c>aliasSpecs</c> feature, which then also carries a parent's aliases over
    /// to its children; an older engine gets the URN aliases alone.
    /// </summary>
    public ImmutableArray<RegistryInfra.Protocol.Hosting.ResourceAlias> Aliases { get; init; } = [];

    /// <summary>Protect the resource from deletion; null leaves the engine's default.</summary>
    public bool? Protect { get; init; }
}

/// <summary>
/// The engine's answer to a registration: URN, ID, outputs (unknown during preview when not yet known). Outputs
/// answered over the wire are decoded when read, one key at a time (<see cref="TryGetOutput"/>), so outputs no
/// component reads cost nothing; a malformed value is reported when it is read.
/// </summary>
public sealed record RegisteredResource
{
    private readonly Struct? _wire;
    // The body of the answer's google.protobuf.Struct as it came over the wire (its map entries), when not parsed.
    private readonly byte[]? _bytes;
    private ImmutableSortedDictionary<string, PropertyValue>? _outputs;

    /// <summary>An answer with decoded outputs.</summary>
    public RegisteredResource(string urn, string id, ImmutableSortedDictionary<string, PropertyValue> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        Urn = urn;
        Id = id;
        _outputs = outputs;
    }

    /// <summary>An answer whose outputs are the engine's <paramref name="wire"/> Struct, decoded when read.</summary>
    public RegisteredResource(string urn, string id, Struct? wire)
    {
        Urn = urn;
        Id = id;
        _wire = wire;
        if (wire is null)
        {
            _outputs = ImmutableSortedDictionary<string, PropertyValue>.Empty.WithComparers(StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// An answer whose outputs are the encoded body of the engine's Struct (<paramref name="wire"/>: its map entries, as
    /// <c>Struct.ToByteArray()</c> gives them), kept as bytes: an output is found by its key and only its value is parsed.
    /// </summary>
    internal RegisteredResource(string urn, string id, byte[]? wire)
    {
        Urn = urn;
        Id = id;
        _bytes = wire;
        if (wire is null || wire.Length == 0)
        {
            _outputs = ImmutableSortedDictionary<string, PropertyValue>.Empty.WithComparers(StringComparer.Ordinal);
        }
    }

    /// <summary>The resource's URN.</summary>
    public string Urn { get; init; }

    /// <summary>The resource's ID; empty for a component, and in preview for a resource not yet created.</summary>
    public string Id { get; init; }

    /// <summary>Every output, decoded.</summary>
    /// <exception cref="FormatException">An output is malformed; the message names the property path.</exception>
    public ImmutableSortedDictionary<string, PropertyValue> Outputs => _outputs ??= PropertyValueSerializer.Deserialize(_wire ?? Parse(_bytes!));

    /// <summary>The output <paramref name="key"/>, decoded alone; false when the answer has no such output.</summary>
    /// <exception cref="FormatException">The output is malformed; the message names the property path.</exception>
    public bool TryGetOutput(string key, [MaybeNullWhen(false)] out PropertyValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_outputs is { } outputs)
        {
            return outputs.TryGetValue(key, out value);
        }
        if (_wire is not null)
        {
            return PropertyValueSerializer.TryDeserializeField(_wire, key, out value);
        }
        switch (WireStruct.Find(_bytes!, key, out var found))
        {
            case WireStruct.Lookup.Missing:
                value = null;
                return false;
            case WireStruct.Lookup.Found:
                // The one entry alone, decoded as the whole map would decode it (the path of an error starts at the key).
                var one = new Struct();
                one.Fields[key] = found!;
                return PropertyValueSerializer.TryDeserializeField(one, key, out value);
            default:
                // An entry laid out otherwise than Google.Protobuf writes it (fields out of order, unknown fields): the map parsed whole.
                return PropertyValueSerializer.TryDeserializeField(Parse(_bytes!), key, out value);
        }
    }

    private static Struct Parse(byte[] bytes) => Struct.Parser.ParseFrom(bytes);

    /// <summary>For each output, the URNs it depends on.</summary>
    public ImmutableDictionary<string, ImmutableArray<string>> PropertyDependencies { get; init; } = ImmutableDictionary<string, ImmutableArray<string>>.Empty;
}

/// <summary>
/// Finds one entry of an encoded <c>google.protobuf.Struct</c> (<c>map&lt;string, Value&gt; fields = 1</c>: each entry a
/// message of key = 1, value = 2) without parsing the others. As Google.Protobuf parses a map, a key given twice keeps its
/// last value.
/// </summary>
internal static class WireStruct
{
    public enum Lookup
    {
        Missing,
        Found,
        // An entry the scan does not read itself (not key then value, or a wire type a map entry never has): parse the whole map.
        Unusual,
    }

    public static Lookup Find(ReadOnlySpan<byte> body, string key, out Value? value)
    {
        var keyBytes = StructWireWriter.Utf8.GetByteCount(key);
        Span<byte> wanted = keyBytes <= 256 ? stackalloc byte[keyBytes] : new byte[keyBytes];
        StructWireWriter.Utf8.GetBytes(key, wanted);
        value = null;
        var found = -1;
        var foundLength = 0;
        var at = 0;
        while (at < body.Length)
        {
            if (body[at++] != 0x0A || !TryLength(body, ref at, out var entryLength))
            {
                return Lookup.Unusual;
            }
            var entry = body.Slice(at, entryLength);
            at += entryLength;
            var e = 0;
            var entryKey = ReadOnlySpan<byte>.Empty;
            if (e < entry.Length && entry[e] == 0x0A)
            {
                e++;
                if (!TryLength(entry, ref e, out var length))
                {
                    return Lookup.Unusual;
                }
                entryKey = entry.Slice(e, length);
                e += length;
            }
            if (e >= entry.Length || entry[e++] != 0x12 || !TryLength(entry, ref e, out var valueLength) || e + valueLength != entry.Length)
            {
                return Lookup.Unusual;
            }
            if (entryKey.SequenceEqual(wanted))
            {
                found = at - entryLength + e;
                foundLength = valueLength;
            }
        }
        if (found < 0)
        {
            return Lookup.Missing;
        }
        value = Value.Parser.ParseFrom(body.Slice(found, foundLength).ToArray());
        return Lookup.Found;
    }

    // A length varint (at most 5 bytes) that fits in what is left of the span.
    private static bool TryLength(ReadOnlySpan<byte> bytes, ref int at, out int length)
    {
        length = 0;
        var value = 0u;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (at >= bytes.Length)
            {
                return false;
            }
            var b = bytes[at++];
            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                if (value > (uint)(bytes.Length - at))
                {
                    return false;
                }
                length = (int)value;
                return true;
            }
        }
        return false;
    }
}
