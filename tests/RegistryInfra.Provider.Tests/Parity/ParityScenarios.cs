using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Resources.GetImage;
using RegistryInfra.Provider.Resources.RegistryProfile;
using RegistryInfra.Provider.Tests.ChildCheck;
using RegistryInfra.Provider.Tests.Registry;
using RegistryInfra.Provider.Tests.Resources;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Monitor;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Provider.Tests.Parity;

/// <summary>One scenario, played against a provider; everything it answers goes into the provider's transcript.</summary>
internal sealed record ParityScenario(string Name, Func<RecordingProvider, CancellationToken, Task> Run)
{
    public override string ToString() => Name;
}

/// <summary>
/// The scenarios of the resource, function and component tests, as data: RegistryProfile lifecycles (the engine's
/// sequence of <see cref="LifecycleHarness"/>), its check failures (<see cref="RegistryProfileCheckTests.Failures"/>),
/// against the local registries with images, getImage, and Construct of every component mode in preview and update.
/// </summary>
internal static class ParityScenarios
{
    private const string Profile = RegistryProfileResource.Token;
    private const string Canary = "parity-p4ssw0rd-canary";

    private static PropertyValue Secret(string value) => PropertyValue.CreateSecret(PropertyValue.Create(value));

    private static Dictionary<string, PropertyValue> Static(string server, PropertyValue? password = null, string user = "robot") => new()
    {
        ["server"] = PropertyValue.Create(server),
        ["username"] = PropertyValue.Create(user),
        ["password"] = password ?? Secret(Canary),
        ["validate"] = PropertyValue.Create(false),
    };

    private static ParityScenario Lifecycle(string name, IReadOnlyDictionary<string, PropertyValue> create, params IReadOnlyDictionary<string, PropertyValue>[] steps) =>
        new($"{Profile} lifecycle: {name}", async (provider, ct) =>
            await new LifecycleHarness(provider, Profile).RunAsync(create, [.. steps.Select(s => new LifecycleStep(s))], ct));

    private static ParityScenario Check(string name, IReadOnlyDictionary<string, PropertyValue> news, IReadOnlyDictionary<string, PropertyValue>? olds = null) =>
        new($"{Profile} check: {name}", async (provider, ct) =>
            await provider.CheckAsync(new CheckRequest($"urn:pulumi:test::project::{Profile}::p", Profile, "p", olds ?? ImmutableDictionary<string, PropertyValue>.Empty, news, []), ct));

    private static ParityScenario Invoke(string name, IReadOnlyDictionary<string, PropertyValue> args, bool preview = false) =>
        new($"{GetImageFunction.Token}: {name}", async (provider, ct) =>
            await provider.InvokeAsync(new InvokeRequest(GetImageFunction.Token, args, preview), ct));

    private static ParityScenario Construct(ComponentMode mode, bool preview) =>
        new($"{mode.Type} construct{(preview ? " (preview)" : "")}: {mode.Id}", async (provider, ct) =>
        {
            await using var monitor = await FakeResourceMonitor.StartAsync(ct);
            monitor.DryRun = preview;
            try
            {
                await provider.ConstructAsync(mode.Request(monitor.Endpoint, preview), ct);
            }
            finally
            {
                provider.NoteRegistrations(monitor);
            }
        });

