using System.Collections.Immutable;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Model;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Components.AcrPullAccess;
using RegistryInfra.Provider.Components.ClusterRegistryAccess;
using RegistryInfra.Provider.Components.DevRegistry;
using RegistryInfra.Provider.Components.EcrPullAccess;
using RegistryInfra.Provider.Components.PullSecret;
using RegistryInfra.Provider.Components.TokenRefresher;
using RegistryInfra.Provider.Components.WorkloadIdentityBinding;
using RegistryInfra.Provider.Tests.ChildCheck;
using RegistryInfra.Testing.Monitor;

namespace RegistryInfra.Provider.Tests.Components;

/// <summary>
/// Preview is a product: for every component mode and every input path in turn replaced by an unknown (as the
/// engine sends a value that comes from a resource not created yet), the preview registers the children the
/// update registers, except those whose existence or name depends on that input, and says which it left out.
/// The preview never fails where the update, with the value known, succeeds.
/// </summary>
public sealed class PreviewMatrixTests
{
    private sealed record Outcome(ImmutableHashSet<string> Children, ImmutableArray<string> LeftOut, string? Failure);

    private static async Task<Outcome> RunAsync(ComponentMode mode, ImmutableSortedDictionary<string, PropertyValue> inputs, bool preview) => mode.Type switch
    {
        PullSecretComponent.TypeToken => await RunAsync(PullSecretComponent.Instance, mode, inputs, preview),
        EcrPullAccessComponent.TypeToken => await RunAsync(EcrPullAccessComponent.Instance, mode, inputs, preview),
        WorkloadIdentityBindingComponent.TypeToken => await RunAsync(WorkloadIdentityBindingComponent.Instance, mode, inputs, preview),
        AcrPullAccessComponent.TypeToken => await RunAsync(AcrPullAccessComponent.Instance, mode, inputs, preview),
        TokenRefresherComponent.TypeToken => await RunAsync(TokenRefresherComponent.Instance, mode, inputs, preview),
        DevRegistryComponent.TypeToken => await RunAsync(DevRegistryComponent.Instance, mode, inputs, preview),
        ClusterRegistryAccessComponent.TypeToken => await RunAsync(ClusterRegistryAccessComponent.Instance, mode, inputs, preview),
        _ => throw new ArgumentException($"no component {mode.Type}"),
    };

