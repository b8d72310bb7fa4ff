using System.Collections.Immutable;
using CsCheck;
using Google.Protobuf.WellKnownTypes;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Tests.Values;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Protocol.Tests.Monitor;

public sealed class RegisteredResourceTests
{
    [Fact]
    public void Each_output_read_alone_is_what_decoding_them_all_gives()
    {
        PropertyValueGen.Map.Sample(map =>
        {
            var wire = PropertyValueSerializer.Serialize(map);
            var lazy = new RegisteredResource("urn", "id", wire);
            var all = PropertyValueSerializer.Deserialize(wire);
            foreach (var (key, value) in all)
            {
                Assert.True(lazy.TryGetOutput(key, out var alone));
                Assert.Equal(value, alone);
            }
            Assert.False(lazy.TryGetOutput("not-an-output", out _));
            Assert.Equal(all, lazy.Outputs);
        });
    }

    [Fact]
    public void A_malformed_output_fails_only_when_it_is_read()
    {
        var wire = new Struct();
        wire.Fields["good"] = Value.ForString("text");
        var secret = new Struct();
        secret.Fields[Signatures.Key] = Value.ForString(Signatures.Secret);
        wire.Fields["bad"] = Value.ForStruct(secret);
        var registered = new RegisteredResource("urn", "id", wire);

        Assert.True(registered.TryGetOutput("good", out var good));
        Assert.Equal(PropertyValue.Create("text"), good);
        var error = Assert.Throws<FormatException>(() => registered.TryGetOutput("bad", out _));
        Assert.Contains("bad", error.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => registered.Outputs);
    }

    [Fact]
    public void No_wire_outputs_is_no_outputs()
    {
        var registered = new RegisteredResource("urn", "", (Struct?)null);
        Assert.Empty(registered.Outputs);
        Assert.False(registered.TryGetOutput("id", out _));
    }

    [Fact]
    public void An_ordinal_map_becomes_an_object_as_it_is_and_a_null_value_is_still_refused()
    {
        var map = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("b", PropertyValue.Create(1.0)), KeyValuePair.Create("a", PropertyValue.Create("x"))]);
        Assert.Same(map, PropertyValue.CreateObject(map).ObjectValue);
        var withNull = map.SetItem("c", null!);
        Assert.Throws<ArgumentNullException>(() => PropertyValue.CreateObject(withNull));
        var otherOrder = ImmutableSortedDictionary.CreateRange(StringComparer.OrdinalIgnoreCase, map);
        Assert.Equal(PropertyValue.CreateObject(map), PropertyValue.CreateObject(otherOrder));
        Assert.Same(StringComparer.Ordinal, PropertyValue.CreateObject(otherOrder).ObjectValue.KeyComparer);
    }

    [Fact]
    public async Task Clients_of_one_endpoint_share_a_channel_that_outlives_each_of_them()
    {
        await using var monitor = await FakeResourceMonitor.StartAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 3; i++)
        {
            using var client = ResourceMonitorClient.Connect(monitor.Endpoint);
            var registered = await client.RegisterResourceAsync(new ResourceRegistration("test:index:Thing", $"thing-{i}")
            {
                Custom = true,
                Inputs = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("size", PropertyValue.Create(i))]),
            }, TestContext.Current.CancellationToken);
            Assert.Equal(FakeResourceMonitor.UrnOf("test:index:Thing", $"thing-{i}"), registered.Urn);
            Assert.True(registered.TryGetOutput("size", out var size));
            Assert.Equal(PropertyValue.Create(i), size);
        }
        Assert.Equal(3, monitor.Registrations.Count);
    }
}
