using System.Runtime.InteropServices;
using Grpc.Net.Client;
using RegistryInfra.Protocol.Health;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>Options of the plugin host; the defaults are what the engine expects.</summary>
public sealed record ProviderHostOptions
{
    /// <summary>How often the engine is checked for liveness (the Go host uses minutes; tests use less).</summary>
    public TimeSpan EngineHealthInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where diagnostics go; the engine shows a plugin's stderr with --logflow.</summary>
    public TextWriter Stderr { get; init; } = Console.Error;
}

/// <summary>
/// Runs a provider as a Pulumi plugin: <c>pulumi-resource-NAME [--logflow] [--tracing X] ENGINE_ADDRESS</c>.
/// Serves gRPC over cleartext HTTP/2 on 127.0.0.1 with a port the OS chooses, writes only that port and a
/// newline to stdout, and stops on the Cancel RPC, on SIGTERM/SIGINT, on the caller's token,
/// or when the engine stops answering.
/// </summary>
public static class ProviderHost
{
    /// <summary>Serves <paramref name="factory"/>'s provider until shutdown; returns the exit code.</summary>
    public static async Task<int> ServeAsync(
        string[] args, Func<IEngineLog, Provider> factory, TextWriter stdout, CancellationToken cancellationToken,
        ProviderHostOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(stdout);
        options ??= new ProviderHostOptions();
        var engineAddress = ParseEngineAddress(args);
        var trace = new StartupTrace(options.Stderr);
        trace.Mark("host entered");

        using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; shutdown.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; shutdown.Cancel(); });
        using var log = new EngineLog(engineAddress, options.Stderr);
        var provider = factory(log);

        // Kestrel and the plugin's own gRPC dispatch, without the web host (see GrpcServer): no configuration sources,
        // no logging providers (stdout carries only the port), no dependency injection.
        var service = new ResourceProviderService(provider, shutdown, log);
        await using var server = await GrpcServer.StartAsync(ResourceProviderMethods.Methods(service), ResourceProviderMethods.ServiceName, shutdown.Token).ConfigureAwait(false);
        trace.Mark("server started");
        await stdout.WriteAsync($"{server.Port}\n").ConfigureAwait(false);
        await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        trace.Mark("port printed");
        // The GetSchema answer (serialized and gzip-compressed once) is prepared now, in the background, not on the
        // first GetSchema; the first answers do not wait for it.
        service.PrepareSchema();

        var watch = engineAddress is null ? Task.CompletedTask : WatchEngineAsync(engineAddress, options, shutdown);
        try
        {
            await Task.Delay(Timeout.Infinite, shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Shutdown was asked for; stop serving below.
        }
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await server.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        await watch.ConfigureAwait(false);
        return 0;
    }

    /// <summary>The engine address: the first argument that is not a flag (or a flag's value).</summary>
    internal static string? ParseEngineAddress(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--tracing" or "-tracing")
            {
                i++;
                continue;
            }
            if (arg.StartsWith('-'))
            {
                continue;
            }
            return arg;
        }
        return null;
    }

    /// <summary>
    /// As the Go host does: ask the engine's gRPC health service now and then, and shut down when it fails
    /// with anything but Unimplemented (the engine is gone).
    /// </summary>
    private static async Task WatchEngineAsync(string engineAddress, ProviderHostOptions options, CancellationTokenSource shutdown)
    {
        // The channel is opened at the first tick, not while the first requests are being answered.
        GrpcChannel? channel = null;
        using var timer = new PeriodicTimer(options.EngineHealthInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(shutdown.Token).ConfigureAwait(false))
            {
                channel ??= GrpcChannel.ForAddress(EngineLog.ToUri(engineAddress));
                var health = new Health.Health.HealthClient(channel);
                try
                {
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(shutdown.Token);
                    deadline.CancelAfter(options.EngineHealthInterval);
                    await health.CheckAsync(new HealthCheckRequest(), cancellationToken: deadline.Token).ConfigureAwait(false);
                }
                catch (Grpc.Core.RpcException e) when (e.StatusCode is Grpc.Core.StatusCode.Unimplemented)
                {
                    // An engine without the health service is alive enough.
                }
                catch (Grpc.Core.RpcException e) when (!shutdown.IsCancellationRequested)
                {
                    await options.Stderr.WriteLineAsync($"engine at {engineAddress} is gone ({e.StatusCode}); shutting down").ConfigureAwait(false);
                    await shutdown.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
        finally
        {
            channel?.Dispose();
        }
    }
}

/// <summary>
/// With <c>REGISTRYINFRA_STARTUP_TRACE=1</c>, writes to stderr how long after the process started each start-up
/// phase was reached, to find what start-up spends its time on; silent otherwise.
/// </summary>
internal sealed class StartupTrace(TextWriter stderr)
{
    private readonly bool _enabled = Environment.GetEnvironmentVariable("REGISTRYINFRA_STARTUP_TRACE") == "1";

    public void Mark(string phase)
    {
        if (!_enabled)
        {
            return;
        }
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        var sinceStart = TimeProvider.System.GetLocalNow().DateTime - process.StartTime;
        stderr.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"startup: {phase} at {sinceStart.TotalMilliseconds:F1} ms after exec"));
    }
}