    /// <summary>The scenarios that need no registry.</summary>
    public static IEnumerable<ParityScenario> Offline()
    {
        foreach (var server in new[] { "GHCR.io", "https://Registry.Example.com:5000/", "docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/" })
        {
            yield return Lifecycle($"server {server}", Static(server));
        }
        yield return Lifecycle("password change updates", Static("ghcr.io"), Static("ghcr.io", Secret(Canary + "-2")));
        yield return Lifecycle("server change replaces", Static("ghcr.io"), Static("quay.io"));
        yield return Lifecycle("unchanged inputs", Static("ghcr.io"), Static("ghcr.io"));
        yield return Lifecycle("secret username", new Dictionary<string, PropertyValue>
        {
            ["server"] = PropertyValue.Create("ghcr.io"),
            ["username"] = Secret("hidden-user"),
            ["password"] = PropertyValue.Create("plain-password"),
            ["validate"] = PropertyValue.Create(false),
        });
        yield return Lifecycle("ecr from the host", new Dictionary<string, PropertyValue>
        {
            ["server"] = PropertyValue.Create("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            ["ecr"] = PropertyValue.CreateObject(new Dictionary<string, PropertyValue>()),
            ["validate"] = PropertyValue.Create(false),
        });
        foreach (var (first, server, kind) in new[] { ("ghcr.io", "GHCR.io", (string?)null), ("ghcr.io", "https://ghcr.io/", "ghcr"), ("registry.corp.example", "registry.corp.example", "generic"), ("registry.corp.example", "registry.corp.example", "quay") })
        {
            var next = Static(server);
            if (kind is not null)
            {
                next["kind"] = PropertyValue.Create(kind);
            }
            yield return Lifecycle($"{first} then {server} kind {kind}", Static(first), next);
        }
        yield return new ParityScenario($"{Profile} preview with an unknown password", async (provider, ct) =>
        {
            var check = await provider.CheckAsync(new CheckRequest("urn:x", Profile, "p", ImmutableDictionary<string, PropertyValue>.Empty, Static("ghcr.io", PropertyValue.Computed), []), ct);
            await provider.CreateAsync(new CreateRequest("urn:x", Profile, "p", check.Inputs!, TimeSpan.Zero, Preview: true), ct);
        });
        foreach (var (server, user, password) in new[] { ("", "robot", "pw"), ("ghcr.io/org/repo", "robot", "pw"), ("ftp://ghcr.io", "robot", "pw"), ("ghcr.io:99999", "robot", "pw"), ("ghcr.io", "ro:bot", "pw") })
        {
            yield return Check($"server '{server}' user '{user}'", Static(server, Secret(password), user));
        }
        yield return Check("password without username", new Dictionary<string, PropertyValue> { ["server"] = PropertyValue.Create("ghcr.io"), ["password"] = Secret("pw"), ["validate"] = PropertyValue.Create(false) });
        yield return Check("username without password", new Dictionary<string, PropertyValue> { ["server"] = PropertyValue.Create("ghcr.io"), ["username"] = PropertyValue.Create("robot"), ["validate"] = PropertyValue.Create(false) });
        yield return Check("wrong type", new Dictionary<string, PropertyValue> { ["server"] = PropertyValue.Create(42) });
        foreach (var row in RegistryProfileCheckTests.Failures())
        {
            yield return Check(row.Data.Item1, row.Data.Item2);
        }
        yield return Invoke("unreachable registry", new Dictionary<string, PropertyValue> { ["image"] = PropertyValue.Create("127.0.0.1:9/team/app:1.0") });
        yield return Invoke("bad reference", new Dictionary<string, PropertyValue> { ["image"] = PropertyValue.Create("UPPER/case:1") });
        foreach (var mode in ComponentModes.All)
        {
            yield return Construct(mode, preview: false);
            yield return Construct(mode, preview: true);
        }
        yield return Construct(new ComponentMode("pullSecret/unknown-namespace", "registryinfra:kubernetes:PullSecret", "ps",
            """{ "registries": [{ "server": "r.example.com", "username": "u", "password": "p" }], "namespaces": ["UNKNOWN"] }"""), preview: true);
        yield return Construct(new ComponentMode("pullSecret/missing-namespaces", "registryinfra:kubernetes:PullSecret", "ps",
            """{ "registries": [{ "server": "r.example.com", "username": "u", "password": "p" }] }"""), preview: false);
        yield return Construct(new ComponentMode("pullSecret/password-without-username", "registryinfra:kubernetes:PullSecret", "ps",
            """{ "registries": [{ "server": "r.example.com", "password": "p" }], "namespaces": ["apps"] }"""), preview: false);
        // Issue 12: keys through the core (Docker Hub alias, case), anonymous entries, a refused spelling.
        yield return Construct(new ComponentMode("pullSecret/alias-case-anonymous", "registryinfra:kubernetes:PullSecret", "ps",
            """{ "registries": [{ "server": "registry-1.docker.io", "username": "u", "password": "p" }, { "server": "https://Registry.Example.com/", "username": "u", "password": "p" }, { "server": "mcr.microsoft.com", "anonymous": true, "tokenBased": false, "authEntry": "" }], "namespaces": ["apps"] }"""), preview: false);
        yield return Construct(new ComponentMode("pullSecret/two-spellings", "registryinfra:kubernetes:PullSecret", "ps",
            """{ "registries": [{ "server": "registry.example.com", "username": "u", "password": "p" }, { "server": "Registry.Example.com", "username": "u", "password": "p" }], "namespaces": ["apps"] }"""), preview: false);
        yield return Construct(new ComponentMode("clusterRegistryAccess/anonymous-only", "registryinfra:index:ClusterRegistryAccess", "pub",
            """{ "profiles": [{ "server": "mcr.microsoft.com", "anonymous": true }], "namespaces": ["apps"] }"""), preview: true);
        yield return Construct(new ComponentMode("clusterRegistryAccess/opt-out-with-accounts", "registryinfra:index:ClusterRegistryAccess", "edge",
            """{ "profiles": [{ "server": "ghcr.io", "username": "u", "password": "p" }], "namespaces": ["apps"], "serviceAccounts": ["default"], "attachServiceAccounts": false }"""), preview: false);
        // Issue 14: a selector unknown in preview (from a resource not created yet), and the errors that name the fields.
        yield return Construct(new ComponentMode("clusterRegistryAccess/unknown-selector", "registryinfra:index:ClusterRegistryAccess", "sel",
            """{ "profiles": [{ "server": "ghcr.io", "username": "u", "password": "p" }], "namespaceSelector": "UNKNOWN", "refresher": { "image": "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "mode": "watch" } }"""), preview: true);
        yield return Construct(new ComponentMode("clusterRegistryAccess/bad-operator", "registryinfra:index:ClusterRegistryAccess", "sel",
            """{ "profiles": [{ "server": "ghcr.io", "username": "u", "password": "p" }], "namespaceSelector": { "matchExpressions": [{ "key": "team", "operator": "Equals", "values": ["a"] }] } }"""), preview: false);
        yield return Construct(new ComponentMode("clusterRegistryAccess/two-selections", "registryinfra:index:ClusterRegistryAccess", "sel",
            """{ "profiles": [{ "server": "ghcr.io", "username": "u", "password": "p" }], "namespaces": ["apps"], "allNamespaces": true }"""), preview: false);
        yield return Construct(new ComponentMode("clusterRegistryAccess/selector-without-image", "registryinfra:index:ClusterRegistryAccess", "sel",
            """{ "profiles": [{ "server": "ghcr.io", "username": "u", "password": "p" }], "allNamespaces": true }"""), preview: false);
        yield return Construct(new ComponentMode("tokenRefresher/watch-with-schedule", "registryinfra:kubernetes:TokenRefresher", "rf",
            """{ "image": "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "mode": "watch", "schedule": "0 * * * *", "registries": [{ "server": "europe-docker.pkg.dev", "type": "gcp" }], "targets": [{ "secretName": "t", "allNamespaces": true }] }"""), preview: false);
        yield return Construct(new ComponentMode("tokenRefresher/three-replicas", "registryinfra:kubernetes:TokenRefresher", "rf",
            """{ "image": "ghcr.io/acme/refresher@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "mode": "watch", "replicas": 3, "registries": [{ "server": "europe-docker.pkg.dev", "type": "gcp" }], "targets": [{ "secretName": "t", "allNamespaces": true }] }"""), preview: false);
    }

    /// <summary>The scenarios against the local registries (htpasswd over TLS, token auth over TLS), with images.</summary>
    public static async Task<IReadOnlyList<ParityScenario>> WithRegistriesAsync(SharedRegistries registries)
    {
        var scenarios = new List<ParityScenario>();
        foreach (var mode in new[] { LocalRegistryMode.HtpasswdTls, LocalRegistryMode.TokenTls })
        {
            var registry = await registries.GetAsync(mode);
            var account = mode == LocalRegistryMode.TokenTls ? registry.Reader : registry.Admin;
            string Image(string repository, string tag = SharedRegistries.Tag) => $"{registry.Authority}/{repository}:{tag}";
            var single = Image(SharedRegistries.SingleRepo);
            var multi = Image(SharedRegistries.MultiRepo);
            var ca = registry.Ca!.Root.ExportCertificatePem();

            scenarios.Add(Lifecycle($"{mode} validated, with images", RegistryProfileRegistryTests.Profile(registry, account.Username, account.Password, single, multi)));
            var arm = RegistryProfileRegistryTests.Profile(registry, account.Username, account.Password, multi);
            arm["platform"] = PropertyValue.Create("linux/arm64");
            scenarios.Add(Lifecycle($"{mode} platform linux/arm64", arm));
            scenarios.Add(Lifecycle($"{mode} images added", RegistryProfileRegistryTests.Profile(registry, account.Username, account.Password, single),
                RegistryProfileRegistryTests.Profile(registry, account.Username, account.Password, single, multi)));
            scenarios.Add(Check($"{mode} rejected password", RegistryProfileRegistryTests.Profile(registry, registry.Reader.Username, "wrong-" + Canary, single)));
            scenarios.Add(Check($"{mode} missing images", RegistryProfileRegistryTests.Profile(registry, account.Username, account.Password,
                single, Image(SharedRegistries.SingleRepo, "no-such-tag"), Image("team/no-such-repo"))));

            if (mode == LocalRegistryMode.TokenTls)
            {
                var anonymous = RegistryProfileRegistryTests.AnonymousProfile(registry, Image(SharedRegistries.PublicRepo));
                scenarios.Add(Lifecycle($"{mode} anonymous public image", anonymous));
                scenarios.Add(Check($"{mode} anonymous private image", new Dictionary<string, PropertyValue>(anonymous)
                {
                    ["images"] = PropertyValue.CreateArray(PropertyValue.Create(single)),
                }));
                var always = RegistryProfileRegistryTests.Profile(registry, account.Username, account.Password, single);
                always["validate"] = PropertyValue.Create("always");
                scenarios.Add(Check($"{mode} validate always, unchanged", always, always));
                scenarios.Add(new ParityScenario($"{Profile} refresh: {mode} valid, then a password the registry refuses", async (provider, ct) =>
                {
                    const string Urn = "urn:pulumi:test::project::" + Profile + "::p";
                    var created = await provider.CreateAsync(new CreateRequest(Urn, Profile, "p", always, TimeSpan.Zero, Preview: false), ct);
                    await provider.ReadAsync(new ReadRequest(created.Id, Urn, Profile, "p", created.Properties, always), ct);
                    var refused = new Dictionary<string, PropertyValue>(always) { ["password"] = Secret("wrong-" + Canary) };
                    await provider.ReadAsync(new ReadRequest(created.Id, Urn, Profile, "p", created.Properties, refused), ct);
                }));
            }

            Dictionary<string, PropertyValue> Args(string image, string? password = null) => new()
            {
                ["image"] = PropertyValue.Create(image),
                ["caCertificates"] = PropertyValue.Create(ca),
                ["username"] = PropertyValue.Create(account.Username),
                ["password"] = Secret(password ?? account.Password),
            };
            scenarios.Add(Invoke($"{mode} single platform", Args(single)));
            var platform = Args(multi);
            platform["platform"] = PropertyValue.Create("linux/arm64/v8");
            scenarios.Add(Invoke($"{mode} multi platform linux/arm64/v8", platform));
            scenarios.Add(Invoke($"{mode} preview", Args(multi), preview: true));
            scenarios.Add(Invoke($"{mode} tag missing", Args(Image(SharedRegistries.SingleRepo, "no-such-tag"))));
            scenarios.Add(Invoke($"{mode} repository missing", Args(Image("team/no-such-repo"))));
            scenarios.Add(Invoke($"{mode} unauthorised", Args(single, "wrong-" + Canary)));
            scenarios.Add(Invoke($"{mode} dockerConfigJson", new Dictionary<string, PropertyValue>
            {
                ["image"] = PropertyValue.Create(single),
                ["caCertificates"] = PropertyValue.Create(ca),
                ["dockerConfigJson"] = Secret(new System.Text.Json.Nodes.JsonObject
                {
                    ["auths"] = new System.Text.Json.Nodes.JsonObject
                    {
                        [registry.Authority] = new System.Text.Json.Nodes.JsonObject { ["auth"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(account.Username + ":" + account.Password)) },
                    },
                }.ToJsonString()),
            }));
        }
        return scenarios;
    }
}
