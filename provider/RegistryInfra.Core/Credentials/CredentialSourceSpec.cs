using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.Runtime;

namespace RegistryInfra.Core.Credentials;

/// <summary>
/// How to obtain a registry credential, as configuration: exactly one member is set. Serialises with
/// System.Text.Json to camelCase (<see cref="JsonOptions"/>); the provider's RegistryProfile and the
/// refresher's configuration both use this shape, and <see cref="CredentialSourceFactory"/> turns it into
/// an <see cref="ICredentialSource"/>. <see cref="ToString"/> of every spec redacts secrets.
/// </summary>
/// <example><code>{"ecr": {"region": "eu-west-1", "accountId": "123456789012"}}</code></example>
public sealed record CredentialSourceSpec
{
    /// <summary>A fixed user name and password or token.</summary>
    [JsonPropertyName("static")]
    public StaticCredentialSpec? Static { get; init; }

    /// <summary>A Google service-account key used as the password (<c>_json_key</c>).</summary>
    [JsonPropertyName("gcpServiceAccountKey")]
    public GcpServiceAccountKeySpec? GcpServiceAccountKey { get; init; }

    /// <summary>An ECR token from <c>GetAuthorizationToken</c>.</summary>
    [JsonPropertyName("ecr")]
    public EcrCredentialSpec? Ecr { get; init; }

    /// <summary>A Google OAuth2 access token (<c>oauth2accesstoken</c>).</summary>
    [JsonPropertyName("gcpAccessToken")]
    public GcpAccessTokenSpec? GcpAccessToken { get; init; }

    /// <summary>An ACR refresh token from a Microsoft Entra identity.</summary>
    [JsonPropertyName("acr")]
    public AcrCredentialSpec? Acr { get; init; }

    /// <summary>A docker credential helper.</summary>
    [JsonPropertyName("credentialHelper")]
    public CredentialHelperSpec? CredentialHelper { get; init; }

    /// <summary>A command that prints the credential.</summary>
    [JsonPropertyName("exec")]
    public ExecCredentialSpec? Exec { get; init; }

    /// <summary>The options to read and write specs with: camelCase, nulls omitted, no unknown members.</summary>
    public static JsonSerializerOptions JsonOptions => CredentialSpecJsonContext.Default.Options;

    /// <summary>The name of the member that is set, or null when none or several are.</summary>
    [JsonIgnore]
    public string? Kind => SetMembers() is [var only] ? only : null;

    internal IReadOnlyList<string> SetMembers()
    {
        var set = new List<string>(1);
        if (Static is not null) set.Add("static");
        if (GcpServiceAccountKey is not null) set.Add("gcpServiceAccountKey");
        if (Ecr is not null) set.Add("ecr");
        if (GcpAccessToken is not null) set.Add("gcpAccessToken");
        if (Acr is not null) set.Add("acr");
        if (CredentialHelper is not null) set.Add("credentialHelper");
        if (Exec is not null) set.Add("exec");
        return set;
    }

    /// <summary>Reads a spec from JSON.</summary>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/> for malformed JSON
    /// or unknown members (the message gives the JSON path, not the values).</exception>
    public static CredentialSourceSpec FromJson(string json, string field = "credentials")
    {
        try
        {
            return JsonSerializer.Deserialize(json, CredentialSpecJsonContext.Default.CredentialSourceSpec)
                ?? throw new RegistryException(RegistryErrorKind.InvalidInput, $"{field}: must be an object");
        }
        catch (JsonException e)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"{field}: invalid at '{e.Path ?? "$"}' (line {e.LineNumber?.ToString(CultureInfo.InvariantCulture) ?? "?"})");
        }
    }

    /// <summary>Writes the spec as JSON (secrets included: treat the result as secret).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, CredentialSpecJsonContext.Default.CredentialSourceSpec);

    /// <summary>The kind and its non-secret settings.</summary>
    public override string ToString()
    {
        object?[] members = [Static, GcpServiceAccountKey, Ecr, GcpAccessToken, Acr, CredentialHelper, Exec];
        return $"CredentialSourceSpec {{ {string.Join(", ", members.Where(m => m is not null))} }}";
    }
}

