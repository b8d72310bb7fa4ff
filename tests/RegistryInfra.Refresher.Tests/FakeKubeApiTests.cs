using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>The in-memory API keeps the API server semantics the refresher relies on, seen through the real client.</summary>
public sealed class FakeKubeApiTests : IAsyncLifetime
{
    private FakeKubeApi _api = null!;
    private Kubernetes _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _api = await FakeKubeApi.StartAsync(cancellationToken: Ct);
        _client = new Kubernetes(new KubernetesClientConfiguration { Host = _api.Host });
        _api.AddNamespace("a", new Dictionary<string, string> { ["team"] = "x" });
        _api.AddNamespace("b", new Dictionary<string, string> { ["team"] = "y" });
        _api.AddNamespace("c");
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task Missing_objects_are_404_status_and_stale_replaces_are_409()
    {
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedSecretAsync("s", "a", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
        Assert.Contains("\"reason\":\"NotFound\"", missing.Response.Content, StringComparison.Ordinal);

        var created = await _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" }, Data = new Dictionary<string, byte[]> { ["k"] = Encoding.UTF8.GetBytes("v1") } }, "a", cancellationToken: Ct);
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" } }, "a", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Conflict, again.Response.StatusCode);

        created.Data["k"] = Encoding.UTF8.GetBytes("v2");
        var replaced = await _client.CoreV1.ReplaceNamespacedSecretAsync(created, "s", "a", cancellationToken: Ct);
        Assert.NotEqual(created.Metadata.ResourceVersion, replaced.Metadata.ResourceVersion);

        created.Data["k"] = Encoding.UTF8.GetBytes("v3"); // still the old resourceVersion
        var stale = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReplaceNamespacedSecretAsync(created, "s", "a", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Conflict, stale.Response.StatusCode);
        Assert.Equal("v2", Encoding.UTF8.GetString(_api.GetSecretData("a", "s", "k")!));
    }

    [Fact]
    public async Task A_create_in_a_namespace_that_does_not_exist_is_404_for_the_namespace_Events_included()
    {
        // NamespaceLifecycle admission (kubernetes/kubernetes at 06b1b836fa6bc4d0be0d5f0151bc5eefafa1f259,
        // staging/src/k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go, Admit: "refuse to operate on
        // non-existent namespaces", the namespace's NotFound returned as it is) admits no create of a namespaced object, an
        // Event no more than a Secret, in a namespace that does not exist.
        var secret = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" } }, "nowhere", cancellationToken: Ct));
        var recorded = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedEventAsync(new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = "e" },
            InvolvedObject = new V1ObjectReference { Kind = "ServiceAccount", Name = "default", NamespaceProperty = "nowhere" },
            Reason = "Test",
            Message = "m",
        }, "nowhere", cancellationToken: Ct));

        foreach (var refused in new[] { secret, recorded })
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.Response.StatusCode);
            var status = System.Text.Json.Nodes.JsonNode.Parse(refused.Response.Content)!;
            Assert.Equal("NotFound", status["reason"]!.GetValue<string>());
            Assert.Equal("namespaces \"nowhere\" not found", status["message"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_metadata_only_read_answers_partial_object_metadata_without_the_data()
    {
        _api.AddSecret("a", "s", "kubernetes.io/dockerconfigjson", new Dictionary<string, byte[]> { [".dockerconfigjson"] = Encoding.UTF8.GetBytes("{\"auths\":{}}") });
        var accept = new Dictionary<string, IReadOnlyList<string>> { ["Accept"] = ["application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"] };

        using var response = await _client.CoreV1.ReadNamespacedSecretWithHttpMessagesAsync("s", "a", customHeaders: accept, cancellationToken: Ct);

        Assert.Equal("PartialObjectMetadata", response.Body.Kind);
        Assert.Equal("s", response.Body.Metadata.Name);
        Assert.Null(response.Body.Data);
        Assert.Equal((1, 1), (_api.RequestCount("GET", "secrets"), _api.RequestCount("GET-METADATA", "secrets")));
        var full = await _client.CoreV1.ReadNamespacedSecretAsync("s", "a", cancellationToken: Ct);
        Assert.NotNull(full.Data);
        Assert.Equal((2, 1), (_api.RequestCount("GET", "secrets"), _api.RequestCount("GET-METADATA", "secrets")));
    }

    [Fact]
    public async Task Namespaces_list_by_label_selector()
    {
        Assert.Equal(["a"], (await _client.CoreV1.ListNamespaceAsync(labelSelector: "team=x", cancellationToken: Ct)).Items.Select(n => n.Metadata.Name));
        Assert.Equal(["b", "c"], (await _client.CoreV1.ListNamespaceAsync(labelSelector: "team!=x", cancellationToken: Ct)).Items.Select(n => n.Metadata.Name));
        Assert.Equal(["a", "b"], (await _client.CoreV1.ListNamespaceAsync(labelSelector: "team", cancellationToken: Ct)).Items.Select(n => n.Metadata.Name));
        Assert.Equal(3, (await _client.CoreV1.ListNamespaceAsync(cancellationToken: Ct)).Items.Count);
    }

    [Fact]
    public async Task Set_based_selectors_and_the_list_of_a_resource_in_all_namespaces()
    {
        // kubernetes.io/docs/concepts/overview/working-with-objects/labels/#set-based-requirement: notin also selects objects without the key.
        Assert.Equal(["a", "b"], (await _client.CoreV1.ListNamespaceAsync(labelSelector: "team in (x,y)", cancellationToken: Ct)).Items.Select(n => n.Metadata.Name));
        Assert.Equal(["b", "c"], (await _client.CoreV1.ListNamespaceAsync(labelSelector: "team notin (x)", cancellationToken: Ct)).Items.Select(n => n.Metadata.Name));
        Assert.Equal(["b"], (await _client.CoreV1.ListNamespaceAsync(labelSelector: "team,team notin (x,z)", cancellationToken: Ct)).Items.Select(n => n.Metadata.Name));

        // kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris: GET /api/v1/{resource} lists it across all namespaces.
        _api.AddServiceAccount("b", "builder");
        _api.AddServiceAccount("a", "default");
        _api.SetLabels("serviceaccounts", "b", "builder", new Dictionary<string, string> { ["pulls"] = "private" });
        var all = await _client.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: Ct);
        Assert.Equal(["a/default", "b/builder"], all.Items.Select(s => s.Metadata.NamespaceProperty + "/" + s.Metadata.Name));
        var labelled = await _client.CoreV1.ListServiceAccountForAllNamespacesAsync(labelSelector: "pulls in (private)", cancellationToken: Ct);
        Assert.Equal(["builder"], labelled.Items.Select(s => s.Metadata.Name));
        Assert.Equal(2, _api.RequestCount("LIST", "serviceaccounts"));
    }

    [Fact]
    public async Task Strategic_merge_adds_to_image_pull_secrets_and_merge_patch_replaces_the_list_under_a_precondition()
    {
        _api.AddServiceAccount("a", "default", "one");
        await _client.CoreV1.PatchNamespacedServiceAccountAsync(new V1Patch("""{"imagePullSecrets":[{"name":"two"}]}""", V1Patch.PatchType.StrategicMergePatch), "default", "a", cancellationToken: Ct);
        Assert.Equal(["one", "two"], _api.ImagePullSecrets("a", "default"));

        await _client.CoreV1.PatchNamespacedServiceAccountAsync(new V1Patch("""{"imagePullSecrets":[{"name":"three"}]}""", V1Patch.PatchType.MergePatch), "default", "a", cancellationToken: Ct);
        Assert.Equal(["three"], _api.ImagePullSecrets("a", "default"));

        var stale = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.PatchNamespacedServiceAccountAsync(
            new V1Patch("""{"metadata":{"resourceVersion":"1"},"imagePullSecrets":[]}""", V1Patch.PatchType.MergePatch), "default", "a", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Conflict, stale.Response.StatusCode);
        Assert.Equal(["three"], _api.ImagePullSecrets("a", "default"));
    }

    [Fact]
    public async Task Faults_are_deterministic_and_counted()
    {
        _api.Faults = new FakeKubeFaults { ServerErrorRate = 0.5, Seed = 42 };
        var first = await Outcomes();
        _api.Faults = new FakeKubeFaults { ServerErrorRate = 0.5, Seed = 42 };
        Assert.Equal(first, await Outcomes());
        Assert.Contains(HttpStatusCode.InternalServerError, first);
        Assert.Contains(HttpStatusCode.OK, first);
        Assert.Equal(40, _api.RequestCount("LIST", "namespaces"));

        _api.Faults = new FakeKubeFaults { Latency = TimeSpan.FromMilliseconds(300) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await _client.CoreV1.ListNamespaceAsync(cancellationToken: Ct);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(290));
    }

    private async Task<List<HttpStatusCode>> Outcomes()
    {
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            try
            {
                await _client.CoreV1.ListNamespaceAsync(cancellationToken: Ct);
                codes.Add(HttpStatusCode.OK);
            }
            catch (HttpOperationException e)
            {
                codes.Add(e.Response.StatusCode);
            }
        }
        return codes;
    }
}
