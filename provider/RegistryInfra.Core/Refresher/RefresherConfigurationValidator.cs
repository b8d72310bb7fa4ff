using System.Globalization;
using System.Text.RegularExpressions;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Kubernetes;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Refresher;

/// <summary>One thing wrong with a configuration: the field as a path in the file (<c>targets[0].secretName</c>) and what is wrong.</summary>
/// <param name="Path">The field, as a path in the file; <c>config</c> for the file as a whole.</param>
/// <param name="Message">What is wrong and, where it helps, what would be right; never a credential.</param>
public sealed record ConfigurationProblem(string Path, string Message)
{
    /// <summary>The problem as one line: <c>path: message</c>.</summary>
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>
/// The refresher configuration's rules, in one place: the TokenRefresher component checks what it writes and
/// the refresher checks what it reads with the same rules. Every problem names its field.
/// </summary>
public static partial class RefresherConfigurationValidator
{
    /// <summary>The most namespaces worked on at once.</summary>
    public const int MaxConcurrency = 256;

    /// <summary>The most retries of either kind.</summary>
    public const int MaxRetries = 50;

    /// <summary>The longest run: a CronJob run, not a daemon (and within what a timer can wait).</summary>
    public static readonly TimeSpan MaxDeadline = TimeSpan.FromHours(24);

    /// <summary>The longest <see cref="RefresherConfiguration.RenewBefore"/>.</summary>
    public static readonly TimeSpan MaxRenewBefore = TimeSpan.FromDays(366);

    /// <summary>The longest <see cref="RefresherConfiguration.RequestTimeout"/>.</summary>
    public static readonly TimeSpan MaxRequestTimeout = TimeSpan.FromHours(1);

    /// <summary>The longest <see cref="RefresherConfiguration.RetryBaseDelay"/>.</summary>
    public static readonly TimeSpan MaxRetryBaseDelay = TimeSpan.FromMinutes(1);

    /// <summary>The longest lease duration, renew deadline and retry period of <see cref="WatchConfiguration"/>.</summary>
    public static readonly TimeSpan MaxLeaderElectionPeriod = TimeSpan.FromMinutes(10);

    /// <summary>The longest credential <see cref="TokenSourceConfiguration.Lifetime"/>.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3660);

