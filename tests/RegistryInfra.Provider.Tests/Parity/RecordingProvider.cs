using System.Text.Json.Nodes;
using Google.Protobuf;
using RegistryInfra.Protocol.Hosting;
using EngineProvider = RegistryInfra.Protocol.Hosting.Provider;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Provider.Tests.Parity;

/// <summary>
/// A provider that passes every call to <paramref name="inner"/> and writes what came back (or the gRPC status an
/// error becomes) into a transcript, in a canonical form: property maps as their wire JSON with sorted keys, errors
/// as <see cref="ProviderErrors.ToStatus"/> makes them. Two providers that answer alike give equal transcripts.
/// </summary>
internal sealed class RecordingProvider(EngineProvider inner) : EngineProvider
{
    private readonly List<string> _transcript = [];

    public IReadOnlyList<string> Transcript => _transcript;

    public void Note(string line) => _transcript.Add(line);

    /// <summary>What the components registered with <paramref name="monitor"/>: each request (sorted by URN, as children may register concurrently) and each component's outputs.</summary>
    public void NoteRegistrations(FakeResourceMonitor monitor)
    {
        foreach (var registration in monitor.Registrations.OrderBy(r => r.Urn, StringComparer.Ordinal))
        {
            Note($"RegisterResource {registration.Urn} -> {Canonical(JsonFormatter.Default.Format(registration.Request))}");
        }
        foreach (var (urn, outputs) in monitor.ComponentOutputs.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            Note($"RegisterResourceOutputs {urn} -> {Properties(outputs)}");
        }
    }

    public override Task<CheckResponse> CheckAsync(CheckRequest request, CancellationToken cancellationToken) =>
        Record("Check", () => inner.CheckAsync(request, cancellationToken), r => $"{Properties(r.Inputs)} failures {Failures(r.Failures)}");

    public override Task<DiffResponse> DiffAsync(DiffRequest request, CancellationToken cancellationToken) =>
        Record("Diff", () => inner.DiffAsync(request, cancellationToken), r =>
            $"changes {r.HasChanges?.ToString() ?? "unknown"} replaces [{string.Join(",", r.Replaces)}] stables [{string.Join(",", r.Stables)}] " +
            $"deleteBeforeReplace {r.DeleteBeforeReplace} detailed [{string.Join(",", r.DetailedDiff.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}:{d.Value.Kind}:{d.Value.InputDiff}"))}]");

    public override Task<CreateResponse> CreateAsync(CreateRequest request, CancellationToken cancellationToken) =>
        Record(request.Preview ? "Create(preview)" : "Create", () => inner.CreateAsync(request, cancellationToken), r => $"id '{r.Id}' {Properties(r.Properties)}");

    public override Task<ReadResponse> ReadAsync(ReadRequest request, CancellationToken cancellationToken) =>
        Record("Read", () => inner.ReadAsync(request, cancellationToken), r => $"id '{r.Id}' {Properties(r.Properties)} inputs {Properties(r.Inputs)}");

    public override Task<UpdateResponse> UpdateAsync(UpdateRequest request, CancellationToken cancellationToken) =>
        Record(request.Preview ? "Update(preview)" : "Update", () => inner.UpdateAsync(request, cancellationToken), r => Properties(r.Properties));

    public override Task DeleteAsync(DeleteRequest request, CancellationToken cancellationToken) =>
        Record("Delete", async () =>
        {
            await inner.DeleteAsync(request, cancellationToken).ConfigureAwait(false);
            return true;
        }, _ => "ok");

    public override Task<InvokeResponse> InvokeAsync(InvokeRequest request, CancellationToken cancellationToken) =>
        Record("Invoke", () => inner.InvokeAsync(request, cancellationToken), r => $"{Properties(r.Return)} failures {Failures(r.Failures)}");

    public override Task<ConstructResponse> ConstructAsync(ConstructRequest request, CancellationToken cancellationToken) =>
        Record("Construct", () => inner.ConstructAsync(request, cancellationToken), r =>
            $"urn {r.Urn} {Properties(r.State)} dependencies [{string.Join(",", r.StateDependencies.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}:{string.Join("|", d.Value.Order(StringComparer.Ordinal))}"))}]");

    private async Task<T> Record<T>(string operation, Func<Task<T>> call, Func<T, string> describe)
    {
        try
        {
            var result = await call().ConfigureAwait(false);
            Note($"{operation} -> {describe(result)}");
            return result;
        }
        catch (Exception e)
        {
            var status = ProviderErrors.ToStatus(e);
            Note($"{operation} -> error {status.StatusCode}: {status.Detail}");
            throw;
        }
    }

    private static string Failures(IReadOnlyList<CheckFailure> failures) => "[" + string.Join("; ", failures.Select(f => $"{f.Property}: {f.Reason}")) + "]";

    internal static string Properties(IReadOnlyDictionary<string, PropertyValue>? properties) =>
        properties is null ? "null" : Canonical(JsonFormatter.Default.Format(PropertyValueSerializer.Serialize(properties.OrderBy(p => p.Key, StringComparer.Ordinal))));

    private static string Canonical(string json) => Sorted(JsonNode.Parse(json))?.ToJsonString() ?? "null";

    // A secret's value is written as its hash: two transcripts still compare exactly, and a difference report
    // prints no credential.
    private static bool IsSecret(JsonObject o) =>
        o[Signatures.Key] is JsonValue signature && signature.TryGetValue<string>(out var kind) &&
        (kind == Signatures.Secret || (kind == Signatures.OutputValue && o["secret"] is JsonValue secret && secret.TryGetValue<bool>(out var isSecret) && isSecret));

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o when IsSecret(o) => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, p.Key == "value"
            ? JsonValue.Create("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Sorted(p.Value)?.ToJsonString() ?? "null"))))
            : Sorted(p.Value)))),
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Sorted)]),
        _ => node?.DeepClone(),
    };
}
