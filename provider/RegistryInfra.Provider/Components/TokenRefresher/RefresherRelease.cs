namespace RegistryInfra.Provider.Components.TokenRefresher;

/// <summary>
/// The refresher image a release of this provider ships with. The release process writes the image it
/// built and pushed, pinned by digest, into <see cref="Image"/>; a development build has none, so the
/// TokenRefresher's <c>image</c> input is then required. No digest is ever invented here.
/// </summary>
public static class RefresherRelease
{
    public const string? Image = null;
}
