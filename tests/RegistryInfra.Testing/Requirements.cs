using Xunit;

namespace RegistryInfra.Testing;

/// <summary>
/// Guards for tests that need a real part of the machine (the registry binary, skopeo, Node).
/// Under CI (<c>CI=true</c>) a missing part fails the test; elsewhere it skips, with the install hint.
/// </summary>
public static class Requirements
{
    public static bool IsCI =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Returns the full path of <paramref name="command"/> on PATH, or fails/skips the test.</summary>
    public static string RequireCommand(string command, string installHint)
    {
        var path = FindOnPath(command);
        if (path is not null)
        {
            return path;
        }
        Missing($"'{command}' is not on PATH; {installHint}");
        return null!; // unreachable: Missing throws
    }

    /// <summary>Returns <paramref name="path"/> when that file exists, or fails/skips the test.</summary>
    public static string RequireFile(string path, string hint)
    {
        if (!File.Exists(path))
        {
            Missing($"{path} does not exist; {hint}");
        }
        return path;
    }

    /// <summary>Returns <paramref name="path"/> when that folder exists, or fails/skips the test.</summary>
    public static string RequireDirectory(string path, string hint)
    {
        if (!Directory.Exists(path))
        {
            Missing($"{path} does not exist; {hint}");
        }
        return path;
    }

    /// <summary>
    /// The plugin executable that provider/build publishes for this machine (NativeAOT), which tests/run builds
    /// before the tests.
    /// </summary>
    public static string PluginArtifact => Path.Combine(RepositoryRoot, "artifacts", "plugins", "registryinfra",
        OperatingSystem.IsWindows() ? "pulumi-resource-registryinfra.exe" : "pulumi-resource-registryinfra");

    /// <summary>A part the test needs is missing: a failure under CI, a skip with <paramref name="message"/> elsewhere.</summary>
    private static void Missing(string message)
    {
        if (IsCI)
        {
            Assert.Fail(message + " (CI=true: a missing test dependency is a failure)");
        }
        Assert.Skip(message);
    }

    /// <summary>Finds an executable on PATH without running a shell.</summary>
    public static string? FindOnPath(string command)
    {
        if (Path.IsPathRooted(command))
        {
            return File.Exists(command) ? command : null;
        }
        var paths = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var dir in paths.Concat(["/usr/sbin", "/sbin", "/usr/bin"]))
        {
            var candidate = Path.Combine(dir, command);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The repository root (the folder holding RegistryInfra.sln), found from the test's base directory.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RegistryInfra.sln")))
            {
                dir = dir.Parent;
            }
            return dir?.FullName ?? throw new InvalidOperationException("RegistryInfra.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
