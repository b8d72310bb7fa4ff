namespace RegistryInfra.Core;

/// <summary>What went wrong when talking to a registry or a credential source.</summary>
public enum RegistryErrorKind
{
    /// <summary>The registry or endpoint could not be reached (DNS, connection, TLS, timeout).</summary>
    Unreachable,
    /// <summary>The registry rejected the credentials, or needs credentials that were not given (HTTP 401).</summary>
    Unauthorized,
    /// <summary>The credentials are valid but may not pull this repository (HTTP 403).</summary>
    Forbidden,
    /// <summary>The repository does not exist (or is hidden from these credentials).</summary>
    RepositoryNotFound,
    /// <summary>The repository exists but the tag or digest does not.</summary>
    ManifestNotFound,
    /// <summary>The registry or cloud API throttled the request (HTTP 429 or a throttling error code).</summary>
    RateLimited,
    /// <summary>The registry answered with something that is not a valid response.</summary>
    InvalidResponse,
    /// <summary>A credential source could not produce a credential (cloud API error, helper failure, bad key).</summary>
    CredentialSource,
    /// <summary>The input given to the core is invalid (a malformed reference, host or document).</summary>
    InvalidInput,
}

/// <summary>
/// A failure in the registry core, classified so that callers can tell the user what happened.
/// Messages name the registry, repository or field involved and never contain a credential.
/// </summary>
public sealed class RegistryException : Exception
{
    /// <summary>A failure of the given kind with a secret-free message.</summary>
    public RegistryException(RegistryErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    /// <summary>An unclassified failure (prefer the constructor that takes a kind).</summary>
    public RegistryException() : this(RegistryErrorKind.InvalidResponse, "registry error") { }

    /// <summary>An invalid-response failure with the given message.</summary>
    public RegistryException(string message) : this(RegistryErrorKind.InvalidResponse, message) { }

    /// <summary>An invalid-response failure with the given message and cause.</summary>
    public RegistryException(string message, Exception innerException)
        : this(RegistryErrorKind.InvalidResponse, message, innerException) { }

    /// <summary>The class of failure.</summary>
    public RegistryErrorKind Kind { get; }

    /// <summary>For <see cref="ForField"/> failures: the path of the input at fault, relative to where it was
    /// validated (<c>ecr.region</c>, <c>username</c>); callers place it with <see cref="Under"/>.</summary>
    public string? Field { get; private init; }

    /// <summary>For <see cref="ForField"/> failures: what is wrong with <see cref="Field"/>, without the path.</summary>
    public string? Reason { get; private init; }

    /// <summary>An <see cref="RegistryErrorKind.InvalidInput"/> failure of one input: the message is
    /// <c>FIELD: REASON</c>, and both parts stay available as <see cref="Field"/> and <see cref="Reason"/>.</summary>
    /// <param name="field">The input's path; empty for the value being validated as a whole.</param>
    /// <param name="reason">What is wrong, never the secret value itself.</param>
    /// <param name="innerException">The cause.</param>
    public static RegistryException ForField(string field, string reason, Exception? innerException = null)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(reason);
        return new RegistryException(RegistryErrorKind.InvalidInput, field.Length == 0 ? reason : $"{field}: {reason}", innerException) { Field = field, Reason = reason };
    }

    /// <summary>This field failure with its path placed under <paramref name="parent"/> (<c>credentials</c> +
    /// <c>ecr.region</c> gives <c>credentials.ecr.region</c>); other failures are returned as they are.</summary>
    public RegistryException Under(string parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        if (Field is not { } field || parent.Length == 0)
        {
            return this;
        }
        return ForField(field.Length == 0 ? parent : field.StartsWith('[') ? parent + field : $"{parent}.{field}", Reason!, InnerException);
    }

    /// <summary>True for failures worth retrying with backoff: unreachable, rate limited.</summary>
    public bool IsTransient => Kind is RegistryErrorKind.Unreachable or RegistryErrorKind.RateLimited;
}
