using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Plugin;

namespace RegistryInfra.Programs.Tests;

/// <summary>
/// Programs run, not only type-check: every program of the repository, with its committed stack
/// (<c>Pulumi.dev.yaml</c>, the README's config), evaluated as Pulumi YAML would evaluate it (see
/// <see cref="ProgramRun"/>) in a preview and then an update, every <c>registryinfra:*</c> resource, component and
/// function sent to the built NativeAOT plugin over gRPC. A program that cannot be deployed fails here.
/// </summary>
public sealed class ProgramRunTests
{
    private const string Stack = "dev";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Programs() => RepositoryProgramTests.RunnablePrograms();

    private static string PluginPath =>
        Environment.GetEnvironmentVariable("REGISTRYINFRA_PLUGIN") is { Length: > 0 } configured
            ? Requirements.RequireFile(configured, "REGISTRYINFRA_PLUGIN names no file")
            : Requirements.RequireFile(Requirements.PluginArtifact, "run `bash provider/build` (NativeAOT: needs clang or gcc and zlib1g-dev)");

    /// <summary>
    /// What the cloud would answer to the other packages' functions the programs call, for the update (Pulumi's
    /// mocks): eks-irsa-ecr looks up its cluster's OIDC issuer and IAM OIDC provider, aks-workload-identity its cluster and registry.
    /// </summary>
    private static readonly Dictionary<string, PropertyValue> Mocks = new(StringComparer.Ordinal)
    {
        ["aws:eks:getCluster"] = PropertyValue.CreateObject(("identities", PropertyValue.CreateArray(PropertyValue.CreateObject(("oidcs",
            PropertyValue.CreateArray(PropertyValue.CreateObject(("issuer", PropertyValue.Create("https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"))))))))),
        ["aws:iam:getOpenIdConnectProvider"] = PropertyValue.CreateObject(("arn", PropertyValue.Create("arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"))),
        // aks-workload-identity looks up its cluster's OIDC issuer and its registry's resource id and login server.
        ["azure-native:containerservice:getManagedCluster"] = PropertyValue.CreateObject(("oidcIssuerProfile", PropertyValue.CreateObject(("issuerURL",
            PropertyValue.Create("https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000001/11111111-2222-3333-4444-555555555555/"))))),
        ["azure-native:containerregistry:getRegistry"] = PropertyValue.CreateObject(
            ("id", PropertyValue.Create("/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/registries/providers/Microsoft.ContainerRegistry/registries/acmeprod")),
            ("loginServer", PropertyValue.Create("acmeprod.azurecr.io"))),
    };

    /// <summary>Runs <paramref name="program"/> in preview, then as an update, against a fresh plugin and stand-in registries.</summary>
    internal static async Task<(IReadOnlyList<ProgramRunRecord> Runs, IReadOnlyList<string> RegistryHosts)> RunAsync(string program)
    {
        var path = Path.Combine(Requirements.RepositoryRoot, program);
        var stack = Path.Combine(Path.GetDirectoryName(path)!, $"Pulumi.{Stack}.yaml");
        Assert.True(File.Exists(stack), $"{program}: no stack config Pulumi.{Stack}.yaml beside it (the README's config values)");
        var (runs, hosts, failure) = await TryRunAsync(path, stack);
        if (failure is not null)
        {
            Assert.Fail($"{program} cannot be deployed: {failure}");
        }
        return (runs, hosts);
    }

    /// <summary>Runs a program file with a stack file; a program that cannot be deployed gives the reason.</summary>
    internal static async Task<(IReadOnlyList<ProgramRunRecord> Runs, IReadOnlyList<string> RegistryHosts, string? Failure)> TryRunAsync(string path, string stack)
    {
        await using var registries = await RegistryStandIn.StartAsync(Ct);
        // The image digest-pinning's README names (ghcr.io/my-org/app:1.4), on every stood-in registry.
        await registries.PushAsync("my-org/app", "1.4", Ct);
        // The public image static-registries pins through an anonymous profile (mcr.microsoft.com/dotnet/runtime:10.0).
        await registries.PushAsync("dotnet/runtime", "10.0", Ct);
        await using var plugin = await PluginProcess.StartAsync(PluginPath, Ct, registries.Environment);
        var runs = new List<ProgramRunRecord>();
        foreach (var preview in new[] { true, false })
        {
            try
            {
                runs.Add(await ProgramRun.RunAsync(path, stack, plugin.Provider, preview, registries.CaPem, Mocks, Ct));
            }
            catch (ProgramRunException e)
            {
                return (runs, [.. registries.Hosts], $"({(preview ? "preview" : "update")}) {e.Message}");
            }
        }
        return (runs, [.. registries.Hosts], null);
    }

