using System.Net;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher;

/// <summary>
/// One service-account name a refresher added: <c>namespace/serviceAccount/secretName</c>; or a scope, a line that says what
/// chose the accounts of a target that may have added the name to accounts the ledger does not list one by one:
/// <c>namespace/*/secretName</c> (all or a selector's accounts of a listed namespace), <c>*/*/secretName</c> (all or a
/// selector's accounts of the namespaces a target selects) and <c>*/+default+builder/secretName</c> (named accounts of the
/// namespaces a target selects). A scope no target has any more is swept. "*" and "+" are in no namespace or account name
/// (both are DNS labels or subdomains: lowercase letters, digits, '-' and '.'), so no scope is ever mistaken for an account.
/// </summary>
internal readonly record struct Attachment(string Namespace, string ServiceAccount, string SecretName)
{
    public const string Any = "*";

    /// <summary>Starts, and separates, the account names of a scope of named accounts.</summary>
    public const char Named = '+';

    public bool IsScope => ServiceAccount == Any || ServiceAccount.StartsWith(Named);

    /// <summary>
    /// The scopes of a target whose accounts the ledger does not list one by one. A target that selects namespaces and names
    /// its accounts is a scope too (the namespaces it reached are not listed), with the names in it: narrowing them
    /// (<c>[default, builder]</c> to <c>[default]</c>), or choosing all accounts instead, is another scope, and the old one
    /// is swept. A listed target that names its accounts has no scope: its names are entries of their own.
    /// </summary>
    public static IEnumerable<Attachment> ScopesOf(TargetConfiguration target) => (target.SelectsNamespaces, target.SelectsServiceAccounts) switch
    {
        (true, true) => [new Attachment(Any, Any, target.SecretName)],
        (true, false) when target.ServiceAccounts.Count > 0 =>
            [new Attachment(Any, Named + string.Join(Named, target.ServiceAccounts.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)), target.SecretName)],
        (false, true) => target.Namespaces.Distinct(StringComparer.Ordinal).Select(ns => new Attachment(ns, Any, target.SecretName)),
        _ => [],
    };

    public override string ToString() => $"{Namespace}/{ServiceAccount}/{SecretName}";

    public static Attachment? Parse(string line)
    {
        var parts = line.Split('/');
        return parts.Length == 3 && parts.All(p => p.Length > 0) ? new Attachment(parts[0], parts[1], parts[2]) : null;
    }
}

/// <summary>
/// The refresher's record of where it attached which secret (a ConfigMap it creates in its own namespace, owned by its
/// configuration ConfigMap so that garbage collection removes it with the refresher). A run with a changed
/// configuration detaches what the ledger lists and the configuration no longer does. The ledger only says where to
/// look: each service account's own annotation (<see cref="SecretRefresher.AddedPullSecretsAnnotation"/>) decides
/// whether a name is ours to remove.
/// </summary>
/// <remarks>
/// Why this runs in time: the TokenRefresher's run-on-deploy Job is named after the configuration's hash, so a
/// changed configuration is a new Job, which pulumi-kubernetes creates and awaits during the update; the engine
/// deletes what left the program (a namespace's Role, its Secrets and owner ConfigMap) only after the program's
/// registrations are done (pulumi/pulumi pkg/resource/deploy/deployment_executor.go, performPostSteps, commit
/// 1b5949891b3c). So the Job still holds the RBAC of a namespace that is being removed when it detaches there.
/// </remarks>
internal sealed class AttachmentLedger(IKubeApi kubernetes, LedgerConfiguration configuration, TransientRetry retry)
{
    public const string DataKey = "attachments";

    private V1ConfigMap? _stored;

    /// <summary>What the ledger holds (read once per run).</summary>
    public IReadOnlySet<Attachment> Entries { get; private set; } = new HashSet<Attachment>();

    public async Task ReadAsync(CancellationToken ct)
    {
        try
        {
            _stored = await retry.RunAsync(c => kubernetes.ReadConfigMapAsync(configuration.Namespace, configuration.Name, c), ct).ConfigureAwait(false);
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            _stored = null;
        }
        Entries = Parse(_stored);
    }

    private static HashSet<Attachment> Parse(V1ConfigMap? map) =>
        map?.Data is { } data && data.TryGetValue(DataKey, out var text)
            ? text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Attachment.Parse).OfType<Attachment>().ToHashSet()
            : [];

    /// <summary>Stores <paramref name="entries"/> when they differ from what was read; one conflict is resolved by reading again and re-applying the change.</summary>
    public async Task WriteAsync(IReadOnlySet<Attachment> entries, int conflictRetries, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (entries.SetEquals(Entries) && (_stored is not null || entries.Count == 0))
            {
                return;
            }
            var text = string.Join('\n', entries.Select(e => e.ToString()).Order(StringComparer.Ordinal));
            try
            {
                if (_stored is null)
                {
                    var map = new V1ConfigMap
                    {
                        Metadata = new V1ObjectMeta
                        {
                            Name = configuration.Name,
                            NamespaceProperty = configuration.Namespace,
                            Labels = new Dictionary<string, string> { [SecretRefresher.ManagedByLabel] = SecretRefresher.ManagedByValue },
                        },
                        Data = new Dictionary<string, string> { [DataKey] = text },
                    };
                    if (configuration.Owner is { } owner)
                    {
                        var ownerMap = await retry.RunAsync(c => kubernetes.ReadConfigMapMetadataAsync(configuration.Namespace, owner, c), ct).ConfigureAwait(false);
                        map.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = owner, Uid = ownerMap.Uid }];
                    }
                    await retry.RunAsync(c => kubernetes.CreateConfigMapAsync(map, configuration.Namespace, c), ct).ConfigureAwait(false);
                }
                else
                {
                    _stored.Data ??= new Dictionary<string, string>();
                    _stored.Data[DataKey] = text;
                    // The resourceVersion read travels in the body: a concurrent run's write makes this one 409.
                    await retry.RunAsync(c => kubernetes.ReplaceConfigMapAsync(_stored, configuration.Namespace, configuration.Name, c), ct).ConfigureAwait(false);
                }
                return;
            }
            catch (KubeApiException e) when (e.StatusCode is HttpStatusCode.Conflict && attempt < conflictRetries)
            {
                // Another run wrote first: keep what it added that this run did not decide about.
                var mine = entries;
                var before = Entries;
                await ReadAsync(ct).ConfigureAwait(false);
                entries = Entries.Except(before.Except(mine)).Union(mine.Except(before)).ToHashSet();
            }
        }
    }
}
