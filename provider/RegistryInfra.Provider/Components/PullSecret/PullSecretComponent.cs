using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.PullSecret;

/// <summary>
/// <c>registryinfra:kubernetes:PullSecret</c>: per namespace one Secret of static credentials (data owned by
/// Pulumi) and, for token-based registries, a ConfigMap that owns the token Secret the refresher creates (the
/// Secret itself is never a Pulumi resource).
/// </summary>
/// <remarks>
/// This component never writes service accounts. <c>ServiceAccount.imagePullSecrets</c> is an atomic list
/// (<c>+listType=atomic</c> in core/v1): a server-side-apply <c>ServiceAccountPatch</c> carrying only our
/// names either conflicts with the list's current manager or, forced, replaces the list and drops the pull
/// secrets the account already had; deleting the patch then relinquishes the whole list. Reading the live
/// account and applying the union does not help: the patch would own the other entries too, remove them
/// on delete, and race with any other writer between the read and the apply. The only safe writer is a
/// read-modify-write with a resourceVersion precondition that adds names and never removes any, which is
/// what the refresher program does for each target's <c>serviceAccounts</c>: for the token secret in
/// the target that renews it, for the static secret in an <c>attachOnly</c> target that never touches
/// its data. ClusterRegistryAccess deploys that refresher for both (attach-only alone when every
/// registry is static); a PullSecret used on its own attaches nothing unless a TokenRefresher is given
/// such targets. Workloads can also name the secrets directly through the <c>imagePullSecrets</c> output.
/// </remarks>
public sealed class PullSecretComponent : IComponent<PullSecretArgs, PullSecretOutputs>
{
    public const string TypeToken = "registryinfra:kubernetes:PullSecret";
    public const string SecretType = "kubernetes:core/v1:Secret";
    public const string TokenSecretSuffix = "-tokens";

    /// <summary>With a namespace selector: the suffix of the source Secret's name (in the refresher's namespace).</summary>
    public const string SourceSuffix = "-source";

