using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RegistryInfra.Testing.Registry;

/// <summary>
/// A misbehaving registry on 127.0.0.1 whose answers a test scripts (redirects, foreign realms, echoed
/// credentials, oversized, malformed or late answers), recording every byte it received: request line,
/// every header and the body. Tests assert what never reached it.
/// </summary>
public sealed class HostileRegistry : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _received = new();

    private HostileRegistry(WebApplication app) => _app = app;

    /// <summary>host:port of this server.</summary>
    public string Authority { get; private set; } = "";

    /// <summary>http://host:port</summary>
    public string Origin => "http://" + Authority;

    /// <summary>How many requests it saw.</summary>
    public int RequestCount => _received.Count;

    /// <summary>Everything received, one request after another, as text.</summary>
    public string Received => string.Join("\n", _received);

    /// <summary>The request paths (with query) seen, in order.</summary>
    public ConcurrentQueue<string> Paths { get; } = new();

    /// <summary>Starts a server answering with <paramref name="handler"/>.</summary>
    public static async Task<HostileRegistry> StartAsync(Func<HostileRegistry, HttpContext, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = 1024 * 1024;
        });
        var app = builder.Build();
        var server = new HostileRegistry(app);
        app.Run(async context =>
        {
            var text = new StringBuilder();
            text.Append(context.Request.Method).Append(' ').Append(context.Request.Path).Append(context.Request.QueryString).Append('\n');
            foreach (var (name, values) in context.Request.Headers)
            {
                text.Append(name).Append(": ").Append(values.ToString()).Append('\n');
            }
            using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
            {
                text.Append(await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false));
            }
            server._received.Enqueue(text.ToString());
            server.Paths.Enqueue(context.Request.Path + context.Request.QueryString);
            await handler(server, context).ConfigureAwait(false);
        });
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Authority = new Uri(address).Authority;
        return server;
    }

    /// <summary>Answers <paramref name="status"/> with a JSON body.</summary>
    public static Task JsonAsync(HttpContext context, int status, string json)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }

    /// <summary>Answers 401 with the given <c>WWW-Authenticate</c> challenge.</summary>
    public static Task ChallengeAsync(HttpContext context, string challenge)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = 401;
        context.Response.Headers.WWWAuthenticate = challenge;
        return context.Response.WriteAsync("{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}");
    }

    /// <summary>Answers a redirect to <paramref name="location"/>.</summary>
    public static Task RedirectAsync(HttpContext context, string location, int status = 307)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
