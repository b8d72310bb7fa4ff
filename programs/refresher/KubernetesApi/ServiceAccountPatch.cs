using System.Text;
using System.Text.Json;

namespace RegistryInfra.Refresher.KubernetesApi;

/// <summary>
/// The JSON merge patch that sets a service account's <c>imagePullSecrets</c>, written by hand (no reflection, so
/// NativeAOT keeps it). A merge patch replaces a list whole (RFC 7386), so it carries the union of what was read and
/// our name; the <c>resourceVersion</c> in its metadata makes the API server refuse it with 409 if anyone changed the
/// account since (kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply: a patch that includes
/// <c>metadata.resourceVersion</c> is applied only to that version).
/// </summary>
internal static class ServiceAccountPatch
{
    public static string Json(string? resourceVersion, IReadOnlyList<string> imagePullSecrets)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("metadata");
            writer.WriteString("resourceVersion", resourceVersion);
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
