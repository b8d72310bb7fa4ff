using System.Collections;
using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Refresher;
using RegistryInfra.Refresher.Configuration;
using RegistryInfra.Refresher.KubernetesApi;
using RegistryInfra.Refresher.Watch;

namespace RegistryInfra.Refresher;

/// <summary>Exit codes, as the CronJob's Job sees them.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int TargetsFailed = 1;
    public const int InvalidConfiguration = 2;
}

/// <summary>The command line (<c>refresh</c>, <c>check</c>) and the host each command runs in.</summary>
internal static partial class RefresherApp
{
    public const string DefaultConfigPath = "/etc/registryinfra-refresher/config.yaml";

    /// <summary>Runs the program; <paramref name="configureServices"/> lets tests replace the Kubernetes client, sources, clock or logging.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="configureServices">Replaces services after the program's own (tests).</param>
    /// <param name="cancellationToken">Stops new work, as SIGTERM does.</param>
    /// <param name="output">Where usage and help go (default: stdout).</param>
    /// <param name="error">Where argument and configuration errors go, one line each (default: stderr).</param>
    /// <param name="environment">The environment overrides are read from (default: the process's).</param>
    public static async Task<int> RunAsync(string[] args, Action<IServiceCollection>? configureServices, CancellationToken cancellationToken,
        TextWriter? output = null, TextWriter? error = null, IDictionary? environment = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        environment ??= Environment.GetEnvironmentVariables();
        var env = environment;
        var configOption = new Option<string>("--config", "-c")
        {
            Description = $"The configuration file (YAML or JSON). Default: $REFRESHER_CONFIG or {DefaultConfigPath}.",
            DefaultValueFactory = _ => env[ConfigurationFile.PathVariable] is string { Length: > 0 } p ? p : DefaultConfigPath,
        };
        var kubeconfigOption = new Option<string?>("--kubeconfig")
        {
            Description = "A kubeconfig file; default: $KUBECONFIG, else the in-cluster service account.",
        };
        var contextOption = new Option<string?>("--context") { Description = "The kubeconfig context to use." };
        var offlineOption = new Option<bool>("--offline")
        {
            Description = "Only validate the configuration (and the credential sources it names); contact no cluster and no registry.",
        };

        var refresh = new Command("refresh", "Renew registry tokens in the target pull secrets (the CronJob's entry point).");
        var check = new Command("check", "Validate the configuration, try each registry's credentials against the registry, and read every target; change nothing.");
        foreach (var command in new[] { refresh, check })
        {
            command.Options.Add(configOption);
            command.Options.Add(kubeconfigOption);
            command.Options.Add(contextOption);
        }
        check.Options.Add(offlineOption);
        var identityWaitOption = new Option<string?>("--identity-wait")
        {
            Description = "Retry a refused token request (denied, unauthorised) with backoff for up to this duration (such as 3m), as a new cloud identity propagates; the run-on-deploy Job sets it. Default: no wait.",
        };
        refresh.Options.Add(identityWaitOption);
        refresh.SetAction((parse, ct) => ExecuteAsync(new Invocation(parse.GetValue(configOption)!, parse.GetValue(kubeconfigOption), parse.GetValue(contextOption),
            Check: false, Offline: false)
        { IdentityWait = parse.GetValue(identityWaitOption) }, configureServices, env, error, ct));
        check.SetAction((parse, ct) => ExecuteAsync(new Invocation(parse.GetValue(configOption)!, parse.GetValue(kubeconfigOption), parse.GetValue(contextOption),
            Check: true, Offline: parse.GetValue(offlineOption)), configureServices, env, error, ct));

        var watch = new Command("watch", "Keep the pull secrets of every selected namespace as namespaces and service accounts come and change (the Deployment's entry point): leader election on a Lease, a full run, then list and watch.");
        watch.Options.Add(configOption);
        watch.Options.Add(kubeconfigOption);
        watch.Options.Add(contextOption);
        var healthPortOption = new Option<int>("--health-port")
        {
            Description = "The port of GET /healthz (alive) and GET /readyz (the leader once its first full run finished; a standby once a leader of its configuration has). Default: 8081.",
            DefaultValueFactory = _ => DefaultHealthPort,
        };
        watch.Options.Add(healthPortOption);
        watch.SetAction((parse, ct) => ExecuteWatchAsync(parse.GetValue(configOption)!, parse.GetValue(kubeconfigOption), parse.GetValue(contextOption),
            parse.GetValue(healthPortOption), configureServices, env, error, ct));

        var root = new RootCommand("registryinfra-refresher: keeps Kubernetes image pull secrets filled with fresh registry tokens.");
        root.Subcommands.Add(refresh);
        root.Subcommands.Add(check);
        root.Subcommands.Add(watch);
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        if (args.Length == 0)
        {
            // Run bare, the program says how to use it instead of guessing a command.
            await root.Parse(["--help"]).InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors)
            {
                await error.WriteLineAsync($"registryinfra-refresher: {problem.Message}").ConfigureAwait(false);
            }
            await error.WriteLineAsync("registryinfra-refresher: run 'registryinfra-refresher --help' for usage").ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }
        return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    private sealed record Invocation(string ConfigPath, string? Kubeconfig, string? Context, bool Check, bool Offline)
    {
        public string? IdentityWait { get; init; }
    }

