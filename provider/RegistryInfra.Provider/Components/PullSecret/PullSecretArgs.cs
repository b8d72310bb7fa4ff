using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Components.PullSecret;

/// <summary>Inputs of <c>registryinfra:kubernetes:PullSecret</c>.</summary>
public sealed record PullSecretArgs
{
    /// <summary>The registries whose credentials go into the secrets.</summary>
    [PulumiProperty("registries", Description = "The registries whose credentials go into the secrets: static ones (an `authEntry`, or `username` and `password`) into `secretName`, token-based ones (ECR, Artifact Registry/GCR, ACR without static credentials) into `secretName`-tokens.")]
    public IReadOnlyList<PullSecretRegistry> Registries { get; init; } = [];

    /// <summary>The namespaces that each get the secrets.</summary>
    [PulumiProperty("namespaces", Description = "The namespaces that each get the secrets.")]
    public IReadOnlyList<string> Namespaces { get; init; } = [];

    /// <summary>Name of the Secret of static credentials; the token-based one is this plus <c>-tokens</c>.</summary>
    [PulumiProperty("secretName", Description = "The name of the static-credentials Secret (its data owned by Pulumi); the token Secret, whose data the refresher owns, is this plus `-tokens`. Default `registryinfra-pull`.")]
    public string? SecretName { get; init; }

    internal string SecretNameOrDefault => SecretName ?? "registryinfra-pull";

    /// <summary>Extra labels on every Secret.</summary>
    [PulumiProperty("labels", Description = "Extra labels on every Secret, besides the `app.kubernetes.io/*` labels the component sets.")]
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

/// <summary>One registry: its server and either a dockerconfigjson auth entry or a static user name and password.</summary>
[PulumiType("registryinfra:index:PullSecretRegistry", Description = "One registry of a pull secret: its server and either a dockerconfigjson `authEntry` or a static `username` and `password`; a token-based registry may give neither (the refresher fills it in).")]
public sealed record PullSecretRegistry
{
    /// <summary>The registry host as it goes into <c>.dockerconfigjson</c>.</summary>
    [PulumiProperty("server", Description = "The registry host as it goes into `.dockerconfigjson` (RegistryProfile's `server` output). Listed once.")]
    public string Server { get; init; } = "";

    /// <summary>The registry kind (a Core <c>RegistryKind</c> name such as <c>ecrPrivate</c>, <c>artifactRegistry</c>, <c>acr</c>, <c>generic</c>); detected from the server when absent.</summary>
    [PulumiProperty("kind", Description = "The registry kind (such as `ecr`, `artifactRegistry`, `gcr`, `acr`, `generic`); detected from the server when absent. It decides whether the registry is token-based.")]
    public string? Kind { get; init; }

    /// <summary>Secret: the <c>auths</c> entry as JSON (the RegistryProfile's <c>authEntry</c> output). For a token-based registry, the initial token.</summary>
    [Secret]
    [PulumiProperty("authEntry", Description = "Secret: the registry's `auths` entry as JSON (RegistryProfile's `authEntry` output). For a token-based registry, the first token, used until the refresher's first run.")]
    public string? AuthEntry { get; init; }

    /// <summary>A static user name (with <see cref="Password"/>).</summary>
    [PulumiProperty("username", Description = "Static credentials: the user name (with `password`).")]
    public string? Username { get; init; }

    /// <summary>Secret: a static password or token.</summary>
    [Secret]
    [PulumiProperty("password", Description = "Secret. Static credentials: the password or token (with `username`).")]
    public string? Password { get; init; }
}
