using System.Globalization;
using System.Text.Json;

namespace RegistryInfra.Core.Credentials;

/// <summary>
/// Credentials printed by a configured command, run directly (argv, no shell).
/// </summary>
/// <remarks>
/// The command prints either one line <c>user:password</c> (the password may contain colons), or a JSON
/// object <c>{"username": "...", "password": "...", "expiresAt": "2026-11-23T18:00:00Z"}</c> where
/// <c>expiresAt</c> is optional and is an RFC 3339 time or a number of seconds since the epoch. The expiry
/// is the one printed, else now plus the configured lifetime, else none. A non-zero exit, empty or
/// malformed output, or running past the timeout (the process tree is killed) fails the call; the error
/// quotes a scrubbed summary of stderr, never stdout. Each call runs the command afresh.
/// </remarks>
public sealed class ExecCredentialSource : ICredentialSource
{
    private readonly IReadOnlyList<string> _command;
    private readonly IReadOnlyDictionary<string, string>? _environment;
    private readonly TimeProvider _clock;

    /// <param name="command">The program and its arguments.</param>
    /// <param name="lifetime">How long a credential without a printed expiry lasts.</param>
    /// <param name="timeout">How long the command may run (default 30 s).</param>
    /// <param name="environment">Extra environment variables for the command.</param>
    /// <param name="clock">The clock for <paramref name="lifetime"/>.</param>
    public ExecCredentialSource(IReadOnlyList<string> command, TimeSpan? lifetime = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeProvider? clock = null)
    {
        if (command is null || command.Count == 0 || string.IsNullOrWhiteSpace(command[0]))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "exec: 'command' must name a program (argv[0])");
        }
        if (lifetime is { } l && l <= TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "exec: 'lifetime' must be positive");
        }
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "exec: 'timeout' must be positive");
        }
        _command = [.. command];
        Lifetime = lifetime;
        Timeout = timeout ?? TimeSpan.FromSeconds(30);
        _environment = environment;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>The configured lifetime, if any.</summary>
    public TimeSpan? Lifetime { get; }

    /// <summary>The limit for one run.</summary>
    public TimeSpan Timeout { get; }

    /// <inheritdoc />
    public string Description => $"exec({Path.GetFileName(_command[0])})";

    /// <inheritdoc />
    public async ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default)
    {
        var program = ExecutableLookup.Find(_command[0], _environment)
            ?? throw new RegistryException(RegistryErrorKind.CredentialSource, $"{Description}: '{_command[0]}' was not found (check 'command')");
        var startedAt = _clock.GetUtcNow();
        var result = await CredentialProcess.RunAsync(Description, [program, .. _command.Skip(1)], null, Timeout, _environment, cancellationToken).ConfigureAwait(false);
        var output = result.StandardOutput.Trim();
        if (result.ExitCode != 0)
        {
            throw new RegistryException(RegistryErrorKind.CredentialSource,
                $"{Description}: exited with code {result.ExitCode.ToString(CultureInfo.InvariantCulture)}: {CredentialProcess.Summarise(result.StandardError, CredentialProcess.OutputFragments(output))}");
        }
        if (output.Length == 0)
        {
            throw new RegistryException(RegistryErrorKind.CredentialSource, $"{Description}: printed nothing (expected 'user:password' or a JSON object)");
        }
        var credential = output.StartsWith('{') ? ParseJson(output) : ParseLine(output);
        if (credential.ExpiresAt is { } expiresAt && expiresAt <= _clock.GetUtcNow())
        {
            // A credential that is already dead would only fail later, at the registry, with a vaguer error.
            throw Malformed($"has an 'expiresAt' ({expiresAt.ToString("O", CultureInfo.InvariantCulture)}) that has already passed");
        }
        return credential.ExpiresAt is null && Lifetime is { } lifetime ? credential with { ExpiresAt = startedAt + lifetime } : credential;
    }

    private RegistryCredential ParseLine(string output)
    {
        var line = output.Split('\n', 2)[0].TrimEnd('\r');
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == line.Length - 1)
        {
            throw Malformed("is neither 'user:password' nor a JSON object");
        }
        return new RegistryCredential(line[..colon], line[(colon + 1)..]);
    }

    private RegistryCredential ParseJson(string output)
    {
        try
        {
            using var document = JsonDocument.Parse(output);
            var root = document.RootElement;
            var username = root.TryGetProperty("username", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            var password = root.TryGetProperty("password", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            if (string.IsNullOrEmpty(username))
            {
                throw Malformed("has no 'username'");
            }
            if (string.IsNullOrEmpty(password))
            {
                throw Malformed("has no 'password'");
            }
            DateTimeOffset? expiresAt = null;
            if (root.TryGetProperty("expiresAt", out var e) && e.ValueKind != JsonValueKind.Null)
            {
                if (e.ValueKind == JsonValueKind.Number)
                {
                    // Beyond year 9999 (or before 1970) is not a time a credential expires at.
                    var seconds = e.GetDouble();
                    if (!double.IsFinite(seconds) || seconds < 0 || seconds > 253_402_300_799)
                    {
                        throw Malformed("has an 'expiresAt' in epoch seconds outside 1970..9999");
                    }
                    expiresAt = DateTimeOffset.UnixEpoch.AddSeconds(seconds);
                }
                else if (e.ValueKind == JsonValueKind.String &&
                         DateTimeOffset.TryParse(e.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) &&
                         parsed.UtcDateTime.Year < 10000)
                {
                    expiresAt = parsed.ToUniversalTime();
                }
                else
                {
                    throw Malformed("has an 'expiresAt' that is neither an RFC 3339 time nor epoch seconds");
                }
            }
            return new RegistryCredential(username, password, expiresAt);
        }
        catch (JsonException)
        {
            throw Malformed("starts with '{' but is not valid JSON");
        }
    }

    private RegistryException Malformed(string what) => new(RegistryErrorKind.CredentialSource, $"{Description}: the output {what}");

    /// <inheritdoc />
    public override string ToString() => Description;
}