    private static async Task<int> ExecuteAsync(Invocation invocation, Action<IServiceCollection>? configureServices, IDictionary environment,
        TextWriter error, CancellationToken cancellationToken)
    {
        var identityWait = TimeSpan.Zero;
        if (invocation.IdentityWait is { } waitText && (!Duration.TryParse(waitText, out identityWait) || identityWait < TimeSpan.Zero || identityWait > TimeSpan.FromHours(1)))
        {
            await error.WriteLineAsync($"registryinfra-refresher: --identity-wait: '{waitText}' is not a duration between 0s and 1h (such as 3m)").ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }
        RefresherConfiguration options;
        IHost host;
        try
        {
            options = ConfigurationFile.Load(invocation.ConfigPath, environment);
            host = BuildHost(options, invocation.Kubeconfig, invocation.Context, configureServices, environment);
        }
        catch (ConfigurationException e)
        {
            await WriteProblemsAsync(error, e.Problems).ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }
        using (host)
        {
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RegistryInfra.Refresher");
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
                // SIGTERM (the host's console lifetime) stops new work like the caller's token does.
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken,
                    host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
                var factory = host.Services.GetRequiredService<ICredentialSources>();
                var sources = options.Registries.ToDictionary(r => r.Key, factory.Create, StringComparer.Ordinal);
                var time = host.Services.GetRequiredService<TimeProvider>();
                int code;
                if (invocation.Offline)
                {
                    LogOffline(logger, invocation.ConfigPath, options.Registries.Count, options.Targets.Count);
                    code = ExitCodes.Success;
                }
                else if (invocation.Check)
                {
                    var problems = await new CheckRun(host.Services.GetRequiredService<IKubeApi>(), options, sources, time,
                        host.Services.GetRequiredService<ILogger<CheckRun>>(), host.Services.GetService<IRegistryProbe>() ?? new RegistryProbe())
                        .RunAsync(stop.Token).ConfigureAwait(false);
                    code = problems == 0 ? ExitCodes.Success : ExitCodes.TargetsFailed;
                }
                else
                {
                    var summary = await new RefreshRun(host.Services.GetRequiredService<IKubeApi>(), options, sources, time,
                        host.Services.GetRequiredService<ILogger<RefreshRun>>(), host.Services.GetRequiredService<RefresherMetrics>())
                    { IdentityWait = identityWait }
                        .RunAsync(stop.Token).ConfigureAwait(false);
                    code = summary.Failed == 0 && summary.NotStarted == 0 ? ExitCodes.Success : ExitCodes.TargetsFailed;
                }
                if (!MetricsExport.Flush(host.Services))
                {
                    LogMetricsNotExported(logger, MetricsExport.FlushTimeout.TotalSeconds);
                }
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return code;
            }
            catch (Exception e) when (e is ConfigurationException or KubeConfigException or InvalidOperationException { InnerException: KubeConfigException }
                or RegistryException { Kind: RegistryErrorKind.InvalidInput })
            {
                IReadOnlyList<ConfigurationProblem> problems = e switch
                {
                    ConfigurationException c => c.Problems,
                    { InnerException: KubeConfigException k } => [new ConfigurationProblem("kubernetes", k.Message)],
                    KubeConfigException k => [new ConfigurationProblem("kubernetes", k.Message)],
                    _ => [new ConfigurationProblem("config", e.Message)],
                };
                await WriteProblemsAsync(error, problems).ConfigureAwait(false);
                return ExitCodes.InvalidConfiguration;
            }
        }
    }

    private static async Task WriteProblemsAsync(TextWriter error, IReadOnlyList<ConfigurationProblem> problems)
    {
        foreach (var problem in problems)
        {
            // One line per field: a value with a line break in it must not start a second, unprefixed line.
            var line = problem.ToString().ReplaceLineEndings(" ");
            await error.WriteLineAsync($"registryinfra-refresher: invalid configuration: {line}").ConfigureAwait(false);
        }
    }

    internal static IHost BuildHost(RefresherConfiguration options, string? kubeconfig, string? context, Action<IServiceCollection>? configureServices, IDictionary environment)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            // Defaults would add appsettings files and unprefixed environment variables; the file and REFRESHER_* are the whole configuration.
            DisableDefaults = true,
            ApplicationName = "registryinfra-refresher",
            ContentRootPath = AppContext.BaseDirectory,
        });
        // A run-once program: no "Application started. Press Ctrl+C to shut down." lines around its own output.
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownGrace);

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(options.Logging?.LogLevel?.Default is { } level ? Enum.Parse<LogLevel>(level) : LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Logging.AddJsonConsole(o =>
        {
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
        });

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<RefresherMetrics>();
        builder.Services.AddSingleton<ICredentialSources, CredentialSources>();
        builder.Services.AddSingleton<IKubeApi>(_ => new KubeApi(Endpoint(kubeconfig, context, environment), options.EffectiveRequestTimeout));
        // The watch command's calls are the same client's (one connection to the API server).
        builder.Services.AddSingleton(s => (IKubeWatchApi)s.GetRequiredService<IKubeApi>());
        builder.Services.AddSingleton<WatchMetrics>();
        MetricsExport.AddTo(builder.Configuration, options.Metrics?.OtlpEndpoint, builder.Services, environment);
        configureServices?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>The default <c>--health-port</c>.</summary>
    public const int DefaultHealthPort = 8081;

    /// <summary>
    /// The <c>watch</c> command: campaigns for the Lease; as the leader, runs <see cref="WatchLoop"/> (a full run, then
    /// events); as a standby, only campaigns. SIGTERM stops the work, lets what is in flight finish and releases the lease.
    /// </summary>
    private static async Task<int> ExecuteWatchAsync(string configPath, string? kubeconfig, string? context, int healthPort, Action<IServiceCollection>? configureServices,
        IDictionary environment, TextWriter error, CancellationToken cancellationToken)
    {
        if (healthPort is < 0 or > 65535)
        {
            await error.WriteLineAsync($"registryinfra-refresher: --health-port: {healthPort} is not a port (0-65535)").ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }
        RefresherConfiguration options;
        string configurationHash;
        IHost host;
        try
        {
            options = ConfigurationFile.Load(configPath, environment, out configurationHash);
            if (options.Watch is null)
            {
                throw new ConfigurationException([new ConfigurationProblem("watch", "the watch command needs the watch section (leaseNamespace, leaseName; the Lease it elects a leader on)")]);
            }
            host = BuildHost(options, kubeconfig, context, configureServices, environment);
        }
        catch (ConfigurationException e)
        {
            await WriteProblemsAsync(error, e.Problems).ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }
        using (host)
        {
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RegistryInfra.Refresher");
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken,
                    host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
                var factory = host.Services.GetRequiredService<ICredentialSources>();
                var sources = options.Registries.ToDictionary(r => r.Key, factory.Create, StringComparer.Ordinal);
                var time = host.Services.GetRequiredService<TimeProvider>();
                var kube = host.Services.GetRequiredService<IKubeApi>();
                var watchApi = host.Services.GetRequiredService<IKubeWatchApi>();
                var metrics = host.Services.GetRequiredService<RefresherMetrics>();
                var watchMetrics = host.Services.GetRequiredService<WatchMetrics>();
                var runLogger = host.Services.GetRequiredService<ILogger<RefreshRun>>();
                var settings = options.Watch!;
                WatchLoop? current = null;
                // The Lease records the configuration this replica runs and when its pod started, so that a standby is ready
                // only beside a leader of its configuration that finished its first full run, and a newer standby of another
                // configuration (a rollout's new pod) is handed the lease (LeaderElection's remarks).
                var election = new LeaderElection(watchApi, settings.LeaseNamespace, settings.LeaseName, LeaderElection.NewIdentity(environment),
                    settings.EffectiveLeaseDuration, settings.EffectiveRenewDeadline, settings.EffectiveRetryPeriod, time,
                    host.Services.GetRequiredService<ILogger<LeaderElection>>(), watchMetrics, settings.LeaseOwner is { } leaseOwner ? (kube, leaseOwner) : null,
                    configurationHash, ReplicaStart.Load(environment, time), () => current?.FirstRunDone == true);
                LogReplica(logger, election.Identity, configurationHash, election.Self.Started);
                // Alive while this replica is a standby, or a leader that renewed within its lease (client-go's HealthzAdaptor
                // reports a leader unhealthy once it is past its lease without renewing: it should have stepped down).
                var healthy = () => !election.IsLeader || election.SinceRenewal < settings.EffectiveLeaseDuration + settings.EffectiveRenewDeadline;
                // Ready: the leader once its first full run finished; a standby once the Lease shows that of a leader of its
                // configuration. pulumi-kubernetes' rollout await (and so the engine's deletes after it) waits for both.
                var ready = () => election.IsLeader
                    ? new Readiness(current?.FirstRunDone == true, current?.Degraded is { } degraded ? "degraded: " + degraded : null)
                    : election.StandbyReadiness();
                var health = new HealthServer(healthPort, healthy, ready, host.Services.GetRequiredService<ILogger<HealthServer>>());
                await using (health.ConfigureAwait(false))
                {
                    health.Start();
                    await election.RunAsync(async leading =>
                    {
                        using var reconciler = new WatchReconciler(kube, options, sources, time, runLogger, metrics);
                        using var loop = new WatchLoop(kube, watchApi, options, settings.EffectiveResync, reconciler,
                            (o, ct) => new RefreshRun(kube, o, sources, time, runLogger, metrics).RunAsync(ct),
                            watchMetrics, time, host.Services.GetRequiredService<ILogger<WatchLoop>>());
                        current = loop;
                        try
                        {
                            await loop.RunAsync(leading).ConfigureAwait(false);
                        }
                        finally
                        {
                            current = null;
                        }
                    }, stop.Token).ConfigureAwait(false);
                }
                if (!MetricsExport.Flush(host.Services))
                {
                    LogMetricsNotExported(logger, MetricsExport.FlushTimeout.TotalSeconds);
                }
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return ExitCodes.Success;
            }
            catch (Exception e) when (e is ConfigurationException or KubeConfigException or InvalidOperationException { InnerException: KubeConfigException }
                or RegistryException { Kind: RegistryErrorKind.InvalidInput })
            {
                IReadOnlyList<ConfigurationProblem> problems = e switch
                {
                    ConfigurationException c => c.Problems,
                    { InnerException: KubeConfigException k } => [new ConfigurationProblem("kubernetes", k.Message)],
                    KubeConfigException k => [new ConfigurationProblem("kubernetes", k.Message)],
                    _ => [new ConfigurationProblem("config", e.Message)],
                };
                await WriteProblemsAsync(error, problems).ConfigureAwait(false);
                return ExitCodes.InvalidConfiguration;
            }
            catch (System.Net.Sockets.SocketException e)
            {
                await error.WriteLineAsync($"registryinfra-refresher: --health-port {healthPort}: {e.SocketErrorCode}").ConfigureAwait(false);
                return ExitCodes.InvalidConfiguration;
            }
        }
    }

    /// <summary>How long in-flight writes may take after SIGTERM: within Kubernetes' default 30 s grace period.</summary>
    internal static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(20);

    private static KubeEndpoint Endpoint(string? kubeconfig, string? context, IDictionary environment)
    {
        var path = kubeconfig ?? (environment["KUBECONFIG"] is string { Length: > 0 } env ? env : null);
        return path is not null ? KubeEndpoint.FromKubeconfig(path, context) : KubeEndpoint.InCluster(environment);
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Metrics export did not finish within {Seconds} s; this run's metrics may be lost")]
    private static partial void LogMetricsNotExported(ILogger logger, double seconds);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Watch: replica {Identity} runs configuration {Configuration} (pod started {Started})")]
    private static partial void LogReplica(ILogger logger, string identity, string configuration, DateTimeOffset started);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Configuration {Path} is valid: {Registries} registries, {Targets} targets (offline check: no cluster or registry contacted)")]
    private static partial void LogOffline(ILogger logger, string path, int registries, int targets);
}
