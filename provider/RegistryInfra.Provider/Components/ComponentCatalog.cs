using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Components.EcrPullAccess;
using RegistryInfra.Provider.Components.PullSecret;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Provider.Components.WorkloadIdentityBinding;
using RegistryInfra.Provider.Engine;

namespace RegistryInfra.Provider.Components;

/// <summary>The package's components, by type token, with the binding of their typed Args.</summary>
public static class ComponentCatalog
{
    public static IReadOnlyList<ComponentDefinition> All { get; } =
    [
        new(PullSecretBuilder.Type, (name, inputs) => PullSecretBuilder.Build(name, ComponentConstruct.Bind<PullSecretArgs>(inputs))),
        new(EcrPullAccessBuilder.Type, (name, inputs) => EcrPullAccessBuilder.Build(name, ComponentConstruct.Bind<EcrPullAccessArgs>(inputs))),
        new(WorkloadIdentityBindingBuilder.Type, (name, inputs) => WorkloadIdentityBindingBuilder.Build(name, ComponentConstruct.Bind<WorkloadIdentityBindingArgs>(inputs))),
        new(TokenRefresherBuilder.Type, (name, inputs) => TokenRefresherBuilder.Build(name, ComponentConstruct.Bind<TokenRefresherArgs>(inputs))),
        new(ClusterRegistryAccessBuilder.Type, (name, inputs) => ClusterRegistryAccessBuilder.Build(name, ComponentConstruct.Bind<ClusterRegistryAccessArgs>(inputs))),
    ];
}
