using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace RegistryInfra.Refresher.Configuration;

/// <summary>
/// Reads the configuration file (YAML, of which JSON is a subset) into JSON that the configuration
/// system binds, so one binder serves the file and the environment overrides.
/// </summary>
internal static class ConfigurationFile
{
    public static byte[] ReadAsJson(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"config: cannot read '{path}': {e.Message}", e);
        }
        return ToJson(text, path);
    }

    public static byte[] ToJson(string yaml, string origin)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ConfigurationException($"config: '{origin}' is not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
        }
        if (stream.Documents.Count == 0)
        {
            throw new ConfigurationException($"config: '{origin}' is empty");
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ConfigurationException($"config: '{origin}' must hold a mapping at the top level");
        }
        return Encoding.UTF8.GetBytes(Convert(root)!.ToJsonString());
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
            KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? "", Convert(kv.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => scalar.Value is null or "~" or "null" && scalar.Style == YamlDotNet.Core.ScalarStyle.Plain
            ? null
            : JsonValue.Create(scalar.Value),
        _ => throw new ConfigurationException($"config: unsupported YAML node at line {node.Start.Line}"),
    };
}

/// <summary>The configuration cannot be read or is invalid; the message names the field.</summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException(string message) : base(message) { }

    public ConfigurationException(string message, Exception innerException) : base(message, innerException) { }

    public ConfigurationException() : base("invalid configuration") { }
}
