using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Moq;
using RegistryInfra.Protocol.Hosting;
using Wire = Pulumirpc;

namespace RegistryInfra.Protocol.Tests.Hosting;

/// <summary>
/// The plugin's own gRPC server (Kestrel without the web host) as a gRPC client sees it: answers, statuses, deadlines,
/// compression and the answers to calls it does not serve, as Grpc.AspNetCore gave them.
/// </summary>
public sealed class GrpcServerTests : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();

    public void Dispose() => _cancel.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class TestProvider(string schema) : Provider
    {
        public override Task<string> GetSchemaAsync(CancellationToken cancellationToken) => Task.FromResult(schema);

        public override async Task<CheckResponse> CheckAsync(CheckRequest request, CancellationToken cancellationToken)
        {
            if (request.Name == "slow")
            {
                await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
            }
            if (request.Name == "bug")
            {
                throw new InvalidOperationException("ümlaut 100% broken\nsecond line");
            }
            return new CheckResponse(request.NewInputs, []);
        }
    }

    private async Task<(GrpcServer Server, GrpcChannel Channel)> StartAsync(string schema = "{}")
    {
        var service = new ResourceProviderService(new TestProvider(schema), _cancel, Mock.Of<IEngineLog>());
        var server = await GrpcServer.StartAsync(ResourceProviderMethods.Methods(service), ResourceProviderMethods.ServiceName, Ct);
        return (server, GrpcChannel.ForAddress($"http://127.0.0.1:{server.Port}", new GrpcChannelOptions { MaxReceiveMessageSize = null }));
    }

    private const string Urn = "urn:pulumi:dev::proj::pkg:index:Thing::";

    [Fact]
    public async Task Answers_unary_calls_and_a_large_answer_arrives_whole()
    {
        var schema = "{\"x\":\"" + new string('a', 300_000) + "é\"}";
        var (server, channel) = await StartAsync(schema);
        await using (server)
        using (channel)
        {
            var client = new Wire.ResourceProvider.ResourceProviderClient(channel);
            Assert.Equal(schema, (await client.GetSchemaAsync(new Wire.GetSchemaRequest(), cancellationToken: Ct)).Schema);
            var info = await client.GetPluginInfoAsync(new Empty(), cancellationToken: Ct);
            Assert.NotNull(info.Version);
            var check = await client.CheckAsync(new Wire.CheckRequest { Urn = Urn + "ok", Type = "pkg:index:Thing", Name = "ok", News = new Struct { Fields = { ["a"] = Value.ForString("b") } } }, cancellationToken: Ct);
            Assert.Equal("b", check.Inputs.Fields["a"].StringValue);
        }
    }

    [Fact]
    public async Task A_large_answer_is_gzip_compressed_for_a_client_that_accepts_it_and_sent_plain_to_one_that_does_not()
    {
        var schema = "{\"x\":\"" + new string('a', 100_000) + "\"}";
        var (server, channel) = await StartAsync(schema);
        await using (server)
        using (channel)
        {
            using var http = new HttpClient(new SocketsHttpHandler());
            foreach (var (accept, encoding) in new[] { ("identity,gzip", "gzip"), ("identity", null) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{server.Port}/pulumirpc.ResourceProvider/GetSchema")
                {
                    Content = new ByteArrayContent([0, 0, 0, 0, 0]),
                    Version = new Version(2, 0),
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                };
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
                request.Headers.TryAddWithoutValidation("te", "trailers");
                request.Headers.TryAddWithoutValidation("grpc-accept-encoding", accept);
                using var response = await http.SendAsync(request, Ct);
                var body = await response.Content.ReadAsByteArrayAsync(Ct);
                Assert.Equal(encoding, response.Headers.TryGetValues("grpc-encoding", out var values) ? values.Single() : null);
                Assert.Equal(encoding is null ? 0 : 1, body[0]);
                Assert.Equal(encoding is null ? new Wire.GetSchemaResponse { Schema = schema }.CalculateSize() + 5 : body.Length, body.Length);
                Assert.True(encoding is null || body.Length < schema.Length / 10, $"{body.Length} bytes compressed");
                Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
            }
        }
    }

    [Fact]
    public async Task Failures_deadlines_and_unknown_methods_get_the_statuses_of_grpc()
    {
        var (server, channel) = await StartAsync();
        await using (server)
        using (channel)
        {
            var client = new Wire.ResourceProvider.ResourceProviderClient(channel);
            var bug = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.CheckAsync(new Wire.CheckRequest { Urn = Urn + "bug", Type = "pkg:index:Thing", Name = "bug", News = new Struct() }, cancellationToken: Ct));
            Assert.Equal(StatusCode.Internal, bug.StatusCode);
            // Percent-encoded on the wire, decoded by the client: non-ASCII, '%' and control characters survive.
            Assert.Contains("ümlaut 100% broken\nsecond line", bug.Status.Detail, StringComparison.Ordinal);

            var slow = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.CheckAsync(new Wire.CheckRequest { Urn = Urn + "slow", Type = "pkg:index:Thing", Name = "slow", News = new Struct() },
                    deadline: DateTime.UtcNow.AddMilliseconds(300), cancellationToken: Ct));
            Assert.Equal(StatusCode.DeadlineExceeded, slow.StatusCode);

            var unknownMethod = await Assert.ThrowsAsync<RpcException>(async () =>
                await channel.CreateCallInvoker().AsyncUnaryCall(
                    new Method<Empty, Empty>(MethodType.Unary, ResourceProviderMethods.ServiceName, "NoSuchMethod", Marshallers.Create<Empty>(m => m.ToByteArray(), Empty.Parser.ParseFrom), Marshallers.Create<Empty>(m => m.ToByteArray(), Empty.Parser.ParseFrom)),
                    null, new CallOptions(cancellationToken: Ct), new Empty()));
            Assert.Equal(StatusCode.Unimplemented, unknownMethod.StatusCode);
            Assert.Equal("Method is unimplemented.", unknownMethod.Status.Detail);

            var unknownService = await Assert.ThrowsAsync<RpcException>(async () =>
                await new Wire.ResourceMonitor.ResourceMonitorClient(channel).SupportsFeatureAsync(new Wire.SupportsFeatureRequest { Id = "x" }, cancellationToken: Ct));
            Assert.Equal(StatusCode.Unimplemented, unknownService.StatusCode);
            Assert.Equal("Service is unimplemented.", unknownService.Status.Detail);

            var list = client.List(new Wire.ListRequest(), cancellationToken: Ct);
            var notServed = await Assert.ThrowsAsync<RpcException>(async () => await list.ResponseStream.MoveNext(Ct));
            Assert.Equal(StatusCode.Unimplemented, notServed.StatusCode);
        }
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("100%", "100%25")]
    [InlineData("é\n", "%C3%A9%0A")]
    public void Status_messages_are_percent_encoded_as_grpc_specifies(string text, string encoded) =>
        Assert.Equal(encoded, GrpcCall.PercentEncode(text));

    [Theory]
    [InlineData("1S", 1_000)]
    [InlineData("250m", 250)]
    [InlineData("2M", 120_000)]
    [InlineData("1H", 3_600_000)]
    [InlineData("5000u", 5)]
    [InlineData("3000000n", 3)]
    public void Grpc_timeouts_are_parsed_in_every_unit(string value, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), GrpcCall.TryParseTimeout(value));

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("123456789S")]
    [InlineData("-1S")]
    [InlineData("1x")]
    public void Malformed_grpc_timeouts_are_refused(string value) =>
        Assert.Null(GrpcCall.TryParseTimeout(value));
}
