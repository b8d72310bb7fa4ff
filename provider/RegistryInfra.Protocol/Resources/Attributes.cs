namespace RegistryInfra.Protocol.Resources;

/// <summary>The Pulumi name (camelCase) and description of an Args/State property.</summary>
/// <remarks>On a record's positional parameter write <c>[property: PulumiProperty("name")]</c> or put it on the parameter.</remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class PulumiPropertyAttribute(string name) : Attribute
{
    /// <summary>The property name on the wire and in the schema.</summary>
    public string Name { get; } = name;

    /// <summary>The description shown in SDK docs.</summary>
    public string? Description { get; init; }

    /// <summary>The default the schema states (a string, bool or number): what the code uses when the input is absent.</summary>
    public object? Default { get; init; }
}

/// <summary>
/// A record the protocol binds (Args, State, Outputs, a component's child inputs) without a type token of
/// its own. It must be <c>partial</c>: its binding is source-generated.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class PulumiModelAttribute : Attribute
{
    /// <summary>The description, for the schema.</summary>
    public string? Description { get; init; }
}

/// <summary>The property is always stored and sent as a secret.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class SecretAttribute : Attribute;

/// <summary>A change of this input replaces the resource instead of updating it.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class ReplaceOnChangesAttribute : Attribute;

/// <summary>The token and description of an object or enum type; the type must be <c>partial</c> (a record) for its generated binding.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Enum)]
public sealed class PulumiTypeAttribute(string token) : Attribute
{
    /// <summary>The type token, for example <c>registryinfra:index:Platform</c>.</summary>
    public string Token { get; } = token;

    /// <summary>The description shown in SDK docs.</summary>
    public string? Description { get; init; }
}

/// <summary>The wire value of an enum member (and its description).</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class EnumValueAttribute(string value) : Attribute
{
    /// <summary>The string sent on the wire.</summary>
    public string Value { get; } = value;

    /// <summary>The description shown in SDK docs.</summary>
    public string? Description { get; init; }
}
