using RegistryInfra.Core.References;
using System.Collections.Immutable;
using System.Text.RegularExpressions;
using RegistryInfra.Core.Kubernetes;
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
    public const string DeploymentType = "kubernetes:apps/v1:Deployment";
    public const string PodDisruptionBudgetType = "kubernetes:policy/v1:PodDisruptionBudget";

    /// <summary>The modes, as <c>mode</c> takes them.</summary>
    public const string CronJobMode = "cronJob";
    public const string WatchMode = "watch";

    /// <summary>On the watch mode's pod template: a hash of the configuration, so a changed configuration rolls the pods.</summary>
    public const string ConfigurationHashAnnotation = ConfigurationHash.Annotation;
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
        var modeInput = args.Mode.Apply(m => m ?? CronJobMode);
        var targets = args.Targets.Items.Then(items => Output.All(items.Select((t, i) => TargetOf(t, i))));
        var configuration = Output.Tuple(registries.Items.Then(items => Output.All(items.Select(RegistryOf))), targets, Output.Tuple(ns, sa, modeInput))
            .Apply(v => Configuration(v.Item1, v.Item2, v.Item3.Item1, v.Item3.Item2, v.Item3.Item3 == WatchMode));
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
        before.AddRange(RefresherRbac.Declare(scope, name, args.Targets, ns, sa, labels, account, modeInput));

        var configMapName = sa.Apply(ConfigMapName);
        var configMap = scope.Resource(ConfigMapType, $"{name}-config", new ConfigMapInputs
        {
            Metadata = new ObjectMetaInputs { Name = configMapName, Namespace = ns, Labels = labels },
            Data = new Dictionary<string, Output<string>> { [RefresherPod.ConfigKey] = configText },
        }, inNamespace);
        before.Add(configMap);

        var podLabels = azure.Apply(a => (IReadOnlyDictionary<string, string>)KubernetesLabels.For("refresher", name, a.PodLabels));
        Output<string?> cronJobName, jobName, deploymentName;
        if (!scope.Known(args.Mode, "mode", "the refresher's CronJob and run-on-deploy Job, or its Deployment", out var mode))
        {
            cronJobName = jobName = deploymentName = args.Mode.Apply(_ => (string?)null);
        }
        else if (mode == WatchMode)
        {
            cronJobName = jobName = Output.Create<string?>(null);
            deploymentName = Watch(scope, name, args, ns, sa, image, labels, podLabels, configMapName, configText, account, before, inNamespace);
        }
        else
        {
            deploymentName = Output.Create<string?>(null);
            (cronJobName, jobName) = Cron(scope, name, args, ns, sa, image, labels, podLabels, configMapName, configText, registries, before);
        }

        return new TokenRefresherOutputs
        {
            Namespace = ns,
            ServiceAccountName = sa.DependingOn(account.Urn),
            ConfigMapName = configMapName.DependingOn(configMap.Urn),
            CronJobName = cronJobName,
            JobName = jobName,
            DeploymentName = deploymentName,
            Image = image,
            Configuration = configText.DependingOn(configMap.Urn),
        };
    }

    /// <summary>CronJob mode: the CronJob, and the run-on-deploy Job named after the configuration's hash.</summary>
    private static (Output<string?> CronJob, Output<string?> Job) Cron(ComponentScope scope, string name, TokenRefresherArgs args, Output<string> ns, Output<string> sa,
        Output<string> image, Output<IReadOnlyDictionary<string, string>> labels, Output<IReadOnlyDictionary<string, string>> podLabels, Output<string> configMapName,
        Output<string> configText, InputList<RefresherRegistry> registries, List<IChild> before)
    {
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
            // The name carries the hash: a changed configuration is a new Job, never an update of a finished one. So does a
            // changed copy source (its version, never its data), so that a new password reaches the copies at this update.
            var name1 = Output.Tuple(sa, configText, image, SourceVersions(args.Targets))
                .Apply(v => (string?)$"{v.Item1}-{KubernetesNames.ShortHash(JobHashInput(v.Item2, v.Item3, v.Item4))}");
            var job = scope.Resource(JobType, $"{name}-run-on-deploy", new JobInputs
            {
                Metadata = new ObjectMetaInputs { Name = name1.Apply(n => n!), Namespace = ns, Labels = labels },
                Spec = RefresherPod.JobSpec(args, image, sa, configMapName, podLabels, runOnDeploy: true),
            }, new ChildOptions { DependsOn = [.. before] });
            jobName = name1.DependingOn(job.Urn);
        }
        return (sa.Apply(s => (string?)s).DependingOn(cronJob.Urn), jobName);
    }

    /// <summary>
    /// The versions of the copy targets' sources that were given (<c>source.version</c>: the source Secret's
    /// <c>metadata.resourceVersion</c>), in target order; unknown while any is (preview, before the Secret is written).
    /// </summary>
    private static Output<ImmutableArray<string>> SourceVersions(InputList<RefresherTarget> targets) =>
        targets.Items.Then(items => Output.All(items.Select(t => t.Source.Then(s => s is null ? Output.Create<string?>(null) : s.Version))))
            .Apply(versions => versions.OfType<string>().ToImmutableArray());

    /// <summary>
    /// What the run-on-deploy Job's name hashes: the configuration and the image, and the copy sources' versions when there
    /// are any (without them the name is what it was before sources had versions, so such a refresher keeps its Job).
    /// </summary>
    internal static string JobHashInput(string configuration, string image, ImmutableArray<string> sourceVersions) =>
        sourceVersions.IsDefaultOrEmpty
            ? configuration + "\n" + image
            : configuration + "\n" + image + "\nsources " + string.Join(",", sourceVersions);

    /// <summary>
    /// Watch mode: the Role on the leader-election Lease, the Deployment running <c>watch</c>, and with 2 replicas a
    /// PodDisruptionBudget. The pod template carries a hash of the configuration (Core's <see cref="ConfigurationHash"/>), so
    /// a changed configuration rolls the pods (the refresher reads it at start and records the same hash in the Lease);
    /// pulumi-kubernetes awaits the rollout's ready replicas, and a replica is ready once it is the leader that finished its
    /// first full run, or a standby beside a leader of its configuration that did (a rollout's newer pod is handed the lease).
    /// </summary>
    private static Output<string?> Watch(ComponentScope scope, string name, TokenRefresherArgs args, Output<string> ns, Output<string> sa,
        Output<string> image, Output<IReadOnlyDictionary<string, string>> labels, Output<IReadOnlyDictionary<string, string>> podLabels, Output<string> configMapName,
        Output<string> configText, IChild account, List<IChild> before, ChildOptions inNamespace)
    {
        before.AddRange(RefresherRbac.DeclareLease(scope, name, ns, sa, labels, account, inNamespace));
        var selector = new MatchLabelsInputs { MatchLabels = SelectorLabels(name) };
        var replicas = args.Replicas.Apply(r => r ?? 1);
        var deployment = scope.Resource(DeploymentType, $"{name}-deployment", new WorkloadDeploymentInputs
        {
            Metadata = new ObjectMetaInputs { Name = sa, Namespace = ns, Labels = labels },
            Spec = new WorkloadDeploymentSpecInputs
            {
                Replicas = replicas,
                Selector = selector,
                // One replica: the old pod goes first (releasing the Lease), so the new one leads and the rollout completes after
                // its first full run with the new configuration. Two: one at a time, the other keeps serving.
                Strategy = replicas.Apply(r => r == 1
                    ? new WorkloadStrategyInputs { Type = "Recreate" }
                    : new WorkloadStrategyInputs { Type = "RollingUpdate", RollingUpdate = new RollingUpdateInputs { MaxSurge = 0, MaxUnavailable = 1 } }),
                Template = RefresherPod.WatchTemplate(args, image, sa, configMapName, podLabels,
                    configText.Apply(c => (IReadOnlyDictionary<string, string>)new Dictionary<string, string>(StringComparer.Ordinal)
                    {
                        [ConfigurationHashAnnotation] = ConfigurationHash.Of(c),
                    })),
            },
        }, new ChildOptions { DependsOn = [.. before] });
        if (scope.Known(args.Replicas, "replicas", "the refresher's PodDisruptionBudget", out var count) && count == 2)
        {
            scope.Resource(PodDisruptionBudgetType, $"{name}-pod-disruption-budget", new PodDisruptionBudgetInputs
            {
                Metadata = new ObjectMetaInputs { Name = sa, Namespace = ns, Labels = labels },
                Spec = new PodDisruptionBudgetSpecInputs { MinAvailable = 1, Selector = selector },
            }, inNamespace);
        }
        return sa.Apply(s => (string?)s).DependingOn(deployment.Urn);
    }

    /// <summary>The labels a watch-mode Deployment selects its pods by: fixed for the component, whatever <c>podLabels</c> say.</summary>
    private static Dictionary<string, string> SelectorLabels(string name)
    {
        var all = KubernetesLabels.For("refresher", name);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["app.kubernetes.io/name"] = all["app.kubernetes.io/name"],
            ["app.kubernetes.io/instance"] = all["app.kubernetes.io/instance"],
            ["app.kubernetes.io/component"] = all["app.kubernetes.io/component"],
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

    /// <summary>A target as the configuration takes it, with whether its selectors were given as LabelSelector values (for the field names of errors).</summary>
    internal static Output<(TargetConfiguration Config, bool NamespaceLabels, bool AccountLabels)> TargetOf(RefresherTarget t, int index)
    {
        var at = $"targets[{index}]";
        // A LabelSelector goes into the configuration in its canonical string form; an empty one selects everything.
        var namespaceLabels = t.NamespaceLabelSelector.Then(s => s is null
            ? Output.Create<string?>(null)
            : LabelSelectors.ToSelectorString(s, $"{at}.namespaceLabelSelector").Apply(x => (string?)x));
        var accountLabels = t.ServiceAccountSelector.Then(s => s is null
            ? Output.Create<string?>(null)
            : LabelSelectors.ToSelectorString(s, $"{at}.serviceAccountSelector").Apply(x => (string?)x));
        var source = t.Source.Then(s => s is null
            ? Output.Create<SecretSourceConfiguration?>(null)
            : Output.Tuple(s.Namespace, s.Name).Apply(v => (SecretSourceConfiguration?)new SecretSourceConfiguration { Namespace = v.Item1, Name = v.Item2 }));
        var basics = Output.Tuple(Output.Tuple(t.SecretName, t.NamespaceSelector, t.AllNamespaces, t.AttachOnly),
            Output.Tuple((t.Registries ?? []).Items, (t.Namespaces ?? []).Items, (t.ServiceAccounts ?? []).Items, t.Owner));
        var wide = Output.Tuple(Output.Tuple(namespaceLabels, accountLabels, t.AllServiceAccounts), (t.ExcludeNamespaces ?? []).Items, source);
        return Output.Tuple(basics, wide).Apply(v =>
        {
            var ((secretName, selector, all, attachOnly), (registries, namespaces, accounts, owner)) = v.Item1;
            var ((labelSelector, accountSelector, allAccounts), exclude, copy) = v.Item2;
            if (!string.IsNullOrEmpty(selector) && labelSelector is not null)
            {
                throw new ComponentInputException($"{at}.namespaceLabelSelector", "give namespaceSelector (a string) or namespaceLabelSelector, not both");
            }
            return (new TargetConfiguration
            {
                SecretName = secretName,
                NamespaceSelector = labelSelector is null ? NullIfEmpty(selector) : NullIfEmpty(labelSelector),
                AllNamespaces = (all ?? false) || labelSelector is "",
                AttachOnly = attachOnly ?? false,
                Registries = registries,
                Namespaces = namespaces,
                ExcludeNamespaces = exclude,
                ServiceAccounts = accounts,
                AllServiceAccounts = (allAccounts ?? false) || accountSelector is "",
                ServiceAccountSelector = NullIfEmpty(accountSelector),
                Source = copy,
                Owner = NullIfEmpty(owner),
            }, labelSelector is not null, accountSelector is not null);
        });
    }

    /// <summary>
    /// The refresher's configuration file (Core's contract), checked by the refresher's own validator. Targets that select
    /// namespaces (by label or all) and create Secrets get <c>clusterOwner</c>, the refresher's ClusterRole (the one of the
    /// targets that select namespaces, which exists as long as such a target does: not watch mode's own), and the
    /// configuration the <c>instance</c> label value (the refresher's namespace), so every copy is found again and garbage
    /// collected with the refresher; watch mode adds the Lease.
    /// </summary>
    public static RefresherConfiguration Configuration(ImmutableArray<RegistryConfiguration> registries,
        ImmutableArray<(TargetConfiguration Config, bool NamespaceLabels, bool AccountLabels)> targets, string ns, string serviceAccount, bool watch)
    {
        var wide = false;
        var configured = targets.Select((t, i) =>
        {
            var target = t.Config;
            if (target.Source is { } source && source.Namespace != ns)
            {
                throw new ComponentInputException($"targets[{i}].source.namespace", $"'{source.Namespace}' is not the refresher's namespace '{ns}': the source Secret lives beside the refresher, which may read it only there");
            }
            if (!IsWide(target))
            {
                return target;
            }
            wide = true;
            return target.AttachOnly || target.Owner is not null ? target : target with { ClusterOwner = RefresherRbac.ClusterRoleName(ns, serviceAccount) };
        }).ToImmutableArray();
        var configuration = new RefresherConfiguration
        {
            Registries = registries,
            Targets = configured,
            // Only a target that selects namespaces and writes Secrets needs the instance (its Secrets are labelled and may be pruned).
            Instance = wide && configured.Any(t => IsWide(t) && !t.AttachOnly) ? ns : null,
            Ledger = new LedgerConfiguration { Namespace = ns, Name = LedgerName(serviceAccount), Owner = ConfigMapName(serviceAccount) },
            // The Lease is owned by the configuration ConfigMap (as the ledger is; the ledger Role already grants get on it by
            // name), so it goes with the refresher even when createNamespace is false and the namespace stays.
            Watch = watch ? new WatchConfiguration { LeaseNamespace = ns, LeaseName = LeaseName(serviceAccount), LeaseOwner = ConfigMapName(serviceAccount) } : null,
        };
        var problems = RefresherConfigurationValidator.Validate(configuration);
        if (problems.Count > 0)
        {
            throw new ComponentInputException(FieldOf(problems[0].Path, targets), problems[0].Message);
        }
        return configuration;
    }

    /// <summary>Whether a target selects namespaces (by label or all) rather than listing them.</summary>
    internal static bool IsWide(TargetConfiguration target) => target.Namespaces.Count == 0 && (target.NamespaceSelector is not null || target.AllNamespaces);

    // The configuration's path of a problem, as the component's input that it came from.
    private static string FieldOf(string path, ImmutableArray<(TargetConfiguration Config, bool NamespaceLabels, bool AccountLabels)> targets)
    {
        for (var i = 0; i < targets.Length; i++)
        {
            var at = $"targets[{i}].";
            if (targets[i].NamespaceLabels && path.StartsWith(at + "namespaceSelector", StringComparison.Ordinal))
            {
                return at + "namespaceLabelSelector" + path[(at.Length + "namespaceSelector".Length)..];
            }
            if (targets[i].AccountLabels && path.StartsWith(at + "serviceAccountSelector", StringComparison.Ordinal))
            {
                return at + "serviceAccountSelector" + path[(at.Length + "serviceAccountSelector".Length)..];
            }
        }
        return path;
    }

    /// <summary>The refresher's configuration ConfigMap: the owner of its ledger and of its Lease.</summary>
    public static string ConfigMapName(string serviceAccount) => serviceAccount + "-config";

    /// <summary>The Lease the watch mode's replicas elect their leader on.</summary>
    public static string LeaseName(string serviceAccount) => serviceAccount + "-leader";

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
        if (args.Targets.TryGetKnown(out var targets))
        {
            if (targets.Length == 0)
            {
                throw new ComponentInputException("targets", "at least one target is required");
            }
            for (var i = 0; i < targets.Length; i++)
            {
                ValidateTarget(targets[i], $"targets[{i}]");
            }
        }
        ValidateMode(args);
    }

    private static void ValidateTarget(RefresherTarget target, string at)
    {
        if (target.NamespaceLabelSelector.TryGetKnown(out var namespaces))
        {
            LabelSelectors.ValidateKnown(namespaces, $"{at}.namespaceLabelSelector");
        }
        if (target.ServiceAccountSelector.TryGetKnown(out var accounts))
        {
            LabelSelectors.ValidateKnown(accounts, $"{at}.serviceAccountSelector");
        }
        if ((target.ExcludeNamespaces ?? []).TryGetKnown(out var exclude))
        {
            for (var j = 0; j < exclude.Length; j++)
            {
                if (NamespacePatterns.Problem(exclude[j]) is { } problem)
                {
                    throw new ComponentInputException($"{at}.excludeNamespaces[{j}]", problem);
                }
            }
        }
    }

    /// <summary>The mode, the replicas, and no CronJob setting in watch mode (it would be silently ignored).</summary>
    private static void ValidateMode(TokenRefresherArgs args)
    {
        var modeKnown = args.Mode.TryGetKnown(out var given);
        var mode = given ?? CronJobMode;
        if (modeKnown && mode is not (CronJobMode or WatchMode))
        {
            throw new ComponentInputException("mode", $"'{mode}' is not one of {CronJobMode}, {WatchMode}");
        }
        if (args.Replicas.TryGetKnown(out var replicas) && replicas is { } count)
        {
            if (modeKnown && mode != WatchMode)
            {
                throw new ComponentInputException("replicas", $"only with mode {WatchMode} (mode {CronJobMode} runs one Job at a time)");
            }
            if (count is not (1 or 2))
            {
                throw new ComponentInputException("replicas", $"1 or 2, got {count} (one leader works at a time; a second replica only stands by)");
            }
        }
        if (!modeKnown || mode != WatchMode)
        {
            return;
        }
        var cronOnly = new (string Field, bool Given)[]
        {
            ("schedule", Given(args.Schedule)),
            ("startingDeadlineSeconds", Given(args.StartingDeadlineSeconds)),
            ("backoffLimit", Given(args.BackoffLimit)),
            ("successfulJobsHistoryLimit", Given(args.SuccessfulJobsHistoryLimit)),
            ("failedJobsHistoryLimit", Given(args.FailedJobsHistoryLimit)),
            ("activeDeadlineSeconds", Given(args.ActiveDeadlineSeconds)),
            ("runOnDeploy", Given(args.RunOnDeploy)),
        };
        foreach (var (field, isGiven) in cronOnly)
        {
            if (isGiven)
            {
                throw new ComponentInputException(field, $"only with mode {CronJobMode}: in mode {WatchMode} the Deployment reacts to changes and renews tokens by their expiry; remove {field}");
            }
        }
    }

    private static bool Given<T>(Output<T?> value) where T : struct => value.TryGetKnown(out var known) && known is not null;

    private static bool Given(Output<string?> value) => value.TryGetKnown(out var known) && known is not null;

    private static void RequireNonNegative<T>(Output<T?> value, string field, bool positive = false) where T : struct, IComparable<T>
    {
        if (value.TryGetKnown(out var known) && known is { } number && number.CompareTo(default) < (positive ? 1 : 0))
        {
            throw new ComponentInputException(field, positive ? $"must be greater than 0, got {number}" : $"must not be negative, got {number}");
        }
    }
}
