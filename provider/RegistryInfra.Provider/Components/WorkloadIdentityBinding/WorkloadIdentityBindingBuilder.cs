using System.Collections.Immutable;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RegistryInfra.Provider.Engine;

namespace RegistryInfra.Provider.Components.WorkloadIdentityBinding;

/// <summary>
/// The children of <c>registryinfra:gcp:WorkloadIdentityBinding</c>: a Google service account (unless an
/// existing one is given), Artifact Registry reader on the listed repositories or the project, and
/// <c>roles/iam.workloadIdentityUser</c> for the Kubernetes service account. The email is known from the inputs.
/// </summary>
public static partial class WorkloadIdentityBindingBuilder
{
    public const string Type = "registryinfra:gcp:WorkloadIdentityBinding";
    public const string AccountType = "gcp:serviceaccount/account:Account";
    public const string RepositoryIamMemberType = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember";
    public const string ProjectIamMemberType = "gcp:projects/iAMMember:IAMMember";
    public const string ServiceAccountIamMemberType = "gcp:serviceaccount/iAMMember:IAMMember";
    public const string ReaderRole = "roles/artifactregistry.reader";
    public const string WorkloadIdentityUserRole = "roles/iam.workloadIdentityUser";
    public const string ServiceAccountAnnotation = "iam.gke.io/gcp-service-account";

