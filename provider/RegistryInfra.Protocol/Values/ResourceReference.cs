namespace RegistryInfra.Protocol.Values;

/// <summary>
/// A reference to a resource. <see cref="Id"/> is null for a component (no ID); an empty string is the
/// engine's way of saying the ID of a custom resource is not known yet.
/// </summary>
/// <param name="Urn">The resource's URN.</param>
/// <param name="Id">The resource's ID for custom resources; null for components.</param>
/// <param name="PackageVersion">The version of the package that defines the resource, if given.</param>
/// <param name="Name">The resource's name, when the sender included it.</param>
/// <param name="Type">The resource's type token, when the sender included it.</param>
public sealed record ResourceReference(
    string Urn,
    string? Id = null,
    string? PackageVersion = null,
    string? Name = null,
    string? Type = null);
