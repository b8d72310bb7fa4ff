using RegistryInfra.Core.References;
using System.Collections.Immutable;
using System.Text.RegularExpressions;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Provider.Components.Kubernetes;

namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>
/// <c>registryinfra:kubernetes:TokenRefresher</c>: namespace, service account, least-privilege RBAC
/// (<see cref="RefresherRbac"/>), the configuration ConfigMap (Core's refresher configuration contract,
/// <see cref="RefresherConfiguration"/>, validated by the refresher's own validator), the CronJob, and a Job
/// named after the configuration's hash that fills the secrets at once and runs again whenever the
/// configuration or image changes (<see cref="RefresherPod"/>).
/// </summary>
public sealed partial class TokenRefresherComponent : IComponent<TokenRefresherArgs, TokenRefresherOutputs>
{
    public const string TypeToken = "registryinfra:kubernetes:TokenRefresher";
    public const string NamespaceType = "kubernetes:core/v1:Namespace";
    public const string ServiceAccountType = "kubernetes:core/v1:ServiceAccount";
    public const string ConfigMapType = "kubernetes:core/v1:ConfigMap";
    public const string CronJobType = "kubernetes:batch/v1:CronJob";
    public const string JobType = "kubernetes:batch/v1:Job";
    /// <summary>The namespace when none is given: the component's name and a hash of its URN, so two refreshers never share one.</summary>
    public static string DefaultNamespaceFor(string urn, string name) => KubernetesNames.InstanceName(name, urn);
    public const string DefaultServiceAccountName = "registryinfra-refresher";
    public const string DefaultSchedule = "0 */6 * * *";

    /// <summary>Azure workload identity annotation of the service account naming the managed identity's client id.</summary>
    public const string AzureClientIdAnnotation = "azure.workload.identity/client-id";

    /// <summary>Azure workload identity pod label that makes the webhook inject the federated token.</summary>
    public const string AzureUseLabel = "azure.workload.identity/use";

    /// <summary>
    /// The schedule when none is given: a run at least every third of the shortest token lifetime of the registries
    /// (Core's <see cref="RegistryKindFacts"/>: ECR 12 h, Artifact Registry/GCR 1 h, ACR 3 h), so a token is renewed
    /// twice before it expires and one failed run loses nothing; on the largest cron step that divides the hour or the
    /// day evenly and is not longer. <see cref="DefaultSchedule"/> (6 h) when nothing expires (attach-only).
    /// </summary>
    public static string ScheduleFor(IEnumerable<string> sourceTypes)
    {
        ArgumentNullException.ThrowIfNull(sourceTypes);
        var lifetimes = sourceTypes
            .SelectMany(type => RegistryKindFacts.All.Where(k => k.RefresherSource == type && k.TokenLifetime is not null).Select(k => k.TokenLifetime!.Value))
            .ToList();
        if (lifetimes.Count == 0)
        {
            return DefaultSchedule;
        }
        var most = lifetimes.Min().TotalMinutes / 3;
        int[] minuteSteps = [5, 10, 15, 20, 30];
        int[] hourSteps = [1, 2, 3, 4, 6];
        var hours = hourSteps.Where(h => h * 60 <= most).DefaultIfEmpty(0).Max();
        if (hours > 0)
        {
            return hours == 1 ? "0 * * * *" : $"0 */{hours} * * *";
        }
        var minutes = minuteSteps.Where(m => m <= most).DefaultIfEmpty(minuteSteps[0]).Max();
        return $"*/{minutes} * * * *";
    }

    public static TokenRefresherComponent Instance { get; } = new();

    public string Type => TypeToken;

    [GeneratedRegex("^[^@\\s]+@sha256:[0-9a-f]{64}$")]
    private static partial Regex PinnedImagePattern();

