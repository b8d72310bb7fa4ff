namespace RegistryInfra.Core.Credentials;

/// <summary>
/// A fixed user name and password (or token) that never expires on its own.
/// </summary>
/// <remarks>
/// Registries that take a token as the password ignore or fix the user name: GHCR takes any user name
/// with a personal access token; GitLab takes any user name with a deploy or personal token; Docker Hub
/// takes the account name with an access token; Quay robot accounts use <c>org+robot</c> with the robot
/// token; Harbor robot accounts use <c>robot$name</c>. Use <see cref="ForToken"/> when the registry does
/// not care about the user name.
/// </remarks>
public sealed class StaticCredentialSource : ICredentialSource
{
    /// <summary>The user name used by <see cref="ForToken"/> when none is given; registries that ignore it accept any non-empty name.</summary>
    public const string TokenUsername = "token";

    private readonly RegistryCredential _credential;

    /// <summary>A source that always returns <paramref name="username"/> and <paramref name="password"/>.</summary>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/> when either is empty
    /// or the user name contains a colon (it could not be encoded in a Basic header or dockerconfigjson <c>auth</c>).</exception>
    public StaticCredentialSource(string username, string password, DateTimeOffset? expiresAt = null)
    {
        if (string.IsNullOrEmpty(username))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "static credentials: 'username' must not be empty");
        }
        if (username.Contains(':', StringComparison.Ordinal))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "static credentials: 'username' must not contain ':' (it separates user and password in Basic auth)");
        }
        if (string.IsNullOrEmpty(password))
        {
            throw new RegistryException(RegistryErrorKind.InvalidInput, "static credentials: 'password' must not be empty");
        }
        _credential = new RegistryCredential(username, password, expiresAt);
    }

    /// <summary>A source for registries that take a token as the password (GHCR PAT, GitLab token), with
    /// <paramref name="username"/> or <see cref="TokenUsername"/> as the user name.</summary>
    public static StaticCredentialSource ForToken(string token, string? username = null) =>
        new(string.IsNullOrEmpty(username) ? TokenUsername : username, token);

    /// <inheritdoc />
    public string Description => $"static({_credential.Username})";

    /// <inheritdoc />
    public ValueTask<RegistryCredential> GetCredentialAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_credential);
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}
