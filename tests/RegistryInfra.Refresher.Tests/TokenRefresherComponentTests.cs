using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Testing.Components;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Core.Refresher;

namespace RegistryInfra.Refresher.Tests;


/// <summary>
/// The TokenRefresher component writes this program's configuration and command line: both are fed to
/// the program's real loader, binder and validator, so a drift on either side fails here.
/// </summary>
public sealed class TokenRefresherComponentTests : IDisposable
{
    private const string Image = "ghcr.io/acme/registryinfra-refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private static readonly System.Text.Json.JsonSerializerOptions WebJson = new(System.Text.Json.JsonSerializerDefaults.Web);
    private readonly string _root = Directory.CreateTempSubdirectory("registryinfra-component-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static TokenRefresherArgs Args() => new()
    {
        Image = Image,
        Registries =
        [
            new RefresherRegistry { Name = "prod-ecr", Server = "123456789012.dkr.ecr.eu-west-1.amazonaws.com", Type = "ecr", Region = "eu-west-1", AccountId = "123456789012", Endpoint = "https://vpce-1.api.ecr.eu-west-1.vpce.amazonaws.com" },
            new RefresherRegistry { Server = "europe-docker.pkg.dev", Type = "gcp" },
            new RefresherRegistry { Name = "acr", Server = "acme.azurecr.io", Type = "acr", TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47", ClientId = "0b5f2ce9-7a1e-4d3c-9e1f-2a4b6c8d0e1f" },
        ],
        Targets =
        [
            new RefresherTarget { SecretName = "pull-tokens", Namespaces = ["apps", "jobs"], ServiceAccounts = ["default", "builder"] },
            new RefresherTarget { SecretName = "ecr-only", NamespaceSelector = "team=payments,env!=dev", Registries = ["prod-ecr"] },
            new RefresherTarget { SecretName = "everywhere", AllNamespaces = true, Registries = ["acr", "europe-docker.pkg.dev"] },
            new RefresherTarget { SecretName = "static-pull", Namespaces = ["apps"], ServiceAccounts = ["default"], AttachOnly = true },
        ],
    };

    [Fact]
    public void The_generated_configuration_binds_and_validates_in_the_refresher()
    {
        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args());
        var options = Load(plan);

        Assert.Empty(RefresherConfigurationValidator.Validate(options));
        Assert.Equal(["prod-ecr", "europe-docker.pkg.dev", "acr"], options.Registries.Select(r => r.Key));
        Assert.Equal(["ecr", "gcp", "acr"], options.Registries.Select(r => r.Source.Type));
        var ecr = options.Registries[0].Source;
        Assert.Equal(("eu-west-1", "123456789012", "https://vpce-1.api.ecr.eu-west-1.vpce.amazonaws.com"), (ecr.Region, ecr.AccountId, ecr.Endpoint));
        Assert.Equal("72f988bf-86f1-41af-91ab-2d7cd011db47", options.Registries[2].Source.TenantId);

        Assert.Equal(["pull-tokens", "ecr-only", "everywhere", "static-pull"], options.Targets.Select(t => t.SecretName));
        Assert.Equal([false, false, false, true], options.Targets.Select(t => t.AttachOnly));
        Assert.Equal(["apps", "jobs"], options.Targets[0].Namespaces);
        Assert.Equal(["default", "builder"], options.Targets[0].ServiceAccounts);
        Assert.Empty(options.Targets[0].Registries);
        Assert.Equal("team=payments,env!=dev", options.Targets[1].NamespaceSelector);
        Assert.Equal(["prod-ecr"], options.Targets[1].Registries);
        Assert.True(options.Targets[2].AllNamespaces);
        Assert.Equal(["acr", "europe-docker.pkg.dev"], options.Targets[2].Registries);
    }

    [Fact]
    public void Every_key_the_component_writes_is_one_the_refresher_binds()
    {
        // The binder ignores unknown keys, so a misspelt or unsupported key would be dropped without a word.
        var configuration = ConfigurationOf(ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args()));
        var bound = System.Text.Json.JsonSerializer.SerializeToNode(Load(ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args())), WebJson)!;

