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
    public string? Kind => SetSpecs() is [var only] ? only.Kind : null;

    /// <summary>The members that are set, in <see cref="CredentialKinds.All"/> order.</summary>
    public IReadOnlyList<ICredentialSpec> SetSpecs()
    {
        ICredentialSpec?[] members = [Static, GcpServiceAccountKey, Ecr, GcpAccessToken, Acr, CredentialHelper, Exec];
        return [.. members.OfType<ICredentialSpec>()];
    }

    /// <summary>A spec with <paramref name="spec"/> as its one member.</summary>
    public static CredentialSourceSpec Of(ICredentialSpec spec) => spec switch
    {
        StaticCredentialSpec s => new() { Static = s },
        GcpServiceAccountKeySpec g => new() { GcpServiceAccountKey = g },
        EcrCredentialSpec e => new() { Ecr = e },
        GcpAccessTokenSpec t => new() { GcpAccessToken = t },
        AcrCredentialSpec a => new() { Acr = a },
        CredentialHelperSpec h => new() { CredentialHelper = h },
        ExecCredentialSpec x => new() { Exec = x },
        _ => throw new ArgumentException($"unknown credential spec {spec?.GetType().Name}", nameof(spec)),
    };

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

/// <summary>
/// One kind of credential source as configuration: it names itself, says whether its credential is a
/// short-lived token, and validates and builds its own <see cref="ICredentialSource"/>. Failures are
/// <see cref="RegistryException.ForField"/> errors whose <see cref="RegistryException.Field"/> is relative
/// to the spec (<c>region</c>, <c>command[0]</c>); the caller places them with <see cref="RegistryException.Under"/>.
/// </summary>
public interface ICredentialSpec
{
    /// <summary>The spec's member name in <see cref="CredentialSourceSpec"/> and in the user's configuration.</summary>
    string Kind { get; }

    /// <summary>The facts of this kind.</summary>
    CredentialKind Facts => CredentialKinds.Of(Kind);

    /// <summary>Validates the spec and builds its source. Nothing is called over the network and nothing runs.</summary>
    /// <exception cref="RegistryException">A <see cref="RegistryException.ForField"/> failure, never quoting a secret.</exception>
    ICredentialSource Create(CredentialSourceContext context);
}

/// <summary>What a kind of credential source is, independent of the registry it serves.</summary>
/// <param name="Name">The member name (<c>ecr</c>, <c>static</c>).</param>
/// <param name="TokenBased">True when the credential is obtained by calling or running something at use time and
/// may expire (cloud tokens, helpers, commands); false when it is a fixed value the user gave (a password, a
/// Google JSON key), which Pulumi can own in a pull Secret.</param>
/// <param name="Description">One line for docs and errors.</param>
public sealed record CredentialKind(string Name, bool TokenBased, string Description);

/// <summary>The table of credential-source kinds: the one definition of "token-based" for a credential source.</summary>
public static class CredentialKinds
{
    /// <summary>Every kind, in the order users are offered them.</summary>
    public static readonly IReadOnlyList<CredentialKind> All =
    [
        new("static", false, "a fixed user name and password or token"),
        new("gcpServiceAccountKey", false, "a Google service-account JSON key used as the password (_json_key)"),
        new("ecr", true, "an ECR authorization token from GetAuthorizationToken"),
        new("gcpAccessToken", true, "a Google OAuth2 access token"),
        new("acr", true, "an ACR refresh token from a Microsoft Entra identity"),
        new("credentialHelper", true, "a docker credential helper"),
        new("exec", true, "a command that prints the credential"),
    ];

    /// <summary>The kind named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such kind.</exception>
    public static CredentialKind Of(string name) =>
        All.FirstOrDefault(k => k.Name == name) ?? throw new ArgumentException($"'{name}' is not a credential kind", nameof(name));
}

/// <summary>Checks shared by the specs; each failure names the field relative to its spec.</summary>
internal static class SpecRules
{
    /// <summary>Longest user name accepted: registries use short names (Docker Hub at most 30, ECR 'AWS'); this
    /// bounds what goes into a Basic header and a pull Secret.</summary>
    public const int MaxUsername = 1024;

