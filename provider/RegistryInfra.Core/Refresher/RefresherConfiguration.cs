using System.Text.Json.Serialization;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Refresher;

/// <summary>
/// The refresher's configuration file: what the TokenRefresher component writes into its ConfigMap and what
/// <c>registryinfra-refresher</c> reads, one contract on both sides. A tuning setting left null means the
/// refresher's default (<see cref="RefresherDefaults"/>), so a ConfigMap written today picks up a better
/// default later. Serialise with <see cref="RefresherConfigurationJson"/>; check with
/// <see cref="RefresherConfigurationValidator"/>.
/// </summary>
/// <remarks>
/// Properties have setters, not <c>init</c>: System.Text.Json's source generator passes init-only properties
/// like constructor arguments and so sets a missing one to null, losing the <c>[]</c> defaults.
/// </remarks>
public sealed record RefresherConfiguration
{
    /// <summary>The registries whose tokens the refresher renews (none only when every target is attach-only).</summary>
    public IReadOnlyList<RegistryConfiguration> Registries { get; set; } = [];

    /// <summary>The pull secrets to keep fresh, and where.</summary>
    public IReadOnlyList<TargetConfiguration> Targets { get; set; } = [];

    /// <summary>A secret whose <c>registryinfra.io/expires-at</c> is later than now plus this is left alone; should exceed the CronJob's interval.</summary>
    public TimeSpan? RenewBefore { get; set; }

    /// <summary>How many namespaces are worked on at once.</summary>
    public int? Concurrency { get; set; }

    /// <summary>The whole run ends within this time, whatever the APIs do.</summary>
    public TimeSpan? Deadline { get; set; }

    /// <summary>How many times one secret or service-account write is retried after a 409 Conflict.</summary>
    public int? ConflictRetries { get; set; }

    /// <summary>How many times a transient failure (429, 5xx, timeout, connection) is retried.</summary>
    public int? TransientRetries { get; set; }

    /// <summary>The first backoff delay after a transient failure; doubles each time, with full jitter, capped at 10 s.</summary>
    public TimeSpan? RetryBaseDelay { get; set; }

    /// <summary>The timeout of one Kubernetes API request.</summary>
    public TimeSpan? RequestTimeout { get; set; }

    /// <summary>Optional metrics export.</summary>
    public MetricsConfiguration? Metrics { get; set; }

    /// <summary>
    /// Where the refresher records which service accounts it added which secret names to, so that a later run with a
    /// changed configuration removes exactly those no longer configured. Without it nothing is ever removed.
    /// </summary>
    public LedgerConfiguration? Ledger { get; set; }

    /// <summary>Log verbosity (<c>logging.logLevel.default</c>, as .NET configuration files spell it).</summary>
    public LoggingConfiguration? Logging { get; set; }

    /// <summary>
    /// A label value naming this refresher deployment (the TokenRefresher component sets the refresher namespace's
    /// name). Required when a target selects namespaces by label or takes them all: every Secret the refresher creates
    /// for such a target carries the label <see cref="InstanceLabel"/> with this value, and only a Secret with it is
    /// pruned from a namespace that has left the selection.
    /// </summary>
    public string? Instance { get; set; }

    /// <summary>The <c>watch</c> command's leader election and resync; the <c>refresh</c> command does not read it.</summary>
    public WatchConfiguration? Watch { get; set; }

    /// <summary>The label that marks a Secret the refresher created for a selector or all-namespaces target.</summary>
    public const string InstanceLabel = "registryinfra.io/instance";

    /// <summary>The annotation on a copied Secret recording which version of its source it holds.</summary>
    public const string SourceVersionAnnotation = "registryinfra.io/source-version";

    /// <summary><see cref="RenewBefore"/> or its default.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveRenewBefore => RenewBefore ?? RefresherDefaults.RenewBefore;

    /// <summary><see cref="Concurrency"/> or its default.</summary>
    [JsonIgnore]
    public int EffectiveConcurrency => Concurrency ?? RefresherDefaults.Concurrency;

    /// <summary><see cref="Deadline"/> or its default.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveDeadline => Deadline ?? RefresherDefaults.Deadline;

    /// <summary><see cref="ConflictRetries"/> or its default.</summary>
    [JsonIgnore]
    public int EffectiveConflictRetries => ConflictRetries ?? RefresherDefaults.ConflictRetries;

    /// <summary><see cref="TransientRetries"/> or its default.</summary>
    [JsonIgnore]
    public int EffectiveTransientRetries => TransientRetries ?? RefresherDefaults.TransientRetries;

