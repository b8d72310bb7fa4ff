using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RegistryInfra.Core.Tests.Distribution;

/// <summary>A loopback HTTP server (Kestrel) whose answers a test scripts, recording each request it saw.</summary>
internal sealed class StubServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StubServer(WebApplication app) => _app = app;

    public sealed record Seen(string Method, string PathAndQuery, string? Authorization, string? UserAgent, string? Accept);

    public ConcurrentQueue<Seen> Requests { get; } = new();

    public int Port { get; private set; }

    public string Authority => $"127.0.0.1:{Port}";

    /// <summary>The same server under the name localhost: another origin for redirect tests.</summary>
    public string LocalhostAuthority => $"localhost:{Port}";

    public static async Task<StubServer> StartAsync(RequestDelegate handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new StubServer(app);
        app.Run(async context =>
        {
            server.Requests.Enqueue(new Seen(context.Request.Method, context.Request.Path + context.Request.QueryString,
                context.Request.Headers.Authorization.FirstOrDefault(), context.Request.Headers.UserAgent.FirstOrDefault(),
                context.Request.Headers.Accept.ToString()));
            await handler(context);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Port = new Uri(address).Port;
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
