using System.Collections.Immutable;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;
using RegistryInfra.Provider.Engine;

namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>
/// The children of <c>registryinfra:kubernetes:TokenRefresher</c>: namespace, service account, least-privilege
/// RBAC, the configuration ConfigMap, the CronJob, and a Job named after the configuration's hash that
/// fills the secrets at once and runs again whenever the configuration or image changes.
/// </summary>
public static partial class TokenRefresherBuilder
{
    public const string Type = "registryinfra:kubernetes:TokenRefresher";
    public const string NamespaceType = "kubernetes:core/v1:Namespace";
    public const string ServiceAccountType = "kubernetes:core/v1:ServiceAccount";
    public const string RoleType = "kubernetes:rbac.authorization.k8s.io/v1:Role";
    public const string RoleBindingType = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
    public const string ClusterRoleType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
    public const string ClusterRoleBindingType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";
    public const string ConfigMapType = "kubernetes:core/v1:ConfigMap";
    public const string CronJobType = "kubernetes:batch/v1:CronJob";
    public const string JobType = "kubernetes:batch/v1:Job";

    /// <summary>Where the ConfigMap is mounted and the key that holds the configuration (JSON, which the refresher reads as YAML).</summary>
    public const string ConfigDirectory = "/etc/registryinfra";
    public const string ConfigKey = "refresher.yaml";
    public const int NonRootUser = 65532;

    private static readonly string[] SourceTypes = ["ecr", "gcp", "acr"];

    [GeneratedRegex("^[^@\\s]+@sha256:[0-9a-f]{64}$")]
    private static partial Regex PinnedImagePattern();

    public static ComponentPlan Build(string name, TokenRefresherArgs args)
    {
        var image = Validate(args);
        var ns = args.NamespaceOrDefault;
        var sa = args.ServiceAccountNameOrDefault;
        var labels = KubernetesObject.Labels("refresher", name);
        var (accountAnnotations, podLabelsIn) = AzureIdentity(args);
        var config = Configuration(args);
        var configText = config.ToJsonString();
        var children = ImmutableArray.CreateBuilder<ChildResource>();
        var before = new List<string>();

        if (args.CreateNamespaceOrDefault)
        {
            var namespaceObject = new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = KubernetesObject.Metadata(ns, null, labels) };
            children.Add(new ChildResource(NamespaceType, $"{name}-namespace", KubernetesObject.ToInputs(namespaceObject)));
            before.Add($"{name}-namespace");
        }
        ImmutableArray<string> inNamespace = [.. before];

        var account = new V1ServiceAccount
        {
            ApiVersion = "v1",
            Kind = "ServiceAccount",
            Metadata = KubernetesObject.Metadata(sa, ns, labels, accountAnnotations),
            AutomountServiceAccountToken = true,
        };
        children.Add(new ChildResource(ServiceAccountType, $"{name}-service-account", KubernetesObject.ToInputs(account)) { DependsOn = inNamespace });
        before.Add($"{name}-service-account");

