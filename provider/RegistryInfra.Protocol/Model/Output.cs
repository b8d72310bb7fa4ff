using System.Collections.Immutable;

namespace RegistryInfra.Protocol.Model;

/// <summary>
/// What an <see cref="Output{T}"/> resolves to: the value when known, whether it is secret, and the URNs
/// of the resources it came from. Secretness and dependencies travel with the value through every
/// <see cref="Output{T}.Apply{TResult}(Func{T, TResult})"/>, as in the Pulumi SDKs.
/// </summary>
public readonly record struct OutputData<T>(T Value, bool IsKnown, bool IsSecret, ImmutableHashSet<string> Resources)
{
    /// <summary>The combined secretness and dependencies of two values.</summary>
    internal OutputData<TResult> With<TResult>(TResult value, bool known, bool secret, ImmutableHashSet<string> resources) =>
        new(value, IsKnown && known, IsSecret || secret, Dependencies.Union(Resources, resources));
}

/// <summary>The union of two outputs' resources, without walking a set when either side is empty (most values come from no resource).</summary>
internal static class Dependencies
{
    public static ImmutableHashSet<string> Union(ImmutableHashSet<string> first, ImmutableHashSet<string> second) =>
        second.IsEmpty || ReferenceEquals(first, second) ? first
        : first.IsEmpty && first.KeyComparer.Equals(second.KeyComparer) ? second
        : first.Union(second);
}

/// <summary>The untyped view of an output, for the runtime that writes and awaits values.</summary>
public interface IOutput
{
    /// <summary>Whether the value is already resolved (known or unknown).</summary>
    bool IsResolved { get; }

    /// <summary>Waits for the value, returning whether it is known, secret, and the URNs it depends on.</summary>
    Task<(bool IsKnown, bool IsSecret, ImmutableHashSet<string> Resources)> ResolveAsync();
}

/// <summary>
/// A value that may not be known until the update (in preview), may be secret, and records the resources
/// it depends on: the component author's counterpart of the Pulumi SDKs' <c>Output&lt;T&gt;</c>. Inputs
/// bound from the engine's request are already resolved; outputs of registered children resolve when the
/// engine answers their registration.
/// </summary>
public sealed class Output<T> : IOutput
{
    private readonly Task<OutputData<T>> _data;

    internal Output(Task<OutputData<T>> data)
    {
        _data = data;
    }

    internal Output(OutputData<T> data) : this(Task.FromResult(data))
    {
    }

    internal Task<OutputData<T>> DataTask => _data;

    /// <inheritdoc/>
    public bool IsResolved => _data.IsCompleted;

    /// <summary>The resolved data; only once <see cref="IsResolved"/>.</summary>
    public OutputData<T> Data => _data.IsCompletedSuccessfully
        ? _data.Result
        : throw new InvalidOperationException("the output is not resolved yet; await it or use Apply");

    /// <summary>Waits for the value.</summary>
    public Task<OutputData<T>> GetDataAsync() => _data;

    /// <inheritdoc/>
    public async Task<(bool IsKnown, bool IsSecret, ImmutableHashSet<string> Resources)> ResolveAsync()
    {
        var data = await _data.ConfigureAwait(false);
        return (data.IsKnown, data.IsSecret, data.Resources);
    }

    /// <summary>Whether the value is resolved and known; <paramref name="value"/> is then the value.</summary>
    public bool TryGetKnown(out T value)
    {
        if (_data.IsCompletedSuccessfully && _data.Result.IsKnown)
        {
            value = _data.Result.Value;
            return true;
        }
        value = default!;
        return false;
    }

    /// <summary>Whether the value is resolved and unknown (preview, from an unknown input or an uncreated resource).</summary>
    public bool IsUnknown => _data.IsCompletedSuccessfully && !_data.Result.IsKnown;

    /// <summary>A value computed from this one; unknown, secret and dependencies carry over.</summary>
    public Output<TResult> Apply<TResult>(Func<T, TResult> func)
    {
        ArgumentNullException.ThrowIfNull(func);
        if (_data.IsCompletedSuccessfully)
        {
            return new Output<TResult>(Map(_data.Result, func));
        }
        return new Output<TResult>(ApplyAsync(func));
    }

    // Awaited rather than continued, so that a failure inside func surfaces as itself, not wrapped.
    private async Task<OutputData<TResult>> ApplyAsync<TResult>(Func<T, TResult> func) => Map(await _data.ConfigureAwait(false), func);

    private static OutputData<TResult> Map<TResult>(OutputData<T> data, Func<T, TResult> func) =>
        data.IsKnown
            ? new OutputData<TResult>(func(data.Value), true, data.IsSecret, data.Resources)
            : new OutputData<TResult>(default!, false, data.IsSecret, data.Resources);

    /// <summary>An output computed from this one's value (the SDKs' <c>Apply</c> returning an output); unknown, secret and dependencies of both carry over.</summary>
    public Output<TResult> Then<TResult>(Func<T, Output<TResult>> func)
    {
        ArgumentNullException.ThrowIfNull(func);
        if (_data.IsCompletedSuccessfully)
        {
            var data = _data.Result;
            if (!data.IsKnown)
            {
                return new Output<TResult>(new OutputData<TResult>(default!, false, data.IsSecret, data.Resources));
            }
            var inner = func(data.Value);
            return inner.IsResolved ? new Output<TResult>(Merge(data, inner.Data)) : new Output<TResult>(ThenAsync(inner));
        }
        return new Output<TResult>(ThenSlowAsync(func));
    }

