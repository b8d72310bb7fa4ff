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
    private readonly GrpcChannel? _channel;
    private readonly Engine.EngineClient? _client;
    private readonly TextWriter _stderr;

    /// <summary>Connects lazily to the engine at <paramref name="engineAddress"/> (host:port); null logs to stderr only.</summary>
    public EngineLog(string? engineAddress, TextWriter stderr)
    {
        _stderr = stderr;
        if (!string.IsNullOrEmpty(engineAddress))
        {
            _channel = GrpcChannel.ForAddress(ToUri(engineAddress));
            _client = new Engine.EngineClient(_channel);
        }
    }

    /// <summary>The engine client, for other engine calls (null when there is no engine).</summary>
    public Engine.EngineClient? Client => _client;

    /// <inheritdoc/>
    public async Task LogAsync(LogLevel level, string message, string urn, CancellationToken cancellationToken)
    {
        message = StatusText.Cap(message, StatusText.MaxReasonLength);
        await _stderr.WriteLineAsync($"{level.ToString().ToUpperInvariant()}: {(urn.Length > 0 ? urn + ": " : "")}{message}").ConfigureAwait(false);
        if (_client is null)
        {
            return;
        }
        try
        {
            await _client.LogAsync(new LogRequest
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
    public void Dispose() => _channel?.Dispose();

    /// <summary>The engine gives a bare host:port; gRPC needs a cleartext URI.</summary>
    internal static Uri ToUri(string address) =>
        address.Contains("://", StringComparison.Ordinal) ? new Uri(address) : new Uri("http://" + address);
}
