using System.Collections.Immutable;
using System.Text.Json.Nodes;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Components;
using RegistryInfra.Provider.Kubernetes;

namespace RegistryInfra.Provider.Resources.PullSecretAttachment;

/// <summary>
/// <c>registryinfra:kubernetes:PullSecretAttachment</c>: pull Secret names in the <c>imagePullSecrets</c> of service accounts
/// in one namespace, added and removed by this provider itself, because no pulumi-kubernetes resource can do it safely:
/// <c>imagePullSecrets</c> is an atomic list (<c>+listType=atomic</c> in kubernetes/api <c>core/v1/types.go</c>), so a
/// server-side-apply <c>ServiceAccountPatch</c> replaces the whole list on apply and removes it on delete, and a
/// ServiceAccount resource would take the account over. Every write is a read, a merge and a JSON merge patch carrying the
/// <c>metadata.resourceVersion</c> read (the API server answers 409 Conflict when the account changed since,
/// kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply), retried on conflict. Only names it added are ever
/// removed: they are in its state and in the account's <c>registryinfra.io/added-image-pull-secrets</c> annotation; a name
/// the account had before stays, whoever put it there. Delete runs in every <c>pulumi destroy</c> and whenever the resource
/// leaves the program, so removing a namespace, a service account or a whole component leaves no name of ours behind.
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
        "Pull Secret names added to the `imagePullSecrets` of service accounts in one namespace, keeping every name they already have, and removed again " +
        "(only the names this resource added) when it is deleted or its lists shrink. Reads and patches only the listed ServiceAccounts, with a " +
        "`resourceVersion` precondition and a retry on conflict; a missing account is skipped and reported. ClusterRegistryAccess creates one per namespace.";

    private const int ConflictRetries = 8;

    private readonly Func<string?, string?, KubeConnection> _connect;

    public PullSecretAttachmentResource(Func<string?, string?, KubeConnection>? connect = null) =>
        _connect = connect ?? ((kubeconfig, context) => KubeConfig.Load(kubeconfig, context));

    public Task<CheckResult<PullSecretAttachmentArgs>> CheckAsync(CheckContext<PullSecretAttachmentArgs> context, CancellationToken cancellationToken)
    {
        var args = context.Args;
        var failures = new List<CheckFailure>();
        bool Known(string name) => !context.UnknownInputs.Any(p => p == name || p.StartsWith(name + "[", StringComparison.Ordinal));
        if (Known("namespace"))
        {
            Require(() => KubernetesNames.RequireLabel(args.Namespace, "namespace"), failures);
        }
        var accounts = Normalise(args.ServiceAccounts, "serviceAccounts", Known("serviceAccounts"), failures);
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
        return Task.FromResult(new CheckResult<PullSecretAttachmentArgs>(args with { ServiceAccounts = accounts, SecretNames = secrets }, failures));
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

    /// <summary>Runs a name check of the components' <see cref="KubernetesNames"/>, its refusal becoming a check failure of that field.</summary>
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

    public async Task<CreateResult<PullSecretAttachmentState>> CreateAsync(CreateContext<PullSecretAttachmentArgs> context, CancellationToken cancellationToken)
    {
        var args = context.Args;
        var id = $"{args.Namespace}/{context.Resource.Name}";
        if (context.Preview)
        {
            return new CreateResult<PullSecretAttachmentState>(id, StateOf(args, ImmutableSortedDictionary<string, IReadOnlyList<string>>.Empty, []),
                ["attached", "missingServiceAccounts"]);
        }
        var (attached, missing) = await ReconcileAsync(args.Kubeconfig, args.KubeContext, args.Namespace, args.ServiceAccounts, args.SecretNames,
            ImmutableSortedDictionary<string, IReadOnlyList<string>>.Empty, cancellationToken).ConfigureAwait(false);
        return new CreateResult<PullSecretAttachmentState>(id, StateOf(args, attached, missing));
    }

    public async Task<UpdateResult<PullSecretAttachmentState>> UpdateAsync(UpdateContext<PullSecretAttachmentArgs, PullSecretAttachmentState> context, CancellationToken cancellationToken)
    {
        var args = context.Args;
        if (context.Preview)
        {
            return new UpdateResult<PullSecretAttachmentState>(StateOf(args, context.OldState.Attached, context.OldState.MissingServiceAccounts),
                ["attached", "missingServiceAccounts"]);
        }
        // Names of accounts (or secrets) no longer listed are removed, through the connection the new inputs give.
        var (attached, missing) = await ReconcileAsync(args.Kubeconfig, args.KubeContext, args.Namespace, args.ServiceAccounts, args.SecretNames,
            context.OldState.Attached, cancellationToken).ConfigureAwait(false);
        return new UpdateResult<PullSecretAttachmentState>(StateOf(args, attached, missing));
    }

    public async Task DeleteAsync(DeleteContext<PullSecretAttachmentState> context, CancellationToken cancellationToken)
    {
        var state = context.State;
        await ReconcileAsync(state.Kubeconfig, state.KubeContext, state.Namespace, [], [], state.Attached, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Refresh reads the listed accounts and keeps, of the recorded names, those an account still has and still records as
    /// ours (a name someone removed is no longer ours to remove); it writes nothing.
    /// </summary>
    public async Task<ReadResult<PullSecretAttachmentArgs, PullSecretAttachmentState>?> ReadAsync(
        ReadContext<PullSecretAttachmentArgs, PullSecretAttachmentState> context, CancellationToken cancellationToken)
    {
        if (context.State is not { } state)
        {
            throw new NotSupportedException($"import of {Token}: which names this resource added cannot be told from the cluster; declare it in the program and it adopts the names it finds recorded as RegistryInfra's");
        }
        var api = KubeApi.For(_connect(state.Kubeconfig, state.KubeContext));
        var attached = ImmutableSortedDictionary.CreateBuilder<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var account in state.ServiceAccounts.Union(state.Attached.Keys, StringComparer.Ordinal))
        {
            var current = await api.GetAsync(AccountPath(state.Namespace, account), $"ServiceAccount {state.Namespace}/{account}", cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                if (state.ServiceAccounts.Contains(account))
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
        }
        return new ReadResult<PullSecretAttachmentArgs, PullSecretAttachmentState>(context.Id, state with
        {
            Attached = attached.ToImmutable(),
            MissingServiceAccounts = missing,
        }, context.Args);
    }

    public Task<DiffResponse> DiffAsync(DiffContext<PullSecretAttachmentArgs, PullSecretAttachmentState> context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var diff = InputDiff.Compute(ModelShape.Of<PullSecretAttachmentArgs>(), request.OldInputs.Count > 0 ? request.OldInputs : request.OldState, request.NewInputs,
            request.IgnoreChanges, replaceEveryChange: false);
        if (diff.HasChanges != true && context.OldState.MissingServiceAccounts.Count > 0 && !context.UnknownInputs.Contains("serviceAccounts"))
        {
            // A listed account was missing at the last apply: the update attaches it if it exists now.
            return Task.FromResult(new DiffResponse(true, [], [], false, ImmutableSortedDictionary<string, PropertyDiff>.Empty.Add(
                "serviceAccounts", new PropertyDiff(PropertyDiffKind.Update))));
        }
        return Task.FromResult(diff);
    }

    private static PullSecretAttachmentState StateOf(PullSecretAttachmentArgs args, IReadOnlyDictionary<string, IReadOnlyList<string>> attached, IReadOnlyList<string> missing) =>
        new(args.Namespace, args.ServiceAccounts, args.SecretNames, attached, missing, args.Kubeconfig, args.KubeContext);

    /// <summary>
    /// Makes each account of <paramref name="accounts"/> name every secret of <paramref name="secrets"/>, and removes from
    /// every account the names of <paramref name="previous"/> (what this resource added before) that are no longer wanted
    /// there. Returns what is ours afterwards, and the listed accounts that do not exist.
    /// </summary>
    private async Task<(ImmutableSortedDictionary<string, IReadOnlyList<string>> Attached, IReadOnlyList<string> Missing)> ReconcileAsync(
        string? kubeconfig, string? kubeContext, string ns, IReadOnlyList<string> accounts, IReadOnlyList<string> secrets,
        IReadOnlyDictionary<string, IReadOnlyList<string>> previous, CancellationToken cancellationToken)
    {
        KubeConnection connection;
        try
        {
            connection = _connect(kubeconfig, kubeContext);
        }
        catch (KubeConfigException e)
        {
            throw new InvalidOperationException(e.Message);
        }
        var api = KubeApi.For(connection);
        var attached = ImmutableSortedDictionary.CreateBuilder<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var account in accounts.Union(previous.Keys, StringComparer.Ordinal))
        {
            var wanted = accounts.Contains(account) ? secrets : [];
            var had = previous.GetValueOrDefault(account, []);
            var ours = await ReconcileAccountAsync(api, ns, account, wanted, had, cancellationToken).ConfigureAwait(false);
            if (ours is null)
            {
                if (wanted.Count > 0)
                {
                    missing.Add(account);
                }
            }
            else if (ours.Count > 0)
            {
                attached[account] = ours;
            }
        }
        return (attached.ToImmutable(), missing);
    }

    /// <summary>One account's read-merge-patch; null when it does not exist.</summary>
    private static async Task<IReadOnlyList<string>?> ReconcileAccountAsync(KubeApi api, string ns, string account, IReadOnlyList<string> wanted,
        IReadOnlyList<string> had, CancellationToken cancellationToken)
    {
        var path = AccountPath(ns, account);
        var what = $"ServiceAccount {ns}/{account}";
        for (var attempt = 0; ; attempt++)
        {
            var current = await api.GetAsync(path, what, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return null;
            }
            var names = NamesOf(current);
            var recorded = RecordedOf(current);
            // Ours to remove: what we added before and the account still records as added by RegistryInfra.
            var remove = had.Where(n => !wanted.Contains(n) && recorded.Contains(n)).ToHashSet(StringComparer.Ordinal);
            // Ours to keep: what we added before, or what the account records as RegistryInfra's (adopted from the refresher
            // or from an earlier attempt of this resource); a present name not recorded is someone else's and never ours.
            var add = wanted.Where(n => !names.Contains(n)).ToList();
            var newNames = names.Where(n => !remove.Contains(n)).Concat(add).ToList();
            var newRecorded = recorded.Where(n => !remove.Contains(n)).Concat(add).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var ours = wanted.Where(n => add.Contains(n) || recorded.Contains(n)).ToList();
            if (remove.Count == 0 && add.Count == 0)
            {
                return ours;
            }
            var patch = PatchOf((string?)current["metadata"]?["resourceVersion"], newNames, newRecorded);
            var (patched, conflict) = await api.MergePatchAsync(path, patch, what, cancellationToken).ConfigureAwait(false);
            if (conflict)
            {
                if (attempt >= ConflictRetries)
                {
                    throw new KubeApiException(System.Net.HttpStatusCode.Conflict, $"patch {what}: it kept changing under {ConflictRetries + 1} attempts (409 Conflict each time); nothing of it was changed by this attempt, run the update again");
                }
                await Task.Delay(TimeSpan.FromMilliseconds(20 << Math.Min(attempt, 5)), cancellationToken).ConfigureAwait(false);
                continue;
            }
            return patched is null ? null : ours;
        }
    }

    private static string AccountPath(string ns, string account) =>
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
