using System.Collections.Immutable;
using System.Text.Json.Nodes;
using RegistryInfra.Core.Kubernetes;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Components;
using RegistryInfra.Provider.Components.Kubernetes;
using RegistryInfra.Provider.Kubernetes;

namespace RegistryInfra.Provider.Resources.PullSecretAttachment;

/// <summary>
/// <c>registryinfra:kubernetes:PullSecretAttachment</c>: pull Secret names in the <c>imagePullSecrets</c> of service accounts
/// in one namespace, or cluster-wide in the namespaces a label selector matches or in all, added and removed by this
/// provider itself, because no pulumi-kubernetes resource can do it safely: <c>imagePullSecrets</c> is an atomic list
/// (<c>+listType=atomic</c> in kubernetes/api <c>core/v1/types.go</c>), so a server-side-apply <c>ServiceAccountPatch</c>
/// replaces the whole list on apply and removes it on delete, and a ServiceAccount resource would take the account over.
/// Every write is a read, a merge and a JSON merge patch carrying the <c>metadata.resourceVersion</c> read (the API server
/// answers 409 Conflict when the account changed since, kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply),
/// retried on conflict. Only names it added are ever removed: they are in the account's
/// <c>registryinfra.io/added-image-pull-secrets</c> annotation (and, with one namespace, in its state); a name the account
/// had before stays, whoever put it there. Delete runs in every <c>pulumi destroy</c> and whenever the resource leaves the
/// program, so removing a namespace, a service account or a whole component leaves no name of ours behind. Cluster-wide
/// (<see cref="ClusterAttachment"/>) the state keeps counts only, so it does not grow with the cluster: update and delete
/// find our names from the annotation on a cluster-wide list of service accounts.
/// Preview makes no request; no Secret, token or credential is read or written.
/// </summary>
internal sealed class PullSecretAttachmentResource :
    IResource<PullSecretAttachmentArgs, PullSecretAttachmentState>,
    ICustomCheck<PullSecretAttachmentArgs>,
    ICustomUpdate<PullSecretAttachmentArgs, PullSecretAttachmentState>,
    ICustomDiff<PullSecretAttachmentArgs, PullSecretAttachmentState>,
    ICustomRead<PullSecretAttachmentArgs, PullSecretAttachmentState>,
    ICustomDelete<PullSecretAttachmentState>
{
    public const string Token = "registryinfra:kubernetes:PullSecretAttachment";

    /// <summary>The annotation that records, on each account, the names a RegistryInfra writer added (the refresher uses it too).</summary>
    public const string AddedAnnotation = ServiceAccountPullSecrets.AddedAnnotation;

    public const string Description =
        "Pull Secret names added to the `imagePullSecrets` of service accounts, keeping every name they already have, and removed again " +
        "(only the names this resource added) when it is deleted or its selection shrinks: in one `namespace` (the listed accounts are read and " +
        "patched by name), or cluster-wide in every namespace a `namespaceSelector` matches or in `allNamespaces` (namespaces and service accounts " +
        "are listed in pages; the names added are recorded on each account, not in the state). Each write carries a `resourceVersion` precondition " +
        "and is retried on conflict; a missing named account is skipped and reported. ClusterRegistryAccess creates these.";

    /// <summary>The most <c>missingServiceAccounts</c> entries kept in the state (<c>missingCount</c> counts them all).</summary>
    internal const int MissingListed = 100;

    private static readonly string[] ComputedOutputs = ["attached", "missingServiceAccounts", "namespaceCount", "serviceAccountCount", "attachedCount", "missingCount"];

    private readonly Func<string?, string?, KubeConnection> _connect;

    public PullSecretAttachmentResource(Func<string?, string?, KubeConnection>? connect = null) =>
        _connect = connect ?? ((kubeconfig, context) => KubeConfig.Load(kubeconfig, context));

    public Task<CheckResult<PullSecretAttachmentArgs>> CheckAsync(CheckContext<PullSecretAttachmentArgs> context, CancellationToken cancellationToken)
    {
        var args = context.Args;
        var failures = new List<CheckFailure>();
        bool Known(string name) => !context.UnknownInputs.Any(p => p == name || p.StartsWith(name + "[", StringComparison.Ordinal) || p.StartsWith(name + ".", StringComparison.Ordinal));

        // Where: exactly one of namespace, namespaceSelector, allNamespaces (an unknown one may still turn out given).
        var where = new (string Field, bool Given, bool Maybe)[]
        {
            ("namespace", Known("namespace") && args.Namespace is not null, !Known("namespace")),
            ("namespaceSelector", Known("namespaceSelector") && args.NamespaceSelector is not null, !Known("namespaceSelector")),
            ("allNamespaces", Known("allNamespaces") && args.AllNamespaces == true, !Known("allNamespaces")),
        };
        ExactlyOne(where, "namespace", failures);
        if (Known("namespace") && args.Namespace is not null)
        {
            Require(() => KubernetesNames.RequireLabel(args.Namespace, "namespace"), failures);
            if (Known("excludeNamespaces") && args.ExcludeNamespaces is { Count: > 0 })
            {
                failures.Add(new CheckFailure("excludeNamespaces", "only with namespaceSelector or allNamespaces; namespace names the one namespace"));
            }
        }
        if (Known("namespaceSelector") && args.NamespaceSelector is { } namespaceSelector)
        {
            Require(() => LabelSelectors.ValidateKnown(namespaceSelector, "namespaceSelector"), failures);
        }
        if (Known("excludeNamespaces") && args.ExcludeNamespaces is { } exclude)
        {
            for (var i = 0; i < exclude.Count; i++)
            {
                if (NamespacePatterns.Problem(exclude[i]) is { } problem)
                {
                    failures.Add(new CheckFailure($"excludeNamespaces[{i}]", problem));
                }
            }
        }

        // Which accounts: at most one of serviceAccounts, allServiceAccounts, serviceAccountSelector; none means ["default"].
        var which = new (string Field, bool Given, bool Maybe)[]
        {
            ("serviceAccounts", Known("serviceAccounts") && args.ServiceAccounts is not null, !Known("serviceAccounts")),
            ("allServiceAccounts", Known("allServiceAccounts") && args.AllServiceAccounts == true, !Known("allServiceAccounts")),
            ("serviceAccountSelector", Known("serviceAccountSelector") && args.ServiceAccountSelector is not null, !Known("serviceAccountSelector")),
        };
        AtMostOne(which, failures);
        var accounts = args.ServiceAccounts;
        if (accounts is not null)
        {
            accounts = Normalise(accounts, "serviceAccounts", Known("serviceAccounts"), failures);
        }
        else if (!which.Any(w => w.Given || w.Maybe))
        {
            accounts = ["default"];
        }
        if (Known("serviceAccountSelector") && args.ServiceAccountSelector is { } accountSelector)
        {
            Require(() => LabelSelectors.ValidateKnown(accountSelector, "serviceAccountSelector"), failures);
        }
        var secrets = Normalise(args.SecretNames, "secretNames", Known("secretNames"), failures);
        if (Known("kubeconfig") && Known("kubeContext") && args.Kubeconfig is { Length: > 0 })
        {
            // The given kubeconfig must name a usable context; nothing is contacted (preview runs without the cluster).
            try
            {
                _ = _connect(args.Kubeconfig, args.KubeContext);
            }
            catch (KubeConfigException e)
            {
                failures.Add(new CheckFailure(e.Message.StartsWith("kubeContext", StringComparison.Ordinal) ? "kubeContext" : "kubeconfig", e.Message));
            }
        }
        return Task.FromResult(new CheckResult<PullSecretAttachmentArgs>(args with
        {
            ServiceAccounts = accounts,
            SecretNames = secrets,
            AllNamespaces = args.AllNamespaces == true ? true : null,
            AllServiceAccounts = args.AllServiceAccounts == true ? true : null,
        }, failures));
    }

    private static void ExactlyOne((string Field, bool Given, bool Maybe)[] fields, string first, List<CheckFailure> failures)
    {
        var names = string.Join(", ", fields.Select(f => f.Field));
        if (!fields.Any(f => f.Given || f.Maybe))
        {
            failures.Add(new CheckFailure(first, $"one of {names} is required"));
            return;
        }
        AtMostOne(fields, failures);
    }

    private static void AtMostOne((string Field, bool Given, bool Maybe)[] fields, List<CheckFailure> failures)
    {
        var given = fields.Where(f => f.Given).ToList();
        foreach (var extra in given.Skip(1))
        {
            failures.Add(new CheckFailure(extra.Field, $"give only one of {string.Join(", ", fields.Select(f => f.Field))} ({given[0].Field} is given)"));
        }
    }

    private static IReadOnlyList<string> Normalise(IReadOnlyList<string> names, string field, bool known, List<CheckFailure> failures)
    {
        if (!known)
        {
            return names;
        }
        if (names.Count == 0)
        {
            failures.Add(new CheckFailure(field, "at least one name is required"));
        }
        for (var i = 0; i < names.Count; i++)
        {
            var at = $"{field}[{i}]";
            var name = names[i];
            Require(() => KubernetesNames.RequireSubdomain(name, at), failures);
        }
        return [.. names.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Runs a check that throws <see cref="ComponentInputException"/>, its refusal becoming a check failure of that field.</summary>
    private static void Require(Action check, List<CheckFailure> failures)
    {
        try
        {
            check();
        }
        catch (ComponentInputException e)
        {
            failures.Add(new CheckFailure(e.Field, e.Problem));
        }
    }

    /// <summary>The API's <c>labelSelector</c> string of a known selector input (Create, Update, Read: every part is known).</summary>
    internal static string SelectorText(LabelSelectorArgs selector, string field) => selector.ToCore(field).ToSelectorString();

    public async Task<CreateResult<PullSecretAttachmentState>> CreateAsync(CreateContext<PullSecretAttachmentArgs> context, CancellationToken cancellationToken)
    {
        var args = context.Args;
        var id = args.ClusterWide ? $"*/{context.Resource.Name}" : $"{args.Namespace}/{context.Resource.Name}";
        if (context.Preview)
        {
            return new CreateResult<PullSecretAttachmentState>(id, StateOf(args, Applied.Empty), [.. ComputedOutputs]);
        }
        var applied = args.ClusterWide
            ? await ClusterAsync(args, [], write: true, cancellationToken).ConfigureAwait(false)
            : await NamespaceAsync(args.Kubeconfig, args.KubeContext, args.Namespace!, args.ServiceAccounts ?? [], args.SecretNames,
                ImmutableSortedDictionary<string, IReadOnlyList<string>>.Empty, cancellationToken).ConfigureAwait(false);
        return new CreateResult<PullSecretAttachmentState>(id, StateOf(args, applied));
    }

    public async Task<UpdateResult<PullSecretAttachmentState>> UpdateAsync(UpdateContext<PullSecretAttachmentArgs, PullSecretAttachmentState> context, CancellationToken cancellationToken)
    {
        var args = context.Args;
        var old = context.OldState;
        if (context.Preview)
        {
            return new UpdateResult<PullSecretAttachmentState>(StateOf(args, new Applied(old.Attached, old.MissingServiceAccounts, old.MissingCount, old.NamespaceCount, old.ServiceAccountCount, old.AttachedCount)),
                [.. ComputedOutputs]);
        }
        // Names the account records as ours that are no longer wanted there are removed, through the connection the new inputs give.
        var applied = !args.ClusterWide && !old.ClusterWide
            ? await NamespaceAsync(args.Kubeconfig, args.KubeContext, args.Namespace!, args.ServiceAccounts ?? [], args.SecretNames, old.Attached, cancellationToken).ConfigureAwait(false)
            : await ClusterAsync(args, old.SecretNames, write: true, cancellationToken).ConfigureAwait(false);
        return new UpdateResult<PullSecretAttachmentState>(StateOf(args, applied));
    }

    public async Task DeleteAsync(DeleteContext<PullSecretAttachmentState> context, CancellationToken cancellationToken)
    {
        var state = context.State;
        if (state.ClusterWide)
        {
            // Everywhere the annotation records one of our secret names as RegistryInfra's, that name goes; nothing else.
            await ClusterAttachment.RunAsync(Api(state.Kubeconfig, state.KubeContext), null, [], state.SecretNames, write: true, cancellationToken).ConfigureAwait(false);
            return;
        }
        await NamespaceAsync(state.Kubeconfig, state.KubeContext, state.Namespace!, [], [], state.Attached, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Refresh reads the accounts and keeps, of the recorded names, those an account still has and still records as
    /// ours (a name someone removed is no longer ours to remove); cluster-wide it counts again what the selection holds
    /// now. It writes nothing.
    /// </summary>
    public async Task<ReadResult<PullSecretAttachmentArgs, PullSecretAttachmentState>?> ReadAsync(
        ReadContext<PullSecretAttachmentArgs, PullSecretAttachmentState> context, CancellationToken cancellationToken)
    {
        if (context.State is not { } state)
        {
            throw new NotSupportedException($"import of {Token}: which names this resource added cannot be told from the cluster; declare it in the program and it adopts the names it finds recorded as RegistryInfra's");
        }
        if (state.ClusterWide)
        {
            var outcome = await ClusterAttachment.RunAsync(Api(state.Kubeconfig, state.KubeContext), SelectionOf(state.Namespace, state.NamespaceSelector, state.AllNamespaces,
                state.ExcludeNamespaces, state.ServiceAccounts, state.AllServiceAccounts, state.ServiceAccountSelector), state.SecretNames, state.SecretNames, write: false,
                cancellationToken).ConfigureAwait(false);
            return new ReadResult<PullSecretAttachmentArgs, PullSecretAttachmentState>(context.Id, state with
            {
                NamespaceCount = outcome.NamespaceCount,
                ServiceAccountCount = outcome.AccountCount,
                AttachedCount = outcome.AttachedCount,
                MissingServiceAccounts = [.. outcome.Missing.Take(MissingListed)],
                MissingCount = outcome.Missing.Count,
            }, context.Args);
        }
        var api = Api(state.Kubeconfig, state.KubeContext);
        var attached = ImmutableSortedDictionary.CreateBuilder<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var missing = new List<string>();
        var accounts = state.ServiceAccounts ?? [];
        var existing = 0;
        var complete = 0;
        foreach (var account in accounts.Union(state.Attached.Keys, StringComparer.Ordinal))
        {
            var current = await api.GetAsync(AccountPath(state.Namespace!, account), $"ServiceAccount {state.Namespace}/{account}", cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                if (accounts.Contains(account))
                {
                    missing.Add(account);
                }
                continue;
            }
            var names = NamesOf(current);
            var recorded = RecordedOf(current);
            var ours = state.Attached.GetValueOrDefault(account, []).Where(n => names.Contains(n) && recorded.Contains(n)).ToList();
            if (ours.Count > 0)
            {
                attached[account] = ours;
            }
            if (accounts.Contains(account))
            {
                existing++;
                complete += state.SecretNames.All(names.Contains) ? 1 : 0;
            }
        }
        return new ReadResult<PullSecretAttachmentArgs, PullSecretAttachmentState>(context.Id, state with
        {
            Attached = attached.ToImmutable(),
            MissingServiceAccounts = missing,
            MissingCount = missing.Count,
            NamespaceCount = 1,
            ServiceAccountCount = existing,
            AttachedCount = complete,
        }, context.Args);
    }

    public Task<DiffResponse> DiffAsync(DiffContext<PullSecretAttachmentArgs, PullSecretAttachmentState> context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var olds = request.OldInputs.Count > 0 ? request.OldInputs : request.OldState;
        var diff = InputDiff.Compute(ModelShape.Of<PullSecretAttachmentArgs>(), olds, request.NewInputs, request.IgnoreChanges, replaceEveryChange: false);
        if (diff.Replaces.Contains("namespace") && (!Has(olds, "namespace") || !Has(request.NewInputs, "namespace")))
        {
            // Between one namespace and a cluster-wide selection: an update, which removes our names where the selection left
            // (found from the annotation) and adds them where it came. Only one namespace for another replaces (its id names it).
            diff = diff with
            {
                Replaces = diff.Replaces.Remove("namespace"),
                DetailedDiff = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, diff.DetailedDiff).SetItem("namespace", new PropertyDiff(Has(olds, "namespace") ? PropertyDiffKind.Delete : PropertyDiffKind.Add)),
            };
        }
        var old = context.OldState;
        var pending = old.ClusterWide
            // Cluster-wide, a named account missing in some namespaces is the normal state of a selection (no diff for it); a
            // refresh that found accounts not naming the secrets (created since, or a name removed) asks for the update.
            ? old.AttachedCount < old.ServiceAccountCount
            // One namespace: a listed account was missing at the last apply: the update attaches it if it exists now.
            : old.MissingServiceAccounts.Count > 0;
        if (diff.HasChanges != true && pending && !context.UnknownInputs.Contains("serviceAccounts"))
        {
            return Task.FromResult(new DiffResponse(true, [], [], false, ImmutableSortedDictionary<string, PropertyDiff>.Empty.Add(
                "serviceAccounts", new PropertyDiff(PropertyDiffKind.Update))));
        }
        return Task.FromResult(diff);
    }

    private static bool Has(IReadOnlyDictionary<string, PropertyValue> properties, string key) =>
        properties.TryGetValue(key, out var value) && !value.IsNull;

    /// <summary>What an apply leaves: the one-namespace record, the missing accounts (listed and counted) and the counts.</summary>
    private sealed record Applied(IReadOnlyDictionary<string, IReadOnlyList<string>> Attached, IReadOnlyList<string> Missing, int MissingCount, int NamespaceCount,
        int AccountCount, int AttachedCount)
    {
        public static Applied Empty { get; } = new(ImmutableSortedDictionary<string, IReadOnlyList<string>>.Empty, [], 0, 0, 0, 0);
    }

    private static PullSecretAttachmentState StateOf(PullSecretAttachmentArgs args, Applied applied) =>
        new(args.SecretNames, applied.Attached, applied.Missing, applied.NamespaceCount, applied.AccountCount, applied.AttachedCount, applied.MissingCount,
            args.Namespace, args.NamespaceSelector, args.AllNamespaces, args.ExcludeNamespaces, args.ServiceAccounts, args.AllServiceAccounts,
            args.ServiceAccountSelector, args.Kubeconfig, args.KubeContext);

    private KubeApi Api(string? kubeconfig, string? kubeContext)
    {
        try
        {
            return KubeApi.For(_connect(kubeconfig, kubeContext));
        }
        catch (KubeConfigException e)
        {
            throw new InvalidOperationException(e.Message);
        }
    }

    /// <summary>The selection of checked inputs (or of a state), in the form the cluster-wide pass takes.</summary>
    private static ClusterSelection SelectionOf(string? ns, LabelSelectorArgs? namespaceSelector, bool? allNamespaces, IReadOnlyList<string>? exclude,
        IReadOnlyList<string>? accounts, bool? allAccounts, LabelSelectorArgs? accountSelector)
    {
        var selector = accountSelector is not null && accounts is null && allAccounts != true ? accountSelector.ToCore("serviceAccountSelector").ToSelector() : null;
        return new ClusterSelection(
            ns,
            ns is null && allNamespaces != true && namespaceSelector is not null ? SelectorText(namespaceSelector, "namespaceSelector") : null,
            exclude ?? [],
            allAccounts == true || selector is not null ? null : accounts ?? ["default"],
            selector);
    }

    /// <summary>
    /// The cluster-wide pass for these inputs (also an update between one namespace and a selection, either way):
    /// names of <paramref name="oldSecrets"/> and of the new secret names are removed wherever they are recorded as ours
    /// and no longer wanted.
    /// </summary>
    private async Task<Applied> ClusterAsync(PullSecretAttachmentArgs args, IReadOnlyList<string> oldSecrets, bool write, CancellationToken cancellationToken)
    {
        var selection = SelectionOf(args.Namespace, args.NamespaceSelector, args.AllNamespaces, args.ExcludeNamespaces, args.ServiceAccounts,
            args.AllServiceAccounts, args.ServiceAccountSelector);
        var removable = args.SecretNames.Union(oldSecrets, StringComparer.Ordinal).ToList();
        var outcome = await ClusterAttachment.RunAsync(Api(args.Kubeconfig, args.KubeContext), selection, args.SecretNames, removable, write, cancellationToken).ConfigureAwait(false);
        if (!args.ClusterWide)
        {
            // One namespace (an update from a cluster-wide selection): its record is per account, as a namespace attachment keeps it.
            var prefix = args.Namespace + "/";
            var attached = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                outcome.Ours.Where(kv => kv.Value.Count > 0).Select(kv => KeyValuePair.Create(kv.Key[prefix.Length..], kv.Value)));
            var missing = outcome.Missing.Select(m => m[prefix.Length..]).ToList();
            return new Applied(attached, missing, missing.Count, outcome.NamespaceCount, outcome.AccountCount, outcome.AttachedCount);
        }
        return new Applied(ImmutableSortedDictionary<string, IReadOnlyList<string>>.Empty, [.. outcome.Missing.Take(MissingListed)], outcome.Missing.Count,
            outcome.NamespaceCount, outcome.AccountCount, outcome.AttachedCount);
    }

    /// <summary>
    /// One namespace: makes each account of <paramref name="accounts"/> name every secret of <paramref name="secrets"/>, and
    /// removes from every account the names of <paramref name="previous"/> (what this resource added before) that are no
    /// longer wanted there. Returns what is ours afterwards, the listed accounts that do not exist, and the counts.
    /// </summary>
    private async Task<Applied> NamespaceAsync(string? kubeconfig, string? kubeContext, string ns, IReadOnlyList<string> accounts, IReadOnlyList<string> secrets,
        IReadOnlyDictionary<string, IReadOnlyList<string>> previous, CancellationToken cancellationToken)
    {
        var api = Api(kubeconfig, kubeContext);
        var attached = ImmutableSortedDictionary.CreateBuilder<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var missing = new List<string>();
        var existing = 0;
        var complete = 0;
        foreach (var account in accounts.Union(previous.Keys, StringComparer.Ordinal))
        {
            var wanted = accounts.Contains(account) ? secrets : [];
            var had = previous.GetValueOrDefault(account, []);
            var result = await AccountPass.RunAsync(api, ns, account, wanted, had, null, write: true, cancellationToken).ConfigureAwait(false);
            if (result is not { } done)
            {
                if (wanted.Count > 0)
                {
                    missing.Add(account);
                }
                continue;
            }
            if (done.Ours.Count > 0)
            {
                attached[account] = done.Ours;
            }
            if (wanted.Count > 0)
            {
                existing++;
                complete += wanted.All(done.Names.Contains) ? 1 : 0;
            }
        }
        return new Applied(attached.ToImmutable(), missing, missing.Count, 1, existing, complete);
    }

    internal static string AccountPath(string ns, string account) =>
        $"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/serviceaccounts/{Uri.EscapeDataString(account)}";

    internal static List<string> NamesOf(JsonObject account) =>
        (account["imagePullSecrets"] as JsonArray ?? []).Select(e => (string?)e?["name"]).OfType<string>().ToList();

    internal static HashSet<string> RecordedOf(JsonObject account) =>
        ((string?)account["metadata"]?["annotations"]?[AddedAnnotation] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The merge patch that sets the whole new list and the annotation, with the resourceVersion read as precondition.</summary>
    internal static string PatchOf(string? resourceVersion, IReadOnlyList<string> names, IReadOnlyList<string> recorded) =>
        ServiceAccountPullSecrets.MergePatch(resourceVersion, names, recorded.Count == 0 ? null : string.Join(',', recorded));
}
