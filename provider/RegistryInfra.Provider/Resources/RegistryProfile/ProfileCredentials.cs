using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.References;

namespace RegistryInfra.Provider.Resources.RegistryProfile;

/// <summary>The one credential source of a profile, built from its typed inputs into Core's <see cref="CredentialSourceSpec"/>.</summary>
internal sealed record ProfileCredentials(string Kind, string Field, CredentialSourceSpec Spec, ICredentialSource Source, string Who)
{
    private static readonly string[] TypedSources = ["ecr", "gcpServiceAccountKey", "gcpAccessToken", "acr", "credentialHelper", "exec"];

    /// <summary>True for sources whose credential is a short-lived token obtained by running something.</summary>
    public bool IsTokenBased => Kind != "static" && Kind != "gcpServiceAccountKey";

    /// <summary>The input names of the source that is set (the shorthand's are <c>username</c> and <c>password</c>).</summary>
    public static IReadOnlyList<string> SetSources(RegistryProfileArgs args)
    {
        var set = new List<string>(1);
        if (args.Username is not null || args.Password is not null) set.Add("static");
        if (args.Ecr is not null) set.Add("ecr");
        if (args.GcpServiceAccountKey is not null) set.Add("gcpServiceAccountKey");
        if (args.GcpAccessToken is not null) set.Add("gcpAccessToken");
        if (args.Acr is not null) set.Add("acr");
        if (args.CredentialHelper is not null) set.Add("credentialHelper");
        if (args.Exec is not null) set.Add("exec");
        return set;
    }

    /// <summary>
    /// The source of <paramref name="args"/> for <paramref name="host"/>, or the failures that name the field.
    /// Nothing runs and nothing is called over the network.
    /// </summary>
    public static (ProfileCredentials? Credentials, IReadOnlyList<(string Field, string Reason)> Failures) Build(RegistryProfileArgs args, RegistryHost host)
    {
        var failures = new List<(string, string)>();
        var set = SetSources(args);
        if (set.Count != 1)
        {
            var choices = "'username' and 'password', or exactly one of " + string.Join(", ", TypedSources.Select(s => $"'{s}'"));
            failures.Add(set.Count == 0
                ? ("username", $"a credential source is required: set {choices}")
                : (set[1] == "static" ? set[0] : set[1], $"exactly one credential source may be set; got {string.Join(" and ", set.Select(s => s == "static" ? "'username'/'password'" : $"'{s}'"))}"));
            return (null, failures);
        }
        var kind = set[0];
        if (kind == "static")
        {
            if (string.IsNullOrEmpty(args.Username))
            {
                failures.Add(("username", "is required when a password is given"));
            }
            else if (args.Username.Contains(':', StringComparison.Ordinal))
            {
                failures.Add(("username", "must not contain ':' (the auth entry joins user and password with ':')"));
            }
            if (string.IsNullOrEmpty(args.Password))
            {
                failures.Add(("password", "is required when a username is given"));
            }
            if (failures.Count > 0)
            {
                return (null, failures);
            }
        }
        CredentialSourceSpec spec;
        try
        {
            spec = ToSpec(kind, args, host);
        }
        catch (RegistryException e) when (e.Kind == RegistryErrorKind.InvalidInput)
        {
            failures.Add(Split(e.Message, kind));
            return (null, failures);
        }
        try
        {
            var source = CredentialSourceFactory.Create(spec, new CredentialSourceContext { Server = host.DockerConfigKey, Field = "credentials" });
            var who = kind == "static" ? $"user '{args.Username}'" : source.Description;
            return (new ProfileCredentials(kind, kind == "static" ? "password" : kind, spec, source, who), failures);
        }
        catch (RegistryException e) when (e.Kind is RegistryErrorKind.InvalidInput or RegistryErrorKind.CredentialSource)
        {
            failures.Add(Split(e.Message, kind));
            return (null, failures);
        }
    }

    private static CredentialSourceSpec ToSpec(string kind, RegistryProfileArgs args, RegistryHost host) => kind switch
    {
        "static" => new CredentialSourceSpec { Static = new StaticCredentialSpec { Username = args.Username, Password = args.Password } },
        "ecr" => new CredentialSourceSpec
        {
            Ecr = new EcrCredentialSpec
            {
                // Private ECR hosts name their account and region, so most profiles need neither.
                Region = args.Ecr!.Region ?? host.Details.Region,
                AccountId = args.Ecr.AccountId ?? host.Details.AccountId,
                Public = host.Kind == RegistryKind.EcrPublic,
                Fips = host.Details.IsFips,
                Endpoint = args.Ecr.Endpoint is null ? null
                    : Uri.TryCreate(args.Ecr.Endpoint, UriKind.Absolute, out var endpoint) && endpoint.Scheme == Uri.UriSchemeHttps ? endpoint
                    : throw new RegistryException(RegistryErrorKind.InvalidInput, $"credentials.ecr.endpoint: must be an absolute https:// URL, got '{args.Ecr.Endpoint}'"),
                AccessKeyId = args.Ecr.AccessKeyId,
                SecretAccessKey = args.Ecr.SecretAccessKey,
                SessionToken = args.Ecr.SessionToken,
            },
        },
        "gcpServiceAccountKey" => new CredentialSourceSpec
        {
            GcpServiceAccountKey = new GcpServiceAccountKeySpec { Key = args.GcpServiceAccountKey!.Key, Base64 = args.GcpServiceAccountKey.Base64 ?? false },
        },
        "gcpAccessToken" => new CredentialSourceSpec { GcpAccessToken = new GcpAccessTokenSpec { ServiceAccountKey = args.GcpAccessToken!.ServiceAccountKey } },
        "acr" => new CredentialSourceSpec
        {
            Acr = new AcrCredentialSpec { Registry = host.Name, TenantId = args.Acr!.TenantId, ClientId = args.Acr.ClientId, Scope = args.Acr.Scope },
        },
        "credentialHelper" => new CredentialSourceSpec
        {
            CredentialHelper = new CredentialHelperSpec
            {
                Helper = args.CredentialHelper!.Helper, ServerUrl = args.CredentialHelper.ServerUrl, TimeoutSeconds = args.CredentialHelper.TimeoutSeconds,
            },
        },
        _ => new CredentialSourceSpec
        {
            Exec = new ExecCredentialSpec
            {
                Command = args.Exec!.Command, LifetimeSeconds = args.Exec.LifetimeSeconds, TimeoutSeconds = args.Exec.TimeoutSeconds, Environment = args.Exec.Environment,
            },
        },
    };

    /// <summary>Core names fields from <c>credentials.KIND.x</c>; the profile's inputs are <c>KIND.x</c> (and the shorthand's are top-level).</summary>
    private static (string Field, string Reason) Split(string message, string kind)
    {
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        var field = colon < 0 ? kind : message[..colon];
        var reason = colon < 0 ? message : message[(colon + 2)..];
        var space = field.IndexOf(' ', StringComparison.Ordinal);
        if (space >= 0)
        {
            field = field[..space];
        }
        field = field.StartsWith("credentials.", StringComparison.Ordinal) ? field["credentials.".Length..] : field;
        field = field.StartsWith("static.", StringComparison.Ordinal) ? field["static.".Length..] : field;
        return (field.Length == 0 ? kind : field, reason.Replace("'credentials.", "'", StringComparison.Ordinal));
    }
}
