using System.Text;
using System.Text.Json;

namespace RegistryInfra.Refresher.KubernetesApi;

/// <summary>
/// The JSON merge patch that sets a service account's <c>imagePullSecrets</c> and the annotation recording which of
/// them a RegistryInfra refresher added, written by hand (no reflection, so NativeAOT keeps it). A merge patch
/// replaces a list whole (RFC 7386), so it carries the whole new list; a null annotation removes the key (RFC 7386:
/// null deletes). The <c>resourceVersion</c> in its metadata makes the API server refuse it with 409 if anyone
/// changed the account since (kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply: a patch that
/// includes <c>metadata.resourceVersion</c> is applied only to that version).
/// </summary>
internal static class ServiceAccountPatch
{
    public static string Json(string? resourceVersion, IReadOnlyList<string> imagePullSecrets, string? added)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("metadata");
            writer.WriteString("resourceVersion", resourceVersion);
            writer.WriteStartObject("annotations");
            if (added is null)
            {
                writer.WriteNull(SecretRefresher.AddedPullSecretsAnnotation);
            }
            else
            {
                writer.WriteString(SecretRefresher.AddedPullSecretsAnnotation, added);
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
