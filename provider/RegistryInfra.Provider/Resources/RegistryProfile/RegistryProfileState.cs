using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Resources.RegistryProfile;

/// <summary>Outputs of <c>registryinfra:index:RegistryProfile</c>.</summary>
public sealed record RegistryProfileState(
    [property: PulumiProperty("server", Description = "The normalised registry key: the lowercase host (and port), or `https://index.docker.io/v1/` for Docker Hub.")]
    string Server,
    [property: PulumiProperty("username", Description = "The user name.")]
    string? Username,
    [property: PulumiProperty("password", Description = "The password or token.")]
    [property: Secret]
    string? Password,
    [property: PulumiProperty("email", Description = "The e-mail address.")]
    string? Email,
    [property: PulumiProperty("authEntry", Description = "The JSON of this registry's entry in the `auths` map of a dockerconfigjson.")]
    [property: Secret]
    string AuthEntry,
    [property: PulumiProperty("dockerConfigJson", Description = "A complete `.dockerconfigjson` document holding only this registry.")]
    [property: Secret]
    string DockerConfigJson);