    public static string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw RegistryException.ForField(field, "is required") : value;

    /// <summary>A user name: no ':' (it joins user and password in Basic auth and in a dockerconfigjson
    /// <c>auth</c>), no control characters (they would split an HTTP header), bounded length.</summary>
    public static string Username(string? value, string field)
    {
        var username = Required(value, field);
        if (username.Length > MaxUsername)
        {
            throw RegistryException.ForField(field, $"must be at most {MaxUsername} characters, got {username.Length.ToString(CultureInfo.InvariantCulture)}");
        }
        if (username.Any(char.IsControl))
        {
            throw RegistryException.ForField(field, "must not contain control characters (newline, NUL, tab)");
        }
        if (username.Contains(':', StringComparison.Ordinal))
        {
            throw RegistryException.ForField(field, "must not contain ':' (the auth entry joins user and password with ':')");
        }
        return username;
    }

    /// <summary>Seconds as a <see cref="TimeSpan"/>: positive, at most a week.</summary>
    public static TimeSpan? Seconds(double? seconds, string field) => seconds switch
    {
        null => null,
        > 0 and <= 86400 * 7 => TimeSpan.FromSeconds(seconds.Value),
        _ => throw RegistryException.ForField(field, "must be a positive number of seconds (at most a week)"),
    };

    /// <summary>A time limit for a process or call: whole seconds from 1 to an hour (as Kubernetes'
    /// <c>timeoutSeconds</c> fields are integers; a fraction of a second cannot start a process reliably).</summary>
    public static TimeSpan? Timeout(double? seconds, string field) => seconds switch
    {
        null => null,
        >= 1 and <= 3600 when Math.Floor(seconds.Value) == seconds.Value => TimeSpan.FromSeconds(seconds.Value),
        _ => throw RegistryException.ForField(field, $"must be a whole number of seconds from 1 to 3600, got {seconds.Value.ToString(CultureInfo.InvariantCulture)}"),
    };

    /// <summary>
    /// An endpoint override: an absolute https URL, or http only to a loopback address (a local proxy or a test
    /// double). A signed token request and the token that answers it never cross a network in plain text.
    /// </summary>
    public static Uri? HttpsEndpoint(string? value, string field)
    {
        if (value is null)
        {
            return null;
        }
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Length == 0
            && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
        {
            return uri;
        }
        throw RegistryException.ForField(field, $"must be an absolute https:// URL without user information (http:// only to a loopback address), got '{Redaction.Excerpt(value, maxLength: 80)}'");
    }

    /// <summary>A Microsoft Entra object id (tenant, client): a GUID.</summary>
    public static string? Guid(string? value, string field, bool orDomain = false)
    {
        if (value is null)
        {
            return null;
        }
        if (System.Guid.TryParseExact(value, "D", out _))
        {
            return value;
        }
        // Entra accepts a tenant's verified domain as well as its id (login.microsoftonline.com/contoso.onmicrosoft.com).
        if (orDomain && value.Length <= 253 && value.Contains('.', StringComparison.Ordinal) && Uri.CheckHostName(value) == UriHostNameType.Dns)
        {
            return value;
        }
        var shown = $"'{Redaction.Excerpt(value, maxLength: 40)}'";
        throw RegistryException.ForField(field, orDomain
            ? $"must be a tenant id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47) or a verified domain such as contoso.onmicrosoft.com, got {shown}"
            : $"must be a client id (a GUID such as 6f3b4c2d-1a2b-4c5d-8e9f-0a1b2c3d4e5f), got {shown}");
    }
}

/// <summary>Static credentials: <see cref="Username"/> with <see cref="Password"/>, or <see cref="Token"/>
/// (with <see cref="Username"/> if the registry wants one; see <see cref="StaticCredentialSource"/>).</summary>
public sealed record StaticCredentialSpec : ICredentialSpec
{
    /// <summary>The user name (required with a password; optional with a token).</summary>
    public string? Username { get; init; }

    /// <summary>The password. Secret.</summary>
    public string? Password { get; init; }

    /// <summary>A token used as the password. Secret.</summary>
    public string? Token { get; init; }

    /// <inheritdoc />
    [JsonIgnore]
    public string Kind => "static";

