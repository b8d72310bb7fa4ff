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
    public static string Path
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("REGISTRYINFRA_PLUGIN");
            var path = string.IsNullOrEmpty(configured)
                ? System.IO.Path.Combine(Requirements.RepositoryRoot, "artifacts", "plugins", "registryinfra",
                    OperatingSystem.IsWindows() ? "pulumi-resource-registryinfra.exe" : "pulumi-resource-registryinfra")
                : configured;
            if (File.Exists(path))
            {
                return path;
            }
            var message = $"the plugin {path} is not built; run `bash provider/build` (NativeAOT: needs clang or gcc and zlib1g-dev)";
            if (Requirements.IsCI)
            {
                Assert.Fail(message + " (CI=true: a missing plugin build is a failure)");
            }
            Assert.Skip(message);
            return null!;
        }
    }
}
