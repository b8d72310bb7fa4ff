namespace RegistryInfra.Testing.Kubernetes;

/// <summary>
/// Faults the in-memory Kubernetes API injects, so tests can play a busy or broken API server.
/// All randomness comes from <see cref="Seed"/>, so a failing test fails the same way again.
/// </summary>
public sealed record FakeKubeFaults
{
    /// <summary>The first write (create, replace, patch) of each object answers 409 Conflict, as if another writer got there first.</summary>
    public bool ConflictOnFirstWrite { get; init; }

    /// <summary>The fraction (0..1) of requests answered 500 InternalError without touching state.</summary>
    public double ServerErrorRate { get; init; }

    /// <summary>The seed of the generator that picks which requests fail.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>A delay before every answer (the request is still served unless the client gives up).</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Requests with this verb and resource (e.g. <c>PUT secrets</c>) never answer until the client cancels.</summary>
    public string? HangOn { get; init; }

    /// <summary>Answers that arrive with status 200 but cannot be read, as from a broken proxy or a cut connection.</summary>
    public IReadOnlyList<MalformedAnswer> Malformed { get; init; } = [];

    /// <summary>The first this many continue tokens presented to a LIST are answered 410 Gone (reason <c>Expired</c>), as after a compaction.</summary>
    public int ExpiredContinueTokens { get; init; }

    /// <summary>
    /// A watch from a resourceVersion whose history is gone is answered with HTTP 410 Gone itself instead of the API server's
    /// 200 and an ERROR event carrying a 410 Status (what a proxy, or a server without the watch cache, may send).
    /// </summary>
    public bool WatchExpiredAsHttpStatus { get; init; }

    /// <summary>No faults.</summary>
    public static FakeKubeFaults None { get; } = new();
}

/// <summary>How a malformed answer is broken.</summary>
public enum MalformedKind
{
    /// <summary>The JSON body is cut in half (the HTTP framing is whole: Content-Length matches what is sent).</summary>
    TruncatedJson,

    /// <summary>The body is an HTML error page, as a proxy in front of the API server would send.</summary>
    NotJson,

    /// <summary>Valid JSON whose Secret <c>data</c> value is not base64 (the API always sends base64 there).</summary>
    NotBase64,
}

/// <summary>Requests with this verb and resource (e.g. <c>GET secrets</c>, <c>LIST namespaces</c>), in this namespace when given, are answered malformed.</summary>
public sealed record MalformedAnswer(string On, MalformedKind Kind, string? Namespace = null);
