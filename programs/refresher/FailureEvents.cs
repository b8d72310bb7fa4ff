using System.Globalization;
using Microsoft.Extensions.Logging;
using RegistryInfra.Refresher.KubernetesApi;

namespace RegistryInfra.Refresher;

/// <summary>Records an Event (a Warning for a failure, Normal for a skip worth knowing) on the object it is about, so <c>kubectl describe</c> shows it next to the secret.</summary>
internal sealed partial class FailureEvents(IKubeApi kubernetes, TimeProvider time, ILogger logger)
{
    public const string Component = "registryinfra-refresher";

    public async Task RecordAsync(string ns, string kind, string name, string reason, string message, CancellationToken cancellationToken, string type = "Warning")
    {
        var now = time.GetUtcNow().UtcDateTime;
        var stamp = now.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var ev = new CoreV1Event
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"{name}.{now.Ticks.ToString("x", CultureInfo.InvariantCulture)}{Random.Shared.Next(0x1000):x3}",
                NamespaceProperty = ns,
            },
            InvolvedObject = new V1ObjectReference { ApiVersion = "v1", Kind = kind, Name = name, NamespaceProperty = ns },
            Reason = reason,
            Message = message.Length > 1024 ? message[..1024] : message,
            Type = type,
            Source = new V1EventSource { Component = Component },
            ReportingComponent = Component,
            FirstTimestamp = stamp,
            LastTimestamp = stamp,
            Count = 1,
        };
        try
        {
            await kubernetes.CreateEventAsync(ev, ns, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The failure itself is already logged and counted; a lost event must not hide it.
            LogEventFailed(logger, ns, kind, name, reason, e.GetType().Name);
        }
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Could not record event {Reason} on {Kind} {Namespace}/{Name}: {Error}")]
    private static partial void LogEventFailed(ILogger logger, string @namespace, string kind, string name, string reason, string error);
}