    /// <summary>Every problem of <paramref name="configuration"/>; empty when it is valid.</summary>
    public static IReadOnlyList<ConfigurationProblem> Validate(RefresherConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<ConfigurationProblem>();
        var registries = configuration.Registries;
        var targets = configuration.Targets;
        // A configuration of attach-only and copy targets alone (a cluster of static registries) obtains no token at all.
        if (registries.Count == 0 && (targets.Count == 0 || targets.Any(t => !t.AttachOnly && t.Source is null)))
        {
            problems.Add(new("registries", "at least one registry is required (only a configuration whose targets are all attachOnly or copy a source may have none)"));
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < registries.Count; i++)
        {
            var r = registries[i];
            var at = $"registries[{i}]";
            if (string.IsNullOrWhiteSpace(r.Server))
            {
                problems.Add(new($"{at}.server", "required (a registry host such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com)"));
            }
            else if (!RegistryHost.TryParse(r.Server, out _, out var hostError))
            {
                problems.Add(new($"{at}.server", hostError ?? "not a registry host"));
            }
            if (!keys.Add(r.Key))
            {
                problems.Add(new($"{at}.name", $"'{r.Key}' is used by another registry"));
            }
            ValidateSource(r, $"{at}.source", problems);
        }
        if (targets.Count == 0)
        {
            problems.Add(new("targets", "at least one target is required"));
        }
        for (var i = 0; i < targets.Count; i++)
        {
            ValidateTarget(configuration, i, keys, problems);
        }
        Range(problems, "concurrency", configuration.Concurrency, 1, MaxConcurrency);
        Range(problems, "conflictRetries", configuration.ConflictRetries, 0, MaxRetries);
        Range(problems, "transientRetries", configuration.TransientRetries, 0, MaxRetries);
        Positive(problems, "deadline", configuration.Deadline, MaxDeadline);
        Positive(problems, "requestTimeout", configuration.RequestTimeout, MaxRequestTimeout);
        Positive(problems, "retryBaseDelay", configuration.RetryBaseDelay, MaxRetryBaseDelay);
        if (configuration.RenewBefore is { } renew && (renew < TimeSpan.Zero || renew > MaxRenewBefore))
        {
            problems.Add(new("renewBefore", $"{Duration.Format(renew)} must be between 0s and {Duration.Format(MaxRenewBefore)}"));
        }
        if (configuration.Metrics?.OtlpEndpoint is { Length: > 0 } otlp && !IsHttpUrl(otlp))
        {
            problems.Add(new("metrics.otlpEndpoint", $"'{otlp}' must be an absolute http(s) URL, such as http://otel-collector.monitoring:4318"));
        }
        if (configuration.Logging?.LogLevel?.Default is { } level && !LogLevelConfiguration.Levels.Contains(level))
        {
            problems.Add(new("logging.logLevel.default", $"'{level}' must be one of {string.Join(", ", LogLevelConfiguration.Levels)}"));
        }
        if (configuration.Instance is { } instance && (instance.Length == 0 || LabelSyntax.ValueProblem(instance) is not null))
        {
            problems.Add(new("instance", $"'{Shorten(instance)}' is not a valid label value ({LabelSyntax.ValueProblem(instance) ?? "must not be empty"})"));
        }
        else if (configuration.Instance is null && targets.FirstOrDefault(t => t.SelectsNamespaces && !t.AttachOnly) is { } selecting)
        {
            problems.Add(new("instance", $"required when a target selects namespaces by namespaceSelector or allNamespaces (targets[{targets.ToList().IndexOf(selecting).ToString(CultureInfo.InvariantCulture)}] does): the label value that marks the Secrets this refresher creates, so that only those are pruned from a namespace that leaves the selection"));
        }
        if (configuration.Watch is { } watch)
        {
            ValidateWatch(watch, problems);
        }
        if (configuration.Ledger is { } ledger)
        {
            if (!IsDnsLabel(ledger.Namespace))
            {
                problems.Add(new("ledger.namespace", $"'{ledger.Namespace}' is not a valid namespace name"));
            }
            if (!IsDnsSubdomain(ledger.Name))
            {
                problems.Add(new("ledger.name", $"'{ledger.Name}' is not a valid ConfigMap name"));
            }
            if (ledger.Owner is not null && (!IsDnsSubdomain(ledger.Owner) || ledger.Owner == ledger.Name))
            {
                problems.Add(new("ledger.owner", $"'{ledger.Owner}' is not a valid ConfigMap name other than the ledger's"));
            }
        }
        return problems;
    }

