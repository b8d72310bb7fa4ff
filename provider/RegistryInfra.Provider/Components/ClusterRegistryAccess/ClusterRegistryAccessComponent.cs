using System.Collections.Immutable;
using RegistryInfra.Core.References;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Provider.Components.AcrPullAccess;
using RegistryInfra.Provider.Components.EcrPullAccess;
using RegistryInfra.Provider.Components.Kubernetes;
using RegistryInfra.Provider.Components.PullSecret;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Provider.Components.WorkloadIdentityBinding;
using RegistryInfra.Provider.Resources.PullSecretAttachment;

namespace RegistryInfra.Provider.Components.ClusterRegistryAccess;

/// <summary>Outputs of <c>registryinfra:index:ClusterRegistryAccess</c>.</summary>
[PulumiModel]
public sealed partial record ClusterRegistryAccessOutputs
{
    [PulumiProperty("secretNames", Description = "For each namespace, the names of the pull Secrets created there.")]
    public Output<IReadOnlyDictionary<string, IReadOnlyList<string>>> SecretNames { get; init; } = Output.Unknown<IReadOnlyDictionary<string, IReadOnlyList<string>>>();

    [PulumiProperty("imagePullSecrets", Description = "The pull Secrets as a pod spec's `imagePullSecrets` list, for workloads that do not rely on service-account attachment.")]
    public Output<IReadOnlyList<PullSecretReference>> ImagePullSecrets { get; init; } = Output.Unknown<IReadOnlyList<PullSecretReference>>();

    [PulumiProperty("anonymousRegistries", Description = "The servers of the profiles given as `anonymous`: pulled without credentials, so nothing was written for them.")]
    public Output<IReadOnlyList<string>> AnonymousRegistries { get; init; } = Output.Unknown<IReadOnlyList<string>>();

    [PulumiProperty("roleArn", Description = "The ARN of the refresher's IAM role, when `aws` is given.")]
    public Output<string?> RoleArn { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("gcpServiceAccountEmail", Description = "The e-mail address of the refresher's Google service account, when `gcp` is given.")]
    public Output<string?> GcpServiceAccountEmail { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("azureClientId", Description = "The client id of the refresher's Azure managed identity, when `azure` is given.")]
    public Output<string?> AzureClientId { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("refresherNamespace", Description = "The refresher's namespace, when a refresher is deployed.")]
    public Output<string?> RefresherNamespace { get; init; } = Output.Create<string?>(null);

    [PulumiProperty("refresherServiceAccount", Description = "The refresher's service account, when a refresher is deployed.")]
    public Output<string?> RefresherServiceAccount { get; init; } = Output.Create<string?>(null);
}

/// <summary>
/// <c>registryinfra:index:ClusterRegistryAccess</c>: a PullSecret component, and when a token-based registry is
/// listed a TokenRefresher with its cloud identities (EcrPullAccess, WorkloadIdentityBinding, AcrPullAccess), and a
/// PullSecretAttachment per namespace that makes the listed service accounts name the pull secrets. With static
/// registries only there is no refresher. Nested components exchange typed outputs.
/// </summary>
public sealed class ClusterRegistryAccessComponent : IComponent<ClusterRegistryAccessArgs, ClusterRegistryAccessOutputs>
{
    public const string TypeToken = "registryinfra:index:ClusterRegistryAccess";

    public static ClusterRegistryAccessComponent Instance { get; } = new();

    public string Type => TypeToken;

