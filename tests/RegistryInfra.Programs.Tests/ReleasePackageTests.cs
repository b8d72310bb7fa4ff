using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using RegistryInfra.Testing;

namespace RegistryInfra.Programs.Tests;

/// <summary>
/// The release step each runner of the release workflow takes, <c>provider/release/package --binary</c>, on the
/// plugin that provider/build made for this machine, and what <c>pulumi plugin install</c> then downloads:
/// the archive's name and layout, the checksums, and that the unpacked plugin starts as the engine starts it.
/// The package script is run with the binary already built, so this takes seconds; the publish itself is
/// provider/build's (and PluginBinaryTests').
/// </summary>
public sealed class ReleasePackageTests(ReleasePackageTests.PackagedRelease release) : IClassFixture<ReleasePackageTests.PackagedRelease>
{
    private const string Version = "1.2.3-rc.1";
    private const string Executable = "pulumi-resource-registryinfra";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Script => Path.Combine(Requirements.RepositoryRoot, "provider", "release", "package");

    private static string ChecksumsName(string version) => $"pulumi-resource-registryinfra_{version}_checksums.txt";

    [Fact]
    public async Task The_archive_is_named_for_the_platform_and_holds_the_executable_and_readme_at_its_root()
    {
        var packaged = await release.PackAsync(Ct);

        var archive = Path.Combine(packaged.Output, $"pulumi-resource-registryinfra-v{Version}-{packaged.Platform}.tar.gz");
        Assert.True(File.Exists(archive), $"no {Path.GetFileName(archive)} in: {string.Join(", ", Directory.GetFiles(packaged.Output).Select(Path.GetFileName))}");
        var expected = new List<string> { Executable, "README.md" };
        if (File.Exists(Path.Combine(Requirements.RepositoryRoot, "LICENSE")))
        {
            expected.Add("LICENSE");
        }

        var names = await RunAsync("tar", ["-tzf", archive]);
        Assert.Equal(0, names.Exit);
        Assert.Equal(expected.Order(StringComparer.Ordinal), Lines(names.Stdout).Order(StringComparer.Ordinal));

        // `tar -tvzf`: "-rwxr-xr-x 0/0 SIZE DATE TIME NAME".
        var listing = Lines((await RunAsync("tar", ["-tvzf", archive])).Stdout).ToDictionary(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1], l => l[..10]);
        Assert.Equal("-rwxr-xr-x", listing[Executable]);
        Assert.Equal("-rw-r--r--", listing["README.md"]);

