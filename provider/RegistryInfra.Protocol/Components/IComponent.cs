using System.Collections.Immutable;
using RegistryInfra.Protocol.Model;

namespace RegistryInfra.Protocol.Components;

/// <summary>
/// A component: typed Args in, children registered through <see cref="ComponentScope"/>, typed Outputs back.
/// <see cref="Construct"/> runs once per Construct call (and once per nesting); it declares children and
/// returns at once, while the scope registers each child as soon as its parent and dependencies have URNs.
/// </summary>
public interface IComponent<TArgs, TOutputs> where TArgs : class, IPulumiModel<TArgs> where TOutputs : class, IPulumiModel<TOutputs>
{
    /// <summary>The component's type token.</summary>
    string Type { get; }

    /// <summary>Declares the children of the component <paramref name="name"/> and returns its outputs.</summary>
    TOutputs Construct(ComponentScope scope, string name, TArgs args);
}

/// <summary>A resource a scope has registered or will register: its type, name and URN.</summary>
public interface IChild
{
    /// <summary>The type token.</summary>
    string Type { get; }

    /// <summary>The logical name.</summary>
    string Name { get; }

    /// <summary>The URN, once the engine has answered the registration.</summary>
    Output<string> Urn { get; }

    /// <summary>
    /// The URNs a resource that depends on this one waits for: its own, and for a component those of all its
    /// descendants (as the Pulumi SDKs expand a dependency on a component: the Node.js SDK's
    /// <c>getAllTransitivelyReferencedResourceURNs</c> walks a component's <c>__childResources</c> after awaiting its
    /// construction, pulumi/pulumi <c>sdk/nodejs/runtime/dependsOn.ts</c> at 95e3d8fe; Go and Python since
    /// pulumi/pulumi#7732).
    /// </summary>
    Task<ImmutableArray<string>> DependencyUrnsAsync();
}

/// <summary>A child that holds children of its own: a nested component.</summary>
public interface IChildScope : IChild
{
    /// <summary>Its children, in the order they were declared.</summary>
    IEnumerable<IChild> Children { get; }
}

/// <summary>How a child is registered, besides its inputs.</summary>
public sealed record ChildOptions
{
    /// <summary>Children (of this or an enclosing scope) this one waits for.</summary>
    public ImmutableArray<IChild> DependsOn { get; init; } = [];

    /// <summary>Input paths whose changes the engine ignores on diff.</summary>
    public ImmutableArray<string> IgnoreChanges { get; init; } = [];

    /// <summary>Outputs the engine keeps secret whatever the provider returns.</summary>
    public ImmutableArray<string> AdditionalSecretOutputs { get; init; } = [];

    /// <summary>Input paths whose change forces a replacement.</summary>
    public ImmutableArray<string> ReplaceOnChanges { get; init; } = [];

    /// <summary>Delete the old resource before creating its replacement.</summary>
    public bool DeleteBeforeReplace { get; init; }

    /// <summary>Options that wait for <paramref name="children"/>.</summary>
    public static ChildOptions After(params IChild?[] children) => new() { DependsOn = [.. children.OfType<IChild>()] };
}
