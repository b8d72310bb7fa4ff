namespace RegistryInfra.Provider.Components.PullSecret;

/// <summary>Inputs of <c>registryinfra:kubernetes:PullSecret</c>.</summary>
public sealed record PullSecretArgs
{
    /// <summary>The registries whose credentials go into the secrets.</summary>
    public IReadOnlyList<PullSecretRegistry> Registries { get; init; } = [];

    /// <summary>The namespaces that each get the secrets.</summary>
    public IReadOnlyList<string> Namespaces { get; init; } = [];

    /// <summary>Name of the Secret of static credentials; the token-based one is this plus <c>-tokens</c>.</summary>
    public string? SecretName { get; init; }

    internal string SecretNameOrDefault => SecretName ?? "registryinfra-pull";

    /// <summary>Extra labels on every Secret.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

/// <summary>One registry: its server and either a dockerconfigjson auth entry or a static user name and password.</summary>
public sealed record PullSecretRegistry
{
    /// <summary>The registry host as it goes into <c>.dockerconfigjson</c>.</summary>
    public string Server { get; init; } = "";

    /// <summary>The registry kind (a Core <c>RegistryKind</c> name such as <c>ecrPrivate</c>, <c>artifactRegistry</c>, <c>acr</c>, <c>generic</c>); detected from the server when absent.</summary>
    public string? Kind { get; init; }

    /// <summary>Secret: the <c>auths</c> entry as JSON (the RegistryProfile's <c>authEntry</c> output). For a token-based registry, the initial token.</summary>
    [RegistryInfra.Protocol.Resources.Secret]
    public string? AuthEntry { get; init; }

    /// <summary>A static user name (with <see cref="Password"/>).</summary>
    public string? Username { get; init; }

    /// <summary>Secret: a static password or token.</summary>
    [RegistryInfra.Protocol.Resources.Secret]
    public string? Password { get; init; }
}
