using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Pulumirpc;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Provider.Tests;

/// <summary>
/// Starts the shipped kind of plugin, the NativeAOT binary that provider/build publishes into
/// artifacts/plugins/registryinfra/ (tests/run builds it first when its inputs changed), exactly as the engine
/// does, and drives every RPC over real gRPC.
/// </summary>
public sealed class PluginBinaryTests
{
    private const string ProfileType = "registryinfra:index:RegistryProfile";
    private const string Urn = "urn:pulumi:dev::proj::registryinfra:index:RegistryProfile::ghcr";
    private const string Canary = "binary-test-s3cret";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Plugin_prints_its_port_and_serves_every_rpc_then_stops_on_cancel()
    {
        await using var engine = await FakeEngine.StartAsync(Ct);
        var start = new ProcessStartInfo(PluginBinary.Path)
        {
            ArgumentList = { "--logflow", "--tracing", "", engine.Address },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        try
        {
            var portLine = await process.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Matches("^[0-9]+$", portLine);
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{portLine}");
            var client = new ResourceProvider.ResourceProviderClient(channel);

            var handshake = await client.HandshakeAsync(new ProviderHandshakeRequest { EngineAddress = engine.Address }, cancellationToken: Ct);
            Assert.True(handshake.AcceptSecrets && handshake.AcceptResources && handshake.AcceptOutputs);

            Assert.Equal("0.1.0", (await client.GetPluginInfoAsync(new Empty(), cancellationToken: Ct)).Version);
            Assert.Contains(ProfileType, (await client.GetSchemaAsync(new GetSchemaRequest(), cancellationToken: Ct)).Schema, StringComparison.Ordinal);
            Assert.Empty((await client.CheckConfigAsync(new CheckRequest { Urn = "urn:pulumi:dev::proj::pulumi:providers:registryinfra::default", News = new Struct() }, cancellationToken: Ct)).Failures);
            await client.DiffConfigAsync(new DiffRequest { Olds = new Struct(), News = new Struct() }, cancellationToken: Ct);
            var configure = await client.ConfigureAsync(new ConfigureRequest { Args = new Struct(), AcceptSecrets = true, AcceptResources = true, Urn = "urn:pulumi:dev::proj::pulumi:providers:registryinfra::default" }, cancellationToken: Ct);
            Assert.True(configure.AcceptSecrets && configure.SupportsPreview && configure.AcceptOutputs);
            var log = await engine.WaitForLogAsync(l => l.Message.Contains("configured", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
            Assert.Equal(LogSeverity.Debug, log.Severity);

            var news = PropertyValueSerializer.Serialize(new Dictionary<string, PropertyValue>
            {
                ["server"] = PropertyValue.Create("https://GHCR.io/"),
                ["username"] = PropertyValue.Create("robot"),
                ["password"] = PropertyValue.CreateSecret(PropertyValue.Create(Canary)),
                // No registry is reachable here; validation against a real one is in Registry/RegistryProfileRegistryTests.
                ["validate"] = PropertyValue.Create(false),
            });
            var check = await client.CheckAsync(new CheckRequest { Urn = Urn, Type = ProfileType, Name = "ghcr", Olds = new Struct(), News = news }, cancellationToken: Ct);
            Assert.Empty(check.Failures);

            var preview = await client.CreateAsync(new CreateRequest { Urn = Urn, Properties = check.Inputs, Preview = true }, cancellationToken: Ct);
            Assert.Equal("", preview.Id);
            var created = await client.CreateAsync(new CreateRequest { Urn = Urn, Type = ProfileType, Name = "ghcr", Properties = check.Inputs }, cancellationToken: Ct);
            // The host keeps the case it was written in: the kubelet compares host labels as written (keyring.go).
            Assert.Equal("GHCR.io", created.Id);
            var state = PropertyValueSerializer.Deserialize(created.Properties);
            Assert.True(state["authEntry"].IsSecret);
            Assert.Equal(Signatures.Secret, created.Properties.Fields["dockerConfigJson"].StructValue.Fields[Signatures.Key].StringValue);

            var newNews = news.Clone();
            newNews.Fields["password"] = PropertyValueSerializer.Serialize(PropertyValue.CreateSecret(PropertyValue.Create(Canary + "2")));
            var diff = await client.DiffAsync(new DiffRequest { Id = created.Id, Urn = Urn, Olds = created.Properties, OldInputs = check.Inputs, News = newNews }, cancellationToken: Ct);
            Assert.Equal(DiffResponse.Types.DiffChanges.DiffSome, diff.Changes);
            Assert.Equal(PropertyDiff.Types.Kind.Update, diff.DetailedDiff["password"].Kind);
            Assert.DoesNotContain(Canary, diff.ToString(), StringComparison.Ordinal);

            var updated = await client.UpdateAsync(new UpdateRequest { Id = created.Id, Urn = Urn, Olds = created.Properties, OldInputs = check.Inputs, News = newNews }, cancellationToken: Ct);
            Assert.Contains(Canary + "2", PropertyValueSerializer.Deserialize(updated.Properties)["dockerConfigJson"].SecretValue.StringValue, StringComparison.Ordinal);
            var read = await client.ReadAsync(new ReadRequest { Id = created.Id, Urn = Urn, Properties = updated.Properties, Inputs = newNews }, cancellationToken: Ct);
            Assert.Equal(created.Id, read.Id);
            await client.DeleteAsync(new DeleteRequest { Id = created.Id, Urn = Urn, Properties = updated.Properties }, cancellationToken: Ct);

            var unknownType = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.CheckAsync(new CheckRequest { Urn = "urn:pulumi:dev::proj::registryinfra:index:Nope::x", News = new Struct() }, cancellationToken: Ct));
            Assert.Equal(StatusCode.NotFound, unknownType.StatusCode);
            Assert.Contains("registryinfra:index:Nope", unknownType.Status.Detail, StringComparison.Ordinal);
            var invoke = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.InvokeAsync(new InvokeRequest { Tok = "registryinfra:index:getNothing", Args = new Struct() }, cancellationToken: Ct));
            Assert.Equal(StatusCode.NotFound, invoke.StatusCode);
            var construct = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.ConstructAsync(new ConstructRequest { Type = "registryinfra:index:NoComponent", Name = "c", Inputs = new Struct() }, cancellationToken: Ct));
            Assert.Equal(StatusCode.NotFound, construct.StatusCode);
            var call = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.CallAsync(new CallRequest { Tok = "registryinfra:index:Thing/method", Args = new Struct() }, cancellationToken: Ct));
            Assert.Equal(StatusCode.Unimplemented, call.StatusCode);
            var attach = await client.AttachAsync(new PluginAttach { Address = engine.Address }, cancellationToken: Ct);
            Assert.NotNull(attach);

            await client.CancelAsync(new Empty(), cancellationToken: Ct);
            await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
            Assert.Equal(0, process.ExitCode);
            Assert.DoesNotContain(Canary, await stderr, StringComparison.Ordinal);
            Assert.All(engine.Logs, l => Assert.DoesNotContain(Canary, l.Message, StringComparison.Ordinal));
            Assert.Equal("urn:pulumi:dev::proj::pulumi:providers:registryinfra::default", log.Urn);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Aot_get_schema_serves_the_schema_embedded_at_build_time()
    {
        await using var plugin = await Testing.Plugin.PluginProcess.StartAsync(PluginBinary.Path, Ct);
        var served = (await plugin.Client.GetSchemaAsync(new GetSchemaRequest(), cancellationToken: Ct)).Schema;
        var written = Path.GetTempFileName();
        try
        {
            using (var process = Process.Start(new ProcessStartInfo(PluginBinary.Path) { ArgumentList = { "--schema", written } })!)
            {
                await process.WaitForExitAsync(Ct);
                Assert.Equal(0, process.ExitCode);
            }
            // What the binary serves is what its own generator writes, and what this code generates.
            Assert.Equal(await File.ReadAllTextAsync(written, Ct), served);
            Assert.Equal(RegistryInfraPackage.Schema(), served);
        }
        finally
        {
            File.Delete(written);
        }
    }

    [Fact]
    public async Task Aot_get_schema_sends_the_same_answer_gzip_compressed_and_plain_as_the_engine_asks_for_it()
    {
        await using var plugin = await Testing.Plugin.PluginProcess.StartAsync(PluginBinary.Path, Ct);
        var expected = new GetSchemaResponse { Schema = RegistryInfraPackage.Schema() }.ToByteArray();
        // The engine's grpc-go client accepts gzip (registered by the OpenTelemetry exporter the pulumi CLI links);
        // a client without it gets the message uncompressed; both twice, the prepared answer reused.
        foreach (var (accept, encoding, flag) in new[] { ("gzip", "gzip", 1), ("gzip", "gzip", 1), (null, null, 0), ("identity", null, 0) })
        {
            var (served, body, status) = await Testing.Plugin.RawGrpc.UnaryAsync(plugin.Port, "/pulumirpc.ResourceProvider/GetSchema", [], accept, Ct);
            Assert.Equal((encoding, "0"), (served, status));
            Assert.Equal(flag, body[0]);
            Assert.Equal(expected, Testing.Plugin.RawGrpc.SingleMessage(body));
        }
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await plugin.Client.GetSchemaAsync(new GetSchemaRequest { Version = 2 }, cancellationToken: Ct));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
    }

