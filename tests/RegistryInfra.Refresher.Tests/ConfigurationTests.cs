using NJsonSchema;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Testing;
using RegistryInfra.Core.Refresher;

namespace RegistryInfra.Refresher.Tests;


/// <summary>The documented example and schema, and the YAML reading, against the real binder and validator.</summary>
public sealed class ConfigurationTests
{
    private static string RefresherFolder => Path.Combine(Requirements.RepositoryRoot, "programs", "refresher");

    private static string Example => Path.Combine(RefresherFolder, "examples", "config.yaml");

    [Fact]
    public void The_documented_example_binds_and_validates()
    {
        var options = ConfigurationReading.Load(Example);

        Assert.Equal(["prod-ecr", "public-ecr", "gar", "acr", "harbor"], options.Registries.Select(r => r.Key));
        Assert.Equal("robot$pull", options.Registries[4].Source.Username);
        Assert.Equal(TimeSpan.FromDays(30), options.Registries[4].Source.Lifetime);
        Assert.Equal("registryinfra.io/pull=ecr", options.Targets[0].NamespaceSelector);
        Assert.Equal(["ci", "builds"], options.Targets[1].Namespaces);
        Assert.Equal(("registry-credentials", true, 0), (options.Targets[2].SecretName, options.Targets[2].AttachOnly, options.Targets[2].Registries.Count));
        Assert.Equal(["default", "builder"], options.Targets[2].ServiceAccounts);
        Assert.False(options.Targets[1].AttachOnly);
        Assert.Equal((TimeSpan.FromHours(7), 32, TimeSpan.FromMinutes(5)), (options.RenewBefore, options.Concurrency, options.Deadline));
        Assert.Empty(RefresherConfigurationValidator.Validate(options));
    }

    [Fact]
    public async Task The_documented_example_conforms_to_the_published_schema_and_the_schema_rejects_mistakes()
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RefresherFolder, "config.schema.json"), TestContext.Current.CancellationToken);
        // As Core writes it back: numbers and booleans typed, as the schema types them.
        var typed = RefresherConfigurationJson.ToJson(ConfigurationReading.Load(Example));

        Assert.Empty(schema.Validate(typed));
        Assert.NotEmpty(schema.Validate("""{"registries":[{"server":"ghcr.io","source":{"type":"static","username":"u"}}],"targets":[{"secretName":"x","namespaces":["a"]}]}"""));
        Assert.NotEmpty(schema.Validate("""{"registries":[{"server":"ghcr.io","source":{"type":"ecr"}}],"targets":[{"secretName":"x","namespaces":["a"],"allNamespaces":true}]}"""));
        Assert.NotEmpty(schema.Validate("""{"registries":[{"server":"ghcr.io","source":{"type":"ecr"}}],"targets":[{"secretName":"x","namespace":["a"]}]}"""));
        // Attach-only: no registries needed, but service accounts are, and registries on the target are refused.
        Assert.Empty(schema.Validate("""{"targets":[{"secretName":"x","attachOnly":true,"namespaces":["a"],"serviceAccounts":["default"]}]}"""));
        Assert.NotEmpty(schema.Validate("""{"targets":[{"secretName":"x","attachOnly":true,"namespaces":["a"]}]}"""));
        Assert.NotEmpty(schema.Validate("""{"targets":[{"secretName":"x","attachOnly":true,"namespaces":["a"],"serviceAccounts":[]}]}"""));
        Assert.NotEmpty(schema.Validate("""{"registries":[{"server":"ghcr.io","source":{"type":"ecr"}}],"targets":[{"secretName":"x","attachOnly":true,"registries":["ghcr.io"],"namespaces":["a"],"serviceAccounts":["default"]}]}"""));
        Assert.NotEmpty(schema.Validate("""{"targets":[{"secretName":"x","namespaces":["a"]}]}"""));
        // Selection and copy targets: a copy target needs no registries; the exclusive combinations are refused.
        Assert.Empty(schema.Validate("""{"instance":"r","targets":[{"secretName":"x","allNamespaces":true,"excludeNamespaces":["kube-*"],"allServiceAccounts":true,"source":{"namespace":"r","name":"s"},"clusterOwner":"r"}]}"""));
        Assert.Empty(schema.Validate("""{"instance":"r","targets":[{"secretName":"x","attachOnly":true,"namespaceSelector":"team in (a)","serviceAccountSelector":"pulls"}]}"""));
        Assert.NotEmpty(schema.Validate("""{"targets":[{"secretName":"x","attachOnly":true,"namespaces":["a"],"serviceAccounts":["default"],"allServiceAccounts":true}]}"""));
        Assert.NotEmpty(schema.Validate("""{"targets":[{"secretName":"x","attachOnly":true,"namespaces":["a"],"serviceAccounts":["default"],"excludeNamespaces":["b"]}]}"""));
        Assert.NotEmpty(schema.Validate("""{"targets":[{"secretName":"x","attachOnly":true,"namespaces":["a"],"serviceAccounts":["default"],"source":{"namespace":"r","name":"s"}}]}"""));
        Assert.NotEmpty(schema.Validate("""{"targets":[{"secretName":"x","namespaces":["a"],"source":{"namespace":"r","name":"s"},"owner":"o","clusterOwner":"r"}]}"""));
        Assert.NotEmpty(schema.Validate("""{"targets":[{"secretName":"x","namespaces":["a"],"source":{"namespace":"r"}}]}"""));
        Assert.NotEmpty(schema.Validate("""{"instance":"bad value","targets":[{"secretName":"x","namespaces":["a"],"source":{"namespace":"r","name":"s"}}]}"""));
        Assert.Empty(schema.Validate("""{"targets":[{"secretName":"x","namespaces":["a"],"source":{"namespace":"r","name":"s"}}],"watch":{"leaseNamespace":"r","leaseName":"l","resync":"10m"}}"""));
        Assert.NotEmpty(schema.Validate("""{"targets":[{"secretName":"x","namespaces":["a"],"source":{"namespace":"r","name":"s"}}],"watch":{"leaseName":"l"}}"""));
    }

    [Fact]
    public void Yaml_errors_name_the_line()
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationFile.ToJson("registries:\n  - server: a\n   bad: [", "config.yaml"));
        Assert.Contains("config: 'config.yaml' is not valid YAML at line", e.Message, StringComparison.Ordinal);
        Assert.Throws<ConfigurationException>(() => ConfigurationFile.ToJson("- just\n- a list", "config.yaml"));
        Assert.Throws<ConfigurationException>(() => ConfigurationFile.ToJson("", "config.yaml"));
    }

    [Fact]
    public void Json_is_accepted_as_yaml()
    {
        var json = ConfigurationFile.ToJson("""{"registries": [{"server": "ghcr.io"}], "concurrency": 3}""", "config.json");
        Assert.Equal("""{"registries":[{"server":"ghcr.io"}],"concurrency":"3"}""", json.ToJsonString());
    }
}
