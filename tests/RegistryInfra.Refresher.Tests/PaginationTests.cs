using System.Net;
using System.Text.Json.Nodes;
using RegistryInfra.Testing.Kubernetes;
using static RegistryInfra.Refresher.Tests.RefresherTestBed;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Namespaces listed in chunks (<c>limit</c>/<c>continue</c>) and a continue token that expires between two chunks, as
/// kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks describes: the API server
/// answers 410 Gone (reason <c>Expired</c>) with a token for an inconsistent continuation; a client that needs a
/// consistent list starts again without <c>continue</c>.
/// </summary>
public sealed class PaginationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_fake_api_answers_an_expired_continue_token_with_410_and_a_token_to_go_on_inconsistently()
    {
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        api.AddNamespaces(Enumerable.Range(0, 5).Select(i => $"ns-{i}"), labels: null, serviceAccount: null);
        using var http = new HttpClient { BaseAddress = new Uri(api.Host) };

        var first = JsonNode.Parse(await http.GetStringAsync("/api/v1/namespaces?limit=2", Ct))!;
        Assert.Equal(["ns-0", "ns-1"], first["items"]!.AsArray().Select(n => n!["metadata"]!["name"]!.GetValue<string>()));
        Assert.Equal(3, first["metadata"]!["remainingItemCount"]!.GetValue<int>());
        var token = first["metadata"]!["continue"]!.GetValue<string>();
        api.Compact();

        using var expired = await http.GetAsync($"/api/v1/namespaces?limit=2&continue={Uri.EscapeDataString(token)}", Ct);
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        var status = JsonNode.Parse(await expired.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(("Status", "Expired", 410), (status["kind"]!.GetValue<string>(), status["reason"]!.GetValue<string>(), status["code"]!.GetValue<int>()));
        var inconsistent = status["metadata"]!["continue"]!.GetValue<string>();

        var rest = JsonNode.Parse(await http.GetStringAsync($"/api/v1/namespaces?limit=10&continue={Uri.EscapeDataString(inconsistent)}", Ct))!;
        Assert.Equal(["ns-2", "ns-3", "ns-4"], rest["items"]!.AsArray().Select(n => n!["metadata"]!["name"]!.GetValue<string>()));
        Assert.Null(rest["metadata"]!["continue"]);

        // A list started after the compaction pages normally.
        var fresh = JsonNode.Parse(await http.GetStringAsync("/api/v1/namespaces?limit=2", Ct))!;
        using var next = await http.GetAsync($"/api/v1/namespaces?limit=2&continue={Uri.EscapeDataString(fresh["metadata"]!["continue"]!.GetValue<string>())}", Ct);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task A_list_whose_continue_token_expired_starts_again_and_refreshes_every_namespace_once()
    {
        await using var bed = await StartAsync(new FakeKubeFaults { ExpiredContinueTokens = 1 });
        bed.AddNamespaces(1_200);

        var summary = await bed.RunAsync(Options(t => t with { AllNamespaces = true }, o => o with { Concurrency = 32 }));

        Assert.Equal((1_200, 1_200, 0), (summary.Checked, summary.Created, summary.Failed));
        // Pages of 500: the first chunk, the second refused (410), then the three chunks of the new list.
        Assert.Equal(2 + 3, bed.Api.RequestCount("LIST", "namespaces"));
        Assert.Equal(1_200, bed.Api.RequestCount("POST", "secrets"));
    }

    [Fact]
    public async Task A_list_that_keeps_expiring_fails_its_target_only_after_bounded_restarts()
    {
        await using var bed = await StartAsync(new FakeKubeFaults { ExpiredContinueTokens = 100 });
        bed.AddNamespaces(600);
        var options = Options(t => t with { AllNamespaces = true });
        options = options with { Targets = [.. options.Targets, new() { SecretName = "listed", Namespaces = ["team-1"] }] };

        var summary = await bed.RunAsync(options);

        var failed = Assert.Single(summary.Outcomes, o => o.Result == TargetResult.Failed);
        Assert.Equal(("*", "NamespaceListFailed"), (failed.Namespace, failed.Reason));
        Assert.Contains("HTTP 410", failed.Message, StringComparison.Ordinal);
        Assert.Equal(1, summary.Created);
        Assert.NotNull(bed.Api.GetSecret("team-1", "listed"));
        Assert.Equal(2 * (1 + RefreshRun.ListRestarts), bed.Api.RequestCount("LIST", "namespaces"));
    }
}
