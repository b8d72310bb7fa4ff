using System.Collections.Immutable;
using CsCheck;
using Google.Protobuf;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Tests.Values;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Tests.Monitor;

/// <summary>
/// The monitor client writes RegisterResourceRequest itself (the inputs straight from the property map); the engine must
/// receive the very bytes the generated message would have sent.
/// </summary>
public sealed class RegistrationEncodingTests
{
    private static readonly Gen<string> Text = Gen.OneOf(Gen.String[0, 12], Gen.Const(""), Gen.Const("ünïcødé ☃ 𝄞"), Gen.Int[120, 20_000].Select(n => new string('x', n)));

    private static readonly Gen<ResourceRegistration> Registration =
        Gen.Select(Text, Text, Text, Gen.Bool, PropertyValueGen.Map, Gen.String[1, 10].Array[0, 3], Gen.Int[0, 2].Select(i => i == 0 ? (bool?)null : i == 1))
            .Select((type, name, parent, custom, inputs, dependencies, protect) => new ResourceRegistration(type, name)
            {
                Parent = parent,
                Custom = custom,
                Inputs = inputs.ToImmutableSortedDictionary(StringComparer.Ordinal),
                Dependencies = [.. dependencies],
                PropertyDependencies = dependencies.Length == 0
                    ? ImmutableDictionary<string, ImmutableArray<string>>.Empty
                    : ImmutableDictionary<string, ImmutableArray<string>>.Empty.Add("a", [.. dependencies]),
                Protect = protect,
                Provider = custom ? "urn:pulumi:s::p::pulumi:providers:kubernetes::k8s::id" : "",
                Version = custom ? "4.18.0" : "",
                IgnoreChanges = custom ? ["data"] : [],
                AdditionalSecretOutputs = custom ? ["data"] : [],
                DeleteBeforeReplace = custom,
                Aliases = protect is true ? [new ResourceAlias("urn:pulumi:s::p::t::old", null, null, null, null, null, false), new ResourceAlias(null, "old", "t", "s", "p", "urn:pulumi:s::p::c::parent", false)] : [],
            });

    [Fact]
    public void Any_registration_is_sent_as_the_bytes_of_the_generated_message()
    {
        Registration.Sample(registration =>
        {
            byte[] expected;
            try
            {
                expected = ResourceMonitorClient.Request(registration).ToByteArray();
            }
            catch (ArgumentException)
            {
                // A string that is not valid UTF-16 (a lone surrogate): Google.Protobuf refuses it, and so must the client.
                Assert.ThrowsAny<ArgumentException>(() => ResourceMonitorClient.Encode(registration));
                return;
            }
            Assert.Equal(expected, ResourceMonitorClient.Encode(registration));
        }, iter: 2000);
    }

    [Fact]
    public void Deep_and_wide_inputs_are_sent_as_the_bytes_of_the_generated_message()
    {
        // Lengths past one and two varint bytes at every level, and an empty key (Google.Protobuf leaves it out of the entry).
        var leaf = PropertyValue.CreateObject(("", PropertyValue.Create("empty key")), ("data", PropertyValue.Create(new string('d', 300))));
        var value = leaf;
        for (var depth = 0; depth < 8; depth++)
        {
            value = PropertyValue.CreateObject(
                ("items", PropertyValue.CreateArray(Enumerable.Range(0, 3).Select(i => i == 1 ? PropertyValue.CreateSecret(value) : value))),
                ("n", PropertyValue.Create(depth + 0.5)),
                ("b", PropertyValue.Create(depth % 2 == 0)),
                ("null", PropertyValue.Null),
                ("unknown", PropertyValue.Computed));
            if (depth == 5)
            {
                // Past 16 KiB below this level: three-byte lengths from here up.
                value = PropertyValue.CreateOutput(new OutputReference(value, true, ["urn:pulumi:s::p::t::a", "urn:pulumi:s::p::t::b"]));
            }
        }
        var registration = new ResourceRegistration("kubernetes:core/v1:Secret", "s") { Custom = true, Inputs = ImmutableSortedDictionary.Create<string, PropertyValue>(StringComparer.Ordinal).Add("spec", value) };
        var expected = ResourceMonitorClient.Request(registration).ToByteArray();
        Assert.True(expected.Length > 1 << 20, $"the request is {expected.Length} bytes");
        Assert.Equal(expected, ResourceMonitorClient.Encode(registration));
    }
}
