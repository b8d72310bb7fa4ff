using System.Globalization;
using RegistryInfra.Core;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Provider;

/// <summary>
/// The overall deadline of one Check, Create or Update of a RegistryProfile, or of one getImage: every credential
/// fetch, credential check and image resolve of it together. Each registry operation has its own deadline
/// (<see cref="Core.Distribution.DistributionClientOptions.OperationTimeout"/>), but a profile of many images on a
/// registry that answers each request late would add those up; the engine sets no deadline of its own, so a
/// preview would wait that long.
/// </summary>
internal sealed class RegistryDeadline : IDisposable
{
    /// <summary>Images of one profile resolved at once: enough to overlap late answers, few enough not to flood a registry.</summary>
    public const int MaxConcurrentImages = 4;

    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;
    private readonly CancellationToken _outer;

    public RegistryDeadline(TimeSpan limit, TimeProvider time, CancellationToken outer)
    {
        Limit = limit;
        _outer = outer;
        _timer = new CancellationTokenSource(limit, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(outer, _timer.Token);
    }

    /// <summary>How long the whole operation may take.</summary>
    public TimeSpan Limit { get; }

    /// <summary>Cancelled when the deadline passes or the engine cancels.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>True once the deadline (not the engine) cut the operation.</summary>
    public bool Expired => _timer.IsCancellationRequested && !_outer.IsCancellationRequested;

    /// <summary>The deadline as a message names it, with the setting that changes it.</summary>
    public string Described =>
        $"the registry deadline of {Limit.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (provider configuration '{ProviderSettings.DeadlineKey}')";

    /// <summary>True when <paramref name="exception"/> is how the passing of this deadline surfaced.</summary>
    public bool Cut(Exception exception) =>
        Expired && exception is OperationCanceledException or RegistryException { Kind: RegistryErrorKind.Unreachable };

    /// <summary>
    /// Runs <paramref name="work"/> for every item, at most <see cref="MaxConcurrentImages"/> at once, within this
    /// deadline: per item its value, its failure, or neither when the deadline cut it (or it never started).
    /// </summary>
    public async Task<IReadOnlyList<Outcome<TResult>>> ForEachAsync<TItem, TResult>(IReadOnlyList<TItem> items, Func<TItem, CancellationToken, Task<TResult>> work)
    {
        using var slots = new SemaphoreSlim(MaxConcurrentImages);
        var outcomes = new Outcome<TResult>[items.Count];
        await Task.WhenAll(items.Select(async (item, i) =>
        {
            try
            {
                await slots.WaitAsync(Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (Expired)
            {
                outcomes[i] = Outcome<TResult>.Unfinished;
                return;
            }
            try
            {
                outcomes[i] = new Outcome<TResult>(true, await work(item, Token).ConfigureAwait(false), null);
            }
            catch (Exception e) when (Cut(e))
            {
                outcomes[i] = Outcome<TResult>.Unfinished;
            }
            catch (RegistryException e)
            {
                outcomes[i] = new Outcome<TResult>(true, default, e);
            }
            finally
            {
                slots.Release();
            }
        })).ConfigureAwait(false);
        _outer.ThrowIfCancellationRequested();
        return outcomes;
    }

    public void Dispose()
    {
        _linked.Dispose();
        _timer.Dispose();
    }
}

/// <summary>What became of one item under a <see cref="RegistryDeadline"/>: finished with a value or a registry failure, or cut.</summary>
internal sealed record Outcome<T>(bool Finished, T? Value, RegistryException? Error)
{
    public static Outcome<T> Unfinished { get; } = new(false, default, null);
}

/// <summary>The provider's configuration: <c>registryDeadlineSeconds</c>, applied to every resource and function through <see cref="RegistryConnections"/>.</summary>
internal sealed class ProviderSettings(RegistryConnections connections) : IProviderConfiguration
{
    public const string DeadlineKey = "registryDeadlineSeconds";

    public const int DefaultDeadlineSeconds = 120;

    /// <summary>An hour: past that a preview that waits is a hung preview.</summary>
    public const int MaxDeadlineSeconds = 3600;

    public IReadOnlyList<ConfigVariable> Variables { get; } =
    [
        new(DeadlineKey, "integer",
            $"The longest one check, create or update of a RegistryProfile, or one getImage call, may spend on registries: credential fetches, credential checks and every image (resolved up to {RegistryDeadline.MaxConcurrentImages} at once) together. " +
            $"When it passes, the operation fails naming the images that did not finish. Seconds, 1 to {MaxDeadlineSeconds}; default {DefaultDeadlineSeconds}.",
            DefaultDeadlineSeconds),
    ];

    public IReadOnlyList<CheckFailure> Check(IReadOnlyDictionary<string, PropertyValue> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return TryRead(inputs, out _, out var error) ? [] : [new CheckFailure(DeadlineKey, error)];
    }

    public void Configure(IReadOnlyDictionary<string, PropertyValue> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (TryRead(inputs, out var seconds, out var error))
        {
            connections.Deadline = TimeSpan.FromSeconds(seconds ?? DefaultDeadlineSeconds);
        }
        else
        {
            throw new ArgumentException($"{DeadlineKey}: {error}");
        }
    }

    // A number, or a string holding one: stack configuration (`pulumi config set registryinfra:registryDeadlineSeconds 30`)
    // is text, and engines pass it to a provider as the string it is.
    private static bool TryRead(IReadOnlyDictionary<string, PropertyValue> inputs, out int? seconds, out string error)
    {
        seconds = null;
        error = "";
        if (!inputs.TryGetValue(DeadlineKey, out var value) || value.IsNull || value.IsComputed)
        {
            return true;
        }
        var plain = value.Kind == PropertyValueKind.Secret ? value.SecretValue : value;
        double number;
        if (plain.Kind == PropertyValueKind.Number)
        {
            number = plain.NumberValue;
        }
        else if (plain.Kind != PropertyValueKind.String
            || !double.TryParse(plain.StringValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out number))
        {
            error = $"expected a whole number of seconds from 1 to {MaxDeadlineSeconds}, got {Describe(plain)}";
            return false;
        }
        if (number != Math.Floor(number) || number is < 1 or > MaxDeadlineSeconds)
        {
            error = $"expected a whole number of seconds from 1 to {MaxDeadlineSeconds}, got {number.ToString(CultureInfo.InvariantCulture)}";
            return false;
        }
        seconds = (int)number;
        return true;
    }

    private static string Describe(PropertyValue value) => value.Kind switch
    {
        PropertyValueKind.String => $"'{StatusText.Cap(value.StringValue, 40)}'",
        PropertyValueKind.Bool => "a boolean",
        PropertyValueKind.Array => "a list",
        PropertyValueKind.Object => "an object",
        _ => value.Kind.ToString().ToLowerInvariant(),
    };
}
