using System.Collections.Immutable;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;

namespace RegistryInfra.Provider.Components;

/// <summary>
/// Preview of components: a value that decides whether children exist, or what they are called, must be
/// known; when it is not (preview), the children it decides are left out, and the scope says which and why.
/// Every other unknown value stays inside the children's inputs as an unknown.
/// </summary>
internal static class ComponentPreview
{
    public static bool Known<T>(this ComponentScope scope, Output<T> value, string field, string children, out T known)
    {
        if (value.TryGetKnown(out known))
        {
            return true;
        }
        scope.LeaveOut(children, field);
        return false;
    }

    public static bool Known<T>(this ComponentScope scope, InputList<T> value, string field, string children, out ImmutableArray<T> known)
    {
        if (value.TryGetKnown(out known))
        {
            return true;
        }
        scope.LeaveOut(children, field);
        return false;
    }

    /// <summary>The value when known, else null: for checks that only a known value can fail.</summary>
    public static T? KnownOrNull<T>(this Output<T> value) where T : class => value.TryGetKnown(out var known) ? known : null;

    /// <summary>The value, depending also on every child listed (dependants then wait for them).</summary>
    public static Output<T> DependingOn<T>(this Output<T> value, IEnumerable<IChild> children) =>
        children.Aggregate(value, (current, child) => current.DependingOn(child.Urn));
}