    /// <summary><see cref="RetryBaseDelay"/> or its default.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveRetryBaseDelay => RetryBaseDelay ?? RefresherDefaults.RetryBaseDelay;

    /// <summary><see cref="RequestTimeout"/> or its default.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveRequestTimeout => RequestTimeout ?? RefresherDefaults.RequestTimeout;
}

/// <summary>The values the refresher uses for settings a configuration leaves out.</summary>
public static class RefresherDefaults
{
    /// <summary>Default of <see cref="RefresherConfiguration.RenewBefore"/>: 7 h, longer than the default 6 h schedule.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromHours(7);

    /// <summary>
    /// Default of <see cref="RefresherConfiguration.Concurrency"/>: 32, measured (README "Refresher" benchmark, 1,000
    /// namespaces at 5 ms per request over TLS): first run 1.07 s and unchanged run 0.49 s at 32 against 3.37 s and 1.17 s
    /// at 8, on one HTTP/2 connection to the API server.
    /// </summary>
    public const int Concurrency = 32;

    /// <summary>Default of <see cref="RefresherConfiguration.Deadline"/>.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    /// <summary>Default of <see cref="RefresherConfiguration.ConflictRetries"/>.</summary>
    public const int ConflictRetries = 5;

    /// <summary>Default of <see cref="RefresherConfiguration.TransientRetries"/>.</summary>
    public const int TransientRetries = 5;

    /// <summary>Default of <see cref="RefresherConfiguration.RetryBaseDelay"/>.</summary>
    public static readonly TimeSpan RetryBaseDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>Default of <see cref="RefresherConfiguration.RequestTimeout"/>.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    // The three leader-election defaults are the values the LeaderElectionConfig field comments of client-go give as
    // "Core clients default this value to ..." (kubernetes/kubernetes 99600aa13cc2dbd6d63da219785a67b43e97d8e9,
    // staging/src/k8s.io/client-go/tools/leaderelection/leaderelection.go, LeaderElectionConfig); its NewLeaderElector refuses leaseDuration <= renewDeadline and
    // renewDeadline <= JitterFactor (1.2) * retryPeriod, which the validator checks as well.

    /// <summary>Default of <see cref="WatchConfiguration.LeaseDuration"/>: 15 s (client-go leaderelection, "Core clients default this value to 15 seconds").</summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);

    /// <summary>Default of <see cref="WatchConfiguration.RenewDeadline"/>: 10 s (client-go leaderelection, "Core clients default this value to 10 seconds").</summary>
    public static readonly TimeSpan RenewDeadline = TimeSpan.FromSeconds(10);

    /// <summary>Default of <see cref="WatchConfiguration.RetryPeriod"/>: 2 s (client-go leaderelection, "Core clients default this value to 2 seconds").</summary>
    public static readonly TimeSpan RetryPeriod = TimeSpan.FromSeconds(2);

    /// <summary>Default of <see cref="WatchConfiguration.Resync"/>: a full run every 10 minutes, a safety net under the watches.</summary>
    public static readonly TimeSpan Resync = TimeSpan.FromMinutes(10);

    /// <summary>client-go's <c>JitterFactor</c> (1.2): the renew deadline must exceed the retry period times this.</summary>
    public const double LeaderElectionJitterFactor = 1.2;
}

/// <summary>The <c>watch</c> command's settings: the Lease it elects a leader on, the election's timings, the full resync.</summary>
public sealed record WatchConfiguration
{
    /// <summary>The namespace of the Lease (the refresher's own).</summary>
    public string LeaseNamespace { get; set; } = "";

    /// <summary>The Lease's name (coordination.k8s.io/v1); the refresher creates it.</summary>
    public string LeaseName { get; set; } = "";

    /// <summary>
    /// A ConfigMap in <see cref="LeaseNamespace"/> that owns the Lease: the refresher creates the Lease with an ownerReference
    /// to it (and adds one to a Lease that has none), so garbage collection deletes the Lease with that ConfigMap, also when
    /// the namespace outlives the refresher. The components name their configuration ConfigMap. Without it the Lease stays
    /// until its namespace goes.
    /// </summary>
    public string? LeaseOwner { get; set; }

    /// <summary>How long a standby waits after the last renewal before taking the lease over; default 15 s.</summary>
    public TimeSpan? LeaseDuration { get; set; }

