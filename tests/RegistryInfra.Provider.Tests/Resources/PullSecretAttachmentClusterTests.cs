using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Provider.Tests.Resources;

/// <summary>
/// The cluster-wide mode of <c>registryinfra:kubernetes:PullSecretAttachment</c> (<c>namespaceSelector</c> or
/// <c>allNamespaces</c>, with <c>excludeNamespaces</c>; accounts by name, all, or by selector) through the engine's sequence
/// against the fake Kubernetes API over HTTPS, in process and through the NativeAOT plugin with the same assertions. What the
/// fake implements and the attachment relies on, from kubernetes.io/docs/reference/using-api/api-concepts/: LIST with
/// <c>limit</c> returns a <c>metadata.continue</c> token while more remain and a compacted token answers 410 Gone ("Retrieving
/// large results sets in chunks"); <c>GET /api/v1/serviceaccounts</c> lists the accounts of every namespace ("Resource URIs");
/// <c>labelSelector</c> filters a LIST on the server (kubernetes.io/docs/concepts/overview/working-with-objects/labels/#api);
/// a patch carrying a stale <c>metadata.resourceVersion</c> answers 409 Conflict ("Patch and apply").
/// </summary>
public sealed class PullSecretAttachmentClusterTests
{
    private const string Type = "registryinfra:kubernetes:PullSecretAttachment";
    private const string Name = "fleet-attachment";
    private const string Urn = "urn:pulumi:test::fleet::" + Type + "::" + Name;
    private const string KubeToken = "kube-bearer-Cw4-never-in-plain";
    private const string Annotation = "registryinfra.io/added-image-pull-secrets";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<bool> Hosts => AttachmentHosts.Both;

    private static string Kubeconfig(FakeKubeApi api) => AttachmentHosts.Kubeconfig(api, KubeToken);

    private static PropertyValue Strings(params string[] values) => PropertyValue.CreateArray(values.Select(PropertyValue.Create));

    /// <summary>A LabelSelector input: <c>matchLabels</c> and, optionally, one <c>matchExpressions</c> requirement.</summary>
    private static PropertyValue Selector(IReadOnlyDictionary<string, string>? labels, (string Key, string Operator, string[] Values)? expression = null)
    {
        var fields = new List<KeyValuePair<string, PropertyValue>>();
        if (labels is not null)
        {
            fields.Add(KeyValuePair.Create("matchLabels", PropertyValue.CreateObject(labels.Select(kv => KeyValuePair.Create(kv.Key, PropertyValue.Create(kv.Value))))));
        }
        if (expression is { } e)
        {
            var requirement = new List<KeyValuePair<string, PropertyValue>>
            {
                KeyValuePair.Create("key", PropertyValue.Create(e.Key)),
                KeyValuePair.Create("operator", PropertyValue.Create(e.Operator)),
            };
            if (e.Values.Length > 0)
            {
                requirement.Add(KeyValuePair.Create("values", Strings(e.Values)));
            }
            fields.Add(KeyValuePair.Create("matchExpressions", PropertyValue.CreateArray(PropertyValue.CreateObject(requirement))));
        }
        return PropertyValue.CreateObject(fields);
    }

