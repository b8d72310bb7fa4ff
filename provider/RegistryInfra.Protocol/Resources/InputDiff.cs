using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Resources;

/// <summary>
/// The default diff: old and new inputs compared property by property (top level), secrets compared by
/// their content but never shown, unknown new values counted as changes, <see cref="ReplaceOnChangesAttribute"/>
/// properties replacing the resource.
/// </summary>
public static class InputDiff
{
    /// <summary>Diffs <paramref name="olds"/> against <paramref name="news"/> for the Args shape <paramref name="args"/>.</summary>
    public static DiffResponse Compute(
        ModelShape args, IReadOnlyDictionary<string, PropertyValue> olds, IReadOnlyDictionary<string, PropertyValue> news,
        IEnumerable<string> ignoreChanges, bool replaceEveryChange)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(olds);
        ArgumentNullException.ThrowIfNull(news);
        var fields = args.Fields.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var ignored = ignoreChanges.ToHashSet(StringComparer.Ordinal);
        var detailed = ImmutableSortedDictionary.CreateBuilder<string, PropertyDiff>(StringComparer.Ordinal);
        var replaces = ImmutableArray.CreateBuilder<string>();
        foreach (var key in olds.Keys.Union(news.Keys).Where(k => !ignored.Contains(k)).Order(StringComparer.Ordinal))
        {
            var hasOld = olds.TryGetValue(key, out var oldValue) && !oldValue.IsNull;
            var hasNew = news.TryGetValue(key, out var newValue) && !newValue.IsNull;
            PropertyDiffKind? kind = (hasOld, hasNew) switch
            {
                (false, true) => PropertyDiffKind.Add,
                (true, false) => PropertyDiffKind.Delete,
                (true, true) when newValue!.ContainsUnknowns() || !Plain(oldValue!).Equals(Plain(newValue)) => PropertyDiffKind.Update,
                _ => null,
            };
            if (kind is null)
            {
                continue;
            }
            var replace = replaceEveryChange || (fields.TryGetValue(key, out var field) && field.ReplaceOnChanges);
            if (replace)
            {
                replaces.Add(key);
                kind = kind switch
                {
                    PropertyDiffKind.Add => PropertyDiffKind.AddReplace,
                    PropertyDiffKind.Delete => PropertyDiffKind.DeleteReplace,
                    _ => PropertyDiffKind.UpdateReplace,
                };
            }
            detailed[key] = new PropertyDiff(kind.Value);
        }
        return new DiffResponse(detailed.Count > 0, replaces.ToImmutable(), [], false, detailed.ToImmutable());
    }

    /// <summary>The value with every secret and output wrapper removed, to compare content.</summary>
    private static PropertyValue Plain(PropertyValue value)
    {
        var (inner, _) = value.Unwrap();
        return inner.Kind switch
        {
            PropertyValueKind.Array => PropertyValue.CreateArray(inner.ArrayValue.Select(Plain)),
            PropertyValueKind.Object => PropertyValue.CreateObject(inner.ObjectValue.Select(e => KeyValuePair.Create(e.Key, Plain(e.Value)))),
            _ => inner,
        };
    }
}
