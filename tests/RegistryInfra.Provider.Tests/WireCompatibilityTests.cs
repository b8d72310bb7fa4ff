using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using RegistryInfra.Testing;

namespace RegistryInfra.Provider.Tests;

/// <summary>
/// Wire compatibility proven by code this team did not write: `tests/npm/wire-client.js` drives the built
/// plugin through the official generated gRPC stubs of the npm package <c>@pulumi/pulumi</c>, the way the
/// engine does (Engine service address as argument, port read from stdout), and prints a transcript that
/// this test asserts on.
/// </summary>
public sealed class WireCompatibilityTests
{
    private const string Password = "hunter2-wire-secret";
    private const string NewPassword = "hunter3-wire-secret";
    private const string SecretSignature = "1b47061264138c4ac30d75fd1eb44270";
    private const string SignatureKey = "4dabf18193072939515e22adb298388d";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_official_pulumi_stubs_drive_every_resource_rpc_of_the_plugin()
    {
        var transcript = await RunWireClientAsync();
        var calls = transcript["calls"]!.AsObject();

        Assert.Matches("^[0-9]+\n$", transcript["stdoutFirstLine"]!.GetValue<string>());

        var version = typeof(RegistryInfraPackage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version.Split('+')[0], calls["getPluginInfo"]!["version"]!.GetValue<string>());

        var schema = calls["getSchema"]!["schema"]!;
        Assert.Equal("registryinfra", schema["name"]!.GetValue<string>());
        Assert.NotNull(schema["resources"]!["registryinfra:index:RegistryProfile"]);

        Assert.Empty(calls["checkConfig"]!["failures"]!.AsArray());
        Assert.True(calls["configure"]!["acceptsecrets"]!.GetValue<bool>());
        Assert.True(calls["configure"]!["supportspreview"]!.GetValue<bool>());

        Assert.Empty(calls["check"]!["failures"]!.AsArray());
        Assert.True(IsSecret(calls["check"]!["inputs"]!["password"]), "the checked password must stay a secret");
        var invalid = calls["checkInvalid"]!["failures"]!.AsArray();
        Assert.Contains(invalid, f => f!["property"]!.GetValue<string>() == "server");

        var preview = calls["createPreview"]!;
        Assert.Equal("", preview["id"]!.GetValue<string>());

        var created = calls["create"]!;
        var id = created["id"]!.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(id));
        // The host keeps the case it was written in: the kubelet compares host labels as written (keyring.go).
        Assert.Equal("Registry.Example.com", created["properties"]!["server"]!.GetValue<string>());
        Assert.True(IsSecret(created["properties"]!["authEntry"]), "authEntry must be a secret output");
        Assert.True(IsSecret(created["properties"]!["dockerConfigJson"]), "dockerConfigJson must be a secret output");
        AssertSecretOnlyInsideSecrets(created["properties"]!, Password);

        var diff = calls["diff"]!;
        Assert.Equal(2, diff["changes"]!.GetValue<int>()); // DIFF_SOME
        Assert.Contains("password", diff["diffsList"]!.AsArray().Select(d => d!.GetValue<string>()));
        Assert.Empty(diff["replacesList"]!.AsArray());
        Assert.DoesNotContain(Password, diff.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(NewPassword, diff.ToJsonString(), StringComparison.Ordinal);

        var replace = calls["diffReplace"]!;
        Assert.Contains("server", replace["replacesList"]!.AsArray().Select(d => d!.GetValue<string>()));

        AssertSecretOnlyInsideSecrets(calls["update"]!["properties"]!, NewPassword);
        Assert.Equal(id, calls["read"]!["id"]!.GetValue<string>());
        Assert.True(calls["delete"]!["ok"]!.GetValue<bool>());

        var unknown = calls["checkUnknownType"]!["error"]!;
        Assert.Equal(5, unknown["code"]!.GetValue<int>()); // NOT_FOUND: no handler is registered for that type token
        Assert.Contains("NoSuchThing", unknown["details"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.True(calls["cancel"]!["ok"]!.GetValue<bool>());
        Assert.Equal(0, transcript["exit"]!["code"]?.GetValue<int>() ?? -1);

        var stderr = transcript["stderr"]!.GetValue<string>();
        Assert.DoesNotContain(Password, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(NewPassword, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, transcript["engineLogs"]!.ToJsonString(), StringComparison.Ordinal);
    }

    private static bool IsSecret(JsonNode? value) =>
        value is JsonObject o && o[SignatureKey]?.GetValue<string>() == SecretSignature;

    /// <summary>The secret may appear in the transcript only inside values marked secret.</summary>
    private static void AssertSecretOnlyInsideSecrets(JsonNode properties, string secret)
    {
        Assert.Contains(secret, properties.ToJsonString(), StringComparison.Ordinal); // it is really there...
        Assert.DoesNotContain(secret, StripSecrets(properties)?.ToJsonString() ?? "", StringComparison.Ordinal); // ...but only as a secret
    }

    private static JsonNode? StripSecrets(JsonNode? node) => node switch
    {
        JsonObject o when IsSecret(o) => JsonValue.Create("[secret]"),
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, StripSecrets(p.Value)))),
        JsonArray a => new JsonArray(a.Select(StripSecrets).ToArray()),
        _ => node?.DeepClone(),
    };

    private static async Task<JsonNode> RunWireClientAsync()
    {
        var node = Requirements.RequireCommand("node", "install Node.js 20 or later");
        var npm = Path.Combine(Requirements.RepositoryRoot, "tests", "npm");
        Requirements.RequireDirectory(Path.Combine(npm, "node_modules", "@pulumi", "pulumi"), "run tests/setup (npm ci in tests/npm)");
        var start = new ProcessStartInfo(node)
        {
            ArgumentList = { Path.Combine(npm, "wire-client.js"), PluginBinary.Path },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = npm,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        try
        {
            await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(2), Ct);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        Assert.True(process.ExitCode == 0, $"wire-client.js failed ({process.ExitCode}): {await stderr}");
        return JsonNode.Parse(await stdout) ?? throw new InvalidDataException("wire-client.js printed no transcript");
    }
}