    /// <summary>Whether <paramref name="value"/> is an absolute http or https URL.</summary>
    public static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    private static void ValidateTarget(RefresherConfiguration configuration, int index, HashSet<string> keys, List<ConfigurationProblem> problems)
    {
        var t = configuration.Targets[index];
        var at = $"targets[{index}]";
        if (!IsDnsSubdomain(t.SecretName))
        {
            problems.Add(new($"{at}.secretName", $"'{t.SecretName}' is not a valid Secret name (lower-case DNS subdomain, at most 253 characters)"));
        }
        var ways = (t.Namespaces.Count > 0 ? 1 : 0) + (string.IsNullOrWhiteSpace(t.NamespaceSelector) ? 0 : 1) + (t.AllNamespaces ? 1 : 0);
        if (ways != 1)
        {
            problems.Add(new(at, $"give exactly one of namespaces, namespaceSelector or allNamespaces (got {ways})"));
        }
        for (var n = 0; n < t.Namespaces.Count; n++)
        {
            if (!IsDnsLabel(t.Namespaces[n]))
            {
                problems.Add(new($"{at}.namespaces[{n}]", $"'{t.Namespaces[n]}' is not a valid namespace name (lower-case DNS label, at most 63 characters)"));
            }
        }
        if (!string.IsNullOrWhiteSpace(t.NamespaceSelector) && !Selector.TryParse(t.NamespaceSelector, out _, out var namespaceProblem))
        {
            problems.Add(new($"{at}.namespaceSelector", $"'{Shorten(t.NamespaceSelector)}' is not a label selector: {namespaceProblem}"));
        }
        if (t.ExcludeNamespaces.Count > 0 && !t.SelectsNamespaces)
        {
            problems.Add(new($"{at}.excludeNamespaces", "only with namespaceSelector or allNamespaces (leave a listed namespace out of namespaces instead)"));
        }
        for (var n = 0; n < t.ExcludeNamespaces.Count; n++)
        {
            if (NamespacePatterns.Problem(t.ExcludeNamespaces[n]) is { } patternProblem)
            {
                problems.Add(new($"{at}.excludeNamespaces[{n}]", patternProblem));
            }
        }
        for (var n = 0; n < t.ServiceAccounts.Count; n++)
        {
            if (!IsDnsSubdomain(t.ServiceAccounts[n]))
            {
                problems.Add(new($"{at}.serviceAccounts[{n}]", $"'{t.ServiceAccounts[n]}' is not a valid service account name"));
            }
        }
        var accountWays = (t.ServiceAccounts.Count > 0 ? 1 : 0) + (t.AllServiceAccounts ? 1 : 0) + (string.IsNullOrWhiteSpace(t.ServiceAccountSelector) ? 0 : 1);
        if (accountWays > 1)
        {
            problems.Add(new(at, $"give at most one of serviceAccounts, allServiceAccounts or serviceAccountSelector (got {accountWays})"));
        }
        if (!string.IsNullOrWhiteSpace(t.ServiceAccountSelector) && !Selector.TryParse(t.ServiceAccountSelector, out _, out var accountProblem))
        {
            problems.Add(new($"{at}.serviceAccountSelector", $"'{Shorten(t.ServiceAccountSelector)}' is not a label selector: {accountProblem}"));
        }
        if (t.Owner is not null && !IsDnsSubdomain(t.Owner))
        {
            problems.Add(new($"{at}.owner", $"'{t.Owner}' is not a valid ConfigMap name"));
        }
        if (t.ClusterOwner is not null)
        {
            if (ClusterRoleNameProblem(t.ClusterOwner) is { } roleProblem)
            {
                problems.Add(new($"{at}.clusterOwner", $"'{Shorten(t.ClusterOwner)}' is not a valid ClusterRole name ({roleProblem})"));
            }
            if (t.Owner is not null)
            {
                problems.Add(new($"{at}.clusterOwner", "give owner (a ConfigMap in each namespace) or clusterOwner (one ClusterRole), not both"));
            }
            if (t.AttachOnly)
            {
                problems.Add(new($"{at}.clusterOwner", "an attachOnly target never creates its secret, so it names no owner"));
            }
        }
        if (t.Source is { } source)
        {
            if (!IsDnsLabel(source.Namespace))
            {
                problems.Add(new($"{at}.source.namespace", $"'{Shorten(source.Namespace)}' is not a valid namespace name"));
            }
            if (!IsDnsSubdomain(source.Name))
            {
                problems.Add(new($"{at}.source.name", $"'{Shorten(source.Name)}' is not a valid Secret name"));
            }
            if (t.AttachOnly)
            {
                problems.Add(new($"{at}.source", "a copy target writes its secret's data, an attachOnly target never does: remove source or attachOnly"));
            }
            if (t.Registries.Count > 0)
            {
                problems.Add(new($"{at}.registries", "a copy target's data is its source Secret's; it names no registries"));
            }
            if (t.Namespaces.Contains(source.Namespace, StringComparer.Ordinal) && source.Name == t.SecretName)
            {
                problems.Add(new($"{at}.source", $"the source {source.Namespace}/{source.Name} would be its own copy"));
            }
        }
        if (t.AttachOnly)
        {
            if (t.Owner is not null)
            {
                problems.Add(new($"{at}.owner", "an attachOnly target never creates its secret, so it names no owner"));
            }
            if (t.Registries.Count > 0)
            {
                problems.Add(new($"{at}.registries", "an attachOnly target names no registries (its secret's data is owned by whoever created it, such as Pulumi); remove registries or attachOnly"));
            }
            if (!t.AttachesServiceAccounts)
            {
                problems.Add(new($"{at}.serviceAccounts", "required for an attachOnly target, which only makes these service accounts name the secret (or allServiceAccounts, or serviceAccountSelector)"));
            }
            // The same secret as a token target's would have its data rewritten by that target: two owners.
            var writer = configuration.Targets.ToList().FindIndex(o => !o.AttachOnly && o.SecretName == t.SecretName);
            if (writer >= 0)
            {
                problems.Add(new($"{at}.secretName", $"'{t.SecretName}' is also the secret of targets[{writer}], which writes its data; an attachOnly secret's data must have one owner outside the refresher"));
            }
            return;
        }
        for (var n = 0; n < t.Registries.Count; n++)
        {
            if (!keys.Contains(t.Registries[n]))
            {
                problems.Add(new($"{at}.registries[{n}]", $"no registry is named '{t.Registries[n]}'"));
            }
        }
    }

