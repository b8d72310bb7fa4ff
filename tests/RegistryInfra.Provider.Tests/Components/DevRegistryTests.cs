using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Components.DevRegistry;
using RegistryInfra.Provider.Tests.ChildCheck;
using RegistryInfra.Provider.Tests.Registry;
using RegistryInfra.Testing.Monitor;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>
/// <c>registryinfra:kubernetes:DevRegistry</c> constructed against a real gRPC ResourceMonitor in preview and update;
/// its htpasswd checked by bcrypt and by the real distribution registry (docker-registry).
/// </summary>
public sealed class DevRegistryTests : MonitoredConstructTests
{
    private const string Password = "dev-registry-p4ss";

    private FakeResourceMonitor.Registration Registered(string type, string name) => Monitor.Registrations.Single(r => r.Type == type && r.Name == name);

    private static string Text(PropertyValue value) => value.Unwrap().Value.StringValue;

    private static PropertyValue At(PropertyValue value, params object[] path)
    {
        foreach (var step in path)
        {
            var inner = value.Unwrap().Value;
            value = step is int i ? inner.ArrayValue[i] : inner.ObjectValue[(string)step];
        }
        return value;
    }

    private string HtpasswdOf(string name) => Text(At(PropertyValue.CreateObject(Registered(DevRegistryComponent.SecretType, name).Inputs), "stringData", "htpasswd"));

    [Fact]
    public async Task Defaults_run_registry_2_8_3_by_digest_behind_bcrypt_htpasswd_on_node_port_32000()
    {
        var result = await Construct(Mode("devRegistry/defaults"), preview: false);

        Assert.Equal(
        [
            "kubernetes:apps/v1:Deployment dev-deployment",
            "kubernetes:core/v1:ConfigMap dev-local-registry-hosting",
            "kubernetes:core/v1:Namespace dev-namespace",
            "kubernetes:core/v1:Secret dev-htpasswd",
            "kubernetes:core/v1:Service dev-service",
            "registryinfra:kubernetes:DevRegistry dev",
        ], Monitor.Registrations.Select(r => $"{r.Type} {r.Name}").Order(StringComparer.Ordinal));

        // The htpasswd Secret: one bcrypt line that verifies the password, sent secret.
        var secret = PropertyValue.CreateObject(Registered(DevRegistryComponent.SecretType, "dev-htpasswd").Inputs);
        Assert.True(At(secret, "stringData").IsSecret || At(secret, "stringData", "htpasswd").IsSecret);
        var line = HtpasswdOf("dev-htpasswd");
        Assert.Matches("^dev:\\$2y\\$10\\$[./A-Za-z0-9]{53}\n$", line);
        Assert.True(Htpasswd.Verify(line.TrimEnd('\n'), Password));
        Assert.False(Htpasswd.Verify(line.TrimEnd('\n'), Password + "x"));
        Assert.Equal(("dev-registry-htpasswd", "dev-registry"), (Text(At(secret, "metadata", "name")), Text(At(secret, "metadata", "namespace"))));

        var deployment = PropertyValue.CreateObject(Registered(DevRegistryComponent.DeploymentType, "dev-deployment").Inputs);
        var pod = At(deployment, "spec", "template", "spec");
        var container = At(pod, "containers", 0);
        Assert.Equal(DevRegistryComponent.DefaultImage, Text(At(container, "image")));
        Assert.StartsWith("docker.io/library/registry:2.8.3@sha256:", DevRegistryComponent.DefaultImage, StringComparison.Ordinal);
        var env = At(container, "env").ArrayValue.ToDictionary(e => Text(At(e, "name")), e => Text(At(e, "value")));
        Assert.Equal("htpasswd", env["REGISTRY_AUTH"]);
        Assert.Equal("/auth/htpasswd", env["REGISTRY_AUTH_HTPASSWD_PATH"]);
        Assert.True(At(container, "securityContext", "readOnlyRootFilesystem").BoolValue);
        var volumes = At(pod, "volumes").ArrayValue;
        Assert.True(At(volumes[0], "emptyDir").Kind == PropertyValueKind.Object);
        Assert.Equal("dev-registry-htpasswd", Text(At(volumes[1], "secret", "secretName")));
        Assert.Equal("Recreate", Text(At(deployment, "spec", "strategy", "type")));
        // The selector matches the pod's labels.
        var selector = At(deployment, "spec", "selector", "matchLabels").ObjectValue;
        var podLabels = At(deployment, "spec", "template", "metadata", "labels").ObjectValue;
        Assert.All(selector, kv => Assert.Equal(Text(kv.Value), Text(podLabels[kv.Key])));

        var service = PropertyValue.CreateObject(Registered(DevRegistryComponent.ServiceType, "dev-service").Inputs);
        Assert.Equal("NodePort", Text(At(service, "spec", "type")));
        Assert.Equal((5000d, 32000d), (At(service, "spec", "ports", 0, "port").NumberValue, At(service, "spec", "ports", 0, "nodePort").Unwrap().Value.NumberValue));

        // KEP-1755: kube-public/local-registry-hosting, localRegistryHosting.v1.
        var hosting = PropertyValue.CreateObject(Registered(DevRegistryComponent.ConfigMapType, "dev-local-registry-hosting").Inputs);
        Assert.Equal(("local-registry-hosting", "kube-public"), (Text(At(hosting, "metadata", "name")), Text(At(hosting, "metadata", "namespace"))));
        var document = Text(At(hosting, "data", "localRegistryHosting.v1"));
        var yaml = new YamlDotNet.RepresentationModel.YamlStream();
        yaml.Load(new StringReader(document));
        var fields = ((YamlDotNet.RepresentationModel.YamlMappingNode)yaml.Documents[0].RootNode).Children.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString());
        Assert.Equal("localhost:32000", fields["host"]);
        Assert.Equal("localhost:32000", fields["hostFromContainerRuntime"]);
        Assert.Equal("dev-registry.dev-registry.svc:5000", fields["hostFromClusterNetwork"]);
        Assert.StartsWith("https://", fields["help"], StringComparison.Ordinal);