    /// <summary>How long the leader keeps trying to renew before it gives leadership up; default 10 s.</summary>
    public TimeSpan? RenewDeadline { get; set; }

    /// <summary>The wait between two tries to acquire or renew; default 2 s.</summary>
    public TimeSpan? RetryPeriod { get; set; }

    /// <summary>How often the leader makes a full run (as the CronJob would) besides reacting to events; default 10 min.</summary>
    public TimeSpan? Resync { get; set; }

    /// <summary><see cref="LeaseDuration"/> or its default.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveLeaseDuration => LeaseDuration ?? RefresherDefaults.LeaseDuration;

    /// <summary><see cref="RenewDeadline"/> or its default.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveRenewDeadline => RenewDeadline ?? RefresherDefaults.RenewDeadline;

    /// <summary><see cref="RetryPeriod"/> or its default.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveRetryPeriod => RetryPeriod ?? RefresherDefaults.RetryPeriod;

    /// <summary><see cref="Resync"/> or its default.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveResync => Resync ?? RefresherDefaults.Resync;
}

/// <summary>The Secret a copy target's data comes from.</summary>
public sealed record SecretSourceConfiguration
{
    /// <summary>Its namespace (the refresher's own).</summary>
    public string Namespace { get; set; } = "";

    /// <summary>Its name; a <c>kubernetes.io/dockerconfigjson</c> Secret that Pulumi owns.</summary>
    public string Name { get; set; } = "";
}

/// <summary>Where the refresher's metrics go, besides in-process <see cref="System.Diagnostics.Metrics"/> listeners.</summary>
public sealed record MetricsConfiguration
{
    /// <summary>An OTLP base URL, as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (which it overrides); unset with the variable unset: no export.</summary>
    public string? OtlpEndpoint { get; set; }
}

/// <summary>The ConfigMap in which the refresher records the service-account names it added.</summary>
public sealed record LedgerConfiguration
{
    /// <summary>The namespace of the ledger (the refresher's own).</summary>
    public string Namespace { get; set; } = "";

    /// <summary>The ledger ConfigMap's name; the refresher creates it.</summary>
    public string Name { get; set; } = "";

    /// <summary>A ConfigMap in the same namespace that owns the ledger (the refresher's configuration), so that deleting it deletes the ledger.</summary>
    public string? Owner { get; set; }
}

/// <summary>How much the refresher logs.</summary>
public sealed record LoggingConfiguration
{
    /// <summary>The levels.</summary>
    public LogLevelConfiguration? LogLevel { get; set; }
}

/// <summary>The minimum level of log lines.</summary>
public sealed record LogLevelConfiguration
{
    /// <summary>The level names the refresher takes, least severe first.</summary>
    public static readonly IReadOnlyList<string> Levels = ["Trace", "Debug", "Information", "Warning", "Error", "Critical", "None"];

    /// <summary>One of <see cref="Levels"/>; default <c>Information</c> (<c>Debug</c> also logs each unchanged secret).</summary>
    public string? Default { get; set; }
}

/// <summary>One registry and the source of its token.</summary>
public sealed record RegistryConfiguration
{
    /// <summary>A name that targets refer to; defaults to <see cref="Server"/>.</summary>
    public string? Name { get; set; }

    /// <summary>The registry host as it goes into <c>.dockerconfigjson</c>, such as <c>123456789012.dkr.ecr.eu-west-1.amazonaws.com</c>.</summary>
    public string Server { get; set; } = "";

    /// <summary>Where the token comes from.</summary>
    public TokenSourceConfiguration Source { get; set; } = new();

    /// <summary>The name targets use: <see cref="Name"/>, else <see cref="Server"/>.</summary>
    [JsonIgnore]
    public string Key => string.IsNullOrWhiteSpace(Name) ? Server : Name;
}

/// <summary>How one registry's credential is obtained; <see cref="Type"/> says which of the other members apply.</summary>
public sealed record TokenSourceConfiguration
{
    /// <summary>The source types, as <see cref="Type"/> takes them.</summary>
    public static readonly IReadOnlyList<string> Types = [Ecr, Gcp, Acr, Static, Exec];

    /// <summary>ECR <c>GetAuthorizationToken</c> with the pod's AWS identity.</summary>
    public const string Ecr = "ecr";

    /// <summary>A Google access token (Workload Identity or a key file).</summary>
    public const string Gcp = "gcp";

    /// <summary>An ACR refresh token from the pod's Entra workload identity.</summary>
    public const string Acr = "acr";

