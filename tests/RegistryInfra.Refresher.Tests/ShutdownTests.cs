using RegistryInfra.Testing.Kubernetes;
using static RegistryInfra.Refresher.Tests.RefresherTestBed;

namespace RegistryInfra.Refresher.Tests;

/// <summary>A stop (SIGTERM in the program) stops new targets, lets the writes in flight finish, and ends the run well within the grace period.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task A_stop_starts_no_new_target_and_finishes_the_writes_in_flight()
    {
        await using var bed = await StartAsync(new FakeKubeFaults { Latency = TimeSpan.FromMilliseconds(300) });
        bed.AddNamespaces(12);
        var options = Options(t => t with { AllNamespaces = true }, o => o with { Concurrency = 2 });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = bed.RunUntilStoppedAsync(options, stop.Token);
        // Stop once the first creates have reached the API server, while they are still being served.
        while (bed.Api.RequestCount("POST", "secrets") == 0)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        var stoppedAt = DateTime.UtcNow;
        await stop.CancelAsync();

        var summary = await run;

        Assert.True(DateTime.UtcNow - stoppedAt < TimeSpan.FromSeconds(5), "the run did not end promptly after the stop");
        Assert.True(summary.Stopped);
        Assert.True(summary.NotStarted >= 8, $"not started: {summary.NotStarted}");
        Assert.Equal(0, summary.Failed);
        // Every create that was sent finished: as many secrets exist as creates were sent, none cut off.
        var posts = bed.Api.RequestCount("POST", "secrets");
        Assert.Equal(posts, Enumerable.Range(0, 12).Count(i => bed.Api.GetSecret($"team-{i}", "regcred") is not null));
        Assert.Equal(posts, summary.Created);
        Assert.Empty(bed.Api.Events());
        Assert.Contains(bed.Logs.Entries, e => e.Contains($"not started {summary.NotStarted}", StringComparison.Ordinal) && e.Contains("stopped True", StringComparison.Ordinal));
    }
}
