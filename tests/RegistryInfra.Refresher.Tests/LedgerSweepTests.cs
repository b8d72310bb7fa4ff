using RegistryInfra.Core.Refresher;
using static RegistryInfra.Refresher.Tests.RefresherTestBed;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// A target whose accounts the ledger does not list one by one is kept in it as a scope (<c>ns/*/secret</c> for all or a
/// selector's accounts of a listed namespace, <c>*/*/secret</c> for those of a namespace selection, <c>*/+a+b/secret</c> for
/// named accounts of a namespace selection). When the configuration no longer has that scope, one sweep of its accounts
/// removes every name of ours that no remaining target chooses; theirs stay, a failed sweep keeps the scope for the next run.
/// </summary>
public sealed class LedgerSweepTests
{
    private const string Instance = "registryinfra";
    private const string Home = "refresher";
    private const string LedgerName = "registryinfra-refresher-attachments";

    private static RefresherConfiguration With(params TargetConfiguration[] targets) => Options(tune: o => o with
    {
        Instance = Instance,
        Targets = targets,
        Ledger = new LedgerConfiguration { Namespace = Home, Name = LedgerName },
    });

    private static async Task<RefresherTestBed> ClusterAsync()
    {
        var bed = await StartAsync();
        bed.Api.AddNamespace(Home);
        foreach (var ns in (string[])["apps", "web"])
        {
            bed.Api.AddNamespace(ns, new Dictionary<string, string> { ["pull"] = "yes" });
            foreach (var account in (string[])["default", "builder"])
            {
                bed.Api.AddServiceAccount(ns, account, "their-pull");
            }
        }
        return bed;
    }

