using System.Text;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Pulumirpc;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Provider.Tests.Hardening;

/// <summary>
/// A RegistryProfile checked by the plugin binary against a registry that echoes the credentials it gets into
/// every answer, and redirects to a second host that asks for them: nothing of the password reaches the second
/// host, the check failure, the engine's log or the plugin's stderr. (The cross-host challenge itself, with both
/// hosts declared insecure, is in RegistryInfra.Core.Tests' HostileRegistryTests.)
/// </summary>
public sealed class HostileRegistryThroughPluginTests
{
    private const string Password = "plugin-Hostile-Secret-5521";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_echoing_and_redirecting_registry_gets_no_credential_into_any_message_log_or_other_host()
    {
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("robot:" + Password));
        await using var other = await HostileRegistry.StartAsync((_, context) => HostileRegistry.ChallengeAsync(context, "Basic realm=\"other\""));
        await using var registry = await HostileRegistry.StartAsync((self, context) =>
        {
            var echo = $"{context.Request.Headers.Authorization} {Password} {basic}";
            if (context.Request.Path == "/v2/")
            {
                return context.Request.Headers.Authorization.Count == 0
                    ? HostileRegistry.ChallengeAsync(context, "Basic realm=\"r\"")
                    : HostileRegistry.JsonAsync(context, 200, "{}");
            }
            if (context.Request.Path.StartsWithSegments("/v2/team/app/manifests"))
            {
                return HostileRegistry.RedirectAsync(context, other.Origin + "/steal");
            }
            return HostileRegistry.JsonAsync(context, 403, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"" + echo + "\"}]}");
        });
        await using var plugin = await RestartablePlugin.StartAsync(Ct);
        var news = new Struct();
        news.Fields["server"] = Value.ForString(registry.Authority);
        news.Fields["insecure"] = Value.ForBool(true);
        news.Fields["username"] = Value.ForString("robot");
        news.Fields["password"] = BadInputCases.S(Password);
        news.Fields["images"] = Value.ForList(Value.ForString(registry.Authority + "/team/app:1.0"), Value.ForString(registry.Authority + "/team/denied:1.0"));

        var check = await plugin.Client.CheckAsync(new CheckRequest
        {
            Urn = "urn:pulumi:dev::proj::registryinfra:index:RegistryProfile::p",
            Type = "registryinfra:index:RegistryProfile",
            Name = "p",
            Olds = new Struct(),
            News = news,
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: Ct));

        Assert.NotEmpty(check.Failures);
        var text = string.Join("\n", check.Failures.Select(f => f.Property + ": " + f.Reason));
        // The second host is not declared insecure, so the plain-HTTP hop to it is refused before anything is sent.
        Assert.True(text.Contains("refused a redirect", StringComparison.Ordinal), text);
        Assert.Contains("access denied (DENIED", text, StringComparison.Ordinal);
        Assert.Equal(0, other.RequestCount);
        foreach (var secret in (string[])[Password, basic])
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, other.Received, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, plugin.StandardError, StringComparison.Ordinal);
            Assert.All(plugin.Engine.Logs, l => Assert.DoesNotContain(secret, l.Message, StringComparison.Ordinal));
        }
        Assert.True(registry.RequestCount > 0);
    }
}
