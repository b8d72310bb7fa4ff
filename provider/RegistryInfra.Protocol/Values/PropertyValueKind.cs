namespace RegistryInfra.Protocol.Values;

/// <summary>The kinds of value that travel through the Pulumi protocol.</summary>
public enum PropertyValueKind
{
    /// <summary>The null value (also: a missing optional input).</summary>
    Null,
    /// <summary>A boolean.</summary>
    Bool,
    /// <summary>A number (always a double on the wire).</summary>
    Number,
    /// <summary>A string.</summary>
    String,
    /// <summary>An ordered list of values.</summary>
    Array,
    /// <summary>A map of property names to values.</summary>
    Object,
    /// <summary>An asset, preserved as its wire fields (this provider never reads assets).</summary>
    Asset,
    /// <summary>An archive, preserved as its wire fields (this provider never reads archives).</summary>
    Archive,
    /// <summary>A value that must never be shown: it is stored encrypted and masked in diffs and logs.</summary>
    Secret,
    /// <summary>A value not known yet (during preview): the engine's "computed" value.</summary>
    Computed,
    /// <summary>A reference to another resource by URN (and ID for custom resources).</summary>
    ResourceReference,
    /// <summary>An output: a value that may be unknown, carries its secretness and the URNs it depends on.</summary>
    Output,
}
