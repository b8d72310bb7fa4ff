using System.Text.RegularExpressions;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;

namespace RegistryInfra.Provider.Components.WorkloadIdentityBinding;

/// <summary>
/// <c>registryinfra:gcp:WorkloadIdentityBinding</c>: a Google service account (created, or an existing one),
/// Artifact Registry reader on the listed repositories (or the project), and
/// <c>roles/iam.workloadIdentityUser</c> for <c>PROJECT.svc.id.goog[NS/KSA]</c>.
/// </summary>
public sealed partial class WorkloadIdentityBindingComponent : IComponent<WorkloadIdentityBindingArgs, WorkloadIdentityBindingOutputs>
{
    public const string TypeToken = "registryinfra:gcp:WorkloadIdentityBinding";
    public const string AccountType = "gcp:serviceaccount/account:Account";
    public const string RepositoryIamMemberType = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember";
    public const string ProjectIamMemberType = "gcp:projects/iAMMember:IAMMember";
    public const string ServiceAccountIamMemberType = "gcp:serviceaccount/iAMMember:IAMMember";
    public const string ReaderRole = "roles/artifactregistry.reader";
    public const string WorkloadIdentityUserRole = "roles/iam.workloadIdentityUser";
    public const string ServiceAccountAnnotation = "iam.gke.io/gcp-service-account";

    public static WorkloadIdentityBindingComponent Instance { get; } = new();

    public string Type => TypeToken;

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

    public WorkloadIdentityBindingOutputs Construct(ComponentScope scope, string name, WorkloadIdentityBindingArgs args)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(args);
        Validate(args);
        var project = args.Project;
        var accountId = args.AccountId.Apply(id => id ?? DefaultAccountId(name));
        var email = Output.Tuple(args.ServiceAccountEmail, accountId, project).Apply(v => v.Item1 ?? $"{v.Item2}@{v.Item3}.iam.gserviceaccount.com");
        ChildResource? account = null;
        if (scope.Known(args.ServiceAccountEmail, "serviceAccountEmail", "the Google service account", out var existing) && existing is null)
        {
            account = scope.Resource(AccountType, $"{name}-account", new GoogleServiceAccountInputs
            {
                AccountId = accountId,
                Project = project,
                DisplayName = args.DisplayName.Apply(d => d ?? $"registryinfra {name}"),
                Description = Output.Tuple(args.KubernetesNamespace, args.KubernetesServiceAccount)
                    .Apply(v => $"Pulls from Artifact Registry for Kubernetes service account {v.Item1}/{v.Item2}"),
            });
            email = email.DependingOn(account.Urn);
        }
        var after = ChildOptions.After(account);
        var member = email.Apply(e => "serviceAccount:" + e);
        if (scope.Known(args.ProjectWide, "projectWide", "the project-wide reader grant", out var projectWide) && projectWide == true)
        {
            scope.Resource(ProjectIamMemberType, $"{name}-reader", new ProjectIamMemberInputs { Project = project, Role = ReaderRole, Member = member }, after);
        }
        if (args.Repositories is { } listed && scope.Known(listed, "repositories", "the repository reader grants", out var repositories))
        {
            for (var i = 0; i < repositories.Length; i++)
            {
                var repository = repositories[i];
                var repositoryProject = Output.Tuple(repository.Project, project).Apply(v => v.Item1 ?? v.Item2);
                // The child's name holds the repository's project, location and id, so all three must be known.
                if (scope.Known(repositoryProject, $"repositories[{i}].project", $"the reader grant of repositories[{i}]", out var p)
                    && scope.Known(repository.Location, $"repositories[{i}].location", $"the reader grant of repositories[{i}]", out var location)
                    && scope.Known(repository.Repository, $"repositories[{i}].repository", $"the reader grant of repositories[{i}]", out var id))
                {
                    scope.Resource(RepositoryIamMemberType, $"{name}-reader-{p}-{location}-{id}", new RepositoryIamMemberInputs
                    {
                        Project = repositoryProject,
                        Location = repository.Location,
                        Repository = repository.Repository,
                        Role = ReaderRole,
                        Member = member,
                    }, after);
                }
            }
        }
        var pool = Output.Tuple(args.ClusterProject, project).Apply(v => (v.Item1 ?? v.Item2) + ".svc.id.goog");
        scope.Resource(ServiceAccountIamMemberType, $"{name}-workload-identity", new ServiceAccountIamMemberInputs
        {
            ServiceAccountId = Output.Tuple(email, project).Apply(v => $"projects/{ProjectOfEmail(v.Item1, v.Item2)}/serviceAccounts/{v.Item1}"),
            Role = WorkloadIdentityUserRole,
            Member = Output.Tuple(pool, args.KubernetesNamespace, args.KubernetesServiceAccount).Apply(v => $"serviceAccount:{v.Item1}[{v.Item2}/{v.Item3}]"),
        }, after);

