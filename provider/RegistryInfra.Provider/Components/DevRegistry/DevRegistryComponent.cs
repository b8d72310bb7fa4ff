using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.DevRegistry;

/// <summary>
/// <c>registryinfra:kubernetes:DevRegistry</c>: the distribution registry in the cluster for development (the
/// Pulumi-native equivalent of minikube's registry addon, kind's local registry, Rig's dev registry): a Deployment
/// with htpasswd (bcrypt) authentication from a Secret, storage in an emptyDir or a PersistentVolumeClaim, a NodePort
/// Service so that every node's container runtime pulls from <c>localhost:NODEPORT</c>, and the KEP-1755
/// <c>local-registry-hosting</c> ConfigMap in <c>kube-public</c>. Its outputs are a static profile's
/// (<c>server</c>, <c>kind</c>, <c>username</c>, secret <c>password</c> and <c>authEntry</c>).
/// </summary>
/// <remarks>
/// <para>The default image is docker.io/library/registry:2.8.3 by the digest of its OCI image index
/// (linux/amd64, arm/v6, arm/v7, arm64/v8, ppc64le, s390x): the index that docker-library/repo-info's generated
/// repos/registry/tag-details.md lists for <c>registry:2.8.3</c> in the tag's last build (layers of 14 Feb 2025, Alpine
/// 3.18.12; its linux/amd64 manifest is sha256:46faa9a1ae6813194b53921a370f2f4f8c5e1aae228a89bceafef5847a6a3278).
/// Official images are rebuilt under the same tag, so 2.8.3 has had other index digests before it; this is the one the
/// tag last pointed at. It was read from that public file, not resolved here (these machines reach no public
/// registry): give <c>image</c> to use another build, resolved with getImage.</para>
/// <para>The <c>local-registry-hosting</c> ConfigMap follows kubernetes/enhancements KEP-1755
/// (keps/sig-cluster-lifecycle/generic/1755-communicating-a-local-registry): ConfigMap <c>local-registry-hosting</c>
/// in <c>kube-public</c>, key <c>localRegistryHosting.v1</c>, a YAML document with <c>host</c> (from the developer's
/// machine), <c>hostFromContainerRuntime</c> (from the nodes' container runtime), <c>hostFromClusterNetwork</c> (from
/// pods) and <c>help</c>. The container runtime pulls <c>localhost:NODEPORT</c>: kube-proxy serves node ports on
/// localhost (its default <c>--iptables-localhost-nodeports</c>), and containerd and Docker speak plain HTTP to a
/// localhost registry.</para>
/// </remarks>
public sealed partial class DevRegistryComponent : IComponent<DevRegistryArgs, DevRegistryOutputs>
{
    public const string TypeToken = "registryinfra:kubernetes:DevRegistry";
    public const string NamespaceType = "kubernetes:core/v1:Namespace";
    public const string SecretType = "kubernetes:core/v1:Secret";
    public const string ClaimType = "kubernetes:core/v1:PersistentVolumeClaim";
    public const string DeploymentType = "kubernetes:apps/v1:Deployment";
    public const string ServiceType = "kubernetes:core/v1:Service";
    public const string ConfigMapType = "kubernetes:core/v1:ConfigMap";

    public const string DefaultNamespace = "dev-registry";
    public const string DefaultName = "dev-registry";
    public const string DefaultUsername = "dev";
    public const int DefaultNodePort = 32000;
    public const int RegistryPort = 5000;
    public const string DefaultImage = "docker.io/library/registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373";

    /// <summary>KEP-1755's ConfigMap, namespace and key.</summary>
    public const string HostingConfigMap = "local-registry-hosting";
    public const string HostingNamespace = "kube-public";
    public const string HostingKey = "localRegistryHosting.v1";
    public const string Help = "https://github.com/registryinfra/pulumi-registryinfra#dev-registry-quick-start";

    /// <summary>On the pod template: a hash of the htpasswd file, so a new password restarts the registry.</summary>
    public const string HtpasswdHashAnnotation = "registryinfra.io/htpasswd-sha256";

    public const string HtpasswdKey = "htpasswd";

    public static DevRegistryComponent Instance { get; } = new();

    public string Type => TypeToken;

    [GeneratedRegex("^[^@\\s]+@sha256:[0-9a-f]{64}$")]
    private static partial Regex PinnedImagePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex UsernamePattern();

