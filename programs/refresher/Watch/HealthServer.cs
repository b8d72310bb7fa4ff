using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace RegistryInfra.Refresher.Watch;

/// <summary>
/// <c>GET /healthz</c> and <c>GET /readyz</c> for the Deployment's probes: a minimal HTTP/1.1 responder on a TcpListener
/// (the refresher is NativeAOT and has no web server; the probes send one GET per connection and read the status line).
/// Each answer closes its connection. Anything but a GET of those two paths is 404 (or 405 for another method).
/// </summary>
/// <remarks>
/// The <c>/readyz</c> answer carries the readiness's detail in parentheses when it has one: why a replica is or is not ready
/// (a standby waiting for a leader of its configuration), or why a ready leader serves less than it should (degraded).
/// </remarks>
internal sealed partial class HealthServer(int port, Func<bool> healthy, Func<Readiness> ready, ILogger logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task? _loop;

    /// <summary>The port listened on (the one given, or the one picked for 0).</summary>
    public int Port { get; private set; }

    /// <summary>Starts listening on every address (the kubelet probes the pod IP).</summary>
    public void Start()
    {
        _listener = new TcpListener(IPAddress.IPv6Any, port);
        _listener.Server.DualMode = true;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        LogListening(logger, Port);
        _loop = AcceptAsync(_stop.Token);
    }

    private async Task AcceptAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptSocketAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                if (ct.IsCancellationRequested)
                {
                    return;
                }
                continue;
            }
            _ = Task.Run(() => AnswerAsync(socket, ct), CancellationToken.None);
        }
    }

    private async Task AnswerAsync(Socket socket, CancellationToken ct)
    {
        using (socket)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                var buffer = new byte[2048];
                var read = 0;
                // The request line and headers, up to the blank line (or the buffer's end: a probe sends a few hundred bytes).
                while (read < buffer.Length)
                {
                    var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }
                    read += n;
                    if (buffer.AsSpan(0, read).IndexOf("\r\n\r\n"u8) >= 0)
                    {
                        break;
                    }
                }
                var head = Encoding.ASCII.GetString(buffer, 0, read);
                var line = head.Split("\r\n", 2)[0].Split(' ');
                var (code, text) = line switch
                {
                    ["GET", "/healthz", ..] => healthy() ? (200, "ok") : (503, "unhealthy"),
                    ["GET", "/readyz", ..] => ready() switch
                    {
                        { Ready: true, Detail: { Length: > 0 } detail } => (200, "ok (" + detail + ")"),
                        { Ready: true } => (200, "ok"),
                        { Detail: { Length: > 0 } detail } => (503, "not ready (" + detail + ")"),
                        _ => (503, "not ready"),
                    },
                    [_, "/healthz" or "/readyz", ..] => (405, "method not allowed"),
                    _ => (404, "not found"),
                };
                var reason = code switch { 200 => "OK", 404 => "Not Found", 405 => "Method Not Allowed", _ => "Service Unavailable" };
                var answer = $"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {text.Length + 1}\r\nConnection: close\r\n\r\n{text}\n";
                await socket.SendAsync(Encoding.ASCII.GetBytes(answer), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A probe that went away or never finished its request: nothing to answer.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 80, Level = LogLevel.Information, Message = "Health endpoints /healthz and /readyz on port {Port}")]
    private static partial void LogListening(ILogger logger, int port);
}

/// <summary>Whether a replica is ready, and why (or null).</summary>
internal readonly record struct Readiness(bool Ready, string? Detail);