        return new WorkloadIdentityBindingOutputs
        {
            Email = email,
            Member = member,
            ServiceAccountAnnotations = email.Apply(e => (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { [ServiceAccountAnnotation] = e }),
        };
    }

    /// <summary>
    /// The id of a created account when none is given: the component's name made a valid id (6-30 of a-z 0-9 -,
    /// starting with a letter), cut with a hash of the whole name when longer, so two long names stay apart.
    /// </summary>
    public static string DefaultAccountId(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var id = new string([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) ? c : '-')]);
        id = Regex.Replace(id, "-{2,}", "-").Trim('-');
        if (id.Length == 0 || !char.IsAsciiLetterLower(id[0]))
        {
            id = "ri-" + id;
        }
        if (id.Length > 30)
        {
            id = id[..19].TrimEnd('-') + "-" + KubernetesNames.ShortHash(name);
        }
        while (id.Length < 6)
        {
            id += "-ri";
        }
        return id.TrimEnd('-');
    }

    // An existing account may live in another project; its email says which (NAME@PROJECT.iam.gserviceaccount.com).
    private static string ProjectOfEmail(string email, string fallback)
    {
        var domain = email[(email.IndexOf('@', StringComparison.Ordinal) + 1)..];
        const string suffix = ".iam.gserviceaccount.com";
        return domain.EndsWith(suffix, StringComparison.Ordinal) ? domain[..^suffix.Length] : fallback;
    }

    // Known inputs are checked even when others are unknown (preview).
    private static void Validate(WorkloadIdentityBindingArgs args)
    {
        if (args.Project.TryGetKnown(out var project) && !ProjectPattern().IsMatch(project))
        {
            throw new ComponentInputException("project", project.Length == 0 ? "required" : $"'{project}' is not a Google Cloud project id");
        }
        if (args.ClusterProject.TryGetKnown(out var clusterProject) && clusterProject is not null && !ProjectPattern().IsMatch(clusterProject))
        {
            throw new ComponentInputException("clusterProject", $"'{clusterProject}' is not a Google Cloud project id");
        }
        var hasAccountId = !args.AccountId.TryGetKnown(out var accountId) || accountId is not null;
        var hasEmail = !args.ServiceAccountEmail.TryGetKnown(out var email) || email is not null;
        if (hasAccountId && hasEmail)
        {
            throw new ComponentInputException("accountId", "give at most one of accountId (create a service account) or serviceAccountEmail (use an existing one)");
        }
        if (accountId is not null && !AccountIdPattern().IsMatch(accountId))
        {
            throw new ComponentInputException("accountId", $"'{accountId}' is not a service account id (6-30 of a-z 0-9 -, starting with a letter)");
        }
        if (email is not null && !EmailPattern().IsMatch(email))
        {
            throw new ComponentInputException("serviceAccountEmail", $"'{email}' is not a Google service account email");
        }
        if ((!args.DisplayName.TryGetKnown(out var displayName) || displayName is not null) && hasEmail)
        {
            throw new ComponentInputException("displayName", "only used when a service account is created (accountId)");
        }
        if (args.KubernetesNamespace.TryGetKnown(out var ns))
        {
            KubernetesNames.RequireLabel(ns, "kubernetesNamespace");
        }
        if (args.KubernetesServiceAccount.TryGetKnown(out var ksa))
        {
            KubernetesNames.RequireSubdomain(ksa, "kubernetesServiceAccount");
        }
        var repositoriesKnown = (args.Repositories ?? []).TryGetKnown(out var repositories);
        if (repositoriesKnown && args.ProjectWide.TryGetKnown(out var projectWide))
        {
            if (repositories.Length == 0 && projectWide != true)
            {
                throw new ComponentInputException("repositories", "list repositories or set projectWide");
            }
            if (repositories.Length > 0 && projectWide == true)
            {
                throw new ComponentInputException("projectWide", "cannot be combined with listed repositories");
            }
        }
        for (var i = 0; repositoriesKnown && i < repositories.Length; i++)
        {
            var r = repositories[i];
            if (r.Location.TryGetKnown(out var location) && !LocationPattern().IsMatch(location))
            {
                throw new ComponentInputException($"repositories[{i}].location", location.Length == 0 ? "required" : $"'{location}' is not an Artifact Registry location");
            }
            if (r.Repository.TryGetKnown(out var id) && !RepositoryPattern().IsMatch(id))
            {
                throw new ComponentInputException($"repositories[{i}].repository", id.Length == 0 ? "required" : $"'{id}' is not a repository id");
            }
            if (r.Project.TryGetKnown(out var p) && p is not null && !ProjectPattern().IsMatch(p))
            {
                throw new ComponentInputException($"repositories[{i}].project", $"'{p}' is not a Google Cloud project id");
            }
        }
    }
}
