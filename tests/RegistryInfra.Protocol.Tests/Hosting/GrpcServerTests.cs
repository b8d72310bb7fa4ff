using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Moq;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Testing.Plugin;
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

    /// <summary>A provider that counts how often its schema is asked for; <c>Next</c> decides each answer.</summary>
    private sealed class CountingProvider(bool fixedSchema) : Provider
    {
        private int _asked;

        public Func<int, CancellationToken, Task<string>> Next { get; init; } = (_, _) => Task.FromResult("{}");

        public int Asked => Volatile.Read(ref _asked);

        public override bool SchemaIsFixed => fixedSchema;

        public override Task<string> GetSchemaAsync(CancellationToken cancellationToken) =>
            Next(Interlocked.Increment(ref _asked), cancellationToken);
    }

    private Task<(GrpcServer Server, GrpcChannel Channel)> StartAsync(string schema = "{}") =>
        StartAsync(new ResourceProviderService(new TestProvider(schema), _cancel, Mock.Of<IEngineLog>()));

    private static async Task<(GrpcServer Server, GrpcChannel Channel)> StartAsync(ResourceProviderService service)
    {
        var server = await GrpcServer.StartAsync(ResourceProviderMethods.Methods(service), ResourceProviderMethods.ServiceName, Ct);
        return (server, GrpcChannel.ForAddress($"http://127.0.0.1:{server.Port}", new GrpcChannelOptions { MaxReceiveMessageSize = null }));
    }

    private static Task<(string? Encoding, byte[] Body, string? Status)> RawGetSchemaAsync(int port, string? accept) =>
        RawGrpc.UnaryAsync(port, "/pulumirpc.ResourceProvider/GetSchema", [], accept, Ct);

    private static byte[] SingleMessage(byte[] body) => RawGrpc.SingleMessage(body);

    private static string LargeSchema(int length) => "{\"x\":\"" + new string('a', length) + "é\"}";

    [Fact]
    public async Task A_fixed_schema_is_read_once_at_start_and_served_from_one_prepared_answer_gzip_or_identity_byte_equal()
    {
        var schema = LargeSchema(100_000);
        var provider = new CountingProvider(fixedSchema: true) { Next = (_, _) => Task.FromResult(schema) };
        var service = new ResourceProviderService(provider, _cancel, Mock.Of<IEngineLog>());
        service.PrepareSchema();
        // Prepared without any call (as the host does once its port is printed).
        for (var waited = 0; provider.Asked == 0 && waited < 10_000; waited += 10)
        {
            await Task.Delay(10, Ct);
        }
        Assert.Equal(1, provider.Asked);
        var (server, channel) = await StartAsync(service);
        await using (server)
        using (channel)
        {
            var serialized = new Wire.GetSchemaResponse { Schema = schema }.ToByteArray();
            var gzip = await RawGetSchemaAsync(server.Port, "identity,deflate,gzip");
            Assert.Equal(("gzip", "0"), (gzip.Encoding, gzip.Status));
            Assert.Equal(1, gzip.Body[0]);
            Assert.True(gzip.Body.Length < serialized.Length / 10, $"{gzip.Body.Length} bytes compressed");
            Assert.Equal(serialized, SingleMessage(gzip.Body));
            foreach (var accept in new[] { "identity", null })
            {
                var identity = await RawGetSchemaAsync(server.Port, accept);
                Assert.Equal((null, "0"), (identity.Encoding, identity.Status));
                byte[] frame = [0, (byte)(serialized.Length >> 24), (byte)(serialized.Length >> 16), (byte)(serialized.Length >> 8), (byte)serialized.Length, .. serialized];
                Assert.Equal(frame, identity.Body);
            }
            var client = new Wire.ResourceProvider.ResourceProviderClient(channel);
            Assert.Equal(schema, (await client.GetSchemaAsync(new Wire.GetSchemaRequest(), cancellationToken: Ct)).Schema);
            Assert.Equal(1, provider.Asked);
        }
    }

    [Fact]
    public async Task A_schema_that_is_not_fixed_is_asked_for_on_every_call_and_not_before()
    {
        var provider = new CountingProvider(fixedSchema: false) { Next = (n, _) => Task.FromResult(LargeSchema(70_000 + n)) };
        var service = new ResourceProviderService(provider, _cancel, Mock.Of<IEngineLog>());
        service.PrepareSchema();
        var (server, channel) = await StartAsync(service);
        await using (server)
        using (channel)
        {
            Assert.Equal(0, provider.Asked);
            var client = new Wire.ResourceProvider.ResourceProviderClient(channel);
            Assert.Equal(LargeSchema(70_001), (await client.GetSchemaAsync(new Wire.GetSchemaRequest(), cancellationToken: Ct)).Schema);
            var gzip = await RawGetSchemaAsync(server.Port, "gzip");
            Assert.Equal(("gzip", "0"), (gzip.Encoding, gzip.Status));
            Assert.Equal(1, gzip.Body[0]);
            Assert.Equal(LargeSchema(70_002), Wire.GetSchemaResponse.Parser.ParseFrom(SingleMessage(gzip.Body)).Schema);
            var identity = await RawGetSchemaAsync(server.Port, null);
            Assert.Equal((null, "0"), (identity.Encoding, identity.Status));
            Assert.Equal(LargeSchema(70_003), Wire.GetSchemaResponse.Parser.ParseFrom(SingleMessage(identity.Body)).Schema);
            Assert.Equal(3, provider.Asked);
        }
    }

    [Fact]
    public async Task GetSchema_of_another_version_or_a_subpackage_is_refused_as_before_without_reading_the_schema()
    {
        var provider = new CountingProvider(fixedSchema: true);
        var (server, channel) = await StartAsync(new ResourceProviderService(provider, _cancel, Mock.Of<IEngineLog>()));
        await using (server)
        using (channel)
        {
            var client = new Wire.ResourceProvider.ResourceProviderClient(channel);
            var version = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.GetSchemaAsync(new Wire.GetSchemaRequest { Version = 7 }, cancellationToken: Ct));
            Assert.Equal(StatusCode.InvalidArgument, version.StatusCode);
            Assert.Equal("schema version 7 / subpackage '' is not served; only version 0 of the package itself", version.Status.Detail);
            var subpackage = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.GetSchemaAsync(new Wire.GetSchemaRequest { SubpackageName = "sub" }, cancellationToken: Ct));
            Assert.Equal(StatusCode.InvalidArgument, subpackage.StatusCode);
            Assert.Contains("subpackage 'sub' is not served", subpackage.Status.Detail, StringComparison.Ordinal);
            Assert.Equal(0, provider.Asked);
        }
    }

    [Fact]
    public async Task A_failed_preparation_fails_that_GetSchema_and_the_next_one_prepares_again()
    {
        var provider = new CountingProvider(fixedSchema: true)
        {
            Next = (n, _) => n == 1 ? throw new InvalidOperationException("schema not readable") : Task.FromResult("{\"ok\":true}"),
        };
        var (server, channel) = await StartAsync(new ResourceProviderService(provider, _cancel, Mock.Of<IEngineLog>()));
        await using (server)
        using (channel)
        {
            var client = new Wire.ResourceProvider.ResourceProviderClient(channel);
            var failed = await Assert.ThrowsAsync<RpcException>(async () => await client.GetSchemaAsync(new Wire.GetSchemaRequest(), cancellationToken: Ct));
            Assert.Equal(StatusCode.Internal, failed.StatusCode);
            Assert.Contains("schema not readable", failed.Status.Detail, StringComparison.Ordinal);
            Assert.Equal("{\"ok\":true}", (await client.GetSchemaAsync(new Wire.GetSchemaRequest(), cancellationToken: Ct)).Schema);
            Assert.Equal("{\"ok\":true}", (await client.GetSchemaAsync(new Wire.GetSchemaRequest(), cancellationToken: Ct)).Schema);
            Assert.Equal(2, provider.Asked);
        }
    }

    [Fact]
    public async Task A_GetSchema_past_its_deadline_while_the_answer_is_prepared_is_DeadlineExceeded_and_the_preparation_goes_on()
    {
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var provider = new CountingProvider(fixedSchema: true) { Next = (_, _) => release.Task };
        var service = new ResourceProviderService(provider, _cancel, Mock.Of<IEngineLog>());
        service.PrepareSchema();
        var (server, channel) = await StartAsync(service);
        await using (server)
        using (channel)
        {
            var client = new Wire.ResourceProvider.ResourceProviderClient(channel);
            var late = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.GetSchemaAsync(new Wire.GetSchemaRequest(), deadline: DateTime.UtcNow.AddMilliseconds(300), cancellationToken: Ct));
            Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);
            release.SetResult(LargeSchema(80_000));
            Assert.Equal(LargeSchema(80_000), (await client.GetSchemaAsync(new Wire.GetSchemaRequest(), cancellationToken: Ct)).Schema);
            Assert.Equal(1, provider.Asked);
        }
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
            foreach (var (accept, encoding) in new[] { ("identity,gzip", "gzip"), ("identity", null) })
            {
                var (served, body, status) = await RawGetSchemaAsync(server.Port, accept);
                Assert.Equal(encoding, served);
                Assert.Equal(encoding is null ? 0 : 1, body[0]);
                Assert.Equal(encoding is null ? new Wire.GetSchemaResponse { Schema = schema }.CalculateSize() + 5 : body.Length, body.Length);
                Assert.True(encoding is null || body.Length < schema.Length / 10, $"{body.Length} bytes compressed");
                Assert.Equal(schema, Wire.GetSchemaResponse.Parser.ParseFrom(SingleMessage(body)).Schema);
                Assert.Equal("0", status);
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
