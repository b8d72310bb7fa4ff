using System.Collections.Immutable;
using CsCheck;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Pulumirpc;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Tests.Values;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Protocol.Tests.Monitor;

/// <summary>
/// The monitor client's own wire code beside RegisterResourceRequest (<see cref="RegistrationEncodingTests"/>): the
/// RegisterResourceOutputsRequest it writes must be the generated message's bytes, and the RegisterResourceResponse it reads
/// (its outputs kept as bytes, one decoded when read) must mean what the generated parser makes of the same bytes.
/// </summary>
public sealed class MonitorWireTests
{
    private static readonly Gen<string> Text = Gen.OneOf(Gen.String[0, 12], Gen.Const(""), Gen.Const("ünïcødé ☃ 𝄞"), Gen.Int[120, 20_000].Select(n => new string('x', n)));

    [Fact]
    public void Any_outputs_request_is_sent_as_the_bytes_of_the_generated_message()
    {
        Gen.Select(Text, PropertyValueGen.Map).Sample((urn, map) =>
        {
            var outputs = map.ToImmutableSortedDictionary(StringComparer.Ordinal);
            byte[] expected;
            try
            {
                expected = ResourceMonitorClient.OutputsRequest(urn, outputs).ToByteArray();
            }
            catch (ArgumentException)
            {
                // Not valid UTF-16 (a lone surrogate): Google.Protobuf refuses it, and so must the client.
                Assert.ThrowsAny<ArgumentException>(() => ResourceMonitorClient.EncodeOutputs(urn, outputs));
                return;
            }
            Assert.Equal(expected, ResourceMonitorClient.EncodeOutputs(urn, outputs));
        }, iter: 2000);
    }

    [Fact]
    public void Empty_outputs_still_send_the_outputs_field()
    {
        var empty = ImmutableSortedDictionary.Create<string, PropertyValue>(StringComparer.Ordinal);
        var expected = ResourceMonitorClient.OutputsRequest("urn:pulumi:s::p::t::n", empty).ToByteArray();
        Assert.Equal(expected, ResourceMonitorClient.EncodeOutputs("urn:pulumi:s::p::t::n", empty));
        Assert.Equal([0x12, 0x00], expected[^2..]);
    }

    private static readonly Gen<RegisterResourceResponse> Response =
        Gen.Select(Text, Text, PropertyValueGen.Map, Gen.String[1, 10].Array[0, 3], Gen.Bool, Gen.Int[0, 2])
            .Select((urn, id, map, dependencies, stable, result) =>
            {
                var response = new RegisterResourceResponse { Urn = urn, Id = id, Stable = stable, Result = (Result)result };
                if (map.Count > 0 || stable)
                {
                    response.Object = PropertyValueSerializer.Serialize(map);
                }
                response.Stables.AddRange(dependencies);
                foreach (var dependency in dependencies)
                {
                    var urns = new RegisterResourceResponse.Types.PropertyDependencies();
                    urns.Urns.Add(dependency);
                    urns.Urns.Add(urn);
                    response.PropertyDependencies[dependency] = urns;
                }
                return response;
            });

