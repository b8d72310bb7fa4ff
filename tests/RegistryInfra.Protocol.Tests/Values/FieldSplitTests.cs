using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Pulumirpc;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Tests.Values;

/// <summary>The one splitter behind the monitor client's answers and the fake monitor's requests: what the generated parser makes of the same bytes.</summary>
public sealed class FieldSplitTests
{
    private const uint ObjectTag = (5 << 3) | 2;

    [Fact]
    public void A_field_given_twice_is_joined_and_the_rest_parses_to_every_other_field()
    {
        var first = new RegisterResourceRequest { Type = "t:index:R", Name = "a", Custom = true, Object = Struct.Parser.ParseJson("{\"x\":\"1\"}") };
        var second = new RegisterResourceRequest { Parent = "urn:p", Object = Struct.Parser.ParseJson("{\"y\":\"2\"}") };
        byte[] message = [.. first.ToByteArray(), .. second.ToByteArray()];
        var rest = new byte[message.Length];
        var split = FieldSplit.Split(message, ObjectTag, rest)!.Value;
        Assert.Null(split.Field);
        Assert.True(split.HasField);
        var merged = RegisterResourceRequest.Parser.ParseFrom(message);
        Assert.Equal(merged.Object, Struct.Parser.ParseFrom(split.Joined));
        var others = RegisterResourceRequest.Parser.ParseFrom(rest.AsSpan(0, split.RestLength));
        Assert.Null(others.Object);
        merged.Object = null;
        Assert.Equal(merged, others);
    }

    [Fact]
    public void A_field_given_once_is_where_it_lies_and_an_absent_one_is_none()
    {
        var request = new RegisterResourceRequest { Type = "t:index:R", Name = "a", Object = Struct.Parser.ParseJson("{\"x\":\"1\"}") };
        var message = request.ToByteArray();
        var split = FieldSplit.Split(message, ObjectTag, new byte[message.Length])!.Value;
        Assert.Null(split.Joined);
        Assert.Equal(request.Object, Struct.Parser.ParseFrom(message.AsSpan()[split.Field!.Value]));
        var none = new RegisterResourceRequest { Type = "t:index:R" }.ToByteArray();
        Assert.False(FieldSplit.Split(none, ObjectTag, new byte[none.Length])!.Value.HasField);
    }

    [Fact]
    public void Bytes_cut_short_or_of_an_unknown_wire_type_are_no_message()
    {
        var message = new RegisterResourceRequest { Type = "t:index:R", Object = Struct.Parser.ParseJson("{\"x\":\"1\"}") }.ToByteArray();
        var refused = 0;
        for (var cut = 1; cut < message.Length; cut++)
        {
            var shorter = message[..cut];
            if (Record.Exception(() => RegisterResourceRequest.Parser.ParseFrom(shorter)) is not null)
            {
                Assert.Null(FieldSplit.Split(shorter, ObjectTag, new byte[cut]));
                refused++;
            }
        }
        Assert.True(refused > 0);
        Assert.Null(FieldSplit.Split([(1 << 3) | 3], ObjectTag, new byte[1]));
        Assert.Null(FieldSplit.Split([0x0A, 0x80], ObjectTag, new byte[2]));
    }
}