        // Outputs: a static profile; the password and auth entry secret, nothing else carries them.
        Assert.Equal("localhost:32000", Text(result.State["server"]));
        Assert.Equal("generic", Text(result.State["kind"]));
        Assert.Equal("dev", Text(result.State["username"]));
        Assert.True(result.State["password"].IsSecret || result.State["password"].ContainsSecrets());
        Assert.Equal(Password, Text(result.State["password"]));
        Assert.True(result.State["authEntry"].ContainsSecrets());
        var entry = JsonNode.Parse(Text(result.State["authEntry"]))!;
        Assert.Equal("dev:" + Password, Encoding.UTF8.GetString(Convert.FromBase64String(entry["auth"]!.GetValue<string>())));
        foreach (var (key, value) in result.State.Where(kv => kv.Key is not ("password" or "authEntry")))
        {
            Assert.False(value.ContainsSecrets(), $"{key} is secret");
            Assert.DoesNotContain(Password, value.ToString() ?? "", StringComparison.Ordinal);
        }
        Assert.Contains(Registered(DevRegistryComponent.ServiceType, "dev-service").Urn, result.StateDependencies["server"]);
    }

    // What kind-local does across its two stacks: the registry's outputs are a static ClusterRegistryAccess profile.
    [Fact]
    public async Task The_outputs_feed_cluster_registry_access_as_a_static_profile()
    {
        var registry = await Construct(Mode("devRegistry/defaults"), preview: false);
        var profile = new JsonObject
        {
            ["server"] = Text(registry.State["server"]),
            ["kind"] = Text(registry.State["kind"]),
            ["username"] = Text(registry.State["username"]),
            ["password"] = Text(registry.State["password"]),
        };
        var json = new JsonObject { ["profiles"] = new JsonArray(profile), ["namespaces"] = new JsonArray("apps"), ["attachServiceAccounts"] = false, ["secretName"] = "dev-registry-pull" };

        await Construct(new ComponentMode("wired", "registryinfra:index:ClusterRegistryAccess", "access", json.ToJsonString()), preview: false);

        var secret = Monitor.Registrations.Single(r => r.Type == "kubernetes:core/v1:Secret");
        Assert.Equal("kubernetes.io/dockerconfigjson", Text(secret.Inputs["type"]));
        var document = JsonNode.Parse(Text(At(PropertyValue.CreateObject(secret.Inputs), "stringData", ".dockerconfigjson")))!;
        var auth = document["auths"]!["localhost:32000"]!["auth"]!.GetValue<string>();
        Assert.Equal("dev:" + Password, Encoding.UTF8.GetString(Convert.FromBase64String(auth)));
        Assert.DoesNotContain(Monitor.Registrations, r => r.Type == "kubernetes:batch/v1:CronJob");
    }

    [Fact]
    public async Task The_htpasswd_is_the_same_on_every_run_and_changes_with_the_password()
    {
        var mode = Mode("devRegistry/defaults");
        await Construct(mode, preview: false);
        var first = HtpasswdOf("dev-htpasswd");
        await Construct(mode, preview: false);
        var second = HtpasswdOf("dev-htpasswd");
        await Construct(mode with { Json = """{ "password": "a-new-p4ssword" }""" }, preview: false);
        var changed = HtpasswdOf("dev-htpasswd");

        // A component keeps no state: an unchanged program must send the same Secret, or no preview would be clean.
        Assert.Equal(first, second);
        Assert.NotEqual(first, changed);
        Assert.True(Htpasswd.Verify(changed.TrimEnd('\n'), "a-new-p4ssword"));
        // The pod template carries the htpasswd's hash: a new password restarts the registry.
        var annotation = At(PropertyValue.CreateObject(Registered(DevRegistryComponent.DeploymentType, "dev-deployment").Inputs),
            "spec", "template", "metadata", "annotations", DevRegistryComponent.HtpasswdHashAnnotation);
        Assert.Matches("^[0-9a-f]{10}$", Text(annotation));
    }

    [Fact]
    public async Task A_claim_keeps_the_images_and_given_names_ports_and_hosts_are_used()
    {
        var result = await Construct(Mode("devRegistry/claim-custom"), preview: false);

        Assert.DoesNotContain(Monitor.Registrations, r => r.Type == DevRegistryComponent.NamespaceType);
        Assert.DoesNotContain(Monitor.Registrations, r => r.Type == DevRegistryComponent.ConfigMapType);
        var claim = PropertyValue.CreateObject(Registered(DevRegistryComponent.ClaimType, "local-storage").Inputs);
        Assert.Equal(("registry-storage", "tools", "10Gi", "standard"),
            (Text(At(claim, "metadata", "name")), Text(At(claim, "metadata", "namespace")), Text(At(claim, "spec", "resources", "requests", "storage")), Text(At(claim, "spec", "storageClassName"))));
        var deployment = Registered(DevRegistryComponent.DeploymentType, "local-deployment");
        var volumes = At(PropertyValue.CreateObject(deployment.Inputs), "spec", "template", "spec", "volumes").ArrayValue;
        Assert.Equal("registry-storage", Text(At(volumes[0], "persistentVolumeClaim", "claimName")));
        Assert.Contains(Registered(DevRegistryComponent.ClaimType, "local-storage").Urn, deployment.Request.Dependencies);
        Assert.StartsWith("builder:$2y$", HtpasswdOf("local-htpasswd"), StringComparison.Ordinal);
        Assert.Equal(("localhost:30500", "192.168.49.2:30500", "registry.tools.svc:5000"),
            (Text(result.State["server"]), Text(result.State["host"]), Text(result.State["hostFromClusterNetwork"])));
    }

    [Fact]
    public async Task Preview_with_an_unknown_password_registers_every_child_with_the_htpasswd_unknown()
    {
        var mode = Mode("devRegistry/defaults") with { Json = """{ "password": "UNKNOWN" }""" };

        var result = await Construct(mode, preview: true);

        Assert.Equal(6, Monitor.Registrations.Count);
        Assert.True(At(PropertyValue.CreateObject(Registered(DevRegistryComponent.SecretType, "dev-htpasswd").Inputs), "stringData", "htpasswd").IsComputed);
        Assert.True(result.State["password"].IsComputed || result.State["password"].Unwrap().Value.IsComputed);
        Assert.Equal("localhost:32000", Text(result.State["server"]));
    }

    // Distribution's htpasswd authentication (golang.org/x/crypto/bcrypt) accepts the lines this component writes: a
    // registry whose htpasswd file holds them lets the account push and pull, and refuses a wrong password.
    [Fact]
    public async Task The_real_registry_accepts_the_bcrypt_htpasswd_and_refuses_a_wrong_password()
    {
        await using var registry = await LocalRegistry.StartAsync(LocalRegistryMode.HtpasswdTls,
            account => Htpasswd.Line("dev", DevRegistryComponent.DefaultNamespace, account.Username, account.Password), Ct);
        await registry.PushAsync("dev/app", "1.0", [new TestImage("linux", "amd64", null, "dev registry test")], Ct);

        var provider = RegistryInfraPackage.CreateProvider();
        Dictionary<string, PropertyValue> Args(string password) => new()
        {
            ["image"] = PropertyValue.Create($"{registry.Authority}/dev/app:1.0"),
            ["caCertificates"] = PropertyValue.Create(registry.Ca!.Root.ExportCertificatePem()),
            ["username"] = PropertyValue.Create(registry.Admin.Username),
            ["password"] = PropertyValue.CreateSecret(PropertyValue.Create(password)),
        };
        var good = await provider.InvokeAsync(new InvokeRequest("registryinfra:index:getImage", Args(registry.Admin.Password), Preview: false), Ct);
        Assert.Empty(good.Failures);
        Assert.StartsWith("sha256:", good.Return!["digest"].Unwrap().Value.StringValue, StringComparison.Ordinal);
        var wrong = await Record.ExceptionAsync(async () =>
        {
            var response = await provider.InvokeAsync(new InvokeRequest("registryinfra:index:getImage", Args(registry.Admin.Password + "x"), Preview: false), Ct);
            Assert.NotEmpty(response.Failures);
        });
        Assert.True(wrong is null || wrong.Message.Contains("401", StringComparison.Ordinal) || wrong.Message.Contains("credential", StringComparison.OrdinalIgnoreCase)
            || wrong.Message.Contains("unauthorized", StringComparison.OrdinalIgnoreCase), wrong?.Message);
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { """{ }""", "password: required" },
        { """{ "password": "short" }""", "password: too short: 5 bytes, at least 8" },
        { $$"""{ "password": "{{new string('p', 73)}}" }""", "password: too long: 73 bytes of UTF-8; bcrypt reads at most 72" },
        { """{ "password": "tab\tinside-pw" }""", "password: contains a control character" },
        { """{ "password": "dev-registry-p4ss", "username": "a:b" }""", "username: 'a:b' is not a user name" },
        { """{ "password": "dev-registry-p4ss", "nodePort": 8080 }""", "nodePort: 8080 is outside the node port range 30000-32767" },
        { """{ "password": "dev-registry-p4ss", "image": "registry:2.8.3" }""", "image: 'registry:2.8.3' is not pinned by digest" },
        { """{ "password": "dev-registry-p4ss", "namespace": "Dev" }""", "namespace: 'Dev' is not a valid name" },
        { """{ "password": "dev-registry-p4ss", "name": "0registry" }""", "name: '0registry' starts with a digit" },
        { """{ "password": "dev-registry-p4ss", "host": "http://localhost:32000" }""", "host: 'http://localhost:32000' is not a registry host" },
        { """{ "password": "dev-registry-p4ss", "storageSize": "ten gigs" }""", "storageSize: is not a Kubernetes quantity" },
        { """{ "password": "dev-registry-p4ss", "storageClassName": "standard" }""", "storageClassName: only with storageSize" },
    };

    [Fact]
    public async Task Tls_a_given_certificate_is_served_from_a_tls_secret_the_registry_mounts()
    {
        using var ca = new TestCertificateAuthority();
        var (certificate, key) = ComponentModes.TlsPair(ca);
        var json = $$"""{ "password": "dev-registry-p4ss", "tlsCertificate": {{System.Text.Json.JsonSerializer.Serialize(certificate)}}, "tlsKey": {{System.Text.Json.JsonSerializer.Serialize(key)}} }""";

        var result = await Construct(new ComponentMode("tls", DevRegistryComponent.TypeToken, "tls", json), preview: false);

        var secret = Registered(DevRegistryComponent.SecretType, "tls-tls");
        var inputs = PropertyValue.CreateObject(secret.Inputs);
        Assert.Equal("kubernetes.io/tls", Text(At(inputs, "type")));
        Assert.Equal(certificate, Text(At(inputs, "stringData", "tls.crt")));
        Assert.True(inputs.ContainsSecrets(), "the key is secret");
        var pod = At(PropertyValue.CreateObject(Registered(DevRegistryComponent.DeploymentType, "tls-deployment").Inputs), "spec", "template", "spec");
        var container = At(pod, "containers", 0);
        var env = At(container, "env").ArrayValue.ToDictionary(e => Text(At(e, "name")), e => Text(At(e, "value")));
        Assert.Equal(("/certs/tls.crt", "/certs/tls.key"), (env["REGISTRY_HTTP_TLS_CERTIFICATE"], env["REGISTRY_HTTP_TLS_KEY"]));
        Assert.Contains(At(container, "volumeMounts").ArrayValue, m => Text(At(m, "name")) == "tls" && Text(At(m, "mountPath")) == "/certs");
        Assert.Contains(At(pod, "volumes").ArrayValue, v => Text(At(v, "name")) == "tls" && Text(At(v, "secret", "secretName")) == "dev-registry-tls");
        Assert.Contains(secret.Urn, Registered(DevRegistryComponent.DeploymentType, "tls-deployment").Request.Dependencies);
        Assert.Equal(certificate, Text(result.State["tlsCertificate"]));
    }

    // The pod as a real docker-registry runs it: the Deployment's REGISTRY_* environment (distribution's documented
    // override of its configuration, docs "Override specific configuration options") and the files of its two Secrets,
    // mounted paths moved into a temporary directory. It must answer HTTPS with the given certificate, and only to
    // the htpasswd user.
    [Fact]
    public async Task Tls_the_real_registry_serves_https_with_the_certificate_and_the_environment_the_pod_gets()
    {
        var binary = RegistryInfra.Testing.Requirements.RequireCommand("docker-registry", "install the Debian package docker-registry (tests/setup)");
        using var ca = new TestCertificateAuthority();
        var (certificate, key) = ComponentModes.TlsPair(ca);
        var json = $$"""{ "password": "dev-registry-p4ss", "tlsCertificate": {{System.Text.Json.JsonSerializer.Serialize(certificate)}}, "tlsKey": {{System.Text.Json.JsonSerializer.Serialize(key)}} }""";
        await Construct(new ComponentMode("tls", DevRegistryComponent.TypeToken, "tls", json), preview: false);
        var root = Directory.CreateTempSubdirectory("devregistry-tls-").FullName;
        try
        {
            string Moved(string path) => Path.Combine(root, path.TrimStart('/'));
            Directory.CreateDirectory(Moved("/auth"));
            Directory.CreateDirectory(Moved("/certs"));
            Directory.CreateDirectory(Moved("/var/lib/registry"));
            await File.WriteAllTextAsync(Moved("/auth/htpasswd"), HtpasswdOf("tls-htpasswd"), Ct);
            var tls = PropertyValue.CreateObject(Registered(DevRegistryComponent.SecretType, "tls-tls").Inputs);
            await File.WriteAllTextAsync(Moved("/certs/tls.crt"), Text(At(tls, "stringData", "tls.crt")), Ct);
            await File.WriteAllTextAsync(Moved("/certs/tls.key"), Text(At(tls, "stringData", "tls.key")), Ct);
            var config = Path.Combine(root, "config.yml");
            await File.WriteAllTextAsync(config, "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /tmp\nhttp:\n  addr: :5000\n", Ct);
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();

            var container = At(PropertyValue.CreateObject(Registered(DevRegistryComponent.DeploymentType, "tls-deployment").Inputs), "spec", "template", "spec", "containers", 0);
            var start = new System.Diagnostics.ProcessStartInfo(binary, ["serve", config]) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var e in At(container, "env").ArrayValue)
            {
                var (name, value) = (Text(At(e, "name")), Text(At(e, "value")));
                start.Environment[name] = name == "REGISTRY_HTTP_ADDR" ? $"127.0.0.1:{port}" : value.StartsWith('/') ? Moved(value) : value;
            }
            using var process = System.Diagnostics.Process.Start(start)!;
            try
            {
                using var handler = new HttpClientHandler
                {
                    ServerCertificateCustomValidationCallback = (_, presented, _, _) =>
                    {
                        using var chain = new X509Chain();
                        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                        chain.ChainPolicy.CustomTrustStore.Add(ca.RootPublic);
                        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                        return presented is not null && chain.Build(presented);
                    },
                };
                using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
                var uri = new Uri($"https://localhost:{port}/v2/");
                HttpResponseMessage? anonymous = null;
                for (var attempt = 0; attempt < 50 && anonymous is null; attempt++)
                {
                    try
                    {
                        anonymous = await http.GetAsync(uri, Ct);
                    }
                    catch (HttpRequestException) when (!process.HasExited)
                    {
                        await Task.Delay(100, Ct);
                    }
                }
                Assert.NotNull(anonymous);
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("dev:dev-registry-p4ss")));
                using var authorised = await http.SendAsync(request, Ct);

                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous!.StatusCode);
                Assert.Equal(System.Net.HttpStatusCode.OK, authorised.StatusCode);
                anonymous.Dispose();
            }
            finally
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(Ct);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Tls_without_a_certificate_is_plain_http_with_no_tls_secret()
    {
        await Construct(Mode("devRegistry/defaults"), preview: false);

        Assert.DoesNotContain(Monitor.Registrations, r => r.Type == DevRegistryComponent.SecretType && r.Name.EndsWith("-tls", StringComparison.Ordinal));
        var container = At(PropertyValue.CreateObject(Monitor.Registrations.Single(r => r.Type == DevRegistryComponent.DeploymentType).Inputs), "spec", "template", "spec", "containers", 0);
        Assert.DoesNotContain(At(container, "env").ArrayValue, e => Text(At(e, "name")).StartsWith("REGISTRY_HTTP_TLS", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("key-only", "tlsCertificate: required with tlsKey")]
    [InlineData("certificate-only", "tlsKey: required with tlsCertificate")]
    [InlineData("not-pem", "tlsCertificate: is not a PEM certificate")]
    [InlineData("other-key", "tlsKey: is not a PEM private key that matches tlsCertificate")]
    public async Task Tls_bad_pairs_are_refused_naming_the_field_and_never_quoting_the_key(string variant, string expected)
    {
        using var ca = new TestCertificateAuthority();
        var (certificate, key) = ComponentModes.TlsPair(ca);
        var (_, otherKey) = ComponentModes.TlsPair(ca);
        string Q(string text) => System.Text.Json.JsonSerializer.Serialize(text);
        var fields = variant switch
        {
            "key-only" => $"\"tlsKey\": {Q(key)}",
            "certificate-only" => $"\"tlsCertificate\": {Q(certificate)}",
            "not-pem" => $"\"tlsCertificate\": \"certificate\", \"tlsKey\": {Q(key)}",
            _ => $"\"tlsCertificate\": {Q(certificate)}, \"tlsKey\": {Q(otherKey)}",
        };

        var e = await Assert.ThrowsAnyAsync<Exception>(() => Construct(new ComponentMode("bad", DevRegistryComponent.TypeToken, "bad", $"{{ \"password\": \"dev-registry-p4ss\", {fields} }}"), preview: false));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Monitor.Registrations, r => r.Type.StartsWith("kubernetes:", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_refused_naming_the_field_and_never_quoting_the_password(string json, string expected)
    {
        var mode = new ComponentMode("bad", DevRegistryComponent.TypeToken, "bad", json);

        var e = await Assert.ThrowsAnyAsync<Exception>(() => Construct(mode, preview: false));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("dev-registry-p4ss", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("tab\tinside", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Monitor.Registrations, r => r.Type.StartsWith("kubernetes:", StringComparison.Ordinal));
    }

    // Apache's htpasswd (apache2-utils, APR's own bcrypt) verifies the lines too: an implementation other than the one
    // that wrote them, and the tool whose $2y$ format they follow.
    // The shipped binary is NativeAOT: bcrypt (BCrypt.Net-Next) must hash there as it does here.
    [Fact]
    public async Task The_native_aot_plugin_writes_an_htpasswd_that_verifies()
    {
        await using var plugin = await RegistryInfra.Testing.Plugin.PluginProcess.StartAsync(PluginBinary.Path, Ct);
        Monitor.Clear();
        Monitor.DryRun = false;

        var result = await plugin.Provider.ConstructAsync(Mode("devRegistry/defaults").Request(Monitor.Endpoint, dryRun: false), Ct);

        var line = HtpasswdOf("dev-htpasswd");
        Assert.True(Htpasswd.Verify(line.TrimEnd('\n'), Password));
        Assert.Equal(Htpasswd.Line("dev", DevRegistryComponent.DefaultNamespace, "dev", Password) + "\n", line);
        Assert.Equal("localhost:32000", Text(result.State["server"]));
    }

    private static async Task<int> VerifyAsync(string htpasswd, string file, string password)
    {
        var start = new System.Diagnostics.ProcessStartInfo(htpasswd) { ArgumentList = { "-vb", file, "dev", password }, RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardError.ReadToEndAsync(Ct);
        await process.StandardOutput.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.DoesNotContain(password, await output, StringComparison.Ordinal);
        return process.ExitCode;
    }

    [Fact]
    public async Task Apache_htpasswd_verifies_the_lines()
    {
        var htpasswd = RegistryInfra.Testing.Requirements.RequireCommand("htpasswd", "install the Debian package apache2-utils (tests/setup)");
        var file = Path.Combine(Path.GetTempPath(), $"registryinfra-htpasswd-{Guid.NewGuid():N}");
        try
        {
            await File.WriteAllTextAsync(file, Htpasswd.Line("dev", "dev-registry", "dev", Password) + "\n", Ct);

            Assert.Equal(0, await VerifyAsync(htpasswd, file, Password));
            Assert.NotEqual(0, await VerifyAsync(htpasswd, file, Password + "x"));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
