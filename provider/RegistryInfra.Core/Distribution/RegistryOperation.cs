using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Core.Distribution;

/// <summary>
/// One operation of the client: the registry, repository and reference it is about, the credentials it
/// may use (fetched at most once) and so the secrets every message of it must be scrubbed of.
/// </summary>
internal sealed class RegistryOperation(string registry, string? repository, string? reference, ICredentialSource? credentials)
{
    private Task<RegistryCredential>? _credential;
    private RegistryCredential? _fetched;

    public string Registry { get; } = registry;

    public string? Repository { get; } = repository;

    public string? Reference { get; } = reference;

    public bool HadCredential => credentials is not null;

    /// <summary>The token scopes: pull on the repository, or those given for a credential check (sorted, so the cache key is a set).</summary>
    public IReadOnlyList<string> Scopes { get; init; } = repository is null ? [] : [$"repository:{repository}:pull"];

    /// <summary>Every credential byte sequence in play: the password, identity token and their Basic form, and tokens issued for this operation.</summary>
    public IReadOnlyCollection<string?> Secrets
    {
        get
        {
            lock (_issued)
            {
                var secrets = new List<string?>(_issued);
                if (_fetched is { } c)
                {
                    secrets.Add(c.IdentityToken);
                    secrets.AddRange(Redaction.BasicForms(c.Username, c.Password));
                }
                return secrets;
            }
        }
    }

    private readonly List<string> _issued = [];

    /// <summary>Records a token issued to this operation, so no message quotes it.</summary>
    public void Issued(string token)
    {
        lock (_issued)
        {
            _issued.Add(token);
        }
    }

    public async Task<RegistryCredential?> CredentialAsync(CancellationToken cancellationToken)
    {
        if (credentials is null)
        {
            return null;
        }
        _credential ??= credentials.GetCredentialAsync(cancellationToken).AsTask();
        _fetched = await _credential.ConfigureAwait(false);
        return _fetched;
    }

    public string Describe() => Repository is null
        ? $"registry {Registry}"
        : Reference is null ? $"registry {Registry}, repository {Repository}" : $"registry {Registry}, repository {Repository}, reference {Reference}";

    public override string ToString() => Describe();
}
