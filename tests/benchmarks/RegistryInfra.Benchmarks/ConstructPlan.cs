using System.Text.Json;
using Google.Protobuf;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Benchmarks;

/// <summary>
/// What one Construct registered, as a plan another component provider can replay through the same monitor: each
/// registration's type, name, whether it is custom, its parent and dependencies as indexes into the plan (-1: outside
/// it), and its inputs as the protobuf JSON of the Struct that was sent. The first entry is the component itself.
/// </summary>
internal static class ConstructPlan
{
    public static void Write(IReadOnlyList<FakeResourceMonitor.Registration> registrations, string path)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < registrations.Count; i++)
        {
            index[registrations[i].Urn] = i;
        }
        int IndexOf(string urn) => index.TryGetValue(urn, out var i) ? i : -1;
        var formatter = new JsonFormatter(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));
        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream);
        writer.WriteStartArray();
        foreach (var registration in registrations)
        {
            var request = registration.Request;
            writer.WriteStartObject();
            writer.WriteString("type", request.Type);
            writer.WriteString("name", request.Name);
            writer.WriteBoolean("custom", request.Custom);
            writer.WriteNumber("parent", IndexOf(request.Parent));
            writer.WriteStartArray("dependencies");
            foreach (var dependency in request.Dependencies.Select(IndexOf).Where(i => i >= 0).Distinct())
            {
                writer.WriteNumberValue(dependency);
            }
            writer.WriteEndArray();
            writer.WritePropertyName("inputs");
            writer.WriteRawValue(formatter.Format(request.Object ?? new Google.Protobuf.WellKnownTypes.Struct()));
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
