using RegistryInfra.Core.References;

namespace RegistryInfra.Refresher.Configuration;

/// <summary>The refresher's configuration file (the ConfigMap), bound from YAML or JSON plus <c>REFRESHER_</c> environment overrides.</summary>
public sealed class RefresherOptions
{
    public const string EnvironmentPrefix = "REFRESHER_";

    /// <summary>The registries whose tokens this refresher renews.</summary>
    public List<RegistryOptions> Registries { get; init; } = [];

    /// <summary>The pull secrets to keep fresh, and where.</summary>
    public List<TargetOptions> Targets { get; init; } = [];

    /// <summary>A secret whose <c>registryinfra.io/expires-at</c> is later than now plus this is left alone. Should exceed the CronJob's interval.</summary>
    public TimeSpan RenewBefore { get; set; } = TimeSpan.FromHours(7);

    /// <summary>How many namespaces are worked on at once.</summary>
    public int Concurrency { get; set; } = 8;

    /// <summary>The whole run ends within this time, whatever the APIs do.</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many times one secret or service account write is retried after a 409 Conflict.</summary>
    public int ConflictRetries { get; set; } = 5;

    /// <summary>How many times a transient failure (429, 5xx, timeout, connection) is retried.</summary>
    public int TransientRetries { get; set; } = 5;

    /// <summary>The first backoff delay after a transient failure; doubles each time, with full jitter, capped at 10 s.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The timeout of one Kubernetes API request.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Optional metrics export.</summary>
    public MetricsOptions Metrics { get; set; } = new();
}

/// <summary>Where the refresher's metrics go, besides <see cref="System.Diagnostics.Metrics"/> listeners in the process.</summary>
public sealed class MetricsOptions
{
    /// <summary>An OTLP base URL, as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (which it overrides); unset with the variable unset: no export.</summary>
    public string? OtlpEndpoint { get; set; }
}

/// <summary>One registry and the credential source that produces its token.</summary>
public sealed class RegistryOptions
{
    /// <summary>A name that targets refer to; defaults to the server.</summary>
    public string? Name { get; set; }

    /// <summary>The registry host as it goes into <c>.dockerconfigjson</c>, such as <c>123456789012.dkr.ecr.eu-west-1.amazonaws.com</c>.</summary>
    public string Server { get; set; } = "";

    /// <summary>Where the token comes from.</summary>
    public CredentialSourceOptions Source { get; set; } = new();

    internal string Key => string.IsNullOrWhiteSpace(Name) ? Server : Name;

    /// <summary>The normalised host; valid after validation.</summary>
    internal RegistryHost Host => RegistryHost.Parse(Server);
}

/// <summary>How one registry's credential is obtained.</summary>
public sealed class CredentialSourceOptions
{
    /// <summary><c>ecr</c>, <c>gcp</c>, <c>acr</c>, <c>static</c> or <c>exec</c>.</summary>
    public string Type { get; set; } = "";

    /// <summary>ECR: the AWS region; default: the one in the server's host name.</summary>
    public string? Region { get; set; }

    /// <summary>ECR: the 12-digit registry account; default: the one in the server's host name.</summary>
    public string? AccountId { get; set; }

    /// <summary>ECR: an endpoint override (VPC endpoint, tests).</summary>
    public string? Endpoint { get; set; }



    /// <summary>gcp: a service-account key file; default: Application Default Credentials (GKE Workload Identity).</summary>
    public string? ServiceAccountKeyFile { get; set; }

    /// <summary>acr: the Entra tenant to name in the token exchange; the identity itself comes from the
    /// environment (AKS workload identity, managed identity).</summary>
    public string? TenantId { get; set; }

    /// <summary>exec: the program that prints <c>user:password</c> or a JSON credential.</summary>
    public string? Command { get; set; }

    /// <summary>exec: its arguments.</summary>
    public List<string> Args { get; init; } = [];

    /// <summary>static: the user name.</summary>
    public string? Username { get; set; }

    /// <summary>static: a file holding the password (a mounted Secret).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>static: an environment variable holding the password.</summary>
    public string? PasswordEnv { get; set; }



    /// <summary>static/exec: how long the credential is valid when the source does not say.</summary>
    public TimeSpan? Lifetime { get; set; }
}

/// <summary>One pull secret name kept fresh in a set of namespaces.</summary>
public sealed class TargetOptions
{
    /// <summary>The Secret's name.</summary>
    public string SecretName { get; set; } = "";

    /// <summary>The registries (by name) merged into this secret; empty means all.</summary>
    public List<string> Registries { get; init; } = [];

    /// <summary>The namespaces, listed (exclusive with <see cref="NamespaceSelector"/> and <see cref="AllNamespaces"/>).</summary>
    public List<string> Namespaces { get; init; } = [];

    /// <summary>A label selector over namespaces, such as <c>team=payments,env!=dev</c>.</summary>
    public string? NamespaceSelector { get; set; }

    /// <summary>Every namespace in the cluster.</summary>
    public bool AllNamespaces { get; set; }

    /// <summary>Service accounts in each namespace whose <c>imagePullSecrets</c> must name the secret.</summary>
    public List<string> ServiceAccounts { get; init; } = [];
}
