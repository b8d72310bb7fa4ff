using RegistryInfra.Protocol.Hosting;

namespace RegistryInfra.Protocol.Resources;

/// <summary>
/// A <see cref="Provider"/> that dispatches every operation by type token to the handlers of one
/// <see cref="ResourceTable"/>, and serves the schema: one embedded at build time when the package has it, else the one
/// generated from their declarations (built on first request).
/// </summary>
public sealed class PackageProvider : Provider
{
    private readonly ResourceTable _table;
    private readonly IProviderConfiguration? _configuration;
    private readonly Lazy<string> _schema;

    /// <summary>Creates the provider for <paramref name="package"/> with the handlers in <paramref name="table"/>
    /// and, when given, its own <paramref name="configuration"/> and the <paramref name="schema"/> it serves (read on
    /// the first GetSchema; null: generated from the declarations then).</summary>
    public PackageProvider(PackageInfo package, ResourceTable table, IProviderConfiguration? configuration = null, Func<string>? schema = null)
    {
        _table = table;
        _configuration = configuration;
        _schema = new Lazy<string>(schema ?? (() => SchemaGenerator.Generate(package, table, configuration)));
    }

    /// <inheritdoc/>
    public override IReadOnlyCollection<string> ConfigKeys => _configuration is null ? [] : [.. _configuration.Variables.Select(v => v.Name)];

    /// <inheritdoc/>
    public override async Task<CheckResponse> CheckConfigAsync(CheckRequest request, CancellationToken cancellationToken)
    {
        var checkedKeys = await base.CheckConfigAsync(request, cancellationToken).ConfigureAwait(false);
        if (_configuration is null || checkedKeys.Failures.Count > 0)
        {
            return checkedKeys;
        }
        var failures = _configuration.Check(request.NewInputs);
        return failures.Count == 0 ? checkedKeys : new CheckResponse(null, failures);
    }

    /// <inheritdoc/>
    public override Task ConfigureAsync(ConfigureRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_configuration is not null)
        {
            var failures = _configuration.Check(request.Args);
            if (failures.Count > 0)
            {
                throw new ArgumentException(string.Join("; ", failures.Select(f => $"{f.Property}: {f.Reason}")));
            }
            _configuration.Configure(request.Args);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override Task<string> GetSchemaAsync(CancellationToken cancellationToken) => Task.FromResult(_schema.Value);

    /// <inheritdoc/>
    /// <remarks>The schema is read (or generated) once and kept.</remarks>
    public override bool SchemaIsFixed => true;

    /// <inheritdoc/>
    public override Task<CheckResponse> CheckAsync(CheckRequest request, CancellationToken cancellationToken) =>
        _table.GetResource(request.Type).CheckAsync(request, cancellationToken);

    /// <inheritdoc/>
    public override Task<DiffResponse> DiffAsync(DiffRequest request, CancellationToken cancellationToken) =>
        _table.GetResource(request.Type).DiffAsync(request, cancellationToken);

    /// <inheritdoc/>
    public override Task<CreateResponse> CreateAsync(CreateRequest request, CancellationToken cancellationToken) =>
        _table.GetResource(request.Type).CreateAsync(request, cancellationToken);

    /// <inheritdoc/>
    public override Task<ReadResponse> ReadAsync(ReadRequest request, CancellationToken cancellationToken) =>
        _table.GetResource(request.Type).ReadAsync(request, cancellationToken);

    /// <inheritdoc/>
    public override Task<UpdateResponse> UpdateAsync(UpdateRequest request, CancellationToken cancellationToken) =>
        _table.GetResource(request.Type).UpdateAsync(request, cancellationToken);

    /// <inheritdoc/>
    public override Task DeleteAsync(DeleteRequest request, CancellationToken cancellationToken) =>
        _table.GetResource(request.Type).DeleteAsync(request, cancellationToken);

    /// <inheritdoc/>
    public override Task<InvokeResponse> InvokeAsync(InvokeRequest request, CancellationToken cancellationToken) =>
        _table.GetFunction(request.Token).InvokeAsync(request, cancellationToken);

    /// <inheritdoc/>
    public override Task<ConstructResponse> ConstructAsync(ConstructRequest request, CancellationToken cancellationToken) =>
        _table.GetComponent(request.Type).ConstructAsync(request, cancellationToken);
}
