using RegistryInfra.Testing;
using RegistryInfra.Testing.Registry;

[assembly: AssemblyFixture(typeof(RegistryInfra.Provider.Tests.Registry.SharedRegistries))]

namespace RegistryInfra.Provider.Tests.Registry;

/// <summary>
/// One registry per mode for the whole test assembly, started on first use (a filtered run starts only what
/// it needs) and seeded with a single-platform image and a multi-platform index.
/// </summary>
public sealed class SharedRegistries : IAsyncDisposable
{
    public const string SingleRepo = "team/single";
    public const string MultiRepo = "team/multi";
    public const string SecretRepo = "secret/single";

    /// <summary>Anonymously pullable on the token registry (its issuer grants anonymous pull on <c>public/*</c>).</summary>
    public const string PublicRepo = "public/single";
    public const string Tag = "1.0";

    private readonly LocalRegistryPool _pool = new(SeedAsync);

    public Task<LocalRegistry> GetAsync(LocalRegistryMode mode) => _pool.GetAsync(mode);

    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    private static async Task SeedAsync(LocalRegistry registry, LocalRegistryMode mode)
    {
        await registry.PushAsync(SingleRepo, Tag, [new TestImage("linux", "amd64", null, "profile single amd64")]);
        await registry.PushAsync(MultiRepo, Tag, [new TestImage("linux", "amd64", null, "profile multi amd64"), new TestImage("linux", "arm64", "v8", "profile multi arm64")]);
        if (mode == LocalRegistryMode.TokenTls)
        {
            await registry.PushAsync(SecretRepo, Tag, [new TestImage("linux", "amd64", null, "profile secret")]);
            await registry.PushAsync(PublicRepo, Tag, [new TestImage("linux", "amd64", null, "profile public")]);
        }
    }
}

/// <summary>Counts the HTTP requests the provider's distribution clients send.</summary>
public sealed class RequestCounter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public DelegatingHandler CreateHandler() => new CountingHandler(this);

    private sealed class CountingHandler(RequestCounter counter) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref counter._count);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
