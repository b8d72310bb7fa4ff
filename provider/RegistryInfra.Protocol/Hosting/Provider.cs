namespace RegistryInfra.Protocol.Hosting;

/// <summary>
/// A resource provider in typed records, apart from the wire types. Every operation not overridden
/// answers gRPC <c>Unimplemented</c>. <see cref="ResourceProviderService"/> is the one adapter to the wire.
/// </summary>
public abstract class Provider
{
    /// <summary>The package schema as JSON.</summary>
    public virtual Task<string> GetSchemaAsync(CancellationToken cancellationToken) =>
        throw new NotImplementedException("GetSchema");

    /// <summary>
    /// Whether <see cref="GetSchemaAsync"/> answers the same text for the life of the process (a schema embedded or
    /// generated once, no parameterization that changes it): the host then asks for it once, at start and off the
    /// path of the first answers, and serves every GetSchema from that one serialized and compressed answer.
    /// </summary>
    public virtual bool SchemaIsFixed => false;

    /// <summary>Called once with the engine's address and directories before anything else.</summary>
    public virtual Task HandshakeAsync(HandshakeRequest request, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The provider's configuration keys (none by default); <see cref="CheckConfigAsync"/> refuses any other.</summary>
    public virtual IReadOnlyCollection<string> ConfigKeys => [];

    /// <summary>
    /// Keys the engine itself puts in a provider's inputs (pulumi/pkg/resource/deploy/providers: the plugin version
    /// and download URL); internal keys start with <c>__</c>.
    /// </summary>
    public static IReadOnlyCollection<string> EngineConfigKeys { get; } = ["version", "pluginDownloadURL", "pluginChecksums"];

    /// <summary>
    /// Validates the provider's configuration: a key that is neither one of <see cref="ConfigKeys"/> nor the engine's
    /// is refused (a typo would otherwise be silently ignored), with the closest known key when one is near.
    /// </summary>
    public virtual Task<CheckResponse> CheckConfigAsync(CheckRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var known = ConfigKeys.Concat(EngineConfigKeys).ToList();
        var failures = new List<CheckFailure>();
        foreach (var key in request.NewInputs.Keys)
        {
            if (known.Contains(key, StringComparer.Ordinal) || key.StartsWith("__", StringComparison.Ordinal))
            {
                continue;
            }
            var shown = StatusText.Cap(key, 100);
            var hint = StatusText.Closest(key, known) is { } near ? $"; did you mean '{near}'?" : "";
            failures.Add(new CheckFailure(shown,
                ConfigKeys.Count == 0
                    ? $"unknown provider configuration key '{shown}': this provider takes no configuration{hint}"
                    : $"unknown provider configuration key '{shown}' (known: {string.Join(", ", ConfigKeys.Order(StringComparer.Ordinal))}){hint}"));
        }
        return Task.FromResult(new CheckResponse(failures.Count == 0 ? request.NewInputs : null, failures));
    }

    /// <summary>Diffs the provider's configuration; by default says "unknown" so the engine decides.</summary>
    public virtual Task<DiffResponse> DiffConfigAsync(DiffRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(DiffResponse.None with { HasChanges = null });

    /// <summary>Configures the provider.</summary>
    public virtual Task ConfigureAsync(ConfigureRequest request, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Checks a resource's inputs.</summary>
    public virtual Task<CheckResponse> CheckAsync(CheckRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException("Check");

    /// <summary>Diffs a resource.</summary>
    public virtual Task<DiffResponse> DiffAsync(DiffRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException("Diff");

    /// <summary>Creates a resource.</summary>
    public virtual Task<CreateResponse> CreateAsync(CreateRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException("Create");

    /// <summary>Reads a resource.</summary>
    public virtual Task<ReadResponse> ReadAsync(ReadRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException("Read");

    /// <summary>Updates a resource.</summary>
    public virtual Task<UpdateResponse> UpdateAsync(UpdateRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException("Update");

    /// <summary>Deletes a resource.</summary>
    public virtual Task DeleteAsync(DeleteRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException("Delete");

    /// <summary>Invokes a function.</summary>
    public virtual Task<InvokeResponse> InvokeAsync(InvokeRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException("Invoke");

    /// <summary>Calls a component method.</summary>
    public virtual Task<CallResponse> CallAsync(CallRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException("Call");

    /// <summary>Constructs a component.</summary>
    public virtual Task<ConstructResponse> ConstructAsync(ConstructRequest request, CancellationToken cancellationToken) =>
        throw new NotImplementedException("Construct");
}

/// <summary>A type or function token that the provider does not know; answered as gRPC <c>NotFound</c>.</summary>
public sealed class UnknownTokenException : Exception
{
    /// <summary>Creates the exception for <paramref name="token"/>.</summary>
    public UnknownTokenException(string kind, string token)
        : base($"unknown {kind} token '{token}'") => Token = token;

    /// <summary>Creates the exception with a message.</summary>
    public UnknownTokenException() : base("unknown token") => Token = "";

    /// <summary>Creates the exception with a message.</summary>
    public UnknownTokenException(string message) : base(message) => Token = "";

    /// <summary>Creates the exception with a message and cause.</summary>
    public UnknownTokenException(string message, Exception innerException) : base(message, innerException) => Token = "";

    /// <summary>The token that was not found.</summary>
    public string Token { get; }
}
