using System.Text.Json.Nodes;
using RegistryInfra.Refresher.KubernetesApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Kubernetes;
using RegistryInfra.Core.Refresher;

namespace RegistryInfra.Refresher.Tests;


/// <summary>Each configured source type becomes the core credential source that serves it.</summary>
public sealed class CredentialSourcesTests
{
    private static ICredentialSource Create(string server, TokenSourceConfiguration source) =>
        new CredentialSources(TimeProvider.System).Create(new RegistryConfiguration { Server = server, Source = source });

    [Fact]
    public void Ecr_takes_region_and_account_from_the_host_name_unless_given()
    {
        var fromHost = Assert.IsType<EcrCredentialSource>(Create("123456789012.dkr.ecr.eu-west-1.amazonaws.com", new() { Type = "ecr" }));
        Assert.Equal(("eu-west-1", "123456789012"), (fromHost.Client.Region, fromHost.AccountId));

        var given = Assert.IsType<EcrCredentialSource>(Create("ecr.internal.example.com", new() { Type = "ecr", Region = "us-east-2", AccountId = "210987654321", Endpoint = "https://vpce.example.com" }));
        Assert.Equal(("us-east-2", "210987654321", "vpce.example.com"), (given.Client.Region, given.AccountId, given.Client.Endpoint.Host));

        Assert.Equal(EcrApi.Public, Assert.IsType<EcrCredentialSource>(Create("public.ecr.aws", new() { Type = "ecr" })).Client.Api);
    }

    [Fact]
    public void Gcp_acr_exec_and_static_map_to_their_sources()
    {
        Assert.IsType<GcpAccessTokenSource>(Create("europe-west1-docker.pkg.dev", new() { Type = "gcp" }));
        Assert.IsType<AcrCredentialSource>(Create("myregistry.azurecr.io", new() { Type = "acr", TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47" }));
        Assert.IsType<ExecCredentialSource>(Create("registry.example.com", new() { Type = "exec", Command = "/usr/bin/env" }));
        Assert.Equal("static(ghcr.io, env GHCR_TOKEN)", Create("ghcr.io", new() { Type = "static", Username = "u", PasswordEnv = "GHCR_TOKEN" }).Description);
    }

    [Fact]
    public async Task An_exec_source_from_the_configuration_fills_the_secret_end_to_end()
    {
        var sh = Requirements.RequireCommand("sh", "install a POSIX shell");
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        api.AddNamespace("build");
        var dir = Directory.CreateTempSubdirectory("refresher-exec-").FullName;
        try
        {
            var config = Path.Combine(dir, "config.yaml");
            await File.WriteAllTextAsync(config, $$"""
                registries:
                  - server: Registry.Example.com:5000
                    source:
                      type: exec
                      command: {{sh}}
                      args: ["-c", "echo 'ci-bot:exec-pass:with-colon'"]
                      lifetime: "02:00:00"
                targets:
                  - secretName: exec-pull
                    namespaces: [build]
                """, TestContext.Current.CancellationToken);
            var logs = new LogCapture();

            var code = await RefresherApp.RunAsync(["refresh", "-c", config], services =>
            {
                services.RemoveAll<ILoggerProvider>();
                services.AddSingleton<ILoggerProvider>(logs);
                services.RemoveAll<IKubeApi>();
                services.AddSingleton<IKubeApi>(_ => new KubeApi(new KubeEndpoint { Server = new Uri(api.Host), Credentials = new KubeCredentials() }, TimeSpan.FromSeconds(100)));
            }, TestContext.Current.CancellationToken);

            Assert.Equal(0, code);
            var entry = JsonNode.Parse(api.GetSecretData("build", "exec-pull", ".dockerconfigjson")!)!["auths"]!["Registry.Example.com:5000"]!; // the host as written: the kubelet compares its case
            Assert.Equal(("ci-bot", "exec-pass:with-colon"), (entry["username"]!.GetValue<string>(), entry["password"]!.GetValue<string>()));
            Assert.NotNull(api.GetSecret("build", "exec-pull")!["metadata"]!["annotations"]!["registryinfra.io/expires-at"]);
            Assert.DoesNotContain("exec-pass", logs.All, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>The refresher's sources are Core's credential specs: a rule of the spec is a configuration error here too.</summary>
public sealed class CredentialSpecRulesInConfigurationTests
{
    [Theory]
    [InlineData("""{"server":"myregistry.azurecr.io","source":{"type":"acr","tenantId":"not-a-guid"}}""", "registries[0].source.tenantId: must be a tenant id")]
    [InlineData("""{"server":"123456789012.dkr.ecr.eu-west-1.amazonaws.com","source":{"type":"ecr","region":"Europe"}}""", "registries[0].source.region: must be an AWS region")]
    [InlineData("""{"server":"123456789012.dkr.ecr.eu-west-1.amazonaws.com","source":{"type":"ecr","endpoint":"http://vpce.example.com"}}""", "registries[0].source.endpoint: must be an absolute https:// URL")]
    [InlineData("""{"server":"123456789012.dkr.ecr.eu-west-1.amazonaws.com","source":{"type":"ecr","accountId":"12345"}}""", "registries[0].source.accountId: must be 12 digits")]
    [InlineData("""{"server":"r.example.com","source":{"type":"exec","command":""}}""", "registries[0].source.command")]
    public void A_spec_rule_fails_the_configuration_naming_the_configured_field(string registry, string expected)
    {
        var problems = RefresherConfigurationValidator.Validate(ConfigurationReading.Read($$"""{"registries":[{{registry}}],"targets":[{"secretName":"s","namespaces":["a"]}]}"""));

        Assert.Contains(problems, p => p.ToString().StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_valid_tenant_domain_and_region_pass()
    {
        var problems = RefresherConfigurationValidator.Validate(ConfigurationReading.Read("""
            {"registries":[{"server":"myregistry.azurecr.io","source":{"type":"acr","tenantId":"contoso.onmicrosoft.com"}},
                           {"server":"123456789012.dkr.ecr.eu-west-1.amazonaws.com","source":{"type":"ecr"}}],
             "targets":[{"secretName":"s","namespaces":["a"]}]}
            """));

        Assert.Empty(problems);
    }
}
