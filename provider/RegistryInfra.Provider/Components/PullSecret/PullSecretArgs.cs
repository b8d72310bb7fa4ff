using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.PullSecret;

/// <summary>Inputs of <c>registryinfra:kubernetes:PullSecret</c>.</summary>
[PulumiModel]
public sealed partial record PullSecretArgs
{
    /// <summary>The registries whose credentials go into the secrets.</summary>
    [PulumiProperty("registries", Description = "The registries whose credentials go into the secrets: static ones (an `authEntry`, or `username` and `password`) into `secretName`, token-based ones (ECR, Artifact Registry/GCR, ACR without static credentials) into `secretName`-tokens.")]
    public InputList<PullSecretRegistry> Registries { get; init; } = [];

    /// <summary>The namespaces that each get the secrets.</summary>
    [PulumiProperty("namespaces", Description = "The namespaces that each get the secrets, listed: Pulumi writes the static Secret and the token Secret's owner ConfigMap in each. Exactly one of `namespaces`, `namespaceSelector` and `allNamespaces`.")]
    public InputList<string>? Namespaces { get; init; }

    /// <summary>The namespaces chosen by a label selector, resolved by the refresher.</summary>
    [PulumiProperty("namespaceSelector", Description = "The namespaces whose labels this selector selects, now and later, resolved by the refresher: the static credentials go into one source Secret `<secretName>-source` in `sourceNamespace`, which a TokenRefresher copy target (`source`) writes into `secretName` in every selected namespace; the token Secret is a TokenRefresher target with the same selection. Pulumi then writes no object in the selected namespaces.")]
    public Output<LabelSelectorArgs?> NamespaceSelector { get; init; } = Output.Create<LabelSelectorArgs?>(null);

    /// <summary>Every namespace, resolved by the refresher.</summary>
    [PulumiProperty("allNamespaces", Description = "Every namespace of the cluster, now and later (less `excludeNamespaces`), as with `namespaceSelector`. Default false.", Default = false)]
    public Output<bool?> AllNamespaces { get; init; } = Output.Create<bool?>(null);

    /// <summary>Names or globs left out of the selection.</summary>
    [PulumiProperty("excludeNamespaces", Description = "With `namespaceSelector` or `allNamespaces`: namespaces never served, by name or glob (`*`, `?`), such as `kube-*`.")]
    public InputList<string>? ExcludeNamespaces { get; init; }

    /// <summary>Where the source Secret goes with a selector (the refresher's namespace).</summary>
    [PulumiProperty("sourceNamespace", Description = "With `namespaceSelector` or `allNamespaces` and a static registry: the namespace of the source Secret, the refresher's own (ClusterRegistryAccess gives its refresher's).")]
    public Output<string?> SourceNamespace { get; init; } = Output.Create<string?>(null);

    /// <summary>Name of the Secret of static credentials; the token-based one is this plus <c>-tokens</c>.</summary>
    [PulumiProperty("secretName", Description = "The name of the static-credentials Secret (its data owned by Pulumi); the token Secret is this plus `-tokens`: the refresher creates and owns it, with an ownerReference to the ConfigMap of the same name that this component creates in each namespace (so Pulumi never holds a token, and deleting the ConfigMap deletes the Secret). Default: the component's name and 6 hex digits of a hash of its URN (such as `pull-3f9a1c`), which differ between components and between stacks, so two of them never share a Secret.")]
    public Output<string?> SecretName { get; init; } = Output.Create<string?>(null);

    /// <summary>Extra labels on every Secret.</summary>
    [PulumiProperty("labels", Description = "Extra labels on every Secret, besides the `app.kubernetes.io/*` labels the component sets.")]
    public InputMap<string>? Labels { get; init; }
}

/// <summary>One registry: its server and either a dockerconfigjson auth entry or a static user name and password.</summary>
[PulumiType("registryinfra:index:PullSecretRegistry", Description = "One registry of a pull secret: its server and either a dockerconfigjson `authEntry` or a static `username` and `password`; a token-based registry may give neither (the refresher fills it in).")]
public sealed partial record PullSecretRegistry
{
    /// <summary>The registry host as it goes into <c>.dockerconfigjson</c>.</summary>
    [PulumiProperty("server", Description = "The registry (RegistryProfile's `server` output), such as `ghcr.io`, `registry.example.com:5000`, `docker.io` or `registry.example.com/team` for a repository prefix. Listed once: two spellings of one host (any case, or `docker.io` beside `https://index.docker.io/v1/`) are refused. The credential is written under every key the kubelet needs for it (see `keys`).")]
    public Output<string> Server { get; init; } = "";

    /// <summary>The dockerconfigjson keys to write the credential under (RegistryProfile's <c>pullSecretKeys</c>).</summary>
    [PulumiProperty("keys", Description = "The `.dockerconfigjson` keys to write this registry's credential under (RegistryProfile's `pullSecretKeys` output: it adds a key for each spelling of the host its `images` use). Each must name the registry and prefix of `server`. The keys derived from `server` are always written: `https://index.docker.io/v1/` for Docker Hub and, for `registry-1.docker.io` or `registry.hub.docker.com`, that host too (the kubelet looks images written with it up under it); any other host as written, since the kubelet compares host names case-sensitively.")]
    public InputList<string>? Keys { get; init; }

