using CsCheck;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Tests.Values;

public sealed class PropertyValueSerializerTests
{
    [Fact]
    public void Any_value_round_trips_through_the_wire_exactly()
    {
        PropertyValueGen.Value.Sample(value =>
        {
            var wire = PropertyValueSerializer.Serialize(value);
            var back = PropertyValueSerializer.Deserialize(wire);
            Assert.Equal(value, back);
            Assert.Equal(value.GetHashCode(), back.GetHashCode());
            // Read-then-write is byte-identical on the wire.
            var again = PropertyValueSerializer.Serialize(back);
            Assert.Equal(wire, again);
            Assert.Equal(wire.ToByteArray(), Value.Parser.ParseFrom(again.ToByteArray()).ToByteArray());
        }, iter: 2000);
    }

    [Fact]
    public void Any_property_map_round_trips_through_a_struct()
    {
        PropertyValueGen.Map.Sample(map =>
        {
            var wire = PropertyValueSerializer.Serialize(map);
            var back = PropertyValueSerializer.Deserialize(wire);
            Assert.Equal(PropertyValue.CreateObject(map), PropertyValue.CreateObject(back));
            Assert.Equal(wire, PropertyValueSerializer.Serialize(back));
        }, iter: 1000);
    }

    [Fact]
    public void Equal_values_have_equal_hashes_and_unequal_values_mostly_differ()
    {
        Gen.Select(PropertyValueGen.Value, PropertyValueGen.Value).Sample((a, b) =>
        {
            var copy = PropertyValueSerializer.Deserialize(PropertyValueSerializer.Serialize(a));
            Assert.True(a.Equals(copy) && copy.Equals(a));
            Assert.Equal(a.GetHashCode(), copy.GetHashCode());
            Assert.Equal(a.Equals(b), b.Equals(a));
            if (a.Equals(b))
            {
                Assert.Equal(a.GetHashCode(), b.GetHashCode());
            }
        }, iter: 2000);
    }

    [Fact]
    public void Secret_is_encoded_with_the_secret_signature()
    {
        var wire = PropertyValueSerializer.Serialize(PropertyValue.CreateSecret(PropertyValue.Create("hunter2")));

        var fields = wire.StructValue.Fields;
        Assert.Equal("4dabf18193072939515e22adb298388d", Signatures.Key);
        Assert.Equal("1b47061264138c4ac30d75fd1eb44270", fields[Signatures.Key].StringValue);
        Assert.Equal("hunter2", fields["value"].StringValue);
    }

    [Fact]
    public void Unknown_sentinel_string_reads_as_computed_and_is_written_back_as_itself()
    {
        var value = PropertyValueSerializer.Deserialize(Value.ForString("04da6b54-80e4-46f7-96ec-b56ff0331ba9"));
        Assert.Equal(PropertyValueKind.Computed, value.Kind);
        Assert.Equal(PropertyValue.Computed, value);

        var boolUnknown = PropertyValueSerializer.Deserialize(Value.ForString(UnknownValues.Bool));
        Assert.Equal(PropertyValue.Computed, boolUnknown);
        Assert.Equal(UnknownValues.Bool, PropertyValueSerializer.Serialize(boolUnknown).StringValue);
    }

    [Fact]
    public void Output_value_keeps_dependencies_secretness_and_unknownness()
    {
        var output = PropertyValue.CreateOutput(new OutputReference(null, isSecret: true, ["urn:a", "urn:b"]));
        var fields = PropertyValueSerializer.Serialize(output).StructValue.Fields;

        Assert.Equal("d0e6a833031e9bbcd3f4e8bde6ca49a4", fields[Signatures.Key].StringValue);
        Assert.False(fields.ContainsKey("value"));
        Assert.True(fields["secret"].BoolValue);
        Assert.Equal(["urn:a", "urn:b"], fields["dependencies"].ListValue.Values.Select(v => v.StringValue));
        var back = PropertyValueSerializer.Deserialize(Value.ForStruct(new Struct { Fields = { fields } }));
        Assert.True(back.IsComputed);
        Assert.True(back.IsSecret);
    }

    [Fact]
    public void Resource_reference_uses_its_signature_and_optional_id()
    {
        var component = PropertyValue.CreateReference(new ResourceReference("urn:pulumi:dev::p::my:mod:Comp::c"));
        var fields = PropertyValueSerializer.Serialize(component).StructValue.Fields;
        Assert.Equal("5cf8f73096256a8f31e491e813e4eb8e", fields[Signatures.Key].StringValue);
        Assert.False(fields.ContainsKey("id"));
    }

    [Fact]
    public void Assets_and_archives_are_preserved_opaquely()
    {
        var asset = new Struct();
        asset.Fields[Signatures.Key] = Value.ForString(Signatures.Asset);
        asset.Fields["path"] = Value.ForString("./file.txt");
        asset.Fields["hash"] = Value.ForString("abc");
        var archive = new Struct();
        archive.Fields[Signatures.Key] = Value.ForString(Signatures.Archive);
        archive.Fields["assets"] = Value.ForStruct(new Struct { Fields = { ["a"] = Value.ForStruct(asset) } });

        foreach (var wire in new[] { Value.ForStruct(asset), Value.ForStruct(archive) })
        {
            var value = PropertyValueSerializer.Deserialize(wire);
            Assert.Contains(value.Kind, new[] { PropertyValueKind.Asset, PropertyValueKind.Archive });
            Assert.Equal(wire, PropertyValueSerializer.Serialize(value));
        }
    }

    [Fact]
    public void Malformed_signature_objects_fail_naming_the_property_path()
    {
        var secretWithoutValue = new Struct { Fields = { [Signatures.Key] = Value.ForString(Signatures.Secret) } };
        var map = new Struct { Fields = { ["images"] = Value.ForList(Value.ForString("x"), Value.ForStruct(secretWithoutValue)) } };

        var error = Assert.Throws<FormatException>(() => PropertyValueSerializer.Deserialize(map));
        Assert.Contains("images[1]", error.Message, StringComparison.Ordinal);
        Assert.Contains("missing 'value'", error.Message, StringComparison.Ordinal);

        var unknownSignature = new Struct { Fields = { [Signatures.Key] = Value.ForString("nope") } };
        Assert.Throws<FormatException>(() => PropertyValueSerializer.Deserialize(Value.ForStruct(unknownSignature)));
    }

    [Fact]
    public void ToString_never_reveals_a_secret_at_any_depth()
    {
        PropertyValueGen.Value.Sample(value =>
        {
            const string Canary = "s3cr3t-canary-value";
            var secret = PropertyValue.CreateSecret(PropertyValue.Create(Canary));
            var nested = PropertyValue.CreateObject(("a", PropertyValue.CreateArray(value, secret)),
                ("o", PropertyValue.CreateOutput(new OutputReference(PropertyValue.Create(Canary), isSecret: true))));
            Assert.DoesNotContain(Canary, nested.ToString(), StringComparison.Ordinal);
            Assert.True(nested.ContainsSecrets());
        }, iter: 200);
    }

    [Fact]
    public void Object_equality_ignores_construction_order()
    {
        var a = PropertyValue.CreateObject(("x", PropertyValue.Create(1)), ("y", PropertyValue.Create("b")));
        var b = PropertyValue.CreateObject(("y", PropertyValue.Create("b")), ("x", PropertyValue.Create(1)));
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, PropertyValue.CreateObject(("x", PropertyValue.Create(2))));
    }
}
