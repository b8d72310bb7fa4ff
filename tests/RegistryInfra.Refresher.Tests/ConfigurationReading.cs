using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.Configuration;

namespace RegistryInfra.Refresher.Tests;

/// <summary>Reads configuration text as the program does (YAML to JSON, then Core's reader), without validating.</summary>
internal static class ConfigurationReading
{
    public static RefresherConfiguration Read(string yaml)
    {
        var problems = new List<ConfigurationProblem>();
        var configuration = RefresherConfigurationJson.Read(ConfigurationFile.ToJson(yaml, "config.yaml"), problems);
        Assert.True(configuration is not null, string.Join("\n", problems));
        return configuration;
    }

    /// <summary>Reads, overrides from <paramref name="environment"/> and validates, as the program does.</summary>
    public static RefresherConfiguration Load(string path, IReadOnlyDictionary<string, string>? environment = null) =>
        ConfigurationFile.Load(path, new System.Collections.Hashtable((environment ?? new Dictionary<string, string>()).ToDictionary(kv => kv.Key, kv => (object)kv.Value)));
}
