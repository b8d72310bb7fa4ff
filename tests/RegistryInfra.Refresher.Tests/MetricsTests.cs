using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using RegistryInfra.Refresher.Configuration;

namespace RegistryInfra.Refresher.Tests;

/// <summary>What one run records on the refresher's meter, and whether an exporter is added.</summary>
public sealed class MetricsTests
{
    private sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

    [Fact]
    public async Task One_run_records_written_unchanged_failed_token_requests_and_the_expiry_with_secret_free_tags()
    {
        await using var bed = await RefresherTestBed.StartAsync();
        bed.AddNamespaces(4);
        await bed.RunAsync(RefresherTestBed.Options(t => t with { Namespaces = ["team-0", "team-1"] }));
        using var meters = new RefresherTestBed.TestMeterFactory();
        using var metrics = new RefresherMetrics(meters);
        var recorded = new List<Recorded>();
        using var listener = new MeterListener();
        // Only this instance's meter: other tests create meters of the same name in parallel.
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            lock (recorded)
            {
                recorded.Add(new Recorded(instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture),
                    new Dictionary<string, object?>(tags.ToArray())));
            }
        }
        listener.SetMeasurementEventCallback<long>(Record);
        listener.SetMeasurementEventCallback<double>(Record);
        listener.Start();

        // team-0 and team-1 are fresh, team-2 and team-3 are new, "gone" does not exist.
        var summary = await bed.RunAsync(RefresherTestBed.Options(t => t with { Namespaces = ["team-0", "team-1", "team-2", "team-3", "gone"] }), metrics);
        listener.RecordObservableInstruments();

        Assert.Equal((2, 2, 1), (summary.Created, summary.Unchanged, summary.Failed));
        double Sum(string name) => recorded.Where(r => r.Instrument == name).Sum(r => r.Value);
        Assert.Equal(2, Sum("registryinfra.refresher.secret.writes"));
        Assert.All(recorded.Where(r => r.Instrument == "registryinfra.refresher.secret.writes"), r => Assert.Equal("create", r.Tags["kind"]));
        Assert.Equal(2, Sum("registryinfra.refresher.secret.unchanged"));
        var failure = Assert.Single(recorded, r => r.Instrument == "registryinfra.refresher.target.failures");
        Assert.Equal((1.0, "NotFound"), (failure.Value, failure.Tags["reason"]));
        Assert.Equal(1, Sum("registryinfra.refresher.token.requests"));
        var expiry = Assert.Single(recorded, r => r.Instrument == "registryinfra.refresher.token.expiry");
        Assert.Equal((bed.Now + TimeSpan.FromHours(12)).ToUnixTimeSeconds(), expiry.Value);
        var tagText = string.Join("\n", recorded.SelectMany(r => r.Tags).Select(t => $"{t.Key}={t.Value}"));
        Assert.All(bed.IssuedPasswords, p => Assert.DoesNotContain(p, tagText, StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_that_learns_no_expiry_reports_no_expiry_rather_than_a_number()
    {
        using var meters = new RefresherTestBed.TestMeterFactory();
        using var metrics = new RefresherMetrics(meters);
        var values = new List<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name == "registryinfra.refresher.token.expiry")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => values.Add(value));
        listener.Start();

        metrics.Expiry(null);
        listener.RecordObservableInstruments();
        Assert.Empty(values);
        metrics.Expiry(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        listener.RecordObservableInstruments();
        Assert.Equal([1_800_000_000L], values);
    }

    [Fact]
    public void An_exporter_is_added_only_when_an_endpoint_is_configured_and_a_bad_endpoint_is_named()
    {
        var dir = Directory.CreateTempSubdirectory("refresher-metrics-").FullName;
        try
        {
            const string yaml = "instance: test\nregistries:\n  - server: ghcr.io\n    source: {type: static, username: u, passwordEnv: P}\ntargets:\n  - secretName: ok\n    allNamespaces: true\n";
            var plain = Path.Combine(dir, "plain.yaml");
            File.WriteAllText(plain, yaml);
            var exported = Path.Combine(dir, "exported.yaml");
            File.WriteAllText(exported, yaml + "metrics:\n  otlpEndpoint: http://127.0.0.1:4318\n");
            var bad = Path.Combine(dir, "bad.yaml");
            File.WriteAllText(bad, yaml + "metrics:\n  otlpEndpoint: collector:4318\n");

            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"))
                && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")))
            {
                using var host = RefresherApp.BuildHost(ConfigurationReading.Load(plain), null, null, null, Environment.GetEnvironmentVariables());
                Assert.Null(host.Services.GetService<MeterProvider>());
            }
            using (var host = RefresherApp.BuildHost(ConfigurationReading.Load(exported), null, null, null, Environment.GetEnvironmentVariables()))
            {
                Assert.NotNull(host.Services.GetService<MeterProvider>());
            }
            var e = Assert.Throws<ConfigurationException>(() => RefresherApp.BuildHost(ConfigurationReading.Load(bad), null, null, null, Environment.GetEnvironmentVariables()));
            Assert.StartsWith("metrics.otlpEndpoint: 'collector:4318' must be an absolute http(s) URL", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>An OTLP/HTTP receiver on loopback: records every POST to <c>/v1/metrics</c>.</summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    public Channel<(string? ContentType, byte[] Body)> Requests { get; } = Channel.CreateUnbounded<(string?, byte[])>();

    public string Endpoint => _app.Urls.Single();

    public static async Task<OtlpReceiver> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            await receiver.Requests.Writer.WriteAsync((context.Request.ContentType, body.ToArray()), context.RequestAborted);
            // An empty ExportMetricsServiceResponse: full success.
            context.Response.ContentType = "application/x-protobuf";
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync(cancellationToken);
        return receiver;
    }

    /// <summary>Waits for a request whose body holds every name, up to the timeout.</summary>
    public async Task<(string? ContentType, byte[] Body)> WaitForAsync(IReadOnlyCollection<string> names, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await foreach (var request in Requests.Reader.ReadAllAsync(cts.Token))
            {
                var text = Encoding.UTF8.GetString(request.Body);
                if (names.All(n => text.Contains(n, StringComparison.Ordinal)))
                {
                    return request;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"no OTLP request holding {string.Join(", ", names)} arrived within {timeout.TotalSeconds} s");
        }
        throw new InvalidOperationException("the receiver stopped");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
