using System.Collections.Immutable;
using System.Text.Json.Nodes;
using RegistryInfra.Core.References;
using RegistryInfra.Provider.Components.EcrPullAccess;
using RegistryInfra.Provider.Components.PullSecret;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Provider.Components.WorkloadIdentityBinding;
using RegistryInfra.Provider.Engine;

namespace RegistryInfra.Provider.Components.ClusterRegistryAccess;

/// <summary>
/// The children of <c>registryinfra:index:ClusterRegistryAccess</c>: a PullSecret component, and when a
/// token-based registry is listed a TokenRefresher with its cloud identities (EcrPullAccess,
/// WorkloadIdentityBinding). Nested components are registered as local components with their own children.
/// </summary>
public static class ClusterRegistryAccessBuilder
{
    public const string Type = "registryinfra:index:ClusterRegistryAccess";

    public static ComponentPlan Build(string name, ClusterRegistryAccessArgs args)
    {
        if (args.Profiles.Count == 0)
        {
            throw new ComponentInputException("profiles", "at least one profile is required");
        }
        var registries = args.Profiles.Select(p => new PullSecretRegistry
        {
            Server = p.Server,
            Kind = p.Kind,
            AuthEntry = p.AuthEntry,
            Username = p.Username,
            Password = p.Password,
        }).ToList();
        var children = ImmutableArray.CreateBuilder<ChildResource>();
        var outputs = new JsonObject();

        var pullSecret = Nest(children, Prefixed("profiles", () => PullSecretBuilder.Build($"{name}-pull-secret", new PullSecretArgs
        {
            Registries = registries,
            Namespaces = args.Namespaces,
            SecretName = args.SecretNameOrDefault,
        })), []);
        outputs["secretNames"] = pullSecret.Outputs["secretNames"]!.DeepClone();
        outputs["imagePullSecrets"] = pullSecret.Outputs["imagePullSecrets"]!.DeepClone();

        var tokenProfiles = args.Profiles.Select((p, i) => (Index: i, Profile: p, Registry: registries[i]))
            .Where(x => PullSecretBuilder.IsRefresherOwned(x.Registry, x.Index)).ToList();
        if (tokenProfiles.Count == 0)
        {
            if (args.ServiceAccounts is { Count: > 0 })
            {
                throw new ComponentInputException("serviceAccounts", "service accounts are attached by the refresher, which runs only for token-based registries; with static credentials only, name the secret in pod specs through the imagePullSecrets output");
            }
            if (args.Aws is not null || args.Gcp is not null)
            {
                throw new ComponentInputException(args.Aws is not null ? "aws" : "gcp", "no token-based registry is listed, so no refresher identity is needed");
            }
            return new ComponentPlan(Type, name, children.ToImmutable(), outputs);
        }

        var refresher = args.RefresherOrDefault;
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (args.Aws is { } aws)
        {
            var plan = Nest(children, Prefixed("aws", () => EcrPullAccessBuilder.Build($"{name}-ecr", aws with
            {
                ServiceAccountNamespace = refresher.NamespaceOrDefault,
                ServiceAccountName = refresher.ServiceAccountNameOrDefault,
            })), []);
            foreach (var (key, value) in plan.Outputs["serviceAccountAnnotations"]!.AsObject())
            {
                annotations[key] = value!.GetValue<string>();
            }
            outputs["roleArn"] = plan.Outputs["roleArn"]!.DeepClone();
        }
        if (args.Gcp is { } gcp)
        {
            var plan = Nest(children, Prefixed("gcp", () => WorkloadIdentityBindingBuilder.Build($"{name}-gcp", gcp with
            {
                KubernetesNamespace = refresher.NamespaceOrDefault,
                KubernetesServiceAccount = refresher.ServiceAccountNameOrDefault,
            })), []);
            foreach (var (key, value) in plan.Outputs["serviceAccountAnnotations"]!.AsObject())
            {
                annotations[key] = value!.GetValue<string>();
            }
            outputs["gcpServiceAccountEmail"] = plan.Outputs["email"]!.DeepClone();
        }
        foreach (var (key, value) in refresher.ServiceAccountAnnotations ?? new Dictionary<string, string>())
        {
            annotations[key] = value;
        }

        var refresherRegistries = tokenProfiles.Select(x => RefresherRegistryOf(x.Profile, x.Index)).ToList();
        var identities = children.Where(c => c.ParentName is null && c.Custom is false && c.Type != PullSecretBuilder.Type).Select(c => c.Name);
        var refresherPlan = Nest(children, Prefixed("refresher", () => TokenRefresherBuilder.Build($"{name}-refresher", new TokenRefresherArgs
        {
            Image = refresher.Image,
            Namespace = refresher.NamespaceOrDefault,
            CreateNamespace = refresher.CreateNamespaceOrDefault,
            ServiceAccountName = refresher.ServiceAccountNameOrDefault,
            Schedule = refresher.ScheduleOrDefault,
            ServiceAccountAnnotations = annotations,
            PodLabels = refresher.PodLabels,
            Registries = refresherRegistries,
            Targets =
            [
                new RefresherTarget
                {
                    SecretName = pullSecret.Outputs["tokenSecretName"]!.GetValue<string>(),
                    Namespaces = args.Namespaces,
                    ServiceAccounts = args.ServiceAccountsOrDefault,
                },
            ],
        })), [$"{name}-pull-secret", .. identities]);
        outputs["refresherNamespace"] = refresherPlan.Outputs["namespace"]!.DeepClone();
        outputs["refresherServiceAccount"] = refresherPlan.Outputs["serviceAccountName"]!.DeepClone();
        return new ComponentPlan(Type, name, children.ToImmutable(), outputs);
    }

