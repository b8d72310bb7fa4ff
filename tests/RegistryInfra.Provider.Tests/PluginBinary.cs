using RegistryInfra.Testing;

namespace RegistryInfra.Provider.Tests;

/// <summary>
/// The plugin executable the tests start as the engine would: the shipped kind, the NativeAOT binary that
/// provider/build publishes into artifacts/plugins/registryinfra/ (tests/run builds it first when its inputs
/// changed), or <c>REGISTRYINFRA_PLUGIN</c> when set. Missing, it fails the test under CI=true and skips it
/// elsewhere.
/// </summary>
internal static class PluginBinary
{
    public static string Path =>
        Environment.GetEnvironmentVariable("REGISTRYINFRA_PLUGIN") is { Length: > 0 } configured
            ? Requirements.RequireFile(configured, "REGISTRYINFRA_PLUGIN names no file")
            : Requirements.RequireFile(Requirements.PluginArtifact, "run `bash provider/build` (NativeAOT: needs clang or gcc and zlib1g-dev)");
}
