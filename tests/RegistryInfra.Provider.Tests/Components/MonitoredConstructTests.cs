using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Provider.Tests.ChildCheck;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>
/// Tests that construct components through the provider against a real gRPC ResourceMonitor, one per test, and read
/// what was registered in it.
/// </summary>
public abstract class MonitoredConstructTests : IAsyncLifetime
{
    /// <summary>The fake ResourceMonitor the components register their children with.</summary>
    protected FakeResourceMonitor Monitor { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => Monitor = await FakeResourceMonitor.StartAsync(Ct);

    public async ValueTask DisposeAsync()
    {
        await Monitor.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected static ComponentMode Mode(string id) => ComponentModes.All.Single(m => m.Id == id);

    /// <summary>Constructs <paramref name="mode"/> in preview or update, with the monitor cleared first.</summary>
    protected async Task<ConstructResponse> Construct(ComponentMode mode, bool preview)
    {
        Monitor.Clear();
        Monitor.DryRun = preview;
        return await RegistryInfraPackage.CreateProvider().ConstructAsync(mode.Request(Monitor.Endpoint, preview), Ct);
    }
}
