using System.Collections.Immutable;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Pulumirpc;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Protocol.Monitor;

/// <summary>
/// The client a provider's Construct uses to register a component and its children with the engine
/// (the ResourceMonitor at the endpoint given in the Construct request).
/// </summary>
public sealed class ResourceMonitorClient : IDisposable
{
    private readonly ResourceMonitor.ResourceMonitorClient _client;
    private readonly Dictionary<string, bool> _features = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _featureLock = new(1, 1);

    /// <summary>Wraps an existing client (tests, or a channel shared with other callers).</summary>
    public ResourceMonitorClient(ResourceMonitor.ResourceMonitorClient client)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
    }

    /// <summary>
    /// A client of the monitor at <paramref name="endpoint"/> (<c>host:port</c>, as the engine sends it, or a URL).
    /// Every Construct of a deployment names the same monitor, so the clients of one endpoint share one channel
    /// (its HTTP/2 connections stay open between Constructs and carry all of their registrations); disposing a
    /// client leaves the shared channel open for the next.
    /// </summary>
    public static ResourceMonitorClient Connect(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        var address = endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "http://" + endpoint;
        return new ResourceMonitorClient(new ResourceMonitor.ResourceMonitorClient(Channels.GetOrAdd(address, OpenChannel)));
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, GrpcChannel> Channels = new(StringComparer.Ordinal);

    private static GrpcChannel OpenChannel(string address) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = 400 * 1024 * 1024,
        MaxSendMessageSize = 400 * 1024 * 1024,
        HttpHandler = new System.Net.Http.SocketsHttpHandler
        {
            // Several Constructs at once each keep up to ConstructSession.DefaultConcurrency registrations in flight,
            // more than a server may allow on one connection (Kestrel: 100 streams): open another instead of queueing.
            EnableMultipleHttp2Connections = true,
            // As GrpcChannel configures its own handler when given none.
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
        },
        DisposeHttpClient = true,
    });

    /// <summary>Whether the engine supports a feature such as <c>secrets</c>, <c>resourceReferences</c> or <c>outputValues</c>; asked once per feature.</summary>
    public async Task<bool> SupportsFeatureAsync(string feature, CancellationToken cancellationToken)
    {
        await _featureLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_features.TryGetValue(feature, out var known))
            {
                return known;
            }
            var response = await _client.SupportsFeatureAsync(new SupportsFeatureRequest { Id = feature }, cancellationToken: cancellationToken).ConfigureAwait(false);
            _features[feature] = response.HasSupport;
            return response.HasSupport;
        }
        finally
        {
            _featureLock.Release();
        }
    }

    /// <summary>Registers a resource and returns its URN, ID and outputs.</summary>
    public async Task<RegisteredResource> RegisterResourceAsync(ResourceRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var request = new RegisterResourceRequest
        {
            Type = registration.Type,
            Name = registration.Name,
            Parent = registration.Parent,
            Custom = registration.Custom,
            Object = PropertyValueSerializer.Serialize(registration.Inputs),
            Provider = registration.Provider,
            Version = registration.Version,
            DeleteBeforeReplace = registration.DeleteBeforeReplace,
            DeleteBeforeReplaceDefined = registration.DeleteBeforeReplace,
            AcceptSecrets = true,
            AcceptResources = true,
            SupportsPartialValues = true,
            SupportsResultReporting = true,
        };
        if (registration.Protect is { } protect)
        {
            request.Protect = protect;
        }
        request.Dependencies.AddRange(registration.Dependencies);
        foreach (var (key, urns) in registration.PropertyDependencies)
        {
            var deps = new RegisterResourceRequest.Types.PropertyDependencies();
            deps.Urns.AddRange(urns);
            request.PropertyDependencies[key] = deps;
        }
        foreach (var (package, reference) in registration.Providers)
        {
            request.Providers[package] = reference;
        }
        request.IgnoreChanges.AddRange(registration.IgnoreChanges);
        request.AdditionalSecretOutputs.AddRange(registration.AdditionalSecretOutputs);
        request.ReplaceOnChanges.AddRange(registration.ReplaceOnChanges);
        if (!registration.Aliases.IsEmpty)
        {
            if (await SupportsFeatureAsync("aliasSpecs", cancellationToken).ConfigureAwait(false))
            {
                request.AliasSpecs = true;
                request.Aliases.AddRange(registration.Aliases.Select(ToWire));
            }
            else
            {
                request.AliasURNs.AddRange(registration.Aliases.Where(a => a.Urn is not null).Select(a => a.Urn!));
            }
        }

        RegisterResourceResponse response;
        try
        {
            response = await _client.RegisterResourceAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            // The status detail is the engine's own message; never the inputs, which may hold secrets.
            throw new ResourceMonitorException($"registering {registration.Type} '{registration.Name}' failed: {e.Status.StatusCode}: {e.Status.Detail}", e);
        }
        // The outputs stay on the wire until the component reads one: most children's outputs are never read.
        return new RegisteredResource(response.Urn, response.Id, response.Object)
        {
            PropertyDependencies = response.PropertyDependencies.Count == 0
                ? ImmutableDictionary<string, ImmutableArray<string>>.Empty
                : response.PropertyDependencies.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.Urns.ToImmutableArray(), StringComparer.Ordinal),
        };
    }

    /// <summary>Completes a component's registration with its outputs.</summary>
    public async Task RegisterResourceOutputsAsync(string urn, IEnumerable<KeyValuePair<string, PropertyValue>> outputs, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(urn);
        var request = new RegisterResourceOutputsRequest { Urn = urn, Outputs = PropertyValueSerializer.Serialize(outputs) };
        try
        {
            await _client.RegisterResourceOutputsAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw new ResourceMonitorException($"registering the outputs of '{urn}' failed: {e.Status.StatusCode}: {e.Status.Detail}", e);
        }
    }

    private static Alias ToWire(RegistryInfra.Protocol.Hosting.ResourceAlias alias)
    {
        if (alias.Urn is not null)
        {
            return new Alias { Urn = alias.Urn };
        }
        var spec = new Alias.Types.Spec { Name = alias.Name ?? "", Type = alias.Type ?? "", Stack = alias.Stack ?? "", Project = alias.Project ?? "" };
        if (alias.NoParent)
        {
            spec.NoParent = true;
        }
        else if (alias.ParentUrn is not null)
        {
            spec.ParentUrn = alias.ParentUrn;
        }
        return new Alias { Spec = spec };
    }

    /// <summary>Releases this client; the channel of its endpoint stays open for the deployment's other Constructs.</summary>
    public void Dispose() => _featureLock.Dispose();
}

/// <summary>The engine's ResourceMonitor refused or failed a call.</summary>
public sealed class ResourceMonitorException : Exception
{
    /// <summary>Creates the exception with a message that holds no input value.</summary>
    public ResourceMonitorException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public ResourceMonitorException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a generic message.</summary>
    public ResourceMonitorException() : base("the resource monitor failed") { }
}
