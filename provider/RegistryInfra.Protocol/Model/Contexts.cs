using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Model;

/// <summary>
/// The state of one binding: failures with property paths, the paths that were unknown or secret, and
/// the frames of the outputs being read (an unknown or secret value inside an <see cref="Output{T}"/>
/// makes that output unknown or secret instead of failing).
/// </summary>
public sealed class ReadContext(BindMode mode)
{
    /// <summary>Deeper nesting than this is refused: no model of the package nests so far, and the stack stays bounded.</summary>
    public const int MaximumDepth = 32;

    private readonly Stack<OutputFrame> _outputs = new();

    /// <summary>How unknowns outside outputs are treated.</summary>
    public BindMode Mode { get; } = mode;

    /// <summary>The failures, each naming a property path.</summary>
    public List<CheckFailure> Failures { get; } = [];

    /// <summary>Paths of plain (non-output) properties that were unknown.</summary>
    public HashSet<string> Unknowns { get; } = new(StringComparer.Ordinal);

    /// <summary>Paths that were secret.</summary>
    public HashSet<string> Secrets { get; } = new(StringComparer.Ordinal);

    internal int Depth { get; set; }

    /// <summary>Records that the value at <paramref name="path"/> is unknown.</summary>
    public void NoteUnknown(string path)
    {
        if (_outputs.TryPeek(out var frame))
        {
            frame.Unknown = true;
            return;
        }
        if (Mode == BindMode.AllowUnknowns)
        {
            Unknowns.Add(path);
        }
        else
        {
            Failures.Add(new CheckFailure(path, "value is unknown"));
        }
    }

    /// <summary>Records that the value at <paramref name="path"/> is secret and depends on <paramref name="resources"/>.</summary>
    public void NoteWrapper(string path, bool secret, IEnumerable<string> resources)
    {
        if (secret)
        {
            Secrets.Add(path);
        }
        if (_outputs.TryPeek(out var frame))
        {
            frame.Secret |= secret;
            frame.Resources.UnionWith(resources);
        }
    }

    /// <summary>Records a failure.</summary>
    public void Fail(string path, string reason) => Failures.Add(new CheckFailure(path, reason));

    // An output read inside another (a list item's field inside a list input) keeps its own unknownness: the
    // list is known even when an item's field is not. It inherits the enclosing output's secretness and
    // dependencies, which cover everything inside it.
    internal void PushOutput()
    {
        var frame = new OutputFrame();
        if (_outputs.TryPeek(out var outer))
        {
            frame.Secret = outer.Secret;
            frame.Resources.UnionWith(outer.Resources);
        }
        _outputs.Push(frame);
    }

    internal OutputFrame PopOutput() => _outputs.Pop();

