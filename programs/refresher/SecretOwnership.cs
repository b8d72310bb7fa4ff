using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher;

/// <summary>
/// Which token secret is this refresher's to write: one that carries an <c>ownerReference</c> to the target's owner
/// ConfigMap (the PullSecret component's per-namespace object, which Pulumi creates and deletes), or one an earlier
/// refresher wrote before owners existed (no owner at all, the refresher's own annotations), which it adopts. Anything
/// else is someone else's secret of the same name and is refused with that owner named.
/// </summary>
/// <remarks>
/// Kubernetes semantics relied on (kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/ and
/// /docs/concepts/architecture/garbage-collection/): a namespaced dependent's owner must be in its namespace and is
/// named by uid; when the owner is deleted (background or foreground propagation, pulumi-kubernetes uses foreground by
/// default) the garbage collector deletes the dependents; a dependent whose owner uid does not exist is deleted too.
/// <c>blockOwnerDeletion</c> is left unset: setting it needs update on the owner's finalizers (the
/// OwnerReferencesPermissionEnforcement admission plugin), and nothing needs the owner's deletion to wait.
/// </remarks>
internal static class SecretOwnership
{
    public const string OwnerKind = "ConfigMap";

    /// <summary>Whether <paramref name="secret"/> has the shape this refresher gives the secrets it creates (its managed-by label).</summary>
    public static bool IsOurShape(V1Secret secret) =>
        secret.Metadata?.Labels?.TryGetValue(SecretRefresher.ManagedByLabel, out var by) == true && by == SecretRefresher.ManagedByValue;

    /// <summary>A comma-separated annotation value as a list (empty when absent).</summary>
    public static IReadOnlyList<string> List(string? value) =>
        value is null ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Throws unless <paramref name="existing"/> is this refresher's to write under <paramref name="owner"/>.</summary>
    public static void Claim(V1Secret existing, V1ObjectMeta owner, string ns, string name) => Claim(existing, SecretOwner.ConfigMap(owner), ns, name);

    /// <summary>Throws unless <paramref name="existing"/> carries a reference to <paramref name="owner"/>, or has no owner and this refresher's shape.</summary>
    public static void Claim(V1Secret existing, SecretOwner owner, string ns, string name)
    {
        var references = existing.Metadata?.OwnerReferences ?? [];
        if (references.Any(r => IsOwner(r, owner)))
        {
            return;
        }
        var ourShape = existing.Metadata?.Annotations?.ContainsKey(SecretRefresher.RefreshedAtAnnotation) == true && IsOurShape(existing);
        if (references.Count == 0 && ourShape)
        {
            return;
        }
        var other = references.Count > 0
            ? string.Join(", ", references.Select(r => $"{r.Kind}/{r.Name}"))
            : existing.Metadata?.Labels?.TryGetValue(SecretRefresher.ManagedByLabel, out var manager) == true ? $"{SecretRefresher.ManagedByLabel}={manager}" : "someone else (it has no owner reference and was not written by registryinfra-refresher)";
        throw new TargetFailedException("OwnedElsewhere",
            $"secret {ns}/{name} exists and belongs to {other}, not to {owner.Describe(ns)}; left untouched: give this component another secretName",
            "Secret", name);
    }

    /// <summary>Whether <paramref name="secret"/> already points at <paramref name="owner"/> (always true without an owner).</summary>
    public static bool Points(V1Secret secret, SecretOwner? owner) => owner is null || Points(secret.Metadata, owner);

    /// <summary>Whether <paramref name="metadata"/> holds a reference to <paramref name="owner"/>, uid included.</summary>
    public static bool Points(V1ObjectMeta? metadata, SecretOwner owner) =>
        (metadata?.OwnerReferences ?? []).Any(r => IsOwner(r, owner) && r.Uid == owner.Uid);

    /// <summary>Sets the reference to <paramref name="owner"/>, replacing one to an earlier object of the same name; other owners' references stay.</summary>
    public static void PointAt(V1Secret secret, SecretOwner owner)
    {
        var kept = (secret.Metadata.OwnerReferences ?? []).Where(r => !IsOwner(r, owner)).ToList();
        kept.Add(new V1OwnerReference { ApiVersion = owner.ApiVersion, Kind = owner.Kind, Name = owner.Name, Uid = owner.Uid });
        secret.Metadata.OwnerReferences = kept;
    }

    private static bool IsOwner(V1OwnerReference reference, SecretOwner owner) =>
        reference.Kind == owner.Kind && reference.ApiVersion == owner.ApiVersion && reference.Name == owner.Name;
}

/// <summary>
/// The object a secret's ownerReference points at: the per-namespace owner ConfigMap, or a ClusterRole (a namespaced
/// dependent may have a cluster-scoped owner, kubernetes.io/docs/concepts/architecture/garbage-collection/#owners-dependents;
/// the reverse is not allowed), so that deleting it lets garbage collection delete the copies in every namespace.
/// </summary>
internal sealed record SecretOwner(string ApiVersion, string Kind, string Name, string? Uid)
{
    public const string ClusterRoleApiVersion = "rbac.authorization.k8s.io/v1";

    public static SecretOwner ConfigMap(V1ObjectMeta owner) => new("v1", SecretOwnership.OwnerKind, owner.Name ?? "", owner.Uid);

    public static SecretOwner ClusterRole(V1ObjectMeta owner) => new(ClusterRoleApiVersion, "ClusterRole", owner.Name ?? "", owner.Uid);

    public string Describe(string ns) => Kind == SecretOwnership.OwnerKind ? $"configmap {ns}/{Name}" : $"{Kind.ToLowerInvariant()} {Name}";
}
