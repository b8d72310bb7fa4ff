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

    /// <summary>A comma-separated annotation value as a list (empty when absent).</summary>
    public static IReadOnlyList<string> List(string? value) =>
        value is null ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Throws unless <paramref name="existing"/> is this refresher's to write under <paramref name="owner"/>.</summary>
    public static void Claim(V1Secret existing, V1ObjectMeta owner, string ns, string name)
    {
        var references = existing.Metadata?.OwnerReferences ?? [];
        if (references.Any(r => IsOwner(r, owner)))
        {
            return;
        }
        var ourShape = existing.Metadata?.Annotations?.ContainsKey(SecretRefresher.RefreshedAtAnnotation) == true
            && existing.Metadata.Labels?.TryGetValue(SecretRefresher.ManagedByLabel, out var by) == true && by == SecretRefresher.ManagedByValue;
        if (references.Count == 0 && ourShape)
        {
            return;
        }
        var other = references.Count > 0
            ? string.Join(", ", references.Select(r => $"{r.Kind}/{r.Name}"))
            : existing.Metadata?.Labels?.TryGetValue(SecretRefresher.ManagedByLabel, out var manager) == true ? $"{SecretRefresher.ManagedByLabel}={manager}" : "someone else (it has no owner reference and was not written by registryinfra-refresher)";
        throw new TargetFailedException("OwnedElsewhere",
            $"secret {ns}/{name} exists and belongs to {other}, not to configmap {ns}/{owner.Name}; left untouched: give this component another secretName",
            "Secret", name);
    }

    /// <summary>Whether <paramref name="secret"/> already points at <paramref name="owner"/> (always true without an owner).</summary>
    public static bool Points(V1Secret secret, V1ObjectMeta? owner) =>
        owner is null || (secret.Metadata?.OwnerReferences ?? []).Any(r => r.Kind == OwnerKind && r.Name == owner.Name && r.Uid == owner.Uid);

    /// <summary>Sets the reference to <paramref name="owner"/>, replacing one to an earlier object of the same name; other owners' references stay.</summary>
    public static void PointAt(V1Secret secret, V1ObjectMeta owner)
    {
        var kept = (secret.Metadata.OwnerReferences ?? []).Where(r => !IsOwner(r, owner)).ToList();
        kept.Add(new V1OwnerReference { ApiVersion = "v1", Kind = OwnerKind, Name = owner.Name, Uid = owner.Uid });
        secret.Metadata.OwnerReferences = kept;
    }

    private static bool IsOwner(V1OwnerReference reference, V1ObjectMeta owner) =>
        reference.Kind == OwnerKind && reference.ApiVersion == "v1" && reference.Name == owner.Name;
}
