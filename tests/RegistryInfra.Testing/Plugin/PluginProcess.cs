using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using Pulumirpc;

namespace RegistryInfra.Testing.Plugin;

/// <summary>
/// A provider plugin binary started the way the engine starts it: the address of a (fake) Engine service as its
/// argument, the port read from the first line of its stdout, then Handshake and Configure over gRPC. Stopped
/// (Cancel, then killed if it lingers) on dispose.
/// </summary>
public sealed class PluginProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly FakeEngine _engine;
    private readonly GrpcChannel _channel;
    private readonly Task<string> _stderr;

    private PluginProcess(Process process, FakeEngine engine, int port, GrpcChannel channel, Task<string> stderr)
    {
        _process = process;
        Port = port;
        _engine = engine;
        _channel = channel;
        _stderr = stderr;
        Client = new ResourceProvider.ResourceProviderClient(channel);
        Provider = new GrpcProvider(Client);
    }

    /// <summary>The plugin's ResourceProvider service.</summary>
    public ResourceProvider.ResourceProviderClient Client { get; }

    /// <summary>The same service seen through the typed provider records, so a test drives it as it drives the in-process provider.</summary>
    public GrpcProvider Provider { get; }

    /// <summary>The port the plugin printed (its gRPC server on 127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>The plugin's process id (for its CPU time and peak memory in /proc).</summary>
    public int ProcessId => _process.Id;

    /// <summary>The fake engine the plugin logs to.</summary>
    public FakeEngine Engine => _engine;

    /// <summary>What the plugin wrote to stderr so far is not available until it exits; this waits for it.</summary>
    public Task<string> StderrAsync() => _stderr;

    /// <summary>
    /// Starts <paramref name="binary"/> with <paramref name="environment"/> added to this process's environment,
    /// and configures it as the engine would (no provider configuration).
    /// </summary>
    public static async Task<PluginProcess> StartAsync(string binary, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        var engine = await FakeEngine.StartAsync(cancellationToken).ConfigureAwait(false);
        var start = new ProcessStartInfo(binary)
        {
            ArgumentList = { engine.Address },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{binary} did not start");
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            var port = await process.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            if (port is null || !int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var portNumber))
            {
                throw new InvalidOperationException($"{binary} printed '{port}' instead of its port; stderr: {await stderr.ConfigureAwait(false)}");
            }
            var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
            var plugin = new PluginProcess(process, engine, portNumber, channel, stderr);
            try
            {
                await plugin.Client.HandshakeAsync(new ProviderHandshakeRequest { EngineAddress = engine.Address }, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.Unimplemented)
            {
                // No Handshake (the Node.js SDK's provider.main answers Unimplemented): go on with Configure, as for providers that predate it.
            }
            await plugin.Client.ConfigureAsync(new ConfigureRequest { Args = new Struct(), AcceptSecrets = true, AcceptResources = true }, cancellationToken: cancellationToken).ConfigureAwait(false);
            return plugin;
        }
        catch
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            process.Dispose();
            await engine.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await Client.CancelAsync(new Empty()).ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or TimeoutException)
        {
            // It is going away either way; the kill below makes sure.
        }
        finally
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            _process.Dispose();
            _channel.Dispose();
            await _engine.DisposeAsync().ConfigureAwait(false);
        }
    }
}