    public ClusterRegistryAccessOutputs Construct(ComponentScope scope, string name, ClusterRegistryAccessArgs args)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(args);
        if (args.Profiles.TryGetKnown(out var known) && known.Length == 0)
        {
            throw new ComponentInputException("profiles", "at least one profile is required");
        }
        if (args.AttachServiceAccounts.TryGetKnown(out var attachKnown) && attachKnown == false && args.ServiceAccounts is { } listed
            && listed.TryGetKnown(out var listedAccounts) && listedAccounts.Length > 0)
        {
            throw new ComponentInputException("serviceAccounts", "nothing is attached when attachServiceAccounts is false; remove serviceAccounts or set attachServiceAccounts to true");
        }
        var selection = NamespaceSelection.Resolve(args.Namespaces, args.NamespaceSelector, args.AllNamespaces, args.ExcludeNamespaces, "", out _);
        NamespaceSelection.ResolveAccounts(args.ServiceAccounts, args.AllServiceAccounts, args.ServiceAccountSelector, "");
        var wide = selection is NamespaceSelectionKind.Selector or NamespaceSelectionKind.All;
        // A whole settings object may be one unknown output in preview (the program computes it): its fields are then
        // unknown with its secretness and dependencies, and the refresher is still previewed.
        var refresher = args.Refresher.TryGetKnown(out var givenRefresher) ? givenRefresher ?? new ClusterRefresherSettings() : UnknownSettings(args.Refresher);
        var secretName = args.SecretName.Apply(s => s ?? PullSecretComponent.DefaultSecretNameFor(scope, name));
        var refresherName = $"{name}-refresher";
        var refresherNamespace = refresher.Namespace.Apply(n => n ?? TokenRefresherComponent.DefaultNamespaceFor(scope.ChildUrn(TokenRefresherComponent.TypeToken, refresherName), refresherName));
        var refresherAccount = refresher.ServiceAccountName.Apply(n => n ?? TokenRefresherComponent.DefaultServiceAccountName);
        var createNamespace = refresher.CreateNamespace;
        Output<string?> sourceNamespace = Output.Create<string?>(null);
        if (wide)
        {
            // The source Secret lives in the refresher's namespace and must exist before the refresher's first run, which
            // waits for the PullSecret: so this component creates that namespace itself, before both.
            (sourceNamespace, createNamespace) = RefresherNamespace(scope, refresherName, refresher, refresherNamespace);
        }
        var pullSecret = Prefixed("profiles", () => scope.Component(PullSecretComponent.Instance, $"{name}-pull-secret", new PullSecretArgs
        {
            Registries = args.Profiles.Items.Apply(profiles => profiles.Select(RegistryOf).ToImmutableArray()),
            Namespaces = args.Namespaces,
            NamespaceSelector = args.NamespaceSelector,
            AllNamespaces = args.AllNamespaces,
            ExcludeNamespaces = args.ExcludeNamespaces,
            SourceNamespace = sourceNamespace,
            SecretName = secretName.Apply(s => (string?)s),
        }));
        var outputs = new ClusterRegistryAccessOutputs
        {
            SecretNames = pullSecret.Outputs.SecretNames,
            ImagePullSecrets = pullSecret.Outputs.ImagePullSecrets,
            AnonymousRegistries = pullSecret.Outputs.AnonymousRegistries,
        };

        // Whether a refresher exists, and with which identity, depends on which profiles are token-based.
        if (!scope.Known(args.Profiles, "profiles", "the refresher and its cloud identities", out var profiles))
        {
            return outputs;
        }
        var owners = profiles.Select((p, i) => PullSecretComponent.OwnershipOf(RegistryOf(p), $"profiles[{i}]")).ToList();
        if (owners.Contains(PullSecretComponent.Ownership.Unknown))
        {
            scope.LeaveOut("the refresher and its cloud identities", $"profiles[{owners.IndexOf(PullSecretComponent.Ownership.Unknown)}] (whether it is static or token-based)");
            return outputs;
        }
        var tokenProfiles = profiles.Select((p, i) => (Index: i, Profile: p)).Where(x => owners[x.Index] == PullSecretComponent.Ownership.Token).ToList();
        var hasStatic = owners.Contains(PullSecretComponent.Ownership.Static);
        var awsKnown = args.Aws.TryGetKnown(out var aws);
        var gcpKnown = args.Gcp.TryGetKnown(out var gcp);
        var azureKnown = args.Azure.TryGetKnown(out var azure);
        if (tokenProfiles.Count == 0 && (aws is not null || gcp is not null || azure is not null))
        {
            throw new ComponentInputException(aws is not null ? "aws" : gcp is not null ? "gcp" : "azure", "no token-based registry is listed, so no refresher identity is needed");
        }
        if (azure is not null)
        {
            CheckAzure(tokenProfiles);
        }
        if (!hasStatic && tokenProfiles.Count == 0)
        {
            // Anonymous registries only: nothing to write or attach.
            return outputs;
        }
        if (tokenProfiles.Count == 0 && !wide)
        {
            // Static registries in listed namespaces: Pulumi owns every Secret, and the attachments name them; no refresher is needed.
            Attach(scope, name, args, pullSecret, selection, []);
            return outputs;
        }
        if (tokenProfiles.Count == 0 && refresher.Image.TryGetKnown(out var staticImage) && (staticImage ?? TokenRefresher.RefresherRelease.Image) is null)
        {
            throw new ComponentInputException("refresher.image", "required: with namespaceSelector or allNamespaces the refresher is deployed for static profiles too, to copy their Secret into every selected namespace (and those created later); give the refresher image pinned by digest (REPOSITORY@sha256:HEX)");
        }

