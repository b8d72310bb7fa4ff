using System.Collections.Immutable;
using System.Text.Json.Nodes;
using k8s.Models;
using RegistryInfra.Provider.Engine;

namespace RegistryInfra.Provider.Components.PullSecret;

/// <summary>
/// The children of <c>registryinfra:kubernetes:PullSecret</c>: per namespace one Secret of static
/// credentials (data owned by Pulumi) and one of token-based registries (data owned by the refresher,
/// so its data is ignored on later diffs).
/// </summary>
/// <remarks>
/// This component never writes service accounts. <c>ServiceAccount.imagePullSecrets</c> is an atomic list
/// (<c>+listType=atomic</c> in core/v1): a server-side-apply <c>ServiceAccountPatch</c> carrying only our
/// names either conflicts with the list's current manager or, forced, replaces the list and drops the pull
/// secrets the account already had; deleting the patch then relinquishes the whole list. Reading the live
/// account and applying the union does not help: the patch would own the other entries too, remove them
/// on delete, and race with any other writer between the read and the apply. The only safe writer is a
/// read-modify-write with a resourceVersion precondition that adds names and never removes any, which is
/// what the refresher program does for each target's <c>serviceAccounts</c> (TokenRefresher,
/// ClusterRegistryAccess). Workloads can also name the secrets directly through the
/// <c>imagePullSecrets</c> output.
/// </remarks>
public static class PullSecretBuilder
{
    public const string Type = "registryinfra:kubernetes:PullSecret";
    public const string SecretType = "kubernetes:core/v1:Secret";
    public const string TokenSecretSuffix = "-tokens";

    public static ComponentPlan Build(string name, PullSecretArgs args)
    {
        Validate(args);
        var indexed = args.Registries.Select((r, i) => (Index: i, Registry: r)).ToList();
        var statics = indexed.Where(r => !IsRefresherOwned(r.Registry, r.Index)).ToList();
        var tokens = indexed.Where(r => IsRefresherOwned(r.Registry, r.Index)).ToList();
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
            if (statics.Count > 0)
            {
                var secret = Secret(args.SecretNameOrDefault, ns, name, args.Labels, DockerConfigJson.Build(statics));
                children.Add(new ChildResource(SecretType, $"{name}-{ns}-{args.SecretNameOrDefault}", KubernetesObject.ToInputs(secret))
                {
                    SecretInputs = ["stringData"],
                    AdditionalSecretOutputs = ["data", "stringData"],
                });
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
    public static bool IsRefresherOwned(PullSecretRegistry registry, int index) =>
        registry.Username is null && registry.Password is null && RefresherSource.For(registry.Kind, registry.Server, $"registries[{index}]") is not null;

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
            if (r.AuthEntry is null && !hasStatic && RefresherSource.For(r.Kind, r.Server, at) is null)
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
    }
}
