using System.Collections.Concurrent;
using RegistryInfra.Protocol.Components;

namespace RegistryInfra.Provider.Components;

/// <summary>
/// The Kubernetes objects each component of one deployment creates, by cluster (the kubernetes provider its children use),
/// kind, namespace and name, so that two components of one stack that would create the same object (a name a user forced,
/// where the defaults never meet) are refused at Construct, before anything is registered, with the other owner named.
/// pulumi-kubernetes would not refuse it: under server-side apply (its default) a create is an apply patch, an upsert
/// (pulumi/pulumi-kubernetes at 0012b9d2d0417b46995cabe1edb9f659fbb65d7f, provider/pkg/await/await.go, <c>Creation</c>: "we
/// always send a PATCH request during creates with SSA enabled ... we currently always upsert the object"), and deleting
/// either component would delete the object under the other. Across stacks, the owner ConfigMap's
/// <c>registryinfra.io/owner</c> annotation (the owning component's URN) differs, so the second stack's unforced apply
/// conflicts with the first stack's field manager and fails.
/// </summary>
internal static class ObjectClaims
{
    private static readonly ConcurrentDictionary<(string Deployment, string Cluster, string Kind, string Namespace, string Name), string> Owners = new();

    /// <summary>Claims the object for <paramref name="scope"/>'s component; throws naming <paramref name="field"/> when another component of the deployment has it.</summary>
    public static void Claim(ComponentScope scope, string kind, string ns, string objectName, string field)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (scope.Deployment.Length == 0)
        {
            // A component built outside a deployment (builder tests, schema generation): nothing to share a cluster with.
            return;
        }
        var owner = Owners.GetOrAdd((scope.Deployment, scope.ProviderFor("kubernetes"), kind, ns, objectName), scope.Urn);
        if (owner != scope.Urn)
        {
            throw new ComponentInputException(field,
                $"{kind} {(ns.Length > 0 ? ns + "/" : "")}{objectName} is also created by {owner} in this stack, on the same cluster; each would delete it under the other: give one of them another {field} (or leave it unset: the default names differ per component)");
        }
    }
}