        var identities = new List<IChild> { pullSecret };
        var annotations = new List<Output<IReadOnlyDictionary<string, string>>>();
        if (!awsKnown)
        {
            // Whether there is an AWS identity at all is unknown: its children are left out, and the refresher's
            // service-account annotations (which carry the role) are unknown.
            scope.LeaveOut("the refresher's AWS identity (EcrPullAccess)", "aws");
            annotations.Add(args.Aws.Apply(_ => (IReadOnlyDictionary<string, string>)ImmutableSortedDictionary<string, string>.Empty));
            outputs = outputs with { RoleArn = args.Aws.Apply(_ => (string?)null) };
        }
        else if (aws is not null)
        {
            var ecr = Prefixed("aws", () => scope.Component(EcrPullAccessComponent.Instance, $"{name}-ecr", aws with
            {
                ServiceAccountNamespace = refresherNamespace.Apply(n => (string?)n),
                ServiceAccountName = refresherAccount.Apply(n => (string?)n),
            }));
            identities.Add(ecr);
            annotations.Add(ecr.Outputs.ServiceAccountAnnotations);
            outputs = outputs with { RoleArn = ecr.Outputs.RoleArn.Apply(a => (string?)a) };
        }
        if (!gcpKnown)
        {
            scope.LeaveOut("the refresher's Google identity (WorkloadIdentityBinding)", "gcp");
            annotations.Add(args.Gcp.Apply(_ => (IReadOnlyDictionary<string, string>)ImmutableSortedDictionary<string, string>.Empty));
            outputs = outputs with { GcpServiceAccountEmail = args.Gcp.Apply(_ => (string?)null) };
        }
        else if (gcp is not null)
        {
            var binding = Prefixed("gcp", () => scope.Component(WorkloadIdentityBindingComponent.Instance, $"{name}-gcp", gcp with
            {
                KubernetesNamespace = refresherNamespace.Apply(n => (string?)n),
                KubernetesServiceAccount = refresherAccount.Apply(n => (string?)n),
            }));
            identities.Add(binding);
            annotations.Add(binding.Outputs.ServiceAccountAnnotations);
            outputs = outputs with { GcpServiceAccountEmail = binding.Outputs.Email.Apply(e => (string?)e) };
        }
        // The Azure identity reaches the refresher as its ACR registries' client id and tenant: the TokenRefresher turns
        // the client id into the service account's annotation and the pods' label, the tenant into the token exchange's.
        Output<string?> azureClientId = Output.Create<string?>(null), azureTenantId = Output.Create<string?>(null);
        if (!azureKnown)
        {
            scope.LeaveOut("the refresher's Azure identity (AcrPullAccess)", "azure");
            azureClientId = args.Azure.Apply(_ => (string?)null);
            azureTenantId = args.Azure.Apply(_ => (string?)null);
            outputs = outputs with { AzureClientId = azureClientId };
        }
        else if (azure is not null)
        {
            var acr = Prefixed("azure", () => scope.Component(AcrPullAccessComponent.Instance, $"{name}-acr", azure with
            {
                ServiceAccountNamespace = refresherNamespace.Apply(n => (string?)n),
                ServiceAccountName = refresherAccount.Apply(n => (string?)n),
            }));
            identities.Add(acr);
            azureClientId = acr.Outputs.ClientId.Apply(c => (string?)c);
            azureTenantId = acr.Outputs.TenantId;
            outputs = outputs with { AzureClientId = azureClientId };
        }
        annotations.Add((refresher.ServiceAccountAnnotations ?? InputMap.Empty<string>()).Entries.Apply(e => (IReadOnlyDictionary<string, string>)e));
        var merged = Output.All(annotations).Apply(all =>
        {
            var result = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            foreach (var map in all)
            {
                foreach (var (key, value) in map)
                {
                    result[key] = value;
                }
            }
            return result.ToImmutable();
        });

