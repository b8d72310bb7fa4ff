using System.Collections.Immutable;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>
/// The refresher's least-privilege RBAC: a Role per listed namespace limited to the secrets and service accounts it
/// manages there; for targets that select namespaces (by label or all) a ClusterRole, since those namespaces are not
/// known when deploying; in its own namespace a Role on its ledger, configuration and copy sources, and in watch mode
/// one on its leader-election Lease and a ClusterRole of its own for the watches across the cluster.
/// </summary>
public static class RefresherRbac
{
    public const string RoleType = "kubernetes:rbac.authorization.k8s.io/v1:Role";
    public const string RoleBindingType = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
    public const string ClusterRoleType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
    public const string ClusterRoleBindingType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";

    /// <summary>
    /// At most this many listed namespaces are watched one by one in watch mode; past it (or with any target that selects
    /// namespaces) the refresher lists and watches service accounts cluster-wide. The refresher's WatchLoop.PerNamespaceWatchLimit,
    /// which a test holds equal.
    /// </summary>
    public const int PerNamespaceWatchLimit = 20;

    /// <summary>The name of the refresher's Roles and ClusterRole: its namespace and service account, unique in the cluster.</summary>
    public static string ClusterRoleName(string ns, string serviceAccount) => $"{ns}-{serviceAccount}";

    /// <summary>The suffix of watch mode's ClusterRole (and its binding) after <see cref="ClusterRoleName"/>.</summary>
    public const string WatchSuffix = "-watch";

