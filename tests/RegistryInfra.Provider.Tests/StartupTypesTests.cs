using System.Diagnostics.Tracing;
using System.Security;
using System.Text;
using System.Text.RegularExpressions;
using Grpc.Net.Client;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Testing;

namespace RegistryInfra.Provider.Tests;

[CollectionDefinition(nameof(StartupTypes), DisableParallelization = true)]
public sealed class StartupTypes;

/// <summary>
/// provider/RegistryInfra.Provider/StartupTypes.rd.xml lists the generic services that the host's dependency
/// injection closes while the plugin starts and answers its first call, so that NativeAOT compiles them ahead
/// of time. This test starts the same host in-process, records every call site the container builds (its
/// CallSiteBuilt events), and fails when the committed list differs; REGISTRYINFRA_UPDATE_STARTUP_TYPES=1
/// rewrites it. Runs alone: the events are process-wide, and another host in a parallel test would add its own.
/// </summary>
[Collection(nameof(StartupTypes))]
public sealed partial class StartupTypesTests
{
    private const string UpdateVariable = "REGISTRYINFRA_UPDATE_STARTUP_TYPES";

    [Fact]
    public async Task Committed_startup_types_are_those_the_host_closes_at_start()
    {
        var path = Path.Combine(Requirements.RepositoryRoot, "provider", "RegistryInfra.Provider", "StartupTypes.rd.xml");
        var committed = await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken);
        var body = Render(await RecordStartupTypesAsync());
        var start = committed.IndexOf("  <Application>\n", StringComparison.Ordinal) + "  <Application>\n".Length;
        var end = committed.IndexOf("  </Application>", StringComparison.Ordinal);
        var expected = committed[..start] + body + committed[end..];

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            await File.WriteAllTextAsync(path, expected, TestContext.Current.CancellationToken);
            return;
        }
        Assert.True(expected == committed, $"{path} is stale; rerun this test with {UpdateVariable}=1 and commit the file.\nexpected:\n{body}");
    }

    [Fact]
    public async Task Recording_sees_the_options_and_grpc_types_of_the_host()
    {
        var types = await RecordStartupTypesAsync();

        Assert.Contains(types, t => t.FullName!.StartsWith("Grpc.AspNetCore.Server.Internal.ServerCallHandlerFactory`1", StringComparison.Ordinal));
        Assert.Contains(types, t => t.FullName!.StartsWith("Microsoft.Extensions.Options.UnnamedOptionsManager`1", StringComparison.Ordinal)
            && t.GetGenericArguments()[0].Name == "KestrelServerOptions");
        Assert.Contains(types, t => t.IsArray);
    }

    /// <summary>Starts the plugin host, answers one GetPluginInfo, stops it; returns the closed generic and array types DI made.</summary>
    private static async Task<IReadOnlyList<Type>> RecordStartupTypesAsync()
    {
        using var listener = new CallSiteListener();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var stdout = new PortWriter();
        var serve = ProviderHost.ServeAsync([], _ => RegistryInfraPackage.CreateProvider(), stdout, stop.Token);
        var port = await stdout.Port.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        using (var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}"))
        {
            await new Pulumirpc.ResourceProvider.ResourceProviderClient(channel)
                .GetPluginInfoAsync(new Google.Protobuf.WellKnownTypes.Empty(), cancellationToken: TestContext.Current.CancellationToken);
        }
        await stop.CancelAsync();
        await serve;

        var sites = listener.Text;
        var names = ImplementationType().Matches(sites).Select(m => m.Groups[1].Value).Where(n => n.Contains('`', StringComparison.Ordinal))
            .Concat(ItemType().Matches(sites).Select(m => m.Groups[1].Value + "[]"))
            .Distinct(StringComparer.Ordinal);
        return [.. names.Select(n => Resolve(n) ?? throw new InvalidOperationException($"cannot resolve {n}"))];
    }

    private static Type? Resolve(string name)
    {
        if (name.EndsWith("[]", StringComparison.Ordinal))
        {
            return Resolve(name[..^2])?.MakeArrayType();
        }
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (assembly.GetType(name) is { } type)
            {
                return type;
            }
        }
        var generic = GenericName().Match(name);
        return generic.Success && Resolve(generic.Groups[1].Value) is { } definition && Resolve(generic.Groups[2].Value) is { } argument
            ? definition.MakeGenericType(argument)
            : null;
    }

    private static string Render(IReadOnlyList<Type> types)
    {
        var text = new StringBuilder();
        foreach (var group in types.GroupBy(t => (t.IsArray ? t.GetElementType()! : t).Assembly.GetName().Name!).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.Append("    <Assembly Name=\"").Append(group.Key).Append("\">\n");
            foreach (var name in group.Select(RdName).Order(StringComparer.Ordinal))
            {
                text.Append("      <Type Name=\"").Append(SecurityElement.Escape(name)).Append("\" Dynamic=\"Required All\" />\n");
            }
            text.Append("    </Assembly>\n");
        }
        return text.ToString();
    }

    private static string RdName(Type type) =>
        type.IsArray ? RdName(type.GetElementType()!) + "[]"
        : type.IsGenericType ? type.GetGenericTypeDefinition().FullName + "[" + string.Join(",", type.GetGenericArguments().Select(a => $"[{RdName(a)},{a.Assembly.GetName().Name}]")) + "]"
        : type.FullName!;

    [GeneratedRegex("\"implementationType\": \"([^\"]+)\"")]
    private static partial Regex ImplementationType();

    [GeneratedRegex("\"itemType\": \"([^\"]+)\"")]
    private static partial Regex ItemType();

    [GeneratedRegex(@"^([^\[]+`\d+)\[(.*)\]$")]
    private static partial Regex GenericName();

    /// <summary>Collects the container's call-site descriptions (split into chunks by the event source).</summary>
    private sealed class CallSiteListener : EventListener
    {
        private readonly StringBuilder _text = new();

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Extensions-DependencyInjection")
            {
                EnableEvents(eventSource, EventLevel.Verbose, EventKeywords.All);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName == "CallSiteBuilt" && eventData.Payload is [_, string callSite, ..])
            {
                lock (_text)
                {
                    _text.Append(callSite);
                }
            }
        }
    }

    /// <summary>The host's stdout: completes <see cref="Port"/> with the first line.</summary>
    private sealed class PortWriter : StringWriter
    {
        private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<int> Port => _port.Task;

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            var line = ToString();
            if (line.EndsWith('\n') && int.TryParse(line.Trim(), out var port))
            {
                _port.TrySetResult(port);
            }
            return Task.CompletedTask;
        }
    }
}
