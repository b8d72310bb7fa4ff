using System.Collections.Immutable;
using System.Text;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Kubernetes;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Provider.Tests.Resources;

/// <summary>
/// <c>registryinfra:kubernetes:PullSecretAttachment</c> through the engine's sequence (Check, preview, Create, Diff, Update,
/// Read, Delete) against the fake Kubernetes API over HTTPS, reached through a kubeconfig (its CA, its bearer token), in
/// process and through the NativeAOT plugin with equal results. The fake API implements what the attachment relies on:
/// JSON merge patch replacing a list whole (RFC 7386), 409 Conflict on a stale <c>metadata.resourceVersion</c> in a patch
/// (kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply), 404 for a missing object.
/// </summary>
public sealed class PullSecretAttachmentTests
{
    private const string Type = "registryinfra:kubernetes:PullSecretAttachment";
    private const string Urn = "urn:pulumi:test::fleet::" + Type + "::apps-attachment";
    private const string KubeToken = "kube-bearer-Zq8-never-in-plain";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<bool> Hosts => AttachmentHosts.Both;

    private static string Kubeconfig(FakeKubeApi api) => AttachmentHosts.Kubeconfig(api, KubeToken);

    private static ImmutableSortedDictionary<string, PropertyValue> Inputs(FakeKubeApi api, string[] accounts, string[] secrets, string ns = "apps") =>
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, PropertyValue>
        {
            ["namespace"] = PropertyValue.Create(ns),
            ["serviceAccounts"] = PropertyValue.CreateArray(accounts.Select(PropertyValue.Create)),
            ["secretNames"] = PropertyValue.CreateArray(secrets.Select(PropertyValue.Create)),
            ["kubeconfig"] = PropertyValue.CreateSecret(PropertyValue.Create(Kubeconfig(api))),
        });

    private static Task<(RegistryInfra.Protocol.Hosting.Provider Provider, IAsyncDisposable? Process)> ProviderAsync(bool plugin) => AttachmentHosts.ProviderAsync(plugin, Ct);

    private static async Task<IReadOnlyDictionary<string, PropertyValue>> CheckedAsync(RegistryInfra.Protocol.Hosting.Provider provider, IReadOnlyDictionary<string, PropertyValue> olds, IReadOnlyDictionary<string, PropertyValue> news)
    {
        var check = await provider.CheckAsync(new CheckRequest(Urn, Type, "apps-attachment", olds, news, []), Ct);
        Assert.Empty(check.Failures);
        return check.Inputs!;
    }

    private static IReadOnlyList<string> Attached(IReadOnlyDictionary<string, PropertyValue> state, string account) =>
        state["attached"].ObjectValue.TryGetValue(account, out var names) ? [.. names.ArrayValue.Select(n => n.StringValue)] : [];

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Adds_keeps_theirs_and_removes_exactly_its_own_names_across_create_update_and_delete(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        api.AddNamespace("apps");
        api.AddServiceAccount("apps", "default", "theirs-pull");
        api.AddServiceAccount("apps", "builder");
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        // Create: both accounts name both secrets, after the names they had; a preview makes no request.
        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["default", "builder"], ["pull", "pull-tokens"]));
        api.ResetCounters();
        var preview = await provider.CreateAsync(new CreateRequest(Urn, Type, "apps-attachment", inputs, TimeSpan.Zero, Preview: true), Ct);
        Assert.Equal(0, api.TotalRequests);
        Assert.True(preview.Properties["attached"].IsComputed);
        var created = await provider.CreateAsync(new CreateRequest(Urn, Type, "apps-attachment", inputs, TimeSpan.Zero, Preview: false), Ct);
        Assert.Equal("apps/apps-attachment", created.Id);
        Assert.Equal(["theirs-pull", "pull", "pull-tokens"], api.ImagePullSecrets("apps", "default"));
        Assert.Equal(["pull", "pull-tokens"], api.ImagePullSecrets("apps", "builder"));
        Assert.Equal(["pull", "pull-tokens"], Attached(created.Properties, "default"));
        Assert.Equal("pull,pull-tokens", (string?)api.GetServiceAccount("apps", "default")!["metadata"]!["annotations"]![PullSecretAttachmentResourceAnnotation]);
        // The kubeconfig (its token) stays secret in the state; it is what delete reaches the cluster with.
        Assert.True(created.Properties["kubeconfig"].IsSecret);

        // Someone else adds a name meanwhile; then the program drops builder and the token secret.
        var account = api.GetServiceAccount("apps", "default")!;
        api.AddServiceAccount("apps", "default", [.. api.ImagePullSecrets("apps", "default"), "later-theirs"]);
        api.SetServiceAccountAnnotation("apps", "default", PullSecretAttachmentResourceAnnotation, (string)account["metadata"]!["annotations"]![PullSecretAttachmentResourceAnnotation]!);
        var newInputs = await CheckedAsync(provider, inputs, Inputs(api, ["default"], ["pull"]));
        var diff = await provider.DiffAsync(new DiffRequest(Urn, Type, "apps-attachment", created.Id, created.Properties, inputs, newInputs, []), Ct);
        Assert.True(diff.HasChanges);
        Assert.Empty(diff.Replaces);
        var updated = await provider.UpdateAsync(new UpdateRequest(created.Id, Urn, Type, "apps-attachment", created.Properties, inputs, newInputs, TimeSpan.Zero, [], Preview: false), Ct);
        Assert.Equal(["theirs-pull", "pull", "later-theirs"], api.ImagePullSecrets("apps", "default"));
        Assert.Equal(["pull"], Attached(updated.Properties, "default"));
        Assert.Empty(api.ImagePullSecrets("apps", "builder"));
        Assert.Null(api.GetServiceAccount("apps", "builder")!["metadata"]!["annotations"]?[PullSecretAttachmentResourceAnnotation]);

        // Refresh reads and writes nothing.
        api.ResetCounters();
        var read = await provider.ReadAsync(new ReadRequest(created.Id, Urn, Type, "apps-attachment", updated.Properties, newInputs), Ct);
        Assert.Equal(["pull"], Attached(read.Properties, "default"));
        Assert.Equal(0, api.WriteCount("serviceaccounts"));

        // Destroy: only our name goes; theirs stay, and the annotation is gone with our last name.
        await provider.DeleteAsync(new DeleteRequest(created.Id, Urn, Type, "apps-attachment", updated.Properties, newInputs, TimeSpan.Zero), Ct);
        Assert.Equal(["theirs-pull", "later-theirs"], api.ImagePullSecrets("apps", "default"));
        Assert.Null(api.GetServiceAccount("apps", "default")!["metadata"]!["annotations"]?[PullSecretAttachmentResourceAnnotation]);
        // The bearer token reached only the kubeconfig's server; it is in no response, output or error.
        Assert.DoesNotContain(KubeToken, string.Concat(read.Properties.Where(kv => !kv.Value.IsSecret).Select(kv => kv.Value.ToString())), StringComparison.Ordinal);
    }

    private const string PullSecretAttachmentResourceAnnotation = "registryinfra.io/added-image-pull-secrets";

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task A_missing_account_is_skipped_reported_and_attached_by_the_next_update(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        api.AddNamespace("apps");
        api.AddServiceAccount("apps", "default");
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["default", "worker"], ["pull"]));
        var created = await provider.CreateAsync(new CreateRequest(Urn, Type, "apps-attachment", inputs, TimeSpan.Zero, Preview: false), Ct);
        Assert.Equal(["worker"], created.Properties["missingServiceAccounts"].ArrayValue.Select(v => v.StringValue));
        Assert.Equal(["pull"], api.ImagePullSecrets("apps", "default"));

        // Unchanged inputs, but an account was missing: the diff asks for an update, which attaches it once it exists.
        api.AddServiceAccount("apps", "worker");
        var diff = await provider.DiffAsync(new DiffRequest(Urn, Type, "apps-attachment", created.Id, created.Properties, inputs, inputs, []), Ct);
        Assert.True(diff.HasChanges);
        var updated = await provider.UpdateAsync(new UpdateRequest(created.Id, Urn, Type, "apps-attachment", created.Properties, inputs, inputs, TimeSpan.Zero, [], Preview: false), Ct);
        Assert.Empty(updated.Properties["missingServiceAccounts"].ArrayValue);
        Assert.Equal(["pull"], api.ImagePullSecrets("apps", "worker"));
        var after = await provider.DiffAsync(new DiffRequest(Urn, Type, "apps-attachment", created.Id, updated.Properties, inputs, inputs, []), Ct);
        Assert.False(after.HasChanges);
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Conflicting_writers_are_retried_on_409_and_nothing_of_theirs_is_lost(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(new FakeKubeFaults { ConflictOnFirstWrite = true }, tls: true, Ct);
        api.AddNamespace("apps");
        api.AddServiceAccount("apps", "default", "theirs-pull");
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["default"], ["pull"]));
        await provider.CreateAsync(new CreateRequest(Urn, Type, "apps-attachment", inputs, TimeSpan.Zero, Preview: false), Ct);

        Assert.True(api.InjectedFaults > 0);
        Assert.Equal(["theirs-pull", "pull"], api.ImagePullSecrets("apps", "default"));
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task A_name_the_account_already_had_is_not_ours_and_survives_delete(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        api.AddNamespace("apps");
        api.AddServiceAccount("apps", "default", "pull");
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var inputs = await CheckedAsync(provider, ImmutableDictionary<string, PropertyValue>.Empty, Inputs(api, ["default"], ["pull"]));
        var created = await provider.CreateAsync(new CreateRequest(Urn, Type, "apps-attachment", inputs, TimeSpan.Zero, Preview: false), Ct);
        Assert.Empty(Attached(created.Properties, "default"));
        Assert.Equal(0, api.WriteCount("serviceaccounts"));

        await provider.DeleteAsync(new DeleteRequest(created.Id, Urn, Type, "apps-attachment", created.Properties, inputs, TimeSpan.Zero), Ct);
        Assert.Equal(["pull"], api.ImagePullSecrets("apps", "default"));
    }

    [Theory]
    [InlineData("namespace", "Apps", "namespace")]
    [InlineData("serviceAccounts", "", "serviceAccounts")]
    [InlineData("secretNames", "Bad_Name", "secretNames[0]")]
    [InlineData("kubeContext", "nope", "kubeContext")]
    public async Task Bad_input_is_refused_at_check_naming_the_field_and_never_the_token(string field, string value, string expected)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        var news = Inputs(api, ["default"], ["pull"]);
        news = field switch
        {
            "serviceAccounts" => news.SetItem(field, PropertyValue.CreateArray([])),
            "secretNames" => news.SetItem(field, PropertyValue.CreateArray([PropertyValue.Create(value)])),
            _ => news.SetItem(field, PropertyValue.Create(value)),
        };

        var check = await RegistryInfraPackage.CreateProvider().CheckAsync(new CheckRequest(Urn, Type, "apps-attachment", ImmutableDictionary<string, PropertyValue>.Empty, news, []), Ct);

        var failure = Assert.Single(check.Failures);
        Assert.Equal(expected, failure.Property);
        Assert.DoesNotContain(KubeToken, failure.Reason, StringComparison.Ordinal);
        Assert.Equal(0, api.TotalRequests);
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task A_server_whose_certificate_the_kubeconfig_does_not_trust_gets_no_token(bool plugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        await using var other = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        api.AddNamespace("apps");
        api.AddServiceAccount("apps", "default");
        // The kubeconfig names this server but trusts another server's self-signed CA.
        var kubeconfig = Kubeconfig(api).Replace(api.ClientCertificateAuthorityData, other.ClientCertificateAuthorityData, StringComparison.Ordinal);
        var inputs = Inputs(api, ["default"], ["pull"]).SetItem("kubeconfig", PropertyValue.CreateSecret(PropertyValue.Create(kubeconfig)));
        var (provider, process) = await ProviderAsync(plugin);
        await using var _ = process;

        var e = await Assert.ThrowsAnyAsync<Exception>(() => provider.CreateAsync(new CreateRequest(Urn, Type, "apps-attachment", inputs, TimeSpan.Zero, Preview: false), Ct));

        Assert.Contains("cannot be reached", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(KubeToken, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, api.TotalRequests);
        Assert.Empty(api.ImagePullSecrets("apps", "default"));
    }

    [Fact]
    public void Kubeconfig_files_merge_as_kubectl_merges_them_and_paths_resolve_against_their_folder()
    {
        var folder = Directory.CreateTempSubdirectory("kubeconfig-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "ca.crt"), "CA-PEM");
            File.WriteAllText(Path.Combine(folder, "first"), """
                current-context: first
                contexts: [{ name: first, context: { cluster: c, user: u } }]
                clusters: [{ name: c, cluster: { server: "https://first.example:6443", certificate-authority: ca.crt } }]
                users: [{ name: u, user: { tokenFile: token } }]
                """);
            File.WriteAllText(Path.Combine(folder, "second"), """
                current-context: second
                contexts: [{ name: second, context: { cluster: c, user: u } }]
                clusters: [{ name: c, cluster: { server: "https://second.example:6443" } }]
                users: [{ name: u, user: { token: t } }]
                """);
            var environment = new Dictionary<string, string?> { ["KUBECONFIG"] = $"{Path.Combine(folder, "first")}:{Path.Combine(folder, "missing")}:{Path.Combine(folder, "second")}" };

            var connection = KubeConfig.Load(null, null, n => environment.GetValueOrDefault(n), folder);
            // The first file to set current-context and a map entry wins; a missing file of the list is ignored.
            Assert.Equal("first", connection.ContextName);
            Assert.Equal(new Uri("https://first.example:6443"), connection.Server);
            Assert.Equal("CA-PEM", connection.CertificateAuthorityPem);
            Assert.Equal(new KubeCredential.TokenFile(Path.Combine(folder, "token")), connection.Credential);
            // A context of the second file is there too, with the first file's cluster and user of the same names.
            var second = KubeConfig.Load(null, "second", n => environment.GetValueOrDefault(n), folder);
            Assert.Equal(new Uri("https://first.example:6443"), second.Server);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("users: [{ name: u, user: { auth-provider: { name: gcp } } }]", "exec plugin")]
    [InlineData("users: [{ name: u, user: { exec: { apiVersion: client.authentication.k8s.io/v1alpha1, command: x } } }]", "exec.apiVersion")]
    [InlineData("users: [{ name: u, user: { client-certificate-data: Zm9v } }]", "no client key")]
    public void A_kubeconfig_user_that_cannot_be_used_is_refused_with_what_to_do(string users, string expected)
    {
        var text = "current-context: x\ncontexts: [{ name: x, context: { cluster: c, user: u } }]\nclusters: [{ name: c, cluster: { server: \"https://k.example\" } }]\n" + users;

        var e = Assert.Throws<KubeConfigException>(() => KubeConfig.Load(text, null));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task An_exec_credential_plugin_gives_the_bearer_token_and_its_output_is_never_shown(bool viaPlugin)
    {
        await using var api = await FakeKubeApi.StartAsync(null, tls: true, Ct);
        api.AddNamespace("apps");
        api.AddServiceAccount("apps", "default");
        var folder = Directory.CreateTempSubdirectory("exec-plugin-").FullName;
        try
        {
            var plugin = Path.Combine(folder, "get-token");
            File.WriteAllText(plugin, "#!/bin/sh\nprintf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$(dirname \"$0\")/info\"\n" +
                $"echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{KubeToken}\"}}}}'\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            var kubeconfig = Kubeconfig(api).Replace($"token: {KubeToken}", $"exec: {{ apiVersion: client.authentication.k8s.io/v1, command: {plugin}, args: [--cluster, fake] }}", StringComparison.Ordinal);
            var (provider, process) = await ProviderAsync(viaPlugin);
            await using var _ = process;
            var inputs = Inputs(api, ["default"], ["pull"]).SetItem("kubeconfig", PropertyValue.CreateSecret(PropertyValue.Create(kubeconfig)));

            await provider.CreateAsync(new CreateRequest(Urn, Type, "apps-attachment", inputs, TimeSpan.Zero, Preview: false), Ct);

            Assert.Equal(["pull"], api.ImagePullSecrets("apps", "default"));
            Assert.Contains("\"interactive\":false", File.ReadAllText(Path.Combine(folder, "info")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Credentials_never_print()
    {
        var token = new KubeCredential.Token(KubeToken);
        var certificate = new KubeCredential.ClientCertificate("CERT", "KEY-" + KubeToken);

        Assert.DoesNotContain(KubeToken, token.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(KubeToken, certificate.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(KubeToken, Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(new KubeConnection("c", new Uri("https://k"), null, null, false, token).ToString())), StringComparison.Ordinal);
    }
}
