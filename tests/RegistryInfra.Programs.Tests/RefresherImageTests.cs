using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Kubernetes;
using RegistryInfra.Testing.Plugin;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Programs.Tests;

/// <summary>
/// The refresher image as programs/refresher/image/build makes it, without a container engine: built twice from
/// the same inputs (same digest), pushed to a real docker-registry, its configuration read back, its root
/// filesystem unpacked with umoci and the refresher run from it as the image's user, and its digest resolved by
/// the plugin's getImage over gRPC, as a Pulumi program pinning the image would.
/// </summary>
public sealed class RefresherImageTests(RefresherImageTests.BuiltImage image) : IClassFixture<RefresherImageTests.BuiltImage>
{
    private const string Repository = "registryinfra/refresher";
    private const string Tag = "image-test";
    private const string Entrypoint = "/app/registryinfra-refresher";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_builds_from_the_same_inputs_give_the_same_digest_and_the_same_blobs()
    {
        var built = await image.BuildAsync(Ct);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"refresher image {built.Digest}: {built.CompressedBytes} bytes compressed (config and layers), {built.UnpackedBytes} bytes unpacked; " +
            $"first build {built.FirstBuild.TotalSeconds:F1} s (publish included when its inputs changed), second {built.SecondBuild.TotalSeconds:F1} s");
        Assert.Matches("^sha256:[0-9a-f]{64}$", built.Digest);
        Assert.Equal(built.Digest, built.SecondDigest);
        Assert.Equal(Blobs(built.Layout), Blobs(built.SecondLayout));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(built.Layout, "index.json"), Ct), await File.ReadAllBytesAsync(Path.Combine(built.SecondLayout, "index.json"), Ct));
    }

    [Fact]
    public async Task The_builds_never_write_the_committed_package_lock_files()
    {
        // The RID publish inside the build restores for its RID; its lock files go to the build's own folder
        // (RegistryInfraLockDirectory), so a locked restore running beside it (CI builds test projects in
        // parallel) never reads a lock file that is being rewritten (NU1004).
        var built = await image.BuildAsync(Ct);

        Assert.Empty(built.LockFileWrites);
    }

    [Fact]
    public async Task The_pushed_image_is_the_built_one_and_runs_the_refresher_as_65532_with_labels_naming_its_source()
    {
        var built = await image.BuildAsync(Ct);
        var registry = image.Registry!;

        // The registry serves the very manifest the layout holds (skopeo copied it, did not convert it).
        var served = await registry.InspectRawAsync(Repository, built.Digest, Ct);
        Assert.Equal(Sha256(served), built.Digest);
        Assert.Equal(await registry.InspectDigestAsync(Repository, Tag, Ct), built.Digest);
        using var manifest = JsonDocument.Parse(served);
        using var config = JsonDocument.Parse(await File.ReadAllBytesAsync(built.Blob(manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!), Ct));
        var c = config.RootElement.GetProperty("config");

        Assert.Equal("65532:65532", c.GetProperty("User").GetString());
        Assert.Equal([Entrypoint], Strings(c.GetProperty("Entrypoint")));
        Assert.Equal(["refresh", "--config", "/etc/registryinfra-refresher/config.yaml"], Strings(c.GetProperty("Cmd")));
        Assert.Equal("linux", config.RootElement.GetProperty("os").GetString());
        Assert.Equal(BuiltImage.HostArchitecture, config.RootElement.GetProperty("architecture").GetString());
        Assert.Contains("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", Strings(c.GetProperty("Env")));

        var created = DateTimeOffset.FromUnixTimeSeconds(built.SourceDateEpoch).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var expected = new Dictionary<string, string>
        {
            ["org.opencontainers.image.source"] = "https://github.com/registryinfra/pulumi-registryinfra",
            ["org.opencontainers.image.revision"] = built.Revision,
            ["org.opencontainers.image.version"] = "0.1.0",
            ["org.opencontainers.image.created"] = created,
        };
        var labels = c.GetProperty("Labels");
        var annotations = manifest.RootElement.GetProperty("annotations");
        foreach (var (key, value) in expected)
        {
            Assert.Equal(value, labels.GetProperty(key).GetString());
            Assert.Equal(value, annotations.GetProperty(key).GetString());
        }
        Assert.Matches("^[0-9a-f]{40}(-dirty)?$", built.Revision);
        Assert.Equal(created, config.RootElement.GetProperty("created").GetString());
        Assert.All(config.RootElement.GetProperty("history").EnumerateArray(), h => Assert.Equal(created, h.GetProperty("created").GetString()));
        Assert.Equal(2, manifest.RootElement.GetProperty("layers").GetArrayLength());
    }

    [Fact]
    public async Task The_root_filesystem_holds_the_refresher_its_libraries_certificates_and_users_and_nothing_to_run_a_shell()
    {
        var built = await image.BuildAsync(Ct);
        var rootfs = await image.UnpackPushedAsync(Ct);

        Assert.False(File.Exists(Path.Combine(rootfs, "bin", "sh")), "the image must have no shell");
        Assert.False(Directory.Exists(Path.Combine(rootfs, "usr", "bin")), "the image must have no /usr/bin");
        Assert.True(File.Exists(Path.Combine(rootfs, "app", "registryinfra-refresher")));
        var passwd = await File.ReadAllLinesAsync(Path.Combine(rootfs, "etc", "passwd"), Ct);
        Assert.Contains("nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin", passwd);
        Assert.Contains("nonroot:x:65532:", await File.ReadAllLinesAsync(Path.Combine(rootfs, "etc", "group"), Ct));
        Assert.Equal("65532:65532", (await RunAsync("stat", ["-c", "%u:%g", Path.Combine(rootfs, "home", "nonroot")])).Stdout.Trim());

        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(Path.Combine(rootfs, "etc", "ssl", "certs", "ca-certificates.crt"));
        Assert.True(certificates.Count > 100, $"{certificates.Count} CA certificates");
        Assert.All(certificates, certificate => Assert.Equal(certificate.Subject, certificate.Issuer));
        foreach (var certificate in certificates)
        {
            certificate.Dispose();
        }

        // The libraries the binary links, and OpenSSL, which .NET opens by name for TLS; each one's package recorded.
        var triplet = BuiltImage.HostArchitecture == "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
        foreach (var library in new[] { $"lib/{triplet}/libc.so.6", $"usr/lib/{triplet}/libssl.so.3", $"usr/lib/{triplet}/libcrypto.so.3" })
        {
            Assert.True(File.Exists(Path.Combine(rootfs, library)), library);
        }
        foreach (var package in new[] { "libc6", "libssl3", "ca-certificates", "base-files" })
        {
            var status = await File.ReadAllTextAsync(Path.Combine(rootfs, "var", "lib", "dpkg", "status.d", package), Ct);
            Assert.StartsWith($"Package: {package}\n", status, StringComparison.Ordinal);
            Assert.Contains("\nVersion: ", status, StringComparison.Ordinal);
        }
        Assert.Contains("ID=debian", await File.ReadAllTextAsync(Path.Combine(rootfs, "etc", "os-release"), Ct), StringComparison.Ordinal);
        Assert.True(built.UnpackedBytes > 0);
    }

    [Fact]
    public async Task The_image_holds_exactly_the_locked_Debian_packages_and_the_lock_pins_the_same_set_for_amd64_and_arm64()
    {
        await image.BuildAsync(Ct);
        var rootfs = await image.UnpackPushedAsync(Ct);
        var locked = LockEntries(await File.ReadAllLinesAsync(BuiltImage.Lock, Ct));

        var inImage = new List<string>();
        foreach (var status in Directory.GetFiles(Path.Combine(rootfs, "var", "lib", "dpkg", "status.d")).Order(StringComparer.Ordinal))
        {
            var fields = (await File.ReadAllLinesAsync(status, Ct)).Where(l => l.StartsWith("Package: ", StringComparison.Ordinal) || l.StartsWith("Version: ", StringComparison.Ordinal)).ToList();
            inImage.Add($"{fields[0]["Package: ".Length..]} {fields[1]["Version: ".Length..]}");
        }
        Assert.Equal(locked.Where(e => e.Arch == BuiltImage.HostArchitecture).Select(e => $"{e.Package} {e.Version}").Order(StringComparer.Ordinal), inImage);
        Assert.Equal(locked.Where(e => e.Arch == "amd64").Select(e => e.Package), locked.Where(e => e.Arch == "arm64").Select(e => e.Package));
    }

    [Theory]
    [InlineData("sha", "libc6", "but {lock} pins SHA256:")]
    [InlineData("drop", "libssl3", "the image needs the Debian package libssl3 ({arch}), which {lock} does not pin: run with --update-lock")]
    [InlineData("extra", "zlib1g", "{lock} pins zlib1g ({arch}), which the image no longer needs: run with --update-lock")]
    [InlineData("gone", "libc6", "the Debian archive no longer serves libc6 2.36-0+gone ({arch}), which {lock} pins")]
    public async Task A_lock_that_is_not_the_images_packages_stops_the_build_naming_the_package(string change, string package, string message)
    {
        await image.BuildAsync(Ct);
        var arch = BuiltImage.HostArchitecture;
        var lines = await File.ReadAllLinesAsync(BuiltImage.Lock, Ct);
        var edited = change switch
        {
            // The archive's file with one hex digit changed: what a lock for another archive (or a tampered file) gives.
            "sha" => lines.Select(l => l.StartsWith($"{arch} {package} ", StringComparison.Ordinal) ? l[..^1] + (l[^1] == '0' ? '1' : '0') : l),
            "drop" => lines.Where(l => !l.StartsWith($"{arch} {package} ", StringComparison.Ordinal)),
            "extra" => lines.Append($"{arch} {package} 1:1.2.13.dfsg-1 {new string('a', 64)}"),
            _ => lines.Select(l => l.StartsWith($"{arch} {package} ", StringComparison.Ordinal) ? $"{arch} {package} 2.36-0+gone {l.Split(' ')[3]}" : l),
        };
        var lockFile = Path.Combine(image.Folder, $"lock-{change}");
        await File.WriteAllLinesAsync(lockFile, edited, Ct);
        var output = Path.Combine(image.Folder, $"oci-{change}");

        var run = await BuiltImage.RunScriptAsync(["--out", output, "--tag", Tag, "--lock", lockFile], Ct);

        Assert.True(run.Exit == 1, run.Stderr);
        Assert.Contains(message.Replace("{lock}", lockFile, StringComparison.Ordinal).Replace("{arch}", arch, StringComparison.Ordinal), run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output) || Directory.Exists(output + ".tmp"), "a failed build leaves no layout");
    }

    private static List<(string Arch, string Package, string Version)> LockEntries(IEnumerable<string> lines) =>
        [.. lines.Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split(' ')).Select(f =>
        {
            Assert.Equal(4, f.Length);
            Assert.Matches("^[0-9a-f]{64}$", f[3]);
            return (f[0], f[1], f[2]);
        })];

    [Fact]
    public async Task The_refresher_runs_from_the_unpacked_root_filesystem_as_the_image_user()
    {
        var built = await image.BuildAsync(Ct);
        var rootfs = await image.UnpackPushedAsync(Ct);

        var help = await image.RunInImageAsync(rootfs, ["--help"], Ct);
        Assert.True(help.Exit == 0, help.Stdout + help.Stderr);
        Assert.Contains("refresh", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("check", help.Stdout, StringComparison.Ordinal);

        // The sample configuration, checked offline in a network namespace of its own: nothing can leave this machine.
        var configDirectory = Path.Combine(rootfs, "etc", "registryinfra-refresher");
        Directory.CreateDirectory(configDirectory);
        File.Copy(Path.Combine(Requirements.RepositoryRoot, "programs", "refresher", "examples", "config.yaml"), Path.Combine(configDirectory, "config.yaml"), overwrite: true);
        var sample = await image.RunInImageAsync(rootfs, ["check", "--offline", "--config", "/etc/registryinfra-refresher/config.yaml"], Ct, isolateNetwork: true);
        Assert.True(sample.Exit == 0, sample.Stdout + sample.Stderr);
        Assert.Contains("Configuration /etc/registryinfra-refresher/config.yaml is valid: 5 registries, 4 targets", sample.Stdout, StringComparison.Ordinal);

        // A whole check and refresh against a Kubernetes API on this machine, with a static registry.
        await using var api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        api.AddNamespace("web");
        api.AddServiceAccount("web", "default");
        await File.WriteAllTextAsync(Path.Combine(configDirectory, "kubeconfig"), $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: fake
                cluster:
                  server: "{api.Host}"
            users:
              - name: fake
                user:
                  token: not-a-real-token
            contexts:
              - name: fake
                context:
                  cluster: fake
                  user: fake
            current-context: fake
            """, Ct);
        // The registry is the test registry (HTTPS, htpasswd), which check tries the credential against: TLS through the
        // image's own OpenSSL (.NET loads it by name at run time), trusting the test CA through SSL_CERT_FILE.
        var registry = image.Registry!;
        await File.WriteAllTextAsync(Path.Combine(configDirectory, "password"), registry.Admin.Password, Ct);
        await File.WriteAllTextAsync(Path.Combine(configDirectory, "test-ca.crt"), registry.Ca!.Root.ExportCertificatePem(), Ct);
        await File.WriteAllTextAsync(Path.Combine(configDirectory, "static.yaml"), $$"""
            registries:
              - server: {{registry.Authority}}
                source: {type: static, username: {{registry.Admin.Username}}, passwordFile: /etc/registryinfra-refresher/password, lifetime: 24h}
            targets:
              - secretName: example-pull
                namespaces: [web]
                serviceAccounts: [default]
            """, Ct);
        string[] cluster = ["--config", "/etc/registryinfra-refresher/static.yaml", "--kubeconfig", "/etc/registryinfra-refresher/kubeconfig"];
        var trust = new Dictionary<string, string> { ["SSL_CERT_FILE"] = "/etc/registryinfra-refresher/test-ca.crt" };

        var check = await image.RunInImageAsync(rootfs, ["check", .. cluster], Ct, environment: trust);
        Assert.True(check.Exit == 0, check.Stdout + check.Stderr);
        Assert.Contains("Check finished: 0 problem(s)", check.Stdout, StringComparison.Ordinal);
        var refresh = await image.RunInImageAsync(rootfs, ["refresh", .. cluster], Ct, environment: trust);
        Assert.True(refresh.Exit == 0, refresh.Stdout + refresh.Stderr);
        Assert.NotNull(api.GetSecret("web", "example-pull"));
        Assert.Equal(["example-pull"], api.ImagePullSecrets("web", "default"));
        Assert.DoesNotContain(registry.Admin.Password, check.Stdout + check.Stderr + refresh.Stdout + refresh.Stderr, StringComparison.Ordinal);

        // Without the test CA, the image's Mozilla bundle is the trust store, and the same check fails on the certificate.
        var untrusted = await image.RunInImageAsync(rootfs, ["check", .. cluster], Ct);
        Assert.True(untrusted.Exit == 1, untrusted.Stdout + untrusted.Stderr);
        Assert.Contains("Check finished: 1 problem(s)", untrusted.Stdout, StringComparison.Ordinal);
        Assert.True(built.CompressedBytes > 0);
    }

    [Fact]
    public async Task GetImage_through_the_plugin_binary_resolves_the_pushed_tag_to_the_built_digest()
    {
        var built = await image.BuildAsync(Ct);
        var registry = image.Registry!;
        var plugin = Requirements.RequireFile(Requirements.PluginArtifact, "run `bash provider/build` (tests/run builds it before the tests)");
        var imageReference = $"{registry.Authority}/{Repository}:{Tag}";

        var result = await InvokeGetImageAsync(plugin, new Dictionary<string, PropertyValue>
        {
            ["image"] = PropertyValue.Create(imageReference),
            ["username"] = PropertyValue.Create(registry.Admin.Username),
            ["password"] = PropertyValue.CreateSecret(PropertyValue.Create(registry.Admin.Password)),
            ["caCertificates"] = PropertyValue.Create(registry.Ca!.Root.ExportCertificatePem()),
        });

        Assert.Equal(built.Digest, result["digest"].StringValue);
        Assert.Equal($"{registry.Authority}/{Repository}@{built.Digest}", result["pinned"].StringValue);
        Assert.StartsWith("application/vnd.oci.image.manifest.v1+json", result["mediaType"].StringValue, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_index_of_the_built_image_pushes_by_digest_and_getImage_picks_its_platform()
    {
        // What the release workflow does with its per-architecture layouts (here the one this machine builds).
        var built = await image.BuildAsync(Ct);
        var registry = image.Registry!;
        var layout = Path.Combine(image.Folder, "index");
        var push = await BuiltImage.RunScriptAsync(["--index", "--out", layout, "--tag", Tag, built.Layout, "--push", $"{registry.Authority}/{Repository}-index",
            "--digest-file", Path.Combine(image.Folder, "index-digest"), "--", "--dest-cert-dir", registry.CertDirectory, "--dest-creds", $"{registry.Admin.Username}:{registry.Admin.Password}"], Ct);
        Assert.True(push.Exit == 0, push.Stderr);
        var index = (await File.ReadAllTextAsync(Path.Combine(image.Folder, "index-digest"), Ct)).Trim();
        Assert.Equal($"{registry.Authority}/{Repository}-index@{index}", push.Stdout.Trim());
        Assert.Equal(index, await registry.InspectDigestAsync(Repository + "-index", Tag, Ct));

        var plugin = Requirements.RequireFile(Requirements.PluginArtifact, "run `bash provider/build` (tests/run builds it before the tests)");
        var result = await InvokeGetImageAsync(plugin, new Dictionary<string, PropertyValue>
        {
            ["image"] = PropertyValue.Create($"{registry.Authority}/{Repository}-index:{Tag}"),
            ["username"] = PropertyValue.Create(registry.Admin.Username),
            ["password"] = PropertyValue.CreateSecret(PropertyValue.Create(registry.Admin.Password)),
            ["caCertificates"] = PropertyValue.Create(registry.Ca!.Root.ExportCertificatePem()),
            ["platform"] = PropertyValue.Create("linux/" + BuiltImage.HostArchitecture),
        });

        Assert.Equal(index, result["digest"].StringValue);
        Assert.Equal(built.Digest, result["platformDigest"].StringValue);
        Assert.Equal(["linux/" + BuiltImage.HostArchitecture], result["platforms"].ArrayValue.Select(p => p.StringValue));
    }

    /// <summary>Starts the NativeAOT plugin as the engine does and calls registryinfra:index:getImage over gRPC.</summary>
    private static async Task<IReadOnlyDictionary<string, PropertyValue>> InvokeGetImageAsync(string plugin, Dictionary<string, PropertyValue> args)
    {
        await using var process = await PluginProcess.StartAsync(plugin, Ct);
        var response = await process.Provider.InvokeAsync(new InvokeRequest("registryinfra:index:getImage", args, Preview: false), Ct);
        Assert.Empty(response.Failures);
        // A secret argument makes the result secret; unwrap for the assertions.
        return response.Return!.ToDictionary(e => e.Key, e => e.Value.IsSecret ? e.Value.SecretValue : e.Value);
    }

    private static SortedDictionary<string, string> Blobs(string layout) =>
        new(Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    private static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();

    internal static async Task<CommandRun> RunAsync(string command, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        try
        {
            await process.WaitForExitAsync(Ct).WaitAsync(timeout ?? TimeSpan.FromMinutes(1), Ct);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        return new CommandRun(process.ExitCode, await stdout, await stderr);
    }

    public sealed record CommandRun(int Exit, string Stdout, string Stderr);

    /// <summary>What the two builds made: the layouts, the digest each printed, their times and sizes.</summary>
    public sealed record Build(string Layout, string Digest, string SecondLayout, string SecondDigest, TimeSpan FirstBuild, TimeSpan SecondBuild,
        long CompressedBytes, long UnpackedBytes, string Revision, long SourceDateEpoch, IReadOnlyList<string> LockFileWrites)
    {
        public string Blob(string digest) => Path.Combine(Layout, "blobs", "sha256", digest["sha256:".Length..]);
    }

    /// <summary>Every change to a packages.lock.json under the given folders while it is alive.</summary>
    private sealed class LockFileWatch : IDisposable
    {
        private readonly List<FileSystemWatcher> _watchers = [];
        private readonly List<string> _writes = [];

        public LockFileWatch(params string[] folders)
        {
            foreach (var folder in folders)
            {
                var watcher = new FileSystemWatcher(folder, "packages.lock.json") { IncludeSubdirectories = false };
                watcher.Changed += Record;
                watcher.Created += Record;
                watcher.Deleted += Record;
                watcher.Renamed += Record;
                watcher.EnableRaisingEvents = true;
                _watchers.Add(watcher);
            }
        }

        public IReadOnlyList<string> Writes
        {
            get
            {
                lock (_writes)
                {
                    return [.. _writes];
                }
            }
        }

        private void Record(object sender, FileSystemEventArgs e)
        {
            lock (_writes)
            {
                _writes.Add($"{e.ChangeType} {Path.GetRelativePath(Requirements.RepositoryRoot, e.FullPath)}");
            }
        }

        public void Dispose()
        {
            foreach (var watcher in _watchers)
            {
                watcher.Dispose();
            }
        }
    }

    /// <summary>
    /// Builds the image twice (the second build pushed to a docker-registry with htpasswd and TLS), once for all the
    /// tests of the class, and unpacks the pushed image once. The build needs root and the Debian tools; without
    /// them the tests fail under CI=true and skip elsewhere.
    /// </summary>
    public sealed class BuiltImage : IAsyncDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private Build? _build;
        private string? _rootfs;

        public string Folder { get; } = Directory.CreateTempSubdirectory("registryinfra-image-").FullName;

        public LocalRegistry? Registry { get; private set; }

        public static string HostArchitecture => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64";

        private static string Script => Path.Combine(Requirements.RepositoryRoot, "programs", "refresher", "image", "build");

        /// <summary>The committed package lock every build of the image takes its Debian packages from.</summary>
        public static string Lock => Path.Combine(Requirements.RepositoryRoot, "programs", "refresher", "image", "packages.lock");

        public static Task<CommandRun> RunScriptAsync(IEnumerable<string> args, CancellationToken cancellationToken) =>
            // A first publish of the refresher (NativeAOT or self-contained) takes minutes on two cores; this guards
            // against a hang, not speed (12 minutes ran out at load 35).
            RunAsync(Requirements.RequireCommand("bash", "install bash"), [Script, .. args], new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = null, ["REFRESHER_IMAGE_SOURCE"] = null },
                TimeSpan.FromMinutes(25));

        public async Task<Build> BuildAsync(CancellationToken cancellationToken)
        {
            Assert.SkipUnless(OperatingSystem.IsLinux(), "the image is built on Linux");
            foreach (var (command, package) in new[] { ("umoci", "umoci"), ("skopeo", "skopeo"), ("jq", "jq"), ("readelf", "binutils"), ("dpkg-deb", "dpkg"), ("apt-get", "apt"), ("unshare", "util-linux"), ("git", "git") })
            {
                Requirements.RequireCommand(command, $"install the Debian package {package} (tests/setup)");
            }
            RequireRoot();
            await _gate.WaitAsync(cancellationToken);
            try
            {
                if (_build is null)
                {
                    var first = Path.Combine(Folder, "oci-1");
                    var second = Path.Combine(Folder, "oci-2");
                    using var locks = new LockFileWatch(Path.Combine(Requirements.RepositoryRoot, "programs", "refresher"),
                        Path.Combine(Requirements.RepositoryRoot, "provider", "RegistryInfra.Core"));
                    var clock = Stopwatch.StartNew();
                    var one = await RunScriptAsync(["--out", first, "--tag", Tag], cancellationToken);
                    var firstTime = clock.Elapsed;
                    Assert.True(one.Exit == 0, $"programs/refresher/image/build failed ({one.Exit}):\n{one.Stderr}");

                    Registry = await LocalRegistry.StartAsync(LocalRegistryMode.HtpasswdTls, cancellationToken);
                    clock.Restart();
                    var two = await RunScriptAsync(["--out", second, "--tag", Tag, "--push", $"{Registry.Authority}/{Repository}", "--",
                        "--dest-cert-dir", Registry.CertDirectory, "--dest-creds", $"{Registry.Admin.Username}:{Registry.Admin.Password}"], cancellationToken);
                    var secondTime = clock.Elapsed;
                    Assert.True(two.Exit == 0, $"programs/refresher/image/build --push failed ({two.Exit}):\n{two.Stderr}");
                    var pushed = two.Stdout.Trim();
                    Assert.StartsWith($"{Registry.Authority}/{Repository}@sha256:", pushed, StringComparison.Ordinal);
                    var digest = one.Stdout.Trim();
                    using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(first, "blobs", "sha256", digest["sha256:".Length..]), cancellationToken));
                    var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => (Digest: l.GetProperty("digest").GetString()!, Size: l.GetProperty("size").GetInt64())).ToList();
                    var compressed = manifest.RootElement.GetProperty("config").GetProperty("size").GetInt64() + layers.Sum(l => l.Size);
                    long unpacked = 0;
                    foreach (var layer in layers)
                    {
                        unpacked += await UncompressedSizeAsync(Path.Combine(first, "blobs", "sha256", layer.Digest["sha256:".Length..]), cancellationToken);
                    }
                    var revision = (await RunAsync("git", ["-C", Requirements.RepositoryRoot, "rev-parse", "HEAD"])).Stdout.Trim();
                    var status = (await RunAsync("git", ["-C", Requirements.RepositoryRoot, "status", "--porcelain", "--", "programs/refresher", "provider/RegistryInfra.Core",
                        "global.json", "Directory.Build.props", "Directory.Packages.props", ":!programs/refresher/image", ":!programs/refresher/README.md"])).Stdout;
                    var epoch = long.Parse((await RunAsync("git", ["-C", Requirements.RepositoryRoot, "log", "-1", "--format=%ct"])).Stdout.Trim(), CultureInfo.InvariantCulture);
                    _build = new Build(first, digest, second, pushed[(pushed.IndexOf('@', StringComparison.Ordinal) + 1)..], firstTime, secondTime,
                        compressed, unpacked, status.Length == 0 ? revision : revision + "-dirty", epoch, locks.Writes);
                }
                return _build;
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>The pushed image, copied back from the registry and unpacked with umoci: the root filesystem's path.</summary>
        public async Task<string> UnpackPushedAsync(CancellationToken cancellationToken)
        {
            var build = await BuildAsync(cancellationToken);
            await _gate.WaitAsync(cancellationToken);
            try
            {
                if (_rootfs is null)
                {
                    var layout = Path.Combine(Folder, "pulled");
                    var copy = await RunAsync("skopeo", ["copy", "--quiet", "--insecure-policy", "--src-cert-dir", Registry!.CertDirectory,
                        "--src-creds", $"{Registry.Admin.Username}:{Registry.Admin.Password}", $"docker://{Registry.Authority}/{Repository}@{build.Digest}", $"oci:{layout}:{Tag}"]);
                    Assert.True(copy.Exit == 0, copy.Stderr);
                    var bundle = Path.Combine(Folder, "bundle");
                    var unpack = await RunAsync("umoci", ["unpack", "--image", $"{layout}:{Tag}", bundle]);
                    Assert.True(unpack.Exit == 0, unpack.Stderr);
                    _rootfs = Path.Combine(bundle, "rootfs");
                }
                return _rootfs;
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>
        /// Runs the image's entrypoint with <paramref name="args"/> as a container runtime would: its root filesystem as
        /// root, its environment only, its user and working directory, in its own PID and mount namespaces with /proc
        /// (and, with <paramref name="isolateNetwork"/>, a network namespace with no interface but loopback);
        /// <paramref name="environment"/> adds to or overrides the image's environment.
        /// </summary>
        public async Task<CommandRun> RunInImageAsync(string rootfs, IReadOnlyList<string> args, CancellationToken cancellationToken,
            bool isolateNetwork = false, IReadOnlyDictionary<string, string>? environment = null)
        {
            var build = await BuildAsync(cancellationToken);
            using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(build.Blob(build.Digest), cancellationToken));
            using var config = JsonDocument.Parse(await File.ReadAllBytesAsync(build.Blob(manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!), cancellationToken));
            var c = config.RootElement.GetProperty("config");
            var user = c.GetProperty("User").GetString()!.Split(':');
            Directory.CreateDirectory(Path.Combine(rootfs, "proc"));
            // The device nodes a runtime creates in every container (runc's default set); .NET reads /dev/urandom.
            var dev = Directory.CreateDirectory(Path.Combine(rootfs, "dev")).FullName;
            foreach (var (device, minor) in new[] { ("null", "3"), ("zero", "5"), ("full", "7"), ("random", "8"), ("urandom", "9") })
            {
                if (!File.Exists(Path.Combine(dev, device)))
                {
                    var made = await RunAsync("mknod", ["-m", "666", Path.Combine(dev, device), "c", "1", minor]);
                    Assert.True(made.Exit == 0, made.Stderr);
                }
            }
            // Later assignments win in env(1): the test's variables override the image's.
            List<string> command = ["-i", .. Strings(c.GetProperty("Env")), .. (environment ?? new Dictionary<string, string>()).Select(e => $"{e.Key}={e.Value}"), "unshare", "--mount", "--pid", .. (isolateNetwork ? new[] { "--net" } : []), "--fork", "--mount-proc", $"--root={rootfs}",
                $"--wd={c.GetProperty("WorkingDir").GetString()}", "--setuid", user[0], "--setgid", user[1], "--", .. Strings(c.GetProperty("Entrypoint")), .. args];
            return await RunAsync("env", command);
        }

        /// <summary>The size of a layer's tar (what it takes unpacked, near enough).</summary>
        private static async Task<long> UncompressedSizeAsync(string blob, CancellationToken cancellationToken)
        {
            await using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(blob), System.IO.Compression.CompressionMode.Decompress);
            var buffer = new byte[1 << 16];
            long total = 0;
            int read;
            while ((read = await gzip.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
            }
            return total;
        }

        private static void RequireRoot()
        {
            if (Environment.IsPrivilegedProcess)
            {
                return;
            }
            const string Message = "the image build runs as root (file owners 0 and 65532 on disk; the run in its root filesystem chroots)";
            if (Requirements.IsCI)
            {
                Assert.Fail(Message + " (CI=true: a missing test dependency is a failure)");
            }
            Assert.Skip(Message);
        }

        public async ValueTask DisposeAsync()
        {
            if (Registry is not null)
            {
                await Registry.DisposeAsync();
            }
            _gate.Dispose();
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
                // a leftover temp folder is harmless
            }
        }
    }
}