        var unpacked = await release.UnpackAsync(archive, Ct);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(Requirements.RepositoryRoot, "README.md"), Ct), await File.ReadAllBytesAsync(Path.Combine(unpacked, "README.md"), Ct));
        Assert.Equal(await File.ReadAllBytesAsync(packaged.Binary, Ct), await File.ReadAllBytesAsync(Path.Combine(unpacked, Executable), Ct));
    }

    [Fact]
    public async Task The_checksums_file_covers_the_archive_and_schema_and_sha256sum_accepts_it()
    {
        var packaged = await release.PackAsync(Ct);
        Requirements.RequireCommand("sha256sum", "install coreutils");
        var checksums = Path.Combine(packaged.Output, ChecksumsName(Version));

        var lines = Lines(await File.ReadAllTextAsync(checksums, Ct));

        Assert.Equal([$"pulumi-resource-registryinfra-v{Version}-{packaged.Platform}.tar.gz", "schema.json"], lines.Select(l => l[66..]));
        foreach (var line in lines)
        {
            Assert.Matches("^[0-9a-f]{64}  ", line);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(packaged.Output, line[66..]), Ct))), line[..64]);
        }
        var check = await RunAsync("sha256sum", ["--strict", "-c", Path.GetFileName(checksums)], workingDirectory: packaged.Output);
        Assert.True(check.Exit == 0, check.Stdout + check.Stderr);
        // The committed schema as the release's: its version is the released one (what the SDKs are generated as).
        var committed = await File.ReadAllTextAsync(RepositoryPrograms.SchemaPath, Ct);
        var released = await File.ReadAllTextAsync(Path.Combine(packaged.Output, "schema.json"), Ct);
        Assert.Contains($"\n  \"version\": \"{Version}\",\n", released, StringComparison.Ordinal);
        Assert.Equal(System.Text.RegularExpressions.Regex.Replace(committed, "\n  \"version\": \"[^\"]*\",\n", $"\n  \"version\": \"{Version}\",\n"), released);
    }

    [Fact]
    public async Task The_unpacked_plugin_prints_a_port_it_listens_on_and_writes_the_committed_schema()
    {
        var packaged = await release.PackAsync(Ct);
        var unpacked = await release.UnpackAsync(Path.Combine(packaged.Output, $"pulumi-resource-registryinfra-v{Version}-{packaged.Platform}.tar.gz"), Ct);
        var plugin = Path.Combine(unpacked, Executable);

        // No engine address: the plugin serves without watching an engine, which is all a start-up check needs.
        using (var process = Process.Start(new ProcessStartInfo(plugin) { RedirectStandardOutput = true, RedirectStandardError = true })!)
        {
            try
            {
                var line = await process.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);
                Assert.True(int.TryParse(line, out var port) && port is > 0 and < 65536, $"first stdout line is not a port: '{line}'");
                using var client = new TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, port, Ct);
            }
            finally
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(Ct);
            }
        }

        var written = Path.Combine(unpacked, "schema-written.json");
        var schema = await RunAsync(plugin, ["--schema", written]);
        Assert.True(schema.Exit == 0, schema.Stderr);
        Assert.Equal(await File.ReadAllBytesAsync(RepositoryPrograms.SchemaPath, Ct), await File.ReadAllBytesAsync(written, Ct));
    }

    [Theory]
    [InlineData("v1.2.3", "use '1.2.3', not 'v1.2.3'")]
    [InlineData("1.2", "VERSION must be semver")]
    [InlineData("01.2.3", "VERSION must be semver")]
    [InlineData("1.2.3-", "VERSION must be semver")]
    [InlineData("latest", "VERSION must be semver")]
    public async Task A_bad_version_fails_naming_it_and_leaves_no_archive(string version, string message)
    {
        var binary = PluginBuild.Require();
        var output = release.NewFolder();

        var run = await RunPackageAsync(["--out", output, "--binary", binary, "--rid", PluginBuild.HostRid, version]);

        Assert.Equal(2, run.Exit);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.Contains($"'{version}'", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
    }

    [Theory]
    [InlineData("linux-x86")]
    [InlineData("linux-amd64")]
    [InlineData("freebsd-x64")]
    public async Task An_unknown_rid_fails_naming_it_and_the_known_ones_and_leaves_no_archive(string rid)
    {
        var binary = PluginBuild.Require();
        var output = release.NewFolder();

        var run = await RunPackageAsync(["--out", output, "--binary", binary, "--rid", rid, Version]);

        Assert.Equal(2, run.Exit);
        Assert.Contains($"unknown runtime identifier '{rid}' (known: linux-x64 linux-arm64 osx-x64 osx-arm64 win-x64 win-arm64)", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
    }

    [Theory]
    [InlineData("win-x64")]
    [InlineData("osx-arm64")]
    public async Task A_binary_for_another_platform_is_refused_and_leaves_no_archive(string rid)
    {
        var binary = PluginBuild.Require();
        var output = release.NewFolder();

        var run = await RunPackageAsync(["--out", output, "--binary", binary, "--rid", rid, Version]);

        Assert.Equal(1, run.Exit);
        Assert.Contains($"is an executable for {PluginBuild.HostRid}, not for {rid}", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
    }

    [Fact]
    public async Task A_framework_dependent_apphost_is_refused_because_it_cannot_run_alone()
    {
        var binary = PluginBuild.Require();
        var publish = release.NewFolder();
        var apphost = Path.Combine(publish, Executable);
        File.Copy(binary, apphost);
        await File.WriteAllTextAsync(Path.Combine(publish, Executable + ".dll"), "managed code the apphost would load", Ct);
        var output = release.NewFolder();

        var run = await RunPackageAsync(["--out", output, "--binary", apphost, "--rid", PluginBuild.HostRid, Version]);

        Assert.Equal(1, run.Exit);
        Assert.Contains("is a framework-dependent apphost", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
    }

    [Theory]
    [InlineData("ghcr.io/registryinfra/registryinfra-refresher:v1.2.3", "must be an image pinned by digest")]
    [InlineData("ghcr.io/registryinfra/registryinfra-refresher@sha256:abc", "must be an image pinned by digest")]
    [InlineData("ghcr.io/registryinfra/registryinfra-refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", "must be an image pinned by digest")]
    public async Task A_refresher_image_not_pinned_by_digest_is_refused_before_any_publish(string image, string message)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "the package script is bash");
        var source = Path.Combine(Requirements.RepositoryRoot, "provider", "RegistryInfra.Provider", "Components", "TokenRefresher", "RefresherRelease.cs");
        var before = await File.ReadAllTextAsync(source, Ct);
        var output = release.NewFolder();

        var run = await RunPackageAsync(["--out", output, "--aot", "--rid", PluginBuild.HostRid, "--refresher-image", image, Version]);

        Assert.Equal(2, run.Exit);
        Assert.Contains($"--refresher-image {message}, REPOSITORY@sha256:<64 hex digits> (got '{image}')", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("publishing", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(source, Ct));
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
    }

    [Fact]
    public async Task A_refresher_image_cannot_be_given_for_an_already_built_binary()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "the package script is bash");
        var output = release.NewFolder();

        var run = await RunPackageAsync(["--out", output, "--binary", PluginBuild.Path, "--rid", PluginBuild.HostRid,
            "--refresher-image", "ghcr.io/registryinfra/registryinfra-refresher@sha256:" + new string('a', 64), Version]);

        Assert.Equal(2, run.Exit);
        Assert.Contains("--refresher-image goes into a publish (--aot, or RIDs): a built binary already carries its image", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
    }

    [Fact]
    public async Task Combine_verifies_each_runners_checksums_and_writes_one_file_over_all_archives()
    {
        var packaged = await release.PackAsync(Ct);
        // A second runner's folder as the workflow downloads it: its archive, schema.json and checksums file.
        var other = release.NewFolder();
        var otherArchive = $"pulumi-resource-registryinfra-v{Version}-windows-arm64.tar.gz";
        await File.WriteAllBytesAsync(Path.Combine(other, otherArchive), RandomNumberGenerator.GetBytes(512), Ct);
        File.Copy(Path.Combine(packaged.Output, "schema.json"), Path.Combine(other, "schema.json"));
        await WriteChecksumsAsync(other, otherArchive, "schema.json");
        var output = release.NewFolder();

        var run = await RunPackageAsync(["--out", output, "--combine", Version, packaged.Output, other]);

        Assert.True(run.Exit == 0, run.Stderr);
        var expected = new[] { $"pulumi-resource-registryinfra-v{Version}-{packaged.Platform}.tar.gz", otherArchive, "schema.json" }.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected.Append(ChecksumsName(Version)).Order(StringComparer.Ordinal), Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(expected, Lines(await File.ReadAllTextAsync(Path.Combine(output, ChecksumsName(Version)), Ct)).Select(l => l[66..]));
        var check = await RunAsync("sha256sum", ["--strict", "-c", ChecksumsName(Version)], workingDirectory: output);
        Assert.True(check.Exit == 0, check.Stdout + check.Stderr);
    }

    [Fact]
    public async Task Combine_fails_on_an_archive_that_does_not_match_its_runners_checksum_or_comes_twice()
    {
        var packaged = await release.PackAsync(Ct);
        var corrupt = release.NewFolder();
        foreach (var file in Directory.GetFiles(packaged.Output))
        {
            File.Copy(file, Path.Combine(corrupt, Path.GetFileName(file)));
        }
        var output = release.NewFolder();

        var twice = await RunPackageAsync(["--out", output, "--combine", Version, packaged.Output, corrupt]);
        Assert.Equal(1, twice.Exit);
        Assert.Contains($"comes from both {packaged.Output} and {corrupt}", twice.Stderr, StringComparison.Ordinal);

        var archive = Path.Combine(corrupt, $"pulumi-resource-registryinfra-v{Version}-{packaged.Platform}.tar.gz");
        await using (var stream = File.OpenWrite(archive))
        {
            stream.Seek(-1, SeekOrigin.End);
            stream.WriteByte(0);
        }
        var mismatch = await RunPackageAsync(["--out", output, "--combine", Version, corrupt]);
        Assert.Equal(1, mismatch.Exit);
        Assert.Contains($"{archive} does not match its checksum", mismatch.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
    }

    private static async Task WriteChecksumsAsync(string folder, params string[] files)
    {
        var lines = files.Select(f => $"{Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, f))))}  {f}\n");
        await File.WriteAllTextAsync(Path.Combine(folder, ChecksumsName(Version)), string.Concat(lines), Ct);
    }

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    private static Task<ProcessRun> RunPackageAsync(IEnumerable<string> args) =>
        RunAsync(Requirements.RequireCommand("bash", "install bash"), [Script, .. args]);

    internal static async Task<ProcessRun> RunAsync(string command, IEnumerable<string> args, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? "" };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // The script's output folder comes from --out; an inherited RELEASE_DIR must not redirect it.
        start.Environment.Remove("RELEASE_DIR");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        try
        {
            await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        return new ProcessRun(process.ExitCode, await stdout, await stderr);
    }

    internal sealed record ProcessRun(int Exit, string Stdout, string Stderr);

    internal sealed record Packaged(string Output, string Platform, string Binary);

    /// <summary>The plugin executable provider/build publishes for this machine (NativeAOT: one file, no .NET needed).</summary>
    internal static class PluginBuild
    {
        public static string Path => Requirements.PluginArtifact;

        public static string HostRid =>
            (OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "osx" : "win") + "-" +
            (RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "x64");

        public static string Platform => HostRid.Replace("osx-", "darwin-", StringComparison.Ordinal).Replace("-x64", "-amd64", StringComparison.Ordinal);

        /// <summary>The binary's path; missing, it fails the test under CI=true (tests/run builds it first) and skips it elsewhere.</summary>
        public static string Require()
        {
            Assert.SkipWhen(OperatingSystem.IsWindows(), "the package script is bash; the release workflow runs it in Git Bash, these tests on Linux and macOS");
            return Requirements.RequireFile(Path, "run `bash provider/build` (tests/run builds it before the tests)");
        }
    }

    /// <summary>One run of the package script in --binary mode, shared by the tests that read its output; temporary folders removed at the end.</summary>
    public sealed class PackagedRelease : IAsyncDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("registryinfra-release-").FullName;
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly Dictionary<string, string> _unpacked = new(StringComparer.Ordinal);
        private Packaged? _packaged;
        private int _folders;

        public string NewFolder() => Directory.CreateDirectory(System.IO.Path.Combine(_root, $"f{Interlocked.Increment(ref _folders)}")).FullName;

        internal async Task<Packaged> PackAsync(CancellationToken cancellationToken)
        {
            var binary = PluginBuild.Require();
            await _gate.WaitAsync(cancellationToken);
            try
            {
                if (_packaged is null)
                {
                    var output = NewFolder();
                    var run = await RunPackageAsync(["--out", output, "--binary", binary, "--rid", PluginBuild.HostRid, Version]);
                    Assert.True(run.Exit == 0, $"provider/release/package --binary failed ({run.Exit}):\n{run.Stderr}");
                    _packaged = new Packaged(output, PluginBuild.Platform, binary);
                }
                return _packaged;
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>Unpacks with the system tar, as `pulumi plugin install` would, once per archive.</summary>
        internal async Task<string> UnpackAsync(string archive, CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                if (!_unpacked.TryGetValue(archive, out var folder))
                {
                    folder = NewFolder();
                    var run = await RunAsync("tar", ["-xzf", archive, "-C", folder]);
                    Assert.True(run.Exit == 0, run.Stderr);
                    _unpacked[archive] = folder;
                }
                return folder;
            }
            finally
            {
                _gate.Release();
            }
        }

        public ValueTask DisposeAsync()
        {
            _gate.Dispose();
            Directory.Delete(_root, recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}