    /// <summary>A user name with a password from a mounted file or an environment variable.</summary>
    public const string Static = "static";

    /// <summary>A command that prints the credential.</summary>
    public const string Exec = "exec";

    /// <summary>One of <see cref="Types"/>.</summary>
    public string Type { get; set; } = "";

    /// <summary>ecr: the AWS region; default: the one in the server's host name.</summary>
    public string? Region { get; set; }

    /// <summary>ecr: the 12-digit registry account; default: the one in the server's host name.</summary>
    public string? AccountId { get; set; }

    /// <summary>ecr: an endpoint override (VPC endpoint, tests).</summary>
    public string? Endpoint { get; set; }

    /// <summary>gcp: a service-account key file; default: Application Default Credentials (GKE Workload Identity).</summary>
    public string? ServiceAccountKeyFile { get; set; }

    /// <summary>acr: the Entra tenant named in the token exchange; the identity itself comes from the environment.</summary>
    public string? TenantId { get; set; }

    /// <summary>exec: the program that prints <c>user:password</c> or a JSON credential.</summary>
    public string? Command { get; set; }

    /// <summary>exec: its arguments.</summary>
    public IReadOnlyList<string> Args { get; set; } = [];

    /// <summary>static: the user name.</summary>
    public string? Username { get; set; }

    /// <summary>static: a file holding the password (a mounted Secret).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>static: an environment variable holding the password.</summary>
    public string? PasswordEnv { get; set; }

    /// <summary>static/exec: how long the credential is valid when the source does not say.</summary>
    public TimeSpan? Lifetime { get; set; }

    /// <summary>
    /// This source as Core's credential spec of its kind, for the registry <paramref name="server"/>: the same
    /// specification RegistryProfile and getImage build, validated and created by the spec itself. Null for
    /// <see cref="Static"/> (a password read from a mounted file on every run, which only the refresher has) and for
    /// unknown types. <paramref name="serviceAccountKey"/> is the content of <see cref="ServiceAccountKeyFile"/>.
    /// </summary>
    public ICredentialSpec? ToSpec(string server, string? serviceAccountKey = null)
    {
        var details = RegistryHost.TryParse(server, out var host) ? host : null;
        return Type switch
        {
            // No keys: the SDK's default chain finds the pod's identity (IRSA web identity or EKS Pod Identity).
            Ecr => new EcrCredentialSpec
            {
                Region = Region ?? details?.Details.Region,
                AccountId = AccountId ?? details?.Details.AccountId,
                Public = details?.Kind == RegistryKind.EcrPublic,
                Fips = details?.Details.IsFips ?? false,
                Endpoint = Endpoint,
            },
            // No key file: Application Default Credentials, on GKE with Workload Identity the metadata server's token.
            Gcp => new GcpAccessTokenSpec { ServiceAccountKey = serviceAccountKey },
            // No client id: DefaultAzureCredential, on AKS the workload identity that the webhook projects into the pod.
            Acr => new AcrCredentialSpec { Registry = details?.Name ?? server, TenantId = TenantId },
            Exec => new ExecCredentialSpec { Command = [Command ?? "", .. Args], LifetimeSeconds = Lifetime?.TotalSeconds },
            _ => null,
        };
    }

    /// <summary>
    /// The credential source this configuration describes for <paramref name="server"/>, checked by the spec's rules
    /// (the ones RegistryProfile applies); a failure names the configured field under <paramref name="at"/>.
    /// </summary>
    public ICredentialSource CreateSource(string server, string at, CredentialSourceContext context, string? serviceAccountKey = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var spec = ToSpec(server, serviceAccountKey) ?? throw RegistryException.ForField($"{at}.type", $"'{Type}' has no token source");
        try
        {
            return CredentialSourceFactory.Create(spec, context, "");
        }
        catch (RegistryException e) when (e.Field is { } field)
        {
            var configured = ConfiguredField(field);
            throw RegistryException.ForField(configured.Length == 0 ? at : $"{at}.{configured}", e.Reason!, e);
        }
    }

    /// <summary>The configuration's name for a field of the spec <see cref="ToSpec"/> builds (the key is read from a
    /// file, exec's argv is command + args, its lifetime is a duration).</summary>
    private static string ConfiguredField(string specField) => specField switch
    {
        "serviceAccountKey" => "serviceAccountKeyFile",
        "command[0]" => "command",
        "lifetimeSeconds" => "lifetime",
        _ => specField,
    };
}

