using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pulumirpc;

namespace RegistryInfra.Testing;

/// <summary>
/// A fake Pulumi engine on 127.0.0.1: serves the Engine service (recording every Log call) and answers the
/// gRPC health check as the real engine does, so a plugin started with its address stays up.
/// </summary>
public sealed class FakeEngine : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Recorder _recorder;

    private FakeEngine(WebApplication app, Recorder recorder)
    {
        _app = app;
        _recorder = recorder;
    }

    /// <summary>host:port, as the engine passes it to plugins.</summary>
    public string Address => new Uri(_app.Urls.First()).Authority;

    /// <summary>Every Log request received, in order.</summary>
    public IReadOnlyCollection<LogRequest> Logs => [.. _recorder.Logs];

    /// <summary>Starts the engine on an OS-chosen port.</summary>
    public static async Task<FakeEngine> StartAsync(CancellationToken cancellationToken)
    {
        var recorder = new Recorder();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(recorder);
        builder.Services.AddSingleton<EngineService>();
        builder.Services.AddSingleton<HealthService>();
        var app = builder.Build();
        app.MapGrpcService<EngineService>();
        app.MapGrpcService<HealthService>();
        await app.StartAsync(cancellationToken);
        return new FakeEngine(app, recorder);
    }

    /// <summary>Waits until a log message matching <paramref name="match"/> arrives.</summary>
    public Task<LogRequest> WaitForLogAsync(Func<LogRequest, bool> match, TimeSpan timeout) => _recorder.WaitAsync(match, timeout);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class Recorder
    {
        private readonly object _gate = new();
        private readonly List<(Func<LogRequest, bool> Match, TaskCompletionSource<LogRequest> Done)> _waiters = [];

        public ConcurrentQueue<LogRequest> Logs { get; } = new();

        public void Add(LogRequest request)
        {
            lock (_gate)
            {
                Logs.Enqueue(request);
                foreach (var waiter in _waiters.Where(w => w.Match(request)).ToList())
                {
                    waiter.Done.TrySetResult(request);
                    _waiters.Remove(waiter);
                }
            }
        }

        public async Task<LogRequest> WaitAsync(Func<LogRequest, bool> match, TimeSpan timeout)
        {
            var done = new TaskCompletionSource<LogRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                var existing = Logs.FirstOrDefault(match);
                if (existing is not null)
                {
                    return existing;
                }
                _waiters.Add((match, done));
            }
            return await done.Task.WaitAsync(timeout);
        }
    }

    private sealed class EngineService(Recorder recorder) : Engine.EngineBase
    {
        public override Task<Empty> Log(LogRequest request, ServerCallContext context)
        {
            recorder.Add(request);
            return Task.FromResult(new Empty());
        }
    }

    private sealed class HealthService : RegistryInfra.Protocol.Health.Health.HealthBase
    {
        public override Task<RegistryInfra.Protocol.Health.HealthCheckResponse> Check(RegistryInfra.Protocol.Health.HealthCheckRequest request, ServerCallContext context) =>
            Task.FromResult(new RegistryInfra.Protocol.Health.HealthCheckResponse { Status = RegistryInfra.Protocol.Health.HealthCheckResponse.Types.ServingStatus.Serving });
    }
}
