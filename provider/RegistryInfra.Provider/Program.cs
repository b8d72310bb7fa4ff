using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Provider;

// `--schema [FILE]` writes the package schema (used by provider/build); anything else runs the plugin as
// the engine starts it: `pulumi-resource-registryinfra [--logflow] [--tracing X] ENGINE_ADDRESS`.
var schemaFlag = Array.IndexOf(args, "--schema");
if (schemaFlag >= 0)
{
    var schema = RegistryInfraPackage.Schema();
    if (schemaFlag + 1 < args.Length)
    {
        await File.WriteAllTextAsync(args[schemaFlag + 1], schema);
    }
    else
    {
        await Console.Out.WriteAsync(schema);
    }
    return 0;
}

return await ProviderHost.ServeAsync(args, _ => RegistryInfraPackage.CreateProvider(), Console.Out, CancellationToken.None);