    [GeneratedRegex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$")]
    private static partial Regex AccountIdPattern();

    [GeneratedRegex("^[a-z][-a-z0-9.:]{4,61}[a-z0-9]$")]
    private static partial Regex ProjectPattern();

    [GeneratedRegex("^[^@\\s]+@[^@\\s]+\\.gserviceaccount\\.com$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex("^[a-z]+(-[a-z]+[0-9]*)*$")]
    private static partial Regex LocationPattern();

    [GeneratedRegex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex RepositoryPattern();

    public static ComponentPlan Build(string name, WorkloadIdentityBindingArgs args)
    {
        Validate(args);
        var children = ImmutableArray.CreateBuilder<ChildResource>();
        var email = args.ServiceAccountEmail ?? $"{args.AccountId}@{args.Project}.iam.gserviceaccount.com";
        ImmutableArray<string> after = [];
        if (args.ServiceAccountEmail is null)
        {
            var account = new JsonObject
            {
                ["accountId"] = args.AccountId,
                ["project"] = args.Project,
                ["displayName"] = args.DisplayName ?? $"registryinfra {name}",
                ["description"] = $"Pulls from Artifact Registry for Kubernetes service account {args.KubernetesNamespaceOrDefault}/{args.KubernetesServiceAccountOrDefault}",
            };
            children.Add(new ChildResource(AccountType, $"{name}-account", account));
            after = [$"{name}-account"];
        }
        var member = "serviceAccount:" + email;
        if (args.ProjectWideOrDefault)
        {
            children.Add(new ChildResource(ProjectIamMemberType, $"{name}-reader", new JsonObject
            {
                ["project"] = args.Project,
                ["role"] = ReaderRole,
                ["member"] = member,
            })
            { DependsOn = after });
        }
        foreach (var repository in args.RepositoriesOrDefault)
        {
            var project = repository.Project ?? args.Project;
            children.Add(new ChildResource(RepositoryIamMemberType, $"{name}-reader-{project}-{repository.Location}-{repository.Repository}", new JsonObject
            {
                ["project"] = project,
                ["location"] = repository.Location,
                ["repository"] = repository.Repository,
                ["role"] = ReaderRole,
                ["member"] = member,
            })
            { DependsOn = after });
        }
        var pool = (args.ClusterProject ?? args.Project) + ".svc.id.goog";
        children.Add(new ChildResource(ServiceAccountIamMemberType, $"{name}-workload-identity", new JsonObject
        {
            ["serviceAccountId"] = $"projects/{ProjectOfEmail(email, args.Project)}/serviceAccounts/{email}",
            ["role"] = WorkloadIdentityUserRole,
            ["member"] = $"serviceAccount:{pool}[{args.KubernetesNamespaceOrDefault}/{args.KubernetesServiceAccountOrDefault}]",
        })
        { DependsOn = after });

        var outputs = new JsonObject
        {
            ["email"] = email,
            ["member"] = member,
            ["serviceAccountAnnotations"] = new JsonObject { [ServiceAccountAnnotation] = email },
        };
        return new ComponentPlan(Type, name, children.ToImmutable(), outputs);
    }

    // An existing account may live in another project; its email says which (NAME@PROJECT.iam.gserviceaccount.com).
    private static string ProjectOfEmail(string email, string fallback)
    {
        var domain = email[(email.IndexOf('@', StringComparison.Ordinal) + 1)..];
        const string suffix = ".iam.gserviceaccount.com";
        return domain.EndsWith(suffix, StringComparison.Ordinal) ? domain[..^suffix.Length] : fallback;
    }

    private static void Validate(WorkloadIdentityBindingArgs args)
    {
        if (!ProjectPattern().IsMatch(args.Project))
        {
            throw new ComponentInputException("project", args.Project.Length == 0 ? "required" : $"'{args.Project}' is not a Google Cloud project id");
        }
        if (args.ClusterProject is not null && !ProjectPattern().IsMatch(args.ClusterProject))
        {
            throw new ComponentInputException("clusterProject", $"'{args.ClusterProject}' is not a Google Cloud project id");
        }
        if ((args.AccountId is null) == (args.ServiceAccountEmail is null))
        {
            throw new ComponentInputException("accountId", "give exactly one of accountId (create a service account) or serviceAccountEmail (use an existing one)");
        }
        if (args.AccountId is not null && !AccountIdPattern().IsMatch(args.AccountId))
        {
            throw new ComponentInputException("accountId", $"'{args.AccountId}' is not a service account id (6-30 of a-z 0-9 -, starting with a letter)");
        }
        if (args.ServiceAccountEmail is not null && !EmailPattern().IsMatch(args.ServiceAccountEmail))
        {
            throw new ComponentInputException("serviceAccountEmail", $"'{args.ServiceAccountEmail}' is not a Google service account email");
        }
        if (args.DisplayName is not null && args.ServiceAccountEmail is not null)
        {
            throw new ComponentInputException("displayName", "only used when a service account is created (accountId)");
        }
        Components.KubernetesNames.RequireLabel(args.KubernetesNamespaceOrDefault, "kubernetesNamespace");
        Components.KubernetesNames.RequireSubdomain(args.KubernetesServiceAccountOrDefault, "kubernetesServiceAccount");
        if (args.RepositoriesOrDefault.Count == 0 && !args.ProjectWideOrDefault)
        {
            throw new ComponentInputException("repositories", "list repositories or set projectWide");
        }
        if (args.RepositoriesOrDefault.Count > 0 && args.ProjectWideOrDefault)
        {
            throw new ComponentInputException("projectWide", "cannot be combined with listed repositories");
        }
        for (var i = 0; i < args.RepositoriesOrDefault.Count; i++)
        {
            var r = args.RepositoriesOrDefault[i];
            if (!LocationPattern().IsMatch(r.Location))
            {
                throw new ComponentInputException($"repositories[{i}].location", r.Location.Length == 0 ? "required" : $"'{r.Location}' is not an Artifact Registry location");
            }
            if (!RepositoryPattern().IsMatch(r.Repository))
            {
                throw new ComponentInputException($"repositories[{i}].repository", r.Repository.Length == 0 ? "required" : $"'{r.Repository}' is not a repository id");
            }
            if (r.Project is not null && !ProjectPattern().IsMatch(r.Project))
            {
                throw new ComponentInputException($"repositories[{i}].project", $"'{r.Project}' is not a Google Cloud project id");
            }
        }
    }
}
