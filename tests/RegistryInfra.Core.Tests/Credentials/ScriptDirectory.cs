using RegistryInfra.Testing;

namespace RegistryInfra.Core.Tests.Credentials;

/// <summary>A temporary folder of executable bash scripts, put first on the PATH given to a source.</summary>
internal sealed class ScriptDirectory : IDisposable
{
    public ScriptDirectory()
    {
        Requirements.RequireCommand("bash", "install bash");
        Path = Directory.CreateTempSubdirectory("registryinfra-scripts-").FullName;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["PATH"] = Path + System.IO.Path.PathSeparator + (System.Environment.GetEnvironmentVariable("PATH") ?? ""),
    };

    public string Write(string name, string body)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, "#!/usr/bin/env bash\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return file;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