/// <summary>Static credentials: <see cref="Username"/> with <see cref="Password"/>, or <see cref="Token"/>
/// (with <see cref="Username"/> if the registry wants one; see <see cref="StaticCredentialSource"/>).</summary>
public sealed record StaticCredentialSpec
{
    /// <summary>The user name (required with a password; optional with a token).</summary>
    public string? Username { get; init; }

    /// <summary>The password. Secret.</summary>
    public string? Password { get; init; }

    /// <summary>A token used as the password. Secret.</summary>
    public string? Token { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"static {{ Username = {Username}, Password = {(Password is null ? "null" : "***")}, Token = {(Token is null ? "null" : "***")} }}";
}

/// <summary>A Google service-account key as the registry password.</summary>
public sealed record GcpServiceAccountKeySpec
{
    /// <summary>The JSON key file's content. Secret.</summary>
    public string? Key { get; init; }

    /// <summary>Send it as <c>_json_key_base64</c> instead of <c>_json_key</c>.</summary>
    public bool Base64 { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"gcpServiceAccountKey {{ Key = ***, Base64 = {Base64} }}";
}

/// <summary>ECR: region (required), account, endpoint override and explicit AWS keys (default: the SDK chain).</summary>
public sealed record EcrCredentialSpec
{
    /// <summary>The registry's region, such as <c>eu-west-1</c>. Ignored for <see cref="Public"/> (always us-east-1).</summary>
    public string? Region { get; init; }

    /// <summary>The 12-digit registry account, for descriptions.</summary>
    public string? AccountId { get; init; }

    /// <summary>ECR Public (<c>public.ecr.aws</c>) instead of private ECR.</summary>
    public bool Public { get; init; }

    /// <summary>Use the FIPS endpoint (<c>ecr-fips</c>).</summary>
    public bool Fips { get; init; }

    /// <summary>An endpoint override (VPC endpoint).</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>An explicit access key id (with <see cref="SecretAccessKey"/>); default: the SDK's chain.</summary>
    public string? AccessKeyId { get; init; }

    /// <summary>The secret access key. Secret.</summary>
    public string? SecretAccessKey { get; init; }

    /// <summary>A session token for temporary keys. Secret.</summary>
    public string? SessionToken { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"ecr {{ Region = {Region}, AccountId = {AccountId}, Public = {Public}, Fips = {Fips}, Endpoint = {Endpoint}, AccessKeyId = {AccessKeyId}, SecretAccessKey = {(SecretAccessKey is null ? "null" : "***")}, SessionToken = {(SessionToken is null ? "null" : "***")} }}";
}

/// <summary>A Google access token: from <see cref="ServiceAccountKey"/>, or Application Default Credentials when null.</summary>
public sealed record GcpAccessTokenSpec
{
    /// <summary>A service-account key (JSON). Secret. Null for Application Default Credentials (Workload Identity).</summary>
    public string? ServiceAccountKey { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"gcpAccessToken {{ ServiceAccountKey = {(ServiceAccountKey is null ? "null" : "***")} }}";
}

/// <summary>ACR: the login server and the Entra identity (default: DefaultAzureCredential, which covers AKS workload identity).</summary>
public sealed record AcrCredentialSpec
{
    /// <summary>The login server, such as <c>myregistry.azurecr.io</c>.</summary>
    public string? Registry { get; init; }

    /// <summary>The Entra tenant.</summary>
    public string? TenantId { get; init; }

    /// <summary>A user-assigned managed identity or workload identity client id.</summary>
    public string? ClientId { get; init; }

