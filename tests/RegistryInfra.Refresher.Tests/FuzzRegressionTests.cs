using System.Collections;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Testing;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// The configuration files afl-fuzz found crashing the loader (tests/fuzz/crashes/refresher-config, committed as
/// found): YamlDotNet threw InvalidOperationException or ArgumentException instead of a YamlException, and the
/// refresher exited with a stack trace. Each must now be one clear configuration problem (exit 2).
/// </summary>
public sealed class FuzzRegressionTests
{
    private static ConfigurationException Load(string crash)
    {
        var path = Path.Combine(Requirements.RepositoryRoot, "tests", "fuzz", "crashes", "refresher-config", crash);
        Assert.True(File.Exists(path), path);
        var error = Assert.Throws<ConfigurationException>(() => ConfigurationFile.Load(path, new Hashtable()));
        var problem = Assert.Single(error.Problems);
        Assert.Equal("config", problem.Path);
        Assert.Contains("is not valid YAML", problem.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Operation is not valid", problem.Message, StringComparison.Ordinal);
        return error;
    }

    [Fact]
    public void A_plain_scalar_after_control_characters_in_a_flow_sequence_is_invalid_yaml_not_an_InvalidOperationException() =>
        Assert.Contains("malformed scalar", Load("810dcb586cc89d2e").Message, StringComparison.Ordinal);

    [Fact]
    public void A_plain_scalar_after_a_DEL_in_a_flow_mapping_key_is_invalid_yaml_not_an_InvalidOperationException() =>
        Assert.Contains("malformed scalar", Load("a45ee08dbd0d0948").Message, StringComparison.Ordinal);

    [Fact]
    public void A_non_URI_tag_inside_a_flow_mapping_is_invalid_yaml_not_an_ArgumentException() =>
        Assert.Contains("tag that is not a valid URI", Load("a65183d5213a4fc8").Message, StringComparison.Ordinal);

    [Fact]
    public void A_document_that_is_only_a_non_URI_tag_is_invalid_yaml_not_an_ArgumentException() =>
        Assert.Contains("tag that is not a valid URI", Load("fc724b3948b6130c").Message, StringComparison.Ordinal);
}
