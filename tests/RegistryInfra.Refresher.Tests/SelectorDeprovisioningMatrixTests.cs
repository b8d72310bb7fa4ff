using System.Collections.Immutable;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Components.PullSecret;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Testing.Components;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// Guarantee 3 for ClusterRegistryAccess by namespace selector, and for all namespaces with exclusions: each removal
/// played as an update plays it against the fake API, from the component's own plan. During the program Pulumi writes
/// the refresher's namespace, the source Secret (the static credentials), the refresher's ClusterRole and configuration;
/// the run-on-deploy Job runs the refresher with the generated configuration (it copies the source into every selected
/// namespace, renews the token Secrets, attaches the service accounts it selects, and prunes its own Secrets and names
/// where the selection left); then the cluster-wide PullSecretAttachment is created or updated through the provider
/// (after the refresher, as the component orders it). Only then does the engine delete what left the program, dependents
/// first (pulumi/pulumi pkg/resource/deploy/deployment_executor.go performPostSteps, 1b5949891b3c): the attachment (its
/// Delete removes its names everywhere they are recorded), then the refresher's children with foreground propagation
/// (pulumi-kubernetes 94977969d641 provider/pkg/metadata/overrides.go): the ClusterRole's deletion garbage-collects every
/// copy and token Secret (their ownerReference names it), the configuration ConfigMap's the ledger. Every namespace also
/// holds another owner's Secret and names, and a Secret of our name that is not ours stays in a namespace never selected.
/// </summary>
public sealed class SelectorDeprovisioningMatrixTests(ITestOutputHelper output)
{
    private const string Static = "access-pull";
    private const string Token = Static + PullSecretComponent.TokenSecretSuffix;
    private const string Source = Static + PullSecretComponent.SourceSuffix;
    private const string Theirs = "their-pull";
    private const string RefresherNamespace = "access-refresher";
    private const string ConfigMap = "registryinfra-refresher-config";
    private const string Ledger = "registryinfra-refresher-attachments";
    private const string Image = "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string SecondServer = "234567890123.dkr.ecr.us-east-1.amazonaws.com";
    private const string AttachmentType = "registryinfra:kubernetes:PullSecretAttachment";
    private static readonly string ClusterRole = RefresherRbac.ClusterRoleName(RefresherNamespace, TokenRefresherComponent.DefaultServiceAccountName);
    private static readonly string[] Namespaces = ["apps", "jobs", "web", "kube-system"];
    private static readonly string[] Accounts = ["default", "builder"];
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>What the program declares: the selection form, what it leaves out, registries, accounts; absent once the component is gone.</summary>
    private sealed record Declared(bool Selector, string[] Excluded, string[] Registries, bool AllAccounts, bool Present = true)
    {
        /// <summary>The namespaces carrying the selected label (selector form).</summary>
        public string[] Labelled { get; init; } = ["apps", "jobs"];

        /// <summary>The service accounts carrying the selected label (selector form).</summary>
        public string[] LabelledAccounts { get; init; } = Accounts;
    }

    public static TheoryData<string, string> Removals => new()
    {
        { "selector", "namespace" }, { "selector", "registry" }, { "selector", "service account" }, { "selector", "component" }, { "selector", "cluster" }, { "selector", "stack" },
        { "all", "namespace" }, { "all", "registry" }, { "all", "service account" }, { "all", "component" }, { "all", "cluster" }, { "all", "stack" },
    };