    /// <summary>The Entra scope (default <c>https://containerregistry.azure.net/.default</c>).</summary>
    public string? Scope { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"acr {{ Registry = {Registry}, TenantId = {TenantId}, ClientId = {ClientId}, Scope = {Scope} }}";
}

/// <summary>A docker credential helper (<c>docker-credential-NAME</c>).</summary>
public sealed record CredentialHelperSpec
{
    /// <summary>The helper's name (<c>ecr-login</c>, <c>gcloud</c>, <c>acr-env</c>, ...).</summary>
    public string? Helper { get; init; }

    /// <summary>The server URL given to the helper (default: the registry's server).</summary>
    public string? ServerUrl { get; init; }

    /// <summary>Seconds the helper may run (default 30).</summary>
    public double? TimeoutSeconds { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"credentialHelper {{ Helper = {Helper}, ServerUrl = {ServerUrl}, TimeoutSeconds = {TimeoutSeconds} }}";
}

/// <summary>A command (argv, no shell) printing <c>user:password</c> or <c>{"username","password","expiresAt"}</c>.</summary>
public sealed record ExecCredentialSpec
{
    /// <summary>The program and its arguments.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>Seconds a credential lasts when the command prints no expiry.</summary>
    public double? LifetimeSeconds { get; init; }

    /// <summary>Seconds the command may run (default 30).</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Extra environment variables (names and values are shown by ToString; put no secret here).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"exec {{ Command = [{string.Join(", ", Command ?? [])}], LifetimeSeconds = {LifetimeSeconds}, TimeoutSeconds = {TimeoutSeconds} }}";
}

/// <summary>What a <see cref="CredentialSourceFactory"/> needs from its host besides the spec.</summary>
public sealed record CredentialSourceContext
{
    /// <summary>The registry server the credential is for (default <c>ServerUrl</c> of credential helpers).</summary>
    public string? Server { get; init; }

    /// <summary>The HTTP client for token endpoints (default: a shared one).</summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>The clock.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Where the spec sits in the user's configuration, for error messages.</summary>
    public string Field { get; init; } = "credentials";
}

/// <summary>Turns a <see cref="CredentialSourceSpec"/> into an <see cref="ICredentialSource"/>, validating it.</summary>
public static class CredentialSourceFactory
{
    private static readonly string[] Kinds = ["static", "gcpServiceAccountKey", "ecr", "gcpAccessToken", "acr", "credentialHelper", "exec"];

    /// <summary>Validates <paramref name="spec"/> and builds its source. Nothing is called over the network.</summary>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/> naming the field
    /// (such as <c>credentials.ecr.region</c>) and what is wrong, never a secret value.</exception>
    public static ICredentialSource Create(CredentialSourceSpec spec, CredentialSourceContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        context ??= new CredentialSourceContext();
        var field = context.Field;
        var set = spec.SetMembers();
        if (set.Count != 1)
        {
            throw Invalid(field, set.Count == 0
                ? $"exactly one of {string.Join(", ", Kinds.Select(k => $"'{k}'"))} must be set; none is"
                : $"exactly one credential kind must be set; got {string.Join(" and ", set.Select(k => $"'{k}'"))}");
        }
        try
        {
            return set[0] switch
            {
                "static" => Static(spec.Static!, $"{field}.static"),
                "gcpServiceAccountKey" => new GcpServiceAccountKeySource(Required(spec.GcpServiceAccountKey!.Key, $"{field}.gcpServiceAccountKey.key"),
                    spec.GcpServiceAccountKey.Base64, $"{field}.gcpServiceAccountKey.key"),
                "ecr" => Ecr(spec.Ecr!, context, $"{field}.ecr"),
                "gcpAccessToken" => spec.GcpAccessToken!.ServiceAccountKey is { } key
                    ? GcpAccessTokenSource.FromServiceAccountKey(key, field: $"{field}.gcpAccessToken.serviceAccountKey")
                    : new GcpAccessTokenSource(),
                "acr" => Acr(spec.Acr!, context, $"{field}.acr"),
                "credentialHelper" => new DockerCredentialHelperSource(Required(spec.CredentialHelper!.Helper, $"{field}.credentialHelper.helper"),
                    Required(spec.CredentialHelper.ServerUrl ?? context.Server, $"{field}.credentialHelper.serverUrl"),
                    Seconds(spec.CredentialHelper.TimeoutSeconds, $"{field}.credentialHelper.timeoutSeconds")),
                _ => new ExecCredentialSource(
                    spec.Exec!.Command is { Count: > 0 } command ? command : throw Invalid($"{field}.exec.command", "must list the program and its arguments"),
                    Seconds(spec.Exec.LifetimeSeconds, $"{field}.exec.lifetimeSeconds"),
                    Seconds(spec.Exec.TimeoutSeconds, $"{field}.exec.timeoutSeconds"),
                    spec.Exec.Environment, context.Clock),
            };
        }
        catch (RegistryException e) when (e.Kind == RegistryErrorKind.InvalidInput && !e.Message.StartsWith(field, StringComparison.Ordinal))
        {
            // The sources name their own fields ('region'); prefix the path in the user's configuration.
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"{field}.{set[0]}: {e.Message}", e);
        }
    }

