using RegistryInfra.Protocol.Hosting;

namespace RegistryInfra.Protocol.Resources;

/// <summary>
/// A <see cref="Provider"/> that dispatches every operation by type token to the handlers of one
/// <see cref="ResourceTable"/>, and serves the schema generated from their declarations (built on first request).
/// </summary>
public sealed class PackageProvider : Provider
{
    private readonly ResourceTable _table;
    private readonly Lazy<string> _schema;

    /// <summary>Creates the provider for <paramref name="package"/> with the handlers in <paramref name="table"/>.</summary>
    public PackageProvider(PackageInfo package, ResourceTable table)
    {
        _table = table;
        _schema = new Lazy<string>(() => SchemaGenerator.Generate(package, table));
    }

    /// <inheritdoc/>
    public override Task<string> GetSchemaAsync(CancellationToken cancellationToken) => Task.FromResult(_schema.Value);

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