    private static async Task<Outcome> RunAsync<TArgs, TOutputs>(IComponent<TArgs, TOutputs> component, ComponentMode mode,
        ImmutableSortedDictionary<string, PropertyValue> inputs, bool preview)
        where TArgs : class, IPulumiModel<TArgs> where TOutputs : class, IPulumiModel<TOutputs>
    {
        var bound = PropertyBinder.Bind<TArgs>(inputs, preview ? BindMode.AllowUnknowns : BindMode.Strict);
        if (!bound.Succeeded)
        {
            return new Outcome([], [], string.Join("; ", bound.Failures.Select(f => $"{f.Property}: {f.Reason}")));
        }
        // In an update the engine answers what the providers compute (a managed identity's ids); in a preview, nothing.
        var registrar = new RecordingRegistrar { Answer = preview ? null : r => ProviderAnswers.Computed(r.Type, r.Name) };
        var log = new Log();
        try
        {
            await ComponentHost.ConstructAsync(component, bound.Value!, mode.Request("unused:0", preview) with { Log = log }, registrar, TestContext.Current.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new Outcome([], [], e.Message);
        }
        return new Outcome([.. registrar.Registrations.Select(r => $"{r.Registration.Type} {r.Registration.Name}")], [.. log.Lines], null);
    }

    private sealed class Log : IEngineLog
    {
        public List<string> Lines { get; } = [];

        public Task LogAsync(LogLevel level, string message, string urn, CancellationToken cancellationToken)
        {
            Lines.Add(message);
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// Every path of a value: each scalar, list, map and nested object, and below them each object property and list item.
    /// </summary>
    private static IEnumerable<ImmutableArray<object>> Paths(PropertyValue value, ImmutableArray<object> at)
    {
        var (inner, _) = value.Unwrap();
        if (at.Length > 0)
        {
            yield return at;
        }
        if (inner.Kind == PropertyValueKind.Object)
        {
            foreach (var (key, item) in inner.ObjectValue)
            {
                foreach (var path in Paths(item, at.Add(key)))
                {
                    yield return path;
                }
            }
        }
        else if (inner.Kind == PropertyValueKind.Array)
        {
            for (var i = 0; i < inner.ArrayValue.Length; i++)
            {
                foreach (var path in Paths(inner.ArrayValue[i], at.Add(i)))
                {
                    yield return path;
                }
            }
        }
    }

    private static PropertyValue Replace(PropertyValue value, ImmutableArray<object> path, int depth)
    {
        if (depth == path.Length)
        {
            return PropertyValue.Computed;
        }
        var (inner, secret) = value.Unwrap();
        var replaced = path[depth] switch
        {
            string key => PropertyValue.CreateObject(inner.ObjectValue.SetItem(key, Replace(inner.ObjectValue[key], path, depth + 1))),
            int index => PropertyValue.CreateArray(inner.ArrayValue.SetItem(index, Replace(inner.ArrayValue[index], path, depth + 1))),
            _ => throw new ArgumentException("bad path"),
        };
        return secret ? replaced.AsSecret() : replaced;
    }

    private static string Show(ImmutableArray<object> path) =>
        string.Concat(path.Select((p, i) => p is int n ? $"[{n}]" : i == 0 ? (string)p : "." + p));

    [Fact]
    public async Task Every_input_made_unknown_in_turn_previews_every_child_that_does_not_depend_on_it()
    {
        int cases = 0, full = 0, partial = 0, alone = 0, previewChildren = 0, updateChildren = 0;
        var problems = new List<string>();
        foreach (var mode in ComponentModes.All)
        {
            var inputs = mode.Inputs;
            var update = await RunAsync(mode, inputs, preview: false);
            Assert.True(update.Failure is null, $"{mode.Id}: the update fails: {update.Failure}");
            var root = PropertyValue.CreateObject(inputs);
            foreach (var path in Paths(root, []))
            {
                cases++;
                var unknownInputs = Replace(root, path, 0).ObjectValue;
                var preview = await RunAsync(mode, unknownInputs, preview: true);
                var at = $"{mode.Id} with {Show(path)} unknown";
                if (preview.Failure is not null)
                {
                    problems.Add($"{at}: preview fails: {preview.Failure}");
                    continue;
                }
                previewChildren += preview.Children.Count;
                updateChildren += update.Children.Count;
                if (!preview.Children.IsSubsetOf(update.Children))
                {
                    problems.Add($"{at}: preview registers what the update does not: {string.Join(", ", preview.Children.Except(update.Children))}");
                }
                if (preview.Children.SetEquals(update.Children))
                {
                    full++;
                }
                else
                {
                    partial++;
                    // Only children that truly depend on the unknown are left out, and the component says which.
                    if (preview.LeftOut.IsEmpty)
                    {
                        problems.Add($"{at}: {update.Children.Count - preview.Children.Count} children left out without a word");
                    }
                    if (preview.Children.Count <= 1)
                    {
                        // Allowed only where every child depends on the unknown (a PullSecret's Secrets are all named
                        // after its namespaces and decided by its registries), and then said in the log.
                        alone++;
                    }
                }
            }
        }

        TestContext.Current.SendDiagnosticMessage(
            $"preview matrix: {ComponentModes.All.Count} component modes, {cases} inputs made unknown in turn; {full} previews register every child of the update, " +
            $"{partial} leave out children whose existence or name depends on the unknown ({alone} of them every child); children in preview {previewChildren} / in update {updateChildren}");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.True(cases > 200, $"only {cases} cases");
    }

    // Regression: an unknown oidcProviderArn (the cluster is created in the same program) made EcrPullAccess
    // preview no IAM role at all.
    [Fact]
    public async Task Ecr_pull_access_previews_its_role_with_an_unknown_oidc_provider()
    {
        var mode = ComponentModes.All.First(m => m.Type == EcrPullAccessComponent.TypeToken);
        var inputs = mode.Inputs.SetItem("oidcProviderArn", PropertyValue.Computed);

        var preview = await RunAsync(mode, inputs, preview: true);

        Assert.Null(preview.Failure);
        Assert.Contains(preview.Children, c => c.StartsWith(EcrPullAccessComponent.RoleType + " ", StringComparison.Ordinal));
        Assert.Contains(preview.Children, c => c.StartsWith(EcrPullAccessComponent.RolePolicyType + " ", StringComparison.Ordinal));
    }

    // Regression: an unknown anywhere hid real input errors (an invalid schedule passed the preview).
    [Fact]
    public async Task An_unknown_never_hides_an_error_the_known_inputs_show()
    {
        var mode = ComponentModes.All.First(m => m.Type == TokenRefresherComponent.TypeToken);
        var inputs = mode.Inputs.SetItem("schedule", PropertyValue.Create("every six hours")).SetItem("image", PropertyValue.Computed);

        var preview = await RunAsync(mode, inputs, preview: true);

        Assert.NotNull(preview.Failure);
        Assert.StartsWith("schedule:", preview.Failure, StringComparison.Ordinal);
    }

    // Regression: unknown quantities failed the preview ("The string '04da6b54-80' cannot be converted to fraction").
    [Theory]
    [InlineData("cpuRequest")]
    [InlineData("memoryRequest")]
    [InlineData("memoryLimit")]
    public async Task Unknown_quantities_preview_the_pod_with_the_quantity_unknown(string input)
    {
        var mode = ComponentModes.All.First(m => m.Type == TokenRefresherComponent.TypeToken);
        var update = await RunAsync(mode, mode.Inputs, preview: false);

        var preview = await RunAsync(mode, mode.Inputs.SetItem(input, PropertyValue.Computed), preview: true);

        Assert.Null(preview.Failure);
        Assert.Equal(update.Children, preview.Children);
    }
}
