using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace RegistryInfra.Core.References;

/// <summary>
/// A container image reference, parsed and normalised by the grammar of distribution's <c>reference</c>
/// package as <c>docker pull</c> applies it: a name without a registry is on Docker Hub, a one-component
/// Docker Hub name is in <c>library/</c>, and a reference may carry a tag, a digest or both.
/// Two references are equal when their <see cref="ToString"/> forms are, the host compared in lower case.
/// </summary>
public sealed partial class ImageReference : IEquatable<ImageReference>
{
    /// <summary>The longest repository path (without the registry) that distribution accepts: since
    /// distribution/reference v0.6.0 the limit is on the path (<c>ErrNameTooLong</c> in reference.go).</summary>
    public const int MaxNameLength = 255;

    /// <summary>The tag that a reference without tag or digest resolves to.</summary>
    public const string DefaultTag = "latest";

    private ImageReference(RegistryHost registry, string repository, string? tag, string? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The registry that serves the image.</summary>
    public RegistryHost Registry { get; }

    /// <summary>The repository path inside the registry, such as <c>library/nginx</c> or <c>team/app</c>.</summary>
    public string Repository { get; }

    /// <summary>The full name: registry (as written, see <see cref="RegistryHost.Spelling"/>) and repository,
    /// such as <c>docker.io/library/nginx</c>; what distribution's <c>Named.Name()</c> gives, and what the
    /// kubelet looks up in pull Secrets.</summary>
    public string Name => $"{Registry.Spelling}/{Repository}";

    /// <summary>The tag, when one was given.</summary>
    public string? Tag { get; }

    /// <summary>The digest (<c>algorithm:hex</c>), when one was given.</summary>
    public string? Digest { get; }

    /// <summary>What to ask the registry's manifest endpoint for: the digest, else the tag, else <c>latest</c>.</summary>
    public string ManifestReference => Digest ?? Tag ?? DefaultTag;

    /// <summary>Parses and normalises an image reference such as <c>nginx</c>, <c>ghcr.io/org/app:1.2</c> or
    /// <c>localhost:5000/app@sha256:…</c>.</summary>
    /// <exception cref="RegistryException">Kind <see cref="RegistryErrorKind.InvalidInput"/>; the message says what is wrong.</exception>
    public static ImageReference Parse(string value) =>
        TryParse(value, out var reference, out var error)
            ? reference
            : throw new RegistryException(RegistryErrorKind.InvalidInput, error);

    /// <summary>Parses like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out ImageReference? reference) =>
        TryParse(value, out reference, out _);

    /// <summary>Parses like <see cref="Parse"/>, returning false and the reason instead of throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out ImageReference? reference, [NotNullWhen(false)] out string? error)
    {
        reference = null;
        if (string.IsNullOrEmpty(value))
        {
            error = "invalid image reference: repository name must have at least one component";
            return false;
        }

        if (value.Contains("://", StringComparison.Ordinal))
        {
            error = "invalid image reference: must not start with a scheme such as https:// (write registry/repository:tag)";
            return false;
        }

        var rest = value;
        string? digest = null;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!TryValidateDigest(digest, out error))
            {
                return false;
            }
        }