        foreach (var path in Paths(configuration, ""))
        {
            Assert.True(Resolve(bound, path) is not null, $"the refresher does not bind '{path}'");
        }
    }

    [Fact]
    public void The_acr_client_id_becomes_the_pods_workload_identity_which_the_refresher_takes_from_the_environment()
    {
        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args());

        var account = plan.Children.Single(c => c.Type == TokenRefresherComponent.ServiceAccountType).Inputs;
        Assert.Equal("0b5f2ce9-7a1e-4d3c-9e1f-2a4b6c8d0e1f", account["metadata"]!["annotations"]![TokenRefresherComponent.AzureClientIdAnnotation]!.GetValue<string>());
        var job = plan.Children.Single(c => c.Type == TokenRefresherComponent.JobType).Inputs;
        Assert.Equal("true", job["spec"]!["template"]!["metadata"]!["labels"]![TokenRefresherComponent.AzureUseLabel]!.GetValue<string>());
        Assert.DoesNotContain("clientId", ConfigurationOf(plan).ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Job_and_cron_job_read_the_configuration_where_the_config_map_is_mounted()
    {
        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args());
        var configMap = plan.Children.Single(c => c.Type == TokenRefresherComponent.ConfigMapType).Inputs;
        var configMapName = configMap["metadata"]!["name"]!.GetValue<string>();

        foreach (var type in new[] { TokenRefresherComponent.CronJobType, TokenRefresherComponent.JobType })
        {
            var child = plan.Children.Single(c => c.Type == type).Inputs;
            var pod = type == TokenRefresherComponent.CronJobType ? child["spec"]!["jobTemplate"]!["spec"]!["template"]!["spec"]! : child["spec"]!["template"]!["spec"]!;
            var container = pod["containers"]!.AsArray().Single()!;
            var args = container["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();

            Assert.Equal("refresh", args[0]);
            var configPath = args[args.IndexOf("--config") + 1];
            var volumeName = pod["volumes"]!.AsArray().Single(v => v!["configMap"]?["name"]?.GetValue<string>() == configMapName)!["name"]!.GetValue<string>();
            var mount = container["volumeMounts"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == volumeName)!;
            var directory = mount["mountPath"]!.GetValue<string>();
            Assert.StartsWith(directory + "/", configPath, StringComparison.Ordinal);
            // A ConfigMap volume without items projects each data key as a file of that name.
            Assert.NotNull(configMap["data"]![configPath[(directory.Length + 1)..]]);
        }
    }

    /// <summary>
    /// The watch Deployment's pod template carries <c>registryinfra.io/configuration-hash</c>, and the refresher records the hash
    /// of the configuration it loaded in the Lease: a standby is ready only beside a leader of its own hash. Both must be the
    /// same for a real generated configuration, read where the Deployment's pod reads it (the mounted ConfigMap's file).
    /// </summary>
    [Fact]
    public void The_watch_pods_configuration_hash_is_the_one_the_refresher_computes_from_the_file_it_loads()
    {
        var hashes = new List<string>();
        foreach (var args in new[] { Args() with { Mode = TokenRefresherComponent.WatchMode, Replicas = 2 }, Args() with { Mode = TokenRefresherComponent.WatchMode, Replicas = 2, Targets = [.. Args().Targets.Skip(1)] } })
        {
            var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", args);
            var template = plan.Children.Single(c => c.Type == TokenRefresherComponent.DeploymentType).Inputs["spec"]!["template"]!;
            var annotation = template["metadata"]!["annotations"]![ConfigurationHash.Annotation]!.GetValue<string>();
            var container = template["spec"]!["containers"]!.AsArray().Single()!;
            var commandLine = container["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
            Assert.Equal("watch", commandLine[0]);
            WriteConfiguration(plan);
            var path = Path.Combine(_root, Path.GetFileName(commandLine[commandLine.IndexOf("--config") + 1]));

            ConfigurationFile.Load(path, new System.Collections.Hashtable(), out var hash);

            Assert.Equal(annotation, hash);
            Assert.Matches("^[0-9a-f]{10}$", hash);
            // An override set on the pod alone is another configuration: its hash is not the template's.
            ConfigurationFile.Load(path, new System.Collections.Hashtable { ["REFRESHER_CONCURRENCY"] = "3" }, out var overridden);
            Assert.NotEqual(annotation, overridden);
            hashes.Add(hash);
        }
        Assert.NotEqual(hashes[0], hashes[1]);
    }

    /// <summary>
    /// The generated configuration run by the refresher with nothing but the generated RBAC (applied as the engine applies it,
    /// enforced by the fake API as the API server would): every target kind of <see cref="Args"/> (listed with named accounts,
    /// by selector, all namespaces, attach-only) is served and no request is forbidden.
    /// </summary>
    [Fact]
    public async Task The_generated_configuration_runs_with_the_generated_RBAC_and_no_forbidden_request()
    {
        var plan = ComponentPlans.Build(TokenRefresherComponent.Instance, "r", Args());
        await using var bed = await RefresherTestBed.StartAsync();
        bed.Api.AddNamespace("apps", new Dictionary<string, string> { ["team"] = "payments", ["env"] = "prod" });
        bed.Api.AddNamespace("jobs");
        foreach (var ns in new[] { "apps", "jobs" })
        {
            bed.Api.AddServiceAccount(ns, "default");
            bed.Api.AddServiceAccount(ns, "builder");
        }
        bed.Api.AddSecret("apps", "static-pull", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = RefresherTestBed.Utf8("""{"auths":{}}""") });
        new RegistryInfra.Testing.Kubernetes.PlannedObjects(bed.Api).Register(plan);
        var (ns_, account) = RegistryInfra.Testing.Kubernetes.PlannedObjects.BoundAccount(plan);
        bed.AsServiceAccount(ns_, account);

        var summary = await bed.RunAsync(Load(plan) with { RetryBaseDelay = TimeSpan.FromMilliseconds(5) });

        Assert.True(bed.Api.DeniedRequests.Count == 0, "forbidden: " + string.Join("; ", bed.Api.DeniedRequests));
        Assert.Equal(0, summary.Failed);
        // Which target attaches first is the refresher's order, not RBAC's: the names, in any order.
        Assert.Equal(["pull-tokens", "static-pull"], bed.Api.ImagePullSecrets("apps", "default").Order(StringComparer.Ordinal));
        Assert.Equal(["pull-tokens"], bed.Api.ImagePullSecrets("jobs", "builder"));
        Assert.NotNull(bed.Api.GetSecret("apps", "ecr-only"));
        Assert.Null(bed.Api.GetSecret("jobs", "ecr-only"));
        Assert.NotNull(bed.Api.GetSecret("jobs", "everywhere"));
    }

    private RefresherConfiguration Load(ComponentPlan plan)
    {
        return ConfigurationReading.Load(WriteConfiguration(plan));
    }

    /// <summary>Writes the ConfigMap's data as the kubelet projects it: one file per key.</summary>
    private string WriteConfiguration(ComponentPlan plan)
    {
        var data = plan.Children.Single(c => c.Type == TokenRefresherComponent.ConfigMapType).Inputs["data"]!.AsObject();
        foreach (var (key, value) in data)
        {
            File.WriteAllText(Path.Combine(_root, key), value!.GetValue<string>());
        }
        return Path.Combine(_root, RefresherPod.ConfigKey);
    }

    private static IEnumerable<string> Paths(JsonNode node, string at) => node switch
    {
        JsonObject o => o.SelectMany(p => Paths(p.Value!, at.Length == 0 ? p.Key : $"{at}.{p.Key}")),
        JsonArray a => a.SelectMany((item, i) => Paths(item!, $"{at}[{i}]")),
        _ => [at],
    };

    private static JsonNode? Resolve(JsonNode node, string path)
    {
        JsonNode? current = node;
        foreach (var part in path.Split('.'))
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            var key = bracket < 0 ? part : part[..bracket];
            current = current?[key];
            if (bracket >= 0)
            {
                current = current?[int.Parse(part[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture)];
            }
        }
        return current;
    }

    private static System.Text.Json.Nodes.JsonNode ConfigurationOf(ComponentPlan plan) =>
        System.Text.Json.Nodes.JsonNode.Parse(plan.Children.Single(c => c.Type == TokenRefresherComponent.ConfigMapType).Inputs["data"]![RefresherPod.ConfigKey]!.GetValue<string>())!;
}
