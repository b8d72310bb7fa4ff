using Grpc.Core;
using Grpc.Net.Client;
using Pulumirpc;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>Severity of a message sent to the engine.</summary>
public enum LogLevel
{
    /// <summary>Shown with --debug only.</summary>
    Debug,
    /// <summary>Informational.</summary>
    Info,
    /// <summary>A warning.</summary>
    Warning,
    /// <summary>An error.</summary>
    Error,
}

/// <summary>
/// Logging to the engine's Log service (shown by the CLI next to the resource) and to stderr. Never give it
/// a credential: messages are shown to users and written to CI logs.
/// </summary>
public interface IEngineLog
{
    /// <summary>Logs <paramref name="message"/> about the resource <paramref name="urn"/> (empty for none).</summary>
    Task LogAsync(LogLevel level, string message, string urn, CancellationToken cancellationToken);
}

/// <summary>An <see cref="IEngineLog"/> over a gRPC connection to the engine; failures fall back to stderr only.</summary>
public sealed class EngineLog : IEngineLog, IDisposable
{
    // Opened on the first message, not at start: setting up a gRPC channel costs the plugin's start-up about a
    // tenth of its CPU, and most runs never log.
    private readonly Lazy<(GrpcChannel Channel, Engine.EngineClient Client)>? _engine;
    private readonly TextWriter _stderr;

    /// <summary>Connects lazily to the engine at <paramref name="engineAddress"/> (host:port); null logs to stderr only.</summary>
    public EngineLog(string? engineAddress, TextWriter stderr)
    {
        _stderr = stderr;
        if (!string.IsNullOrEmpty(engineAddress))
        {
            _engine = new(() =>
            {
                var channel = GrpcChannel.ForAddress(ToUri(engineAddress));
                return (channel, new Engine.EngineClient(channel));
            }, LazyThreadSafetyMode.ExecutionAndPublication);
        }
    }

    /// <summary>Whether the connection to the engine has been opened (by a first message).</summary>
    public bool IsConnected => _engine?.IsValueCreated == true;

    /// <inheritdoc/>
    public async Task LogAsync(LogLevel level, string message, string urn, CancellationToken cancellationToken)
    {
        message = StatusText.Cap(message, StatusText.MaxReasonLength);
        await _stderr.WriteLineAsync($"{level.ToString().ToUpperInvariant()}: {(urn.Length > 0 ? urn + ": " : "")}{message}").ConfigureAwait(false);
        if (_engine is null)
        {
            return;
        }
        try
        {
            await _engine.Value.Client.LogAsync(new LogRequest
            {
                Severity = level switch
                {
                    LogLevel.Debug => LogSeverity.Debug,
                    LogLevel.Info => LogSeverity.Info,
                    LogLevel.Warning => LogSeverity.Warning,
                    _ => LogSeverity.Error,
                },
                Message = message,
                Urn = urn,
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            // The engine may be gone already; the message is on stderr, which is enough.
            await _stderr.WriteLineAsync($"engine log failed: {e.Status.StatusCode}").ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_engine?.IsValueCreated == true)
        {
            _engine.Value.Channel.Dispose();
        }
    }

    /// <summary>The engine gives a bare host:port; gRPC needs a cleartext URI.</summary>
    internal static Uri ToUri(string address) =>
        address.Contains("://", StringComparison.Ordinal) ? new Uri(address) : new Uri("http://" + address);
}
