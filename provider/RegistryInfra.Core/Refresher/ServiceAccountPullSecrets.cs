using System.Text;
using System.Text.Json;

namespace RegistryInfra.Core.Refresher;

/// <summary>
/// What every RegistryInfra writer of service accounts (the refresher, and the provider's PullSecretAttachment) shares:
/// the annotation that records which <c>imagePullSecrets</c> names RegistryInfra added, and the JSON merge patch that
/// sets the whole list and that annotation. A merge patch replaces a list whole (RFC 7386), so it carries the whole new
/// list; a null annotation removes the key (RFC 7386: null deletes). The <c>resourceVersion</c> in its metadata makes the
/// API server refuse it with 409 if anyone changed the account since (kubernetes.io/docs/reference/using-api/api-concepts/
/// #patch-and-apply). Written by hand (no reflection, so NativeAOT keeps it).
/// </summary>
public static class ServiceAccountPullSecrets
{
    /// <summary>The names RegistryInfra added to the account's <c>imagePullSecrets</c>, comma-separated.</summary>
    public const string AddedAnnotation = "registryinfra.io/added-image-pull-secrets";

    /// <summary>The merge patch setting <paramref name="imagePullSecrets"/> and the annotation (<paramref name="added"/>, null to remove it).</summary>
    public static string MergePatch(string? resourceVersion, IEnumerable<string> imagePullSecrets, string? added)
    {
        ArgumentNullException.ThrowIfNull(imagePullSecrets);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("metadata");
            writer.WriteString("resourceVersion", resourceVersion);
            writer.WriteStartObject("annotations");
            if (added is null)
            {
                writer.WriteNull(AddedAnnotation);
            }
            else
            {
                writer.WriteString(AddedAnnotation, added);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteStartArray("imagePullSecrets");
            foreach (var name in imagePullSecrets)
            {
                writer.WriteStartObject();
                writer.WriteString("name", name);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
