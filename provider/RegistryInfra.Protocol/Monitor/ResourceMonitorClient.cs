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
    private readonly GrpcChannel? _channel;
    private readonly ResourceMonitor.ResourceMonitorClient _client;
    private readonly Dictionary<string, bool> _features = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _featureLock = new(1, 1);

    /// <summary>Wraps an existing client (tests, or a channel shared with other callers).</summary>
    public ResourceMonitorClient(ResourceMonitor.ResourceMonitorClient client)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
    }

    private ResourceMonitorClient(GrpcChannel channel)
    {
        _channel = channel;
        _client = new ResourceMonitor.ResourceMonitorClient(channel);
    }

    /// <summary>Connects to the monitor at <paramref name="endpoint"/> (<c>host:port</c>, as the engine sends it, or a URL).</summary>
    public static ResourceMonitorClient Connect(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        var address = endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "http://" + endpoint;
        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 400 * 1024 * 1024,
            MaxSendMessageSize = 400 * 1024 * 1024,
        });
        return new ResourceMonitorClient(channel);
    }

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
        var outputs = response.Object is null
            ? ImmutableSortedDictionary<string, PropertyValue>.Empty.WithComparers(StringComparer.Ordinal)
            : PropertyValueSerializer.Deserialize(response.Object);
        return new RegisteredResource(response.Urn, response.Id, outputs)
        {
            PropertyDependencies = response.PropertyDependencies.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.Urns.ToImmutableArray(), StringComparer.Ordinal),
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

    /// <summary>Closes the channel this client opened.</summary>
    public void Dispose()
    {
        _channel?.Dispose();
        _featureLock.Dispose();
    }
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
