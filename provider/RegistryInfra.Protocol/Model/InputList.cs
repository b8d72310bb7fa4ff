using System.Collections;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace RegistryInfra.Protocol.Model;

/// <summary>
/// A list input of a component: known items, or (in preview) a list not known yet, with secretness and
/// dependencies as an <see cref="Output{T}"/> carries them. Written as a collection expression
/// (<c>["apps", "jobs"]</c>); like the Pulumi SDKs' <c>InputList&lt;T&gt;</c>.
/// </summary>
[CollectionBuilder(typeof(InputList), nameof(InputList.Create))]
public sealed class InputList<T> : IEnumerable<T>
{
    internal InputList(Output<ImmutableArray<T>> items)
    {
        Items = items;
    }

    /// <summary>The list as an output.</summary>
    public Output<ImmutableArray<T>> Items { get; }

    /// <summary>Whether the list is known; <paramref name="items"/> is then its items.</summary>
    public bool TryGetKnown(out ImmutableArray<T> items) => Items.TryGetKnown(out items);

    /// <summary>The items when known; an empty list while unknown (use <see cref="TryGetKnown"/> where that matters).</summary>
    public ImmutableArray<T> KnownOrEmpty => Items.TryGetKnown(out var items) ? items : [];

    /// <summary>Whether the list is unknown.</summary>
    public bool IsUnknown => Items.IsUnknown;

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)KnownOrEmpty).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A known list.</summary>
    public static implicit operator InputList<T>(ImmutableArray<T> items) => new(Output.Create(items));

    /// <summary>A known list.</summary>
    public static implicit operator InputList<T>(T[] items) => new(Output.Create(ImmutableArray.Create(items)));

    /// <summary>A known list.</summary>
    public static implicit operator InputList<T>(List<T> items) => new(Output.Create(items.ToImmutableArray()));

    /// <summary>A list from an output.</summary>
    public static implicit operator InputList<T>(Output<ImmutableArray<T>> items) => new(items);
}

/// <summary>Factories of <see cref="InputList{T}"/>.</summary>
public static class InputList
{
    /// <summary>A known list (the collection-expression builder).</summary>
    public static InputList<T> Create<T>(ReadOnlySpan<T> items) => new(Output.Create(ImmutableArray.Create(items)));

    /// <summary>An empty, known list.</summary>
    public static InputList<T> Empty<T>() => new(Output.Create(ImmutableArray<T>.Empty));

    /// <summary>An unknown list.</summary>
    public static InputList<T> Unknown<T>(bool secret = false) => new(Output.Unknown<ImmutableArray<T>>(secret));
}

/// <summary>
/// A map input of a component: known entries or (in preview) unknown, like the Pulumi SDKs'
/// <c>InputMap&lt;T&gt;</c>. Keys are kept in ordinal order.
/// </summary>
public sealed class InputMap<T> : IEnumerable<KeyValuePair<string, T>>
{
    internal InputMap(Output<ImmutableSortedDictionary<string, T>> entries)
    {
        Entries = entries;
    }

    /// <summary>The map as an output.</summary>
    public Output<ImmutableSortedDictionary<string, T>> Entries { get; }

    /// <summary>Whether the map is known; <paramref name="entries"/> is then its entries.</summary>
    public bool TryGetKnown(out ImmutableSortedDictionary<string, T> entries) => Entries.TryGetKnown(out entries);

    /// <summary>The entries when known; empty while unknown.</summary>
    public ImmutableSortedDictionary<string, T> KnownOrEmpty =>
        Entries.TryGetKnown(out var entries) ? entries : ImmutableSortedDictionary<string, T>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>Whether the map is unknown.</summary>
    public bool IsUnknown => Entries.IsUnknown;

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, T>> GetEnumerator() => KnownOrEmpty.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A known map.</summary>
    public static implicit operator InputMap<T>(Dictionary<string, T> entries) => InputMap.Of(entries);

    /// <summary>A known map.</summary>
    public static implicit operator InputMap<T>(ImmutableSortedDictionary<string, T> entries) => InputMap.Of(entries);

    /// <summary>A known map.</summary>
    public static implicit operator InputMap<T>(ImmutableDictionary<string, T> entries) => InputMap.Of(entries);

    /// <summary>A map from an output.</summary>
    public static implicit operator InputMap<T>(Output<ImmutableSortedDictionary<string, T>> entries) => new(entries);

}

/// <summary>Factories of <see cref="InputMap{T}"/>.</summary>
public static class InputMap
{
    /// <summary>An empty, known map.</summary>
    public static InputMap<T> Empty<T>() => new(Output.Create(ImmutableSortedDictionary<string, T>.Empty.WithComparers(StringComparer.Ordinal)));

    /// <summary>A known map of <paramref name="entries"/>.</summary>
    public static InputMap<T> Of<T>(IEnumerable<KeyValuePair<string, T>> entries) =>
        new(Output.Create(ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, entries)));

    /// <summary>An unknown map.</summary>
    public static InputMap<T> Unknown<T>(bool secret = false) => new(Output.Unknown<ImmutableSortedDictionary<string, T>>(secret));
}