    /// <summary>Declares the RBAC children; returns the bindings, which the CronJob, Job and Deployment wait for.</summary>
    public static IReadOnlyList<IChild> Declare(ComponentScope scope, string name, InputList<RefresherTarget> targetsInput, Output<string> ns, Output<string> sa,
        Output<IReadOnlyDictionary<string, string>> labels, IChild account, Output<string> mode)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(targetsInput);
        var bindings = new List<IChild>();
        var roleName = Output.Tuple(ns, sa).Apply(v => ClusterRoleName(v.Item1, v.Item2));
        var subject = Output.Tuple(ns, sa);
        var known = scope.Known(targetsInput, "targets", "the refresher's Roles and ClusterRole", out var targets);
        var configured = known ? targets.Select((t, i) => TokenRefresherComponent.TargetOf(t, i).Apply(c => c.Config)).ToImmutableArray() : [];
        if (known)
        {
            // Which namespaces a target lists decides which Roles exist, so those lists must be known.
            var listed = new List<(string Namespace, int Target)>();
            var wide = new List<int>();
            for (var i = 0; i < targets.Length; i++)
            {
                var target = targets[i];
                if (!scope.Known(target.Namespaces ?? [], $"targets[{i}].namespaces", $"the Roles of targets[{i}]", out var namespaces))
                {
                    continue;
                }
                listed.AddRange(namespaces.Select(n => (n, i)));
                // No namespace listed: a selector or all namespaces is the only valid reading, so one still unknown (preview)
                // counts as given; the update refuses the target if it is not.
                var selectorKnown = target.NamespaceSelector.TryGetKnown(out var selector);
                var labelsKnown = target.NamespaceLabelSelector.TryGetKnown(out var labelSelector);
                var allKnown = target.AllNamespaces.TryGetKnown(out var all);
                if (namespaces.Length == 0 && (!string.IsNullOrWhiteSpace(selector) || labelSelector is not null || all == true || !selectorKnown || !labelsKnown || !allKnown))
                {
                    wide.Add(i);
                }
            }

            // Watch mode lists and watches service accounts per listed namespace when every target lists its namespaces and there
            // are at most PerNamespaceWatchLimit of them (WatchLoop.ServiceAccountScopes), otherwise across the cluster; and it
            // always lists and watches namespaces across the cluster (the namespace reflector), which only a ClusterRole grants.
            var watch = mode.Apply(m => m == TokenRefresherComponent.WatchMode);
            // A mode still unknown (preview) registers no watch ClusterRole, as it registers neither the CronJob nor the Deployment.
            var mayWatch = mode.TryGetKnown(out var knownMode) && knownMode == TokenRefresherComponent.WatchMode;
            var listedCount = listed.Select(x => x.Namespace).Distinct(StringComparer.Ordinal).Count();
            var perNamespaceWatch = wide.Count == 0 && listedCount <= PerNamespaceWatchLimit;
            foreach (var group in listed.GroupBy(x => x.Namespace, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var rules = Output.Tuple(Output.All(group.Select(x => configured[x.Target])), watch).Apply(v => (IReadOnlyList<PolicyRuleInputs>)Rules(v.Item1, v.Item2 && perNamespaceWatch));
                var role = scope.Resource(RoleType, $"{name}-role-{group.Key}", new RoleInputs
                {
                    Metadata = new ObjectMetaInputs { Name = roleName, Namespace = group.Key, Labels = labels },
                    Rules = rules,
                });
                bindings.Add(scope.Resource(RoleBindingType, $"{name}-role-binding-{group.Key}", Binding("RoleBinding", "Role", roleName, group.Key, labels, subject),
                    ChildOptions.After(role, account)));
            }
            if (wide.Count > 0)
            {
                var rules = Output.Tuple(Output.All(wide.Select(i => configured[i])), roleName)
                    .Apply(v => (IReadOnlyList<PolicyRuleInputs>)ClusterRules(v.Item1, v.Item2));
                var clusterRole = scope.Resource(ClusterRoleType, $"{name}-cluster-role", new RoleInputs
                {
                    Kind = "ClusterRole",
                    Metadata = new ObjectMetaInputs { Name = roleName, Labels = labels },
                    Rules = rules,
                });
                bindings.Add(scope.Resource(ClusterRoleBindingType, $"{name}-cluster-role-binding", Binding("ClusterRoleBinding", "ClusterRole", roleName, null, labels, subject),
                    ChildOptions.After(clusterRole, account)));
            }
            if (mayWatch)
            {
                // The watch's own ClusterRole, apart from the wide targets' one: it persists as long as the watch mode, while the wide
                // targets' ClusterRole exists only while a wide target does. So removing the last wide target deletes that
                // ClusterRole, after the program (pulumi/pulumi pkg/resource/deploy/deployment_executor.go performPostSteps, commit
                // 67a83b7ec10c), and so after the Deployment's rollout, which pulumi-kubernetes awaits until the new ReplicaSet's
                // pods are ready (pulumi/pulumi-kubernetes provider/pkg/await/deployment.go checkAndLogStatus, updatedReplicaSetReady,
                // commit 94977969d641), which the new pod is only after its first full run: that run sweeps the removed target's
                // cluster-wide ledger scopes (*/*/secret) with the wide rights still granted. Narrowing one shared ClusterRole
                // instead was an update, played before the rollout: the sweep's cluster-wide LIST and PATCH were refused.
                var watchRole = roleName.Apply(r => r + WatchSuffix);
                var clusterRole = scope.Resource(ClusterRoleType, $"{name}-watch-cluster-role", new RoleInputs
                {
                    Kind = "ClusterRole",
                    Metadata = new ObjectMetaInputs { Name = watchRole, Labels = labels },
                    Rules = Output.Create((IReadOnlyList<PolicyRuleInputs>)WatchRules(!perNamespaceWatch)),
                });
                bindings.Add(scope.Resource(ClusterRoleBindingType, $"{name}-watch-cluster-role-binding", Binding("ClusterRoleBinding", "ClusterRole", watchRole, null, labels, subject),
                    ChildOptions.After(clusterRole, account)));
            }
        }
        // In the refresher's own namespace: the ledger of attached names, created once, then read and updated by name; the
        // configuration ConfigMap, read for the uid the ledger's ownerReference names; the copy targets' source Secrets, read by name
        // (and in watch mode listed and watched by name: RBAC allows list and watch restricted by resourceNames when the request's
        // field selector is metadata.name=, which is how the refresher asks; kubernetes.io/docs/reference/access-authn-authz/rbac/,
        // "Referring to resources").
        var sources = known
            ? Output.All(configured).Apply(c => c.Select(t => t.Source?.Name).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList())
            : Output.Create(new List<string>());
        var ledgerRole = scope.Resource(RoleType, $"{name}-ledger-role", new RoleInputs
        {
            Metadata = new ObjectMetaInputs { Name = roleName.Apply(r => r + "-ledger"), Namespace = ns, Labels = labels },
            Rules = Output.Tuple(sa, sources, mode).Apply(v => (IReadOnlyList<PolicyRuleInputs>)
            [
                new PolicyRuleInputs { ApiGroups = [""], Resources = ["configmaps"], ResourceNames = [TokenRefresherComponent.LedgerName(v.Item1)], Verbs = ["get", "update"] },
                new PolicyRuleInputs { ApiGroups = [""], Resources = ["configmaps"], ResourceNames = [v.Item1 + "-config"], Verbs = ["get"] },
                new PolicyRuleInputs { ApiGroups = [""], Resources = ["configmaps"], Verbs = ["create"] },
                .. v.Item2.Count == 0 ? Array.Empty<PolicyRuleInputs>() : [new PolicyRuleInputs { ApiGroups = [""], Resources = ["secrets"], ResourceNames = v.Item2, Verbs = v.Item3 == TokenRefresherComponent.WatchMode ? ["get", "list", "watch"] : ["get"] }],
            ]),
        }, ChildOptions.After(account));
        bindings.Add(scope.Resource(RoleBindingType, $"{name}-ledger-role-binding", new RoleBindingInputs
        {
            Kind = "RoleBinding",
            Metadata = new ObjectMetaInputs { Name = roleName.Apply(r => r + "-ledger"), Namespace = ns, Labels = labels },
            RoleRef = roleName.Apply(r => new RoleRefInputs { Kind = "Role", Name = r + "-ledger" }),
            Subjects = subject.Apply(s => (IReadOnlyList<SubjectInputs>)[new SubjectInputs { Name = s.Item2, Namespace = s.Item1 }]),
        }, ChildOptions.After(ledgerRole, account)));
        return bindings;
    }