    private static void ValidateWatch(WatchConfiguration watch, List<ConfigurationProblem> problems)
    {
        if (!IsDnsLabel(watch.LeaseNamespace))
        {
            problems.Add(new("watch.leaseNamespace", $"'{Shorten(watch.LeaseNamespace)}' is not a valid namespace name"));
        }
        if (!IsDnsSubdomain(watch.LeaseName))
        {
            problems.Add(new("watch.leaseName", $"'{Shorten(watch.LeaseName)}' is not a valid Lease name"));
        }
        if (watch.LeaseOwner is { } owner && !IsDnsSubdomain(owner))
        {
            problems.Add(new("watch.leaseOwner", $"'{Shorten(owner)}' is not a valid ConfigMap name"));
        }
        var before = problems.Count;
        Positive(problems, "watch.leaseDuration", watch.LeaseDuration, MaxLeaderElectionPeriod);
        Positive(problems, "watch.renewDeadline", watch.RenewDeadline, MaxLeaderElectionPeriod);
        Positive(problems, "watch.retryPeriod", watch.RetryPeriod, MaxLeaderElectionPeriod);
        Positive(problems, "watch.resync", watch.Resync, MaxDeadline);
        if (problems.Count > before)
        {
            return;
        }
        // client-go's NewLeaderElector refuses these (tools/leaderelection/leaderelection.go): a leader must give up
        // before a standby may take over, and have time for more than one retry before giving up.
        if (watch.EffectiveLeaseDuration <= watch.EffectiveRenewDeadline)
        {
            problems.Add(new(watch.LeaseDuration is null ? "watch.renewDeadline" : "watch.leaseDuration", $"leaseDuration ({Duration.Format(watch.EffectiveLeaseDuration)}) must be greater than renewDeadline ({Duration.Format(watch.EffectiveRenewDeadline)})"));
        }
        if (watch.EffectiveRenewDeadline.TotalSeconds <= RefresherDefaults.LeaderElectionJitterFactor * watch.EffectiveRetryPeriod.TotalSeconds)
        {
            problems.Add(new(watch.RenewDeadline is null ? "watch.retryPeriod" : "watch.renewDeadline", $"renewDeadline ({Duration.Format(watch.EffectiveRenewDeadline)}) must be greater than 1.2 × retryPeriod ({Duration.Format(watch.EffectiveRetryPeriod)})"));
        }
    }

