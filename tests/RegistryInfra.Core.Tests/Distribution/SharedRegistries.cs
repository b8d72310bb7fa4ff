using System.Collections.Concurrent;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Distribution;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Registry;

[assembly: AssemblyFixture(typeof(RegistryInfra.Core.Tests.Distribution.SharedRegistries))]

namespace RegistryInfra.Core.Tests.Distribution;

/// <summary>
/// One registry per mode for the whole test assembly, started on first use (so a filtered run starts only
/// what it needs) and seeded with the images below.
/// </summary>
public sealed class SharedRegistries : IAsyncDisposable
{
    public const string SingleRepo = "team/single";
    public const string Multi = "team/multi";
    public const string Public = "public/single";
    public const string Secret = "secret/single";
    public const string Tag = "1.0";

    public static readonly TestImage Amd64 = new("linux", "amd64", null, "single amd64");
    public static readonly TestImage IndexAmd64 = new("linux", "amd64", null, "multi amd64");
    public static readonly TestImage IndexArm64 = new("linux", "arm64", "v8", "multi arm64");

    private readonly ConcurrentDictionary<LocalRegistryMode, Lazy<Task<LocalRegistry>>> _registries = new();

    public async Task<LocalRegistry> GetAsync(LocalRegistryMode mode)
    {
        // Checked in the calling test, so a missing tool skips (or fails under CI) that test rather than the fixture.
        Requirements.RequireCommand("docker-registry", "install the Debian package docker-registry (tests/setup)");
        Requirements.RequireCommand("skopeo", "install the Debian package skopeo (tests/setup)");
        if (mode == LocalRegistryMode.HtpasswdTls)
        {
            Requirements.RequireCommand("htpasswd", "install the Debian package apache2-utils (tests/setup)");
        }
        return await _registries.GetOrAdd(mode, m => new Lazy<Task<LocalRegistry>>(() => StartAsync(m))).Value;
    }

    private static async Task<LocalRegistry> StartAsync(LocalRegistryMode mode)
    {
        var registry = await LocalRegistry.StartAsync(mode);
        await registry.PushAsync(SingleRepo, Tag, [Amd64]);
        await registry.PushAsync(Multi, Tag, [IndexAmd64, IndexArm64]);
        if (mode == LocalRegistryMode.TokenTls)
        {
            await registry.PushAsync(Public, Tag, [new TestImage("linux", "amd64", null, "public")]);
            await registry.PushAsync(Secret, Tag, [new TestImage("linux", "amd64", null, "secret")]);
        }
        return registry;
    }

    /// <summary>A client configured for <paramref name="registry"/>: its CA trusted, plain HTTP when it is plain.</summary>
    public static DistributionClient ClientFor(LocalRegistry registry, bool trustCa = true, TimeProvider? time = null, DelegatingHandler? handler = null) =>
        new(new DistributionClientOptions
        {
            TrustedRootCertificates = trustCa && registry.Ca is not null ? [registry.Ca.RootPublic] : [],
            InsecureRegistries = registry.UsesTls ? [] : [registry.Authority],
        }, time, handler);

    public static RegistryCredential Credential(TestAccount account) => new(account.Username, account.Password);

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _registries.Values)
        {
            if (lazy.IsValueCreated)
            {
                try
                {
                    await (await lazy.Value).DisposeAsync();
                }
                catch (InvalidOperationException)
                {
                    // start failed; the failure was reported by the tests
                }
            }
        }
    }
}
