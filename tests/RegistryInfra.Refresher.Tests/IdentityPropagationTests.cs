using Moq;
using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Guarantee 4's first run: a new IAM role or Workload Identity binding is refused for a while after it is created.
/// The run-on-deploy Job (<c>--identity-wait 3m</c>) retries such refusals with backoff and, when they last, reports the
/// cloud's own error, not a timeout; the CronJob's runs (no wait) fail at once as before.
/// </summary>
public sealed class IdentityPropagationTests
{
    private const string CloudError = "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/refresher is not authorized to perform: ecr:GetAuthorizationToken";

    private static async Task<(RunSummary Summary, int Calls)> RunAsync(TimeSpan identityWait, int refusals)
    {
        await using var bed = await RefresherTestBed.StartAsync();
        bed.Api.AddNamespace("apps");
        bed.IdentityWait = identityWait;
        var calls = 0;
        bed.Source.Setup(s => s.GetCredentialAsync(It.IsAny<CancellationToken>())).Returns(() =>
            ++calls <= refusals ? throw new RegistryException(RegistryErrorKind.Forbidden, CloudError) : ValueTask.FromResult(bed.NextCredential()));
        var summary = await bed.RunAsync(RefresherTestBed.Options(t => t with { Namespaces = ["apps"] }));
        return (summary, calls);
    }

    [Fact]
    public async Task A_refusal_while_the_identity_propagates_is_retried_and_the_secret_is_filled()
    {
        var (summary, calls) = await RunAsync(TimeSpan.FromSeconds(2), refusals: 2);

        Assert.Equal((1, 0, 3), (summary.Created, summary.Failed, calls));
    }

    [Fact]
    public async Task A_refusal_that_outlasts_the_wait_fails_with_the_clouds_error()
    {
        var (summary, calls) = await RunAsync(TimeSpan.FromMilliseconds(800), refusals: 1000);

        var outcome = Assert.Single(summary.Outcomes);
        Assert.Equal((TargetResult.Failed, "TokenUnavailable"), (outcome.Result, outcome.Reason));
        Assert.Contains(CloudError, outcome.Message, StringComparison.Ordinal);
        Assert.Contains("for the cloud identity to propagate", outcome.Message, StringComparison.Ordinal);
        Assert.InRange(calls, 3, 20);
    }

    [Fact]
    public async Task Without_a_wait_a_refusal_fails_at_once()
    {
        var (summary, calls) = await RunAsync(TimeSpan.Zero, refusals: 1000);

        Assert.Equal((1, 1), (summary.Failed, calls));
    }
}
