using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RegistryInfra.Provider.Engine;

namespace RegistryInfra.Provider.Components.PullSecret;

/// <summary>Builds the <c>.dockerconfigjson</c> document of a pull secret; unknown credentials make it unknown.</summary>
internal static class DockerConfigJson
{
    public const string EmptyDocument = """{"auths":{}}""";

    public static string Build(IEnumerable<(int Index, PullSecretRegistry Registry)> registries)
    {
        var auths = new JsonObject();
        foreach (var (index, registry) in registries)
        {
            var entry = Entry(registry, $"registries[{index}]");
            if (entry is null)
            {
                return Computed.Sentinel;
            }
            auths[registry.Server] = entry;
        }
        return new JsonObject { ["auths"] = auths }.ToJsonString();
    }

    /// <summary>The entry of one registry, or null when it is not known yet (preview).</summary>
    private static JsonObject? Entry(PullSecretRegistry registry, string field)
    {
        if (registry.AuthEntry is { } text)
        {
            if (Computed.IsComputed(text))
            {
                return null;
            }
            try
            {
                return JsonNode.Parse(text) as JsonObject
                    ?? throw new ComponentInputException($"{field}.authEntry", "must be a JSON object such as the RegistryProfile's authEntry output");
            }
            catch (JsonException)
            {
                // The parser's message quotes the text, which is a credential.
                throw new ComponentInputException($"{field}.authEntry", "is not valid JSON (expected the RegistryProfile's authEntry output)");
            }
        }
        var username = registry.Username!;
        var password = registry.Password!;
        if (Computed.IsComputed(username) || Computed.IsComputed(password))
        {
            return null;
        }
        return new JsonObject
        {
            ["username"] = username,
            ["password"] = password,
            ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password)),
        };
    }
}
