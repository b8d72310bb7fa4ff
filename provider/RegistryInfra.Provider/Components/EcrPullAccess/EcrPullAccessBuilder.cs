using System.Collections.Immutable;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RegistryInfra.Provider.Engine;

namespace RegistryInfra.Provider.Components.EcrPullAccess;

/// <summary>
/// The children of <c>registryinfra:aws:EcrPullAccess</c>: an IAM role trusted by one Kubernetes service
/// account (IRSA or EKS Pod Identity), its inline least-privilege ECR pull policy, and for Pod Identity the
/// association. The role ARN is known from the inputs, so dependants see it during preview too.
/// </summary>
public static partial class EcrPullAccessBuilder
{
    public const string Type = "registryinfra:aws:EcrPullAccess";
    public const string RoleType = "aws:iam/role:Role";
    public const string RolePolicyType = "aws:iam/rolePolicy:RolePolicy";
    public const string PodIdentityAssociationType = "aws:eks/podIdentityAssociation:PodIdentityAssociation";
    public const string Irsa = "irsa";
    public const string PodIdentity = "podIdentity";
    public const string RoleArnAnnotation = "eks.amazonaws.com/role-arn";

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

    [GeneratedRegex("^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::([0-9]{12}):oidc-provider/(.+)$")]
    private static partial Regex OidcProviderArnPattern();

    [GeneratedRegex("^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):ecr:([a-z0-9-]+):([0-9]{12}):repository/(.+)$")]
    private static partial Regex RepositoryArnPattern();