    private static ImmutableSortedDictionary<string, PropertyValue> Inputs(FakeKubeApi api, string[] secrets, params (string Key, PropertyValue Value)[] fields)
    {
        var inputs = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, PropertyValue>
        {
            ["secretNames"] = Strings(secrets),
            ["kubeconfig"] = PropertyValue.CreateSecret(PropertyValue.Create(Kubeconfig(api))),
        });
        foreach (var (key, value) in fields)
        {
            inputs = inputs.SetItem(key, value);
        }
        return inputs;
    }

    private static Task<(RegistryInfra.Protocol.Hosting.Provider Provider, IAsyncDisposable? Process)> ProviderAsync(bool plugin) => AttachmentHosts.ProviderAsync(plugin, Ct);

    private static async Task<IReadOnlyDictionary<string, PropertyValue>> CheckedAsync(RegistryInfra.Protocol.Hosting.Provider provider,
        IReadOnlyDictionary<string, PropertyValue> olds, IReadOnlyDictionary<string, PropertyValue> news)
    {
        var check = await provider.CheckAsync(new CheckRequest(Urn, Type, Name, olds, news, []), Ct);
        Assert.Empty(check.Failures);
        return check.Inputs!;
    }

    private static Task<CreateResponse> CreateAsync(RegistryInfra.Protocol.Hosting.Provider provider, IReadOnlyDictionary<string, PropertyValue> inputs, bool preview = false) =>
        provider.CreateAsync(new CreateRequest(Urn, Type, Name, inputs, TimeSpan.Zero, Preview: preview), Ct);

    /// <summary>Diff (which must be an update, never a replace) then Update, as the engine runs them.</summary>
    private static async Task<UpdateResponse> UpdateAsync(RegistryInfra.Protocol.Hosting.Provider provider, string id, IReadOnlyDictionary<string, PropertyValue> state,
        IReadOnlyDictionary<string, PropertyValue> olds, IReadOnlyDictionary<string, PropertyValue> news)
    {
        var diff = await provider.DiffAsync(new DiffRequest(Urn, Type, Name, id, state, olds, news, []), Ct);
        Assert.True(diff.HasChanges);
        Assert.Empty(diff.Replaces);
        return await provider.UpdateAsync(new UpdateRequest(id, Urn, Type, Name, state, olds, news, TimeSpan.Zero, [], Preview: false), Ct);
    }

    private static int Count(IReadOnlyDictionary<string, PropertyValue> state, string output) => (int)state[output].NumberValue;

    private static IReadOnlyList<string> Missing(IReadOnlyDictionary<string, PropertyValue> state) =>
        [.. state["missingServiceAccounts"].ArrayValue.Select(v => v.StringValue)];

    private static string? Recorded(FakeKubeApi api, string ns, string account) =>
        (string?)api.GetServiceAccount(ns, account)?["metadata"]?["annotations"]?[Annotation];

    /// <summary>No non-secret output holds the kubeconfig's bearer token (or the kubeconfig).</summary>
    private static void NoCredentialIn(IReadOnlyDictionary<string, PropertyValue> properties)
    {
        var plain = string.Concat(properties.Where(kv => !kv.Value.IsSecret).Select(kv => kv.Key + "=" + kv.Value.ToString()));
        Assert.DoesNotContain(KubeToken, plain, StringComparison.Ordinal);
        Assert.DoesNotContain("certificate-authority-data", plain, StringComparison.Ordinal);
        Assert.True(properties["kubeconfig"].IsSecret);
    }

    private static readonly Dictionary<string, string> Team = new(StringComparer.Ordinal) { ["team"] = "payments" };

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task A_namespace_selector_attaches_in_every_matching_namespace_but_excluded_and_terminating_ones_and_reports_missing_accounts(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        foreach (var ns in new[] { "pay-api", "pay-jobs", "pay-sandbox", "pay-old", "web" })
        {
            api.AddNamespace(ns, ns == "web" ? new Dictionary<string, string> { ["team"] = "web" } : Team);
            api.AddServiceAccount(ns, "default", "theirs-pull");
        }
        api.AddServiceAccount("pay-api", "builder");
        api.MarkNamespaceTerminating("pay-old");
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["pull", "pull-tokens"],
            ("namespaceSelector", Selector(Team)), ("excludeNamespaces", Strings("*-sandbox")), ("serviceAccounts", Strings("default", "builder"))));

        // Preview: no request; the outputs that echo inputs stay known, those the cluster decides are unknown.
        api.ResetCounters();
        var preview = await CreateAsync(provider, inputs, preview: true);
        Assert.Equal(0, api.TotalRequests);
        Assert.False(preview.Properties["namespaceSelector"].ContainsUnknowns());
        Assert.Equal("*-sandbox", preview.Properties["excludeNamespaces"].ArrayValue.Single().StringValue);
        Assert.True(preview.Properties["namespaceCount"].IsComputed);
        Assert.True(preview.Properties["missingServiceAccounts"].IsComputed);

        var created = await CreateAsync(provider, inputs);
        Assert.Equal($"*/{Name}", created.Id);
        Assert.Equal(["theirs-pull", "pull", "pull-tokens"], api.ImagePullSecrets("pay-api", "default"));
        Assert.Equal(["pull", "pull-tokens"], api.ImagePullSecrets("pay-api", "builder"));
        Assert.Equal(["theirs-pull", "pull", "pull-tokens"], api.ImagePullSecrets("pay-jobs", "default"));
        Assert.Equal("pull,pull-tokens", Recorded(api, "pay-jobs", "default"));
        // Excluded, Terminating and not-matching namespaces are untouched.
        Assert.Equal(["theirs-pull"], api.ImagePullSecrets("pay-sandbox", "default"));
        Assert.Equal(["theirs-pull"], api.ImagePullSecrets("pay-old", "default"));
        Assert.Equal(["theirs-pull"], api.ImagePullSecrets("web", "default"));
        Assert.Null(Recorded(api, "web", "default"));
        Assert.Equal(2, Count(created.Properties, "namespaceCount"));
        Assert.Equal(3, Count(created.Properties, "serviceAccountCount"));
        Assert.Equal(3, Count(created.Properties, "attachedCount"));
        Assert.Equal(["pay-jobs/builder"], Missing(created.Properties));
        Assert.Equal(1, Count(created.Properties, "missingCount"));
        // The state keeps no per-account record cluster-wide: the annotations are the record.
        Assert.Empty(created.Properties["attached"].ObjectValue);
        NoCredentialIn(created.Properties);

        // Cluster-wide, a named account missing in some namespaces is the normal state of a selection: no perpetual diff.
        var unchanged = await provider.DiffAsync(new DiffRequest(Urn, Type, Name, created.Id, created.Properties, inputs, inputs, []), Ct);
        Assert.False(unchanged.HasChanges);

        // The account appears and a new namespace matches: refresh counts what the selection holds now, writing nothing,
        // and the accounts that lack the names make the next diff an update, which attaches them.
        api.AddServiceAccount("pay-jobs", "builder");
        api.AddNamespace("pay-new", Team);
        api.AddServiceAccount("pay-new", "default");
        api.ResetCounters();
        var read = await provider.ReadAsync(new ReadRequest(created.Id, Urn, Type, Name, created.Properties, inputs), Ct);
        Assert.Equal(0, api.WriteCount("serviceaccounts"));
        Assert.Equal(3, Count(read.Properties, "namespaceCount"));
        Assert.Equal(5, Count(read.Properties, "serviceAccountCount"));
        Assert.Equal(3, Count(read.Properties, "attachedCount"));
        Assert.Equal(["pay-new/builder"], Missing(read.Properties));
        NoCredentialIn(read.Properties);
        var updated = await UpdateAsync(provider, created.Id, read.Properties, inputs, inputs);
        Assert.Equal(["pull", "pull-tokens"], api.ImagePullSecrets("pay-jobs", "builder"));
        Assert.Equal(["pull", "pull-tokens"], api.ImagePullSecrets("pay-new", "default"));
        Assert.Equal(["pay-new/builder"], Missing(updated.Properties));
        Assert.Equal(5, Count(updated.Properties, "attachedCount"));
        var after = await provider.DiffAsync(new DiffRequest(Urn, Type, Name, created.Id, updated.Properties, inputs, inputs, []), Ct);
        Assert.False(after.HasChanges);
        NoCredentialIn(updated.Properties);
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task All_namespaces_with_all_service_accounts_or_those_a_selector_matches(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        foreach (var ns in new[] { "a", "b", "kube-system" })
        {
            api.AddNamespace(ns);
            api.AddServiceAccount(ns, "default");
            api.AddServiceAccount(ns, "ci");
            api.SetLabels("serviceaccounts", ns, "ci", new Dictionary<string, string> { ["pulls"] = "private" });
        }
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        // Every account of every namespace but kube-*.
        var all = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["pull"],
            ("allNamespaces", PropertyValue.Create(true)), ("excludeNamespaces", Strings("kube-*")), ("allServiceAccounts", PropertyValue.Create(true))));
        var created = await CreateAsync(provider, all);
        Assert.Equal(["pull"], api.ImagePullSecrets("a", "default"));
        Assert.Equal(["pull"], api.ImagePullSecrets("b", "ci"));
        Assert.Empty(api.ImagePullSecrets("kube-system", "default"));
        Assert.Equal(2, Count(created.Properties, "namespaceCount"));
        Assert.Equal(4, Count(created.Properties, "attachedCount"));
        Assert.Empty(Missing(created.Properties));

        // Narrowed to the accounts labelled pulls=private (a set-based requirement): the others lose our name.
        var selected = await CheckedAsync(provider, all, Inputs(api, ["pull"],
            ("allNamespaces", PropertyValue.Create(true)), ("excludeNamespaces", Strings("kube-*")),
            ("serviceAccountSelector", Selector(null, ("pulls", "In", ["private", "mirror"])))));
        var updated = await UpdateAsync(provider, created.Id, created.Properties, all, selected);
        Assert.Equal(["pull"], api.ImagePullSecrets("a", "ci"));
        Assert.Equal(["pull"], api.ImagePullSecrets("b", "ci"));
        Assert.Empty(api.ImagePullSecrets("a", "default"));
        Assert.Null(Recorded(api, "a", "default"));
        Assert.Empty(api.ImagePullSecrets("kube-system", "ci"));
        Assert.Equal(2, Count(updated.Properties, "attachedCount"));
        NoCredentialIn(updated.Properties);
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task An_update_that_moves_the_selection_removes_our_names_where_it_left_adds_them_where_it_came_and_keeps_theirs(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        foreach (var ns in new[] { "one", "two", "three" })
        {
            api.AddNamespace(ns, Team);
            api.AddServiceAccount(ns, "default", "theirs-pull");
        }
        api.AddNamespace("four", new Dictionary<string, string> { ["team"] = "search" });
        api.AddServiceAccount("four", "default");
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["pull", "pull-tokens"], ("namespaceSelector", Selector(Team))));
        var created = await CreateAsync(provider, inputs);
        Assert.Equal(3, Count(created.Properties, "namespaceCount"));
        // Another writer adds a name in "one" after us; the refresher (another RegistryInfra writer) records one of its own in "two".
        api.AddServiceAccount("one", "default", [.. api.ImagePullSecrets("one", "default"), "later-theirs"]);
        api.SetServiceAccountAnnotation("one", "default", Annotation, "pull,pull-tokens");
        api.AddServiceAccount("two", "default", [.. api.ImagePullSecrets("two", "default"), "other-pull"]);
        api.SetServiceAccountAnnotation("two", "default", Annotation, "other-pull,pull,pull-tokens");

        // "one" is relabelled out, "three" excluded, "four" comes in by the new selector; the token secret is dropped.
        api.SetLabels("namespaces", "", "one", new Dictionary<string, string> { ["team"] = "moved" });
        var moved = await CheckedAsync(provider, inputs, Inputs(api, ["pull"],
            ("namespaceSelector", Selector(null, ("team", "In", ["payments", "search"]))), ("excludeNamespaces", Strings("three"))));
        var updated = await UpdateAsync(provider, created.Id, created.Properties, inputs, moved);

        Assert.Equal(["theirs-pull", "later-theirs"], api.ImagePullSecrets("one", "default"));
        Assert.Null(Recorded(api, "one", "default"));
        Assert.Equal(["theirs-pull", "pull", "other-pull"], api.ImagePullSecrets("two", "default"));
        Assert.Equal("other-pull,pull", Recorded(api, "two", "default"));
        Assert.Equal(["theirs-pull"], api.ImagePullSecrets("three", "default"));
        Assert.Equal(["pull"], api.ImagePullSecrets("four", "default"));
        Assert.Equal(2, Count(updated.Properties, "namespaceCount"));
        Assert.Equal(2, Count(updated.Properties, "attachedCount"));
        NoCredentialIn(updated.Properties);
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Delete_removes_our_names_in_every_namespace_they_are_recorded_and_leaves_theirs(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        var namespaces = new[] { "n1", "n2", "n3", "n4" };
        foreach (var ns in namespaces)
        {
            api.AddNamespace(ns, Team);
            api.AddServiceAccount(ns, "default", "theirs-pull");
            api.AddServiceAccount(ns, "worker", "pull");
        }
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["pull"], ("allNamespaces", PropertyValue.Create(true)),
            ("allServiceAccounts", PropertyValue.Create(true))));
        var created = await CreateAsync(provider, inputs);
        // worker already named "pull" (someone else's): not recorded, never ours.
        Assert.Null(Recorded(api, "n1", "worker"));
        Assert.Equal(8, Count(created.Properties, "attachedCount"));
        // A namespace created after the apply, where the refresher recorded our name (and one of another RegistryInfra secret).
        api.AddNamespace("n5", Team);
        api.AddServiceAccount("n5", "default", "pull", "shared-pull");
        api.SetServiceAccountAnnotation("n5", "default", Annotation, "pull,shared-pull");

        await provider.DeleteAsync(new DeleteRequest(created.Id, Urn, Type, Name, created.Properties, inputs, TimeSpan.Zero), Ct);

        foreach (var ns in namespaces)
        {
            Assert.Equal(["theirs-pull"], api.ImagePullSecrets(ns, "default"));
            Assert.Null(Recorded(api, ns, "default"));
            Assert.Equal(["pull"], api.ImagePullSecrets(ns, "worker"));
        }
        Assert.Equal(["shared-pull"], api.ImagePullSecrets("n5", "default"));
        Assert.Equal("shared-pull", Recorded(api, "n5", "default"));
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Conflicting_writers_are_retried_on_409_in_cluster_mode_and_nothing_of_theirs_is_lost(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(new FakeKubeFaults { ConflictOnFirstWrite = true }, tls: true, Ct);
        foreach (var ns in new[] { "x", "y", "z" })
        {
            api.AddNamespace(ns, Team);
            api.AddServiceAccount(ns, "default", "theirs-pull");
        }
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["pull"], ("namespaceSelector", Selector(Team))));
        var created = await CreateAsync(provider, inputs);

        Assert.True(api.InjectedFaults >= 3);
        foreach (var ns in new[] { "x", "y", "z" })
        {
            Assert.Equal(["theirs-pull", "pull"], api.ImagePullSecrets(ns, "default"));
        }
        Assert.Equal(3, Count(created.Properties, "attachedCount"));

        // The delete's first writes conflict too (the fake answers 409 to each object's first write again once reset).
        api.Faults = new FakeKubeFaults { ConflictOnFirstWrite = true };
        await provider.DeleteAsync(new DeleteRequest(created.Id, Urn, Type, Name, created.Properties, inputs, TimeSpan.Zero), Ct);
        foreach (var ns in new[] { "x", "y", "z" })
        {
            Assert.Equal(["theirs-pull"], api.ImagePullSecrets(ns, "default"));
        }
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task More_namespaces_than_one_page_are_listed_in_pages_and_an_expired_continue_token_restarts_the_list(bool plugin)
    {
        // 510 namespaces and accounts: two pages of 500 each; the first continue token presented is answered 410 Expired.
        await using var api = await FakeKubeApi.StartAsync(new FakeKubeFaults { ExpiredContinueTokens = 1 }, tls: true, Ct);
        var names = Enumerable.Range(0, 510).Select(i => $"ns-{i:D4}").ToList();
        api.AddNamespaces(names, Team, "default");
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["pull"], ("namespaceSelector", Selector(Team))));
        api.ResetCounters();
        var created = await CreateAsync(provider, inputs);

        Assert.Equal(510, Count(created.Properties, "namespaceCount"));
        Assert.Equal(510, Count(created.Properties, "attachedCount"));
        Assert.All(names, ns => Assert.Equal(["pull"], api.ImagePullSecrets(ns, "default")));
        // Namespaces: page 1, page 2 refused (410), page 1 again, page 2; service accounts: two pages; one patch per account.
        Assert.Equal(4, api.RequestCount("LIST", "namespaces"));
        Assert.Equal(2, api.RequestCount("LIST", "serviceaccounts"));
        Assert.Equal(510, api.RequestCount("PATCH", "serviceaccounts"));

        // An unchanged update writes nothing.
        api.ResetCounters();
        await provider.UpdateAsync(new UpdateRequest(created.Id, Urn, Type, Name, created.Properties, inputs, inputs, TimeSpan.Zero, [], Preview: false), Ct);
        Assert.Equal(0, api.WriteCount("serviceaccounts"));
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task The_state_does_not_grow_with_the_cluster(bool plugin)
    {
        // 1,200 namespaces, each with "default" but without "builder": the annotations are the record, the state keeps counts
        // and the first 100 missing accounts.
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        var names = Enumerable.Range(0, 1200).Select(i => $"team-{i:D4}").ToList();
        api.AddNamespaces(names, Team, "default");
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["pull"], ("allNamespaces", PropertyValue.Create(true)),
            ("serviceAccounts", Strings("default", "builder"))));
        var created = await CreateAsync(provider, inputs);

        Assert.Equal(1200, Count(created.Properties, "attachedCount"));
        Assert.Equal(1200, Count(created.Properties, "missingCount"));
        Assert.Equal([.. names.Take(100).Select(n => n + "/builder")], Missing(created.Properties));
        var size = string.Concat(created.Properties.Where(kv => kv.Key != "kubeconfig").Select(kv => kv.Key + kv.Value.ToString())).Length;
        Assert.True(size < 8_000, $"the state without the kubeconfig is {size} characters");
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Switching_between_one_namespace_and_a_selection_is_an_update_either_way(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        foreach (var ns in new[] { "apps", "jobs" })
        {
            api.AddNamespace(ns, Team);
            api.AddServiceAccount(ns, "default", "theirs-pull");
        }
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var one = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["pull"], ("namespace", PropertyValue.Create("apps"))));
        var created = await CreateAsync(provider, one);
        Assert.Equal(["theirs-pull", "pull"], api.ImagePullSecrets("apps", "default"));

        var selected = await CheckedAsync(provider, one, Inputs(api, ["pull"], ("namespaceSelector", Selector(Team))));
        var widened = await UpdateAsync(provider, created.Id, created.Properties, one, selected);
        Assert.Equal(["theirs-pull", "pull"], api.ImagePullSecrets("jobs", "default"));
        Assert.Equal(2, Count(widened.Properties, "namespaceCount"));

        // Back to one namespace: "jobs" left the selection and loses our name; the per-account record is back in the state.
        var narrowed = await UpdateAsync(provider, created.Id, widened.Properties, selected, one);
        Assert.Equal(["theirs-pull"], api.ImagePullSecrets("jobs", "default"));
        Assert.Equal(["theirs-pull", "pull"], api.ImagePullSecrets("apps", "default"));
        Assert.Equal(["pull"], narrowed.Properties["attached"].ObjectValue["default"].ArrayValue.Select(v => v.StringValue));

        await provider.DeleteAsync(new DeleteRequest(created.Id, Urn, Type, Name, narrowed.Properties, one, TimeSpan.Zero), Ct);
        Assert.Equal(["theirs-pull"], api.ImagePullSecrets("apps", "default"));
    }

    public static TheoryData<string, string> BadCombinations => new()
    {
        { "none", "namespace" },
        { "namespace+all", "allNamespaces" },
        { "selector+all", "allNamespaces" },
        { "exclude-with-namespace", "excludeNamespaces" },
        { "bad-exclude", "excludeNamespaces[1]" },
        { "accounts+all", "allServiceAccounts" },
        { "accounts+selector", "serviceAccountSelector" },
        { "bad-operator", "namespaceSelector.matchExpressions[0].operator" },
        { "in-without-values", "serviceAccountSelector.matchExpressions[0].values" },
    };

    [Theory]
    [MemberData(nameof(BadCombinations))]
    public async Task Bad_combinations_are_refused_at_check_naming_the_field_in_process_and_through_the_plugin(string combination, string field)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        var all = ("allNamespaces", PropertyValue.Create(true));
        var news = combination switch
        {
            "none" => Inputs(api, ["pull"]),
            "namespace+all" => Inputs(api, ["pull"], ("namespace", PropertyValue.Create("apps")), all),
            "selector+all" => Inputs(api, ["pull"], ("namespaceSelector", Selector(Team)), all),
            "exclude-with-namespace" => Inputs(api, ["pull"], ("namespace", PropertyValue.Create("apps")), ("excludeNamespaces", Strings("kube-*"))),
            "bad-exclude" => Inputs(api, ["pull"], all, ("excludeNamespaces", Strings("kube-*", "Kube_System"))),
            "accounts+all" => Inputs(api, ["pull"], all, ("serviceAccounts", Strings("default")), ("allServiceAccounts", PropertyValue.Create(true))),
            "accounts+selector" => Inputs(api, ["pull"], all, ("serviceAccounts", Strings("default")), ("serviceAccountSelector", Selector(Team))),
            "bad-operator" => Inputs(api, ["pull"], ("namespaceSelector", Selector(null, ("team", "Near", ["x"])))),
            _ => Inputs(api, ["pull"], all, ("serviceAccountSelector", Selector(null, ("pulls", "In", [])))),
        };
        foreach (var plugin in new[] { false, true })
        {
            var (provider, process) = await ProviderAsync(plugin);
            await using var _ = process;

            var check = await provider.CheckAsync(new CheckRequest(Urn, Type, Name, ImmutableDictionary<string, PropertyValue>.Empty, news, []), Ct);

            var failure = Assert.Single(check.Failures);
            Assert.Equal(field, failure.Property);
            Assert.DoesNotContain(KubeToken, failure.Reason, StringComparison.Ordinal);
        }
        Assert.Equal(0, api.TotalRequests);
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task A_selector_with_parts_unknown_in_preview_is_not_refused_and_the_preview_makes_no_request(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;
        // The values of an In requirement come from another resource's output, not known until the update.
        var selector = PropertyValue.CreateObject(("matchExpressions", PropertyValue.CreateArray(PropertyValue.CreateObject(
            ("key", PropertyValue.Create("team")), ("operator", PropertyValue.Create("In")), ("values", PropertyValue.Computed)))));
        var news = Inputs(api, ["pull"], ("namespaceSelector", selector), ("excludeNamespaces", Strings("kube-*")));

        var check = await provider.CheckAsync(new CheckRequest(Urn, Type, Name, ImmutableDictionary<string, PropertyValue>.Empty, news, []), Ct);
        Assert.Empty(check.Failures);
        var preview = await CreateAsync(provider, check.Inputs!, preview: true);

        Assert.Equal(0, api.TotalRequests);
        Assert.True(preview.Properties["namespaceSelector"].ContainsUnknowns());
        Assert.Equal("kube-*", preview.Properties["excludeNamespaces"].ArrayValue.Single().StringValue);
        Assert.Equal("pull", preview.Properties["secretNames"].ArrayValue.Single().StringValue);
        Assert.True(preview.Properties["attachedCount"].IsComputed);
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Without_any_account_input_the_default_account_is_attached(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        api.AddNamespace("apps");
        api.AddServiceAccount("apps", "default");
        api.AddServiceAccount("apps", "builder");
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["pull"], ("allNamespaces", PropertyValue.Create(true))));
        Assert.Equal(["default"], inputs["serviceAccounts"].ArrayValue.Select(v => v.StringValue));
        await CreateAsync(provider, inputs);

        Assert.Equal(["pull"], api.ImagePullSecrets("apps", "default"));
        Assert.Empty(api.ImagePullSecrets("apps", "builder"));
    }
}
