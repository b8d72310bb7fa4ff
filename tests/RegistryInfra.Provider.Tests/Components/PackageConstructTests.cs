using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>Construct through the package's provider (the protocol's binder and table) into a real ResourceMonitor.</summary>
public sealed class PackageConstructTests
{
    private static ConstructRequest Request(string type, string name, string json, string endpoint, bool dryRun) => new(
        type, name, "urn:pulumi:test::fleet::pulumi:pulumi:Stack::fleet-test",
        ConstructTests.Inputs(json),
        ImmutableDictionary<string, ImmutableArray<string>>.Empty,
        new DeploymentContext("fleet", "test", "org", ImmutableDictionary<string, string>.Empty, [], dryRun, 4, endpoint),
        ImmutableDictionary<string, string>.Empty.Add("kubernetes", "urn:pulumi:test::fleet::pulumi:providers:kubernetes::c1::id1"),
        [],
        [],
        new ConstructOptions(null, [], null, "", null, [], [], null, []),
        AcceptsOutputValues: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cluster_access_constructs_through_the_package_table(bool dryRun)
    {
        await using var monitor = await FakeResourceMonitor.StartAsync(TestContext.Current.CancellationToken);
        monitor.DryRun = dryRun;
        var provider = RegistryInfraPackage.CreateProvider();

        var response = await provider.ConstructAsync(
            Request("registryinfra:index:ClusterRegistryAccess", "c1", ConstructTests.ClusterInputs(dryRun ? "UNKNOWN" : "{\\\"auth\\\":\\\"eDp5\\\"}"), monitor.Endpoint, dryRun),
            TestContext.Current.CancellationToken);

        Assert.Equal("urn:pulumi:test::fleet::registryinfra:index:ClusterRegistryAccess::c1", response.Urn);
        Assert.Equal(27, monitor.Registrations.Count);
        Assert.Equal("arn:aws:iam::123456789012:role/c1-ecr-ecr-pull", response.State["roleArn"].StringValue);
        // In preview and update alike the token Secret is no Pulumi resource, only its owner ConfigMap (no data) is.
        var owner = monitor.Registrations.Single(r => r.Name == "c1-pull-secret-apps-c1-5fb8cd-tokens-owner");
        Assert.Equal("kubernetes:core/v1:ConfigMap", owner.Type);
        Assert.False(owner.Inputs.ContainsKey("data"));
    }

    [Fact]
    public async Task Missing_required_input_is_refused_by_the_binder_naming_it()
    {
        await using var monitor = await FakeResourceMonitor.StartAsync(TestContext.Current.CancellationToken);
        var provider = RegistryInfraPackage.CreateProvider();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => provider.ConstructAsync(
            Request("registryinfra:kubernetes:PullSecret", "ps", """{ "registries": [{ "server": "r.example.com", "username": "u", "password": "p" }] }""", monitor.Endpoint, false),
            TestContext.Current.CancellationToken));

        Assert.Contains("namespaces", error.Message, StringComparison.Ordinal);
        Assert.Empty(monitor.Registrations);
    }
}