    internal sealed class OutputFrame
    {
        public bool Unknown { get; set; }
        public bool Secret { get; set; }
        public HashSet<string> Resources { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>Reads the properties of one object for generated model code.</summary>
public sealed class ObjectReader
{
    private readonly IReadOnlyDictionary<string, PropertyValue> _properties;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <summary>A reader of <paramref name="properties"/> at <paramref name="path"/> (empty at the top).</summary>
    public ObjectReader(IReadOnlyDictionary<string, PropertyValue> properties, string path, ReadContext context)
    {
        _properties = properties ?? throw new ArgumentNullException(nameof(properties));
        Path = path;
        Context = context ?? throw new ArgumentNullException(nameof(context));
    }

    /// <summary>The object's path.</summary>
    public string Path { get; }

    /// <summary>The binding's context.</summary>
    public ReadContext Context { get; }

    /// <summary>Whether <paramref name="name"/> is present and not null.</summary>
    public bool Has(string name) => _properties.TryGetValue(name, out var value) && !value.IsNull;

    /// <summary>Reads property <paramref name="name"/>; a missing required property is a failure.</summary>
    public T Read<T>(string name, PropertyConverter<T> converter, bool required)
    {
        ArgumentNullException.ThrowIfNull(converter);
        _read.Add(name);
        var path = Path.Length == 0 ? name : $"{Path}.{name}";
        if (!_properties.TryGetValue(name, out var raw) || raw.IsNull)
        {
            if (required)
            {
                Context.Fail(path, "required property is missing");
            }
            return converter.ReadMissing();
        }
        return converter.Read(raw, path, Context);
    }

    /// <summary>Marks an absent property as read and returns <paramref name="value"/>.</summary>
    public T Skip<T>(string name, T value)
    {
        _read.Add(name);
        return value;
    }

    /// <summary>Fails every property that the model does not declare.</summary>
    public void RejectUnread()
    {
        foreach (var key in _properties.Keys)
        {
            if (!_read.Contains(key))
            {
                Context.Fail(Path.Length == 0 ? key : $"{Path}.{key}", "unknown property");
            }
        }
    }
}

/// <summary>
/// The state of one write: for each top-level property, the URNs its outputs came from (the engine's
/// property dependencies), and all of them together.
/// </summary>
public sealed class WriteContext
{
    /// <summary>The top-level property being written.</summary>
    internal string? CurrentProperty { get; set; }

    /// <summary>For each top-level property, the URNs its value depends on.</summary>
    public Dictionary<string, HashSet<string>> PropertyDependencies { get; } = new(StringComparer.Ordinal);

    /// <summary>Every URN the written value depends on.</summary>
    public HashSet<string> Dependencies { get; } = new(StringComparer.Ordinal);

    /// <summary>Records that the property being written depends on <paramref name="resources"/>.</summary>
    public void AddDependencies(IEnumerable<string> resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        foreach (var urn in resources)
        {
            Dependencies.Add(urn);
            if (CurrentProperty is not null)
            {
                if (!PropertyDependencies.TryGetValue(CurrentProperty, out var set))
                {
                    PropertyDependencies[CurrentProperty] = set = new HashSet<string>(StringComparer.Ordinal);
                }
                set.Add(urn);
            }
        }
    }

    /// <summary>The property dependencies as the monitor takes them.</summary>
    public ImmutableDictionary<string, ImmutableArray<string>> ToPropertyDependencies() =>
        PropertyDependencies.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.Order(StringComparer.Ordinal).ToImmutableArray(), StringComparer.Ordinal);
}

/// <summary>Writes the properties of one object for generated model code; null values are left out.</summary>
public sealed class ObjectWriter(WriteContext context, bool topLevel)
{
    private readonly ImmutableSortedDictionary<string, PropertyValue>.Builder _properties =
        ImmutableSortedDictionary.CreateBuilder<string, PropertyValue>(StringComparer.Ordinal);

    /// <summary>The write's context.</summary>
    public WriteContext Context { get; } = context ?? throw new ArgumentNullException(nameof(context));

    /// <summary>Writes property <paramref name="name"/>; <paramref name="secret"/> makes it a secret.</summary>
    public async ValueTask WriteAsync<T>(string name, PropertyConverter<T> converter, T value, bool secret)
    {
        ArgumentNullException.ThrowIfNull(converter);
        if (value is null)
        {
            return;
        }
        if (topLevel)
        {
            Context.CurrentProperty = name;
        }
        var written = await converter.WriteAsync(value, Context).ConfigureAwait(false);
        if (topLevel)
        {
            Context.CurrentProperty = null;
        }
        if (written.IsNull)
        {
            return;
        }
        // A secret property is one secret: the secrets inside it would only repeat it.
        _properties[name] = secret ? Reveal(written).AsSecret() : written;
    }

    /// <summary>The properties written.</summary>
    public ImmutableSortedDictionary<string, PropertyValue> ToProperties() => _properties.ToImmutable();

    private static PropertyValue Reveal(PropertyValue value) => value.Kind switch
    {
        PropertyValueKind.Secret => Reveal(value.SecretValue),
        PropertyValueKind.Array => value.ContainsSecrets() ? PropertyValue.CreateArray(value.ArrayValue.Select(Reveal)) : value,
        PropertyValueKind.Object => value.ContainsSecrets() ? PropertyValue.CreateObject(value.ObjectValue.Select(kv => KeyValuePair.Create(kv.Key, Reveal(kv.Value)))) : value,
        _ => value,
    };
}
