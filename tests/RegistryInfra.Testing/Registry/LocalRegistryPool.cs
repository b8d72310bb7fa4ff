using System.Collections.Concurrent;

namespace RegistryInfra.Testing.Registry;

/// <summary>
/// One <see cref="LocalRegistry"/> per mode for a whole test assembly, started on first use (so a filtered
/// run starts only what it needs), seeded once by the assembly's own callback, and stopped at the end.
/// </summary>
public sealed class LocalRegistryPool(Func<LocalRegistry, LocalRegistryMode, Task> seed) : IAsyncDisposable
{
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

    private async Task<LocalRegistry> StartAsync(LocalRegistryMode mode)
    {
        var registry = await LocalRegistry.StartAsync(mode);
        await seed(registry, mode);
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