    [GeneratedRegex("^[0-9]{12}$")]
    private static partial Regex AccountPattern();

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("^[A-Za-z0-9+=,.@_-]{1,64}$")]
    private static partial Regex RoleNamePattern();

    [GeneratedRegex("^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")]
    private static partial Regex RepositoryNamePattern();

    public static ComponentPlan Build(string name, EcrPullAccessArgs args)
    {
        var (partition, account) = Validate(args);
        var roleName = args.RoleName ?? DefaultRoleName(name);
        var roleArn = $"arn:{partition}:iam::{account}:role{args.PathOrDefault}{roleName}";

        var children = ImmutableArray.CreateBuilder<ChildResource>();
        var role = new JsonObject
        {
            ["name"] = roleName,
            ["path"] = args.PathOrDefault,
            ["description"] = $"Pulls from ECR for Kubernetes service account {args.ServiceAccountNamespaceOrDefault}/{args.ServiceAccountNameOrDefault} (registryinfra {name})",
            ["assumeRolePolicy"] = TrustPolicy(args, partition).ToJson(),
        };
        if (args.PermissionsBoundary is not null)
        {
            role["permissionsBoundary"] = args.PermissionsBoundary;
        }
        if (args.Tags is { Count: > 0 })
        {
            role["tags"] = Tags(args.Tags);
        }
        children.Add(new ChildResource(RoleType, $"{name}-role", role));
        children.Add(new ChildResource(RolePolicyType, $"{name}-ecr-pull", new JsonObject
        {
            ["name"] = "registryinfra-ecr-pull",
            ["role"] = roleName,
            ["policy"] = PullPolicy(args, partition, account).ToJson(),
        })
        {
            DependsOn = [$"{name}-role"],
        });
        if (args.ModeOrDefault == PodIdentity)
        {
            var association = new JsonObject
            {
                ["clusterName"] = args.ClusterName,
                ["namespace"] = args.ServiceAccountNamespaceOrDefault,
                ["serviceAccount"] = args.ServiceAccountNameOrDefault,
                ["roleArn"] = roleArn,
            };
            if (args.Tags is { Count: > 0 })
            {
                association["tags"] = Tags(args.Tags);
            }
            children.Add(new ChildResource(PodIdentityAssociationType, $"{name}-association", association)
            {
                DependsOn = [$"{name}-role"],
            });
        }

        var annotations = new JsonObject();
        if (args.ModeOrDefault == Irsa)
        {
            annotations[RoleArnAnnotation] = roleArn;
        }
        var outputs = new JsonObject
        {
            ["roleArn"] = roleArn,
            ["roleName"] = roleName,
            ["serviceAccountAnnotations"] = annotations,
        };
        return new ComponentPlan(Type, name, children.ToImmutable(), outputs);
    }

    public static IamPolicyDocument TrustPolicy(EcrPullAccessArgs args, string partition)
    {
        if (args.ModeOrDefault == PodIdentity)
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
                        [$"{oidcHost}:sub"] = $"system:serviceaccount:{args.ServiceAccountNamespaceOrDefault}:{args.ServiceAccountNameOrDefault}",
                        [$"{oidcHost}:aud"] = "sts.amazonaws.com",
                    },
                },
            },
        ]);
    }

    public static IamPolicyDocument PullPolicy(EcrPullAccessArgs args, string partition, string account)
    {
        var resources = new List<string>(args.RepositoryArnsOrDefault);
        resources.AddRange(args.RepositoriesOrDefault.Select(r => $"arn:{partition}:ecr:{args.Region}:{account}:repository/{r}"));
        if (args.AllRepositoriesOrDefault)
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

    private static JsonObject Tags(IReadOnlyDictionary<string, string> tags) =>
        new(tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => KeyValuePair.Create(t.Key, (JsonNode?)JsonValue.Create(t.Value))));

    private static (string Partition, string Account) Validate(EcrPullAccessArgs args)
    {
        if (args.ModeOrDefault is not (Irsa or PodIdentity))
        {
            throw new ComponentInputException("mode", $"'{args.ModeOrDefault}' is not one of '{Irsa}', '{PodIdentity}'");
        }
        KubernetesNames.RequireLabel(args.ServiceAccountNamespaceOrDefault, "serviceAccountNamespace");
        KubernetesNames.RequireSubdomain(args.ServiceAccountNameOrDefault, "serviceAccountName");
        var partition = args.PartitionOrDefault;
        var account = args.AccountId;
        if (args.ModeOrDefault == Irsa)
        {
            if (string.IsNullOrEmpty(args.OidcProviderArn))
            {
                throw new ComponentInputException("oidcProviderArn", "required when mode is 'irsa'");
            }
            var match = OidcProviderArnPattern().Match(args.OidcProviderArn);
            if (!match.Success)
            {
                throw new ComponentInputException("oidcProviderArn", $"'{args.OidcProviderArn}' is not an IAM OIDC provider ARN (arn:aws:iam::ACCOUNT:oidc-provider/HOST)");
            }
            partition = match.Groups[1].Value;
            account ??= match.Groups[2].Value;
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
            if (account is null)
            {
                throw new ComponentInputException("accountId", "required when mode is 'podIdentity' (the role's account)");
            }
        }
        if (!AccountPattern().IsMatch(account!))
        {
            throw new ComponentInputException("accountId", $"'{account}' is not a 12-digit AWS account id");
        }
        if (args.RoleName is not null && !RoleNamePattern().IsMatch(args.RoleName))
        {
            throw new ComponentInputException("roleName", $"'{args.RoleName}' is not a valid IAM role name (1-64 of A-Z a-z 0-9 +=,.@_-)");
        }
        if (!args.PathOrDefault.StartsWith('/') || !args.PathOrDefault.EndsWith('/'))
        {
            throw new ComponentInputException("path", $"'{args.PathOrDefault}' must begin and end with '/'");
        }
        var listed = args.RepositoriesOrDefault.Count + args.RepositoryArnsOrDefault.Count;
        if (listed == 0 && !args.AllRepositoriesOrDefault)
        {
            throw new ComponentInputException("repositories", "list repositories or repositoryArns, or set allRepositories");
        }
        if (listed > 0 && args.AllRepositoriesOrDefault)
        {
            throw new ComponentInputException("allRepositories", "cannot be combined with listed repositories");
        }
        if ((args.RepositoriesOrDefault.Count > 0 || args.AllRepositoriesOrDefault) && (args.Region is null || !RegionPattern().IsMatch(args.Region)))
        {
            throw new ComponentInputException("region", args.Region is null ? "required with repositories by name or allRepositories" : $"'{args.Region}' is not an AWS region");
        }
        for (var i = 0; i < args.RepositoriesOrDefault.Count; i++)
        {
            if (!RepositoryNamePattern().IsMatch(args.RepositoriesOrDefault[i]))
            {
                throw new ComponentInputException($"repositories[{i}]", $"'{args.RepositoriesOrDefault[i]}' is not an ECR repository name");
            }
        }
        for (var i = 0; i < args.RepositoryArnsOrDefault.Count; i++)
        {
            if (!RepositoryArnPattern().IsMatch(args.RepositoryArnsOrDefault[i]))
            {
                throw new ComponentInputException($"repositoryArns[{i}]", $"'{args.RepositoryArnsOrDefault[i]}' is not an ECR repository ARN (arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME)");
            }
        }
        return (partition, account!);
    }
}