        var registries = tokenProfiles.Select(x => RefresherRegistryOf(x.Profile, x.Index, azure is not null || !azureKnown ? (azureClientId, azureTenantId) : null)).ToImmutableArray();
        var targets = wide
            ? SelectedTargets(args, pullSecret.Outputs, refresherNamespace)
            : Output.Tuple(pullSecret.Outputs.TokenSecretName, (args.Namespaces ?? []).Items).Apply(v => Targets(v.Item1, v.Item2));
        var tokenRefresher = Prefixed("refresher", () => scope.Component(TokenRefresherComponent.Instance, refresherName, new TokenRefresherArgs
        {
            Image = refresher.Image,
            Namespace = refresherNamespace.Apply(n => (string?)n),
            CreateNamespace = createNamespace,
            ServiceAccountName = refresherAccount.Apply(n => (string?)n),
            Schedule = refresher.Schedule,
            Mode = refresher.Mode,
            Replicas = refresher.Replicas,
            ServiceAccountAnnotations = merged,
            PodLabels = refresher.PodLabels,
            Registries = registries,
            Targets = targets,
        }, new ChildOptions { DependsOn = [.. identities] }));
        Attach(scope, name, args, pullSecret, selection, wide ? [tokenRefresher] : []);
        // The Secrets exist once the refresher's run-on-deploy Job (or, in watch mode, the Deployment's rollout: every
        // replica ready), awaited by pulumi-kubernetes, has filled them, so a workload that takes these outputs, or
        // dependsOn this component, starts after that.
        // On the Job or the Deployment itself, not on the Job's name: that name carries the source Secret's version, unknown
        // in preview until the Secret is written, and the Secrets' names are known all the same.
        var fillers = tokenRefresher.Children.Where(c => c.Type is TokenRefresherComponent.JobType or TokenRefresherComponent.DeploymentType).ToList();
        var filled = fillers.Count > 0
            ? Output.Create("").DependingOn(fillers)
            : Output.Tuple(tokenRefresher.Outputs.JobName, tokenRefresher.Outputs.DeploymentName).Apply(v => v.Item1 ?? v.Item2 ?? "");
        return outputs with
        {
            SecretNames = outputs.SecretNames.DependingOn(filled),
            ImagePullSecrets = outputs.ImagePullSecrets.DependingOn(filled),
            RefresherNamespace = tokenRefresher.Outputs.Namespace.Apply(n => (string?)n),
            RefresherServiceAccount = tokenRefresher.Outputs.ServiceAccountName.Apply(n => (string?)n),
        };
    }

    /// <summary>Settings whose every field is unknown, with the secretness and dependencies of the unknown whole.</summary>
    private static ClusterRefresherSettings UnknownSettings(Output<ClusterRefresherSettings?> whole) => new()
    {
        Image = whole.Apply(_ => (string?)null),
        Namespace = whole.Apply(_ => (string?)null),
        CreateNamespace = whole.Apply(_ => (bool?)null),
        ServiceAccountName = whole.Apply(_ => (string?)null),
        Schedule = whole.Apply(_ => (string?)null),
        Mode = whole.Apply(_ => (string?)null),
        Replicas = whole.Apply(_ => (int?)null),
        ServiceAccountAnnotations = whole.Apply(_ => ImmutableSortedDictionary<string, string>.Empty),
        PodLabels = whole.Apply(_ => ImmutableSortedDictionary<string, string>.Empty),
    };

    private static PullSecretRegistry RegistryOf(ClusterRegistryProfile p) => new()
    {
        Server = p.Server,
        Kind = p.Kind,
        AuthEntry = p.AuthEntry,
        TokenBased = p.TokenBased,
        Username = p.Username,
        Password = p.Password,
        Keys = p.Keys,
        Anonymous = p.Anonymous,
    };

    /// <summary>
    /// The token secret is renewed by the refresher, created under PullSecret's owner ConfigMap of the same name; the
    /// refresher attaches nothing (the PullSecretAttachments do, with the user's access, and undo it on delete).
    /// </summary>
    private static ImmutableArray<RefresherTarget> Targets(string? tokenSecret, ImmutableArray<string> namespaces) =>
        tokenSecret is null
            ? []
            : [new RefresherTarget { SecretName = tokenSecret, Namespaces = namespaces, Owner = Output.Create<string?>(tokenSecret) }];

    /// <summary>
    /// With a namespace selector, the refresher's namespace is created here (unless <c>createNamespace</c> is false), so that
    /// the PullSecret's source Secret can go into it before the refresher runs; the TokenRefresher is then told not to
    /// create it. The returned namespace name depends on the Namespace child.
    /// </summary>
    private static (Output<string?> Namespace, Output<bool?> CreateNamespace) RefresherNamespace(ComponentScope scope, string refresherName,
        ClusterRefresherSettings refresher, Output<string> refresherNamespace)
    {
        var tellRefresher = refresher.CreateNamespace.Apply(_ => (bool?)false);
        if (!scope.Known(refresher.CreateNamespace, "refresher.createNamespace", "the refresher's Namespace", out var create) || create == false)
        {
            return (refresherNamespace.Apply(n => (string?)n), tellRefresher);
        }
        if (refresherNamespace.TryGetKnown(out var known))
        {
            ObjectClaims.Claim(scope, "Namespace", "", known, "refresher.namespace");
        }
        var child = scope.Resource(TokenRefresherComponent.NamespaceType, $"{refresherName}-namespace", new NamespaceInputs
        {
            Metadata = new ObjectMetaInputs { Name = refresherNamespace, Labels = KubernetesLabels.Of("refresher", refresherName, null) },
        });
        return (refresherNamespace.Apply(n => (string?)n).DependingOn(child.Urn), tellRefresher);
    }

    /// <summary>
    /// With a namespace selector or all namespaces: a copy target for the static credentials (from the PullSecret's source
    /// Secret) and a target for the token Secret, each with the component's selection, exclusions and service accounts
    /// (so that the refresher serves namespaces and accounts that appear after the deploy).
    /// </summary>
    private static InputList<RefresherTarget> SelectedTargets(ClusterRegistryAccessArgs args, PullSecretOutputs pullSecret, Output<string> refresherNamespace)
    {
        var attach = args.AttachServiceAccounts.Apply(a => a != false);
        var named = Output.Tuple(attach, args.ServiceAccounts?.Items ?? Output.Create(ImmutableArray<string>.Empty), Output.Tuple(args.AllServiceAccounts, args.ServiceAccountSelector))
            .Apply(v => !v.Item1 ? [] : args.ServiceAccounts is not null ? v.Item2 : v.Item3.Item1 == true || v.Item3.Item2 is not null ? [] : ImmutableArray.Create("default"));
        var all = Output.Tuple(attach, args.AllServiceAccounts).Apply(v => v.Item1 && v.Item2 == true ? (bool?)true : null);
        var selector = Output.Tuple(attach, args.ServiceAccountSelector).Apply(v => v.Item1 ? v.Item2 : null);
        RefresherTarget Target(string secretName, Output<RefresherSecretSource?> source) => new()
        {
            SecretName = secretName,
            NamespaceLabelSelector = args.NamespaceSelector,
            AllNamespaces = args.AllNamespaces.Apply(a => a == true ? (bool?)true : null),
            ExcludeNamespaces = args.ExcludeNamespaces,
            ServiceAccounts = named,
            AllServiceAccounts = all,
            ServiceAccountSelector = selector,
            Source = source,
        };
        return Output.Tuple(pullSecret.StaticSecretName, pullSecret.SourceSecretName, pullSecret.TokenSecretName).Apply(v =>
        {
            var targets = ImmutableArray.CreateBuilder<RefresherTarget>();
            if (v.Item1 is { } copies && v.Item2 is { } source)
            {
                targets.Add(Target(copies, refresherNamespace.Apply(ns => (RefresherSecretSource?)new RefresherSecretSource { Namespace = ns, Name = source, Version = pullSecret.SourceSecretVersion })));
            }
            if (v.Item3 is { } tokens)
            {
                targets.Add(Target(tokens, Output.Create<RefresherSecretSource?>(null)));
            }
            return targets.ToImmutable();
        });
    }

    /// <summary>
    /// Listed namespaces: one PullSecretAttachment per namespace naming the pull secrets in the service accounts (by name,
    /// all, or by selector). Selected namespaces: one cluster-wide PullSecretAttachment with the same selection, after the
    /// refresher (so that on destroy it removes its names before the refresher goes). Which exist depends on the
    /// namespaces, on whether to attach and on the accounts (an empty list attaches nothing); the secret names may stay
    /// unknown in preview.
    /// </summary>
    private static void Attach(ComponentScope scope, string name, ClusterRegistryAccessArgs args, ComponentChild<PullSecretOutputs> pullSecret,
        NamespaceSelectionKind selection, IReadOnlyList<IChild> after)
    {
        if (!scope.Known(args.AttachServiceAccounts, "attachServiceAccounts", "the service-account attachments", out var attach) || attach == false)
        {
            return;
        }
        var accounts = NamespaceSelection.ResolveAccounts(args.ServiceAccounts, args.AllServiceAccounts, args.ServiceAccountSelector, "");
        var named = (args.ServiceAccounts ?? (accounts == AccountSelectionKind.Named ? ["default"] : [])).Items;
        if (accounts == AccountSelectionKind.Named
            && (!scope.Known(named, "serviceAccounts", "the service-account attachments", out var knownAccounts) || knownAccounts.Length == 0))
        {
            return;
        }
        if (scope.ProviderFor("kubernetes").Length > 0 && args.Kubeconfig.TryGetKnown(out var kubeconfig) && string.IsNullOrWhiteSpace(kubeconfig))
        {
            // The attachments reach the cluster themselves: with an explicit kubernetes provider, the ambient kubeconfig may
            // name another cluster, so patching it would attach names in the wrong place.
            throw new ComponentInputException("kubeconfig", "required when the component is given a kubernetes provider (providers): give the same kubeconfig as that provider, so that the service-account attachments patch that cluster, or set attachServiceAccounts to false");
        }
        var secretNames = Output.Tuple(pullSecret.Outputs.StaticSecretName, pullSecret.Outputs.TokenSecretName)
            .Apply(v => (IReadOnlyList<string>)[.. new[] { v.Item1, v.Item2 }.OfType<string>()]);
        var inputs = new PullSecretAttachmentInputs
        {
            // Named accounts (today's shape) or all or a selector (the attachment's other modes); with names, none of the others.
            ServiceAccounts = args.ServiceAccounts is null && accounts != AccountSelectionKind.Named ? null : named.Apply(a => (IReadOnlyList<string>)[.. a]),
            AllServiceAccounts = args.AllServiceAccounts.Apply(a => a == true ? (bool?)true : null),
            ServiceAccountSelector = args.ServiceAccountSelector,
            SecretNames = secretNames,
            Kubeconfig = args.Kubeconfig,
            KubeContext = args.KubeContext,
        };
        if (selection is NamespaceSelectionKind.Selector or NamespaceSelectionKind.All)
        {
            scope.Resource(PullSecretAttachmentResource.Token, $"{name}-attachment", inputs with
            {
                NamespaceSelector = args.NamespaceSelector,
                AllNamespaces = args.AllNamespaces.Apply(a => a == true ? (bool?)true : null),
                ExcludeNamespaces = args.ExcludeNamespaces?.Items.Apply(e => (IReadOnlyList<string>)[.. e]),
            }, new ChildOptions { DependsOn = [pullSecret, .. after] });
            return;
        }
        if (selection != NamespaceSelectionKind.Listed || !scope.Known((args.Namespaces ?? []).Items, "namespaces", "the service-account attachments", out var namespaces))
        {
            return;
        }
        foreach (var ns in namespaces)
        {
            scope.Resource(PullSecretAttachmentResource.Token, $"{name}-{ns}-attachment", inputs with { Namespace = ns }, new ChildOptions { DependsOn = [pullSecret, .. after] });
        }
    }

    /// <summary>
    /// With an <c>azure</c> identity, no ACR profile names its own client id (the refresher runs as one identity), and
    /// at least one listed token registry is ACR, once their kinds are known.
    /// </summary>
    private static void CheckAzure(List<(int Index, ClusterRegistryProfile Profile)> tokenProfiles)
    {
        var allKnown = true;
        var anyAcr = false;
        foreach (var (index, profile) in tokenProfiles)
        {
            if (!profile.ClientId.TryGetKnown(out var clientId) || clientId is not null)
            {
                throw new ComponentInputException($"profiles[{index}].clientId", "the azure identity's client id is used: remove clientId, or remove azure to run as the identity named here");
            }
            if (profile.Server.TryGetKnown(out var server) && profile.Kind.TryGetKnown(out var kind))
            {
                anyAcr |= RefresherSource.For(kind, server, $"profiles[{index}]") == RefresherSource.Acr;
            }
            else
            {
                allKnown = false;
            }
        }
        if (allKnown && !anyAcr)
        {
            throw new ComponentInputException("azure", "no ACR registry is listed, so no Azure identity is needed");
        }
    }

    private static RefresherRegistry RefresherRegistryOf(ClusterRegistryProfile profile, int index, (Output<string?> ClientId, Output<string?> TenantId)? azure)
    {
        var field = $"profiles[{index}]";
        var details = Output.Tuple(profile.Server, profile.Kind).Apply(v =>
        {
            var type = RefresherSource.For(v.Item2, v.Item1, field)!;
            var host = type == RefresherSource.Ecr && RegistryHost.TryParse(v.Item1, out var parsed) ? parsed.Details : null;
            return (Type: type, Host: host);
        });
        var ecr = Output.Tuple(details, profile.Region, profile.AccountId).Apply(v =>
        {
            if (v.Item1.Type != RefresherSource.Ecr)
            {
                return (Region: (string?)null, Account: (string?)null);
            }
            // Core's host parser knows every ECR form (FIPS, China, dual-stack) and what it names.
            if ((v.Item2 is null || v.Item3 is null) && v.Item1.Host is not { Kind: RegistryKind.EcrPrivate })
            {
                throw new ComponentInputException(field, "is ECR but its server is not ACCOUNT.dkr.ecr.REGION.amazonaws.com: give region and accountId");
            }
            return (Region: v.Item2 ?? v.Item1.Host!.Region, Account: v.Item3 ?? v.Item1.Host!.AccountId);
        });
        return new RefresherRegistry
        {
            Server = profile.Server,
            Type = details.Apply(d => d.Type),
            Region = ecr.Apply(e => e.Region),
            AccountId = ecr.Apply(e => e.Account),
            TenantId = azure is { } identity
                ? Output.Tuple(details, profile.TenantId, identity.TenantId).Apply(v => v.Item1.Type == RefresherSource.Acr ? v.Item2 ?? v.Item3 : v.Item2)
                : profile.TenantId,
            ClientId = azure is { } acr
                ? Output.Tuple(details, profile.ClientId, acr.ClientId).Apply(v => v.Item1.Type == RefresherSource.Acr ? v.Item2 ?? v.Item3 : v.Item2)
                : profile.ClientId,
        };
    }

    // Errors of a nested component name the field as a path from this component's inputs.
    private static T Prefixed<T>(string field, Func<T> build)
    {
        try
        {
            return build();
        }
        catch (ComponentInputException e) when (e.Field.Length > 0)
        {
            var path = field == "profiles" && e.Field.StartsWith("registries", StringComparison.Ordinal)
                ? "profiles" + e.Field["registries".Length..]
                : field == "profiles" ? e.Field : $"{field}.{e.Field}";
            throw new ComponentInputException(path, e.Problem);
        }
    }
}
