using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Resources;

/// <summary>What to do with unknown (computed) inputs while binding.</summary>
public enum BindMode
{
    /// <summary>An unknown value is a failure (Create and Update outside preview).</summary>
    Strict,
    /// <summary>An unknown value binds to the type's default and is reported in <see cref="BindResult{T}.UnknownPaths"/> (preview); inside an <see cref="Output{T}"/> it makes that output unknown.</summary>
    AllowUnknowns,
}

/// <summary>
/// The result of binding: the value (null when there are failures), the failures naming property paths,
/// the paths that were unknown (outside outputs), and the paths that were secret.
/// </summary>
public sealed record BindResult<T>(T? Value, IReadOnlyList<CheckFailure> Failures, ImmutableHashSet<string> UnknownPaths, ImmutableHashSet<string> SecretPaths)
{
    /// <summary>Whether binding succeeded.</summary>
    public bool Succeeded => Failures.Count == 0;
}

/// <summary>
/// Binds property maps to model records and back through their generated <see cref="IPulumiModel{TSelf}"/>
/// code: no reflection, so what NativeAOT compiles is exactly what runs.
/// </summary>
public static class PropertyBinder
{
    /// <summary>Binds <paramref name="properties"/> to a <typeparamref name="T"/>.</summary>
    public static BindResult<T> Bind<T>(IReadOnlyDictionary<string, PropertyValue> properties, BindMode mode) where T : class, IPulumiModel<T>
    {
        ArgumentNullException.ThrowIfNull(properties);
        var context = new ReadContext(mode);
        var reader = new ObjectReader(properties, "", context);
        var value = T.Read(reader);
        reader.RejectUnread();
        return new BindResult<T>(context.Failures.Count == 0 ? value : null, context.Failures, [.. context.Unknowns], [.. context.Secrets]);
    }

    /// <summary>
    /// The property map of <paramref name="value"/>, with the property dependencies of its outputs in
    /// <paramref name="context"/>; properties marked <see cref="SecretAttribute"/> and secret outputs become
    /// secrets, unknown outputs computed values; null properties are left out.
    /// </summary>
    public static async ValueTask<ImmutableSortedDictionary<string, PropertyValue>> UnbindAsync<T>(T value, WriteContext context) where T : class, IPulumiModel<T>
    {
        ArgumentNullException.ThrowIfNull(value);
        var writer = new ObjectWriter(context, topLevel: true);
        await T.WriteAsync(value, writer).ConfigureAwait(false);
        return writer.ToProperties();
    }

    /// <summary>The property map of a model that holds no pending output (resource Args and State).</summary>
    public static ImmutableSortedDictionary<string, PropertyValue> Unbind<T>(T value) where T : class, IPulumiModel<T>
    {
        var pending = UnbindAsync(value, new WriteContext());
        return pending.IsCompletedSuccessfully
            ? pending.Result
            : throw new InvalidOperationException($"{typeof(T).Name} holds an output that is not resolved; use UnbindAsync");
    }
}
