using CsCheck;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Tests.Values;

/// <summary>Generators of nested property values with secrets, unknowns, references and outputs at any depth.</summary>
internal static class PropertyValueGen
{
    private static readonly Gen<string> Key = Gen.OneOf(Gen.String[0, 8], Gen.Int[0, 5].Select(i => new[] { "a", "b", "value", "secret", "urn", "id" }[i]));

    private static readonly Gen<PropertyValue> Leaf = Gen.OneOf(
        Gen.Const(PropertyValue.Null),
        Gen.Bool.Select(PropertyValue.Create),
        Gen.Double.Select(PropertyValue.Create),
        Gen.String.Select(s => PropertyValue.Create(s)),
        Gen.Int[0, 3].Select(i => new[] { UnknownValues.String, UnknownValues.Bool, UnknownValues.Number, UnknownValues.Object }[i]).Select(PropertyValue.CreateComputed),
        Gen.Select(Gen.String[1, 20], Gen.OneOf(Gen.Const((string?)null), Gen.String[0, 5].Select(s => (string?)s)), Gen.OneOf(Gen.Const((string?)null), Gen.Const((string?)"1.2.3")))
            .Select((urn, id, version) => PropertyValue.CreateReference(new ResourceReference("urn:pulumi:s::p::t::" + urn, id, version))),
        Gen.String[0, 10].Select(text => PropertyValue.CreateAsset([KeyValuePair.Create("text", PropertyValue.Create(text))])));

    public static readonly Gen<PropertyValue> Value = Gen.Recursive<PropertyValue>((depth, self) =>
        depth >= 4
            ? Leaf
            : Gen.Frequency(
                (4, Leaf),
                (1, self.Array[0, 4].Select(items => PropertyValue.CreateArray(items))),
                (1, Gen.Dictionary(Key, self)[0, 4].Select(map => PropertyValue.CreateObject(map))),
                (1, self.Select(PropertyValue.CreateSecret)),
                (1, Gen.Select(self.Null(), Gen.Bool, Gen.String[1, 10].Array[0, 2])
                    .Select((value, secret, deps) => PropertyValue.CreateOutput(new OutputReference(value, secret, deps))))));

    public static readonly Gen<Dictionary<string, PropertyValue>> Map = Gen.Dictionary(Key, Value)[0, 6];
}