    private static StaticCredentialSource Static(StaticCredentialSpec spec, string field)
    {
        if (spec.Password is not null && spec.Token is not null)
        {
            throw Invalid(field, "set either 'password' or 'token', not both");
        }
        if (spec.Token is not null)
        {
            return StaticCredentialSource.ForToken(Required(spec.Token, $"{field}.token"), spec.Username);
        }
        return new StaticCredentialSource(Required(spec.Username, $"{field}.username"), Required(spec.Password, $"{field}.password (or '{field}.token')"));
    }

    private static EcrCredentialSource Ecr(EcrCredentialSpec spec, CredentialSourceContext context, string field)
    {
        AWSCredentials? credentials = null;
        if (spec.AccessKeyId is not null || spec.SecretAccessKey is not null || spec.SessionToken is not null)
        {
            var id = Required(spec.AccessKeyId, $"{field}.accessKeyId");
            var secret = Required(spec.SecretAccessKey, $"{field}.secretAccessKey");
            credentials = spec.SessionToken is { Length: > 0 } token ? new SessionAWSCredentials(id, secret, token) : new BasicAWSCredentials(id, secret);
        }
        if (spec.Public)
        {
            return EcrCredentialSource.ForPublic(credentials, spec.Endpoint, httpClient: context.HttpClient, clock: context.Clock);
        }
        return new EcrCredentialSource(Required(spec.Region, $"{field}.region"), spec.AccountId, credentials, spec.Endpoint, spec.Fips,
            httpClient: context.HttpClient, clock: context.Clock);
    }

    private static AcrCredentialSource Acr(AcrCredentialSpec spec, CredentialSourceContext context, string field)
    {
        var registry = Required(spec.Registry ?? context.Server, $"{field}.registry");
        Azure.Core.TokenCredential? credential = null;
        if (spec.ClientId is not null)
        {
            credential = new Azure.Identity.DefaultAzureCredential(new Azure.Identity.DefaultAzureCredentialOptions
            {
                TenantId = spec.TenantId,
                ManagedIdentityClientId = spec.ClientId,
                WorkloadIdentityClientId = spec.ClientId,
            });
        }
        return new AcrCredentialSource(registry, credential, spec.TenantId, spec.Scope, httpClient: context.HttpClient);
    }

    private static string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw Invalid(field, "is required") : value;

    private static TimeSpan? Seconds(double? seconds, string field) => seconds switch
    {
        null => null,
        > 0 and <= 86400 * 7 => TimeSpan.FromSeconds(seconds.Value),
        _ => throw Invalid(field, "must be a positive number of seconds (at most a week)"),
    };

    private static RegistryException Invalid(string field, string what) => new(RegistryErrorKind.InvalidInput, $"{field}: {what}");
}

/// <summary>Source-generated (trim- and NativeAOT-safe) JSON of <see cref="CredentialSourceSpec"/>.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(CredentialSourceSpec))]
internal sealed partial class CredentialSpecJsonContext : JsonSerializerContext;
