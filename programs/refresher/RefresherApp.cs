using System.CommandLine;
using k8s;
using k8s.Exceptions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Refresher.Configuration;

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
    public static async Task<int> RunAsync(string[] args, Action<IServiceCollection>? configureServices, CancellationToken cancellationToken)
    {
        var configOption = new Option<string>("--config", "-c")
        {
            Description = $"The configuration file (YAML or JSON). Default: $REFRESHER_CONFIG or {DefaultConfigPath}.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("REFRESHER_CONFIG") is { Length: > 0 } p ? p : DefaultConfigPath,
        };
        var kubeconfigOption = new Option<string?>("--kubeconfig")
        {
            Description = "A kubeconfig file; default: $KUBECONFIG, else the in-cluster service account.",
        };
        var contextOption = new Option<string?>("--context") { Description = "The kubeconfig context to use." };

        var refresh = new Command("refresh", "Renew registry tokens in the target pull secrets (the CronJob's entry point).");
        var check = new Command("check", "Validate configuration, credentials and access to the Kubernetes API; change nothing.");
        foreach (var command in new[] { refresh, check })
        {
            command.Options.Add(configOption);
            command.Options.Add(kubeconfigOption);
            command.Options.Add(contextOption);
        }
        refresh.SetAction((parse, ct) => ExecuteAsync(parse.GetValue(configOption)!, parse.GetValue(kubeconfigOption), parse.GetValue(contextOption), check: false, configureServices, ct));
        check.SetAction((parse, ct) => ExecuteAsync(parse.GetValue(configOption)!, parse.GetValue(kubeconfigOption), parse.GetValue(contextOption), check: true, configureServices, ct));

        var root = new RootCommand("registryinfra-refresher: keeps Kubernetes image pull secrets filled with fresh registry tokens.");
        root.Subcommands.Add(refresh);
        root.Subcommands.Add(check);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
            }
            return ExitCodes.InvalidConfiguration;
        }
        return await parsed.InvokeAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> ExecuteAsync(string configPath, string? kubeconfig, string? context, bool check,
        Action<IServiceCollection>? configureServices, CancellationToken cancellationToken)
    {
        IHost host;
        try
        {
            host = BuildHost(configPath, kubeconfig, context, configureServices);
        }
        catch (ConfigurationException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }
        using (host)
        {
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RegistryInfra.Refresher");
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
                var options = host.Services.GetRequiredService<IOptions<RefresherOptions>>().Value;
                var factory = host.Services.GetRequiredService<ICredentialSources>();
                var sources = options.Registries.ToDictionary(r => r.Key, factory.Create, StringComparer.Ordinal);
                var kubernetes = host.Services.GetRequiredService<IKubernetes>();
                var time = host.Services.GetRequiredService<TimeProvider>();
                int code;
                if (check)
                {
                    var problems = await new CheckRun(kubernetes, options, sources, time, host.Services.GetRequiredService<ILogger<CheckRun>>())
                        .RunAsync(cancellationToken).ConfigureAwait(false);
                    code = problems == 0 ? ExitCodes.Success : ExitCodes.TargetsFailed;
                }
                else
                {
                    var summary = await new RefreshRun(kubernetes, options, sources, time, host.Services.GetRequiredService<ILogger<RefreshRun>>(),
                        host.Services.GetRequiredService<RefresherMetrics>()).RunAsync(cancellationToken).ConfigureAwait(false);
                    code = summary.Failed == 0 ? ExitCodes.Success : ExitCodes.TargetsFailed;
                }
                if (!MetricsExport.Flush(host.Services))
                {
                    LogMetricsNotExported(logger, MetricsExport.FlushTimeout.TotalSeconds);
                }
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return code;
            }
            catch (OptionsValidationException e)
            {
                foreach (var failure in e.Failures)
                {
                    LogInvalid(logger, failure);
                }
                return ExitCodes.InvalidConfiguration;
            }
            catch (Exception e) when (e is ConfigurationException or KubeConfigException or InvalidOperationException { InnerException: KubeConfigException }
                or RegistryException { Kind: RegistryErrorKind.InvalidInput })
            {
                LogInvalid(logger, e.InnerException is KubeConfigException k ? "kubernetes: " + k.Message : e.Message);
                return ExitCodes.InvalidConfiguration;
            }
        }
    }

    internal static IHost BuildHost(string configPath, string? kubeconfig, string? context, Action<IServiceCollection>? configureServices)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            // Defaults would add appsettings files and unprefixed environment variables; the file and REFRESHER_* are the whole configuration.
            DisableDefaults = true,
            ApplicationName = "registryinfra-refresher",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddJsonStream(new MemoryStream(ConfigurationFile.ReadAsJson(configPath)));
        builder.Configuration.AddEnvironmentVariables(RefresherOptions.EnvironmentPrefix);
        builder.Configuration.AddInMemoryCollection(Duration.Normalize(builder.Configuration));

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("logging"));
        builder.Logging.AddJsonConsole(o =>
        {
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
        });

        builder.Services.AddOptions<RefresherOptions>()
            .Bind(builder.Configuration)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RefresherOptions>, RefresherOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<RefresherMetrics>();
        builder.Services.AddSingleton<ICredentialSources, CredentialSources>();
        builder.Services.AddSingleton<IKubernetes>(sp => new Kubernetes(ClientConfiguration(kubeconfig, context, sp.GetRequiredService<IOptions<RefresherOptions>>().Value.RequestTimeout)));
        MetricsExport.AddTo(builder.Configuration, builder.Configuration, builder.Services, Environment.GetEnvironmentVariables());
        configureServices?.Invoke(builder.Services);
        return builder.Build();
    }

    private static KubernetesClientConfiguration ClientConfiguration(string? kubeconfig, string? context, TimeSpan requestTimeout)
    {
        var path = kubeconfig ?? (Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } env ? env : null);
        var configuration = path is not null
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(path, context)
            : KubernetesClientConfiguration.InClusterConfig();
        configuration.HttpClientTimeout = requestTimeout;
        return configuration;
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Metrics export did not finish within {Seconds} s; this run's metrics may be lost")]
    private static partial void LogMetricsNotExported(ILogger logger, double seconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Critical, Message = "Invalid configuration: {Problem}")]
    private static partial void LogInvalid(ILogger logger, string problem);
}