    [Theory]
    [MemberData(nameof(Removals))]
    public async Task Removal_leaves_nothing_of_ours_and_all_of_theirs(string form, string removal)
    {
        await using var bed = await RefresherTestBed.StartAsync();
        var attachment = new ClusterAttachment(bed.Api);
        var rbac = new PlannedObjects(bed.Api);
        foreach (var ns in Namespaces)
        {
            bed.Api.AddNamespace(ns, ns is "apps" or "jobs" ? new Dictionary<string, string> { ["team"] = "pay" } : null);
            bed.Api.AddSecret(ns, Theirs, "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = RefresherTestBed.Utf8("""{"auths":{"quay.io":{"auth":"eDp5"}}}""") });
            foreach (var account in Accounts)
            {
                bed.Api.AddServiceAccount(ns, account, Theirs);
                bed.Api.SetLabels("serviceaccounts", ns, account, new Dictionary<string, string> { ["pulls"] = "private" });
            }
        }
        // A Secret of our name in a namespace the selection never reaches, not ours: it stays whatever happens.
        bed.Api.AddSecret("kube-system", Static, "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = RefresherTestBed.Utf8("""{"auths":{}}""") });
        var full = new Declared(form == "selector", ["kube-*"], [RefresherTestBed.EcrServer, SecondServer], AllAccounts: form == "all");

        await DeployAsync(bed, attachment, rbac, full, null);
        var before = Count(bed);
        var theirsBefore = TheirsNow(bed);
        var expectedBefore = Expected(full);
        Assert.True(expectedBefore.SetEquals(before), $"after the deploy, unexpected [{string.Join(", ", before.Except(expectedBefore))}], missing [{string.Join(", ", expectedBefore.Except(before))}]");

        var step = removal switch
        {
            // Selector: jobs loses its label; all namespaces: the program excludes it.
            "namespace" when form == "selector" => Relabel(bed, full),
            "namespace" => full with { Excluded = ["kube-*", "jobs"] },
            "registry" => full with { Registries = [RefresherTestBed.EcrServer] },
            // Selector: builder loses its label; all service accounts: the program names only default.
            "service account" when form == "selector" => RelabelAccounts(bed, full),
            "service account" => full with { AllAccounts = false },
            _ => full with { Present = false },
        };
        await DeployAsync(bed, attachment, rbac, step, full);
        var after = Count(bed);
        var wanted = Expected(step);
        var left = after.Except(wanted).Order(StringComparer.Ordinal).ToList();
        var missing = wanted.Except(after).Order(StringComparer.Ordinal).ToList();

        output.WriteLine($"{form} / {removal}: ours before {before.Count}, after {after.Count}, left behind {left.Count} [{string.Join(", ", left)}],"
            + $" missing {missing.Count} [{string.Join(", ", missing)}]; theirs before {theirsBefore.Count}, after {TheirsNow(bed).Count}, changed {theirsBefore.Except(TheirsNow(bed)).Count()}");
        Assert.Equal(theirsBefore, TheirsNow(bed));
        Assert.Empty(missing);
        // An account relabelled out of serviceAccountSelector in a namespace still selected loses our names at the next run
        // (the refresher matches the selector itself over the namespace's one LIST of accounts), theirs stay.
        Assert.Empty(left);
        // No account keeps our annotation for a name it lost.
        Assert.All(Namespaces.SelectMany(ns => Accounts.Select(a => bed.Api.GetServiceAccount(ns, a))),
            account => Assert.True(account!["metadata"]!["annotations"]?["registryinfra.io/added-image-pull-secrets"] is not JsonValue recorded
                || recorded.GetValue<string>().Split(',').All(n => account["imagePullSecrets"]!.AsArray().Any(r => (string?)r!["name"] == n))));
    }

    private static Declared Relabel(RefresherTestBed bed, Declared full)
    {
        bed.Api.SetNamespaceLabel("jobs", "team", null);
        return full with { Labelled = ["apps"] };
    }

    private static Declared RelabelAccounts(RefresherTestBed bed, Declared full)
    {
        foreach (var ns in Namespaces)
        {
            bed.Api.SetLabels("serviceaccounts", ns, "builder", new Dictionary<string, string>());
        }
        return full with { LabelledAccounts = ["default"] };
    }

    private static ClusterRegistryAccessArgs Args(Declared declared, string kubeconfig)
    {
        var profiles = string.Join(", ", declared.Registries.Select(s => $$"""{ "server": "{{s}}", "kind": "ecr" }"""));
        var selection = declared.Selector
            ? """ "namespaceSelector": { "matchLabels": { "team": "pay" } }, "excludeNamespaces": [{{EXCLUDED}}] """
            : """ "allNamespaces": true, "excludeNamespaces": [{{EXCLUDED}}] """;
        selection = selection.Replace("{{EXCLUDED}}", string.Join(", ", declared.Excluded.Select(e => $"\"{e}\"")), StringComparison.Ordinal);
        var accounts = declared.AllAccounts ? """ "allServiceAccounts": true """
            : declared.Selector ? """ "serviceAccountSelector": { "matchLabels": { "pulls": "private" } } """ : """ "serviceAccounts": ["default"] """;
        return ComponentPlans.Bind<ClusterRegistryAccessArgs>(JsonNode.Parse($$"""
            { "profiles": [{ "server": "ghcr.io", "username": "octo", "password": "static-pw" }, {{profiles}}], "secretName": "{{Static}}",
              {{selection}}, {{accounts}}, "kubeconfig": {{JsonValue.Create(kubeconfig).ToJsonString()}},
              "refresher": { "image": "{{Image}}", "namespace": "{{RefresherNamespace}}" },
              "aws": { "oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC", "region": "eu-west-1", "repositories": ["app"] } }
            """)!.AsObject());
    }

    /// <summary>
    /// One update: the program's writes (the refresher's Roles, ClusterRole and bindings as the component generates them), the
    /// Job as the refresher's service account with RBAC enforced, the attachment, then the deletes of what left the program.
    /// </summary>
    private static async Task DeployAsync(RefresherTestBed bed, ClusterAttachment attachment, PlannedObjects rbac, Declared declared, Declared? previous)
    {
        if (declared.Present)
        {
            var plan = ComponentPlans.Build(ClusterRegistryAccessComponent.Instance, "access", Args(declared, attachment.Kubeconfig));
            Assert.Empty(plan.LeftOut);
            if (!bed.Api.ObjectKeys().Contains($"namespaces//{RefresherNamespace}"))
            {
                bed.Api.AddNamespace(RefresherNamespace);
            }
            var source = plan.Children.Single(c => c.Type == PullSecretComponent.SecretType && c.Name.EndsWith(PullSecretComponent.SourceSuffix, StringComparison.Ordinal));
            Assert.Equal(Source, source.Inputs["metadata"]!["name"]!.GetValue<string>());
            var document = RefresherTestBed.Utf8(source.Inputs["stringData"]![".dockerconfigjson"]!.GetValue<string>());
            if (bed.Api.GetSecret(RefresherNamespace, Source) is null)
            {
                bed.Api.AddSecret(RefresherNamespace, Source, "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = document });
            }
            Assert.Equal(ClusterRole, plan.Children.Single(c => c.Type == RefresherRbac.ClusterRoleType).Inputs["metadata"]!["name"]!.GetValue<string>());
            rbac.Register(plan, PlannedObjects.IsRbac);
            var (refresherNs, refresherAccount) = PlannedObjects.BoundAccount(plan);
            bed.AsServiceAccount(refresherNs, refresherAccount);
            if (bed.Api.GetConfigMap(RefresherNamespace, ConfigMap) is null)
            {
                bed.Api.AddConfigMap(RefresherNamespace, ConfigMap);
            }
            var text = plan.Children.Single(c => c.Type == TokenRefresherComponent.ConfigMapType && c.Inputs["data"]?[RefresherPod.ConfigKey] is not null).Inputs["data"]![RefresherPod.ConfigKey]!.GetValue<string>();
            var summary = await bed.RunAsync(ConfigurationReading.Read(text));
            Assert.True(bed.Api.DeniedRequests.Count == 0, "forbidden: " + string.Join("; ", bed.Api.DeniedRequests));
            Assert.Equal(0, summary.Failed);
            await attachment.ApplyAsync(plan.Children.Single(c => c.Type == AttachmentType).Inputs, Ct);
            rbac.DeleteLeftOut();
            return;
        }
        if (previous is not null)
        {
            // Dependents first: the attachment (after the refresher in the program) goes before the refresher's children.
            await attachment.DeleteAsync(Ct);
            bed.Api.Delete("configmaps", RefresherNamespace, ConfigMap, "Foreground");
            bed.Api.Delete("clusterroles", "", ClusterRole, "Foreground");
            bed.Api.Delete("secrets", RefresherNamespace, Source, "Foreground");
            bed.Api.Delete("namespaces", "", RefresherNamespace, "Foreground");
            rbac.RegisterNothing();
            rbac.DeleteLeftOut();
        }
    }

    /// <summary>What of ours the program still wants: the selected namespaces' copies, token Secrets, entries and names.</summary>
    private static HashSet<string> Expected(Declared declared)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal);
        if (!declared.Present)
        {
            return expected;
        }
        // The ledger holds one scope line per target that attaches all or a selector's accounts (*/*/secret: swept once no
        // target has it); once written it stays, perhaps empty, until garbage collection with the configuration ConfigMap.
        expected.UnionWith([$"secrets/{RefresherNamespace}/{Source}", $"configmaps/{RefresherNamespace}/{ConfigMap}", $"clusterroles//{ClusterRole}",
            $"configmaps/{RefresherNamespace}/{Ledger}"]);
        foreach (var ns in Selected(declared))
        {
            expected.UnionWith([$"secrets/{ns}/{Token}", $"secrets/{ns}/{Static}", $"entry {ns}/{Static}/ghcr.io"]);
            expected.UnionWith(declared.Registries.Select(r => $"entry {ns}/{Token}/{r}"));
            // The refresher's namespace holds no account of the test's (its own is not in the fake).
            foreach (var account in ns == RefresherNamespace ? [] : SelectedAccounts(declared))
            {
                expected.UnionWith([$"name {ns}/{account}/{Token}", $"name {ns}/{account}/{Static}"]);
            }
        }
        return expected;
    }

    private static string[] Selected(Declared declared) => declared.Selector
        ? declared.Labelled
        // All namespaces: the refresher's own too (it is a namespace of the cluster like any other).
        : [.. Namespaces.Append(RefresherNamespace).Where(ns => !declared.Excluded.Any(e => e == ns || (e.EndsWith('*') && ns.StartsWith(e[..^1], StringComparison.Ordinal))))];

    private static string[] SelectedAccounts(Declared declared) => declared.AllAccounts ? Accounts : declared.Selector ? declared.LabelledAccounts : ["default"];

    /// <summary>Our objects, our dockerconfigjson entries and the service-account names we added, as they are now.</summary>
    private static HashSet<string> Count(RefresherTestBed bed)
    {
        var ours = bed.Api.ObjectKeys().Where(k => !k.StartsWith("roles/", StringComparison.Ordinal) && !k.StartsWith("rolebindings/", StringComparison.Ordinal)
            && !k.StartsWith("clusterrolebindings/", StringComparison.Ordinal)).Where(k => k.EndsWith("/" + Token, StringComparison.Ordinal) || k.EndsWith("/" + Source, StringComparison.Ordinal)
            || k.EndsWith("/" + ConfigMap, StringComparison.Ordinal) || k.EndsWith("/" + Ledger, StringComparison.Ordinal) || k.EndsWith("/" + ClusterRole, StringComparison.Ordinal)
            || (k.EndsWith("/" + Static, StringComparison.Ordinal) && k != $"secrets/kube-system/{Static}")).ToHashSet(StringComparer.Ordinal);
        foreach (var ns in Namespaces.Append(RefresherNamespace))
        {
            foreach (var name in new[] { Token, Static })
            {
                if (ns != "kube-system" && bed.DockerConfig(ns, name) is { } document)
                {
                    ours.UnionWith(document["auths"]!.AsObject().Select(kv => $"entry {ns}/{name}/{kv.Key}"));
                }
            }
            foreach (var account in Accounts)
            {
                ours.UnionWith(bed.Api.ImagePullSecrets(ns, account).Where(n => n is Token or Static).Select(n => $"name {ns}/{account}/{n}"));
            }
        }
        return ours;
    }

    /// <summary>The other owner's Secrets (with their data) and names, which must never change.</summary>
    private static List<string> TheirsNow(RefresherTestBed bed) =>
        [.. Namespaces.SelectMany(ns => Accounts.Select(a => $"{ns}/{a}: {string.Join(",", bed.Api.ImagePullSecrets(ns, a).Where(n => n == Theirs))}")
            .Append($"{ns}/{Theirs}: {Convert.ToBase64String(bed.Api.GetSecretData(ns, Theirs, ".dockerconfigjson") ?? [])}")),
         $"kube-system/{Static}: {Convert.ToBase64String(bed.Api.GetSecretData("kube-system", Static, ".dockerconfigjson") ?? [])}"];

    /// <summary>The component's one cluster-wide PullSecretAttachment, through the provider as the engine drives it.</summary>
    private sealed class ClusterAttachment(FakeKubeApi api)
    {
        private const string Name = "access-attachment";
        private const string Urn = $"urn:pulumi:test::fleet::{AttachmentType}::{Name}";
        private readonly Protocol.Hosting.Provider _provider = RegistryInfraPackage.CreateProvider();
        private (string Id, IReadOnlyDictionary<string, PropertyValue> Inputs, IReadOnlyDictionary<string, PropertyValue> State)? _live;

        public string Kubeconfig => "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"current-context\":\"fake\","
            + $"\"clusters\":[{{\"name\":\"fake\",\"cluster\":{{\"server\":\"{api.Host}\"{(api.CertificateAuthorityPem is null ? "" : $",\"certificate-authority-data\":\"{api.ClientCertificateAuthorityData}\"")}}}}}],"
            + "\"users\":[{\"name\":\"admin\",\"user\":{\"token\":\"kube-admin-token\"}}],\"contexts\":[{\"name\":\"fake\",\"context\":{\"cluster\":\"fake\",\"user\":\"admin\"}}]}";

        public async Task ApplyAsync(JsonObject planned, CancellationToken cancellationToken)
        {
            var news = planned.ToImmutableSortedDictionary(kv => kv.Key, kv => kv.Key == "kubeconfig" ? PropertyValue.CreateSecret(ComponentPlans.FromJson(kv.Value)) : ComponentPlans.FromJson(kv.Value), StringComparer.Ordinal);
            var check = await _provider.CheckAsync(new CheckRequest(Urn, AttachmentType, Name, _live?.Inputs ?? ImmutableDictionary<string, PropertyValue>.Empty, news, []), cancellationToken);
            Assert.Empty(check.Failures);
            if (_live is not { } live)
            {
                var created = await _provider.CreateAsync(new CreateRequest(Urn, AttachmentType, Name, check.Inputs!, TimeSpan.Zero, Preview: false), cancellationToken);
                _live = (created.Id, check.Inputs!, created.Properties);
                return;
            }
            var diff = await _provider.DiffAsync(new DiffRequest(Urn, AttachmentType, Name, live.Id, live.State, live.Inputs, check.Inputs!, []), cancellationToken);
            if (diff.HasChanges == true)
            {
                Assert.Empty(diff.Replaces);
                var updated = await _provider.UpdateAsync(new UpdateRequest(live.Id, Urn, AttachmentType, Name, live.State, live.Inputs, check.Inputs!, TimeSpan.Zero, [], Preview: false), cancellationToken);
                _live = (live.Id, check.Inputs!, updated.Properties);
            }
        }

        public async Task DeleteAsync(CancellationToken cancellationToken)
        {
            if (_live is { } live)
            {
                await _provider.DeleteAsync(new DeleteRequest(live.Id, Urn, AttachmentType, Name, live.State, live.Inputs, TimeSpan.Zero), cancellationToken);
                _live = null;
            }
        }
    }
}
