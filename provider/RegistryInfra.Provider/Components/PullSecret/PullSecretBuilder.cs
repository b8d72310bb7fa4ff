using System.Collections.Immutable;
using System.Text.Json.Nodes;
using k8s.Models;
using RegistryInfra.Provider.Engine;

namespace RegistryInfra.Provider.Components.PullSecret;

/// <summary>
/// The children of <c>registryinfra:kubernetes:PullSecret</c>: per namespace one Secret of static
/// credentials (data owned by Pulumi) and one of token-based registries (data owned by the refresher,
/// so its data is ignored on later diffs), and one ServiceAccountPatch per listed service account.
/// </summary>
public static class PullSecretBuilder
{
    public const string Type = "registryinfra:kubernetes:PullSecret";
    public const string SecretType = "kubernetes:core/v1:Secret";
    public const string ServiceAccountPatchType = "kubernetes:core/v1:ServiceAccountPatch";
    public const string TokenSecretSuffix = "-tokens";

    /// <summary>The Kubernetes provider's annotation naming the server-side apply field manager of a Patch resource.</summary>
    public const string FieldManagerAnnotation = "pulumi.com/patchFieldManager";

    public static ComponentPlan Build(string name, PullSecretArgs args)
    {
        Validate(args);
        var indexed = args.Registries.Select((r, i) => (Index: i, Registry: r)).ToList();
        var statics = indexed.Where(r => !IsRefresherOwned(r.Registry)).ToList();
        var tokens = indexed.Where(r => IsRefresherOwned(r.Registry)).ToList();
        var tokenSecretName = args.SecretNameOrDefault + TokenSecretSuffix;

        var secretNames = new List<string>();
        if (statics.Count > 0)
        {
            secretNames.Add(args.SecretNameOrDefault);
        }
        if (tokens.Count > 0)
        {
            secretNames.Add(tokenSecretName);
        }

        var children = ImmutableArray.CreateBuilder<ChildResource>();
        var perNamespace = new JsonObject();
        foreach (var ns in args.Namespaces)
        {
            var made = new List<string>();
            if (statics.Count > 0)
            {
                var secret = Secret(args.SecretNameOrDefault, ns, name, args.Labels, DockerConfigJson.Build(statics));
                children.Add(new ChildResource(SecretType, $"{name}-{ns}-{args.SecretNameOrDefault}", KubernetesObject.ToInputs(secret))
                {
                    SecretInputs = ["stringData"],
                    AdditionalSecretOutputs = ["data", "stringData"],
                });
                made.Add($"{name}-{ns}-{args.SecretNameOrDefault}");
            }
            if (tokens.Count > 0)
            {
                // Registries whose profile already holds a token start with it; the others start absent, still a valid document.
                var initial = DockerConfigJson.Build(tokens.Where(t => t.Registry.AuthEntry is not null));
                var secret = Secret(tokenSecretName, ns, name, args.Labels, initial);
                secret.Metadata.Annotations = new Dictionary<string, string>
                {
                    ["registryinfra.io/data-owner"] = "refresher",
                };
                children.Add(new ChildResource(SecretType, $"{name}-{ns}-{tokenSecretName}", KubernetesObject.ToInputs(secret))
                {
                    SecretInputs = ["stringData"],
                    AdditionalSecretOutputs = ["data", "stringData"],
                    // The refresher rewrites the data between deployments; Pulumi owns only the Secret's existence.
                    IgnoreChanges = ["data", "stringData"],
                });
                made.Add($"{name}-{ns}-{tokenSecretName}");
            }
            foreach (var sa in args.ServiceAccountsOrDefault)
            {
                var patch = new V1ServiceAccount
                {
                    ApiVersion = "v1",
                    Kind = "ServiceAccount",
                    Metadata = new V1ObjectMeta
                    {
                        Name = sa,
                        NamespaceProperty = ns,
                        Annotations = new Dictionary<string, string>
                        {
                            [FieldManagerAnnotation] = FieldManager(args.SecretNameOrDefault),
                        },
                    },
                    ImagePullSecrets = secretNames.Select(s => new V1LocalObjectReference { Name = s }).ToList(),
                };
                children.Add(new ChildResource(ServiceAccountPatchType, $"{name}-{ns}-{sa}", KubernetesObject.ToInputs(patch))
                {
                    DependsOn = [.. made],
                });
            }
            perNamespace[ns] = new JsonArray([.. secretNames.Select(s => (JsonNode)JsonValue.Create(s))]);
        }

        var outputs = new JsonObject
        {
            ["secretNames"] = perNamespace,
            ["imagePullSecrets"] = new JsonArray([.. secretNames.Select(s => (JsonNode)new JsonObject { ["name"] = s })]),
            ["staticSecretName"] = statics.Count > 0 ? args.SecretNameOrDefault : null,
            ["tokenSecretName"] = tokens.Count > 0 ? tokenSecretName : null,
        };
        return new ComponentPlan(Type, name, children.ToImmutable(), outputs);
    }