        var subject = new Rbacv1Subject { Kind = "ServiceAccount", Name = sa, NamespaceProperty = ns };
        // Role per listed namespace: only the secrets and service accounts this refresher manages there.
        var listed = args.Targets.Where(t => t.NamespacesOrDefault.Count > 0)
            .SelectMany(t => t.NamespacesOrDefault.Select(n => (Namespace: n, Target: t)))
            .GroupBy(x => x.Namespace, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in listed)
        {
            var (secrets, attached) = SecretNames(group.Select(x => x.Target));
            var accounts = group.SelectMany(x => x.Target.ServiceAccountsOrDefault).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var roleName = $"{ns}-{sa}";
            var role = new V1Role
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "Role",
                Metadata = KubernetesObject.Metadata(roleName, group.Key, labels),
                Rules = Rules(secrets, attached, accounts),
            };
            children.Add(new ChildResource(RoleType, $"{name}-role-{group.Key}", KubernetesObject.ToInputs(role)));
            var binding = new V1RoleBinding
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "RoleBinding",
                Metadata = KubernetesObject.Metadata(roleName, group.Key, labels),
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = roleName },
                Subjects = [subject],
            };
            children.Add(new ChildResource(RoleBindingType, $"{name}-role-binding-{group.Key}", KubernetesObject.ToInputs(binding))
            {
                DependsOn = [$"{name}-role-{group.Key}", $"{name}-service-account"],
            });
            before.Add($"{name}-role-binding-{group.Key}");
        }

        var wide = args.Targets.Where(t => t.NamespacesOrDefault.Count == 0).ToList();
        if (wide.Count > 0)
        {
            // Namespaces found by selector are not known when deploying, so these grants are cluster-wide,
            // still limited to the named secrets and service accounts.
            var (secrets, attached) = SecretNames(wide);
            var accounts = wide.SelectMany(t => t.ServiceAccountsOrDefault).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var rules = new List<V1PolicyRule> { new() { ApiGroups = [""], Resources = ["namespaces"], Verbs = ["get", "list"] } };
            rules.AddRange(Rules(secrets, attached, accounts));
            var clusterRoleName = $"{ns}-{sa}";
            var clusterRole = new V1ClusterRole
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "ClusterRole",
                Metadata = KubernetesObject.Metadata(clusterRoleName, null, labels),
                Rules = rules,
            };
            children.Add(new ChildResource(ClusterRoleType, $"{name}-cluster-role", KubernetesObject.ToInputs(clusterRole)));
            var clusterBinding = new V1ClusterRoleBinding
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "ClusterRoleBinding",
                Metadata = KubernetesObject.Metadata(clusterRoleName, null, labels),
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = clusterRoleName },
                Subjects = [subject],
            };
            children.Add(new ChildResource(ClusterRoleBindingType, $"{name}-cluster-role-binding", KubernetesObject.ToInputs(clusterBinding))
            {
                DependsOn = [$"{name}-cluster-role", $"{name}-service-account"],
            });
            before.Add($"{name}-cluster-role-binding");
        }

        var configMapName = sa + "-config";
        var configMap = new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = KubernetesObject.Metadata(configMapName, ns, labels),
            Data = new Dictionary<string, string> { [ConfigKey] = configText },
        };
        children.Add(new ChildResource(ConfigMapType, $"{name}-config", KubernetesObject.ToInputs(configMap)) { DependsOn = inNamespace });
        before.Add($"{name}-config");

        var podLabels = KubernetesObject.Labels("refresher", name, podLabelsIn);
        var cronJob = new V1CronJob
        {
            ApiVersion = "batch/v1",
            Kind = "CronJob",
            Metadata = KubernetesObject.Metadata(sa, ns, labels),
            Spec = new V1CronJobSpec
            {
                Schedule = args.ScheduleOrDefault,
                ConcurrencyPolicy = "Forbid",
                StartingDeadlineSeconds = args.StartingDeadlineSecondsOrDefault,
                SuccessfulJobsHistoryLimit = args.SuccessfulJobsHistoryLimitOrDefault,
                FailedJobsHistoryLimit = args.FailedJobsHistoryLimitOrDefault,
                JobTemplate = new V1JobTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = JobSpec(args, image, configMapName, podLabels),
                },
            },
        };
        children.Add(new ChildResource(CronJobType, $"{name}-cron-job", KubernetesObject.ToInputs(cronJob)) { DependsOn = [.. before] });

        string? jobName = null;
        if (args.RunOnDeployOrDefault)
        {
            jobName = $"{sa}-{KubernetesNames.ShortHash(configText + "\n" + image)}";
            var job = new V1Job
            {
                ApiVersion = "batch/v1",
                Kind = "Job",
                Metadata = KubernetesObject.Metadata(jobName, ns, labels),
                Spec = JobSpec(args, image, configMapName, podLabels),
            };
            children.Add(new ChildResource(JobType, $"{name}-run-on-deploy", KubernetesObject.ToInputs(job))
            {
                DependsOn = [.. before],
                // The name carries the hash: a changed configuration is a new Job, never an update of a finished one.
                DeleteBeforeReplace = false,
            });
        }

        var outputs = new JsonObject
        {
            ["namespace"] = ns,
            ["serviceAccountName"] = sa,
            ["configMapName"] = configMapName,
            ["cronJobName"] = sa,
            ["jobName"] = jobName,
            ["image"] = image,
            ["configuration"] = configText,
        };
        return new ComponentPlan(Type, name, children.ToImmutable(), outputs);
    }

    /// <summary>The refresher's configuration file, in the format of <c>programs/refresher</c>.</summary>
    public static JsonObject Configuration(TokenRefresherArgs args)
    {
        var registries = new JsonArray();
        foreach (var r in args.RegistriesOrDefault)
        {
            var source = new JsonObject { ["type"] = r.Type };
            AddIfSet(source, "region", r.Region);
            AddIfSet(source, "accountId", r.AccountId);
            AddIfSet(source, "endpoint", r.Endpoint);
            AddIfSet(source, "tenantId", r.TenantId);
            var registry = new JsonObject();
            AddIfSet(registry, "name", r.Name);
            registry["server"] = r.Server;
            registry["source"] = source;
            registries.Add((JsonNode)registry);
        }
        var targets = new JsonArray();
        foreach (var t in args.Targets)
        {
            var target = new JsonObject { ["secretName"] = t.SecretName };
            if (t.RegistriesOrDefault.Count > 0)
            {
                target["registries"] = Strings(t.RegistriesOrDefault);
            }
            if (t.NamespacesOrDefault.Count > 0)
            {
                target["namespaces"] = Strings(t.NamespacesOrDefault);
            }
            AddIfSet(target, "namespaceSelector", t.NamespaceSelector);
            if (t.AllNamespacesOrDefault)
            {
                target["allNamespaces"] = true;
            }
            if (t.ServiceAccountsOrDefault.Count > 0)
            {
                target["serviceAccounts"] = Strings(t.ServiceAccountsOrDefault);
            }
            if (t.AttachOnlyOrDefault)
            {
                target["attachOnly"] = true;
            }
            targets.Add((JsonNode)target);
        }
        var configuration = new JsonObject();
        // Attach-only targets alone obtain no token: the refresher then takes a configuration without registries.
        if (registries.Count > 0)
        {
            configuration["registries"] = registries;
        }
        configuration["targets"] = targets;
        return configuration;
    }

    /// <summary>Azure workload identity annotation of the service account naming the managed identity's client id.</summary>
    public const string AzureClientIdAnnotation = "azure.workload.identity/client-id";

    /// <summary>Azure workload identity pod label that makes the webhook inject the federated token.</summary>
    public const string AzureUseLabel = "azure.workload.identity/use";

    /// <summary>
    /// The refresher has no per-registry Azure client id: every source takes its identity from the pod
    /// (AZURE_CLIENT_ID, injected by the workload identity webhook from the service account). A registry's
    /// clientId therefore becomes the service account's annotation and the pod's label, and all ACR
    /// registries of one refresher must share it.
    /// </summary>
    private static (Dictionary<string, string>? Annotations, IReadOnlyDictionary<string, string>? PodLabels) AzureIdentity(TokenRefresherArgs args)
    {
        var annotations = args.ServiceAccountAnnotations?.ToDictionary();
        string? clientId = null;
        for (var i = 0; i < args.RegistriesOrDefault.Count; i++)
        {
            var id = args.RegistriesOrDefault[i].ClientId;
            if (string.IsNullOrEmpty(id))
            {
                continue;
            }
            if (args.RegistriesOrDefault[i].Type != "acr")
            {
                throw new ComponentInputException($"registries[{i}].clientId", "only acr registries take a client id");
            }
            if (clientId is not null && clientId != id)
            {
                throw new ComponentInputException($"registries[{i}].clientId", "differs from an earlier registry's; one refresher runs as one Azure identity");
            }
            clientId = id;
        }
        if (clientId is null)
        {
            return (annotations, args.PodLabels);
        }
        annotations ??= [];
        if (annotations.TryGetValue(AzureClientIdAnnotation, out var given) && given != clientId)
        {
            throw new ComponentInputException($"serviceAccountAnnotations.{AzureClientIdAnnotation}", "differs from the registries' clientId");
        }
        annotations[AzureClientIdAnnotation] = clientId;
        var podLabels = args.PodLabels?.ToDictionary() ?? [];
        podLabels[AzureUseLabel] = "true";
        return (annotations, podLabels);
    }

    /// <summary>The secrets the refresher writes (token targets) and those it only attaches, by name.</summary>
    private static (List<string> Written, List<string> Attached) SecretNames(IEnumerable<RefresherTarget> targets)
    {
        var all = targets.ToList();
        List<string> Names(bool attachOnly) => all.Where(t => t.AttachOnlyOrDefault == attachOnly).Select(t => t.SecretName)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return (Names(false), Names(true));
    }

    private static List<V1PolicyRule> Rules(List<string> secrets, List<string> attached, List<string> accounts)
    {
        var rules = new List<V1PolicyRule>();
        if (secrets.Count > 0)
        {
            rules.Add(new() { ApiGroups = [""], Resources = ["secrets"], ResourceNames = secrets, Verbs = ["get", "update", "patch"] });
            // create is decided before the object exists, so RBAC cannot limit it by name.
            rules.Add(new() { ApiGroups = [""], Resources = ["secrets"], Verbs = ["create"] });
        }
        if (attached.Count > 0)
        {
            // An attach-only secret is only looked at (its metadata): whether it exists in the namespace.
            rules.Add(new() { ApiGroups = [""], Resources = ["secrets"], ResourceNames = attached, Verbs = ["get"] });
        }
        rules.Add(new() { ApiGroups = ["", "events.k8s.io"], Resources = ["events"], Verbs = ["create", "patch"] });
        if (accounts.Count > 0)
        {
            rules.Add(new() { ApiGroups = [""], Resources = ["serviceaccounts"], ResourceNames = accounts, Verbs = ["get", "patch"] });
        }
        return rules;
    }

    private static V1JobSpec JobSpec(TokenRefresherArgs args, string image, string configMapName, Dictionary<string, string> podLabels) => new()
    {
        BackoffLimit = args.BackoffLimitOrDefault,
        ActiveDeadlineSeconds = args.ActiveDeadlineSecondsOrDefault,
        Template = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = podLabels },
            Spec = new V1PodSpec
            {
                ServiceAccountName = args.ServiceAccountNameOrDefault,
                AutomountServiceAccountToken = true,
                RestartPolicy = "Never",
                SecurityContext = new V1PodSecurityContext
                {
                    RunAsNonRoot = true,
                    RunAsUser = NonRootUser,
                    RunAsGroup = NonRootUser,
                    FsGroup = NonRootUser,
                    SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                },
                Containers =
                [
                    new V1Container
                    {
                        Name = "refresher",
                        Image = image,
                        ImagePullPolicy = "IfNotPresent",
                        Args = ["refresh", "--config", $"{ConfigDirectory}/{ConfigKey}"],
                        Resources = new V1ResourceRequirements
                        {
                            Requests = new Dictionary<string, ResourceQuantity>
                            {
                                ["cpu"] = new(args.CpuRequestOrDefault),
                                ["memory"] = new(args.MemoryRequestOrDefault),
                            },
                            Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new(args.MemoryLimitOrDefault) },
                        },
                        SecurityContext = new V1SecurityContext
                        {
                            AllowPrivilegeEscalation = false,
                            ReadOnlyRootFilesystem = true,
                            RunAsNonRoot = true,
                            RunAsUser = NonRootUser,
                            Capabilities = new V1Capabilities { Drop = ["ALL"] },
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        VolumeMounts =
                        [
                            new V1VolumeMount { Name = "config", MountPath = ConfigDirectory, ReadOnlyProperty = true },
                            new V1VolumeMount { Name = "tmp", MountPath = "/tmp" },
                        ],
                    },
                ],
                Volumes =
                [
                    new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = configMapName } },
                    new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("16Mi") } },
                ],
            },
        },
    };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    private static void AddIfSet(JsonObject target, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            target[key] = value;
        }
    }

    private static string Validate(TokenRefresherArgs args)
    {
        var image = args.Image ?? RefresherRelease.Image
            ?? throw new ComponentInputException("image", "required: this build of the provider carries no released refresher image; give one pinned by digest (REPOSITORY@sha256:HEX), for example resolved with registryinfra:index:getImage");
        if (!PinnedImagePattern().IsMatch(image))
        {
            throw new ComponentInputException("image", $"'{image}' is not pinned by digest (REPOSITORY@sha256:HEX); resolve a tag with registryinfra:index:getImage");
        }
        KubernetesNames.RequireLabel(args.NamespaceOrDefault, "namespace");
        KubernetesNames.RequireSubdomain(args.ServiceAccountNameOrDefault, "serviceAccountName");
        if (args.ServiceAccountNameOrDefault.Length > 40)
        {
            // The run-on-deploy Job is named SA-HASH and Job names feed pod labels (63 characters).
            throw new ComponentInputException("serviceAccountName", "at most 40 characters");
        }
        if (args.ScheduleOrDefault.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length is not 5 && !args.ScheduleOrDefault.StartsWith('@'))
        {
            throw new ComponentInputException("schedule", $"'{args.ScheduleOrDefault}' is not a cron schedule of five fields");
        }
        if (args.RegistriesOrDefault.Count == 0 && (args.Targets.Count == 0 || args.Targets.Any(t => !t.AttachOnlyOrDefault)))
        {
            throw new ComponentInputException("registries", "at least one token-based registry is required (only a refresher whose targets are all attachOnly may have none)");
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.RegistriesOrDefault.Count; i++)
        {
            var r = args.RegistriesOrDefault[i];
            if (string.IsNullOrWhiteSpace(r.Server))
            {
                throw new ComponentInputException($"registries[{i}].server", "required");
            }
            if (!SourceTypes.Contains(r.Type))
            {
                throw new ComponentInputException($"registries[{i}].type", $"'{r.Type}' is not one of {string.Join(", ", SourceTypes)}");
            }
            if (r.Type == "ecr" && (string.IsNullOrEmpty(r.Region) || string.IsNullOrEmpty(r.AccountId)))
            {
                throw new ComponentInputException($"registries[{i}]", "region and accountId are required for ecr");
            }
            if (!keys.Add(r.Name ?? r.Server))
            {
                throw new ComponentInputException($"registries[{i}].name", $"'{r.Name ?? r.Server}' is used by another registry");
            }
        }
        if (args.Targets.Count == 0)
        {
            throw new ComponentInputException("targets", "at least one target is required");
        }
        for (var i = 0; i < args.Targets.Count; i++)
        {
            var t = args.Targets[i];
            var at = $"targets[{i}]";
            KubernetesNames.RequireSubdomain(t.SecretName, $"{at}.secretName");
            var ways = (t.NamespacesOrDefault.Count > 0 ? 1 : 0) + (string.IsNullOrWhiteSpace(t.NamespaceSelector) ? 0 : 1) + (t.AllNamespacesOrDefault ? 1 : 0);
            if (ways != 1)
            {
                throw new ComponentInputException(at, "give exactly one of namespaces, namespaceSelector or allNamespaces");
            }
            for (var n = 0; n < t.NamespacesOrDefault.Count; n++)
            {
                KubernetesNames.RequireLabel(t.NamespacesOrDefault[n], $"{at}.namespaces[{n}]");
            }
            for (var n = 0; n < t.ServiceAccountsOrDefault.Count; n++)
            {
                KubernetesNames.RequireSubdomain(t.ServiceAccountsOrDefault[n], $"{at}.serviceAccounts[{n}]");
            }
            if (t.AttachOnlyOrDefault)
            {
                if (t.RegistriesOrDefault.Count > 0)
                {
                    throw new ComponentInputException($"{at}.registries", "an attachOnly target names no registries: its secret's data is owned elsewhere (such as a PullSecret's static secret)");
                }
                if (t.ServiceAccountsOrDefault.Count == 0)
                {
                    throw new ComponentInputException($"{at}.serviceAccounts", "required for an attachOnly target, which only adds the secret to these service accounts");
                }
                var writer = args.Targets.ToList().FindIndex(o => !o.AttachOnlyOrDefault && o.SecretName == t.SecretName);
                if (writer >= 0)
                {
                    throw new ComponentInputException($"{at}.secretName", $"'{t.SecretName}' is also the secret of targets[{writer}], which writes its data; an attachOnly secret's data must be owned outside the refresher");
                }
            }
            for (var n = 0; n < t.RegistriesOrDefault.Count; n++)
            {
                if (!keys.Contains(t.RegistriesOrDefault[n]))
                {
                    throw new ComponentInputException($"{at}.registries[{n}]", $"'{t.RegistriesOrDefault[n]}' names no registry of this refresher");
                }
            }
        }
        return image;
    }
}
