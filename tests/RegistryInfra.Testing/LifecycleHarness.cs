using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using Xunit;

namespace RegistryInfra.Testing;

/// <summary>One step of a lifecycle: new inputs, and what the engine should do with them.</summary>
public sealed record LifecycleStep(
    IReadOnlyDictionary<string, PropertyValue> Inputs,
    Action<DiffResponse>? ExpectDiff = null,
    Action<IReadOnlyDictionary<string, PropertyValue>>? ExpectOutputs = null);

/// <summary>Everything the engine saw during a lifecycle, for assertions.</summary>
public sealed record LifecycleRecord(
    CheckResponse Check,
    CreateResponse PreviewCreate,
    CreateResponse Create,
    IReadOnlyList<(DiffResponse Diff, IReadOnlyDictionary<string, PropertyValue> Outputs, string Id)> Steps,
    ReadResponse Read);

/// <summary>
/// Plays the engine's sequence against a provider just above the wire: Check, preview Create, Create, then
/// per step Check, Diff, and a preview and real Update (or, for a replace, Delete then Create), then Read
/// and Delete, the way <c>pulumi up</c> and <c>pulumi destroy</c> drive a resource. Fails on check failures.
/// </summary>
public sealed class LifecycleHarness(Provider provider, string type, string name = "test")
{
    /// <summary>The URN the engine would give the resource.</summary>
    public string Urn { get; } = $"urn:pulumi:test::project::{type}::{name}";

    /// <summary>Runs the lifecycle.</summary>
    public async Task<LifecycleRecord> RunAsync(
        IReadOnlyDictionary<string, PropertyValue> create, IReadOnlyList<LifecycleStep> steps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(steps);
        var check = await CheckAsync(ImmutableDictionary<string, PropertyValue>.Empty, create, cancellationToken);
        var inputs = check.Inputs!;
        var previewCreate = await provider.CreateAsync(new CreateRequest(Urn, type, name, inputs, TimeSpan.Zero, Preview: true), cancellationToken);
        var created = await provider.CreateAsync(new CreateRequest(Urn, type, name, inputs, TimeSpan.Zero, Preview: false), cancellationToken);
        Assert.False(string.IsNullOrEmpty(created.Id), "Create must return an ID");
        var (id, state) = (created.Id, created.Properties);
        var records = new List<(DiffResponse, IReadOnlyDictionary<string, PropertyValue>, string)>();
        foreach (var step in steps)
        {
            var stepCheck = await CheckAsync(inputs, step.Inputs, cancellationToken);
            var newInputs = stepCheck.Inputs!;
            var diff = await provider.DiffAsync(new DiffRequest(Urn, type, name, id, state, inputs, newInputs, []), cancellationToken);
            step.ExpectDiff?.Invoke(diff);
            if (diff.HasChanges == true && diff.Replaces.Length > 0)
            {
                await provider.CreateAsync(new CreateRequest(Urn, type, name, newInputs, TimeSpan.Zero, Preview: true), cancellationToken);
                var replacement = await provider.CreateAsync(new CreateRequest(Urn, type, name, newInputs, TimeSpan.Zero, Preview: false), cancellationToken);
                await provider.DeleteAsync(new DeleteRequest(id, Urn, type, name, state, inputs, TimeSpan.Zero), cancellationToken);
                (id, state) = (replacement.Id, replacement.Properties);
            }
            else if (diff.HasChanges == true)
            {
                await provider.UpdateAsync(new UpdateRequest(id, Urn, type, name, state, inputs, newInputs, TimeSpan.Zero, [], Preview: true), cancellationToken);
                var updated = await provider.UpdateAsync(new UpdateRequest(id, Urn, type, name, state, inputs, newInputs, TimeSpan.Zero, [], Preview: false), cancellationToken);
                state = updated.Properties;
            }
            inputs = newInputs;
            step.ExpectOutputs?.Invoke(state);
            records.Add((diff, state, id));
        }
        var read = await provider.ReadAsync(new ReadRequest(id, Urn, type, name, state, inputs), cancellationToken);
        await provider.DeleteAsync(new DeleteRequest(id, Urn, type, name, state, inputs, TimeSpan.Zero), cancellationToken);
        return new LifecycleRecord(check, previewCreate, created, records, read);
    }

    /// <summary>Check as the engine calls it; fails the test on check failures.</summary>
    public async Task<CheckResponse> CheckAsync(
        IReadOnlyDictionary<string, PropertyValue> olds, IReadOnlyDictionary<string, PropertyValue> news, CancellationToken cancellationToken)
    {
        var response = await provider.CheckAsync(new CheckRequest(Urn, type, name, olds, news, []), cancellationToken);
        Assert.True(response.Failures.Count == 0, "Check failed: " + string.Join("; ", response.Failures.Select(f => $"{f.Property}: {f.Reason}")));
        return response;
    }
}
