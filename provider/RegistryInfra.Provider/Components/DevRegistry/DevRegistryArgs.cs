using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.DevRegistry;

/// <summary>Inputs of <c>registryinfra:kubernetes:DevRegistry</c>.</summary>
[PulumiModel]
public sealed partial record DevRegistryArgs
{
    [PulumiProperty("namespace", Description = "The namespace the registry runs in (its Deployment, Service, htpasswd Secret and storage). Default `dev-registry`.", Default = DevRegistryComponent.DefaultNamespace)]
    public Output<string?> Namespace { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("createNamespace", Description = "Create `namespace` as a child resource. Set false when the namespace already exists. Default true.", Default = true)]
    public Output<bool?> CreateNamespace { get; init; } = Output.Create<bool?>(null);

    [PulumiProperty("name", Description = "The name of the registry's Deployment and Service (at most 40 characters); the htpasswd Secret is this plus `-htpasswd`, the claim this plus `-storage`. Default `dev-registry`.", Default = DevRegistryComponent.DefaultName)]
    public Output<string?> Name { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("image", Description = "The registry image pinned by digest (`REPOSITORY@sha256:HEX`). Default: the distribution registry 2.8.3 (`docker.io/library/registry:2.8.3`), pinned by the digest of its multi-platform index.")]
    public Output<string?> Image { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("username", Description = "The user name of the registry's htpasswd authentication (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit). Default `dev`.", Default = DevRegistryComponent.DefaultUsername)]
    public Output<string?> Username { get; init; } = Output.Create<string?>(null);

    /// <summary>Secret: the password, bcrypt-hashed into the htpasswd Secret.</summary>
    [Secret]
    [PulumiProperty("password", Description = "Secret: the password (8 to 72 bytes of UTF-8, as bcrypt reads at most 72), such as a `random:RandomPassword`'s `result` or a secret stack configuration value. The registry's htpasswd Secret holds its bcrypt hash; the `password` and `authEntry` outputs are secret.")]
    public Output<string> Password { get; init; } = "";

    [PulumiProperty("nodePort", Description = "The Service's node port (30000-32767): the registry is `localhost:NODEPORT` on each node, which is what the container runtime pulls from, and, with a kind `extraPortMappings` entry for it, on the developer's machine. Default 32000.", Default = DevRegistryComponent.DefaultNodePort)]
    public Output<int?> NodePort { get; init; } = Output.Create<int?>(null);

    [PulumiProperty("host", Description = "The registry's address as the developer's machine reaches it (`docker push HOST/...`), such as `localhost:32000` with kind's port mapping or `$(minikube ip):32000`; published as `host` in the KEP-1755 `local-registry-hosting` ConfigMap. Default `localhost:NODEPORT`.")]
    public Output<string?> Host { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("storageSize", Description = "Keep the images in a PersistentVolumeClaim of this size (a Kubernetes quantity such as `10Gi`) instead of an emptyDir, which loses them when the pod goes.")]
    public Output<string?> StorageSize { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("storageClassName", Description = "The claim's storage class (only with `storageSize`). Default: the cluster's default class.")]
    public Output<string?> StorageClassName { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("tlsCertificate", Description = "Serve HTTPS with this PEM certificate (the server's first, then its chain; its names must cover the hosts clients use, such as `localhost`), with `tlsKey`. It goes into a `kubernetes.io/tls` Secret the registry mounts; give the issuing CA to a RegistryProfile's `caCertificates` (the `tlsCertificate` output, for a self-signed one). Without it the registry serves plain HTTP, which container runtimes allow for `localhost`.")]
    public Output<string?> TlsCertificate { get; init; } = Output.Create<string?>(null);

    /// <summary>Secret: the private key of <see cref="TlsCertificate"/>.</summary>
    [Secret]
    [PulumiProperty("tlsKey", Description = "Secret: the PEM private key of `tlsCertificate` (PKCS#8, RSA or EC); it must match the certificate.")]
    public Output<string?> TlsKey { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("localRegistryHosting", Description = "Publish the registry in the `local-registry-hosting` ConfigMap of `kube-public` (KEP-1755, which tools such as Tilt and Skaffold read). Set false when another registry publishes it. Default true.", Default = true)]
    public Output<bool?> LocalRegistryHosting { get; init; } = Output.Create<bool?>(null);
}

/// <summary>Outputs of <c>registryinfra:kubernetes:DevRegistry</c>.</summary>
[PulumiModel]
public sealed partial record DevRegistryOutputs
{
    [PulumiProperty("server", Description = "The registry as the cluster's container runtime pulls from it, `localhost:NODEPORT` (KEP-1755's `hostFromContainerRuntime`): the image references of workloads and the `server` of a pull secret, RegistryProfile or ClusterRegistryAccess profile.")]
    public Output<string> Server { get; init; } = Output.Unknown<string>();

    [PulumiProperty("kind", Description = "The registry kind for a profile: `generic`.")]
    public Output<string> Kind { get; init; } = Output.Unknown<string>();

    [PulumiProperty("host", Description = "The registry as the developer's machine reaches it, for `docker login` and `docker push` (KEP-1755's `host`).")]
    public Output<string> Host { get; init; } = Output.Unknown<string>();

    [PulumiProperty("hostFromClusterNetwork", Description = "The registry as pods reach it over the cluster network, `NAME.NAMESPACE.svc:5000` (KEP-1755's `hostFromClusterNetwork`), for in-cluster builders; the container runtime cannot resolve it.")]
    public Output<string> HostFromClusterNetwork { get; init; } = Output.Unknown<string>();

    [PulumiProperty("username", Description = "The htpasswd user name.")]
    public Output<string> Username { get; init; } = Output.Unknown<string>();

    [Secret]
    [PulumiProperty("password", Description = "Secret: the password, for a profile's `password`.")]
    public Output<string> Password { get; init; } = Output.Unknown<string>(secret: true);

    [Secret]
    [PulumiProperty("authEntry", Description = "Secret: the registry's `.dockerconfigjson` `auths` entry as JSON (`{\"auth\":\"BASE64(USER:PASSWORD)\"}`), for a profile's `authEntry`.")]
    public Output<string> AuthEntry { get; init; } = Output.Unknown<string>(secret: true);

    [PulumiProperty("namespace", Description = "The namespace the registry runs in.")]
    public Output<string> Namespace { get; init; } = Output.Unknown<string>();

    [PulumiProperty("serviceName", Description = "The registry's Service (and Deployment).")]
    public Output<string> ServiceName { get; init; } = Output.Unknown<string>();

    [PulumiProperty("nodePort", Description = "The Service's node port.")]
    public Output<int> NodePort { get; init; } = Output.Unknown<int>();

    [PulumiProperty("tlsCertificate", Description = "The certificate the registry serves over HTTPS (`tlsCertificate` as given), absent for plain HTTP: a RegistryProfile's `caCertificates` for a self-signed certificate.")]
    public Output<string?> TlsCertificate { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("image", Description = "The registry image the Deployment runs.")]
    public Output<string> Image { get; init; } = Output.Unknown<string>();
}
