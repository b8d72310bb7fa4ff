using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Refresher;
using static RegistryInfra.Refresher.Tests.RefresherTestBed;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Events that do not pile up: the same (involved object, reason, type, source, message) is one Event whose count rises,
/// across runs (each CronJob run is a new process, so the key lives in the Event's name), as client-go's correlator does.
/// </summary>
public sealed class EventRecordingTests
{
    private const string Instance = "registryinfra";

    private static RefresherConfiguration MissingBuilder(string account = "builder") =>
        Options(t => t with { NamespaceSelector = "pull", ServiceAccounts = [account] }, o => o with { Instance = Instance });

    private static string Text(JsonObject ev, string field) => ev[field]!.GetValue<string>();

    [Fact]
    public async Task Three_runs_with_a_missing_account_leave_one_event_counted_three_times_whose_last_time_moves()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps", new Dictionary<string, string> { ["pull"] = "yes" });
        var first = bed.Now;

        for (var run = 0; run < 3; run++)
        {
            var summary = await bed.RunAsync(MissingBuilder());
            Assert.Equal((0, 1), (summary.Failed, summary.MissingServiceAccounts));
            bed.Now += TimeSpan.FromMinutes(10);
        }

        var ev = Assert.Single(bed.Api.Events("apps"));
        Assert.Equal(3, ev["count"]!.GetValue<int>());
        Assert.Equal((NamespaceReconciler.ServiceAccountMissingReason, "Normal", "Secret", "regcred"),
            (Text(ev, "reason"), Text(ev, "type"), ev["involvedObject"]!["kind"]!.GetValue<string>(), ev["involvedObject"]!["name"]!.GetValue<string>()));
        Assert.Equal("2026-11-23T08:00:00Z", Text(ev, "firstTimestamp"));
        Assert.Equal((first + TimeSpan.FromMinutes(20)).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture), Text(ev, "lastTimestamp"));
        Assert.StartsWith("regcred.", ev["metadata"]!["name"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_different_message_is_a_second_event_and_the_first_keeps_its_count()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps", new Dictionary<string, string> { ["pull"] = "yes" });

        await bed.RunAsync(MissingBuilder());
        await bed.RunAsync(MissingBuilder());
        await bed.RunAsync(MissingBuilder("deployer"));

        var events = bed.Api.Events("apps").OrderBy(e => e["count"]!.GetValue<int>()).ToList();
        Assert.Equal(2, events.Count);
        Assert.Contains("apps/deployer", Text(events[0], "message"), StringComparison.Ordinal);
        Assert.Equal(1, events[0]["count"]!.GetValue<int>());
        Assert.Contains("apps/builder", Text(events[1], "message"), StringComparison.Ordinal);
        Assert.Equal(2, events[1]["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_repeat_costs_a_create_a_read_and_a_patch_and_the_first_only_the_create()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps", new Dictionary<string, string> { ["pull"] = "yes" });

        var first = await bed.RunAsync(MissingBuilder());
        var second = await bed.RunAsync(MissingBuilder());

        Assert.Equal((1, 0, 0), Kinds(first.Requests));
        Assert.Equal((1, 1, 1), Kinds(second.Requests));

        static (int, int, int) Kinds(ApiLoad load) =>
            (load.ByKind.GetValueOrDefault("POST events"), load.ByKind.GetValueOrDefault("GET events"), load.ByKind.GetValueOrDefault("PATCH events"));
    }

    [Fact]
    public async Task Recorders_racing_on_one_event_each_count_once()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        using var factory = LoggerFactory.Create(b => b.AddProvider(bed.Logs));
        var events = new FailureEvents(bed.Client, bed.Time.Object, factory.CreateLogger("events"));

        // Three at once: one creates, two read the same version, one of them loses the patch (409) and starts over once.
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
            events.RecordAsync("apps", "Secret", "regcred", "RefreshFailed", "ApiError: HTTP 500", TestContext.Current.CancellationToken))));

        Assert.Equal(3, Assert.Single(bed.Api.Events("apps"))["count"]!.GetValue<int>());
        Assert.DoesNotContain("Could not record event", bed.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_that_was_deleted_between_create_and_read_is_created_again()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps", new Dictionary<string, string> { ["pull"] = "yes" });
        await bed.RunAsync(MissingBuilder());
        var name = Assert.Single(bed.Api.Events("apps"))["metadata"]!["name"]!.GetValue<string>();
        // Events expire (the API server's --event-ttl, 1 h by default): the next occurrence starts a new count.
        Assert.NotNull(bed.Api.Delete("events", "apps", name));

        await bed.RunAsync(MissingBuilder());

        Assert.Equal(1, Assert.Single(bed.Api.Events("apps"))["count"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("POST events apps/")]
    [InlineData("GET events apps/*")]
    [InlineData("PATCH events apps/*")]
    public async Task An_event_that_cannot_be_written_never_fails_the_run_and_never_logs_a_credential(string forbidden)
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps", new Dictionary<string, string> { ["pull"] = "yes" });
        bed.Api.AddServiceAccount("apps", "default");
        var options = Options(t => t with { NamespaceSelector = "pull", ServiceAccounts = ["default", "builder"] }, o => o with { Instance = Instance });
        if (forbidden.EndsWith('*'))
        {
            await bed.RunAsync(options);
            forbidden = forbidden.TrimEnd('*') + Assert.Single(bed.Api.Events("apps"))["metadata"]!["name"]!.GetValue<string>();
        }
        bed.Api.Forbidden[forbidden] = true;
        bed.Now += TimeSpan.FromHours(11);

        var summary = await bed.RunAsync(options);

        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Written);
        Assert.Equal(1, summary.MissingServiceAccounts);
        Assert.Contains("Could not record event ServiceAccountMissing on Secret apps/regcred: HTTP 403", bed.Logs.All, StringComparison.Ordinal);
        Assert.NotEmpty(bed.IssuedPasswords);
        foreach (var secret in bed.IssuedPasswords.Append("not-a-real-token"))
        {
            Assert.DoesNotContain(secret, bed.Logs.All, StringComparison.Ordinal);
            Assert.All(bed.Api.Events(), e => Assert.DoesNotContain(secret, e.ToJsonString(), StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_name_is_the_involved_name_and_a_hash_of_the_key_within_a_dns_subdomain()
    {
        var a = FailureEvents.NameOf("apps", "Secret", "regcred", "Warning", "RefreshFailed", "m");
        Assert.Equal(a, FailureEvents.NameOf("apps", "Secret", "regcred", "Warning", "RefreshFailed", "m"));
        Assert.Matches("^regcred\\.[0-9a-f]{16}$", a);
        // Every field of the key tells two Events apart, and fields do not run into each other.
        Assert.Equal(7, new[]
        {
            a,
            FailureEvents.NameOf("other", "Secret", "regcred", "Warning", "RefreshFailed", "m"),
            FailureEvents.NameOf("apps", "ServiceAccount", "regcred", "Warning", "RefreshFailed", "m"),
            FailureEvents.NameOf("apps", "Secret", "regcred", "Normal", "RefreshFailed", "m"),
            FailureEvents.NameOf("apps", "Secret", "regcred", "Warning", "PruneFailed", "m"),
            FailureEvents.NameOf("apps", "Secret", "regcred", "Warning", "RefreshFailed", "n"),
            FailureEvents.NameOf("apps", "Secret", "regcred", "Warning", "RefreshFaile", "dm"),
        }.Distinct(StringComparer.Ordinal).Count());
        var longName = FailureEvents.NameOf("apps", "Secret", new string('s', 253), "Warning", "RefreshFailed", "m");
        Assert.Equal(253, longName.Length);
    }
}