    /// <summary>The registry is pulled from without credentials: nothing is written for it.</summary>
    [PulumiProperty("anonymous", Description = "The registry is pulled from without credentials (RegistryProfile's `anonymous` output: a public registry such as MCR or public Docker Hub images): no entry is written for it, and it is listed in the `anonymousRegistries` output. Give no `authEntry`, `username` or `password` with it.")]
    public Output<bool?> Anonymous { get; init; } = Output.Create<bool?>(null);

    /// <summary>The registry kind; detected from the server when absent.</summary>
    [PulumiProperty("kind", Description = "The registry kind (such as `ecr`, `artifactRegistry`, `gcr`, `acr`, `generic`); detected from the server when absent. It decides whether the registry is token-based.")]
    public Output<string?> Kind { get; init; } = Output.Create<string?>(null);

    /// <summary>Secret: the <c>auths</c> entry as JSON (the RegistryProfile's <c>authEntry</c> output).</summary>
    [Secret]
    [PulumiProperty("authEntry", Description = "Secret: the registry's `auths` entry as JSON (RegistryProfile's `authEntry` output): a static credential, whose entry Pulumi writes. For a registry the refresher renews (see `tokenBased`) it is not used: no token is ever written by Pulumi or kept in its state.")]
    public Output<string?> AuthEntry { get; init; } = Output.Create<string?>(null);

    /// <summary>Whether the refresher renews this registry's token; decided from the kind and the credential when absent.</summary>
    [PulumiProperty("tokenBased", Description = "Whether this registry's credential is a short-lived token the refresher renews (RegistryProfile's `tokenBased` output) rather than a static credential Pulumi writes. Default: static with `username`/`password` or a Google JSON key (`_json_key`, `_json_key_base64`) in `authEntry`, token-based for an ECR, Artifact Registry/GCR or ACR server otherwise. Give it when `authEntry` comes from a resource created in the same update, so that preview can tell which Secret it goes into.")]
    public Output<bool?> TokenBased { get; init; } = Output.Create<bool?>(null);

    /// <summary>A static user name (with <see cref="Password"/>).</summary>
    [PulumiProperty("username", Description = "Static credentials: the user name (with `password`).")]
    public Output<string?> Username { get; init; } = Output.Create<string?>(null);

    /// <summary>Secret: a static password or token.</summary>
    [Secret]
    [PulumiProperty("password", Description = "Secret. Static credentials: the password or token (with `username`).")]
    public Output<string?> Password { get; init; } = Output.Create<string?>(null);
}

/// <summary>A reference to a pull secret, as it goes into a workload's <c>imagePullSecrets</c>.</summary>
[PulumiType("registryinfra:index:PullSecretReference", Description = "A reference to a pull secret, in the shape of a pod spec's `imagePullSecrets` entry.")]
public sealed partial record PullSecretReference(
    [property: PulumiProperty("name", Description = "The Secret's name (in the pod's namespace).")] string Name);

/// <summary>Outputs of <c>registryinfra:kubernetes:PullSecret</c>.</summary>
[PulumiModel]
public sealed partial record PullSecretOutputs
{
    [PulumiProperty("secretNames", Description = "For each listed namespace, the names of the Secrets there. With `namespaceSelector` or `allNamespaces` the namespaces are the cluster's to decide, but the names are not: the one key `*` stands for every selected namespace.")]
    public Output<IReadOnlyDictionary<string, IReadOnlyList<string>>> SecretNames { get; init; } = Output.Unknown<IReadOnlyDictionary<string, IReadOnlyList<string>>>();

    [PulumiProperty("imagePullSecrets", Description = "The Secrets as a pod spec's `imagePullSecrets` list: put it in workloads' pod templates. It depends on the static Secrets and the token Secrets' owner ConfigMaps; the token Secrets themselves exist once the refresher has run (ClusterRegistryAccess's output also waits for its run-on-deploy Job).")]
    public Output<IReadOnlyList<PullSecretReference>> ImagePullSecrets { get; init; } = Output.Unknown<IReadOnlyList<PullSecretReference>>();

    [PulumiProperty("staticSecretName", Description = "The name of the static-credentials Secret (data owned by Pulumi); absent when no registry has static credentials.")]
    public Output<string?> StaticSecretName { get; init; } = Output.Unknown<string?>();

    [PulumiProperty("anonymousRegistries", Description = "The servers of the registries given as `anonymous`: pulled without credentials, so no Secret entry was written for them.")]
    public Output<IReadOnlyList<string>> AnonymousRegistries { get; init; } = Output.Unknown<IReadOnlyList<string>>();

    [PulumiProperty("sourceSecretName", Description = "With `namespaceSelector` or `allNamespaces` and a static registry: the source Secret in `sourceNamespace` whose data the refresher copies into `staticSecretName` in every selected namespace.")]
    public Output<string?> SourceSecretName { get; init; } = Output.Unknown<string?>();

    [PulumiProperty("sourceSecretVersion", Description = "With `sourceSecretName`: the source Secret's `metadata.resourceVersion` (changes with every write of the Secret, never derived from its data). Give it to the TokenRefresher copy target's `source.version`, so a changed password starts a new run-on-deploy Job; ClusterRegistryAccess does.")]
    public Output<string?> SourceSecretVersion { get; init; } = Output.Unknown<string?>();

    [PulumiProperty("tokenSecretName", Description = "The name of the token Secret, which the refresher creates and owns (a TokenRefresher target's `secretName`, with `owner` the same name: the ConfigMap this component creates in each namespace); absent when no registry is token-based.")]
    public Output<string?> TokenSecretName { get; init; } = Output.Unknown<string?>();
}
