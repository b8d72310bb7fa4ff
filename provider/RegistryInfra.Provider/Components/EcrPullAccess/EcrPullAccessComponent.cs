using System.Collections.Immutable;
using System.Text.RegularExpressions;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;

namespace RegistryInfra.Provider.Components.EcrPullAccess;

/// <summary>
/// <c>registryinfra:aws:EcrPullAccess</c>: an IAM role trusted by one Kubernetes service account (IRSA or EKS
/// Pod Identity), its inline least-privilege ECR pull policy, and for Pod Identity the association. The role
/// is registered whatever is unknown in preview (its trust policy or ARN then unknown); the role ARN is
/// computed from the inputs, so dependants see it during preview when those are known.
/// </summary>
public sealed partial class EcrPullAccessComponent : IComponent<EcrPullAccessArgs, EcrPullAccessOutputs>
{
    public const string TypeToken = "registryinfra:aws:EcrPullAccess";
    public const string RoleType = "aws:iam/role:Role";
    public const string RolePolicyType = "aws:iam/rolePolicy:RolePolicy";
    public const string PodIdentityAssociationType = "aws:eks/podIdentityAssociation:PodIdentityAssociation";
    public const string Irsa = "irsa";
    public const string PodIdentity = "podIdentity";
    public const string RoleArnAnnotation = "eks.amazonaws.com/role-arn";

    public static EcrPullAccessComponent Instance { get; } = new();

    public string Type => TypeToken;

    /// <summary>The read actions a pull needs on a repository; the token action is granted on <c>*</c> only.</summary>
    public static readonly ImmutableArray<string> RepositoryActions =
    [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
        "ecr:DescribeImages",
        "ecr:ListImages",
        "ecr:DescribeRepositories",
    ];

    [GeneratedRegex("^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):iam::([0-9]{12}):oidc-provider/(.+)$")]
    private static partial Regex OidcProviderArnPattern();

    [GeneratedRegex("^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):ecr:([a-z0-9-]+):([0-9]{12}):repository/(.+)$")]
    private static partial Regex RepositoryArnPattern();

    [GeneratedRegex("^[0-9]{12}$")]
    private static partial Regex AccountPattern();

