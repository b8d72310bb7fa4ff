namespace RegistryInfra.Provider.Components.Kubernetes;

/// <summary>
/// The security contexts of the pods the components run (the refresher, the dev registry): the Pod Security Standards'
/// <c>restricted</c> profile (non-root with a fixed UID, no privilege escalation, every capability dropped, the
/// runtime's default seccomp profile) plus a read-only root filesystem.
/// </summary>
public static class RestrictedSecurity
{
    /// <summary>The user and group the containers run as (distroless's <c>nonroot</c>).</summary>
    public const int NonRootUser = 65532;

    /// <summary>The pod's security context; volumes are group-owned by <see cref="NonRootUser"/>.</summary>
    public static PodSecurityContextInputs Pod() => new()
    {
        RunAsNonRoot = true,
        RunAsUser = NonRootUser,
        RunAsGroup = NonRootUser,
        FsGroup = NonRootUser,
        SeccompProfile = new SeccompProfileInputs(),
    };

    /// <summary>A container's security context.</summary>
    public static SecurityContextInputs Container() => new()
    {
        AllowPrivilegeEscalation = false,
        ReadOnlyRootFilesystem = true,
        RunAsNonRoot = true,
        RunAsUser = NonRootUser,
        Capabilities = new CapabilitiesInputs { Drop = ["ALL"] },
        SeccompProfile = new SeccompProfileInputs(),
    };
}