    /// <summary>A token-based registry without static credentials: the refresher renews its entry.</summary>
    public static bool IsRefresherOwned(PullSecretRegistry registry) =>
        registry.Username is null && registry.Password is null && RegistryKinds.IsTokenBased(registry.Kind, registry.Server);

    /// <summary>The field manager of the service-account patches, one per secret name so each keeps its own entries.</summary>
    public static string FieldManager(string secretName) => "registryinfra-" + secretName;

    private static V1Secret Secret(string secretName, string ns, string instance, IReadOnlyDictionary<string, string>? labels, string document) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Type = "kubernetes.io/dockerconfigjson",
        Metadata = KubernetesObject.Metadata(secretName, ns, KubernetesObject.Labels("pull-secret", instance, labels)),
        StringData = new Dictionary<string, string> { [".dockerconfigjson"] = document },
    };

    private static void Validate(PullSecretArgs args)
    {
        if (args.Registries.Count == 0)
        {
            throw new ComponentInputException("registries", "at least one registry is required");
        }
        var servers = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Registries.Count; i++)
        {
            var r = args.Registries[i];
            var at = $"registries[{i}]";
            if (string.IsNullOrWhiteSpace(r.Server))
            {
                throw new ComponentInputException($"{at}.server", "required");
            }
            if (!servers.Add(r.Server))
            {
                throw new ComponentInputException($"{at}.server", $"'{r.Server}' is listed twice");
            }
            var hasStatic = r.Username is not null || r.Password is not null;
            if (r.AuthEntry is not null && hasStatic)
            {
                throw new ComponentInputException(at, "give either authEntry or username and password, not both");
            }
            if (hasStatic && (string.IsNullOrEmpty(r.Username) || string.IsNullOrEmpty(r.Password)))
            {
                throw new ComponentInputException(at, string.IsNullOrEmpty(r.Username) ? "username is required with password" : "password is required with username");
            }
            if (r.AuthEntry is null && !hasStatic && !RegistryKinds.IsTokenBased(r.Kind, r.Server))
            {
                throw new ComponentInputException(at, $"'{r.Server}' is not token-based: give authEntry or username and password");
            }
        }
        if (args.Namespaces.Count == 0)
        {
            throw new ComponentInputException("namespaces", "at least one namespace is required");
        }
        KubernetesNames.RequireSubdomain(args.SecretNameOrDefault, "secretName");
        for (var i = 0; i < args.Namespaces.Count; i++)
        {
            KubernetesNames.RequireLabel(args.Namespaces[i], $"namespaces[{i}]");
        }
        if (args.Namespaces.Distinct(StringComparer.Ordinal).Count() != args.Namespaces.Count)
        {
            throw new ComponentInputException("namespaces", "a namespace is listed twice");
        }
        for (var i = 0; i < args.ServiceAccountsOrDefault.Count; i++)
        {
            KubernetesNames.RequireSubdomain(args.ServiceAccountsOrDefault[i], $"serviceAccounts[{i}]");
        }
    }
}