    // Issue 12, anonymous: the MCR profile of static-registries is checked anonymously against its (stood-in) registry
    // and writes no key into the program's pull secret, beside the four static registries that do.
    [Fact]
    public async Task Static_registries_checks_the_anonymous_mcr_profile_and_writes_no_key_for_it()
    {
        var (runs, hosts) = await RunAsync("programs/static-registries/Pulumi.yaml");

        Assert.Contains("mcr.microsoft.com", hosts);
        var secret = runs[1].Registrations.Single(r => r.Type == "kubernetes:core/v1:Secret");
        var document = secret.Inputs["stringData"].Unwrap().Value.ObjectValue[".dockerconfigjson"].Unwrap().Value.StringValue;
        var keys = System.Text.Json.Nodes.JsonNode.Parse(document)!["auths"]!.AsObject().Select(a => a.Key).ToList();
        Assert.Equal(4, keys.Count);
        Assert.DoesNotContain(keys, k => k.Contains("mcr.microsoft.com", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public async Task A_program_previews_and_updates_through_the_plugin(string program)
    {
        var (runs, hosts) = await RunAsync(program);

        foreach (var run in runs)
        {
            TestContext.Current.SendDiagnosticMessage($"{program} {(run.Preview ? "preview" : "update")}: {run.Calls.Count} plugin calls ({string.Join(", ", run.Calls)}), " +
                $"{run.Registrations.Count} registrations; registries reached: {string.Join(", ", hosts.Distinct())}");
            Assert.NotEmpty(run.Calls);
        }
        // A program's registry profiles were validated against the stand-in registries, through the proxy.
        if (RepositoryPrograms.Read(program).Contains("registryinfra:index:RegistryProfile", StringComparison.Ordinal))
        {
            Assert.Contains(runs[0].Calls, c => c.StartsWith("Check resource", StringComparison.Ordinal));
            Assert.NotEmpty(hosts);
        }
        // The update registers every child the preview did, and more only where the preview could not know.
        Assert.Superset(runs[0].Registrations.Select(r => r.Urn).ToHashSet(), runs[1].Registrations.Select(r => r.Urn).ToHashSet());
    }

    [Theory]
    [InlineData("${ghcr.server}", "${ghrc.server}", "resource or variable named \"ghrc\" could not be found")]
    [InlineData("secretName: registry-credentials", "secretName: Registry_Credentials", "Construct resource 'access' (registryinfra:index:ClusterRegistryAccess)")]
    [InlineData("server: quay.io", "server: quay.io/org", "resource 'quay' (registryinfra:index:RegistryProfile): Check failed: server")]
    [InlineData("registryinfra-static-registries:quayRobot: org+puller", "", "config 'quayRobot': no value in the stack and no default")]
    public async Task A_copy_with_a_broken_reference_a_refused_input_or_missing_config_cannot_be_deployed(string original, string broken, string reason)
    {
        var folder = Directory.CreateTempSubdirectory("registryinfra-program-");
        try
        {
            var source = Path.Combine(Requirements.RepositoryRoot, "programs", "static-registries");
            var program = await File.ReadAllTextAsync(Path.Combine(source, "Pulumi.yaml"), Ct);
            var stack = await File.ReadAllTextAsync(Path.Combine(source, $"Pulumi.{Stack}.yaml"), Ct);
            Assert.True(program.Contains(original, StringComparison.Ordinal) || stack.Contains(original, StringComparison.Ordinal), $"'{original}' is in neither file");
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "Pulumi.yaml"), program.Replace(original, broken, StringComparison.Ordinal), Ct);
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, $"Pulumi.{Stack}.yaml"), stack.Replace(original, broken, StringComparison.Ordinal), Ct);

            var (_, _, failure) = await TryRunAsync(Path.Combine(folder.FullName, "Pulumi.yaml"), Path.Combine(folder.FullName, $"Pulumi.{Stack}.yaml"));

            Assert.True(failure is not null, "the broken copy deployed");
            Assert.True(failure.Contains(reason, StringComparison.Ordinal), failure);
            Assert.StartsWith("(preview)", failure, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    // Regression: the committed GKE program failed Construct ("gcp.accountId: give exactly one of accountId or
    // serviceAccountEmail") in preview and update; the account id now defaults from the component's name.
    [Fact]
    public async Task Gke_program_constructs()
    {
        var (runs, _) = await RunAsync("programs/gke-workload-identity/Pulumi.yaml");

        foreach (var run in runs)
        {
            var account = Assert.Single(run.Registrations, r => r.Type == "gcp:serviceaccount/account:Account");
            Assert.False(account.Inputs["accountId"].IsComputed && !run.Preview);
            Assert.Contains(run.Registrations, r => r.Type == "kubernetes:batch/v1:CronJob");
        }
    }

    // Regression: the NativeAOT plugin failed Create of every RegistryProfile with images (NullReferenceException
    // in reflection-based binding), so digest-pinning could not be deployed with the shipped binary.
    [Fact]
    public async Task Aot_create_of_profile_with_images()
    {
        var (runs, _) = await RunAsync("programs/digest-pinning/Pulumi.yaml");

        Assert.Contains(runs[1].Calls, c => c.StartsWith("Create resource", StringComparison.Ordinal) && c.Contains("RegistryProfile", StringComparison.Ordinal));
    }
}
