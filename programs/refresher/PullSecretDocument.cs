using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Refresher;

/// <summary>
/// The <c>.dockerconfigjson</c> of one pull secret, as far as the refresher touches it: its own registries'
/// <c>auths</c> entries are set, every other entry and top-level field is kept as it was.
/// Interim: to be replaced by core-refs' <c>DockerConfig</c> once that branch lands.
/// </summary>
internal sealed class PullSecretDocument
{
    private readonly JsonObject _root;

    private PullSecretDocument(JsonObject root) => _root = root;

    public static PullSecretDocument Empty() => new(new JsonObject { ["auths"] = new JsonObject() });

    /// <summary>Parses existing content; throws <see cref="FormatException"/> (secret-free message) when it is not a docker config.</summary>
    public static PullSecretDocument Parse(byte[] content)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(content);
        }
        catch (JsonException e)
        {
            // The parser's message can quote the content, which holds credentials: keep only the position.
            throw new FormatException($".dockerconfigjson is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine})");
        }
        if (node is not JsonObject root)
        {
            throw new FormatException(".dockerconfigjson is not a JSON object");
        }
        if (root["auths"] is { } auths && auths is not JsonObject)
        {
            throw new FormatException(".dockerconfigjson: 'auths' is not an object");
        }
        root["auths"] ??= new JsonObject();
        return new PullSecretDocument(root);
    }

    private JsonObject Auths => (JsonObject)_root["auths"]!;

    public bool HasEntry(string server) => Auths[server] is JsonObject;

    /// <summary>True when the entry of <paramref name="server"/> already holds exactly this credential.</summary>
    public bool Holds(string server, RegistryCredential credential) =>
        Auths[server] is JsonObject entry && JsonNode.DeepEquals(entry, Entry(credential));

    public void Set(string server, RegistryCredential credential) => Auths[server] = Entry(credential);

    public byte[] ToBytes() => Encoding.UTF8.GetBytes(_root.ToJsonString());

    private static JsonObject Entry(RegistryCredential credential)
    {
        var entry = new JsonObject
        {
            ["username"] = credential.Username,
            ["password"] = credential.Password,
            ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.Username + ":" + credential.Password)),
        };
        if (credential.IdentityToken is not null)
        {
            entry["identitytoken"] = credential.IdentityToken;
        }
        return entry;
    }
}