/// <summary>One pull secret name kept fresh in a set of namespaces.</summary>
public sealed record TargetConfiguration
{
    /// <summary>The Secret's name.</summary>
    public string SecretName { get; set; } = "";

    /// <summary>The registries (by <see cref="RegistryConfiguration.Key"/>) merged into this secret; empty means all.</summary>
    public IReadOnlyList<string> Registries { get; set; } = [];

    /// <summary>The namespaces, listed (exclusive with <see cref="NamespaceSelector"/> and <see cref="AllNamespaces"/>).</summary>
    public IReadOnlyList<string> Namespaces { get; set; } = [];

    /// <summary>
    /// A label selector over namespaces in the string form the API's <c>labelSelector</c> parameter takes
    /// (<see cref="Kubernetes.Selector.TryParse"/>: <c>team=payments,env!=dev</c>, <c>tier in (a,b)</c>, <c>!legacy</c>).
    /// </summary>
    public string? NamespaceSelector { get; set; }

    /// <summary>Every namespace in the cluster.</summary>
    public bool AllNamespaces { get; set; }

    /// <summary>
    /// Namespaces left out of <see cref="NamespaceSelector"/> or <see cref="AllNamespaces"/>: names or globs with
    /// <c>*</c> and <c>?</c> (<see cref="Kubernetes.NamespacePatterns"/>). An excluded namespace is treated exactly
    /// like one not selected (our Secret there is pruned).
    /// </summary>
    public IReadOnlyList<string> ExcludeNamespaces { get; set; } = [];

    /// <summary>Service accounts in each namespace whose <c>imagePullSecrets</c> must name the secret.</summary>
    public IReadOnlyList<string> ServiceAccounts { get; set; } = [];

    /// <summary>Every service account of each selected namespace (not with <see cref="ServiceAccounts"/> or <see cref="ServiceAccountSelector"/>).</summary>
    public bool AllServiceAccounts { get; set; }

    /// <summary>A label selector over the service accounts of each selected namespace, in the string form of <see cref="NamespaceSelector"/>.</summary>
    public string? ServiceAccountSelector { get; set; }

    /// <summary>
    /// A copy target: the refresher writes the data of this <c>kubernetes.io/dockerconfigjson</c> Secret into
    /// <see cref="SecretName"/> in every selected namespace, with annotation
    /// <see cref="RefresherConfiguration.SourceVersionAnnotation"/> so that an unchanged source costs no write.
    /// Not with <see cref="Registries"/> or <see cref="AttachOnly"/>.
    /// </summary>
    public SecretSourceConfiguration? Source { get; set; }

    /// <summary>
    /// A ClusterRole (the refresher's own, created by Pulumi) that owns every Secret the refresher creates for this
    /// target, through an ownerReference: deleting it lets garbage collection delete every copy, in namespaces that
    /// appeared after the deploy too. Not with <see cref="Owner"/> or <see cref="AttachOnly"/>.
    /// </summary>
    public string? ClusterOwner { get; set; }

    /// <summary>Whether the namespaces are chosen by the cluster (selector or all) rather than listed.</summary>
    [JsonIgnore]
    public bool SelectsNamespaces => AllNamespaces || !string.IsNullOrWhiteSpace(NamespaceSelector);

    /// <summary>Whether the service accounts are chosen in each namespace (all or by selector) rather than named.</summary>
    [JsonIgnore]
    public bool SelectsServiceAccounts => AllServiceAccounts || !string.IsNullOrWhiteSpace(ServiceAccountSelector);

    /// <summary>Whether the target makes service accounts name its secret at all.</summary>
    [JsonIgnore]
    public bool AttachesServiceAccounts => ServiceAccounts.Count > 0 || SelectsServiceAccounts;

    /// <summary>
    /// Someone else (Pulumi) owns the secret and its data: the refresher only makes <see cref="ServiceAccounts"/>
    /// name it, in the namespaces where it exists, and never reads its data, creates or writes it. Such a
    /// target names no <see cref="Registries"/>.
    /// </summary>
    public bool AttachOnly { get; set; }

    /// <summary>
    /// The ConfigMap, in each namespace, that owns the secret (the PullSecret component's per-namespace owner
    /// object). When set, the refresher creates the secret with an <c>ownerReference</c> to it, writes only a
    /// secret that carries that reference, and leaves a namespace alone where it does not exist: deleting the
    /// owner deletes the secret by Kubernetes garbage collection. Not with <see cref="AttachOnly"/>.
    /// </summary>
    public string? Owner { get; set; }
}