    // ClusterRole names are path segment names (kubernetes pkg/apis/rbac/validation: ValidateRBACName is
    // path.IsValidPathSegmentName): not "." or "..", no '/' or '%'; like every object name at most 253 characters.
    private static string? ClusterRoleNameProblem(string name) => name switch
    {
        "" => "must not be empty",
        "." or ".." => "may not be '.' or '..'",
        _ when name.Length > 253 => "must be at most 253 characters",
        _ when name.Contains('/', StringComparison.Ordinal) || name.Contains('%', StringComparison.Ordinal) => "may not contain '/' or '%'",
        _ => null,
    };

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..61] + "...";

    private static void ValidateSource(RegistryConfiguration registry, string at, List<ConfigurationProblem> problems)
    {
        var s = registry.Source;
        var before = problems.Count;
        if (!TokenSourceConfiguration.Types.Contains(s.Type))
        {
            problems.Add(new($"{at}.type", $"'{s.Type}' must be one of {string.Join(", ", TokenSourceConfiguration.Types)}"));
            return;
        }
        switch (s.Type)
        {
            case TokenSourceConfiguration.Ecr:
                if (RegistryHost.TryParse(registry.Server, out var host, out _) && host.Kind is not (RegistryKind.EcrPrivate or RegistryKind.EcrPublic) && string.IsNullOrWhiteSpace(s.Region))
                {
                    problems.Add(new($"{at}.region", $"required for an ecr source whose server ('{registry.Server}') is not an ECR host name"));
                }
                break;
            case TokenSourceConfiguration.Exec:
                if (string.IsNullOrWhiteSpace(s.Command))
                {
                    problems.Add(new($"{at}.command", "required for an exec source"));
                }
                break;
            case TokenSourceConfiguration.Acr:
                if (RegistryHost.TryParse(registry.Server, out var acrHost, out _) && acrHost.Port is not null)
                {
                    problems.Add(new(at, $"an acr source needs a login server without a port, got '{registry.Server}'"));
                }
                break;
            case TokenSourceConfiguration.Static:
                if (string.IsNullOrWhiteSpace(s.Username))
                {
                    problems.Add(new($"{at}.username", "required for a static source"));
                }
                if (string.IsNullOrWhiteSpace(s.PasswordFile) == string.IsNullOrWhiteSpace(s.PasswordEnv))
                {
                    problems.Add(new(at, "give exactly one of passwordFile or passwordEnv for a static source"));
                }
                break;
        }
        Positive(problems, $"{at}.lifetime", s.Lifetime, MaxLifetime);
        // Every rule of the credential itself is the spec's (the one RegistryProfile uses); the key file is read at run time.
        if (problems.Count == before && s.Type != TokenSourceConfiguration.Static)
        {
            try
            {
                s.CreateSource(registry.Server, at, new CredentialSourceContext { Server = registry.Server });
            }
            catch (RegistryException e) when (e.Field is { } field)
            {
                problems.Add(new(field, e.Reason!));
            }
        }
    }

    private static void Range(List<ConfigurationProblem> problems, string field, int? value, int min, int max)
    {
        if (value is { } v && (v < min || v > max))
        {
            problems.Add(new(field, $"{v.ToString(CultureInfo.InvariantCulture)} must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}"));
        }
    }

    private static void Positive(List<ConfigurationProblem> problems, string field, TimeSpan? value, TimeSpan max)
    {
        if (value is { } v && (v <= TimeSpan.Zero || v > max))
        {
            problems.Add(new(field, $"{Duration.Format(v)} must be positive and at most {Duration.Format(max)}"));
        }
    }

    private static bool IsDnsSubdomain(string value) => value.Length is > 0 and <= 253 && DnsSubdomain().IsMatch(value);

    private static bool IsDnsLabel(string value) => value.Length is > 0 and <= 63 && DnsLabel().IsMatch(value);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
