using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Resources;

/// <summary>One key of the provider's configuration as the schema declares it (under <c>config.variables</c> and the provider's inputs).</summary>
/// <param name="Name">The key, such as <c>registryDeadlineSeconds</c> (set as <c>PACKAGE:NAME</c> in stack configuration).</param>
/// <param name="SchemaType">The schema type: <c>string</c>, <c>integer</c>, <c>number</c> or <c>boolean</c>.</param>
/// <param name="Description">What it does and its default, for the schema and the SDKs.</param>
/// <param name="Default">The default written into the schema, or null.</param>
public sealed record ConfigVariable(string Name, string SchemaType, string Description, object? Default = null);

/// <summary>
/// The provider's own configuration: its keys, their validation at CheckConfig (every failure names its key) and
/// what Configure does with them. Keys not declared here are refused by <see cref="Provider.CheckConfigAsync"/>.
/// </summary>
public interface IProviderConfiguration
{
    /// <summary>The keys, in schema order.</summary>
    IReadOnlyList<ConfigVariable> Variables { get; }

    /// <summary>Failures of the configured values (unknown keys are refused before this is asked).</summary>
    IReadOnlyList<CheckFailure> Check(IReadOnlyDictionary<string, PropertyValue> inputs);

    /// <summary>Applies checked values; a key that is absent takes its default.</summary>
    void Configure(IReadOnlyDictionary<string, PropertyValue> inputs);
}