    /// <inheritdoc />
    public ICredentialSource Create(CredentialSourceContext context)
    {
        if (Password is not null && Token is not null)
        {
            throw RegistryException.ForField("", "set either 'password' or 'token', not both");
        }
        if (Token is not null)
        {
            return StaticCredentialSource.ForToken(SpecRules.Required(Token, "token"), Username is null ? null : SpecRules.Username(Username, "username"));
        }
        var username = SpecRules.Username(Username, "username");
        return new StaticCredentialSource(username, string.IsNullOrEmpty(Password) ? throw RegistryException.ForField("password", "is required with a username (or set 'token')") : Password);
    }

    /// <inheritdoc />
    public override string ToString() => $"static {{ Username = {Username}, Password = {(Password is null ? "null" : "***")}, Token = {(Token is null ? "null" : "***")} }}";
}

/// <summary>A Google service-account key as the registry password.</summary>
public sealed record GcpServiceAccountKeySpec : ICredentialSpec
{
    /// <summary>The JSON key file's content. Secret.</summary>
    public string? Key { get; init; }

    /// <summary>Send it as <c>_json_key_base64</c> instead of <c>_json_key</c>.</summary>
    public bool Base64 { get; init; }

    /// <inheritdoc />
    [JsonIgnore]
    public string Kind => "gcpServiceAccountKey";

    /// <inheritdoc />
    public ICredentialSource Create(CredentialSourceContext context) => new GcpServiceAccountKeySource(SpecRules.Required(Key, "key"), Base64, "key");

    /// <inheritdoc />
    public override string ToString() => $"gcpServiceAccountKey {{ Key = ***, Base64 = {Base64} }}";
}

/// <summary>ECR: region (required), account, endpoint override and explicit AWS keys (default: the SDK chain).</summary>
public sealed record EcrCredentialSpec : ICredentialSpec
{
    /// <summary>The registry's region, such as <c>eu-west-1</c>. Ignored for <see cref="Public"/> (always us-east-1).</summary>
    public string? Region { get; init; }

    /// <summary>The 12-digit registry account, for descriptions.</summary>
    public string? AccountId { get; init; }

    /// <summary>ECR Public (<c>public.ecr.aws</c>) instead of private ECR.</summary>
    public bool Public { get; init; }

    /// <summary>Use the FIPS endpoint (<c>ecr-fips</c>).</summary>
    public bool Fips { get; init; }

    /// <summary>An endpoint override (a VPC endpoint): an absolute https URL (http only to a loopback address).</summary>
    public string? Endpoint { get; init; }

    /// <summary>An explicit access key id (with <see cref="SecretAccessKey"/>); default: the SDK's chain.</summary>
    public string? AccessKeyId { get; init; }

    /// <summary>The secret access key. Secret.</summary>
    public string? SecretAccessKey { get; init; }

    /// <summary>A session token for temporary keys. Secret.</summary>
    public string? SessionToken { get; init; }

    /// <inheritdoc />
    [JsonIgnore]
    public string Kind => "ecr";

