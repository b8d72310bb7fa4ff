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

    private readonly LocalRegistryPool _pool = new(SeedAsync);

    public Task<LocalRegistry> GetAsync(LocalRegistryMode mode) => _pool.GetAsync(mode);

    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    private static async Task SeedAsync(LocalRegistry registry, LocalRegistryMode mode)
    {
        await registry.PushAsync(SingleRepo, Tag, [Amd64]);
        await registry.PushAsync(Multi, Tag, [IndexAmd64, IndexArm64]);
        if (mode == LocalRegistryMode.TokenTls)
        {
            await registry.PushAsync(Public, Tag, [new TestImage("linux", "amd64", null, "public")]);
            await registry.PushAsync(Secret, Tag, [new TestImage("linux", "amd64", null, "secret")]);
        }
    }

    /// <summary>A client configured for <paramref name="registry"/>: its CA trusted, plain HTTP when it is plain.</summary>
    public static DistributionClient ClientFor(LocalRegistry registry, bool trustCa = true, TimeProvider? time = null, DelegatingHandler? handler = null) =>
        new(new DistributionClientOptions
        {
            TrustedRootCertificates = trustCa && registry.Ca is not null ? [registry.Ca.RootPublic] : [],
            InsecureRegistries = registry.UsesTls ? [] : [registry.Authority],
        }, time, handler);

    public static RegistryCredential Credential(TestAccount account) => new(account.Username, account.Password);
}
