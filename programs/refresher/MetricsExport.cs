using System.Collections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using RegistryInfra.Refresher.Configuration;

namespace RegistryInfra.Refresher;

/// <summary>
/// Optional export of the refresher's meter through OpenTelemetry OTLP, switched on by the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or <c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c>) or by <c>metrics.otlpEndpoint</c>.
/// </summary>
internal static class MetricsExport
{
    private const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    private const string MetricsEndpointVariable = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";

    /// <summary>How long the end of a run waits for the last export.</summary>
    public static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Adds the OTLP exporter when an endpoint is set; otherwise adds nothing. The host's configuration holds
    /// only the file and <c>REFRESHER_*</c>, so the <c>OTEL_*</c> variables are copied in under their own names,
    /// where the exporter reads them (protocol, headers, timeout, temporality keep their standard meaning).
    /// </summary>
    /// <exception cref="ConfigurationException">An endpoint is not an absolute http(s) URL.</exception>
    public static void AddTo(IConfigurationBuilder configuration, string? configured, IServiceCollection services, IDictionary environment)
    {
        var otel = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry variable in environment)
        {
            if (variable.Key is string name && name.StartsWith("OTEL_", StringComparison.OrdinalIgnoreCase))
            {
                otel[name] = variable.Value as string;
            }
        }
        if (!string.IsNullOrWhiteSpace(configured))
        {
            RequireUrl("metrics.otlpEndpoint", configured);
            otel[EndpointVariable] = configured;
        }
        else if (otel.GetValueOrDefault(EndpointVariable) is { Length: > 0 } fromEnvironment)
        {
            RequireUrl(EndpointVariable, fromEnvironment);
        }
        if (otel.GetValueOrDefault(MetricsEndpointVariable) is { Length: > 0 } metricsEndpoint)
        {
            RequireUrl(MetricsEndpointVariable, metricsEndpoint);
        }
        if (string.IsNullOrWhiteSpace(otel.GetValueOrDefault(EndpointVariable)) && string.IsNullOrWhiteSpace(otel.GetValueOrDefault(MetricsEndpointVariable)))
        {
            return;
        }
        configuration.AddInMemoryCollection(otel);
        var named = !string.IsNullOrWhiteSpace(otel.GetValueOrDefault("OTEL_SERVICE_NAME"));
        services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (!named)
                {
                    resource.AddService("registryinfra-refresher");
                }
            })
            .WithMetrics(metrics => metrics
                .AddMeter(RefresherMetrics.MeterName)
                .AddOtlpExporter());
    }

    /// <summary>Exports what the run recorded before the process ends; a run-once program has no next interval.</summary>
    /// <returns>False when the export did not finish in time (or no exporter is configured: true).</returns>
    public static bool Flush(IServiceProvider services) =>
        services.GetService<MeterProvider>() is not { } provider || provider.ForceFlush((int)FlushTimeout.TotalMilliseconds);

    private static void RequireUrl(string field, string value)
    {
        if (!(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            throw new ConfigurationException($"{field}: '{value}' must be an absolute http(s) URL, such as http://otel-collector.monitoring:4318");
        }
    }
}
