using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.References;

namespace RegistryInfra.Provider.Resources.RegistryProfile;

/// <summary>The one credential source of a profile: its typed inputs as Core's <see cref="ICredentialSpec"/>, validated
/// and built by the spec itself. Failures keep the spec's typed field path, placed where the profile's inputs are.</summary>
internal sealed record ProfileCredentials(ICredentialSpec Spec, ICredentialSource Source, string Who)
{
    /// <summary>The kind that is set (<c>static</c> for the <c>username</c>/<c>password</c> shorthand).</summary>
    public string Kind => Spec.Kind;

    /// <summary>The profile input that holds the credential's secret part: <c>password</c> for the shorthand, else the kind's object.</summary>
    public string Field => Kind == "static" ? "password" : Kind;

    /// <summary>Core's credential-kind table decides (<see cref="CredentialKind.TokenBased"/>).</summary>
    public bool IsTokenBased => Spec.Facts.TokenBased;

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
        var set = SetSources(args);
        if (set.Count != 1)
        {
            var choices = "'username' and 'password', or exactly one of " + string.Join(", ", CredentialKinds.All.Skip(1).Select(k => $"'{k.Name}'"));
            return (null, [set.Count == 0
                ? ("username", $"a credential source is required: set {choices}")
                : (set[1] == "static" ? set[0] : set[1], $"exactly one credential source may be set; got {string.Join(" and ", set.Select(s => s == "static" ? "'username'/'password'" : $"'{s}'"))}")]);
        }
        var kind = set[0];
        if (kind == "static" && string.IsNullOrEmpty(args.Username) != string.IsNullOrEmpty(args.Password))
        {
            return (null, [string.IsNullOrEmpty(args.Username) ? ("username", "is required when a password is given") : ("password", "is required when a username is given")]);
        }
        var spec = ToSpec(kind, args, host);
        try
        {
            // The shorthand's fields are the profile's top-level username/password; every other kind's sit under its object.
            var source = CredentialSourceFactory.Create(spec, new CredentialSourceContext { Server = host.DockerConfigKey }, kind == "static" ? "" : kind);
            var who = kind == "static" ? $"user '{args.Username}'" : source.Description;
            return (new ProfileCredentials(spec, source, who), []);
        }
        catch (RegistryException e) when (e.Field is { } field)
        {
            return (null, [(field.Length == 0 ? kind : field, e.Reason!)]);
        }
        catch (RegistryException e) when (e.Kind == RegistryErrorKind.CredentialSource)
        {
            return (null, [(kind, e.Message)]);
        }
    }

    private static ICredentialSpec ToSpec(string kind, RegistryProfileArgs args, RegistryHost host) => kind switch
    {
        "static" => new StaticCredentialSpec { Username = args.Username, Password = args.Password },
        "ecr" => new EcrCredentialSpec
        {
            // Private ECR hosts name their account and region, so most profiles need neither.
            Region = args.Ecr!.Region ?? host.Details.Region,
            AccountId = args.Ecr.AccountId ?? host.Details.AccountId,
            Public = host.Kind == RegistryKind.EcrPublic,
            Fips = host.Details.IsFips,
            Endpoint = args.Ecr.Endpoint,
            AccessKeyId = args.Ecr.AccessKeyId,
            SecretAccessKey = args.Ecr.SecretAccessKey,
            SessionToken = args.Ecr.SessionToken,
        },
        "gcpServiceAccountKey" => new GcpServiceAccountKeySpec { Key = args.GcpServiceAccountKey!.Key, Base64 = args.GcpServiceAccountKey.Base64 ?? false },
        "gcpAccessToken" => new GcpAccessTokenSpec { ServiceAccountKey = args.GcpAccessToken!.ServiceAccountKey },
        "acr" => new AcrCredentialSpec { Registry = host.Name, TenantId = args.Acr!.TenantId, ClientId = args.Acr.ClientId, Scope = args.Acr.Scope },
        "credentialHelper" => new CredentialHelperSpec
        {
            Helper = args.CredentialHelper!.Helper,
            ServerUrl = args.CredentialHelper.ServerUrl,
            TimeoutSeconds = args.CredentialHelper.TimeoutSeconds,
        },
        _ => new ExecCredentialSpec
        {
            Command = args.Exec!.Command,
            LifetimeSeconds = args.Exec.LifetimeSeconds,
            TimeoutSeconds = args.Exec.TimeoutSeconds,
            Environment = args.Exec.Environment,
        },
    };
}
