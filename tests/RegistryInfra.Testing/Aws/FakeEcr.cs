using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace RegistryInfra.Testing.Aws;

/// <summary>A scripted failure for the next request to <see cref="FakeEcr"/>.</summary>
public abstract record EcrFault
{
    /// <summary>An AWS JSON error answer: <c>{"__type": Code, "message": Message}</c> with the status.</summary>
    public sealed record Error(int Status, string Code, string Message) : EcrFault;

    /// <summary>A 200 (or other status) with a body that is not the documented shape.</summary>
    public sealed record Garbage(string Body, int Status = 200) : EcrFault;

    /// <summary>Waits this long (or until the client gives up) before answering normally.</summary>
    public sealed record Slow(TimeSpan Delay) : EcrFault;

    public static EcrFault Throttling { get; } = new Error(400, "ThrottlingException", "Rate exceeded");

    public static EcrFault ExpiredToken { get; } = new Error(400, "ExpiredTokenException", "The security token included in the request is expired");

    public static EcrFault AccessDenied { get; } = new Error(400, "AccessDeniedException", "User is not authorized to perform: ecr:GetAuthorizationToken");

    public static EcrFault ServerError(int status = 500) => new Error(status, "ServerException", "Internal failure");
}

/// <summary>One request the fake saw, with the verifier's verdict.</summary>
public sealed record FakeEcrRequest(DateTimeOffset ReceivedAt, string? Target, string? AccessKeyId, bool SignatureValid, string? RejectedWith, string? Reason, EcrFault? Fault);

/// <summary>Settings of a <see cref="FakeEcr"/>.</summary>
public sealed record FakeEcrOptions
{
    public string Region { get; init; } = "eu-west-1";

    public string AccountId { get; init; } = "123456789012";

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromHours(12);
}

/// <summary>
/// A fake ECR API on 127.0.0.1 that checks every request's SigV4 signature with its own verifier
/// (<see cref="SigV4Verifier"/>), the date skew and the access key, then answers GetAuthorizationToken
/// (private ECR and ECR Public) in the real response shape. Faults are scripted with
/// <see cref="EnqueueFault"/> and consumed one per request, in order; every request is recorded.
/// </summary>
public sealed class FakeEcr : IAsyncDisposable
{
    public const string PrivateTarget = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
    public const string PublicTarget = "SpencerFrontendService.GetAuthorizationToken";

    private readonly ConcurrentDictionary<string, (string SecretKey, string? SessionToken)> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<EcrFault> _faults = new();
    private readonly ConcurrentQueue<FakeEcrRequest> _requests = new();
    private readonly ConcurrentQueue<string> _issued = new();
    private readonly SigV4Verifier _verifier;
    private LoopbackHttpServer? _server;

    private FakeEcr(FakeEcrOptions options)
    {
        Options = options;
        AccessKeyId = "AKIAFAKE" + RandomNumberGenerator.GetHexString(12);
        SecretAccessKey = RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40);
        _keys[AccessKeyId] = (SecretAccessKey, null);
        _verifier = new SigV4Verifier(options.Region, ["ecr", "ecr-public"], id => _keys.TryGetValue(id, out var k) ? k : null, options.Clock);
    }

    public FakeEcrOptions Options { get; }

    /// <summary>The endpoint to give the client (http://127.0.0.1:PORT/).</summary>
    public Uri Endpoint => _server?.BaseAddress ?? throw new InvalidOperationException("not started");

    public string Region => Options.Region;

    /// <summary>A long-term key pair the fake accepts.</summary>
    public string AccessKeyId { get; }

    public string SecretAccessKey { get; }

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<FakeEcrRequest> Requests => _requests.ToArray();

    /// <summary>The registry passwords issued so far.</summary>
    public IReadOnlyList<string> IssuedPasswords => _issued.ToArray();

    public static async Task<FakeEcr> StartAsync(FakeEcrOptions? options = null, CancellationToken cancellationToken = default)
    {
        var fake = new FakeEcr(options ?? new FakeEcrOptions());
        fake._server = await LoopbackHttpServer.StartAsync(fake.HandleAsync, cancellationToken).ConfigureAwait(false);
        return fake;
    }

    /// <summary>Accepts another key (temporary credentials need their session token on every request).</summary>
    public void AddCredentials(string accessKeyId, string secretAccessKey, string? sessionToken = null) =>
        _keys[accessKeyId] = (secretAccessKey, sessionToken);

    public void EnqueueFault(EcrFault fault) => _faults.Enqueue(fault ?? throw new ArgumentNullException(nameof(fault)));

    private async Task HandleAsync(HttpContext context)
    {
        var now = Options.Clock.GetUtcNow();
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        var body = buffer.ToArray();
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        _faults.TryDequeue(out var fault);

        var headers = context.Request.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v ?? ""))).ToList();
        var verdict = _verifier.Verify(new SignedRequest(context.Request.Method, context.Request.Path.ToUriComponent(), context.Request.QueryString.Value ?? "", headers, body));
        _requests.Enqueue(new FakeEcrRequest(now, target.Length == 0 ? null : target, verdict.AccessKeyId, verdict.Valid, verdict.ErrorCode, verdict.Reason, fault));

        switch (fault)
        {
            case EcrFault.Error error:
                await WriteErrorAsync(context, error.Status, error.Code, error.Message).ConfigureAwait(false);
                return;
            case EcrFault.Garbage garbage:
                context.Response.StatusCode = garbage.Status;
                context.Response.ContentType = "application/x-amz-json-1.1";
                await context.Response.WriteAsync(garbage.Body, context.RequestAborted).ConfigureAwait(false);
                return;
            case EcrFault.Slow slow:
                await Task.Delay(slow.Delay, Options.Clock, context.RequestAborted).ConfigureAwait(false);
                break;
        }

        if (!verdict.Valid)
        {
            await WriteErrorAsync(context, 400, verdict.ErrorCode!, verdict.Reason!).ConfigureAwait(false);
            return;
        }
        var expectedService = target == PublicTarget ? "ecr-public" : "ecr";
        if (target is not (PrivateTarget or PublicTarget) || verdict.Service != expectedService)
        {
            await WriteErrorAsync(context, 400, "UnknownOperationException", "unknown X-Amz-Target or wrong service for it").ConfigureAwait(false);
            return;
        }
        if (!context.Request.ContentType?.StartsWith("application/x-amz-json-1.1", StringComparison.Ordinal) ?? true)
        {
            await WriteErrorAsync(context, 400, "SerializationException", "Content-Type must be application/x-amz-json-1.1").ConfigureAwait(false);
            return;
        }

        var password = "ecr-" + RandomNumberGenerator.GetHexString(48);
        _issued.Enqueue(password);
        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password));
        var expiresAt = Math.Round((now + Options.TokenLifetime).ToUnixTimeMilliseconds() / 1000.0, 3);
        object data = target == PublicTarget
            ? new { authorizationData = new { authorizationToken = token, expiresAt } }
            : new
            {
                authorizationData = new[]
                {
                    new { authorizationToken = token, expiresAt, proxyEndpoint = $"https://{Options.AccountId}.dkr.ecr.{Options.Region}.amazonaws.com" },
                },
            };
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.1";
        await context.Response.WriteAsync(JsonSerializer.Serialize(data), context.RequestAborted).ConfigureAwait(false);
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = code, ["message"] = message }), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"FakeEcr({Endpoint}, {Region})");
}
