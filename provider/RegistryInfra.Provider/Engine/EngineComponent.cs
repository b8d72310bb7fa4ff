using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Monitor;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Engine;

/// <summary>
/// A component of the package as the protocol's resource table sees it: <typeparamref name="TArgs"/> and
/// <typeparamref name="TOutputs"/> declare it for the schema, and Construct goes to <see cref="ComponentConstruct"/>
/// over the engine's ResourceMonitor. The inputs are read from the request itself rather than the bound
/// Args, so that an unknown string stays an unknown (not a null) in the children registered during preview.
/// </summary>
internal sealed class EngineComponent<TArgs, TOutputs>(ComponentConstruct construct) : IComponent<TArgs, TOutputs>
    where TArgs : class where TOutputs : class
{
    public async Task<ConstructResponse> ConstructAsync(ConstructRequest request, BindResult<TArgs> args, CancellationToken cancellationToken)
    {
        using var monitor = ResourceMonitorClient.Connect(request.Deployment.MonitorEndpoint);
        var result = await construct.ConstructAsync(new ComponentConstructRequest(
            request.Type,
            request.Name,
            request.Parent,
            request.Inputs.ToImmutableSortedDictionary(StringComparer.Ordinal),
            request.Deployment.DryRun)
        {
            Providers = request.Providers.ToImmutableDictionary(StringComparer.Ordinal),
            Dependencies = request.Dependencies,
            Aliases = request.Aliases,
            Protect = request.Options.Protect,
        }, monitor, cancellationToken).ConfigureAwait(false);
        return new ConstructResponse(result.Urn, result.State, result.StateDependencies);
    }
}