    // host[:port] as a registry host: a DNS name, IPv4 or bracketed IPv6, no scheme, path or user information.
    [GeneratedRegex("^([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$")]
    private static partial Regex HostPattern();

    public DevRegistryOutputs Construct(ComponentScope scope, string name, DevRegistryArgs args)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(args);
        Validate(args);
        var ns = args.Namespace.Apply(n => n ?? DefaultNamespace);
        var service = args.Name.Apply(n => n ?? DefaultName);
        var image = args.Image.Apply(i => i ?? DefaultImage);
        var username = args.Username.Apply(u => u ?? DefaultUsername);
        var nodePort = args.NodePort.Apply(p => p ?? DefaultNodePort);
        var password = args.Password.AsSecret();
        var runtimeHost = nodePort.Apply(p => $"localhost:{p}");
        var host = Output.Tuple(args.Host, runtimeHost).Apply(v => v.Item1 ?? v.Item2);
        var clusterHost = Output.Tuple(service, ns).Apply(v => $"{v.Item1}.{v.Item2}.svc:{RegistryPort}");
        var labels = KubernetesLabels.Of("dev-registry", name, null);
        var selector = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["app.kubernetes.io/name"] = "registryinfra",
            ["app.kubernetes.io/instance"] = KubernetesLabels.For("dev-registry", name)["app.kubernetes.io/instance"],
            ["app.kubernetes.io/component"] = "dev-registry",
        };

        ChildResource? namespaceChild = null;
        if (scope.Known(args.CreateNamespace, "createNamespace", "the registry's Namespace", out var createNamespace) && createNamespace != false)
        {
            namespaceChild = scope.Resource(NamespaceType, $"{name}-namespace", new NamespaceInputs
            {
                Metadata = new ObjectMetaInputs { Name = ns, Labels = labels },
            });
        }
        var inNamespace = ChildOptions.After(namespaceChild);

        // The htpasswd line is secret (a password hash), and so is everything computed from it.
        var htpasswd = Output.Tuple(Output.Tuple(ns, username), password).Apply(v => Htpasswd.Line(name, v.Item1.Item1, v.Item1.Item2, v.Item2) + "\n");
        var secretName = service.Apply(s => s + "-htpasswd");
        var secret = scope.Resource(SecretType, $"{name}-htpasswd", new SecretInputs
        {
            Metadata = new ObjectMetaInputs { Name = secretName, Namespace = ns, Labels = labels },
            Type = "Opaque",
            StringData = new Dictionary<string, Output<string>> { [HtpasswdKey] = htpasswd },
        }, inNamespace);

        var before = new List<IChild> { secret };
        // TLS is on when a certificate is given (an unknown one will be: a value from a resource of this update).
        var tls = !(args.TlsCertificate.TryGetKnown(out var givenCertificate) && givenCertificate is null);
        var tlsSecretName = service.Apply(s => s + "-tls");
        if (tls)
        {
            before.Add(scope.Resource(SecretType, $"{name}-tls", new SecretInputs
            {
                Metadata = new ObjectMetaInputs { Name = tlsSecretName, Namespace = ns, Labels = labels },
                Type = "kubernetes.io/tls",
                StringData = new Dictionary<string, Output<string>>
                {
                    ["tls.crt"] = args.TlsCertificate.Apply(c => c ?? ""),
                    ["tls.key"] = args.TlsKey.Apply(k => k ?? "").AsSecret(),
                },
            }, inNamespace));
        }
        var volumes = Output.Create<IReadOnlyList<RegistryVolumeInputs>>([]);
        if (namespaceChild is not null)
        {
            before.Add(namespaceChild);
        }
        var claimName = service.Apply(s => s + "-storage");
        if (scope.Known(args.StorageSize, "storageSize", "the registry's PersistentVolumeClaim", out var storageSize))
        {
            if (storageSize is not null)
            {
                before.Add(scope.Resource(ClaimType, $"{name}-storage", new PersistentVolumeClaimInputs
                {
                    Metadata = new ObjectMetaInputs { Name = claimName, Namespace = ns, Labels = labels },
                    Spec = new ClaimSpecInputs
                    {
                        StorageClassName = args.StorageClassName,
                        Resources = new ClaimResourcesInputs { Requests = new Dictionary<string, Output<string>> { ["storage"] = storageSize } },
                    },
                }, inNamespace));
            }
            volumes = Output.Create(Volumes(secretName, storageSize is null ? null : claimName, tls ? tlsSecretName : null));
        }
        else
        {
            // Whether the images go to a claim or an emptyDir is not known yet: the Deployment's volumes are unknown.
            volumes = Output.Unknown<IReadOnlyList<RegistryVolumeInputs>>();
        }

        var podLabels = Output.Create<IReadOnlyDictionary<string, string>>(KubernetesLabels.For("dev-registry", name));
        var deployment = scope.Resource(DeploymentType, $"{name}-deployment", new DeploymentInputs
        {
            Metadata = new ObjectMetaInputs { Name = service, Namespace = ns, Labels = labels },
            Spec = new DeploymentSpecInputs
            {
                Selector = new LabelSelectorInputs { MatchLabels = selector },
                // One pod with its storage: the old one goes before the new one mounts the claim.
                Strategy = new DeploymentStrategyInputs(),
                Template = new RegistryPodTemplateInputs
                {
                    Metadata = new ObjectMetaInputs
                    {
                        Labels = podLabels,
                        Annotations = htpasswd.Apply(h => (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { [HtpasswdHashAnnotation] = KubernetesNames.ShortHash(h) }),
                    },
                    Spec = PodSpec(image, volumes, tls),
                },
            },
        }, new ChildOptions { DependsOn = [.. before] });

        var serviceChild = scope.Resource(ServiceType, $"{name}-service", new ServiceInputs
        {
            Metadata = new ObjectMetaInputs { Name = service, Namespace = ns, Labels = labels },
            Spec = new ServiceSpecInputs
            {
                Selector = selector,
                Ports = [new ServicePortInputs { Name = "registry", Port = RegistryPort, TargetPort = RegistryPort, NodePort = nodePort, Protocol = "TCP" }],
            },
        }, inNamespace);

        ChildResource? hosting = null;
        if (scope.Known(args.LocalRegistryHosting, "localRegistryHosting", "the local-registry-hosting ConfigMap", out var publish) && publish != false)
        {
            hosting = scope.Resource(ConfigMapType, $"{name}-local-registry-hosting", new ConfigMapInputs
            {
                Metadata = new ObjectMetaInputs { Name = HostingConfigMap, Namespace = HostingNamespace, Labels = labels },
                Data = new Dictionary<string, Output<string>>
                {
                    [HostingKey] = Output.Tuple(host, runtimeHost, clusterHost).Apply(v => HostingDocument(v.Item1, v.Item2, v.Item3)),
                },
            });
        }

        IChild[] ready = hosting is null ? [deployment, serviceChild] : [deployment, serviceChild, hosting];
        return new DevRegistryOutputs
        {
            Server = runtimeHost.DependingOn(ready),
            Kind = "generic",
            Host = host.DependingOn(ready),
            HostFromClusterNetwork = clusterHost.DependingOn(ready),
            Username = username.DependingOn(secret.Urn),
            Password = password.DependingOn(secret.Urn),
            AuthEntry = Output.Tuple(username, password).Apply(v => AuthEntry(v.Item1, v.Item2)).DependingOn(secret.Urn),
            Namespace = ns,
            ServiceName = service.DependingOn(serviceChild.Urn),
            NodePort = nodePort.DependingOn(serviceChild.Urn),
            Image = image,
            TlsCertificate = args.TlsCertificate,
        };
    }

    private static RegistryPodSpecInputs PodSpec(Output<string> image, Output<IReadOnlyList<RegistryVolumeInputs>> volumes, bool tls) => new()
    {
        AutomountServiceAccountToken = false,
        SecurityContext = RestrictedSecurity.Pod(),
        Containers =
        [
            new RegistryContainerInputs
            {
                Name = "registry",
                Image = image,
                ImagePullPolicy = "IfNotPresent",
                Ports = [new ContainerPortInputs { Name = "registry", ContainerPort = RegistryPort, Protocol = "TCP" }],
                // The distribution registry's configuration by environment (REGISTRY_ + the YAML path, upper case).
                Env =
                [
                    new EnvVarInputs { Name = "REGISTRY_AUTH", Value = "htpasswd" },
                    new EnvVarInputs { Name = "REGISTRY_AUTH_HTPASSWD_REALM", Value = "registryinfra dev registry" },
                    new EnvVarInputs { Name = "REGISTRY_AUTH_HTPASSWD_PATH", Value = "/auth/" + HtpasswdKey },
                    new EnvVarInputs { Name = "REGISTRY_HTTP_ADDR", Value = $":{RegistryPort}" },
                    new EnvVarInputs { Name = "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", Value = "/var/lib/registry" },
                    new EnvVarInputs { Name = "REGISTRY_STORAGE_DELETE_ENABLED", Value = "true" },
                    .. tls
                        ? new[]
                        {
                            // distribution's http.tls.certificate and http.tls.key (docs/configuration.md, "tls").
                            new EnvVarInputs { Name = "REGISTRY_HTTP_TLS_CERTIFICATE", Value = "/certs/tls.crt" },
                            new EnvVarInputs { Name = "REGISTRY_HTTP_TLS_KEY", Value = "/certs/tls.key" },
                        }
                        : [],
                ],
                // /v2/ answers 401 without credentials, which a probe counts as a failure: TCP instead.
                ReadinessProbe = new ProbeInputs { TcpSocket = new TcpSocketActionInputs { Port = RegistryPort }, PeriodSeconds = 5 },
                LivenessProbe = new ProbeInputs { TcpSocket = new TcpSocketActionInputs { Port = RegistryPort }, InitialDelaySeconds = 10, PeriodSeconds = 20 },
                Resources = new ResourceRequirementsInputs
                {
                    Requests = new Dictionary<string, Output<string>> { ["cpu"] = Output.Create("50m"), ["memory"] = Output.Create("64Mi") },
                    Limits = new Dictionary<string, Output<string>> { ["memory"] = Output.Create("256Mi") },
                },
                SecurityContext = RestrictedSecurity.Container(),
                VolumeMounts =
                [
                    new VolumeMountInputs { Name = "storage", MountPath = "/var/lib/registry" },
                    new VolumeMountInputs { Name = "auth", MountPath = "/auth", ReadOnly = true },
                    new VolumeMountInputs { Name = "tmp", MountPath = "/tmp" },
                    .. tls ? new[] { new VolumeMountInputs { Name = "tls", MountPath = "/certs", ReadOnly = true } } : [],
                ],
            },
        ],
        Volumes = volumes,
    };

    private static IReadOnlyList<RegistryVolumeInputs> Volumes(Output<string> secretName, Output<string>? claimName, Output<string>? tlsSecretName) =>
    [
        .. tlsSecretName is null ? [] : new[] { new RegistryVolumeInputs { Name = "tls", Secret = new SecretVolumeInputs { SecretName = tlsSecretName, DefaultMode = 0x124 } } },
        claimName is null
            ? new RegistryVolumeInputs { Name = "storage", EmptyDir = new EmptyDirVolumeInputs() }
            : new RegistryVolumeInputs { Name = "storage", PersistentVolumeClaim = new ClaimVolumeInputs { ClaimName = claimName } },
        new RegistryVolumeInputs { Name = "auth", Secret = new SecretVolumeInputs { SecretName = secretName, DefaultMode = 0x124 } },
        new RegistryVolumeInputs { Name = "tmp", EmptyDir = new EmptyDirVolumeInputs { SizeLimit = "64Mi" } },
    ];

    /// <summary>KEP-1755's <c>localRegistryHosting.v1</c> document (YAML; each value a JSON string, which YAML reads as a double-quoted scalar).</summary>
    public static string HostingDocument(string host, string runtimeHost, string clusterHost) =>
        $"host: {JsonSerializer.Serialize(host, DevRegistryJson.Default.String)}\n" +
        $"hostFromContainerRuntime: {JsonSerializer.Serialize(runtimeHost, DevRegistryJson.Default.String)}\n" +
        $"hostFromClusterNetwork: {JsonSerializer.Serialize(clusterHost, DevRegistryJson.Default.String)}\n" +
        $"help: {JsonSerializer.Serialize(Help, DevRegistryJson.Default.String)}\n";

    /// <summary>The <c>auths</c> entry of <c>.dockerconfigjson</c> for a user name and password.</summary>
    public static string AuthEntry(string username, string password)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("auth", Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password)));
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    // Known inputs are checked even when others are unknown (preview). The password is never quoted.
    private static void Validate(DevRegistryArgs args)
    {
        if (args.Namespace.TryGetKnown(out var ns))
        {
            KubernetesNames.RequireLabel(ns ?? DefaultNamespace, "namespace");
        }
        if (args.Name.TryGetKnown(out var service))
        {
            KubernetesNames.RequireLabel(service ?? DefaultName, "name");
            if ((service ?? DefaultName).Length > 40)
            {
                // The Secret and claim add suffixes, and a Service name is a DNS label.
                throw new ComponentInputException("name", "at most 40 characters");
            }
            if (char.IsAsciiDigit((service ?? DefaultName)[0]))
            {
                throw new ComponentInputException("name", $"'{service}' starts with a digit; a Service name starts with a letter");
            }
        }
        if (args.Image.TryGetKnown(out var image) && image is not null && !PinnedImagePattern().IsMatch(image))
        {
            throw new ComponentInputException("image", $"'{Printable(image)}' is not pinned by digest (REPOSITORY@sha256:HEX); resolve a tag with registryinfra:index:getImage");
        }
        if (args.Username.TryGetKnown(out var username) && username is not null && !UsernamePattern().IsMatch(username))
        {
            throw new ComponentInputException("username", $"'{Printable(username)}' is not a user name (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit; no ':')");
        }
        if (args.Password.TryGetKnown(out var password))
        {
            if (password.Length == 0)
            {
                throw new ComponentInputException("password", "required: give one, such as a random:RandomPassword's result or a secret configuration value");
            }
            var bytes = Encoding.UTF8.GetByteCount(password);
            if (bytes < 8)
            {
                throw new ComponentInputException("password", $"too short: {bytes} bytes, at least 8");
            }
            if (bytes > Htpasswd.MaxPasswordBytes)
            {
                throw new ComponentInputException("password", $"too long: {bytes} bytes of UTF-8; bcrypt reads at most {Htpasswd.MaxPasswordBytes} and would ignore the rest");
            }
            if (password.Any(char.IsControl))
            {
                throw new ComponentInputException("password", "contains a control character");
            }
        }
        ValidateTls(args);
        if (args.NodePort.TryGetKnown(out var nodePort) && nodePort is { } port && port is < 30000 or > 32767)
        {
            throw new ComponentInputException("nodePort", $"{port} is outside the node port range 30000-32767");
        }
        if (args.Host.TryGetKnown(out var host) && host is not null && (host.Length > 255 || !HostPattern().IsMatch(host)))
        {
            throw new ComponentInputException("host", $"'{Printable(host)}' is not a registry host (HOST or HOST:PORT, without a scheme or path)");
        }
        KubernetesNames.RequireQuantity(args.StorageSize, "storageSize");
        if (args.StorageClassName.TryGetKnown(out var storageClass) && storageClass is not null)
        {
            KubernetesNames.RequireSubdomain(storageClass, "storageClassName");
            if (args.StorageSize.TryGetKnown(out var size) && size is null)
            {
                throw new ComponentInputException("storageClassName", "only with storageSize (without it the images are kept in an emptyDir)");
            }
        }
    }

    // Both or neither; a certificate that parses, with a key that matches it. Neither value is ever quoted.
    private static void ValidateTls(DevRegistryArgs args)
    {
        var certificateKnown = args.TlsCertificate.TryGetKnown(out var certificate);
        var keyKnown = args.TlsKey.TryGetKnown(out var key);
        if (certificateKnown && keyKnown && (certificate is null) != (key is null))
        {
            throw new ComponentInputException(certificate is null ? "tlsCertificate" : "tlsKey", certificate is null ? "required with tlsKey" : "required with tlsCertificate");
        }
        if (!certificateKnown || certificate is null)
        {
            return;
        }
        X509Certificate2 parsed;
        try
        {
            parsed = X509Certificate2.CreateFromPem(certificate);
        }
        catch (CryptographicException)
        {
            throw new ComponentInputException("tlsCertificate", "is not a PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        using (parsed)
        {
            if (!keyKnown || key is null)
            {
                return;
            }
            try
            {
                using var pair = X509Certificate2.CreateFromPem(certificate, key);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                throw new ComponentInputException("tlsKey", "is not a PEM private key that matches tlsCertificate");
            }
        }
    }

    // A value quoted in an error: cut, control characters replaced.
    private static string Printable(string text)
    {
        var clean = new string([.. text.Take(200).Select(c => char.IsControl(c) ? '?' : c)]);
        return text.Length > 200 ? clean + "…" : clean;
    }
}

/// <summary>System.Text.Json metadata for the strings the component writes, generated (no reflection under NativeAOT).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class DevRegistryJson : System.Text.Json.Serialization.JsonSerializerContext;
