namespace RegistryInfra.Provider.Tests;

/// <summary>
/// The plugin executable the tests start as the engine would. <c>REGISTRYINFRA_PLUGIN</c> points at a
/// published binary (what users install); without it, the apphost built next to these tests.
/// </summary>
internal static class PluginBinary
{
    public static string Path
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("REGISTRYINFRA_PLUGIN");
            var path = string.IsNullOrEmpty(configured)
                ? System.IO.Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "pulumi-resource-registryinfra.exe" : "pulumi-resource-registryinfra")
                : configured;
            Assert.True(File.Exists(path), $"plugin binary not found at {path}");
            return path;
        }
    }
}
