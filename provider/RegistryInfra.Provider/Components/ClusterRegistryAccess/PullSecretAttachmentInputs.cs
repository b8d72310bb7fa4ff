using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.ClusterRegistryAccess;

/// <summary>
/// The inputs ClusterRegistryAccess gives each <c>registryinfra:kubernetes:PullSecretAttachment</c> child: one per listed
/// namespace (<see cref="Namespace"/>), or one cluster-wide (<see cref="NamespaceSelector"/> or <see cref="AllNamespaces"/>,
/// with <see cref="ExcludeNamespaces"/>); service accounts by name, all, or by selector.
/// </summary>
[PulumiModel]
public sealed partial record PullSecretAttachmentInputs
{
    public string? Namespace { get; init; }

    public Output<LabelSelectorArgs?> NamespaceSelector { get; init; } = Output.Create<LabelSelectorArgs?>(null);

    public Output<bool?> AllNamespaces { get; init; } = Output.Create<bool?>(null);

    public Output<IReadOnlyList<string>>? ExcludeNamespaces { get; init; }

    public Output<IReadOnlyList<string>>? ServiceAccounts { get; init; }

    public Output<bool?> AllServiceAccounts { get; init; } = Output.Create<bool?>(null);

    public Output<LabelSelectorArgs?> ServiceAccountSelector { get; init; } = Output.Create<LabelSelectorArgs?>(null);

    public Output<IReadOnlyList<string>> SecretNames { get; init; } = Output.Create<IReadOnlyList<string>>([]);

    // The kubeconfig may hold a token or a client key: always secret.
    [Secret]
    public Output<string?> Kubeconfig { get; init; } = Output.Create<string?>(null);

    public Output<string?> KubeContext { get; init; } = Output.Create<string?>(null);
}
