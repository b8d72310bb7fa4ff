using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.ClusterRegistryAccess;

/// <summary>The inputs ClusterRegistryAccess gives each <c>registryinfra:kubernetes:PullSecretAttachment</c> child.</summary>
[PulumiModel]
public sealed partial record PullSecretAttachmentInputs
{
    public string Namespace { get; init; } = "";

    public Output<IReadOnlyList<string>> ServiceAccounts { get; init; } = Output.Create<IReadOnlyList<string>>([]);

    public Output<IReadOnlyList<string>> SecretNames { get; init; } = Output.Create<IReadOnlyList<string>>([]);

    // The kubeconfig may hold a token or a client key: always secret.
    [Secret]
    public Output<string?> Kubeconfig { get; init; } = Output.Create<string?>(null);

    public Output<string?> KubeContext { get; init; } = Output.Create<string?>(null);
}
