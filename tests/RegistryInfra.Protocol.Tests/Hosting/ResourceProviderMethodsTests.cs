using Grpc.Core;
using Moq;
using RegistryInfra.Protocol.Hosting;

namespace RegistryInfra.Protocol.Tests.Hosting;

/// <summary>
/// The plugin registers its RPCs from its own table rather than the generated BindService (see
/// ResourceProviderMethods); the table must be exactly the service of the .proto files.
/// </summary>
public sealed class ResourceProviderMethodsTests
{
    private sealed class EmptyProvider : Provider;

    private static IReadOnlyList<ResourceProviderMethods.Registration> Table()
    {
        using var cancel = new CancellationTokenSource();
        return ResourceProviderMethods.Table(new ResourceProviderService(new EmptyProvider(), cancel, Mock.Of<IEngineLog>()));
    }

    [Fact]
    public void Table_has_every_rpc_of_the_generated_descriptor_with_its_message_types_and_kind()
    {
        var expected = Pulumirpc.ResourceProvider.Descriptor.Methods
            .Select(m => (m.Name, Type: m.IsServerStreaming ? (m.IsClientStreaming ? MethodType.DuplexStreaming : MethodType.ServerStreaming) : m.IsClientStreaming ? MethodType.ClientStreaming : MethodType.Unary,
                Request: m.InputType.ClrType, Response: m.OutputType.ClrType))
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();

        var actual = Table()
            .Select(r => (r.Name, r.Type, r.Request, r.Response))
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();

        Assert.Equal(expected, actual);
        Assert.Equal(ResourceProviderMethods.ServiceName, Pulumirpc.ResourceProvider.Descriptor.FullName);
    }

    [Fact]
    public void Table_names_each_rpc_once()
    {
        var names = Table().Select(r => r.Name).ToList();

        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
    }
}
