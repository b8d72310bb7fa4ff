namespace RegistryInfra.Core.Credentials;

/// <summary>
/// A credential for one registry, as it goes into a dockerconfigjson entry or a Basic/Bearer exchange.
/// </summary>
/// <param name="Username">The user name (for token-based registries the fixed name they expect, such as
/// <c>AWS</c>, <c>oauth2accesstoken</c> or the ACR null GUID).</param>
/// <param name="Password">The password or token. Never logged: <see cref="ToString"/> redacts it.</param>
/// <param name="ExpiresAt">When the credential stops working, where the source knows it.</param>
/// <param name="IdentityToken">An OAuth2 refresh token for the registry (dockerconfigjson <c>identitytoken</c>), where used.</param>
public sealed record RegistryCredential(
    string Username,
    string Password,
    DateTimeOffset? ExpiresAt = null,
    string? IdentityToken = null)
{
    /// <summary>True when the credential has an expiry that falls before <paramref name="now"/> plus <paramref name="margin"/>.</summary>
    public bool ExpiresWithin(DateTimeOffset now, TimeSpan margin) => ExpiresAt is { } at && at <= now + margin;

    /// <summary>Shows the user name and expiry only; the secret parts are redacted.</summary>
    public override string ToString() =>
        $"RegistryCredential {{ Username = {Username}, Password = ***, ExpiresAt = {ExpiresAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "never"}{(IdentityToken is null ? "" : ", IdentityToken = ***")} }}";
}