    [GeneratedRegex("^[a-z]{2,4}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("^[A-Za-z0-9+=,.@_-]{1,64}$")]
    private static partial Regex RoleNamePattern();

    [GeneratedRegex("^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")]
    private static partial Regex RepositoryNamePattern();

    [GeneratedRegex("^(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc)$")]
    private static partial Regex PartitionPattern();

    /// <summary>The inputs that decide the role, once known.</summary>
    private sealed record Settings(
        string Mode, string? ServiceAccountNamespace, string? ServiceAccountName, string? OidcProviderArn, string? ClusterName,
        string? AccountId, string? Partition, string? Region, ImmutableArray<string> Repositories, ImmutableArray<string> RepositoryArns,
        bool AllRepositories, string Path);

    public EcrPullAccessOutputs Construct(ComponentScope scope, string name, EcrPullAccessArgs args)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(args);
        ValidateKnown(args);
        var settings = Output.Tuple(
            Output.Tuple(args.Mode, args.ServiceAccountNamespace, args.ServiceAccountName, args.OidcProviderArn),
            Output.Tuple(args.ClusterName, args.AccountId, args.Partition, args.Region),
            Output.Tuple((args.Repositories ?? []).Items, (args.RepositoryArns ?? []).Items, args.AllRepositories, args.Path))
            .Apply(v => Validate(new Settings(v.Item1.Item1 ?? Irsa, v.Item1.Item2, v.Item1.Item3, v.Item1.Item4, v.Item2.Item1, v.Item2.Item2, v.Item2.Item3,
                v.Item2.Item4, v.Item3.Item1, v.Item3.Item2, v.Item3.Item3 ?? false, v.Item3.Item4 ?? "/")));
        var roleName = args.RoleName.Apply(r => r ?? DefaultRoleName(name));
        var partitionAndAccount = Output.Tuple(args.Mode, args.OidcProviderArn, args.Partition, args.AccountId).Apply(v => PartitionAndAccount(v.Item1 ?? Irsa, v.Item2, v.Item3, v.Item4));
        var roleArn = Output.Tuple(partitionAndAccount, args.Path, roleName).Apply(v => $"arn:{v.Item1.Partition}:iam::{v.Item1.Account}:role{v.Item2 ?? "/"}{v.Item3}");
        var tags = args.Tags?.Entries.Apply(t => (IReadOnlyDictionary<string, string>)t);

        var role = scope.Resource(RoleType, $"{name}-role", new IamRoleInputs
        {
            Name = roleName,
            Path = args.Path.Apply(p => p ?? "/"),
            Description = Output.Tuple(args.ServiceAccountNamespace, args.ServiceAccountName)
                .Apply(v => $"Pulls from ECR for Kubernetes service account {v.Item1}/{v.Item2} (registryinfra {name})"),
            AssumeRolePolicy = settings.Apply(s => TrustPolicy(s).ToJson()),
            PermissionsBoundary = args.PermissionsBoundary,
            Tags = tags,
        });
        scope.Resource(RolePolicyType, $"{name}-ecr-pull", new IamRolePolicyInputs
        {
            Name = "registryinfra-ecr-pull",
            Role = roleName,
            Policy = Output.Tuple(settings, partitionAndAccount).Apply(v => PullPolicy(v.Item1, v.Item2.Partition, v.Item2.Account).ToJson()),
        }, ChildOptions.After(role));

        if (scope.Known(args.Mode, "mode", "the EKS Pod Identity association", out var modeInput) && (modeInput ?? Irsa) == PodIdentity)
        {
            scope.Resource(PodIdentityAssociationType, $"{name}-association", new PodIdentityAssociationInputs
            {
                ClusterName = args.ClusterName.Apply(c => c ?? ""),
                Namespace = args.ServiceAccountNamespace.Apply(n => n ?? ""),
                ServiceAccount = args.ServiceAccountName.Apply(n => n ?? ""),
                RoleArn = roleArn.DependingOn(role.Urn),
                Tags = tags,
            }, ChildOptions.After(role));
        }

        var arn = roleArn.DependingOn(role.Urn);
        return new EcrPullAccessOutputs
        {
            RoleArn = arn,
            RoleName = roleName.DependingOn(role.Urn),
            ServiceAccountAnnotations = Output.Tuple(args.Mode, arn).Apply(v => (IReadOnlyDictionary<string, string>)((v.Item1 ?? Irsa) == Irsa
                ? new Dictionary<string, string> { [RoleArnAnnotation] = v.Item2 }
                : new Dictionary<string, string>())),
        };
    }

    private static IamPolicyDocument TrustPolicy(Settings args)
    {
        if (args.Mode == PodIdentity)
        {
            return new IamPolicyDocument(
            [
                new IamStatement("Allow", ["sts:AssumeRole", "sts:TagSession"])
                {
                    Sid = "EksPodIdentity",
                    Principal = new IamPrincipal { Service = "pods.eks.amazonaws.com" },
                },
            ]);
        }
        var oidcHost = OidcProviderArnPattern().Match(args.OidcProviderArn!).Groups[3].Value;
        return new IamPolicyDocument(
        [
            new IamStatement("Allow", ["sts:AssumeRoleWithWebIdentity"])
            {
                Sid = "ServiceAccountWebIdentity",
                Principal = new IamPrincipal { Federated = args.OidcProviderArn },
                Condition = new Dictionary<string, IReadOnlyDictionary<string, string>>
                {
                    ["StringEquals"] = new Dictionary<string, string>
                    {
                        [$"{oidcHost}:sub"] = $"system:serviceaccount:{args.ServiceAccountNamespace}:{args.ServiceAccountName}",
                        [$"{oidcHost}:aud"] = "sts.amazonaws.com",
                    },
                },
            },
        ]);
    }

    private static IamPolicyDocument PullPolicy(Settings args, string partition, string account)
    {
        var resources = new List<string>(args.RepositoryArns);
        resources.AddRange(args.Repositories.Select(r => $"arn:{partition}:ecr:{args.Region}:{account}:repository/{r}"));
        if (args.AllRepositories)
        {
            resources.Add($"arn:{partition}:ecr:{args.Region}:{account}:repository/*");
        }
        return new IamPolicyDocument(
        [
            new IamStatement("Allow", ["ecr:GetAuthorizationToken"]) { Sid = "EcrToken", Resource = ["*"] },
            new IamStatement("Allow", RepositoryActions) { Sid = "EcrPull", Resource = resources.Distinct(StringComparer.Ordinal).ToList() },
        ]);
    }

    private static string DefaultRoleName(string name)
    {
        var role = name + "-ecr-pull";
        // IAM allows 64 characters; a hash keeps long component names distinct once cut.
        return role.Length <= 64 ? role : role[..53] + "-" + KubernetesNames.ShortHash(role);
    }

    // IRSA takes the partition and account from the OIDC provider's ARN unless given.
    private static (string Partition, string Account) PartitionAndAccount(string mode, string? oidcProviderArn, string? partition, string? account)
    {
        if (mode == Irsa && oidcProviderArn is not null && OidcProviderArnPattern().Match(oidcProviderArn) is { Success: true } match)
        {
            return (partition ?? match.Groups[1].Value, account ?? match.Groups[2].Value);
        }
        return (partition ?? "aws", account ?? "");
    }

    /// <summary>The checks that single known inputs can fail, run even when others are unknown (preview).</summary>
    private static void ValidateKnown(EcrPullAccessArgs args)
    {
        if (args.Mode.TryGetKnown(out var mode) && (mode ?? Irsa) is not (Irsa or PodIdentity))
        {
            throw new ComponentInputException("mode", $"'{mode}' is not one of '{Irsa}', '{PodIdentity}'");
        }
        if (args.ServiceAccountNamespace.TryGetKnown(out var ns))
        {
            KubernetesNames.RequireLabel(ns, "serviceAccountNamespace");
        }
        if (args.ServiceAccountName.TryGetKnown(out var sa))
        {
            KubernetesNames.RequireSubdomain(sa, "serviceAccountName");
        }
        if (args.OidcProviderArn.TryGetKnown(out var oidc) && oidc is not null && !OidcProviderArnPattern().IsMatch(oidc))
        {
            throw new ComponentInputException("oidcProviderArn", $"'{oidc}' is not an IAM OIDC provider ARN (arn:aws:iam::ACCOUNT:oidc-provider/HOST)");
        }
        if (args.AccountId.TryGetKnown(out var account) && account is not null && !AccountPattern().IsMatch(account))
        {
            throw new ComponentInputException("accountId", $"'{account}' is not a 12-digit AWS account id");
        }
        if (args.Partition.TryGetKnown(out var partition) && partition is not null && !PartitionPattern().IsMatch(partition))
        {
            throw new ComponentInputException("partition", $"'{partition}' is not an AWS partition");
        }
        if (args.RoleName.TryGetKnown(out var roleName) && roleName is not null && !RoleNamePattern().IsMatch(roleName))
        {
            throw new ComponentInputException("roleName", $"'{roleName}' is not a valid IAM role name (1-64 of A-Z a-z 0-9 +=,.@_-)");
        }
        if (args.Path.TryGetKnown(out var path) && path is not null && (!path.StartsWith('/') || !path.EndsWith('/')))
        {
            throw new ComponentInputException("path", $"'{path}' must begin and end with '/'");
        }
        if (args.Region.TryGetKnown(out var region) && region is not null && !RegionPattern().IsMatch(region))
        {
            throw new ComponentInputException("region", $"'{region}' is not an AWS region");
        }
        if (args.Repositories?.TryGetKnown(out var repositories) == true)
        {
            for (var i = 0; i < repositories.Length; i++)
            {
                if (!RepositoryNamePattern().IsMatch(repositories[i]))
                {
                    throw new ComponentInputException($"repositories[{i}]", $"'{repositories[i]}' is not an ECR repository name");
                }
            }
        }
        if (args.RepositoryArns?.TryGetKnown(out var arns) == true)
        {
            for (var i = 0; i < arns.Length; i++)
            {
                if (!RepositoryArnPattern().IsMatch(arns[i]))
                {
                    throw new ComponentInputException($"repositoryArns[{i}]", $"'{arns[i]}' is not an ECR repository ARN (arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME)");
                }
            }
        }
    }

    /// <summary>The checks that need several inputs together; run once they are all known (in preview they may be later, in the update they are at once).</summary>
    private static Settings Validate(Settings args)
    {
        if (args.Mode == Irsa)
        {
            if (string.IsNullOrEmpty(args.OidcProviderArn))
            {
                throw new ComponentInputException("oidcProviderArn", "required when mode is 'irsa'");
            }
            if (args.ClusterName is not null)
            {
                throw new ComponentInputException("clusterName", "only used when mode is 'podIdentity'");
            }
        }
        else
        {
            if (string.IsNullOrEmpty(args.ClusterName))
            {
                throw new ComponentInputException("clusterName", "required when mode is 'podIdentity'");
            }
            if (args.OidcProviderArn is not null)
            {
                throw new ComponentInputException("oidcProviderArn", "only used when mode is 'irsa'");
            }
            if (args.AccountId is null)
            {
                throw new ComponentInputException("accountId", "required when mode is 'podIdentity' (the role's account)");
            }
        }
        var listed = args.Repositories.Length + args.RepositoryArns.Length;
        if (listed == 0 && !args.AllRepositories)
        {
            throw new ComponentInputException("repositories", "list repositories or repositoryArns, or set allRepositories");
        }
        if (listed > 0 && args.AllRepositories)
        {
            throw new ComponentInputException("allRepositories", "cannot be combined with listed repositories");
        }
        if ((args.Repositories.Length > 0 || args.AllRepositories) && args.Region is null)
        {
            throw new ComponentInputException("region", "required with repositories by name or allRepositories");
        }
        return args;
    }
}
