using System.Diagnostics;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Monitor;
using Xunit;

namespace RegistryInfra.Provider.Tests.ChildCheck;

/// <summary>
/// Every child that every component mode registers, in preview and in update, checked by
/// <c>tests/npm/child-check.js</c> against the official SDKs' own definitions (@pulumi/kubernetes, @pulumi/aws,
/// @pulumi/gcp, @pulumi/azure-native, read with the TypeScript compiler) and the Kubernetes OpenAPI schema of each kind.
/// </summary>
public sealed class ChildCheckTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The provider packages' children (custom resources) of every mode, as the checker reads them.</summary>
    internal static async Task<JsonArray> DumpAsync(IEnumerable<ComponentMode> modes)
    {
        var dump = new JsonArray();
        foreach (var mode in modes)
        {
            foreach (var preview in new[] { false, true })
            {
                await using var monitor = await FakeResourceMonitor.StartAsync(Ct);
                monitor.DryRun = preview;
                await RegistryInfraPackage.CreateProvider().ConstructAsync(mode.Request(monitor.Endpoint, preview), Ct);
                foreach (var child in monitor.Registrations.Where(r => r.Request.Custom))
                {
                    dump.Add(new JsonObject
                    {
                        ["mode"] = mode.Id,
                        ["preview"] = preview,
                        ["type"] = child.Type,
                        ["name"] = child.Name,
                        ["inputs"] = ToJson(PropertyValue.CreateObject(child.Inputs)),
                    });
                }
            }
        }
        return dump;
    }

    /// <summary>Secrets unwrapped (the SDKs type the value, not its secretness); unknowns as <c>{"__unknown": true}</c>.</summary>
    private static JsonNode? ToJson(PropertyValue value) => value.Kind switch
    {
        PropertyValueKind.Null => null,
        PropertyValueKind.Bool => JsonValue.Create(value.BoolValue),
        PropertyValueKind.Number => JsonValue.Create(value.NumberValue),
        PropertyValueKind.String => JsonValue.Create(value.StringValue),
        PropertyValueKind.Array => new JsonArray([.. value.ArrayValue.Select(ToJson)]),
        PropertyValueKind.Object => new JsonObject(value.ObjectValue.Select(kv => KeyValuePair.Create(kv.Key, ToJson(kv.Value)))),
        PropertyValueKind.Secret => ToJson(value.SecretValue),
        PropertyValueKind.Output when value.OutputValue.Value is { } known => ToJson(known),
        _ => new JsonObject { ["__unknown"] = true },
    };

    internal static async Task<(int ExitCode, JsonNode Report)> RunCheckerAsync(JsonArray dump)
    {
        var node = Requirements.RequireCommand("node", "install Node.js 20 or later");
        var npm = Path.Combine(Requirements.RepositoryRoot, "tests", "npm");
        foreach (var package in new[] { "@pulumi/kubernetes", "@pulumi/aws", "@pulumi/gcp", "@pulumi/azure-native", "typescript", "kubernetes-models" })
        {
            Requirements.RequireDirectory(Path.Combine(npm, "node_modules", package), "run tests/setup (npm ci in tests/npm)");
        }
        var file = Path.Combine(Path.GetTempPath(), $"registryinfra-children-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, dump.ToJsonString(), Ct);
        try
        {
            var start = new ProcessStartInfo(node)
            {
                ArgumentList = { Path.Combine(npm, "child-check.js"), file },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = npm,
            };
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(Ct);
            var stderr = process.StandardError.ReadToEndAsync(Ct);
            try
            {
                await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(5), Ct);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            var output = await stdout;
            Assert.True(process.ExitCode is 0 or 1, $"child-check.js broke ({process.ExitCode}): {await stderr}");
            return (process.ExitCode, JsonNode.Parse(output)!);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string Problems(JsonNode report) =>
        string.Join(Environment.NewLine, report["problems"]!.AsArray().Select(p => $"{p!["mode"]}: {p["child"]} .{p["path"]}: {p["message"]}"));

    [Fact]
    public async Task Every_child_of_every_component_mode_fits_the_providers_sdks_and_the_kubernetes_schemas()
    {
        var dump = await DumpAsync(ComponentModes.All);

        var (exit, report) = await RunCheckerAsync(dump);

        Assert.True(exit == 0, "children that the providers would refuse:" + Environment.NewLine + Problems(report));
        var checkedPerMode = report["checked"]!.AsObject();
        TestContext.Current.SendDiagnosticMessage($"child check: {dump.Count} children checked ({report["versions"]!.ToJsonString()}): " +
            string.Join(", ", checkedPerMode.Select(kv => $"{kv.Key} {kv.Value}")));
        // Every mode registers children, and every one of them was checked (none skipped for an unknown package).
        Assert.All(ComponentModes.All, mode => Assert.True(checkedPerMode[mode.Id]?.GetValue<int>() > 0, $"{mode.Id}: no child checked"));
        Assert.Equal(dump.Count, checkedPerMode.Sum(kv => kv.Value!.GetValue<int>()));
        Assert.Contains(dump, c => c!["type"]!.GetValue<string>().StartsWith("aws:", StringComparison.Ordinal));
        Assert.Contains(dump, c => c!["type"]!.GetValue<string>().StartsWith("gcp:", StringComparison.Ordinal));
        Assert.Contains(dump, c => c!["type"]!.GetValue<string>().StartsWith("azure-native:", StringComparison.Ordinal));
        // DevRegistry's kinds, beyond the Secrets, ConfigMaps and jobs of the others.
        foreach (var type in new[] { "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:core/v1:PersistentVolumeClaim" })
        {
            Assert.Contains(dump, c => c!["type"]!.GetValue<string>() == type);
        }
    }

    [Fact]
    public async Task A_renamed_property_a_dropped_required_one_and_a_wrong_token_are_reported()
    {
        var mode = ComponentModes.All.Single(m => m.Id == "clusterRegistryAccess/static-ecr-gcp");
        var dump = await DumpAsync([mode]);
        JsonObject Child(string type) => dump.Select(c => c!.AsObject()).First(c => c["type"]!.GetValue<string>() == type && !c["preview"]!.GetValue<bool>());

        // A nested Kubernetes field (CronJob spec.schedule → spec.schedul), a top-level AWS input and a required GCP one.
        var cronSpec = Child("kubernetes:batch/v1:CronJob")["inputs"]!["spec"]!.AsObject();
        var schedule = cronSpec["schedule"]!.DeepClone();
        cronSpec.Remove("schedule");
        cronSpec["schedul"] = schedule;
        var role = Child("aws:iam/role:Role")["inputs"]!.AsObject();
        role["assumeRolePolicyDocument"] = role["assumeRolePolicy"]!.DeepClone();
        role.Remove("assumeRolePolicy");
        Child("gcp:serviceaccount/iAMMember:IAMMember")["inputs"]!.AsObject().Remove("role");
        Child("kubernetes:core/v1:ConfigMap")["type"] = "kubernetes:core/v1:ConfigMaps";

        var (exit, report) = await RunCheckerAsync(dump);

        Assert.Equal(1, exit);
        var problems = Problems(report);
        Assert.True(problems.Contains("kubernetes:batch/v1:CronJob", StringComparison.Ordinal), problems);
        Assert.True(problems.Contains(".spec.schedul: 'schedul' is not a property of CronJobSpec", StringComparison.Ordinal), problems);
        Assert.True(problems.Contains("Kubernetes CronJob schema: required 'schedule'", StringComparison.Ordinal), problems);
        Assert.True(problems.Contains(".assumeRolePolicyDocument: 'assumeRolePolicyDocument' is not a property of RoleArgs", StringComparison.Ordinal), problems);
        Assert.True(problems.Contains(".assumeRolePolicy: required property 'assumeRolePolicy' of RoleArgs is missing", StringComparison.Ordinal), problems);
        Assert.True(problems.Contains(".role: required property 'role' of IAMMemberArgs is missing", StringComparison.Ordinal), problems);
        Assert.True(problems.Contains("@pulumi/kubernetes has no resource with type token kubernetes:core/v1:ConfigMaps", StringComparison.Ordinal), problems);
        Assert.True(report["problems"]!.AsArray().Count == 7, problems);
    }

    [Fact]
    public async Task Azure_native_children_are_checked_against_the_azure_native_sdk()
    {
        var dump = await DumpAsync([ComponentModes.All.Single(m => m.Id == "acrPullAccess/new-identity")]);
        JsonObject Child(string type) => dump.Select(c => c!.AsObject()).First(c => c["type"]!.GetValue<string>() == type && !c["preview"]!.GetValue<bool>());
        Child("azure-native:managedidentity:FederatedIdentityCredential")["inputs"]!.AsObject().Remove("audiences");
        var assignment = Child("azure-native:authorization:RoleAssignment")["inputs"]!.AsObject();
        assignment["principalKind"] = assignment["principalType"]!.DeepClone();
        Child("azure-native:managedidentity:UserAssignedIdentity")["inputs"]!["tags"] = new JsonObject { ["team"] = 7 };

        var (exit, report) = await RunCheckerAsync(dump);

        Assert.Equal(1, exit);
        var problems = Problems(report);
        Assert.True(problems.Contains(".audiences: required property 'audiences' of FederatedIdentityCredentialArgs is missing", StringComparison.Ordinal), problems);
        Assert.True(problems.Contains(".principalKind: 'principalKind' is not a property of RoleAssignmentArgs", StringComparison.Ordinal), problems);
        Assert.True(problems.Contains(".tags[\"team\"]: 7 is not a ", StringComparison.Ordinal), problems);
        Assert.True(report["problems"]!.AsArray().Count == 3, problems);
    }
}
