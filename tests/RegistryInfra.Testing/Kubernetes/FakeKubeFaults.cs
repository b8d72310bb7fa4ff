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

    /// <summary>No faults.</summary>
    public static FakeKubeFaults None { get; } = new();
}
