using System.Text;
using System.Text.Json.Nodes;
using Moq;
using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Testing.Kubernetes;
using static RegistryInfra.Refresher.Tests.RefresherTestBed;

namespace RegistryInfra.Refresher.Tests;

/// <summary>Refresh runs against the in-memory Kubernetes API, through the real KubernetesClient.</summary>
public sealed class RefreshRunTests
{
    private static string Password(JsonObject config, string server) => config["auths"]![server]!["password"]!.GetValue<string>();

    [Fact]
    public async Task Creates_missing_secrets_with_one_token_for_all_namespaces_and_patches_service_accounts()
    {
        await using var bed = await StartAsync();
        bed.AddNamespaces(5);
        bed.Api.AddServiceAccount("team-0", "default", "existing-pull");
        for (var i = 1; i < 5; i++)
        {
            bed.Api.AddServiceAccount($"team-{i}", "default");
        }
        var options = Options(t => t with { Namespaces = [.. Enumerable.Range(0, 5).Select(i => $"team-{i}")], ServiceAccounts = ["default"] });

        var summary = await bed.RunAsync(options);

        Assert.Equal((5, 5, 0, 1), (summary.Checked, summary.Created, summary.Failed, summary.TokenRequests));
        bed.Source.Verify(s => s.GetCredentialAsync(It.IsAny<CancellationToken>()), Times.Once);
        var password = bed.IssuedPasswords.Single();
        for (var i = 0; i < 5; i++)
        {
            var secret = bed.Api.GetSecret($"team-{i}", "regcred")!;
            Assert.Equal("kubernetes.io/dockerconfigjson", secret["type"]!.GetValue<string>());
            Assert.Equal("registryinfra-refresher", secret["metadata"]!["labels"]!["app.kubernetes.io/managed-by"]!.GetValue<string>());
            Assert.Equal("2026-11-23T20:00:00Z", secret["metadata"]!["annotations"]!["registryinfra.io/expires-at"]!.GetValue<string>());
            Assert.Equal("2026-11-23T08:00:00Z", secret["metadata"]!["annotations"]!["registryinfra.io/refreshed-at"]!.GetValue<string>());
            var entry = bed.DockerConfig($"team-{i}")!["auths"]![EcrServer]!;
            Assert.Equal("AWS", entry["username"]!.GetValue<string>());
            Assert.Equal(password, entry["password"]!.GetValue<string>());
            Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password)), entry["auth"]!.GetValue<string>());
        }
        Assert.Equal(["existing-pull", "regcred"], bed.Api.ImagePullSecrets("team-0", "default"));
        Assert.Equal(["regcred"], bed.Api.ImagePullSecrets("team-3", "default"));
    }

    [Fact]
    public async Task Other_registries_entries_and_fields_are_left_exactly_as_they_were()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("app");
        var original = $$$$"""{"auths":{"{{{{OtherServer}}}}":{"auth":"b3RoZXI6c2VjcmV0","email":"x@example.com"},"{{{{EcrServer}}}}":{"username":"AWS","password":"stale","auth":"QVdTOnN0YWxl"}},"credsStore":"desktop"}""";
        bed.Api.AddSecret("app", "regcred", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = Utf8(original), ["extra"] = Utf8("kept") });

        var summary = await bed.RunAsync(Options(t => t with { Namespaces = ["app"] }));

        Assert.Equal(1, summary.Updated);
        var config = bed.DockerConfig("app")!;
        var before = JsonNode.Parse(original)!;
        Assert.True(JsonNode.DeepEquals(before["auths"]![OtherServer], config["auths"]![OtherServer]));
        Assert.Equal("desktop", config["credsStore"]!.GetValue<string>());
        Assert.Equal(bed.IssuedPasswords.Single(), Password(config, EcrServer));
        Assert.Equal("kept", Encoding.UTF8.GetString(bed.Api.GetSecretData("app", "regcred", "extra")!));
    }

    [Fact]
    public async Task A_second_run_with_fresh_secrets_writes_nothing_and_asks_no_token_until_renewal_is_due()
    {
        await using var bed = await StartAsync();
        bed.AddNamespaces(3);
        var options = Options(t => t with { Namespaces = ["team-0", "team-1", "team-2"] }, o => o with { RenewBefore = TimeSpan.FromHours(7) });
        await bed.RunAsync(options);
        bed.Api.ResetCounters();

        var second = await bed.RunAsync(options);

        Assert.Equal((3, 0, 0), (second.Unchanged, second.Written, second.TokenRequests));
        Assert.Equal(0, bed.Api.WriteCount("secrets"));

        bed.Now += TimeSpan.FromHours(5) + TimeSpan.FromMinutes(1); // 12 h token, 7 h margin: due after 5 h
        var third = await bed.RunAsync(options);

        Assert.Equal((3, 1), (third.Updated, third.TokenRequests));
        Assert.Equal(bed.IssuedPasswords[1], Password(bed.DockerConfig("team-2")!, EcrServer));
    }

    [Fact]
    public async Task Namespaces_by_label_selector_or_all()
    {
        await using var bed = await StartAsync();
        bed.AddNamespaces(3, "pay-", new Dictionary<string, string> { ["team"] = "payments" });
        bed.AddNamespaces(2, "web-", new Dictionary<string, string> { ["team"] = "web" });

        var selected = await bed.RunAsync(Options(t => t with { NamespaceSelector = "team=payments" }));
        Assert.Equal(3, selected.Created);
        Assert.Null(bed.Api.GetSecret("web-0", "regcred"));

        var all = await bed.RunAsync(Options(t => t with { AllNamespaces = true }));
        Assert.Equal((2, 3), (all.Created, all.Unchanged));
    }

    [Fact]
    public async Task Conflicts_on_every_first_write_are_retried_on_a_fresh_read_without_losing_entries()
    {
        await using var bed = await StartAsync(new FakeKubeFaults { ConflictOnFirstWrite = true });
        bed.AddNamespaces(4);
        var other = $$$$"""{"auths":{"{{{{OtherServer}}}}":{"auth":"b3RoZXI6c2VjcmV0"}}}""";
        bed.Api.AddSecret("team-1", "regcred", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = Utf8(other) });
        bed.Api.AddServiceAccount("team-2", "builder", "a", "b");
        var options = Options(t => t with { Namespaces = ["team-0", "team-1", "team-2", "team-3"], ServiceAccounts = ["builder"] });
        bed.Api.AddServiceAccount("team-0", "builder");
        bed.Api.AddServiceAccount("team-1", "builder");
        bed.Api.AddServiceAccount("team-3", "builder");

        var summary = await bed.RunAsync(options);

        Assert.Equal(0, summary.Failed);
        Assert.Equal("b3RoZXI6c2VjcmV0", bed.DockerConfig("team-1")!["auths"]![OtherServer]!["auth"]!.GetValue<string>());
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(bed.IssuedPasswords.Single(), Password(bed.DockerConfig($"team-{i}")!, EcrServer)));
        Assert.Equal(["a", "b", "regcred"], bed.Api.ImagePullSecrets("team-2", "builder"));
        Assert.True(bed.Api.RequestCount("PUT", "secrets") >= 2, "the existing secret's first replace must have met a conflict and been retried");
    }

    [Fact]
    public async Task Server_errors_on_a_third_of_requests_are_retried_and_every_secret_is_old_or_correct()
    {
        await using var bed = await StartAsync(new FakeKubeFaults { ServerErrorRate = 1.0 / 3, Seed = 7 });
        bed.AddNamespaces(20);
        var old = Utf8($$$$"""{"auths":{"{{{{EcrServer}}}}":{"username":"AWS","password":"old","auth":"QVdTOm9sZA=="}}}""");
        for (var i = 0; i < 20; i += 2)
        {
            bed.Api.AddSecret($"team-{i}", "regcred", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = old });
        }
        var options = Options(t => t with { AllNamespaces = true }, o => o with { TransientRetries = 8 });

        var first = await bed.RunAsync(options);

        AssertEveryoneOldOrNew(bed, 20, old);
        Assert.Equal(1, first.TokenRequests);
        Assert.True(bed.Api.InjectedFaults > 5, "faults must have been met");

        bed.Api.Faults = FakeKubeFaults.None;
        var rerun = await bed.RunAsync(options);
        Assert.Equal(0, rerun.Failed);
        Assert.All(Enumerable.Range(0, 20), i => Assert.StartsWith("eyJ", Password(bed.DockerConfig($"team-{i}")!, EcrServer), StringComparison.Ordinal));
    }

    private static void AssertEveryoneOldOrNew(RefresherTestBed bed, int count, byte[] old)
    {
        for (var i = 0; i < count; i++)
        {
            var bytes = bed.Api.GetSecretData($"team-{i}", "regcred", ".dockerconfigjson");
            if (bytes is null || bytes.AsSpan().SequenceEqual(old))
            {
                continue;
            }
            var password = Password(JsonNode.Parse(bytes)!.AsObject(), EcrServer);
            Assert.Contains(password, bed.IssuedPasswords);
        }
    }

    [Fact]
    public async Task A_malformed_secret_is_reported_with_an_event_and_left_byte_for_byte_untouched()
    {
        await using var bed = await StartAsync();
        bed.AddNamespaces(3);
        var badJson = Utf8("{\"auths\": {\"ghcr.io\": {\"auth\": \"c2VjcmV0LXZhbHVl\"");
        bed.Api.AddSecret("team-0", "regcred", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = badJson });
        bed.Api.AddSecret("team-1", "regcred", "Opaque", new Dictionary<string, byte[]> { ["token"] = Utf8("opaque-value") });

        var summary = await bed.RunAsync(Options(t => t with { Namespaces = ["team-0", "team-1", "team-2"] }));

        Assert.Equal((2, 1), (summary.Failed, summary.Created));
        Assert.Equal(badJson, bed.Api.GetSecretData("team-0", "regcred", ".dockerconfigjson"));
        Assert.Equal("Opaque", bed.Api.GetSecret("team-1", "regcred")!["type"]!.GetValue<string>());
        Assert.Equal(Utf8("opaque-value"), bed.Api.GetSecretData("team-1", "regcred", "token"));
        foreach (var ns in new[] { "team-0", "team-1" })
        {
            var ev = Assert.Single(bed.Api.Events(ns));
            Assert.Equal(("RefreshFailed", "Warning", "Secret", "regcred"), (ev["reason"]!.GetValue<string>(), ev["type"]!.GetValue<string>(),
                ev["involvedObject"]!["kind"]!.GetValue<string>(), ev["involvedObject"]!["name"]!.GetValue<string>()));
            Assert.Contains("MalformedSecret", ev["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        Assert.DoesNotContain("c2VjcmV0LXZhbHVl", bed.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain("opaque-value", bed.Logs.All, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RegistryErrorKind.Unreachable)]
    [InlineData(RegistryErrorKind.Unauthorized)]
    public async Task A_failed_token_fetch_changes_no_secret_records_events_and_fails_the_run(RegistryErrorKind kind)
    {
        await using var bed = await StartAsync();
        bed.AddNamespaces(3);
        var old = Utf8($$$$"""{"auths":{"{{{{EcrServer}}}}":{"username":"AWS","password":"old","auth":"QVdTOm9sZA=="}}}""");
        bed.Api.AddSecret("team-0", "regcred", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = old });
        bed.Source.Setup(s => s.GetCredentialAsync(It.IsAny<CancellationToken>()))
            .ThrowsAsync(new RegistryException(kind, "ecr(123456789012, eu-west-1): GetAuthorizationToken failed"));

        var summary = await bed.RunAsync(Options(t => t with { Namespaces = ["team-0", "team-1", "team-2"] }, o => o with { TransientRetries = 2 }));

        Assert.Equal(3, summary.Failed);
        Assert.Equal(old, bed.Api.GetSecretData("team-0", "regcred", ".dockerconfigjson"));
        Assert.Null(bed.Api.GetSecret("team-1", "regcred"));
        Assert.Equal(0, bed.Api.WriteCount("secrets"));
        Assert.Equal(3, bed.Api.Events().Count);
        // One fetch per run, plus the transient retries when the failure is transient: never one per namespace.
        bed.Source.Verify(s => s.GetCredentialAsync(It.IsAny<CancellationToken>()), Times.Exactly(kind == RegistryErrorKind.Unreachable ? 3 : 1));
    }

    [Fact]
    public async Task Throttling_is_retried_with_backoff_and_then_succeeds()
    {
        await using var bed = await StartAsync();
        bed.AddNamespaces(2);
        var calls = 0;
        bed.Source.Setup(s => s.GetCredentialAsync(It.IsAny<CancellationToken>()))
            .Returns(() => ++calls <= 2
                ? ValueTask.FromException<RegistryCredential>(new RegistryException(RegistryErrorKind.RateLimited, "ThrottlingException"))
                : ValueTask.FromResult(bed.NextCredential()));

        var summary = await bed.RunAsync(Options(t => t with { Namespaces = ["team-0", "team-1"] }));

        Assert.Equal((2, 0, 3), (summary.Created, summary.Failed, calls));
    }

    [Theory]
    [InlineData("", "token")]
    [InlineData("AWS", "")]
    [InlineData("AWS", "expired")]
    public async Task A_source_returning_garbage_is_refused_and_nothing_is_written(string user, string password)
    {
        await using var bed = await StartAsync();
        bed.AddNamespaces(1);
        var expiresAt = password == "expired" ? bed.Now - TimeSpan.FromMinutes(1) : bed.Now + TimeSpan.FromHours(1);
        bed.Source.Setup(s => s.GetCredentialAsync(It.IsAny<CancellationToken>())).ReturnsAsync(new RegistryCredential(user, password, expiresAt));

        var summary = await bed.RunAsync(Options(t => t with { Namespaces = ["team-0"] }));

        Assert.Equal(1, summary.Failed);
        Assert.Null(bed.Api.GetSecret("team-0", "regcred"));
    }

    [Fact]
    public async Task The_run_ends_at_its_deadline_when_the_api_hangs_and_a_rerun_converges()
    {
        await using var bed = await StartAsync(new FakeKubeFaults { HangOn = "PUT secrets" });
        bed.AddNamespaces(6);
        var old = Utf8($$$$"""{"auths":{"{{{{EcrServer}}}}":{"username":"AWS","password":"old","auth":"QVdTOm9sZA=="}}}""");
        for (var i = 0; i < 6; i++)
        {
            bed.Api.AddSecret($"team-{i}", "regcred", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = old });
        }
        var options = Options(t => t with { AllNamespaces = true }, o => o with { Deadline = TimeSpan.FromSeconds(2) });
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var summary = await bed.RunAsync(options);

        // The deadline is 2 s; the margin absorbs scheduling on a loaded 2-core machine, not API time (the API never answers).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3.5), $"the run took {clock.Elapsed}");
        Assert.True(summary.DeadlineExceeded);
        Assert.Equal(6, summary.Failed);
        Assert.All(summary.Outcomes, o => Assert.Equal("DeadlineExceeded", o.Reason));
        Assert.All(Enumerable.Range(0, 6), i => Assert.Equal(old, bed.Api.GetSecretData($"team-{i}", "regcred", ".dockerconfigjson")));
        Assert.Equal(6, bed.Api.Events().Count);

        bed.Api.Faults = FakeKubeFaults.None;
        var rerun = await bed.RunAsync(options);
        Assert.Equal((6, 0), (rerun.Updated, rerun.Failed));
    }

    [Fact]
    public async Task No_token_or_password_appears_in_any_log_entry()
    {
        await using var bed = await StartAsync(new FakeKubeFaults { ConflictOnFirstWrite = true, ServerErrorRate = 0.2, Seed = 3 });
        bed.AddNamespaces(6);
        bed.Api.AddSecret("team-5", "regcred", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = Utf8("{\"auths\":[\"not-an-object\"]}") });

        await bed.RunAsync(Options(t => t with { AllNamespaces = true }, o => o with { TransientRetries = 1 }));
        bed.Now += TimeSpan.FromHours(11);
        await bed.RunAsync(Options(t => t with { AllNamespaces = true }, o => o with { TransientRetries = 1 }));

        Assert.NotEmpty(bed.IssuedPasswords);
        Assert.Contains(bed.Logs.Entries, e => e.Contains("Refresh run:", StringComparison.Ordinal));
        foreach (var password in bed.IssuedPasswords)
        {
            Assert.DoesNotContain(password, bed.Logs.All, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password)), bed.Logs.All, StringComparison.Ordinal);
        }
        foreach (var ev in bed.Api.Events())
        {
            Assert.DoesNotContain("secret-token", ev.ToJsonString(), StringComparison.Ordinal);
        }
    }
}