    public TokenRefresherOutputs Construct(ComponentScope scope, string name, TokenRefresherArgs args)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(args);
        ValidateKnown(args, DefaultNamespaceFor(scope.Urn, name));
        var ns = args.Namespace.Apply(n => n ?? DefaultNamespaceFor(scope.Urn, name));
        var sa = args.ServiceAccountName.Apply(n => n ?? DefaultServiceAccountName);
        var image = args.Image.Apply(i => i ?? RefresherRelease.Image ?? "");
        var labels = KubernetesLabels.Of("refresher", name, null);
        var registries = args.Registries ?? [];
        var azure = Output.Tuple(registries.Items.Then(items => Output.All(items.Select(r => Output.Tuple(r.Type, r.ClientId)))), args.ServiceAccountAnnotations?.Entries ?? Output.Create(ImmutableSortedDictionary<string, string>.Empty),
            args.PodLabels?.Entries ?? Output.Create(ImmutableSortedDictionary<string, string>.Empty))
            .Apply(v => AzureIdentity(v.Item1, v.Item2, v.Item3));
        // The refresher's namespace names this deployment (issue #14): the instance label marks the Secrets it may prune.
        var configuration = Output.Tuple(registries.Items, args.Targets.Items, ns)
            .Then(v => Output.Tuple(Output.All(v.Item1.Select(RegistryOf)), Output.All(v.Item2.Select(TargetOf)), Output.Create(v.Item3)))
            .Apply(v => Configuration(v.Item1, v.Item2, v.Item3));
        // The ledger of attached names lives beside the configuration and is owned by its ConfigMap, so it goes with the refresher.
        configuration = Output.Tuple(configuration, ns, sa).Apply(v => v.Item1 with
        {
            Ledger = new LedgerConfiguration { Namespace = v.Item2, Name = LedgerName(v.Item3), Owner = v.Item3 + "-config" },
        });
        var configText = configuration.Apply(c => RefresherConfigurationJson.ToJson(c));

        var before = new List<IChild>();
        ChildResource? namespaceChild = null;
        var createsNamespace = args.CreateNamespace.TryGetKnown(out var creates) && creates != false;
        if (ns.TryGetKnown(out var knownNamespace) && sa.TryGetKnown(out var knownAccount))
        {
            // The refresher's objects are named after its service account in its namespace.
            if (createsNamespace)
            {
                ObjectClaims.Claim(scope, "Namespace", "", knownNamespace, "namespace");
            }
            ObjectClaims.Claim(scope, "ServiceAccount", knownNamespace, knownAccount, "serviceAccountName");
        }
        if (scope.Known(args.CreateNamespace, "createNamespace", "the refresher's Namespace", out var createNamespace) && createNamespace != false)
        {
            namespaceChild = scope.Resource(NamespaceType, $"{name}-namespace", new NamespaceInputs
            {
                Metadata = new ObjectMetaInputs { Name = ns, Labels = labels },
            });
            before.Add(namespaceChild);
        }
        var inNamespace = ChildOptions.After(namespaceChild);

        var account = scope.Resource(ServiceAccountType, $"{name}-service-account", new ServiceAccountInputs
        {
            Metadata = new ObjectMetaInputs { Name = sa, Namespace = ns, Labels = labels, Annotations = azure.Apply(a => a.Annotations!) },
            AutomountServiceAccountToken = true,
        }, inNamespace);
        before.Add(account);
        before.AddRange(RefresherRbac.Declare(scope, name, args.Targets, ns, sa, labels, account));

        var configMapName = sa.Apply(s => s + "-config");
        var configMap = scope.Resource(ConfigMapType, $"{name}-config", new ConfigMapInputs
        {
            Metadata = new ObjectMetaInputs { Name = configMapName, Namespace = ns, Labels = labels },
            Data = new Dictionary<string, Output<string>> { [RefresherPod.ConfigKey] = configText },
        }, inNamespace);
        before.Add(configMap);

        var podLabels = azure.Apply(a => (IReadOnlyDictionary<string, string>)KubernetesLabels.For("refresher", name, a.PodLabels));
        var jobSpec = RefresherPod.JobSpec(args, image, sa, configMapName, podLabels);
        var cronJob = scope.Resource(CronJobType, $"{name}-cron-job", new CronJobInputs
        {
            Metadata = new ObjectMetaInputs { Name = sa, Namespace = ns, Labels = labels },
            Spec = new CronJobSpecInputs
            {
                Schedule = Output.Tuple(args.Schedule, registries.Items.Then(items => Output.All(items.Select(r => r.Type))))
                    .Apply(v => v.Item1 ?? ScheduleFor(v.Item2)),
                ConcurrencyPolicy = "Forbid",
                StartingDeadlineSeconds = args.StartingDeadlineSeconds.Apply(v => v ?? 300),
                SuccessfulJobsHistoryLimit = args.SuccessfulJobsHistoryLimit.Apply(v => v ?? 3),
                FailedJobsHistoryLimit = args.FailedJobsHistoryLimit.Apply(v => v ?? 3),
                JobTemplate = new JobTemplateInputs { Metadata = new ObjectMetaInputs { Labels = labels }, Spec = jobSpec },
            },
        }, new ChildOptions { DependsOn = [.. before] });

