using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Provider.Components.Kubernetes;

/// <summary>
/// A Kubernetes child's version: its <c>metadata.resourceVersion</c> as pulumi-kubernetes answers it (the API server's
/// value, which changes with every write of the object and says nothing about its data). The engine answers a resource
/// whose inputs did not change with its old outputs, in preview too, so the version is then known and the same; a new
/// resource in preview has none yet, which reads as unknown. An update whose inputs hold unknowns is answered in preview
/// with the inputs alone (unknown here too); one whose inputs are all known is answered with pulumi-kubernetes'
/// server-side dry run, and a dry run keeps the stored resourceVersion (pulumi/pulumi-kubernetes 997c0a88,
/// provider/pkg/provider/provider.go <c>Update</c>; kubernetes/apiserver <c>DryRunnableStorage.GuaranteedUpdate</c> in
/// pkg/registry/generic/registry/dryrun.go): such a change shows its new version only in the update itself.
/// </summary>
internal static class ObjectVersion
{
    public static Output<string?> Of(ComponentScope scope, ChildResource child)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(child);
        var preview = scope.IsPreview;
        return child.Output("metadata", Converters.Any).Then(metadata =>
        {
            var (value, _) = (metadata ?? PropertyValue.Null).Unwrap();
            if (value.Kind == PropertyValueKind.Object && value.ObjectValue.TryGetValue("resourceVersion", out var raw))
            {
                var (version, _) = raw.Unwrap();
                if (version.Kind == PropertyValueKind.String && version.StringValue.Length > 0)
                {
                    return Output.Create<string?>(version.StringValue);
                }
                if (version.IsComputed)
                {
                    return Output.Unknown<string?>();
                }
            }
            return preview ? Output.Unknown<string?>() : Output.Create<string?>(null);
        });
    }
}
