namespace RegistryInfra.Benchmarks;

/// <summary>
/// One timed harness. Implementations are found by reflection, so each lives in its own file.
/// They print their own figures (medians, ratios, counts, peak memory) and return an exit code.
/// </summary>
public interface IBenchmark
{
    /// <summary>The name given on the command line, such as <c>digests</c>.</summary>
    string Name { get; }

    /// <summary>One line saying what it measures.</summary>
    string Description { get; }

    Task<int> RunAsync(string[] args, CancellationToken cancellationToken);
}