    [Fact]
    public async Task Plugin_constructs_a_component_in_the_aot_binary()
    {
        // Construct runs the reflection paths that trimming and NativeAOT can break: nested Args records bound by
        // System.Text.Json, KubernetesClient models serialised with its own settings, IAM documents, schema types.
        await using var engine = await FakeEngine.StartAsync(Ct);
        await using var monitor = await FakeResourceMonitor.StartAsync(Ct);
        using var process = Process.Start(new ProcessStartInfo(PluginBinary.Path) { ArgumentList = { engine.Address }, RedirectStandardOutput = true })!;
        try
        {
            var portLine = await process.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{portLine}");
            var client = new ResourceProvider.ResourceProviderClient(channel);
            var request = new ConstructRequest
            {
                Project = FakeResourceMonitor.Project,
                Stack = FakeResourceMonitor.Stack,
                MonitorEndpoint = monitor.Endpoint,
                Type = "registryinfra:index:ClusterRegistryAccess",
                Name = "c1",
                Parent = "urn:pulumi:test::fleet::pulumi:pulumi:Stack::fleet-test",
                Inputs = PropertyValueSerializer.Serialize(Components.ConstructTests.Inputs(Components.ConstructTests.ClusterInputs("{\\\"auth\\\":\\\"eDp5\\\"}"))),
                AcceptsOutputValues = true,
            };
            request.Providers.Add("kubernetes", "urn:pulumi:test::fleet::pulumi:providers:kubernetes::c1::id1");

            var response = await client.ConstructAsync(request, cancellationToken: Ct);

            Assert.Equal("urn:pulumi:test::fleet::registryinfra:index:ClusterRegistryAccess::c1", response.Urn);
            Assert.Equal("arn:aws:iam::123456789012:role/c1-ecr-ecr-pull", PropertyValueSerializer.Deserialize(response.State)["roleArn"].StringValue);
            Assert.Contains(monitor.Registrations, r => r.Type == "kubernetes:batch/v1:CronJob" && r.Inputs.ContainsKey("spec"));

            // The NativeAOT binary registers exactly what the same construct registers in this (JIT) process:
            // same children, same inputs byte for byte, same options.
            await using var reference = await FakeResourceMonitor.StartAsync(Ct);
            var inProcess = new RegistryInfra.Protocol.Hosting.ConstructRequest(request.Type, request.Name, request.Parent,
                PropertyValueSerializer.Deserialize(request.Inputs),
                System.Collections.Immutable.ImmutableDictionary<string, System.Collections.Immutable.ImmutableArray<string>>.Empty,
                new RegistryInfra.Protocol.Hosting.DeploymentContext(request.Project, request.Stack, request.Organization,
                    System.Collections.Immutable.ImmutableDictionary<string, string>.Empty, [], false, 4, reference.Endpoint),
                System.Collections.Immutable.ImmutableDictionary.CreateRange(StringComparer.Ordinal, request.Providers), [], [],
                new RegistryInfra.Protocol.Hosting.ConstructOptions(null, [], null, "", null, [], [], null, []), AcceptsOutputValues: true);
            await RegistryInfraPackage.CreateProvider().ConstructAsync(inProcess, Ct);
            Assert.Equal(reference.Registrations.Count, monitor.Registrations.Count);
            // Children are registered concurrently, so the two runs are compared by URN, not by arrival order.
            foreach (var (aot, jit) in monitor.Registrations.OrderBy(r => r.Urn, StringComparer.Ordinal).Zip(reference.Registrations.OrderBy(r => r.Urn, StringComparer.Ordinal)))
            {
                Assert.Equal(jit.Request, aot.Request);
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Plugin_exits_when_sigterm_arrives()
    {
        await using var engine = await FakeEngine.StartAsync(Ct);
        var start = new ProcessStartInfo(PluginBinary.Path)
        {
            ArgumentList = { engine.Address },
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        try
        {
            var portLine = await process.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Matches("^[0-9]+$", portLine);
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
