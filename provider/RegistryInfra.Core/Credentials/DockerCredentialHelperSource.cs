using System.Globalization;
using System.Text.Json;

namespace RegistryInfra.Core.Credentials;

/// <summary>
/// Credentials from a docker credential helper: runs <c>docker-credential-NAME get</c> with the server URL
/// on stdin and reads <c>{"ServerURL","Username","Secret"}</c> from stdout, as the docker CLI does.
/// </summary>
/// <remarks>
/// A user name of <c>&lt;token&gt;</c> means the secret is an identity (OAuth2 refresh) token: the
/// credential then carries it as <see cref="RegistryCredential.IdentityToken"/> (and as the password,
/// for registries that accept it with Basic auth), with the user name kept as <c>&lt;token&gt;</c>.
/// Helpers report no expiry. Each call runs the helper afresh, so calls may overlap.
/// </remarks>
public sealed class DockerCredentialHelperSource : ICredentialSource
{
    /// <summary>The user name helpers return for identity tokens.</summary>
    public const string IdentityTokenUsername = "<token>";

    private readonly IReadOnlyDictionary<string, string>? _environment;

    /// <param name="helper">The helper's name: <c>ecr-login</c> for <c>docker-credential-ecr-login</c>
    /// (a full <c>docker-credential-...</c> name or an absolute path is taken as is).</param>
    /// <param name="serverUrl">The registry as the helper stores it, such as <c>https://index.docker.io/v1/</c> or <c>ghcr.io</c>.</param>
    /// <param name="timeout">How long the helper may run (default 30 s); it is killed with its children after.</param>
    /// <param name="environment">Extra environment variables for the helper.</param>
    public DockerCredentialHelperSource(string helper, string serverUrl, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        if (string.IsNullOrWhiteSpace(helper) || (!Path.IsPathRooted(helper) && helper.Contains('/', StringComparison.Ordinal)))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, $"credential helper: 'helper' must be a helper name such as 'ecr-login' or an absolute path, got '{Redaction.Excerpt(helper, maxLength: 80)}'");
        }
        if (helper.Length > 255 || helper.Any(char.IsControl))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput,
                $"credential helper: 'helper' must be a program name or path of at most 255 characters without control characters, got {helper.Length.ToString(CultureInfo.InvariantCulture)} characters");
        }
        if (string.IsNullOrWhiteSpace(serverUrl))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "credential helper: 'serverUrl' must not be empty");
        }
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "credential helper: 'timeout' must be positive");
        }
        Program = Path.IsPathRooted(helper) || helper.StartsWith("docker-credential-", StringComparison.Ordinal) ? helper : "docker-credential-" + helper;
        ServerUrl = serverUrl;
        Timeout = timeout ?? TimeSpan.FromSeconds(30);
        _environment = environment;
    }

    /// <summary>The program run (<c>docker-credential-NAME</c> or a path).</summary>
    public string Program { get; }

    /// <summary>The server URL given to the helper.</summary>
    public string ServerUrl { get; }

    /// <summary>The limit for one run.</summary>
    public TimeSpan Timeout { get; }

    /// <inheritdoc />
    public string Description => $"credential-helper({Path.GetFileName(Program)}, {ServerUrl})";

    /// <inheritdoc />
    public async ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default)
    {
        var path = ExecutableLookup.Find(Program, _environment)
            ?? throw new RegistryException(RegistryErrorKind.CredentialSource, $"{Description}: '{Program}' was not found on PATH (install the helper or fix 'helper')");
        var result = await CredentialProcess.RunAsync(Description, [path, "get"], ServerUrl, Timeout, _environment, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            // Helpers write their error to stdout (docker-credential-helpers) or stderr (others). A helper that
            // printed a JSON answer and then failed may have printed the secret: that stdout is never quoted, and
            // every longer fragment of it is treated as secret in stderr. Whatever is quoted is scrubbed of
            // anything that looks like a credential (Redaction) and cut.
            var printedAnswer = result.StandardOutput.TrimStart().StartsWith('{');
            var output = printedAnswer ? result.StandardError : result.StandardOutput + "\n" + result.StandardError;
            if (output.Contains("credentials not found", StringComparison.OrdinalIgnoreCase))
            {
                throw new RegistryException(RegistryErrorKind.CredentialSource, $"{Description}: the helper has no credentials stored for '{ServerUrl}' (credentials not found in native keychain)");
            }
            var secrets = printedAnswer ? CredentialProcess.OutputFragments(result.StandardOutput) : [];
            throw new RegistryException(RegistryErrorKind.CredentialSource,
                $"{Description}: the helper exited with code {result.ExitCode.ToString(CultureInfo.InvariantCulture)}: {CredentialProcess.Summarise(output, secrets)}");
        }
        string? username, secret;
        try
        {
            using var document = JsonDocument.Parse(result.StandardOutput);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Malformed("not a JSON object");
            }
            username = root.TryGetProperty("Username", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            secret = root.TryGetProperty("Secret", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        }
        catch (JsonException)
        {
            // The output may hold the secret: describe it, never quote it.
            throw Malformed("not JSON");
        }
        if (string.IsNullOrEmpty(secret))
        {
            throw Malformed("no 'Secret'");
        }
        if (string.IsNullOrEmpty(username))
        {
            throw Malformed("no 'Username'");
        }
        return username == IdentityTokenUsername
            ? new RegistryCredential(IdentityTokenUsername, secret, null, secret)
            : new RegistryCredential(username, secret);
    }

    private RegistryException Malformed(string what) =>
        new(RegistryErrorKind.CredentialSource, $"{Description}: the helper's output is {what} (expected {{\"ServerURL\",\"Username\",\"Secret\"}})");

    /// <inheritdoc />
    public override string ToString() => Description;
}

/// <summary>Finds programs on PATH the way the process launcher will, so a missing one gets a clear error.</summary>
internal static class ExecutableLookup
{
    public static string? Find(string program, IReadOnlyDictionary<string, string>? environment)
    {
        if (Path.IsPathRooted(program))
        {
            return File.Exists(program) ? program : null;
        }
        var path = environment is not null && environment.TryGetValue("PATH", out var p) ? p : Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
