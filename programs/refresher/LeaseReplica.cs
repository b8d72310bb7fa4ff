using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RegistryInfra.Refresher;

/// <summary>
/// A replica as the Lease records it beside client-go's record (annotations; see <see cref="LeaderElection"/>): its
/// identity, the hash of the configuration it runs (<see cref="Configuration.ConfigurationFile.HashOf"/>) and when its pod
/// started (<see cref="ReplicaStart"/>).
/// </summary>
internal sealed record LeaseReplica(string Identity, string Configuration, DateTimeOffset Started)
{
    /// <summary><paramref name="at"/> in UTC to the microsecond, as a <c>metav1.MicroTime</c> keeps it, so a replica compares itself with its own record exactly.</summary>
    public static DateTimeOffset Microseconds(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % 10), TimeSpan.Zero);

    /// <summary>
    /// The order of replicas that decides a hand-over: the later pod start is newer; at the same instant the greater identity
    /// (ordinal), so every replica orders any two the same way and no two are equal. A rollout's new pods start after the pods
    /// they replace, whatever the configuration: a rollback's pods are newer too.
    /// </summary>
    public bool IsNewerThan(LeaseReplica other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Started != other.Started ? Started > other.Started : string.CompareOrdinal(Identity, other.Identity) > 0;
    }

    /// <summary>
    /// Whether this replica, waiting as a standby, should lead instead of <paramref name="holder"/>: it runs another
    /// configuration and is newer. Never both ways for two replicas, so a hand-over never goes back (no ping-pong).
    /// </summary>
    public bool Supersedes(LeaseReplica holder)
    {
        ArgumentNullException.ThrowIfNull(holder);
        return Identity != holder.Identity && Configuration != holder.Configuration && IsNewerThan(holder);
    }

    /// <summary>The annotation's value: JSON, <c>{"identity":…,"configuration":…,"started":…}</c> plus <c>firstRunFinished</c> for the holder.</summary>
    public string ToAnnotation(bool? firstRunFinished = null) => JsonSerializer.Serialize(new LeaseReplicaJson
    {
        Identity = Identity,
        Configuration = Configuration,
        Started = LeaderElection.MicroTime(Started),
        FirstRunFinished = firstRunFinished,
    }, LeaseReplicaJsonContext.Default.LeaseReplicaJson);

    /// <summary>An annotation's value read back, or null when absent or not of this form (an older or foreign writer).</summary>
    public static (LeaseReplica Replica, bool FirstRunFinished)? FromAnnotation(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        try
        {
            var json = JsonSerializer.Deserialize(value, LeaseReplicaJsonContext.Default.LeaseReplicaJson);
            if (json is not { Identity: { Length: > 0 } identity, Configuration: { } configuration, Started: { } started }
                || !DateTimeOffset.TryParse(started, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                return null;
            }
            return (new LeaseReplica(identity, configuration, Microseconds(at)), json.FirstRunFinished == true);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

internal sealed class LeaseReplicaJson
{
    public string? Identity { get; set; }

    public string? Configuration { get; set; }

    public string? Started { get; set; }

    public bool? FirstRunFinished { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LeaseReplicaJson))]
internal sealed partial class LeaseReplicaJsonContext : JsonSerializerContext;

/// <summary>
/// When this replica's pod started, for <see cref="LeaseReplica.IsNewerThan"/>. In a pod (<c>POD_NAME</c> set) the first
/// start writes the time into the pod's temporary directory (<c>TMPDIR</c>, else <c>/tmp</c>: the TokenRefresher's pod mounts
/// an emptyDir there, which lives as long as the pod, kubernetes.io/docs/concepts/storage/volumes/#emptydir), and a container
/// restart reads it back: an old pod that crashes mid-rollout stays older than the new pods instead of becoming the newest.
/// Outside a pod, or when the directory cannot be written, it is the process's start.
/// </summary>
internal static class ReplicaStart
{
    public const string FileName = "registryinfra-refresher-started";

    public static DateTimeOffset Load(IDictionary environment, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(time);
        var now = LeaseReplica.Microseconds(time.GetUtcNow());
        if (environment["POD_NAME"] is not string { Length: > 0 })
        {
            return now;
        }
        var directory = environment["TMPDIR"] is string { Length: > 0 } tmp ? tmp : Path.GetTempPath();
        var path = Path.Combine(directory, FileName);
        try
        {
            if (File.Exists(path)
                && DateTimeOffset.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var recorded))
            {
                return LeaseReplica.Microseconds(recorded);
            }
            // Written aside and moved, so a restart never reads half a time.
            var aside = path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            File.WriteAllText(aside, LeaderElection.MicroTime(now));
            File.Move(aside, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only or missing directory: the process's start is the next best.
        }
        return now;
    }
}