        Output<string?> jobName = Output.Create<string?>(null);
        if (scope.Known(args.RunOnDeploy, "runOnDeploy", "the run-on-deploy Job", out var runOnDeploy) && runOnDeploy != false)
        {
            // The name carries the hash: a changed configuration is a new Job, never an update of a finished one.
            var name1 = Output.Tuple(sa, configText, image).Apply(v => (string?)$"{v.Item1}-{KubernetesNames.ShortHash(v.Item2 + "\n" + v.Item3)}");
            var job = scope.Resource(JobType, $"{name}-run-on-deploy", new JobInputs
            {
                Metadata = new ObjectMetaInputs { Name = name1.Apply(n => n!), Namespace = ns, Labels = labels },
                Spec = RefresherPod.JobSpec(args, image, sa, configMapName, podLabels, runOnDeploy: true),
            }, new ChildOptions { DependsOn = [.. before] });
            jobName = name1.DependingOn(job.Urn);
        }

        return new TokenRefresherOutputs
        {
            Namespace = ns,
            ServiceAccountName = sa.DependingOn(account.Urn),
            ConfigMapName = configMapName.DependingOn(configMap.Urn),
            CronJobName = sa.DependingOn(cronJob.Urn),
            JobName = jobName,
            Image = image,
            Configuration = configText.DependingOn(configMap.Urn),
        };
    }

    private static Output<RegistryConfiguration> RegistryOf(RefresherRegistry r) =>
        Output.Tuple(Output.Tuple(r.Name, r.Server, r.Type), Output.Tuple(r.Region, r.AccountId, r.Endpoint, r.TenantId)).Apply(v => new RegistryConfiguration
        {
            Name = NullIfEmpty(v.Item1.Item1),
            Server = v.Item1.Item2,
            Source = new TokenSourceConfiguration
            {
                Type = v.Item1.Item3,
                Region = NullIfEmpty(v.Item2.Item1),
                AccountId = NullIfEmpty(v.Item2.Item2),
                Endpoint = NullIfEmpty(v.Item2.Item3),
                TenantId = NullIfEmpty(v.Item2.Item4),
            },
        });

    private static Output<TargetConfiguration> TargetOf(RefresherTarget t) =>
        Output.Tuple(Output.Tuple(t.SecretName, t.NamespaceSelector, t.AllNamespaces, t.AttachOnly),
            Output.Tuple((t.Registries ?? []).Items, (t.Namespaces ?? []).Items, (t.ServiceAccounts ?? []).Items, t.Owner)).Apply(v => new TargetConfiguration
            {
                SecretName = v.Item1.Item1,
                NamespaceSelector = NullIfEmpty(v.Item1.Item2),
                AllNamespaces = v.Item1.Item3 ?? false,
                AttachOnly = v.Item1.Item4 ?? false,
                Registries = v.Item2.Item1,
                Namespaces = v.Item2.Item2,
                ServiceAccounts = v.Item2.Item3,
                Owner = NullIfEmpty(v.Item2.Item4),
            });

    /// <summary>The refresher's configuration file (Core's contract), checked by the refresher's own validator.</summary>
    public static RefresherConfiguration Configuration(ImmutableArray<RegistryConfiguration> registries, ImmutableArray<TargetConfiguration> targets, string? instance = null)
    {
        // Only a target that selects namespaces needs the instance (its Secrets are labelled and may be pruned).
        var configuration = new RefresherConfiguration { Registries = registries, Targets = targets, Instance = targets.Any(t => t.SelectsNamespaces && !t.AttachOnly) ? instance : null };
        var problems = RefresherConfigurationValidator.Validate(configuration);
        if (problems.Count > 0)
        {
            throw new ComponentInputException(problems[0].Path, problems[0].Message);
        }
        return configuration;
    }

    /// <summary>The name of the ConfigMap the refresher creates to record where it attached which secret.</summary>
    public static string LedgerName(string serviceAccount) => serviceAccount + "-attachments";

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>
    /// The refresher has no per-registry Azure client id: every source takes its identity from the pod
    /// (AZURE_CLIENT_ID, injected by the workload identity webhook from the service account). A registry's
    /// clientId therefore becomes the service account's annotation and the pod's label, and all ACR
    /// registries of one refresher must share it.
    /// </summary>
    private static (IReadOnlyDictionary<string, string>? Annotations, IReadOnlyDictionary<string, string>? PodLabels) AzureIdentity(
        ImmutableArray<(string Type, string? ClientId)> registries, ImmutableSortedDictionary<string, string> annotationsIn, ImmutableSortedDictionary<string, string> podLabelsIn)
    {
        string? clientId = null;
        for (var i = 0; i < registries.Length; i++)
        {
            var id = registries[i].ClientId;
            if (string.IsNullOrEmpty(id))
            {
                continue;
            }
            if (registries[i].Type != TokenSourceConfiguration.Acr)
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
            return (annotationsIn.Count == 0 ? null : annotationsIn, podLabelsIn);
        }
        var annotations = annotationsIn.ToDictionary(StringComparer.Ordinal);
        if (annotations.TryGetValue(AzureClientIdAnnotation, out var given) && given != clientId)
        {
            throw new ComponentInputException($"serviceAccountAnnotations.{AzureClientIdAnnotation}", "differs from the registries' clientId");
        }
        annotations[AzureClientIdAnnotation] = clientId;
        var podLabels = podLabelsIn.ToDictionary(StringComparer.Ordinal);
        podLabels[AzureUseLabel] = "true";
        return (annotations, podLabels);
    }

    // Known inputs are checked even when others are unknown (preview): an unknown never hides an error.
    private static void ValidateKnown(TokenRefresherArgs args, string defaultNamespace)
    {
        if (args.Image.TryGetKnown(out var imageInput))
        {
            var image = imageInput ?? RefresherRelease.Image
                ?? throw new ComponentInputException("image", "required: this build of the provider carries no released refresher image; give one pinned by digest (REPOSITORY@sha256:HEX), for example resolved with registryinfra:index:getImage");
            if (!PinnedImagePattern().IsMatch(image))
            {
                throw new ComponentInputException("image", $"'{image}' is not pinned by digest (REPOSITORY@sha256:HEX); resolve a tag with registryinfra:index:getImage");
            }
        }
        if (args.Namespace.TryGetKnown(out var ns))
        {
            KubernetesNames.RequireLabel(ns ?? defaultNamespace, "namespace");
        }
        if (args.ServiceAccountName.TryGetKnown(out var sa))
        {
            KubernetesNames.RequireSubdomain(sa ?? DefaultServiceAccountName, "serviceAccountName");
            if ((sa ?? DefaultServiceAccountName).Length > 40)
            {
                // The run-on-deploy Job is named SA-HASH and Job names feed pod labels (63 characters).
                throw new ComponentInputException("serviceAccountName", "at most 40 characters");
            }
        }
        if (args.Schedule.TryGetKnown(out var schedule) && schedule is not null
            && schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length is not 5 && !schedule.StartsWith('@'))
        {
            throw new ComponentInputException("schedule", $"'{schedule}' is not a cron schedule of five fields");
        }
        RequireNonNegative(args.StartingDeadlineSeconds, "startingDeadlineSeconds");
        RequireNonNegative(args.ActiveDeadlineSeconds, "activeDeadlineSeconds", positive: true);
        RequireNonNegative(args.BackoffLimit, "backoffLimit");
        RequireNonNegative(args.SuccessfulJobsHistoryLimit, "successfulJobsHistoryLimit");
        RequireNonNegative(args.FailedJobsHistoryLimit, "failedJobsHistoryLimit");
        KubernetesNames.RequireQuantity(args.CpuRequest, "cpuRequest");
        KubernetesNames.RequireQuantity(args.MemoryRequest, "memoryRequest");
        KubernetesNames.RequireQuantity(args.MemoryLimit, "memoryLimit");
        KubernetesNames.RequireLabels(args.PodLabels, "podLabels");
        if (args.Registries?.TryGetKnown(out var registries) == true)
        {
            for (var i = 0; i < registries.Length; i++)
            {
                if (registries[i].Type.TryGetKnown(out var type) && !TokenSourceConfiguration.Types.Contains(type))
                {
                    throw new ComponentInputException($"registries[{i}].type", $"'{type}' is not one of {string.Join(", ", TokenSourceConfiguration.Types)}");
                }
            }
        }
        if (args.Targets.TryGetKnown(out var targets) && targets.Length == 0)
        {
            throw new ComponentInputException("targets", "at least one target is required");
        }
    }

    private static void RequireNonNegative<T>(Output<T?> value, string field, bool positive = false) where T : struct, IComparable<T>
    {
        if (value.TryGetKnown(out var known) && known is { } number && number.CompareTo(default) < (positive ? 1 : 0))
        {
            throw new ComponentInputException(field, positive ? $"must be greater than 0, got {number}" : $"must not be negative, got {number}");
        }
    }
}