    /// <summary>Someone else's pull secret <c>shared-pull</c> in every namespace of the test, for attach-only targets.</summary>
    private static void AddTheirSharedSecret(RefresherTestBed bed)
    {
        foreach (var ns in (string[])["apps", "web"])
        {
            bed.Api.AddSecret(ns, "shared-pull", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = "{\"auths\":{}}"u8.ToArray() });
        }
    }

    private static string[] LedgerLines(RefresherTestBed bed) =>
        bed.Api.GetConfigMap(Home, LedgerName)?["data"]?["attachments"]?.GetValue<string>().Split('\n', StringSplitOptions.RemoveEmptyEntries) ?? [];

    [Fact]
    public async Task A_namespace_selection_that_goes_from_all_accounts_to_named_ones_loses_our_name_on_the_others_in_one_cluster_wide_sweep()
    {
        await using var bed = await ClusterAsync();
        var all = new TargetConfiguration { SecretName = "ecr-pull", NamespaceSelector = "pull=yes", AllServiceAccounts = true };
        var first = await bed.RunAsync(With(all));
        Assert.Equal(4, first.ServiceAccountsPatched);
        Assert.Equal(["*/*/ecr-pull"], LedgerLines(bed));

        bed.Api.ResetCounters();
        var named = all with { AllServiceAccounts = false, ServiceAccounts = ["default"] };
        var second = await bed.RunAsync(With(named));
        Assert.Equal((0, 2, 0), (second.Failed, second.Detached, second.DetachFailed));
        foreach (var ns in (string[])["apps", "web"])
        {
            Assert.Equal(["their-pull", "ecr-pull"], bed.Api.ImagePullSecrets(ns, "default"));
            Assert.Equal(["their-pull"], bed.Api.ImagePullSecrets(ns, "builder"));
        }
        Assert.Equal(["*/+default/ecr-pull"], LedgerLines(bed));
        // One cluster-wide LIST (/api/v1/serviceaccounts); the named target reads default in each namespace, and the
        // detaches patch the accounts as listed, without reading them again.
        Assert.Equal((1, 2, 2), (bed.Api.RequestCount("LIST", "serviceaccounts"), bed.Api.RequestCount("GET", "serviceaccounts"), bed.Api.RequestCount("PATCH", "serviceaccounts")));

        bed.Api.ResetCounters();
        var third = await bed.RunAsync(With(named));
        Assert.Equal((0, 0, 0), (third.Written, third.ServiceAccountsPatched, third.Detached));
        Assert.Equal(0, bed.Api.RequestCount("PATCH", "serviceaccounts"));
    }

    [Fact]
    public async Task A_removed_selector_target_of_a_listed_namespace_is_swept_there_and_a_remaining_target_keeps_its_account()
    {
        await using var bed = await ClusterAsync();
        bed.Api.SetLabels("serviceaccounts", "apps", "builder", new Dictionary<string, string> { ["pulls"] = "yes" });
        bed.Api.SetLabels("serviceaccounts", "apps", "default", new Dictionary<string, string> { ["pulls"] = "yes" });
        var selector = new TargetConfiguration { SecretName = "ecr-pull", Namespaces = ["apps"], ServiceAccountSelector = "pulls=yes" };
        await bed.RunAsync(With(selector));
        Assert.Equal(["apps/*/ecr-pull"], LedgerLines(bed));
        Assert.Equal(["their-pull", "ecr-pull"], bed.Api.ImagePullSecrets("apps", "builder"));

        // The selector target goes; a listed target of the same secret names default in apps.
        var listed = new TargetConfiguration { SecretName = "ecr-pull", Namespaces = ["apps"], ServiceAccounts = ["default"] };
        var second = await bed.RunAsync(With(listed));
        Assert.Equal(1, second.Detached);
        Assert.Equal(["their-pull"], bed.Api.ImagePullSecrets("apps", "builder"));
        Assert.Equal(["their-pull", "ecr-pull"], bed.Api.ImagePullSecrets("apps", "default"));
        Assert.Equal(["apps/default/ecr-pull"], LedgerLines(bed));
        Assert.Equal(["their-pull"], bed.Api.ImagePullSecrets("web", "builder"));
    }

    [Fact]
    public async Task A_sweep_that_cannot_list_keeps_the_scope_and_the_next_run_finishes_it()
    {
        await using var bed = await ClusterAsync();
        var all = new TargetConfiguration { SecretName = "ecr-pull", NamespaceSelector = "pull=yes", AllServiceAccounts = true };
        await bed.RunAsync(With(all));
        // Another namespace selection stays, so the refresher keeps its cluster-wide rights: a refusal is for now, not for good.
        var other = new TargetConfiguration { SecretName = "other-pull", NamespaceSelector = "pull=yes", ServiceAccounts = ["default"] };

        bed.Api.Forbidden["GET serviceaccounts */"] = true;
        var refused = await bed.RunAsync(With(other));
        Assert.Equal((0, 1), (refused.Detached, refused.DetachFailed));
        Assert.Contains("*/*/ecr-pull", LedgerLines(bed));
        Assert.Equal(["their-pull", "ecr-pull"], bed.Api.ImagePullSecrets("apps", "builder"));

        bed.Api.Forbidden.Clear();
        var next = await bed.RunAsync(With(other));
        Assert.Equal((4, 0), (next.Detached, next.DetachFailed));
        Assert.Equal(["*/+default/other-pull"], LedgerLines(bed));
        foreach (var ns in (string[])["apps", "web"])
        {
            Assert.Equal(["their-pull"], bed.Api.ImagePullSecrets(ns, "builder"));
            Assert.Equal(["their-pull", "other-pull"], bed.Api.ImagePullSecrets(ns, "default"));
        }
    }

    [Fact]
    public async Task A_sweep_refused_where_no_target_reaches_any_more_is_dropped_with_a_warning_instead_of_failing_every_run()
    {
        await using var bed = await ClusterAsync();
        var all = new TargetConfiguration { SecretName = "ecr-pull", NamespaceSelector = "pull=yes", AllServiceAccounts = true };
        await bed.RunAsync(With(all));
        // The last namespace selection went, and with it the ClusterRole (a run-on-deploy Job that could not finish the sweep
        // in time): a cluster-wide LIST is refused for good.
        var other = new TargetConfiguration { SecretName = "other-pull", Namespaces = ["web"], ServiceAccounts = ["default"] };
        bed.Api.Forbidden["GET serviceaccounts */"] = true;

        var refused = await bed.RunAsync(With(other));
        Assert.Equal((0, 0, 0), (refused.Failed, refused.Detached, refused.DetachFailed));
        Assert.Equal(["web/default/other-pull"], LedgerLines(bed));
        var warning = Assert.Single(bed.Logs.Entries, e => e.Contains("refused (HTTP 403), and no target of the configuration reaches there any more", StringComparison.Ordinal));
        Assert.Contains("registryinfra.io/added-image-pull-secrets", warning, StringComparison.Ordinal);
        // Nothing of theirs or ours was touched; the names stay where the refresher may no longer go.
        Assert.Equal(["their-pull", "ecr-pull"], bed.Api.ImagePullSecrets("apps", "builder"));

        bed.Api.ResetCounters();
        var next = await bed.RunAsync(With(other));
        Assert.Equal((0, 0), (next.Detached, next.DetachFailed));
        Assert.Equal(0, bed.Api.RequestCount("LIST", "serviceaccounts"));
    }

    [Fact]
    public async Task A_named_account_refused_in_a_namespace_no_target_lists_any_more_is_dropped_and_one_still_listed_is_kept()
    {
        await using var bed = await ClusterAsync();
        var both = new TargetConfiguration { SecretName = "ecr-pull", Namespaces = ["apps", "web"], ServiceAccounts = ["default"] };
        await bed.RunAsync(With(both));
        Assert.Equal(["apps/default/ecr-pull", "web/default/ecr-pull"], LedgerLines(bed).Order(StringComparer.Ordinal));

        // ecr-pull goes; web is still listed by another target (its Role stays), apps by none (its Role is gone).
        var other = new TargetConfiguration { SecretName = "other-pull", Namespaces = ["web"], ServiceAccounts = ["builder"] };
        bed.Api.Forbidden["GET serviceaccounts apps/default"] = true;
        bed.Api.Forbidden["GET serviceaccounts web/default"] = true;
        var refused = await bed.RunAsync(With(other));
        Assert.Equal((0, 1), (refused.Detached, refused.DetachFailed));
        Assert.Equal(["web/builder/other-pull", "web/default/ecr-pull"], LedgerLines(bed).Order(StringComparer.Ordinal));
        Assert.Single(bed.Logs.Entries, e => e.Contains("Service account apps/default: removing ecr-pull refused (HTTP 403), and no target of the configuration reaches apps any more", StringComparison.Ordinal));

        bed.Api.Forbidden.Clear();
        var next = await bed.RunAsync(With(other));
        Assert.Equal((1, 0), (next.Detached, next.DetachFailed));
        Assert.Equal(["their-pull"], bed.Api.ImagePullSecrets("web", "default"));
        Assert.Equal(["their-pull", "ecr-pull"], bed.Api.ImagePullSecrets("apps", "default"));
        Assert.Equal(["web/builder/other-pull"], LedgerLines(bed));
    }

    [Fact]
    public async Task An_attach_only_selection_keeps_each_namespace_as_a_scope_and_one_relabelled_out_loses_our_names_there_theirs_stay()
    {
        await using var bed = await ClusterAsync();
        // Someone else's Secret in every namespace (attachOnly: we only attach it).
        AddTheirSharedSecret(bed);
        var attach = new TargetConfiguration { SecretName = "shared-pull", AttachOnly = true, NamespaceSelector = "pull=yes", ServiceAccounts = ["default", "builder"] };
        var first = await bed.RunAsync(With(attach));
        Assert.Equal((0, 4), (first.Failed, first.ServiceAccountsPatched));
        Assert.Equal(["*/+builder+default/shared-pull", "apps/*/shared-pull", "web/*/shared-pull"], LedgerLines(bed).Order(StringComparer.Ordinal));

        // web leaves the selection: there is no Secret of ours to prune, and still our names on its accounts go.
        bed.Api.SetLabels("namespaces", "", "web", new Dictionary<string, string> { ["pull"] = "no" });
        bed.Api.ResetCounters();
        var second = await bed.RunAsync(With(attach));
        Assert.Equal((0, 2, 0), (second.Failed, second.Detached, second.DetachFailed));
        foreach (var account in (string[])["default", "builder"])
        {
            Assert.Equal(["their-pull"], bed.Api.ImagePullSecrets("web", account));
            Assert.Equal(["their-pull", "shared-pull"], bed.Api.ImagePullSecrets("apps", account));
        }
        Assert.NotNull(bed.Api.GetSecret("web", "shared-pull"));
        Assert.Equal(["*/+builder+default/shared-pull", "apps/*/shared-pull"], LedgerLines(bed).Order(StringComparer.Ordinal));
        // One LIST of web's accounts; the detaches patch them as listed.
        Assert.Equal((1, 2), (bed.Api.RequestCount("LIST", "serviceaccounts"), bed.Api.RequestCount("PATCH", "serviceaccounts")));

        bed.Api.ResetCounters();
        var third = await bed.RunAsync(With(attach));
        Assert.Equal((0, 0), (third.ServiceAccountsPatched, third.Detached));
        Assert.Equal(0, bed.Api.RequestCount("LIST", "serviceaccounts"));
    }

    [Fact]
    public async Task A_full_ledger_records_no_new_attach_only_namespaces_keeps_what_it_has_and_warns()
    {
        await using var bed = await ClusterAsync();
        AddTheirSharedSecret(bed);
        var apps = new TargetConfiguration { SecretName = "shared-pull", AttachOnly = true, NamespaceSelector = "team=apps", ServiceAccounts = ["default"] };
        bed.Api.SetLabels("namespaces", "", "apps", new Dictionary<string, string> { ["pull"] = "yes", ["team"] = "apps" });
        await bed.RunAsync(With(apps));
        Assert.Equal(["*/+default/shared-pull", "apps/*/shared-pull"], LedgerLines(bed).Order(StringComparer.Ordinal));

        // Room for the lines there are, not for another: web is attached, not recorded, and the run says so.
        bed.LedgerBudget = "*/+default/shared-pull".Length + "apps/*/shared-pull".Length + 2;
        var wider = apps with { NamespaceSelector = "pull=yes" };
        var second = await bed.RunAsync(With(wider));
        Assert.Equal((0, 1), (second.Failed, second.ServiceAccountsPatched));
        Assert.Equal(["their-pull", "shared-pull"], bed.Api.ImagePullSecrets("web", "default"));
        Assert.Equal(["*/+default/shared-pull", "apps/*/shared-pull"], LedgerLines(bed).Order(StringComparer.Ordinal));
        Assert.Contains(bed.Logs.Entries, e => e.Contains("is full", StringComparison.Ordinal) && e.Contains("1 namespaces taken by attach-only selections are not recorded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_namespace_selection_of_named_accounts_narrowed_then_removed_loses_our_names_in_one_cluster_wide_sweep_each()
    {
        await using var bed = await ClusterAsync();
        var both = new TargetConfiguration { SecretName = "ecr-pull", NamespaceSelector = "pull=yes", ServiceAccounts = ["default", "builder"] };
        var first = await bed.RunAsync(With(both));
        Assert.Equal((0, 4), (first.Failed, first.ServiceAccountsPatched));
        Assert.Equal(["*/+builder+default/ecr-pull"], LedgerLines(bed));

        // [default, builder] -> [default]: another scope; the old one is swept and builder loses our name, theirs stays.
        bed.Api.ResetCounters();
        var narrowed = both with { ServiceAccounts = ["default"] };
        var second = await bed.RunAsync(With(narrowed));
        Assert.Equal((0, 2, 0), (second.Failed, second.Detached, second.DetachFailed));
        foreach (var ns in (string[])["apps", "web"])
        {
            Assert.Equal(["their-pull", "ecr-pull"], bed.Api.ImagePullSecrets(ns, "default"));
            Assert.Equal(["their-pull"], bed.Api.ImagePullSecrets(ns, "builder"));
        }
        Assert.Equal(["*/+default/ecr-pull"], LedgerLines(bed));
        Assert.Equal(1, bed.Api.RequestCount("LIST", "serviceaccounts"));

        // The target goes (another secret's listed target stays): default loses it too, in one more cluster-wide LIST.
        bed.Api.ResetCounters();
        var other = new TargetConfiguration { SecretName = "other-pull", Namespaces = ["web"], ServiceAccounts = ["default"] };
        var third = await bed.RunAsync(With(other));
        Assert.Equal((0, 2, 0), (third.Failed, third.Detached, third.DetachFailed));
        Assert.Equal(["their-pull"], bed.Api.ImagePullSecrets("apps", "default"));
        Assert.Equal(["their-pull", "other-pull"], bed.Api.ImagePullSecrets("web", "default"));
        Assert.Equal(["web/default/other-pull"], LedgerLines(bed));
        Assert.Equal(1, bed.Api.RequestCount("LIST", "serviceaccounts"));
    }

    [Fact]
    public async Task A_removed_attach_only_selection_is_swept_once_across_the_cluster_and_its_namespace_scopes_need_no_list_of_their_own()
    {
        await using var bed = await ClusterAsync();
        AddTheirSharedSecret(bed);
        var attach = new TargetConfiguration { SecretName = "shared-pull", AttachOnly = true, NamespaceSelector = "pull=yes", ServiceAccounts = ["default"] };
        await bed.RunAsync(With(attach));
        Assert.Equal(["*/+default/shared-pull", "apps/*/shared-pull", "web/*/shared-pull"], LedgerLines(bed).Order(StringComparer.Ordinal));

        bed.Api.ResetCounters();
        var other = new TargetConfiguration { SecretName = "other-pull", Namespaces = ["web"], ServiceAccounts = ["default"] };
        var second = await bed.RunAsync(With(other));
        Assert.Equal((0, 2, 0), (second.Failed, second.Detached, second.DetachFailed));
        foreach (var ns in (string[])["apps", "web"])
        {
            Assert.DoesNotContain("shared-pull", bed.Api.ImagePullSecrets(ns, "default"));
            Assert.NotNull(bed.Api.GetSecret(ns, "shared-pull"));
        }
        Assert.Equal(["web/default/other-pull"], LedgerLines(bed));
        Assert.Equal(1, bed.Api.RequestCount("LIST", "serviceaccounts"));
    }
}
