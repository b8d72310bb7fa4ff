using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Resources.RegistryProfile;

/// <summary>
/// A registry and how to authenticate to it. Pure computation: it has no side effect at all, so preview
/// and create compute the same outputs, and update recomputes them in place (only a server change replaces).
/// </summary>
internal sealed class RegistryProfileResource :
    IResource<RegistryProfileArgs, RegistryProfileState>,
    ICustomCheck<RegistryProfileArgs>,
    ICustomUpdate<RegistryProfileArgs, RegistryProfileState>
{
    public const string Token = "registryinfra:index:RegistryProfile";

    private static readonly string[] PassThrough = ["username", "password", "email"];

    public const string Description =
        "A container registry and the credentials to pull from it. Outputs its entry for a Kubernetes `.dockerconfigjson` pull secret.";

    public Task<CheckResult<RegistryProfileArgs>> CheckAsync(CheckContext<RegistryProfileArgs> context, CancellationToken cancellationToken)
    {
        var args = context.Args;
        var failures = new List<CheckFailure>();
        if (!context.UnknownInputs.Contains("server"))
        {
            var (_, error) = RegistryServer.Normalise(args.Server);
            if (error is not null)
            {
                failures.Add(new CheckFailure("server", error));
            }
        }
        var hasPassword = !string.IsNullOrEmpty(args.Password) || context.UnknownInputs.Contains("password");
        var hasUsername = !string.IsNullOrEmpty(args.Username) || context.UnknownInputs.Contains("username");
        if (hasPassword && !hasUsername)
        {
            failures.Add(new CheckFailure("username", "is required when a password is given"));
        }
        if (args.Username is { } username && username.Contains(':', StringComparison.Ordinal))
        {
            failures.Add(new CheckFailure("username", "must not contain ':' (the auth entry joins user and password with ':')"));
        }
        if (args.Username is { Length: > 0 } && !hasPassword)
        {
            failures.Add(new CheckFailure("password", "is required when a username is given"));
        }
        return Task.FromResult(new CheckResult<RegistryProfileArgs>(args, failures));
    }

    public Task<CreateResult<RegistryProfileState>> CreateAsync(CreateContext<RegistryProfileArgs> context, CancellationToken cancellationToken)
    {
        var (state, unknown) = Compute(context.Args, context.UnknownInputs);
        var id = state.Server;
        return Task.FromResult(new CreateResult<RegistryProfileState>(id, state, unknown));
    }

    public Task<UpdateResult<RegistryProfileState>> UpdateAsync(UpdateContext<RegistryProfileArgs, RegistryProfileState> context, CancellationToken cancellationToken)
    {
        var (state, unknown) = Compute(context.Args, context.UnknownInputs);
        return Task.FromResult(new UpdateResult<RegistryProfileState>(state, unknown));
    }

    private static (RegistryProfileState State, ImmutableHashSet<string> Unknown) Compute(RegistryProfileArgs args, ImmutableHashSet<string> unknownInputs)
    {
        var unknown = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        string server;
        if (unknownInputs.Contains("server"))
        {
            server = "";
            unknown.Add("server");
        }
        else
        {
            var (key, error) = RegistryServer.Normalise(args.Server);
            server = key ?? throw new ArgumentException($"server: {error}");
        }
        if (unknownInputs.Count > 0)
        {
            // Anything unknown goes into the auth entry, so it is unknown too.
            unknown.Add("authEntry");
            unknown.Add("dockerConfigJson");
        }
        foreach (var name in PassThrough.Where(unknownInputs.Contains))
        {
            unknown.Add(name);
        }
        var entry = AuthEntry(args);
        var document = new JsonObject { ["auths"] = new JsonObject { [server] = entry.DeepClone() } };
        var state = new RegistryProfileState(server, args.Username, args.Password, args.Email,
            entry.ToJsonString(), document.ToJsonString());
        return (state, unknown.ToImmutable());
    }

    private static JsonObject AuthEntry(RegistryProfileArgs args)
    {
        var entry = new JsonObject();
        if (!string.IsNullOrEmpty(args.Username))
        {
            entry["username"] = args.Username;
            entry["password"] = args.Password ?? "";
            entry["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{args.Username}:{args.Password}"));
        }
        if (!string.IsNullOrEmpty(args.Email))
        {
            entry["email"] = args.Email;
        }
        return entry;
    }
}
