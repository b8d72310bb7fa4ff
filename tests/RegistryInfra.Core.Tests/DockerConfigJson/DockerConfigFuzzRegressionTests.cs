using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Testing;

namespace RegistryInfra.Core.Tests.DockerConfigJson;

/// <summary>
/// The dockerconfigjson documents afl-fuzz found crashing the parser (tests/fuzz/crashes/dockerconfig, committed as
/// found): invalid UTF-8 inside a JSON string made System.Text.Json throw InvalidOperationException when the name
/// or value was read. Each must now be refused as not valid UTF-8, with the position of the first bad byte.
/// </summary>
public sealed class DockerConfigFuzzRegressionTests
{
    private static void AssertRefusedAsInvalidUtf8(string crash, int firstBadByte)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Requirements.RepositoryRoot, "tests", "fuzz", "crashes", "dockerconfig", crash));
        var error = Assert.Throws<RegistryException>(() => DockerConfig.Parse(bytes));
        Assert.Equal(RegistryErrorKind.InvalidInput, error.Kind);
        Assert.Equal($"dockerconfigjson: not valid UTF-8 (byte {firstBadByte})", error.Message);
    }

    [Fact]
    public void Invalid_utf8_in_an_entry_field_name_is_refused() => AssertRefusedAsInvalidUtf8("0cfdd463ca7b74fb", 25);

    [Fact]
    public void Invalid_utf8_in_an_auth_value_is_refused_without_quoting_it() => AssertRefusedAsInvalidUtf8("162ec3d98bc78f36", 30);

    [Fact]
    public void Invalid_utf8_in_the_auths_name_is_refused() => AssertRefusedAsInvalidUtf8("41cb54beb6acf49b", 3);

    [Fact]
    public void Invalid_utf8_in_a_registry_key_is_refused() => AssertRefusedAsInvalidUtf8("8d9fe61e10fe236d", 19);
}