    /// <summary>
    /// Watch mode: a Role in the refresher's namespace on its Lease (<c>coordination.k8s.io</c>): <c>get</c> and <c>update</c>
    /// limited to the Lease by name, and <c>create</c>, which RBAC cannot limit by name (it decides before the object exists).
    /// </summary>
    public static IReadOnlyList<IChild> DeclareLease(ComponentScope scope, string name, Output<string> ns, Output<string> sa,
        Output<IReadOnlyDictionary<string, string>> labels, IChild account, ChildOptions inNamespace)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var roleName = Output.Tuple(ns, sa).Apply(v => ClusterRoleName(v.Item1, v.Item2) + "-lease");
        var role = scope.Resource(RoleType, $"{name}-lease-role", new RoleInputs
        {
            Metadata = new ObjectMetaInputs { Name = roleName, Namespace = ns, Labels = labels },
            Rules = sa.Apply(s => (IReadOnlyList<PolicyRuleInputs>)
            [
                new PolicyRuleInputs { ApiGroups = ["coordination.k8s.io"], Resources = ["leases"], ResourceNames = [TokenRefresherComponent.LeaseName(s)], Verbs = ["get", "update"] },
                new PolicyRuleInputs { ApiGroups = ["coordination.k8s.io"], Resources = ["leases"], Verbs = ["create"] },
            ]),
        }, inNamespace);
        var binding = scope.Resource(RoleBindingType, $"{name}-lease-role-binding", new RoleBindingInputs
        {
            Kind = "RoleBinding",
            Metadata = new ObjectMetaInputs { Name = roleName, Namespace = ns, Labels = labels },
            RoleRef = roleName.Apply(r => new RoleRefInputs { Kind = "Role", Name = r }),
            Subjects = Output.Tuple(ns, sa).Apply(s => (IReadOnlyList<SubjectInputs>)[new SubjectInputs { Name = s.Item2, Namespace = s.Item1 }]),
        }, ChildOptions.After(role, account));
        return [binding];
    }

    private static RoleBindingInputs Binding(string kind, string roleKind, Output<string> roleName, string? @namespace,
        Output<IReadOnlyDictionary<string, string>> labels, Output<(string Namespace, string Name)> subject) => new()
        {
            Kind = kind,
            Metadata = new ObjectMetaInputs { Name = roleName, Namespace = @namespace is null ? null : Output.Create(@namespace), Labels = labels },
            RoleRef = roleName.Apply(r => new RoleRefInputs { Kind = roleKind, Name = r }),
            Subjects = subject.Apply(s => (IReadOnlyList<SubjectInputs>)[new SubjectInputs { Name = s.Name, Namespace = s.Namespace }]),
        };

    private static List<string> Sorted(IEnumerable<string> names) => names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    private static bool Writes(TargetConfiguration t) => !t.AttachOnly;

    /// <summary>The rules for the secrets the refresher writes (token and copy targets), those it only attaches, and the service accounts, in one namespace.</summary>
    private static List<PolicyRuleInputs> Rules(ImmutableArray<TargetConfiguration> targets, bool watchAccounts)
    {
        var secrets = Sorted(targets.Where(Writes).Select(t => t.SecretName));
        var attached = Sorted(targets.Where(t => t.AttachOnly).Select(t => t.SecretName));
        var attaches = targets.Any(t => t.ServiceAccounts.Count > 0 || t.AllServiceAccounts || t.ServiceAccountSelector is not null);
        var owners = Sorted(targets.Where(t => Writes(t) && t.Owner is not null).Select(t => t.Owner!));
        var rules = new List<PolicyRuleInputs>();
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
        rules.Add(new() { ApiGroups = ["", "events.k8s.io"], Resources = ["events"], Verbs = ["create", "get", "patch"] });
        // Service accounts: get, list and patch by any name, not only the named ones, whenever a target of the namespace attaches
        // accounts. The refresher's ledger detaches names from accounts the program no longer names (serviceAccounts
        // [default, builder] -> [default]) in the run-on-deploy Job, and the engine has already updated this Role by then (the Job
        // is registered after the RoleBinding it waits for; deletes come last, pulumi/pulumi pkg/resource/deploy/deployment_executor.go
        // performPostSteps, commit 67a83b7ec10c): a Role naming only the accounts still wanted would refuse the GET and PATCH of
        // builder and the name would stay forever. allServiceAccounts and serviceAccountSelector attach accounts no program
        // names, found by a paginated LIST of the namespace's accounts (list does not take resourceNames: RBAC sees a list's name
        // only through a metadata.name field selector); and once such a target leaves the configuration while another target of
        // the namespace remains (so this Role is updated, not deleted, before the Job), the ledger's sweep of its scope
        // (ns/*/secret) LISTs the namespace's accounts and patches those recording the name: list is granted with any attaching
        // target, since the program cannot know what the previous configuration had. This is the least that works: the
        // refresher patches only imagePullSecrets and its annotation and removes only the names its own annotation
        // registryinfra.io/added-image-pull-secrets records, in namespaces where it already may write its Secrets. Watch mode also
        // lists and watches the accounts of each listed namespace (WatchLoop's per-namespace reflectors).
        if (attaches || watchAccounts)
        {
            List<string> verbs = attaches ? ["get", "list", "patch"] : ["list"];
            if (watchAccounts)
            {
                verbs.Add("watch");
            }
            rules.Add(new() { ApiGroups = [""], Resources = ["serviceaccounts"], Verbs = verbs });
        }
        return rules;
    }

    /// <summary>
    /// The cluster-wide rules of the targets that select namespaces. Namespaces are listed and watched. The Secrets the
    /// refresher writes are read, updated and deleted by name; it creates them (not limitable by name) and lists and
    /// watches Secrets across the cluster to find its own copies, by the <c>registryinfra.io/instance</c> label, in
    /// namespaces that left the selection: RBAC checks a list or watch against <c>resourceNames</c> only when the request
    /// names one object by a <c>metadata.name</c> field selector, which a cluster-wide search by label does not. Service
    /// accounts are listed and watched (new ones are served as they appear) and patched by any name: all or those of a
    /// selector are attached, and in a namespace that left the selection every account recording one of our names loses it. With <c>clusterOwner</c> the refresher reads its own ClusterRole (the uid its
    /// Secrets' ownerReference names). This ClusterRole exists only while a target selects namespaces, in either mode: so
    /// removing the last such target deletes it after the refresher's run with the new configuration (the run-on-deploy
    /// Job, or the watch Deployment's rollout), and that run still may sweep the removed target's names off the cluster.
    /// What watch mode needs across the cluster is in <see cref="WatchRules"/>.
    /// </summary>
    private static List<PolicyRuleInputs> ClusterRules(ImmutableArray<TargetConfiguration> targets, string clusterRole)
    {
        var rules = new List<PolicyRuleInputs> { new() { ApiGroups = [""], Resources = ["namespaces"], Verbs = ["get", "list", "watch"] } };
        var secrets = Sorted(targets.Where(Writes).Select(t => t.SecretName));
        var attached = Sorted(targets.Where(t => t.AttachOnly).Select(t => t.SecretName));
        var owners = Sorted(targets.Where(t => Writes(t) && t.Owner is not null).Select(t => t.Owner!));
        if (secrets.Count > 0)
        {
            rules.Add(new() { ApiGroups = [""], Resources = ["secrets"], ResourceNames = secrets, Verbs = ["get", "update", "patch", "delete"] });
            rules.Add(new() { ApiGroups = [""], Resources = ["secrets"], Verbs = ["create", "list", "watch"] });
        }
        if (owners.Count > 0)
        {
            rules.Add(new() { ApiGroups = [""], Resources = ["configmaps"], ResourceNames = owners, Verbs = ["get"] });
        }
        if (attached.Count > 0)
        {
            rules.Add(new() { ApiGroups = [""], Resources = ["secrets"], ResourceNames = attached, Verbs = ["get"] });
        }
        // Every wide target that writes and names no owner ConfigMap gets the ClusterRole as clusterOwner (TokenRefresherComponent.Configuration).
        if (targets.Any(t => Writes(t) && t.Owner is null))
        {
            rules.Add(new() { ApiGroups = ["rbac.authorization.k8s.io"], Resources = ["clusterroles"], ResourceNames = [clusterRole], Verbs = ["get"] });
        }
        if (targets.Length > 0)
        {
            rules.Add(new() { ApiGroups = ["", "events.k8s.io"], Resources = ["events"], Verbs = ["create", "get", "patch"] });
        }
        // Accounts are attached by name, all or selector, and when a namespace leaves the selection every account there that
        // records one of our names loses it (found by listing the namespace's accounts): any account may be patched.
        if (targets.Any(t => Writes(t) || t.ServiceAccounts.Count > 0 || t.AllServiceAccounts || t.ServiceAccountSelector is not null))
        {
            rules.Add(new() { ApiGroups = [""], Resources = ["serviceaccounts"], Verbs = ["get", "list", "watch", "patch"] });
        }
        return rules;
    }

    /// <summary>
    /// Watch mode's ClusterRole (<c>&lt;namespace&gt;-&lt;serviceAccountName&gt;-watch</c>): the namespace reflector lists and
    /// watches namespaces across the cluster, and past <see cref="PerNamespaceWatchLimit"/> listed namespaces, or with a
    /// target that selects namespaces, the service-account reflector lists and watches accounts across the cluster
    /// (<paramref name="watchAccounts"/>). Nothing it writes: that is the Roles' and the wide targets' ClusterRole's.
    /// </summary>
    private static List<PolicyRuleInputs> WatchRules(bool watchAccounts)
    {
        var rules = new List<PolicyRuleInputs> { new() { ApiGroups = [""], Resources = ["namespaces"], Verbs = ["get", "list", "watch"] } };
        if (watchAccounts)
        {
            rules.Add(new() { ApiGroups = [""], Resources = ["serviceaccounts"], Verbs = ["list", "watch"] });
        }
        return rules;
    }
}