        string? tag = null;
        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"invalid image reference: invalid tag \"{tag}\" (a tag is 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-')";
                return false;
            }
        }

        if (rest.Length == 0)
        {
            error = "invalid image reference: repository name must have at least one component";
            return false;
        }

        if (AnchoredIdentifier().IsMatch(value))
        {
            error = $"invalid image reference: repository name \"{value}\" must not be a 64-character hexadecimal string (it would be taken for an image id)";
            return false;
        }

        if (!TrySplitDomain(rest, out var registry, out var repository, out error))
        {
            return false;
        }

        if (repository.Length == 0)
        {
            error = "invalid image reference: repository name must have at least one component";
            return false;
        }

        if (repository.Any(char.IsAsciiLetterUpper))
        {
            error = $"invalid image reference: repository name \"{repository}\" must be lowercase";
            return false;
        }

        foreach (var component in repository.Split('/'))
        {
            if (!PathComponent().IsMatch(component))
            {
                error = component.Length == 0
                    ? $"invalid image reference: repository name \"{repository}\" has an empty path component"
                    : $"invalid image reference: repository path component \"{component}\" is invalid (lowercase letters and digits, separated by '.', '_', '__' or '-')";
                return false;
            }
        }

        if (registry.IsDockerHub && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = "library/" + repository;
        }

        if (repository.Length > MaxNameLength)
        {
            error = $"invalid image reference: repository path must not be more than {MaxNameLength} characters (\"{RegistryHost.Shorten(repository)}\" has {repository.Length})";
            return false;
        }

        reference = new ImageReference(registry, repository, tag, digest);
        error = null;
        return true;
    }

    private static bool TrySplitDomain(string name, [NotNullWhen(true)] out RegistryHost? registry, out string repository, [NotNullWhen(false)] out string? error)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? name : name[..slash];
        var isDomain = slash >= 0
            && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost" || first.StartsWith('['));
        if (!isDomain)
        {
            registry = RegistryHost.DockerHub;
            repository = name;
            if (first.Any(char.IsAsciiLetterUpper))
            {
                // distribution would take an upper-case first component for a registry host; docker rejects it
                // as an upper-case repository, which is what the user almost always meant.
                error = $"invalid image reference: repository name \"{name}\" must be lowercase";
                return false;
            }

            error = null;
            return true;
        }

        repository = name[(slash + 1)..];
        if (!RegistryHost.TryParseDomain(first, out registry, out var hostError))
        {
            error = "invalid image reference: " + hostError;
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryValidateDigest(string digest, [NotNullWhen(false)] out string? error)
    {
        if (!DigestPattern().IsMatch(digest))
        {
            error = $"invalid image reference: invalid digest \"{digest}\" (expected algorithm:hex, such as sha256: and 64 hexadecimal digits)";
            return false;
        }

        var separator = digest.IndexOf(':', StringComparison.Ordinal);
        var algorithm = digest[..separator];
        var encoded = digest[(separator + 1)..];
        int? length = algorithm switch
        {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => null,
        };
        if (length is null)
        {
            // distribution resolves digests through go-digest, which knows only these algorithms.
            error = $"invalid image reference: unsupported digest algorithm \"{algorithm}\" (supported: sha256, sha384, sha512)";
            return false;
        }

        if (length is { } expected && (encoded.Length != expected || encoded.Any(char.IsAsciiLetterUpper)))
        {
            error = $"invalid image reference: invalid digest \"{digest}\" ({algorithm} needs exactly {expected} lowercase hexadecimal digits)";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>This reference pinned to <paramref name="digest"/>, keeping its tag (as <c>name:tag@digest</c>).</summary>
    /// <exception cref="RegistryException">When the digest is not valid.</exception>
    public ImageReference WithDigest(string digest) =>
        TryValidateDigest(digest, out var error)
            ? new ImageReference(Registry, Repository, Tag, digest)
            : throw new RegistryException(RegistryErrorKind.InvalidInput, error);

    /// <summary>This reference with <paramref name="tag"/>, keeping its digest.</summary>
    /// <exception cref="RegistryException">When the tag is not valid.</exception>
    public ImageReference WithTag(string tag) =>
        TagPattern().IsMatch(tag)
            ? new ImageReference(Registry, Repository, tag, Digest)
            : throw new RegistryException(RegistryErrorKind.InvalidInput, $"invalid tag \"{tag}\"");

    /// <summary>The repository alone, without tag or digest.</summary>
    public ImageReference WithoutTagOrDigest() => new(Registry, Repository, null, null);

    /// <summary>The canonical form: <c>registry/repository[:tag][@digest]</c>, such as <c>docker.io/library/nginx:1.27</c>.</summary>
    public override string ToString() => Name + Suffix;

    /// <summary>The short form docker shows: without <c>docker.io/</c> and <c>library/</c>, such as <c>nginx:1.27</c>.</summary>
    public string ToFamiliarString()
    {
        if (!Registry.IsDockerHub)
        {
            return ToString();
        }

        // A bare 64-hex name would be read back as an image id, so that one keeps its "library/".
        var path = Repository.StartsWith("library/", StringComparison.Ordinal) && Repository.IndexOf('/', 8) < 0
            && !(Tag is null && Digest is null && AnchoredIdentifier().IsMatch(Repository.AsSpan(8)))
            ? Repository[8..]
            : Repository;
        return path + Suffix;
    }

    private string Suffix => (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    // Equal across host case (Registry.Name is lower-case), as two spellings name one registry.
    private string CanonicalText => Registry.Name + "/" + Repository + Suffix;

    /// <inheritdoc/>
    public bool Equals(ImageReference? other) => other is not null && string.Equals(CanonicalText, other.CanonicalText, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ImageReference);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(CanonicalText);

    /// <summary>Equal when the canonical forms (host in lower case) are.</summary>
    public static bool operator ==(ImageReference? left, ImageReference? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Different when the canonical forms are.</summary>
    public static bool operator !=(ImageReference? left, ImageReference? right) => !(left == right);

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex PathComponent();

    [GeneratedRegex(@"^[\w][\w.-]{0,127}\z", RegexOptions.CultureInvariant | RegexOptions.ECMAScript)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\z", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();

    [GeneratedRegex(@"^[a-f0-9]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex AnchoredIdentifier();
}