    /// <summary>With a namespace selector: the one key of <c>secretNames</c>, standing for every selected namespace.</summary>
    public const string AllSelected = "*";
    /// <summary>
    /// The secret name when none is given: the component's name and a hash of its URN (<see cref="KubernetesNames.InstanceName"/>),
    /// so two components or two stacks in one cluster never share a Secret by default.
    /// </summary>
    public static string DefaultSecretNameFor(ComponentScope scope, string name)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return KubernetesNames.InstanceName(name, scope.Urn);
    }
    public const string ConfigMapType = "kubernetes:core/v1:ConfigMap";

    /// <summary>On the owner ConfigMap: the object it owns (the token Secret of the same name, which the refresher creates).</summary>
    public const string OwnsAnnotation = "registryinfra.io/owns";

    /// <summary>On the owner ConfigMap: the component that declared it, so a forced collision names the other owner.</summary>
    public const string OwnerAnnotation = "registryinfra.io/owner";

    public static PullSecretComponent Instance { get; } = new();

    public string Type => TypeToken;

    /// <summary>How a registry's entry is owned: by Pulumi (static), by the refresher (token), by nobody (anonymous: no entry), or not known yet.</summary>
    public enum Ownership
    {
        Static,
        Token,
        Unknown,
        Anonymous,
    }

    public PullSecretOutputs Construct(ComponentScope scope, string name, PullSecretArgs args)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(args);
        var selection = NamespaceSelection.Resolve(args.Namespaces, args.NamespaceSelector, args.AllNamespaces, args.ExcludeNamespaces, "", out var namespaces);
        var wide = selection is NamespaceSelectionKind.Selector or NamespaceSelectionKind.All;
        if (!scope.Known(args.Registries, "registries", "the pull Secrets", out var registries)
            | (selection == NamespaceSelectionKind.Listed && !scope.Known(args.Namespaces ?? [], "namespaces", "the pull Secrets", out _))
            | !scope.Known(args.SecretName, "secretName", "the pull Secrets", out var secretNameInput))
        {
            Validate(registries, secretNameInput ?? DefaultSecretNameFor(scope, name));
            return Unknown();
        }
        var secretName = secretNameInput ?? DefaultSecretNameFor(scope, name);
        Validate(registries, secretName);
        if (selection == NamespaceSelectionKind.Unknown)
        {
            scope.LeaveOut("the pull Secrets", "namespaces, namespaceSelector and allNamespaces (which of them is given)");
            return Unknown();
        }
        var owners = registries.Select((r, i) => OwnershipOf(r, $"registries[{i}]")).ToList();
        if (owners.Contains(Ownership.Unknown))
        {
            scope.LeaveOut("the pull Secrets", $"registries[{owners.IndexOf(Ownership.Unknown)}] (whether it is static or token-based)");
            return Unknown();
        }
        var statics = registries.Where((_, i) => owners[i] == Ownership.Static).ToList();
        var anonymous = registries.Where((_, i) => owners[i] == Ownership.Anonymous).Select(r => r.Server).ToList();
        var tokens = registries.Where((_, i) => owners[i] == Ownership.Token).ToList();
        var staticIndexes = Enumerable.Range(0, registries.Length).Where(i => owners[i] == Ownership.Static).ToList();
        var tokenSecretName = secretName + TokenSecretSuffix;
        var secretNames = new List<string>();
        if (statics.Count > 0)
        {
            secretNames.Add(secretName);
        }
        if (tokens.Count > 0)
        {
            secretNames.Add(tokenSecretName);
        }

        var labels = KubernetesLabels.Of("pull-secret", name, args.Labels);
        var staticDocument = statics.Count > 0 ? Document(staticIndexes.Select(i => (i, registries[i]))) : null;
        if (wide)
        {
            return Selected(scope, name, args, secretName, secretNames, labels, staticDocument, tokens.Count > 0 ? tokenSecretName : null, anonymous);
        }
        var children = new List<IChild>();
        foreach (var ns in namespaces)
        {
            if (staticDocument is not null)
            {
                ObjectClaims.Claim(scope, "Secret", ns, secretName, "secretName");
            }
            if (tokens.Count > 0)
            {
                ObjectClaims.Claim(scope, "Secret", ns, tokenSecretName, "secretName");
            }
        }
        foreach (var ns in namespaces)
        {
            if (staticDocument is not null)
            {
                children.Add(scope.Resource(SecretType, $"{name}-{ns}-{secretName}", Secret(secretName, ns, labels, staticDocument, null),
                    new ChildOptions { AdditionalSecretOutputs = ["data", "stringData"] }));
            }
            if (tokens.Count > 0)
            {
                // Pulumi never manages the token Secret: the refresher creates it with an ownerReference to this
                // ConfigMap, so no refresh can read a token into state, no update can blank it, and deleting this
                // (the namespace, the last token registry or the component leaves the program) deletes the Secret
                // by garbage collection. See README "Who owns what".
                var annotations = new Dictionary<string, string>
                {
                    [OwnsAnnotation] = $"Secret/{tokenSecretName}",
                    // The owning component's URN (stack, project and parents): another stack's component forcing the same
                    // name applies another value here, which server-side apply refuses as a conflict with our field manager.
                    [OwnerAnnotation] = scope.Urn,
                };
                children.Add(scope.Resource(ConfigMapType, $"{name}-{ns}-{tokenSecretName}-owner", new ConfigMapInputs
                {
                    Metadata = KubernetesLabels.Metadata(tokenSecretName, ns, labels, annotations),
                }));
            }
        }

        IReadOnlyList<string> names = secretNames;
        return new PullSecretOutputs
        {
            SecretNames = Output.Create<IReadOnlyDictionary<string, IReadOnlyList<string>>>(namespaces.ToDictionary(ns => ns, _ => names, StringComparer.Ordinal)).DependingOn(children),
            ImagePullSecrets = Output.Create<IReadOnlyList<PullSecretReference>>([.. secretNames.Select(s => new PullSecretReference(s))]).DependingOn(children),
            StaticSecretName = Output.Create<string?>(statics.Count > 0 ? secretName : null),
            SourceSecretName = Output.Create<string?>(null),
            SourceSecretVersion = Output.Create<string?>(null),
            TokenSecretName = Output.Create<string?>(tokens.Count > 0 ? tokenSecretName : null),
            AnonymousRegistries = Output.All(anonymous).Apply(servers => (IReadOnlyList<string>)[.. servers]),
        };
    }

    private static PullSecretOutputs Unknown() => new();

    /// <summary>
    /// Namespaces by selector or all: the namespaces are the cluster's, resolved by the refresher, so Pulumi writes nothing
    /// in them. The static credentials go into one source Secret in <c>sourceNamespace</c> (the refresher's), which a copy
    /// target writes into <paramref name="secretName"/> in every selected namespace; the token Secret has no owner
    /// ConfigMap (its copies are owned by the refresher's ClusterRole). The names are known: <c>secretNames</c> has the
    /// one key <see cref="AllSelected"/>.
    /// </summary>
    private static PullSecretOutputs Selected(ComponentScope scope, string name, PullSecretArgs args, string secretName, List<string> secretNames,
        Output<IReadOnlyDictionary<string, string>> labels, Output<string>? staticDocument, string? tokenSecretName, List<Output<string>> anonymous)
    {
        var children = new List<IChild>();
        string? sourceName = null;
        var sourceVersion = Output.Create<string?>(null);
        if (staticDocument is not null)
        {
            sourceName = secretName + SourceSuffix;
            KubernetesNames.RequireSubdomain(sourceName, "secretName");
            if (args.SourceNamespace.TryGetKnown(out var known))
            {
                if (known is null)
                {
                    throw new ComponentInputException("sourceNamespace", "required with namespaceSelector or allNamespaces when a registry has static credentials: the namespace (the refresher's) where the source Secret goes, which a TokenRefresher copy target copies into every selected namespace");
                }
                KubernetesNames.RequireLabel(known, "sourceNamespace");
                ObjectClaims.Claim(scope, "Secret", known, sourceName, "secretName");
            }
            var source = scope.Resource(SecretType, $"{name}-{sourceName}", new SecretInputs
            {
                Type = "kubernetes.io/dockerconfigjson",
                Metadata = new ObjectMetaInputs { Name = sourceName, Namespace = args.SourceNamespace.Apply(n => n ?? ""), Labels = labels },
                StringData = new Dictionary<string, Output<string>> { [".dockerconfigjson"] = staticDocument },
            }, new ChildOptions { AdditionalSecretOutputs = ["data", "stringData"] });
            children.Add(source);
            // The API server's version of the Secret, never anything derived from its data: a new password is a new
            // version once Pulumi has written it, and the refresher's run-on-deploy Job is named after it.
            sourceVersion = ObjectVersion.Of(scope, source);
        }
        IReadOnlyList<string> names = secretNames;
        return new PullSecretOutputs
        {
            SecretNames = Output.Create<IReadOnlyDictionary<string, IReadOnlyList<string>>>(new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { [AllSelected] = names }).DependingOn(children),
            ImagePullSecrets = Output.Create<IReadOnlyList<PullSecretReference>>([.. secretNames.Select(s => new PullSecretReference(s))]).DependingOn(children),
            StaticSecretName = Output.Create<string?>(staticDocument is not null ? secretName : null),
            // Known at once (not waiting on the Secret): a TokenRefresher decides its targets, and so its RBAC, from it.
            SourceSecretName = Output.Create<string?>(sourceName),
            SourceSecretVersion = sourceVersion,
            TokenSecretName = Output.Create<string?>(tokenSecretName),
            AnonymousRegistries = Output.All(anonymous).Apply(servers => (IReadOnlyList<string>)[.. servers]),
        };
    }

    /// <summary>
    /// Static when the registry has a user name and password, a Google JSON key (<c>_json_key</c>,
    /// <c>_json_key_base64</c>: it never expires, so Pulumi owns it and a rotated key reaches the cluster on the
    /// next update), or an auth entry for a registry the refresher cannot renew; token when its kind is renewed
    /// by the refresher; unknown while the values that decide it are.
    /// </summary>
    public static Ownership OwnershipOf(PullSecretRegistry registry, string field)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var hasStatic = !Absent(registry.Username) || !Absent(registry.Password);
        if (hasStatic)
        {
            return Ownership.Static;
        }
        if (!registry.Anonymous.TryGetKnown(out var anonymous))
        {
            return Ownership.Unknown;
        }
        if (anonymous == true)
        {
            return Ownership.Anonymous;
        }
        if (!registry.TokenBased.TryGetKnown(out var tokenBased))
        {
            return Ownership.Unknown;
        }
        if (tokenBased is { } stated)
        {
            return stated ? Ownership.Token : Ownership.Static;
        }
        if (!registry.Server.TryGetKnown(out var server) || !registry.Kind.TryGetKnown(out var kind))
        {
            return Ownership.Unknown;
        }
        if (RefresherSource.For(kind, server, field) is null)
        {
            return Ownership.Static;
        }
        if (Absent(registry.AuthEntry))
        {
            return Ownership.Token;
        }
        if (!registry.AuthEntry.TryGetKnown(out var entry))
        {
            return Ownership.Unknown;
        }
        return IsGoogleJsonKey(entry!, $"{field}.authEntry") ? Ownership.Static : Ownership.Token;
    }

    private static bool Absent(Output<string?> value) => value.TryGetKnown(out var known) && known is null;

    private static bool IsGoogleJsonKey(string entry, string field)
    {
        var parsed = ParseEntry(entry, field);
        var username = parsed["username"]?.GetValue<string>();
        if (username is null && parsed["auth"]?.GetValue<string>() is { } auth)
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                username = colon < 0 ? null : decoded[..colon];
            }
            catch (FormatException)
            {
                throw new ComponentInputException($"{field}.auth", "is not base64 (expected the RegistryProfile's authEntry output)");
            }
        }
        return username is "_json_key" or "_json_key_base64";
    }

    private static JsonObject ParseEntry(string text, string field)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject
                ?? throw new ComponentInputException(field, "must be a JSON object such as the RegistryProfile's authEntry output");
        }
        catch (JsonException)
        {
            // The parser's message quotes the text, which is a credential.
            throw new ComponentInputException(field, "is not valid JSON (expected the RegistryProfile's authEntry output)");
        }
    }

    /// <summary>The <c>.dockerconfigjson</c> of <paramref name="registries"/>: unknown while a credential is, secret when one is.</summary>
    /// <remarks>
    /// Each credential goes under every key of <see cref="KeysOf"/>: the keys the kubelet matches for the images of
    /// the registry (k8s.io/kubernetes pkg/credentialprovider/keyring.go), never the server text as given.
    /// </remarks>
    private static Output<string> Document(IEnumerable<(int Index, PullSecretRegistry Registry)> registries)
    {
        var entries = registries.Select(r => Output.Tuple(Output.Tuple(r.Registry.Server, (r.Registry.Keys ?? []).Items), Output.Tuple(r.Registry.AuthEntry, r.Registry.Username, r.Registry.Password))
            .Apply(v => (Keys: KeysOf(ServerKeys(v.Item1.Item1, $"registries[{r.Index}]"), v.Item1.Item2, $"registries[{r.Index}]"), Entry: Entry(v.Item2.Item1, v.Item2.Item2, v.Item2.Item3, $"registries[{r.Index}]"))));
        return Output.All(entries).Apply(items =>
        {
            var auths = new JsonObject();
            foreach (var (keys, entry) in items)
            {
                foreach (var key in keys)
                {
                    auths[key] = entry.DeepClone();
                }
            }
            return new JsonObject { ["auths"] = auths }.ToJsonString();
        });
    }

    /// <summary>
    /// The keys one registry's credential is written under: those the core derives from the server
    /// (<see cref="PullSecretKeys"/>), then each of <paramref name="given"/> (RegistryProfile's <c>pullSecretKeys</c>),
    /// which must name the same registry and prefix.
    /// </summary>
    private static IReadOnlyList<string> KeysOf(PullSecretKeys keys, ImmutableArray<string> given, string field) =>
        keys.TryWith(given.IsDefault ? [] : given, field, out var written, out var error) ? written : throw new ComponentInputException(error.Field, error.Message);

    private static PullSecretKeys ServerKeys(string server, string field) =>
        PullSecretKeys.TryFor(server, null, $"{field}.server", out var keys, out var error)
            ? keys
            : throw new ComponentInputException(error.Field, error.Message);

    private static JsonObject Entry(string? authEntry, string? username, string? password, string field)
    {
        if (authEntry is not null)
        {
            return ParseEntry(authEntry, $"{field}.authEntry");
        }
        return new JsonObject
        {
            ["username"] = username,
            ["password"] = password,
            ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password)),
        };
    }

    private static SecretInputs Secret(string secretName, string ns, Output<IReadOnlyDictionary<string, string>> labels, Output<string> document,
        IReadOnlyDictionary<string, string>? annotations) => new()
        {
            Type = "kubernetes.io/dockerconfigjson",
            Metadata = KubernetesLabels.Metadata(secretName, ns, labels, annotations),
            StringData = new Dictionary<string, Output<string>> { [".dockerconfigjson"] = document },
        };

    // Checks what is known: an unknown value never hides an error that the known inputs already show.
    private static void Validate(ImmutableArray<PullSecretRegistry> registries, string secretName)
    {
        if (!registries.IsDefault)
        {
            if (registries.Length == 0)
            {
                throw new ComponentInputException("registries", "at least one registry is required");
            }
            var servers = new List<(string Field, PullSecretKeys Keys)>();
            for (var i = 0; i < registries.Length; i++)
            {
                var r = registries[i];
                var at = $"registries[{i}]";
                var server = r.Server.KnownOrNull();
                if (server is not null && string.IsNullOrWhiteSpace(server))
                {
                    throw new ComponentInputException($"{at}.server", "required");
                }
                if (server is not null)
                {
                    var keys = ServerKeys(server, at);
                    servers.Add(($"{at}.server", keys));
                    if (PullSecretKeys.FindDuplicate(servers) is { } duplicate)
                    {
                        throw new ComponentInputException(duplicate.Field, duplicate.Message);
                    }
                    if ((r.Keys ?? []).TryGetKnown(out var given))
                    {
                        KeysOf(keys, given, at);
                    }
                }
                var hasStatic = !Absent(r.Username) || !Absent(r.Password);
                if (r.Anonymous.TryGetKnown(out var anonymous) && anonymous == true)
                {
                    // RegistryProfile's outputs of an anonymous profile: authEntry "" and tokenBased false.
                    var entryGiven = !r.AuthEntry.TryGetKnown(out var anonymousEntry) || !string.IsNullOrEmpty(anonymousEntry);
                    if (hasStatic || entryGiven || (r.TokenBased.TryGetKnown(out var anonymousToken) && anonymousToken == true))
                    {
                        throw new ComponentInputException(at, "an anonymous registry has no credential: remove authEntry, username, password and tokenBased, or set anonymous to false");
                    }
                    continue;
                }
                if (!Absent(r.AuthEntry) && hasStatic)
                {
                    throw new ComponentInputException(at, "give either authEntry or username and password, not both");
                }
                if (r.Username.TryGetKnown(out var username) && r.Password.TryGetKnown(out var password) && hasStatic
                    && (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password)))
                {
                    throw new ComponentInputException(at, string.IsNullOrEmpty(username) ? "username is required with password" : "password is required with username");
                }
                if (server is not null && r.Kind.TryGetKnown(out var kind) && Absent(r.AuthEntry) && !hasStatic && r.TokenBased.TryGetKnown(out var tokenBased)
                    && (tokenBased == false || (tokenBased is null && RefresherSource.For(kind, server, at) is null)))
                {
                    throw new ComponentInputException(at, tokenBased == false
                        ? "a static registry needs its credential: give authEntry or username and password"
                        : $"'{server}' is not token-based: give authEntry or username and password");
                }
                if (r.AuthEntry.TryGetKnown(out var entry) && entry is not null)
                {
                    ParseEntry(entry, $"{at}.authEntry");
                }
            }
        }
        KubernetesNames.RequireSubdomain(secretName, "secretName");
    }
}
