using RegistryInfra.Testing.Kubernetes;
using static RegistryInfra.Refresher.Tests.RefresherTestBed;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Answers the client cannot read (truncated JSON, an HTML page from a proxy, Secret data that is not base64) fail
/// the one target they belong to, with an Event and a summary; the run goes on and the other targets are refreshed.
/// </summary>
public sealed class MalformedAnswerTests
{
    public static TheoryData<MalformedKind> Kinds => [MalformedKind.TruncatedJson, MalformedKind.NotJson, MalformedKind.NotBase64];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_malformed_secret_answer_fails_that_namespace_only_and_leaves_its_secret_as_it_was(MalformedKind kind)
    {
        await using var bed = await StartAsync();
        bed.AddNamespaces(3);
        var options = Options(t => t with { Namespaces = ["team-0", "team-1", "team-2"] });
        Assert.Equal(3, (await bed.RunAsync(options)).Created);
        var before = bed.Api.GetSecretData("team-1", "regcred", ".dockerconfigjson");
        bed.Api.Faults = new FakeKubeFaults { Malformed = [new MalformedAnswer("GET secrets", kind, "team-1")] };
        bed.Now += TimeSpan.FromHours(6); // every secret is due

        var summary = await bed.RunAsync(options);

        Assert.Equal((2, 1), (summary.Updated, summary.Failed));
        var failed = Assert.Single(summary.Outcomes, o => o.Result == TargetResult.Failed);
        Assert.Equal(("team-1", "MalformedResponse"), (failed.Namespace, failed.Reason));
        Assert.Equal(before, bed.Api.GetSecretData("team-1", "regcred", ".dockerconfigjson"));
        var ev = Assert.Single(bed.Api.Events("team-1"));
        Assert.Contains("MalformedResponse", ev["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(bed.Logs.Entries, e => e.Contains("Refresh run: checked 3, written 2", StringComparison.Ordinal) && e.Contains("failed 1", StringComparison.Ordinal));
        Assert.All(bed.IssuedPasswords, p => Assert.DoesNotContain(p, bed.Logs.All, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(MalformedKind.TruncatedJson)]
    [InlineData(MalformedKind.NotJson)]
    public async Task A_malformed_service_account_answer_fails_that_namespace_only(MalformedKind kind)
    {
        await using var bed = await StartAsync(new FakeKubeFaults { Malformed = [new MalformedAnswer("GET serviceaccounts", kind, "team-2")] });
        bed.AddNamespaces(3);
        foreach (var ns in new[] { "team-0", "team-1", "team-2" })
        {
            bed.Api.AddServiceAccount(ns, "default");
        }

        var summary = await bed.RunAsync(Options(t => t with { Namespaces = ["team-0", "team-1", "team-2"], ServiceAccounts = ["default"] }));

        Assert.Equal((3, 1, 2), (summary.Checked, summary.Failed, summary.ServiceAccountsPatched));
        Assert.Equal(["regcred"], bed.Api.ImagePullSecrets("team-0", "default"));
        Assert.Empty(bed.Api.ImagePullSecrets("team-2", "default"));
        Assert.Single(bed.Api.Events("team-2"));
    }

    [Theory]
    [InlineData(MalformedKind.TruncatedJson)]
    [InlineData(MalformedKind.NotJson)]
    public async Task A_malformed_namespace_list_fails_that_target_and_the_listed_target_is_still_refreshed(MalformedKind kind)
    {
        await using var bed = await StartAsync(new FakeKubeFaults { Malformed = [new MalformedAnswer("LIST namespaces", kind)] });
        bed.AddNamespaces(2);
        var options = Options(t => t with { AllNamespaces = true });
        options = options with { Targets = [.. options.Targets, new() { SecretName = "listed", Namespaces = ["team-1"] }] };

        var summary = await bed.RunAsync(options);

        Assert.Equal((1, 1), (summary.Created, summary.Failed));
        Assert.Equal("NamespaceListFailed", Assert.Single(summary.Outcomes, o => o.Result == TargetResult.Failed).Reason);
        Assert.NotNull(bed.Api.GetSecret("team-1", "listed"));
    }

    [Fact]
    public async Task Ten_thousand_namespaces_are_listed_in_pages()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespaces(Enumerable.Range(0, 10_000).Select(i => $"ns-{i:D5}"), labels: null, serviceAccount: null);
        var retry = new TransientRetry(0, TimeSpan.Zero, TimeProvider.System);

        var names = await RefreshRun.ResolveNamespacesAsync(bed.Client, new() { SecretName = "s", AllNamespaces = true }, retry, TestContext.Current.CancellationToken);

        Assert.Equal(10_000, names.Count);
        Assert.Equal(10_000, names.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(10_000 / RefreshRun.NamespacePageSize, bed.Api.RequestCount("LIST", "namespaces"));
    }
}
