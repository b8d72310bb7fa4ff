using RegistryInfra.Testing.Kubernetes;
using RegistryInfra.Testing.Plugin;

namespace RegistryInfra.Provider.Tests.Resources;

/// <summary>What the PullSecretAttachment tests share: the two hosts they run against and a kubeconfig naming the fake API.</summary>
internal static class AttachmentHosts
{
    /// <summary>In process (false) and through the NativeAOT plugin over gRPC (true).</summary>
    public static TheoryData<bool> Both => new() { false, true };

    /// <summary>A kubeconfig for <paramref name="api"/>: its server, its CA, and <paramref name="token"/> as the bearer token.</summary>
    public static string Kubeconfig(FakeKubeApi api, string token) => $$"""
        apiVersion: v1
        kind: Config
        current-context: fake
        clusters:
        - name: fake
          cluster:
            server: {{api.Host}}
            certificate-authority-data: {{api.ClientCertificateAuthorityData}}
        users:
        - name: admin
          user:
            token: {{token}}
        contexts:
        - name: fake
          context: { cluster: fake, user: admin }
        """;

    /// <summary>The provider in process, or the plugin process (to dispose) and its provider.</summary>
    public static async Task<(RegistryInfra.Protocol.Hosting.Provider Provider, IAsyncDisposable? Process)> ProviderAsync(bool plugin, CancellationToken cancellationToken) =>
        plugin
            ? await PluginProcess.StartAsync(PluginBinary.Path, cancellationToken) is var process ? (process.Provider, process) : default
            : (RegistryInfraPackage.CreateProvider(), null);
}
