using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher;

/// <summary>
/// Records an Event (a Warning for a failure, Normal for a skip worth knowing) on the object it is about, so <c>kubectl describe</c>
/// shows it next to the secret. The same occurrence again is the same Event with its <c>count</c> raised and its
/// <c>lastTimestamp</c> moved, never a new object, so a failure that lasts does not pile up an Event per run.
/// </summary>
/// <remarks>
/// The deduplication is client-go's event correlator (kubernetes/kubernetes staging/src/k8s.io/client-go/tools/record/events_cache.go,
/// getEventKey and eventLogger.eventObserve, and event.go recordEvent; commit 00080d400fe27f11795b654ad1e124311831a0fc), with its key
/// taken as a fact: two Events are the same when their source component, involved object (kind, namespace, name, apiVersion),
/// type, reason and message are. client-go keeps the last observation in a process-wide cache; each CronJob run is a new
/// process, so here the key is kept by the API server instead: the Event's name is the involved object's name and a hash of
/// the key. A create that finds the name taken (409 AlreadyExists) reads that Event and patches it (a JSON merge patch, as
/// client-go patches, which the refresher's Role grants with create) to the count one higher and the new lastTimestamp,
/// the read resourceVersion as precondition; a patch that loses a race (409 Conflict) or finds the Event gone (404: Events
/// expire after the API server's event TTL, one hour by default) starts over once.
/// Whatever goes wrong is logged by type and never fails the run: the failure the Event was about is logged and counted already.
/// </remarks>
internal sealed partial class FailureEvents(IKubeApi kubernetes, TimeProvider time, ILogger logger)
{
    public const string Component = "registryinfra-refresher";

    /// <summary>Hex digits of the key's SHA-256 in an Event's name: 64 bits, so two keys on one object never meet in practice.</summary>
    internal const int HashLength = 16;

    /// <summary>A name is a DNS subdomain: at most 253 characters, so the involved name keeps what room the hash leaves.</summary>
    private const int MaxNameLength = 253;

    /// <summary>The Event's message is cut to this length (the core/v1 Event's message is meant for humans, and bounded here).</summary>
    private const int MaxMessageLength = 1024;

    public async Task RecordAsync(string ns, string kind, string name, string reason, string message, CancellationToken cancellationToken, string type = "Warning")
    {
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        message = message.Length > MaxMessageLength ? message[..MaxMessageLength] : message;
        var eventName = NameOf(ns, kind, name, type, reason, message);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                if (await TryRecordAsync(ns, eventName, kind, name, reason, message, type, stamp, cancellationToken).ConfigureAwait(false) || attempt >= 1)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The failure itself is already logged and counted; a lost event must not hide it.
            LogEventFailed(logger, ns, kind, name, reason, Describe(e));
        }
    }

    /// <summary>
    /// The Event's name for this key: <c>{involved name}.{hash}</c>. The hash covers what client-go's getEventKey joins
    /// (source component, involved object, type, reason, message), each field ended by a newline so that no two keys join alike.
    /// </summary>
    internal static string NameOf(string ns, string kind, string name, string type, string reason, string message)
    {
        var key = new StringBuilder()
            .Append(Component).Append('\n').Append(kind).Append('\n').Append(ns).Append('\n').Append(name).Append('\n').Append("v1").Append('\n')
            .Append(type).Append('\n').Append(reason).Append('\n').Append(message).Append('\n').ToString();
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..HashLength];
        var room = MaxNameLength - HashLength - 1;
        return $"{(name.Length > room ? name[..room] : name)}.{hash}";
    }

    /// <summary>One attempt: create, or raise the count of the Event already there. False when it must start over (raced or gone).</summary>
    private async Task<bool> TryRecordAsync(string ns, string eventName, string kind, string name, string reason, string message, string type, string stamp,
        CancellationToken ct)
    {
        var ev = new CoreV1Event
        {
            Metadata = new V1ObjectMeta { Name = eventName, NamespaceProperty = ns },
            InvolvedObject = new V1ObjectReference { ApiVersion = "v1", Kind = kind, Name = name, NamespaceProperty = ns },
            Reason = reason,
            Message = message,
            Type = type,
            Source = new V1EventSource { Component = Component },
            ReportingComponent = Component,
            FirstTimestamp = stamp,
            LastTimestamp = stamp,
            Count = 1,
        };
        try
        {
            await kubernetes.CreateEventAsync(ev, ns, ct).ConfigureAwait(false);
            return true;
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // AlreadyExists: this occurrence was seen before (by this process or an earlier run).
        }
        CoreV1Event existing;
        try
        {
            existing = await kubernetes.ReadEventAsync(ns, eventName, ct).ConfigureAwait(false);
        }
        catch (KubeApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        var count = Math.Max(existing.Count ?? 1, 1) + 1;
        try
        {
            await kubernetes.PatchEventAsync(ns, eventName, CountPatch(existing.Metadata.ResourceVersion, count, stamp), ct).ConfigureAwait(false);
            return true;
        }
        catch (KubeApiException e) when (e.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>The merge patch of a repeat: the count and the last time, under the read resourceVersion (409 if anyone wrote since).</summary>
    internal static string CountPatch(string? resourceVersion, int count, string lastTimestamp)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("metadata");
            writer.WriteString("resourceVersion", resourceVersion);
            writer.WriteEndObject();
            writer.WriteNumber("count", count);
            writer.WriteString("lastTimestamp", lastTimestamp);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string Describe(Exception e) => e switch
    {
        KubeApiException k => $"HTTP {((int)k.StatusCode).ToString(CultureInfo.InvariantCulture)}",
        _ => e.GetType().Name,
    };

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Could not record event {Reason} on {Kind} {Namespace}/{Name}: {Error}")]
    private static partial void LogEventFailed(ILogger logger, string @namespace, string kind, string name, string reason, string error);
}
