using System.Collections.Immutable;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Components;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Components.PullSecret;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Provider.Tests.ChildCheck;
using RegistryInfra.Testing.Components;
using RegistryInfra.Testing.Monitor;
using EngineProvider = RegistryInfra.Protocol.Hosting.Provider;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>
/// A changed static password in selector mode reaches the copies at <c>pulumi up</c> in CronJob mode: the run-on-deploy
/// Job's name folds in the source Secret's <c>metadata.resourceVersion</c> (never anything derived from the password), so
/// the Job is replaced exactly when the source changed. In watch mode the version goes nowhere: the Deployment does not roll.
/// </summary>
public sealed class SourceVersionTests
{
    private const string Image = "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    // The cluster the attachment reaches, as the engine's kubernetes provider's (a component given that provider must say which).
    private const string Kubeconfig = "\"apiVersion: v1\\nkind: Config\\ncurrent-context: prod\\ncontexts: [{name: prod, context: {cluster: prod, user: deployer}}]\\nclusters: [{name: prod, cluster: {server: 'https://prod.example:6443'}}]\\nusers: [{name: deployer, user: {token: kube-token}}]\"";
    private const string First = "pw-first-canary";
    private const string Second = "pw-second-canary";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Inputs(string password, string mode = "cronJob") => $$"""
        { "profiles": [{ "server": "registry.example.com", "username": "robot", "password": "{{password}}" }],
          "allNamespaces": true, "excludeNamespaces": ["kube-*"], "allServiceAccounts": true, "kubeconfig": {{Kubeconfig}},
          "refresher": { "image": "{{Image}}", "mode": "{{mode}}" } }
        """;

    private static ClusterRegistryAccessArgs Args(string password, string mode = "cronJob") =>
        ComponentPlans.Bind<ClusterRegistryAccessArgs>(JsonNode.Parse(Inputs(password, mode))!.AsObject());

    /// <summary>The engine's answer for the source Secret: its inputs with the API server's resourceVersion; the others answer nothing.</summary>
    private static Func<ResourceRegistration, ImmutableSortedDictionary<string, PropertyValue>> SourceAt(string version) => registration =>
    {
        if (registration.Type != PullSecretComponent.SecretType || !registration.Name.EndsWith(PullSecretComponent.SourceSuffix, StringComparison.Ordinal))
        {
            return ImmutableSortedDictionary<string, PropertyValue>.Empty.WithComparers(StringComparer.Ordinal);
        }
        var metadata = registration.Inputs["metadata"].ObjectValue.SetItem("resourceVersion", PropertyValue.Create(version)).SetItem("uid", PropertyValue.Create("5f0c-uid"));
        return registration.Inputs.SetItem("metadata", PropertyValue.CreateObject(metadata));
    };

