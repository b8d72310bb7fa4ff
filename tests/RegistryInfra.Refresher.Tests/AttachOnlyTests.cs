using RegistryInfra.Core.Refresher;
using Microsoft.Extensions.Logging;
using Moq;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Testing.Kubernetes;
using static RegistryInfra.Refresher.Tests.RefresherTestBed;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Attach-only targets (a secret whose data Pulumi owns, such as the static registries' secret) against the
/// in-memory Kubernetes API through the real KubernetesClient: service accounts come to name the secret,
/// nothing else changes.
/// </summary>
public sealed class AttachOnlyTests
{
    private const string StaticSecret = "registry-credentials";
    private const string StaticPassword = "ghp_static-password-owned-by-pulumi";

    private static readonly byte[] StaticData = Utf8($$$$"""{"auths":{"ghcr.io":{"username":"me","password":"{{{{StaticPassword}}}}","auth":"bWU6Z2hwX3N0YXRpYw=="}}}""");

    /// <summary>A configuration of one attach-only target and no registries, as ClusterRegistryAccess writes it for static registries.</summary>
    private static RefresherConfiguration AttachOnly(string[] namespaces, params string[] serviceAccounts) =>
        Options(t => t with { SecretName = StaticSecret, AttachOnly = true, Namespaces = namespaces, ServiceAccounts = serviceAccounts }, o => o with { Registries = [] });

    private static void AddStaticSecret(RefresherTestBed bed, string ns) =>
        bed.Api.AddSecret(ns, StaticSecret, "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = StaticData });

    [Fact]
    public async Task Attaches_after_the_existing_pull_secrets_keeping_them_in_order_and_never_touching_the_secret()
    {
        await using var bed = await StartAsync();
        foreach (var ns in new[] { "apps", "jobs" })
        {
            bed.Api.AddNamespace(ns);
            AddStaticSecret(bed, ns);
        }
        bed.Api.AddServiceAccount("apps", "default", "team-pull", "mirror-pull");
        bed.Api.AddServiceAccount("apps", "builder");
        bed.Api.AddServiceAccount("jobs", "default", "z-pull");
        bed.Api.AddServiceAccount("jobs", "builder", "a-pull");
        var before = bed.Api.GetSecret("apps", StaticSecret)!.ToJsonString();

        var summary = await bed.RunAsync(AttachOnly(["apps", "jobs"], "default", "builder"));

        Assert.Equal((2, 2, 0, 0, 0, 4), (summary.Checked, summary.Attached, summary.Skipped, summary.Failed, summary.Written, summary.ServiceAccountsPatched));
        Assert.Equal(["team-pull", "mirror-pull", StaticSecret], bed.Api.ImagePullSecrets("apps", "default"));
        Assert.Equal([StaticSecret], bed.Api.ImagePullSecrets("apps", "builder"));
        Assert.Equal(["z-pull", StaticSecret], bed.Api.ImagePullSecrets("jobs", "default"));
        Assert.Equal(["a-pull", StaticSecret], bed.Api.ImagePullSecrets("jobs", "builder"));
        // The secret: never written, and only its metadata was ever asked for.
        Assert.Equal(before, bed.Api.GetSecret("apps", StaticSecret)!.ToJsonString());
        Assert.Equal(0, bed.Api.WriteCount("secrets"));
        Assert.Equal(2, bed.Api.RequestCount("GET-METADATA", "secrets"));
        Assert.Equal(bed.Api.RequestCount("GET", "secrets"), bed.Api.RequestCount("GET-METADATA", "secrets"));
        Assert.Equal(0, summary.TokenRequests);
        bed.Source.Verify(s => s.GetCredentialAsync(It.IsAny<CancellationToken>()), Times.Never);
        Assert.DoesNotContain(StaticPassword, bed.Logs.All, StringComparison.Ordinal);
        Assert.Contains(bed.Logs.Entries, e => e.Contains($"Secret apps/{StaticSecret} attached (attach only), service accounts patched 2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Already_attached_accounts_cost_no_write()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        AddStaticSecret(bed, "apps");
        bed.Api.AddServiceAccount("apps", "default", StaticSecret, "other");
        var options = AttachOnly(["apps"], "default");

        var summary = await bed.RunAsync(options);

        Assert.Equal((1, 0, 0), (summary.Attached, summary.ServiceAccountsPatched, summary.Failed));
        Assert.Equal(0, bed.Api.WriteCount("serviceaccounts"));
        Assert.Equal(0, bed.Api.WriteCount("secrets"));
        Assert.Equal([StaticSecret, "other"], bed.Api.ImagePullSecrets("apps", "default"));
    }

    [Fact]
    public async Task A_second_run_after_attaching_writes_nothing()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        AddStaticSecret(bed, "apps");
        bed.Api.AddServiceAccount("apps", "default", "first");
        var options = AttachOnly(["apps"], "default");
        await bed.RunAsync(options);
        bed.Api.ResetCounters();

        var second = await bed.RunAsync(options);

        Assert.Equal((1, 0), (second.Attached, second.ServiceAccountsPatched));
        Assert.Equal(0, bed.Api.WriteCount("serviceaccounts"));
        Assert.Equal(["first", StaticSecret], bed.Api.ImagePullSecrets("apps", "default"));
    }

    [Fact]
    public async Task A_namespace_without_the_secret_is_skipped_with_a_log_line_not_failed()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddNamespace("new-team");
        AddStaticSecret(bed, "apps");
        bed.Api.AddServiceAccount("apps", "default");
        bed.Api.AddServiceAccount("new-team", "default", "theirs");

        var summary = await bed.RunAsync(AttachOnly(["apps", "new-team"], "default"));

        Assert.Equal((1, 1, 0), (summary.Attached, summary.Skipped, summary.Failed));
        Assert.Equal(["theirs"], bed.Api.ImagePullSecrets("new-team", "default"));
        Assert.Equal(1, bed.Api.RequestCount("GET", "serviceaccounts")); // only apps' account was read
        Assert.Empty(bed.Api.Events());
        Assert.Contains(bed.Logs.Entries, e => e.Contains($"Secret new-team/{StaticSecret} skipped (attach only)", StringComparison.Ordinal));
        Assert.Contains(bed.Logs.Entries, e => e.Contains("attached 1, skipped 1, failed 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_conflict_on_the_first_patch_is_retried_on_a_fresh_read_and_converges()
    {
        await using var bed = await StartAsync(new FakeKubeFaults { ConflictOnFirstWrite = true });
        bed.Api.AddNamespace("apps");
        AddStaticSecret(bed, "apps");
        bed.Api.AddServiceAccount("apps", "default", "a", "b");
        bed.Api.AddServiceAccount("apps", "builder");

        var summary = await bed.RunAsync(AttachOnly(["apps"], "default", "builder"));

        Assert.Equal((1, 2, 0), (summary.Attached, summary.ServiceAccountsPatched, summary.Failed));
        Assert.Equal(["a", "b", StaticSecret], bed.Api.ImagePullSecrets("apps", "default"));
        Assert.Equal([StaticSecret], bed.Api.ImagePullSecrets("apps", "builder"));
        Assert.Equal(4, bed.Api.RequestCount("PATCH", "serviceaccounts"));
        Assert.Equal(0, bed.Api.WriteCount("secrets"));
    }

    [Fact]
    public async Task A_missing_service_account_is_skipped_with_a_normal_event_and_attached_once_it_exists()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddNamespace("jobs");
        AddStaticSecret(bed, "apps");
        AddStaticSecret(bed, "jobs");
        bed.Api.AddServiceAccount("jobs", "builder");

        var summary = await bed.RunAsync(AttachOnly(["apps", "jobs"], "builder"));

        // Issue #14: a named account missing in one namespace is not a failed target.
        Assert.Equal((2, 0, 1), (summary.Attached, summary.Failed, summary.MissingServiceAccounts));
        var skipped = summary.Outcomes.Single(o => o.Namespace == "apps");
        Assert.Equal(TargetResult.Attached, skipped.Result);
        Assert.Equal(["builder"], skipped.MissingServiceAccounts);
        var ev = Assert.Single(bed.Api.Events("apps"));
        Assert.Equal(("Secret", StaticSecret, "ServiceAccountMissing", "Normal"),
            (ev["involvedObject"]!["kind"]!.GetValue<string>(), ev["involvedObject"]!["name"]!.GetValue<string>(), ev["reason"]!.GetValue<string>(), ev["type"]!.GetValue<string>()));
        Assert.Contains(bed.Logs.Entries, e => e.Contains("Service account apps/builder does not exist: skipped", StringComparison.Ordinal));
        Assert.Equal([StaticSecret], bed.Api.ImagePullSecrets("jobs", "builder"));

        bed.Api.AddServiceAccount("apps", "builder", "theirs");
        var next = await bed.RunAsync(AttachOnly(["apps", "jobs"], "builder"));

        Assert.Equal((0, 0, 1), (next.MissingServiceAccounts, next.Failed, next.ServiceAccountsPatched));
        Assert.Equal(["theirs", StaticSecret], bed.Api.ImagePullSecrets("apps", "builder"));
    }

    [Fact]
    public async Task Token_and_attach_only_targets_in_one_run_renew_one_secret_and_attach_both()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        AddStaticSecret(bed, "apps");
        bed.Api.AddServiceAccount("apps", "default", "theirs");
        var options = Options(t => t with { SecretName = "registryinfra-pull-tokens", Namespaces = ["apps"], ServiceAccounts = ["default"] });
        options = options with { Targets = [.. options.Targets, new TargetConfiguration { SecretName = StaticSecret, AttachOnly = true, Namespaces = ["apps"], ServiceAccounts = ["default"] }] };
        Assert.Empty(RefresherConfigurationValidator.Validate(options));

        var summary = await bed.RunAsync(options);

        Assert.Equal((2, 1, 1, 0, 1), (summary.Checked, summary.Created, summary.Attached, summary.Failed, summary.TokenRequests));
        var names = bed.Api.ImagePullSecrets("apps", "default");
        Assert.Equal("theirs", names[0]);
        Assert.Equal([StaticSecret, "registryinfra-pull-tokens"], names.Skip(1).Order(StringComparer.Ordinal));
        Assert.Equal(StaticData, bed.Api.GetSecretData("apps", StaticSecret, ".dockerconfigjson"));
        Assert.Equal(bed.IssuedPasswords.Single(), bed.DockerConfig("apps", "registryinfra-pull-tokens")!["auths"]![EcrServer]!["password"]!.GetValue<string>());
    }

    [Fact]
    public async Task Check_reports_an_attach_only_secret_by_its_presence_alone()
    {
        await using var bed = await StartAsync();
        bed.Api.AddNamespace("apps");
        bed.Api.AddNamespace("jobs");
        AddStaticSecret(bed, "apps");
        bed.Api.AddServiceAccount("apps", "default");
        bed.Api.AddServiceAccount("jobs", "default");
        using var factory = LoggerFactory.Create(b => b.AddProvider(bed.Logs));

        var problems = await new CheckRun(bed.Client, AttachOnly(["apps", "jobs"], "default"), new Dictionary<string, RegistryInfra.Core.Credentials.ICredentialSource>(),
            bed.Time.Object, factory.CreateLogger<CheckRun>(), new RegistryProbe()).RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(0, problems);
        Assert.Equal(0, bed.Api.WriteCount("secrets") + bed.Api.WriteCount("serviceaccounts") + bed.Api.WriteCount("events"));
        Assert.Equal(bed.Api.RequestCount("GET", "secrets"), bed.Api.RequestCount("GET-METADATA", "secrets"));
        Assert.Contains(bed.Logs.Entries, e => e.Contains($"Secret apps/{StaticSecret}: present (attach only)", StringComparison.Ordinal));
        Assert.Contains(bed.Logs.Entries, e => e.Contains($"Secret jobs/{StaticSecret}: missing (attach only", StringComparison.Ordinal));
    }

    public static TheoryData<string, string> InvalidTargets => new()
    {
        { """{"targets":[{"secretName":"s","attachOnly":true,"namespaces":["a"]}]}""", "targets[0].serviceAccounts: required for an attachOnly target" },
        { """{"registries":[{"name":"ecr","server":"123456789012.dkr.ecr.eu-west-1.amazonaws.com","source":{"type":"ecr"}}],"targets":[{"secretName":"s","attachOnly":true,"registries":["ecr"],"namespaces":["a"],"serviceAccounts":["default"]}]}""", "targets[0].registries: an attachOnly target names no registries" },
        { """{"targets":[{"secretName":"s","attachOnly":true,"namespaces":["a"],"serviceAccounts":["default"]},{"secretName":"t","namespaces":["a"]}]}""", "registries: at least one registry is required" },
        { """{"registries":[{"server":"123456789012.dkr.ecr.eu-west-1.amazonaws.com","source":{"type":"ecr"}}],"targets":[{"secretName":"s","namespaces":["a"]},{"secretName":"s","attachOnly":true,"namespaces":["b"],"serviceAccounts":["default"]}]}""", "targets[1].secretName: 's' is also the secret of targets[0]" },
    };

    [Theory]
    [MemberData(nameof(InvalidTargets))]
    public void Invalid_attach_only_configurations_fail_naming_the_field(string json, string expected)
    {
        var problems = RefresherConfigurationValidator.Validate(ConfigurationReading.Read(json));

        Assert.Contains(problems, f => f.ToString().StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_configuration_of_attach_only_targets_needs_no_registry()
    {
        var options = ConfigurationReading.Read("""{"targets":[{"secretName":"s","attachOnly":"true","namespaceSelector":"team=web","serviceAccounts":["default","builder"]}]}""");

        Assert.True(options.Targets[0].AttachOnly);
        Assert.Empty(options.Registries);
        Assert.Empty(RefresherConfigurationValidator.Validate(options));
    }
}
