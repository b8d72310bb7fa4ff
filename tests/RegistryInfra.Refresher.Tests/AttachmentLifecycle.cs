using System.Collections.Immutable;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider;
using RegistryInfra.Testing.Components;
using RegistryInfra.Testing.Kubernetes;

namespace RegistryInfra.Refresher.Tests;

/// <summary>
/// The <c>registryinfra:kubernetes:PullSecretAttachment</c> resources of one program, driven as the engine drives them
/// (Check, then Create for a new one, Diff and Update for a changed one, Delete for one that left the program) through the
/// provider against the fake API, reached through a kubeconfig naming it.
/// </summary>
internal sealed class AttachmentLifecycle(FakeKubeApi api)
{
    private const string Type = "registryinfra:kubernetes:PullSecretAttachment";
    private readonly RegistryInfra.Protocol.Hosting.Provider _provider = RegistryInfraPackage.CreateProvider();
    private readonly Dictionary<string, (string Id, IReadOnlyDictionary<string, PropertyValue> Inputs, IReadOnlyDictionary<string, PropertyValue> State)> _live = new(StringComparer.Ordinal);

    private string Kubeconfig
    {
        get
        {
            var ca = api.CertificateAuthorityPem is null ? "" : $",\"certificate-authority-data\":\"{api.ClientCertificateAuthorityData}\"";
            return "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"current-context\":\"fake\","
                + $"\"clusters\":[{{\"name\":\"fake\",\"cluster\":{{\"server\":\"{api.Host}\"{ca}}}}}],"
                + "\"users\":[{\"name\":\"admin\",\"user\":{\"token\":\"kube-admin-token\"}}],"
                + "\"contexts\":[{\"name\":\"fake\",\"context\":{\"cluster\":\"fake\",\"user\":\"admin\"}}]}";
        }
    }

    private static string Urn(string name) => $"urn:pulumi:test::fleet::{Type}::{name}";

    /// <summary>The recorded state of the attachment of <paramref name="ns"/>, if it exists.</summary>
    public IReadOnlyDictionary<string, PropertyValue>? State(string ns) => _live.TryGetValue(ns, out var live) ? live.State : null;

    /// <summary>Creates or updates the attachment of <paramref name="ns"/> to these accounts and secrets.</summary>
    public async Task ApplyAsync(string ns, IReadOnlyList<string> accounts, IReadOnlyList<string> secrets, CancellationToken cancellationToken)
    {
        var name = $"access-{ns}-attachment";
        var news = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, PropertyValue>
        {
            ["namespace"] = PropertyValue.Create(ns),
            ["serviceAccounts"] = PropertyValue.CreateArray(accounts.Select(PropertyValue.Create)),
            ["secretNames"] = PropertyValue.CreateArray(secrets.Select(PropertyValue.Create)),
            ["kubeconfig"] = PropertyValue.CreateSecret(PropertyValue.Create(Kubeconfig)),
        });
        var olds = _live.TryGetValue(ns, out var live) ? live.Inputs : ImmutableDictionary<string, PropertyValue>.Empty;
        var check = await _provider.CheckAsync(new CheckRequest(Urn(name), Type, name, olds, news, []), cancellationToken);
        Assert.Empty(check.Failures);
        var inputs = check.Inputs!;
        if (!_live.ContainsKey(ns))
        {
            var created = await _provider.CreateAsync(new CreateRequest(Urn(name), Type, name, inputs, TimeSpan.Zero, Preview: false), cancellationToken);
            _live[ns] = (created.Id, inputs, created.Properties);
            return;
        }
        var diff = await _provider.DiffAsync(new DiffRequest(Urn(name), Type, name, live.Id, live.State, live.Inputs, inputs, []), cancellationToken);
        if (diff.HasChanges != true)
        {
            return;
        }
        Assert.Empty(diff.Replaces);
        var updated = await _provider.UpdateAsync(new UpdateRequest(live.Id, Urn(name), Type, name, live.State, live.Inputs, inputs, TimeSpan.Zero, [], Preview: false), cancellationToken);
        _live[ns] = (live.Id, inputs, updated.Properties);
    }

    /// <summary>Creates every PullSecretAttachment a component's plan declares, with the inputs it declares.</summary>
    public async Task ApplyPlanAsync(ComponentPlan plan, CancellationToken cancellationToken)
    {
        foreach (var child in plan.Children.Where(c => c.Type == Type))
        {
            await ApplyAsync(child.Inputs["namespace"]!.GetValue<string>(),
                [.. child.Inputs["serviceAccounts"]!.AsArray().Select(a => a!.GetValue<string>())],
                [.. child.Inputs["secretNames"]!.AsArray().Select(a => a!.GetValue<string>())], cancellationToken);
        }
    }

    /// <summary>Deletes the attachment of <paramref name="ns"/>, as the engine does once it left the program.</summary>
    public async Task DeleteAsync(string ns, CancellationToken cancellationToken)
    {
        if (_live.Remove(ns, out var live))
        {
            var name = $"access-{ns}-attachment";
            await _provider.DeleteAsync(new DeleteRequest(live.Id, Urn(name), Type, name, live.State, live.Inputs, TimeSpan.Zero), cancellationToken);
        }
    }

    /// <summary>What <c>pulumi refresh</c> stores for the attachment of <paramref name="ns"/>.</summary>
    public async Task<ReadResponse> ReadAsync(string ns, CancellationToken cancellationToken)
    {
        var live = _live[ns];
        var name = $"access-{ns}-attachment";
        return await _provider.ReadAsync(new ReadRequest(live.Id, Urn(name), Type, name, live.State, live.Inputs), cancellationToken);
    }

    public IEnumerable<string> Namespaces => _live.Keys;
}