    private static ComponentPlan Build(string password, string? version, bool preview = false, string mode = "cronJob") =>
        ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "fleet", Args(password, mode), preview, version is null ? null : SourceAt(version));

    private static JsonObject Job(ComponentPlan plan) => plan.Children.Single(c => c.Type == TokenRefresherComponent.JobType).Inputs;

    private static string JobName(ComponentPlan plan) => Job(plan)["metadata"]!["name"]!.GetValue<string>();

    private static string ConfigurationOf(ComponentPlan plan) =>
        plan.Children.Single(c => c.Type == TokenRefresherComponent.ConfigMapType && c.Name.EndsWith("-config", StringComparison.Ordinal)).Inputs["data"]![RefresherPod.ConfigKey]!.GetValue<string>();

    [Fact]
    public void The_job_is_named_after_the_source_version_and_never_after_the_password()
    {
        var first = Build(First, "7");
        var samePasswordNewVersion = Build(First, "8");
        var newPasswordSameVersion = Build(Second, "7");

        Assert.NotEqual(JobName(first), JobName(samePasswordNewVersion));
        // The whole Job, not just its name, is the same for another password at the same version: nothing in it comes from the password.
        Assert.Equal(Job(first).ToJsonString(), Job(newPasswordSameVersion).ToJsonString());
        Assert.DoesNotContain(First, Job(first).ToJsonString(), StringComparison.Ordinal);
        // The version is not configuration: the refresher reads the source itself.
        Assert.Equal(ConfigurationOf(first), ConfigurationOf(samePasswordNewVersion));
        var configuration = ConfigurationOf(first);
        Assert.Equal("registryinfra-refresher-" + KubernetesNames.ShortHash(TokenRefresherComponent.JobHashInput(configuration, Image, ["7"])), JobName(first));
        // The Job waits for the source Secret's write (its name is read from it), so it copies the new password.
        var source = first.Children.Single(c => c.Name.EndsWith(PullSecretComponent.SourceSuffix, StringComparison.Ordinal));
        Assert.Contains(source.Name, first.Children.Single(c => c.Type == TokenRefresherComponent.JobType).DependsOn);
    }

    [Fact]
    public void A_refresher_without_copy_sources_keeps_the_job_name_it_had()
    {
        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", ComponentPlans.Bind<TokenRefresherArgs>(JsonNode.Parse($$"""
            { "image": "{{Image}}", "namespace": "rf", "registries": [{ "server": "europe-docker.pkg.dev", "type": "gcp" }], "targets": [{ "secretName": "t", "namespaces": ["apps"] }] }
            """)!.AsObject()));

        var configuration = plan.Children.Single(c => c.Type == TokenRefresherComponent.ConfigMapType).Inputs["data"]![RefresherPod.ConfigKey]!.GetValue<string>();
        Assert.Equal("registryinfra-refresher-" + KubernetesNames.ShortHash(configuration + "\n" + Image), JobName(plan));
    }

    [Fact]
    public void Preview_keeps_the_job_of_an_unchanged_source_and_shows_a_new_one_for_a_source_not_written_yet()
    {
        // Unchanged: the engine answers the Secret's old outputs in preview, so the Job's name is known and the same.
        var deployed = Build(First, "7");
        var unchanged = Build(First, "7", preview: true);
        Assert.Equal(JobName(deployed), JobName(unchanged));

        // New or changed with unknowns: no version yet. The Job is still shown (its existence depends on no unknown), its name
        // unknown (a new Job: pulumi-kubernetes replaces a Job whose name changes), and the Secrets' names stay known.
        var changed = Build(First, version: null, preview: true);
        Assert.Equal(ComponentPlans.Unknown, JobName(changed));
        Assert.NotEqual(ComponentPlans.Unknown, changed.Outputs["secretNames"]!["*"]![0]!.GetValue<string>());
        Assert.Contains(changed.Children, c => c.Type == TokenRefresherComponent.CronJobType);
        Assert.Contains(changed.Children, c => c.Name.EndsWith(PullSecretComponent.SourceSuffix, StringComparison.Ordinal));
        Assert.Empty(changed.LeftOut);
    }

    [Fact]
    public void Watch_mode_does_not_roll_the_deployment_on_a_source_change()
    {
        static string Deployment(ComponentPlan plan) => plan.Children.Single(c => c.Type == TokenRefresherComponent.DeploymentType).Inputs.ToJsonString();

        var first = Build(First, "7", mode: "watch");

        Assert.Equal(Deployment(first), Deployment(Build(First, "8", mode: "watch")));
        Assert.Equal(Deployment(first), Deployment(Build(Second, "9", mode: "watch")));
        Assert.DoesNotContain(first.Children, c => c.Type == TokenRefresherComponent.JobType);
        Assert.Equal(ConfigurationOf(first), ConfigurationOf(Build(Second, "9", mode: "watch")));
    }

    [Fact]
    public void Pull_secret_outputs_the_source_version_and_nothing_derived_from_the_password()
    {
        var args = ComponentPlans.Bind<PullSecretArgs>(JsonNode.Parse($$"""
            { "registries": [{ "server": "registry.example.com", "username": "robot", "password": "{{First}}" }], "allNamespaces": true, "sourceNamespace": "rf", "secretName": "pull" }
            """)!.AsObject());

        var plan = ComponentPlans.Build(PullSecretComponent.Instance, "ps", args, answer: SourceAt("42"));
        Assert.Equal("42", plan.Outputs["sourceSecretVersion"]!.GetValue<string>());
        Assert.DoesNotContain("sourceSecretVersion", plan.SecretOutputs);
        var preview = ComponentPlans.Build(PullSecretComponent.Instance, "ps", args, preview: true);
        Assert.Equal(ComponentPlans.Unknown, preview.Outputs["sourceSecretVersion"]!.GetValue<string>());
        var listed = ComponentPlans.Build(PullSecretComponent.Instance, "ps", ComponentPlans.Bind<PullSecretArgs>(JsonNode.Parse(
            """{ "registries": [{ "server": "registry.example.com", "username": "robot", "password": "pw" }], "namespaces": ["apps"] }""")!.AsObject()));
        Assert.Null(listed.Outputs["sourceSecretVersion"]);
    }

    /// <summary>
    /// A stack's life as the engine plays it (state kept between runs), in process and through the NativeAOT plugin: the
    /// same Job names at every step, and at each step what the engine's answers allow.
    /// </summary>
    [Fact]
    public async Task In_process_and_the_native_aot_plugin_replace_the_job_exactly_when_the_source_changes()
    {
        (string Password, bool Preview)[] steps =
        [
            (First, false),    // 0: deploy
            (First, false),    // 1: up, nothing changed
            (First, true),     // 2: preview, nothing changed
            (Second, true),    // 3: preview, a new password known to the program
            ("UNKNOWN", true), // 4: preview, a new password from a resource not created yet
            (Second, false),   // 5: up with the new password
            (Second, true),    // 6: preview after it
        ];
        await using var plugin = await RegistryInfra.Testing.Plugin.PluginProcess.StartAsync(PluginBinary.Path, Ct);

        var jit = await PlayAsync(RegistryInfraPackage.CreateProvider(), steps);
        var aot = await PlayAsync(plugin.Provider, steps);

        Assert.Equal(jit, aot);
        var names = jit.Select(s => s.JobName).ToList();
        Assert.DoesNotContain(ComponentPlans.Unknown, names[0]);
        Assert.Equal(names[0], names[1]);
        Assert.Equal(names[0], names[2]);
        // pulumi-kubernetes previews a change with known inputs by a server-side dry run, which keeps the stored resourceVersion:
        // the new Job shows only in the update (step 5). An unknown password is previewed as the inputs alone: the Job's name is unknown.
        Assert.Equal(names[0], names[3]);
        Assert.Equal(ComponentPlans.Unknown, names[4]);
        Assert.NotEqual(names[0], names[5]);
        Assert.DoesNotContain(ComponentPlans.Unknown, names[5]);
        Assert.Equal(names[5], names[6]);
        // The source Secret's version moved once: at the update that wrote the new password.
        Assert.Equal(jit[0].SourceVersion, jit[1].SourceVersion);
        Assert.NotEqual(jit[0].SourceVersion, jit[5].SourceVersion);
        Assert.All(jit, s => Assert.False(s.JobCarriesPassword));
    }

    private sealed record Step(string JobName, string SourceVersion, bool JobCarriesPassword);

    private static async Task<List<Step>> PlayAsync(EngineProvider provider, (string Password, bool Preview)[] steps)
    {
        await using var monitor = await FakeResourceMonitor.StartAsync(Ct);
        monitor.Stateful = true;
        var played = new List<Step>();
        foreach (var (password, preview) in steps)
        {
            monitor.Clear();
            monitor.DryRun = preview;
            var mode = new ComponentMode("clusterRegistryAccess/all-namespaces-static", ClusterRegistryAccessComponent.TypeToken, "fleet", Inputs(password));
            await provider.ConstructAsync(mode.Request(monitor.Endpoint, preview), Ct);
            var job = monitor.Registrations.Single(r => r.Type == TokenRefresherComponent.JobType);
            var name = ComponentPlans.ToJson(job.Inputs["metadata"])!["name"]!.GetValue<string>();
            var source = monitor.Registrations.Single(r => r.Type == PullSecretComponent.SecretType && r.Name.EndsWith(PullSecretComponent.SourceSuffix, StringComparison.Ordinal));
            var wire = Google.Protobuf.JsonFormatter.Default.Format(job.Request);
            var stored = monitor.StoredOutputs(source.Urn);
            var version = stored is null ? "(none)" : ComponentPlans.ToJson(stored["metadata"])!["resourceVersion"]!.GetValue<string>();
            played.Add(new Step(name, version, wire.Contains(First, StringComparison.Ordinal) || wire.Contains(Second, StringComparison.Ordinal)));
        }
        return played;
    }
}
