using System.Collections.Immutable;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>
/// The refresher's least-privilege RBAC: a Role per listed namespace limited to the secrets and service
/// accounts it manages there, and for targets that select namespaces (by label or all) a ClusterRole with
/// the same names plus listing namespaces, which are not known when deploying.
/// </summary>
public static class RefresherRbac
{
    public const string RoleType = "kubernetes:rbac.authorization.k8s.io/v1:Role";
    public const string RoleBindingType = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
    public const string ClusterRoleType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
    public const string ClusterRoleBindingType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";

    /// <summary>What a target grants, once its values are known.</summary>
    private sealed record Grant(string SecretName, bool AttachOnly, ImmutableArray<string> ServiceAccounts, string? Owner);

    /// <summary>Declares the RBAC children; returns the bindings, which the CronJob and Job wait for.</summary>
    public static IReadOnlyList<IChild> Declare(ComponentScope scope, string name, InputList<RefresherTarget> targetsInput, Output<string> ns, Output<string> sa,
        Output<IReadOnlyDictionary<string, string>> labels, IChild account)
    {
        var bindings = new List<IChild>();
        if (!scope.Known(targetsInput, "targets", "the refresher's Roles and ClusterRole", out var targets))
        {
            return bindings;
        }
        var roleName = Output.Tuple(ns, sa).Apply(v => $"{v.Item1}-{v.Item2}");
        var subject = Output.Tuple(ns, sa);
        // Which namespaces a target lists decides which Roles exist, so those lists must be known.
        var listed = new List<(string Namespace, RefresherTarget Target)>();
        var wide = new List<RefresherTarget>();
        for (var i = 0; i < targets.Length; i++)
        {
            var target = targets[i];
            if (!scope.Known(target.Namespaces ?? [], $"targets[{i}].namespaces", $"the Roles of targets[{i}]", out var namespaces)
                || !scope.Known(target.NamespaceSelector, $"targets[{i}].namespaceSelector", $"the Roles of targets[{i}]", out var selector)
                || !scope.Known(target.AllNamespaces, $"targets[{i}].allNamespaces", $"the Roles of targets[{i}]", out var all))
            {
                continue;
            }
            listed.AddRange(namespaces.Select(n => (n, target)));
            if (namespaces.Length == 0 && (!string.IsNullOrWhiteSpace(selector) || all == true))
            {
                wide.Add(target);
            }
        }

        foreach (var group in listed.GroupBy(x => x.Namespace, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var rules = Grants(group.Select(x => x.Target)).Apply(g => (IReadOnlyList<PolicyRuleInputs>)Rules(g));
            var role = scope.Resource(RoleType, $"{name}-role-{group.Key}", new RoleInputs
            {
                Metadata = new ObjectMetaInputs { Name = roleName, Namespace = group.Key, Labels = labels },
                Rules = rules,
            });
            bindings.Add(scope.Resource(RoleBindingType, $"{name}-role-binding-{group.Key}", Binding("RoleBinding", "Role", roleName, group.Key, labels, subject),
                ChildOptions.After(role, account)));
        }
        // The ledger of attached names, in the refresher's own namespace: created once, then read and updated by name;
        // the configuration ConfigMap is read for the uid the ledger's ownerReference names.
        var ledgerRole = scope.Resource(RoleType, $"{name}-ledger-role", new RoleInputs
        {
            Metadata = new ObjectMetaInputs { Name = roleName.Apply(r => r + "-ledger"), Namespace = ns, Labels = labels },
            Rules = sa.Apply(s => (IReadOnlyList<PolicyRuleInputs>)
            [
                new PolicyRuleInputs { ApiGroups = [""], Resources = ["configmaps"], ResourceNames = [TokenRefresherComponent.LedgerName(s)], Verbs = ["get", "update"] },
                new PolicyRuleInputs { ApiGroups = [""], Resources = ["configmaps"], ResourceNames = [s + "-config"], Verbs = ["get"] },
                new PolicyRuleInputs { ApiGroups = [""], Resources = ["configmaps"], Verbs = ["create"] },
            ]),
        }, ChildOptions.After(account));
        bindings.Add(scope.Resource(RoleBindingType, $"{name}-ledger-role-binding", new RoleBindingInputs
        {
            Kind = "RoleBinding",
            Metadata = new ObjectMetaInputs { Name = roleName.Apply(r => r + "-ledger"), Namespace = ns, Labels = labels },
            RoleRef = roleName.Apply(r => new RoleRefInputs { Kind = "Role", Name = r + "-ledger" }),
            Subjects = subject.Apply(s => (IReadOnlyList<SubjectInputs>)[new SubjectInputs { Name = s.Item2, Namespace = s.Item1 }]),
        }, ChildOptions.After(ledgerRole, account)));
        if (wide.Count > 0)
        {
            // Namespaces found by selector are not known when deploying, so these grants are cluster-wide,
            // still limited to the named secrets and service accounts.
            var rules = Grants(wide).Apply(g => (IReadOnlyList<PolicyRuleInputs>)
                [new PolicyRuleInputs { ApiGroups = [""], Resources = ["namespaces"], Verbs = ["get", "list"] }, .. Rules(g)]);
            var clusterRole = scope.Resource(ClusterRoleType, $"{name}-cluster-role", new RoleInputs
            {
                Kind = "ClusterRole",
                Metadata = new ObjectMetaInputs { Name = roleName, Labels = labels },
                Rules = rules,
            });
            bindings.Add(scope.Resource(ClusterRoleBindingType, $"{name}-cluster-role-binding", Binding("ClusterRoleBinding", "ClusterRole", roleName, null, labels, subject),
                ChildOptions.After(clusterRole, account)));
        }
        return bindings;
    }

    private static RoleBindingInputs Binding(string kind, string roleKind, Output<string> roleName, string? @namespace,
        Output<IReadOnlyDictionary<string, string>> labels, Output<(string Namespace, string Name)> subject) => new()
        {
            Kind = kind,
            Metadata = new ObjectMetaInputs { Name = roleName, Namespace = @namespace is null ? null : Output.Create(@namespace), Labels = labels },
            RoleRef = roleName.Apply(r => new RoleRefInputs { Kind = roleKind, Name = r }),
            Subjects = subject.Apply(s => (IReadOnlyList<SubjectInputs>)[new SubjectInputs { Name = s.Name, Namespace = s.Namespace }]),
        };

    private static Output<ImmutableArray<Grant>> Grants(IEnumerable<RefresherTarget> targets) =>
        Output.All(targets.Select(t => Output.Tuple(t.SecretName, t.AttachOnly, (t.ServiceAccounts ?? []).Items, t.Owner)
            .Apply(v => new Grant(v.Item1, v.Item2 ?? false, v.Item3, string.IsNullOrEmpty(v.Item4) ? null : v.Item4))));

    /// <summary>The rules for the secrets the refresher writes (token targets), those it only attaches, and the service accounts.</summary>
    private static List<PolicyRuleInputs> Rules(ImmutableArray<Grant> grants)
    {
        List<string> Names(bool attachOnly) => grants.Where(g => g.AttachOnly == attachOnly).Select(g => g.SecretName)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var secrets = Names(false);
        var attached = Names(true);
        var accounts = grants.SelectMany(g => g.ServiceAccounts).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var rules = new List<PolicyRuleInputs>();
        var owners = grants.Where(g => !g.AttachOnly && g.Owner is not null).Select(g => g.Owner!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (secrets.Count > 0)
        {
            // delete is never called: the OwnerReferencesPermissionEnforcement admission plugin lets only a user who
            // may delete an object set its ownerReferences (kubernetes.io/docs/reference/access-authn-authz/admission-controllers/).
            rules.Add(new() { ApiGroups = [""], Resources = ["secrets"], ResourceNames = secrets, Verbs = owners.Count > 0 ? ["get", "update", "patch", "delete"] : ["get", "update", "patch"] });
            // create is decided before the object exists, so RBAC cannot limit it by name.
            rules.Add(new() { ApiGroups = [""], Resources = ["secrets"], Verbs = ["create"] });
        }
        if (owners.Count > 0)
        {
            // The owner ConfigMap is only looked at (its metadata: the uid the ownerReference names).
            rules.Add(new() { ApiGroups = [""], Resources = ["configmaps"], ResourceNames = owners, Verbs = ["get"] });
        }
        if (attached.Count > 0)
        {
            // An attach-only secret is only looked at (its metadata): whether it exists in the namespace.
            rules.Add(new() { ApiGroups = [""], Resources = ["secrets"], ResourceNames = attached, Verbs = ["get"] });
        }
        rules.Add(new() { ApiGroups = ["", "events.k8s.io"], Resources = ["events"], Verbs = ["create", "patch"] });
        if (accounts.Count > 0)
        {
            rules.Add(new() { ApiGroups = [""], Resources = ["serviceaccounts"], ResourceNames = accounts, Verbs = ["get", "patch"] });
        }
        return rules;
    }
}