    /// <inheritdoc />
    public ICredentialSource Create(CredentialSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        AWSCredentials? credentials = null;
        if (AccessKeyId is not null || SecretAccessKey is not null || SessionToken is not null)
        {
            var id = SpecRules.Required(AccessKeyId, "accessKeyId");
            var secret = SpecRules.Required(SecretAccessKey, "secretAccessKey");
            credentials = SessionToken is { Length: > 0 } token ? new SessionAWSCredentials(id, secret, token) : new BasicAWSCredentials(id, secret);
        }
        var endpoint = SpecRules.HttpsEndpoint(Endpoint, "endpoint");
        if (AccountId is not null && (AccountId.Length != 12 || !AccountId.All(char.IsAsciiDigit)))
        {
            throw RegistryException.ForField("accountId", $"must be 12 digits, got '{Redaction.Excerpt(AccountId, maxLength: 40)}'");
        }
        if (Public)
        {
            return EcrCredentialSource.ForPublic(credentials, endpoint, httpClient: context.HttpClient, clock: context.Clock);
        }
        var region = SpecRules.Required(Region, "region");
        if (region.Length > 32 || !region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') || region.StartsWith('-') || region.EndsWith('-'))
        {
            throw RegistryException.ForField("region", $"must be an AWS region such as 'eu-west-1', got '{Redaction.Excerpt(region, maxLength: 40)}'");
        }
        return new EcrCredentialSource(region, AccountId, credentials, endpoint, Fips, httpClient: context.HttpClient, clock: context.Clock);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"ecr {{ Region = {Region}, AccountId = {AccountId}, Public = {Public}, Fips = {Fips}, Endpoint = {Endpoint}, AccessKeyId = {AccessKeyId}, SecretAccessKey = {(SecretAccessKey is null ? "null" : "***")}, SessionToken = {(SessionToken is null ? "null" : "***")} }}";
}

/// <summary>A Google access token: from <see cref="ServiceAccountKey"/>, or Application Default Credentials when null.</summary>
public sealed record GcpAccessTokenSpec : ICredentialSpec
{
    /// <summary>A service-account key (JSON). Secret. Null for Application Default Credentials (Workload Identity).</summary>
    public string? ServiceAccountKey { get; init; }

    /// <inheritdoc />
    [JsonIgnore]
    public string Kind => "gcpAccessToken";

    /// <inheritdoc />
    public ICredentialSource Create(CredentialSourceContext context) => ServiceAccountKey is { } key
        ? GcpAccessTokenSource.FromServiceAccountKey(key, field: "serviceAccountKey", httpClient: context.HttpClient, clock: context.Clock)
        : new GcpAccessTokenSource(httpClient: context.HttpClient, clock: context.Clock);

    /// <inheritdoc />
    public override string ToString() => $"gcpAccessToken {{ ServiceAccountKey = {(ServiceAccountKey is null ? "null" : "***")} }}";
}

/// <summary>ACR: the login server and the Entra identity (default: DefaultAzureCredential, which covers AKS workload identity).</summary>
public sealed record AcrCredentialSpec : ICredentialSpec
{
    /// <summary>The login server, such as <c>myregistry.azurecr.io</c>.</summary>
    public string? Registry { get; init; }

    /// <summary>The Entra tenant: its id (a GUID) or a verified domain.</summary>
    public string? TenantId { get; init; }

    /// <summary>A user-assigned managed identity or workload identity client id (a GUID).</summary>
    public string? ClientId { get; init; }

    /// <summary>The Entra scope (default <c>https://containerregistry.azure.net/.default</c>).</summary>
    public string? Scope { get; init; }

    /// <inheritdoc />
    [JsonIgnore]
    public string Kind => "acr";

    /// <inheritdoc />
    public ICredentialSource Create(CredentialSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var registry = SpecRules.Required(Registry ?? context.Server, "registry");
        var tenantId = SpecRules.Guid(TenantId, "tenantId", orDomain: true);
        var clientId = SpecRules.Guid(ClientId, "clientId");
        if (Scope is not null && !(Uri.TryCreate(Scope, UriKind.Absolute, out var scope) && (scope.Scheme == Uri.UriSchemeHttps || scope.Scheme == "api")))
        {
            throw RegistryException.ForField("scope", "must be an Entra scope URL such as 'https://containerregistry.azure.net/.default'");
        }
        Azure.Core.TokenCredential? credential = null;
        if (clientId is not null)
        {
            credential = new Azure.Identity.DefaultAzureCredential(new Azure.Identity.DefaultAzureCredentialOptions
            {
                TenantId = tenantId,
                ManagedIdentityClientId = clientId,
                WorkloadIdentityClientId = clientId,
            });
        }
        return new AcrCredentialSource(registry, credential, tenantId, Scope, httpClient: context.HttpClient);
    }

    /// <inheritdoc />
    public override string ToString() => $"acr {{ Registry = {Registry}, TenantId = {TenantId}, ClientId = {ClientId}, Scope = {Scope} }}";
}

/// <summary>A docker credential helper (<c>docker-credential-NAME</c>).</summary>
public sealed record CredentialHelperSpec : ICredentialSpec
{
    /// <summary>The helper's name (<c>ecr-login</c>, <c>gcloud</c>, <c>acr-env</c>, ...).</summary>
    public string? Helper { get; init; }

    /// <summary>The server URL given to the helper (default: the registry's server).</summary>
    public string? ServerUrl { get; init; }

    /// <summary>Seconds the helper may run (default 30).</summary>
    public double? TimeoutSeconds { get; init; }

    /// <inheritdoc />
    [JsonIgnore]
    public string Kind => "credentialHelper";

    /// <inheritdoc />
    public ICredentialSource Create(CredentialSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var helper = SpecRules.Required(Helper, "helper");
        if (helper.Length > 255 || helper.Any(char.IsControl) || (!Path.IsPathRooted(helper) && helper.Contains('/', StringComparison.Ordinal)))
        {
            throw RegistryException.ForField("helper", "must be a helper name such as 'ecr-login' or an absolute path, of at most 255 characters without control characters");
        }
        return new DockerCredentialHelperSource(helper, SpecRules.Required(ServerUrl ?? context.Server, "serverUrl"), SpecRules.Timeout(TimeoutSeconds, "timeoutSeconds"));
    }

    /// <inheritdoc />
    public override string ToString() => $"credentialHelper {{ Helper = {Helper}, ServerUrl = {ServerUrl}, TimeoutSeconds = {TimeoutSeconds} }}";
}

/// <summary>A command (argv, no shell) printing <c>user:password</c> or <c>{"username","password","expiresAt"}</c>.</summary>
public sealed record ExecCredentialSpec : ICredentialSpec
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
    [JsonIgnore]
    public string Kind => "exec";

    /// <inheritdoc />
    public ICredentialSource Create(CredentialSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Command is not { Count: > 0 } command)
        {
            throw RegistryException.ForField("command", "must list the program and its arguments");
        }
        SpecRules.Required(command[0], "command[0]");
        foreach (var (name, _) in Environment ?? new Dictionary<string, string>())
        {
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal) || name.Any(char.IsControl))
            {
                throw RegistryException.ForField("environment", "variable names must be non-empty, without '=' or control characters");
            }
        }
        return new ExecCredentialSource(command, SpecRules.Seconds(LifetimeSeconds, "lifetimeSeconds"), SpecRules.Timeout(TimeoutSeconds, "timeoutSeconds"), Environment, context.Clock);
    }

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
    /// <summary>Validates <paramref name="spec"/> and builds its source. Nothing is called over the network.</summary>
    /// <exception cref="RegistryException">A <see cref="RegistryException.ForField"/> failure whose field is placed under
    /// <see cref="CredentialSourceContext.Field"/> (such as <c>credentials.ecr.region</c>), never a secret value.</exception>
    public static ICredentialSource Create(CredentialSourceSpec spec, CredentialSourceContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        context ??= new CredentialSourceContext();
        var set = spec.SetSpecs();
        if (set.Count != 1)
        {
            throw RegistryException.ForField(context.Field, set.Count == 0
                ? $"exactly one of {string.Join(", ", CredentialKinds.All.Select(k => $"'{k.Name}'"))} must be set; none is"
                : $"exactly one credential kind must be set; got {string.Join(" and ", set.Select(k => $"'{k.Kind}'"))}");
        }
        return Create(set[0], context, context.Field.Length == 0 ? set[0].Kind : $"{context.Field}.{set[0].Kind}");
    }

    /// <summary>Validates one kind's spec and builds its source; failures are placed under <paramref name="field"/>
    /// (empty: left relative to the spec).</summary>
    public static ICredentialSource Create(ICredentialSpec spec, CredentialSourceContext context, string field)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(field);
        try
        {
            return spec.Create(context);
        }
        catch (RegistryException e) when (e.Field is not null)
        {
            throw e.Under(field);
        }
        catch (RegistryException e) when (e.Kind == RegistryErrorKind.InvalidInput)
        {
            // A check the source makes that its spec did not make first: kept whole, placed at the spec.
            throw RegistryException.ForField(field, e.Message, e);
        }
    }
}

/// <summary>Source-generated (trim- and NativeAOT-safe) JSON of <see cref="CredentialSourceSpec"/>.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(CredentialSourceSpec))]
internal sealed partial class CredentialSpecJsonContext : JsonSerializerContext;
