using System.Diagnostics;
using System.Text;
using Grpc.Net.Client;
using Pulumirpc;
using RegistryInfra.Testing;

namespace RegistryInfra.Provider.Tests.Hardening;

/// <summary>
/// The NativeAOT plugin started as the engine starts it, with a gRPC client, its stderr read as it comes, and
/// restartable after a crash (what the suite needs beyond RegistryInfra.Testing.Plugin.PluginProcess).
/// </summary>
internal sealed class RestartablePlugin : IAsyncDisposable
{
    private readonly FakeEngine _engine;
    private readonly StringBuilder _stderr = new();
    private Process? _process;
    private GrpcChannel? _channel;

    private RestartablePlugin(FakeEngine engine) => _engine = engine;

    public ResourceProvider.ResourceProviderClient Client { get; private set; } = null!;

    public FakeEngine Engine => _engine;

    public bool HasExited => _process is null || _process.HasExited;

    public int Starts { get; private set; }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static async Task<RestartablePlugin> StartAsync(CancellationToken cancellationToken)
    {
        var plugin = new RestartablePlugin(await FakeEngine.StartAsync(cancellationToken));
        await plugin.RestartAsync(cancellationToken);
        return plugin;
    }

    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        Stop();
        var start = new ProcessStartInfo(PluginBinary.Path)
        {
            ArgumentList = { _engine.Address },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start)!;
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        var port = await _process.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        Client = new ResourceProvider.ResourceProviderClient(_channel);
        await Client.HandshakeAsync(new ProviderHandshakeRequest { EngineAddress = _engine.Address }, cancellationToken: cancellationToken);
        Starts++;
    }

    private void Stop()
    {
        _channel?.Dispose();
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        Stop();
        await _engine.DisposeAsync();
    }
}