    private async Task<OutputData<TResult>> ThenAsync<TResult>(Output<TResult> inner) => Merge(_data.Result, await inner.DataTask.ConfigureAwait(false));

    private async Task<OutputData<TResult>> ThenSlowAsync<TResult>(Func<T, Output<TResult>> func)
    {
        var data = await _data.ConfigureAwait(false);
        if (!data.IsKnown)
        {
            return new OutputData<TResult>(default!, false, data.IsSecret, data.Resources);
        }
        return Merge(data, await func(data.Value).DataTask.ConfigureAwait(false));
    }

    private static OutputData<TResult> Merge<TResult>(OutputData<T> outer, OutputData<TResult> inner) =>
        inner with { IsSecret = inner.IsSecret || outer.IsSecret, Resources = Dependencies.Union(inner.Resources, outer.Resources) };

    /// <summary>The same value, secret.</summary>
    public Output<T> AsSecret() => _data.IsCompletedSuccessfully
        ? new Output<T>(_data.Result with { IsSecret = true })
        : new Output<T>(SecretAsync());

    private async Task<OutputData<T>> SecretAsync() => (await _data.ConfigureAwait(false)) with { IsSecret = true };

    /// <summary>The same value, depending also on the resource whose URN <paramref name="urn"/> resolves to.</summary>
    public Output<T> DependingOn(Output<string> urn)
    {
        ArgumentNullException.ThrowIfNull(urn);
        return global::RegistryInfra.Protocol.Model.Output.Tuple<T, string>(this, urn).Apply<T>(pair => pair.Item1);
    }

    /// <summary>A known, non-secret value.</summary>
    public static implicit operator Output<T>(T value) => global::RegistryInfra.Protocol.Model.Output.Create(value);

    /// <summary>Never the value: an output can hold a secret.</summary>
    public override string ToString() => "Output<" + typeof(T).Name + ">";
}

/// <summary>Factories and combinators of <see cref="Output{T}"/>.</summary>
public static class Output
{
    /// <summary>A known, non-secret value with no dependencies.</summary>
    public static Output<T> Create<T>(T value) => new(new OutputData<T>(value, true, false, []));

    /// <summary>A known secret value.</summary>
    public static Output<T> CreateSecret<T>(T value) => new(new OutputData<T>(value, true, true, []));

    /// <summary>An unknown value (preview).</summary>
    public static Output<T> Unknown<T>(bool secret = false, ImmutableHashSet<string>? resources = null) =>
        new(new OutputData<T>(default!, false, secret, resources ?? []));

    /// <summary>An output resolved later from <paramref name="data"/>.</summary>
    public static Output<T> FromTask<T>(Task<OutputData<T>> data) => new(data);

    /// <summary>Two outputs as one.</summary>
    public static Output<(T1, T2)> Tuple<T1, T2>(Output<T1> first, Output<T2> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.IsResolved && second.IsResolved)
        {
            return new Output<(T1, T2)>(Combine(first.Data, second.Data));
        }
        return new Output<(T1, T2)>(CombineAsync(first, second));

        static async Task<OutputData<(T1, T2)>> CombineAsync(Output<T1> a, Output<T2> b) =>
            Combine(await a.DataTask.ConfigureAwait(false), await b.DataTask.ConfigureAwait(false));

        static OutputData<(T1, T2)> Combine(OutputData<T1> a, OutputData<T2> b) =>
            a.With((a.Value, b.Value), b.IsKnown, b.IsSecret, b.Resources);
    }

    /// <summary>Three outputs as one.</summary>
    public static Output<(T1, T2, T3)> Tuple<T1, T2, T3>(Output<T1> first, Output<T2> second, Output<T3> third) =>
        Tuple(Tuple(first, second), third).Apply(v => (v.Item1.Item1, v.Item1.Item2, v.Item2));

    /// <summary>Four outputs as one.</summary>
    public static Output<(T1, T2, T3, T4)> Tuple<T1, T2, T3, T4>(Output<T1> first, Output<T2> second, Output<T3> third, Output<T4> fourth) =>
        Tuple(Tuple(first, second), Tuple(third, fourth)).Apply(v => (v.Item1.Item1, v.Item1.Item2, v.Item2.Item1, v.Item2.Item2));

    /// <summary>Many outputs of one type as one list, in order.</summary>
    public static Output<ImmutableArray<T>> All<T>(IEnumerable<Output<T>> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var list = outputs.ToList();
        if (list.TrueForAll(o => o.IsResolved))
        {
            return new Output<ImmutableArray<T>>(Combine(list.Select(o => o.Data)));
        }
        return new Output<ImmutableArray<T>>(CombineAsync(list));

        static async Task<OutputData<ImmutableArray<T>>> CombineAsync(List<Output<T>> outputs)
        {
            var data = new List<OutputData<T>>(outputs.Count);
            foreach (var output in outputs)
            {
                data.Add(await output.DataTask.ConfigureAwait(false));
            }
            return Combine(data);
        }

        static OutputData<ImmutableArray<T>> Combine(IEnumerable<OutputData<T>> items)
        {
            var values = ImmutableArray.CreateBuilder<T>();
            var known = true;
            var secret = false;
            var resources = ImmutableHashSet<string>.Empty;
            foreach (var item in items)
            {
                values.Add(item.Value);
                known &= item.IsKnown;
                secret |= item.IsSecret;
                resources = Dependencies.Union(resources, item.Resources);
            }
            return new OutputData<ImmutableArray<T>>(known ? values.ToImmutable() : default, known, secret, resources);
        }
    }
}
