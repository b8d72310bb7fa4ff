using System.Text;
using System.Text.Json.Nodes;
using RegistryInfra.Testing.Components;

namespace RegistryInfra.Testing.Kubernetes;

/// <summary>
/// A component's Kubernetes children applied to the fake API as the engine and pulumi-kubernetes apply them in an update:
/// each child created or updated in registration order while the program runs (the engine generates a step for each
/// registration as it arrives, in dependency order), and only after the program has finished, what the previous update had
/// and this one no longer has is deleted (pulumi/pulumi pkg/resource/deploy/deployment_executor.go, commit
/// 67a83b7ec10c39e3abc3fd2eb987bf20a80f7b31: <c>performPostSteps</c> "generates and schedules deletes ... based on what resources
/// were left in state after the source program finished registering resources"). So a Role an update narrows is narrowed
/// before the run-on-deploy Job, registered after the RoleBinding it waits for, runs; a Role it removes goes after the Job.
/// Kinds the fake does not serve (CronJob, Job, Deployment, PodDisruptionBudget) are left out: the tests run the refresher themselves.
/// </summary>
public sealed class PlannedObjects(FakeKubeApi api)
{
    private HashSet<(string Resource, string Namespace, string Name)> _applied = [];

    /// <summary>The fake API resource of a child's Pulumi type, or null for a kind the fake does not serve.</summary>
    public static string? ResourceOf(string type) => type switch
    {
        "kubernetes:core/v1:Namespace" => "namespaces",
        "kubernetes:core/v1:ServiceAccount" => "serviceaccounts",
        "kubernetes:core/v1:ConfigMap" => "configmaps",
        "kubernetes:core/v1:Secret" => "secrets",
        "kubernetes:rbac.authorization.k8s.io/v1:Role" => "roles",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding" => "rolebindings",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole" => "clusterroles",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding" => "clusterrolebindings",
        _ => null,
    };

    /// <summary>The program's part of an update: every child the fake serves created or updated, in registration order.</summary>
    public void Register(ComponentPlan plan, Func<PlannedChild, bool>? which = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var now = new HashSet<(string, string, string)>();
        foreach (var child in plan.Children.Where(c => c.Custom && (which?.Invoke(c) ?? true)))
        {
            if (ResourceOf(child.Type) is not { } resource)
            {
                continue;
            }
            var value = (JsonObject)child.Inputs.DeepClone();
            var meta = value["metadata"]!.AsObject();
            var ns = resource is "namespaces" or "clusterroles" or "clusterrolebindings" ? "" : meta["namespace"]!.GetValue<string>();
            if (resource == "secrets" && value["stringData"] is JsonObject stringData)
            {
                // The API server stores stringData as data (base64).
                var data = value["data"] as JsonObject ?? new JsonObject();
                foreach (var (key, text) in stringData)
                {
                    data[key] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text!.GetValue<string>()));
                }
                value["data"] = data;
                value.Remove("stringData");
            }
            if (resource == "serviceaccounts" && api.GetServiceAccount(ns, meta["name"]!.GetValue<string>()) is { } live)
            {
                // pulumi-kubernetes' update leaves fields it does not manage: the imagePullSecrets others added stay.
                value["imagePullSecrets"] = live["imagePullSecrets"]?.DeepClone();
                meta["annotations"] = live["metadata"]?["annotations"]?.DeepClone() ?? meta["annotations"]?.DeepClone();
            }
            api.Put(resource, ns, value);
            now.Add((resource, ns, meta["name"]!.GetValue<string>()));
        }
        Pending = now;
    }

    /// <summary>The program no longer declares the component: everything applied is left out (the next <see cref="DeleteLeftOut"/> deletes it).</summary>
    public void RegisterNothing() => Pending = new HashSet<(string, string, string)>();

    /// <summary>Only the RBAC children (Roles, ClusterRoles and their bindings), for tests that apply the rest themselves.</summary>
    public static bool IsRbac(PlannedChild child) => ResourceOf(child?.Type ?? "") is "roles" or "rolebindings" or "clusterroles" or "clusterrolebindings";

    /// <summary>What <see cref="Register"/> applied in this update, not yet committed by <see cref="DeleteLeftOut"/>.</summary>
    public IReadOnlySet<(string Resource, string Namespace, string Name)> Pending { get; private set; } = new HashSet<(string, string, string)>();

    /// <summary>The engine's post-steps: what the previous update applied and this one did not is deleted (foreground, as pulumi-kubernetes deletes).</summary>
    public void DeleteLeftOut()
    {
        foreach (var key in _applied.Except(Pending).OrderBy(k => k.Resource == "namespaces" ? 1 : 0))
        {
            api.Delete(key.Resource, key.Namespace, key.Name, "Foreground");
        }
        _applied = [.. Pending];
    }

    /// <summary>The service account the plan's RoleBindings bind (the refresher's), as (namespace, name).</summary>
    public static (string Namespace, string Name) BoundAccount(ComponentPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var subject = plan.Children.First(c => ResourceOf(c.Type) is "rolebindings" or "clusterrolebindings").Inputs["subjects"]![0]!;
        return (subject["namespace"]!.GetValue<string>(), subject["name"]!.GetValue<string>());
    }
}
