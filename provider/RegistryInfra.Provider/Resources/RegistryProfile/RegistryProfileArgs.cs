using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Resources.RegistryProfile;

/// <summary>Inputs of <c>registryinfra:index:RegistryProfile</c>.</summary>
public sealed record RegistryProfileArgs(
    [property: PulumiProperty("server", Description = "The registry host, e.g. `ghcr.io`, `registry.example.com:5000` or `docker.io`. A scheme and a trailing slash are accepted and removed.")]
    [property: ReplaceOnChanges]
    string Server,
    [property: PulumiProperty("username", Description = "The user name to authenticate with.")]
    string? Username = null,
    [property: PulumiProperty("password", Description = "The password or token to authenticate with.")]
    [property: Secret]
    string? Password = null,
    [property: PulumiProperty("email", Description = "An e-mail address, written into the auth entry for tools that still read it.")]
    string? Email = null);