    private static void AssertReadAsGenerated(byte[] bytes)
    {
        var generated = RegisterResourceResponse.Parser.ParseFrom(bytes);
        var read = ResourceMonitorClient.Decode(bytes);
        Assert.Equal(generated.Urn, read.Urn);
        Assert.Equal(generated.Id, read.Id);
        var all = PropertyValueSerializer.Deserialize(generated.Object);
        foreach (var (key, value) in all)
        {
            Assert.True(read.TryGetOutput(key, out var alone), key);
            Assert.Equal(value, alone);
        }
        Assert.False(read.TryGetOutput("not-an-output", out _));
        Assert.Equal(all, ResourceMonitorClient.Decode(bytes).Outputs);
        Assert.Equal(generated.PropertyDependencies.Keys.Order(StringComparer.Ordinal), read.PropertyDependencies.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, urns) in generated.PropertyDependencies)
        {
            Assert.Equal(urns.Urns, read.PropertyDependencies[key]);
        }
    }

    [Fact]
    public void Any_response_is_read_as_the_generated_parser_reads_it()
    {
        Response.Sample(response =>
        {
            byte[] bytes;
            try
            {
                bytes = response.ToByteArray();
            }
            catch (ArgumentException)
            {
                return; // a lone surrogate: no engine sends it
            }
            AssertReadAsGenerated(bytes);
        }, iter: 2000);
    }

    [Fact]
    public void Outputs_split_over_two_occurrences_merge_with_the_later_key_winning()
    {
        // Protobuf merges a message field given twice; for a Struct the entries join and a key given again takes its later value.
        var first = new RegisterResourceResponse { Urn = "urn:pulumi:s::p::t::n", Id = "first" };
        first.Object = new Struct();
        first.Object.Fields["kept"] = Value.ForString("from the first");
        first.Object.Fields["replaced"] = Value.ForString("old");
        var second = new RegisterResourceResponse { Id = "second" };
        second.Object = new Struct();
        second.Object.Fields["replaced"] = Value.ForNumber(2);
        second.Object.Fields["added"] = Value.ForBool(true);
        byte[] bytes = [.. first.ToByteArray(), .. second.ToByteArray()];

        AssertReadAsGenerated(bytes);
        var read = ResourceMonitorClient.Decode(bytes);
        Assert.Equal("second", read.Id);
        Assert.True(read.TryGetOutput("replaced", out var replaced));
        Assert.Equal(PropertyValue.Create(2.0), replaced);
    }

    [Fact]
    public void An_entry_laid_out_otherwise_is_still_read_as_the_generated_parser_reads_it()
    {
        // A map entry with its value before its key and an unknown field after it (legal protobuf that Google.Protobuf never writes),
        // an entry with no key (the empty key) and one with no value (a null Value as Google.Protobuf's map parser makes it).
        var value = Value.ForString("v").ToByteArray();
        byte[] reordered = [0x12, (byte)value.Length, .. value, 0x0A, 0x01, (byte)'k', 0x18, 0x07];
        byte[] noKey = [0x12, (byte)value.Length, .. value];
        byte[] noValue = [0x0A, 0x01, (byte)'z'];
        byte[] body = [0x0A, (byte)reordered.Length, .. reordered, 0x0A, (byte)noKey.Length, .. noKey, 0x0A, (byte)noValue.Length, .. noValue];
        byte[] bytes = [0x0A, 0x01, (byte)'u', 0x1A, (byte)body.Length, .. body];

        AssertReadAsGenerated(bytes);
        var read = ResourceMonitorClient.Decode(bytes);
        Assert.True(read.TryGetOutput("k", out var k));
        Assert.Equal(PropertyValue.Create("v"), k);
        Assert.True(read.TryGetOutput("", out var empty));
        Assert.Equal(PropertyValue.Create("v"), empty);
    }

    [Fact]
    public void A_truncated_response_is_refused()
    {
        var response = new RegisterResourceResponse { Urn = "urn:pulumi:s::p::t::n", Object = PropertyValueSerializer.Serialize([KeyValuePair.Create("a", PropertyValue.Create("b"))]) };
        var bytes = response.ToByteArray();
        Assert.ThrowsAny<InvalidProtocolBufferException>(() => RegisterResourceResponse.Parser.ParseFrom(bytes[..^1]));
        Assert.ThrowsAny<InvalidProtocolBufferException>(() => ResourceMonitorClient.Decode(bytes[..^1]));
    }

    [Fact]
    public void No_outputs_field_is_no_outputs()
    {
        var read = ResourceMonitorClient.Decode(new RegisterResourceResponse { Urn = "urn:pulumi:s::p::t::n" }.ToByteArray());
        Assert.Empty(read.Outputs);
        Assert.False(read.TryGetOutput("id", out _));
    }

    [Fact]
    public async Task The_fake_monitor_answers_what_a_copy_of_the_inputs_with_the_id_and_computed_outputs_gives()
    {
        // The monitor answers from the inputs' bytes with its own entries after them; read back, that is the Struct copy it used
        // to build: every input, then "id" and the provider's computed outputs replacing an input of the same key.
        await using var monitor = await FakeResourceMonitor.StartAsync(TestContext.Current.CancellationToken);
        using var client = ResourceMonitorClient.Connect(monitor.Endpoint);
        var inputs = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, PropertyValue>
        {
            ["id"] = PropertyValue.Create("an input named id"),
            ["location"] = PropertyValue.Create("westeurope"),
            ["tenantId"] = PropertyValue.CreateSecret(PropertyValue.Create("an input the provider computes again")),
            ["tags"] = PropertyValue.CreateObject(("team", PropertyValue.Create("platform")), ("", PropertyValue.Computed)),
        });
        const string Type = "azure-native:managedidentity:UserAssignedIdentity";
        for (var dryRun = 0; dryRun < 2; dryRun++)
        {
            monitor.DryRun = dryRun == 1;
            var registered = await client.RegisterResourceAsync(new ResourceRegistration(Type, $"identity-{dryRun}") { Custom = true, Inputs = inputs },
                TestContext.Current.CancellationToken);
            var expected = inputs;
            if (!monitor.DryRun)
            {
                expected = expected.SetItem("id", PropertyValue.Create("identity-0-id")).SetItems(ProviderAnswers.Computed(Type, "identity-0"));
            }
            Assert.Equal(monitor.DryRun ? "" : "identity-0-id", registered.Id);
            // Each output read alone from the answer's bytes first, then all of them decoded.
            foreach (var (key, value) in expected)
            {
                Assert.True(registered.TryGetOutput(key, out var alone), key);
                Assert.Equal(value, alone);
            }
            Assert.Equal(expected, registered.Outputs);
            var recorded = monitor.Registrations[^1];
            Assert.Equal(inputs, recorded.Inputs);
            Assert.Equal(PropertyValueSerializer.Serialize(inputs), recorded.Request.Object);
        }
        var component = await client.RegisterResourceAsync(new ResourceRegistration("test:index:Group", "group"), TestContext.Current.CancellationToken);
        Assert.Empty(component.Outputs);
        Assert.Equal("", component.Id);
    }

    [Fact]
    public async Task The_fake_monitor_keeps_every_recorded_request_whole_across_its_arena_chunks()
    {
        // The monitor records requests as slices of 4 MiB chunks: 60 registrations of about 100 KB each fill more than one,
        // and every one must read back as it was sent, the first as well as the last, answered with its own inputs.
        await using var monitor = await FakeResourceMonitor.StartAsync(TestContext.Current.CancellationToken);
        using var client = ResourceMonitorClient.Connect(monitor.Endpoint);
        monitor.DryRun = true;
        var sent = new List<ImmutableSortedDictionary<string, PropertyValue>>();
        for (var i = 0; i < 60; i++)
        {
            var inputs = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, PropertyValue>
            {
                ["index"] = PropertyValue.Create(i),
                ["payload"] = PropertyValue.Create(new string((char)('a' + (i % 26)), 100_000 + i)),
            });
            sent.Add(inputs);
            var registered = await client.RegisterResourceAsync(new ResourceRegistration("test:index:Blob", $"blob-{i}") { Custom = true, Inputs = inputs },
                TestContext.Current.CancellationToken);
            Assert.Equal(inputs, registered.Outputs);
        }
        var recorded = monitor.Registrations;
        Assert.Equal(60, recorded.Count);
        for (var i = 0; i < 60; i++)
        {
            Assert.Equal($"blob-{i}", recorded[i].Name);
            Assert.Equal(sent[i], recorded[i].Inputs);
        }
    }
}