    private static RefresherRegistry RefresherRegistryOf(ClusterRegistryProfile profile, int index)
    {
        var field = $"profiles[{index}]";
        var type = RefresherSource.For(profile.Kind, profile.Server, field)!;
        var region = profile.Region;
        var account = profile.AccountId;
        if (type == RefresherSource.Ecr && (region is null || account is null))
        {
            // Core's host parser knows every ECR form (FIPS, China, dual-stack) and what it names.
            var details = RegistryHost.TryParse(profile.Server, out var host) ? host.Details : null;
            if (details is not { Kind: RegistryKind.EcrPrivate })
            {
                throw new ComponentInputException(field, $"'{profile.Server}' is ECR but not ACCOUNT.dkr.ecr.REGION.amazonaws.com: give region and accountId");
            }
            account ??= details.AccountId;
            region ??= details.Region;
        }
        return new RefresherRegistry
        {
            Server = profile.Server,
            Type = type,
            Region = type == RefresherSource.Ecr ? region : null,
            AccountId = type == RefresherSource.Ecr ? account : null,
            TenantId = profile.TenantId,
            ClientId = profile.ClientId,
        };
    }

    /// <summary>Adds a nested component and its children; top-level children of the nested plan get it as parent.</summary>
    private static ComponentPlan Nest(ImmutableArray<ChildResource>.Builder children, ComponentPlan plan, ImmutableArray<string> dependsOn)
    {
        children.Add(new ChildResource(plan.Type, plan.Name, new JsonObject()) { Custom = false, DependsOn = dependsOn });
        foreach (var child in plan.Children)
        {
            children.Add(child with { ParentName = child.ParentName ?? plan.Name });
        }
        return plan;
    }

    // Errors of a nested component name the field as a path from this component's inputs.
    private static ComponentPlan Prefixed(string field, Func<ComponentPlan> build)
    {
        try
        {
            return build();
        }
        catch (ComponentInputException e) when (e.Field.Length > 0)
        {
            var inner = e.Message[(e.Field.Length + 2)..];
            var path = field == "profiles" && e.Field.StartsWith("registries", StringComparison.Ordinal)
                ? "profiles" + e.Field["registries".Length..]
                : field == "profiles" ? e.Field : $"{field}.{e.Field}";
            throw new ComponentInputException(path, inner);
        }
    }
}
