using System.Collections.Concurrent;
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
    public const string Tag = "1.0";

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
        await registry.PushAsync(SingleRepo, Tag, [new TestImage("linux", "amd64", null, "profile single amd64")]);
        await registry.PushAsync(MultiRepo, Tag, [new TestImage("linux", "amd64", null, "profile multi amd64"), new TestImage("linux", "arm64", "v8", "profile multi arm64")]);
        if (mode == LocalRegistryMode.TokenTls)
        {
            await registry.PushAsync(SecretRepo, Tag, [new TestImage("linux", "amd64", null, "profile secret")]);
        }
        return registry;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _registries.Values.Where(l => l.IsValueCreated))
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
