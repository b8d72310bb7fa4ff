using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using RegistryInfra.Protocol.Components;
using RegistryInfra.Protocol.Model;

namespace RegistryInfra.Provider.Components.AcrPullAccess;

/// <summary>
/// <c>registryinfra:azure:AcrPullAccess</c>: a user-assigned managed identity (created, or an existing one), a
/// federated identity credential that trusts the refresher's Kubernetes service account token from the cluster's
/// OIDC issuer, and the built-in role AcrPull on each listed registry. Children are pulumi-azure-native resources.
/// </summary>
/// <remarks>
/// Facts relied on, from Azure/azure-workload-identity pkg/webhook/consts.go (commit 2135097624e5): the webhook
/// projects the service account token with audience <c>api://AzureADTokenExchange</c> (DefaultAudience), takes the
/// client id from the service account annotation <c>azure.workload.identity/client-id</c>, and mutates pods labelled
/// <c>azure.workload.identity/use: "true"</c>; the token's subject is the service account,
/// <c>system:serviceaccount:NAMESPACE:NAME</c>. AcrPull is the built-in role 7f951dda-4ed3-4680-a7ca-43fe172d538d
/// (action Microsoft.ContainerRegistry/registries/pull/read). The role assignment names principalType
/// ServicePrincipal so that ARM does not look up a just-created identity in Microsoft Entra before it has replicated
/// (MicrosoftDocs/azure-docs articles/role-based-access-control/role-assignments-cli.md, "Create a role assignment
/// for a new service principal", commit 91244c1).
/// </remarks>
public sealed partial class AcrPullAccessComponent : IComponent<AcrPullAccessArgs, AcrPullAccessOutputs>
{
    public const string TypeToken = "registryinfra:azure:AcrPullAccess";
    public const string IdentityType = "azure-native:managedidentity:UserAssignedIdentity";
    public const string FederatedCredentialType = "azure-native:managedidentity:FederatedIdentityCredential";
    public const string RoleAssignmentType = "azure-native:authorization:RoleAssignment";
    public const string AcrPullRoleId = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    public const string TokenExchangeAudience = "api://AzureADTokenExchange";
    public const string ClientIdAnnotation = "azure.workload.identity/client-id";
    public const string UseLabel = "azure.workload.identity/use";

    /// <summary>The namespace of the role assignments' name-based GUIDs (RFC 4122 version 5); never change it.</summary>
    private static readonly Guid AssignmentNamespace = new("5b0f3f52-6d2e-4b0a-9a43-6f1f1c7a2e41");

    public static AcrPullAccessComponent Instance { get; } = new();

    public string Type => TypeToken;

    private const string Guid36 = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

    [GeneratedRegex("^/subscriptions/(" + Guid36 + ")/resourceGroups/([-\\w._()]{1,90})/providers/Microsoft\\.ContainerRegistry/registries/([A-Za-z0-9]{5,50})$", RegexOptions.IgnoreCase)]
    private static partial Regex RegistryIdPattern();

    [GeneratedRegex("^/subscriptions/(" + Guid36 + ")/resourceGroups/([-\\w._()]{1,90})/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/([A-Za-z0-9][-A-Za-z0-9_]{2,127})$", RegexOptions.IgnoreCase)]
    private static partial Regex IdentityIdPattern();

    [GeneratedRegex("^" + Guid36 + "$")]
    private static partial Regex GuidPattern();

    [GeneratedRegex("^[-\\w._()]{0,89}[-\\w_()]$")]
    private static partial Regex ResourceGroupPattern();

    [GeneratedRegex("^[A-Za-z0-9][-A-Za-z0-9_]{2,127}$")]
    private static partial Regex IdentityNamePattern();

    [GeneratedRegex("^[A-Za-z0-9][-A-Za-z0-9_]{2,119}$")]
    private static partial Regex CredentialNamePattern();

    [GeneratedRegex("^[a-z][a-z0-9]{1,39}$")]
    private static partial Regex LocationPattern();

    public AcrPullAccessOutputs Construct(ComponentScope scope, string name, AcrPullAccessArgs args)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(args);
        Validate(args);
        var subject = Output.Tuple(args.ServiceAccountNamespace, args.ServiceAccountName).Apply(v => $"system:serviceaccount:{v.Item1}:{v.Item2}");

        Output<string> clientId, principalId, identityGroup, identityName;
        Output<string?> tenantId;
        ChildResource? identity = null;
        if (!scope.Known(args.IdentityResourceId, "identityResourceId", "the user-assigned identity", out var existing))
        {
            // Whether the identity is created is unknown: its values are unknown with identityResourceId.
            clientId = Output.Tuple(args.IdentityResourceId, args.ClientId).Apply(v => v.Item2!);
            principalId = Output.Tuple(args.IdentityResourceId, args.PrincipalId).Apply(v => v.Item2!);
            tenantId = Output.Tuple(args.IdentityResourceId, args.TenantId).Apply(v => v.Item2);
            identityGroup = args.IdentityResourceId.Apply(id => IdentityIdPattern().Match(id!).Groups[2].Value);
            identityName = args.IdentityResourceId.Apply(id => IdentityIdPattern().Match(id!).Groups[3].Value);
        }
        else if (existing is null)
        {
            var createdName = args.IdentityName.Apply(n => n ?? DefaultName(name, 128));
            identity = scope.Resource(IdentityType, $"{name}-identity", new UserAssignedIdentityInputs
            {
                ResourceGroupName = args.ResourceGroupName.Apply(g => g!),
                ResourceName = createdName,
                Location = args.Location,
                Tags = args.Tags?.Entries.Apply(t => (IReadOnlyDictionary<string, string>)t),
            });
            // The engine answers the identity's outputs; in an update a missing one is the provider's fault, not the user's.
            clientId = Answered(identity, "clientId");
            principalId = Answered(identity, "principalId");
            tenantId = Answered(identity, "tenantId").Apply(t => (string?)t);
            identityGroup = args.ResourceGroupName.Apply(g => g!).DependingOn(identity.Urn);
            identityName = createdName.DependingOn(identity.Urn);
        }
        else
        {
            var parsed = IdentityIdPattern().Match(existing);
            clientId = args.ClientId.Apply(c => c!);
            principalId = args.PrincipalId.Apply(p => p!);
            tenantId = args.TenantId;
            identityGroup = parsed.Groups[2].Value;
            identityName = parsed.Groups[3].Value;
        }
        var after = ChildOptions.After(identity);

        scope.Resource(FederatedCredentialType, $"{name}-federated-credential", new FederatedIdentityCredentialInputs
        {
            ResourceGroupName = identityGroup,
            ResourceName = identityName,
            FederatedIdentityCredentialResourceName = args.FederatedCredentialName.Apply(n => n ?? DefaultName(name, 120)),
            Issuer = args.OidcIssuerUrl,
            Subject = subject,
            Audiences = [TokenExchangeAudience],
        }, after);

        if (scope.Known(args.RegistryIds, "registryIds", "the AcrPull role assignments", out var registryIds))
        {
            for (var i = 0; i < registryIds.Length; i++)
            {
                var match = RegistryIdPattern().Match(registryIds[i]);
                var registryScope = registryIds[i];
                var roleDefinition = $"/subscriptions/{match.Groups[1].Value}/providers/Microsoft.Authorization/roleDefinitions/{AcrPullRoleId}";
                scope.Resource(RoleAssignmentType, $"{name}-acr-pull-{match.Groups[3].Value.ToLowerInvariant()}", new RoleAssignmentInputs
                {
                    // Named from what it grants: the same grant keeps its name, a new principal or scope is a new assignment.
                    RoleAssignmentName = principalId.Apply(p => AssignmentName(registryScope, roleDefinition, p)),
                    Scope = registryScope,
                    RoleDefinitionId = roleDefinition,
                    PrincipalId = principalId,
                    PrincipalType = "ServicePrincipal",
                    Description = subject.Apply(s => $"registryinfra {name}: pull for {s}"),
                }, after);
            }
        }

        return new AcrPullAccessOutputs
        {
            ClientId = clientId,
            PrincipalId = principalId,
            TenantId = tenantId,
            Subject = subject,
            ServiceAccountAnnotations = clientId.Apply(c => (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { [ClientIdAnnotation] = c }),
            PodLabels = Output.Create((IReadOnlyDictionary<string, string>)new Dictionary<string, string> { [UseLabel] = "true" }),
        };
    }

    private static Output<string> Answered(ChildResource identity, string key) =>
        identity.Output(key, Converters.String).Apply(v => string.IsNullOrEmpty(v)
            ? throw new InvalidOperationException($"{IdentityType} '{identity.Name}' answered no '{key}'")
            : v);

    /// <summary>The role assignment's name, a GUID as Azure requires: name-based on the grant (scope, role, principal).</summary>
    public static string AssignmentName(string registryScope, string roleDefinitionId, string principalId)
    {
        ArgumentNullException.ThrowIfNull(registryScope);
        ArgumentNullException.ThrowIfNull(roleDefinitionId);
        ArgumentNullException.ThrowIfNull(principalId);
        return NameBasedGuid(AssignmentNamespace, $"{registryScope}|{roleDefinitionId}|{principalId}".ToLowerInvariant()).ToString("D");
    }

    /// <summary>A name-based GUID, RFC 4122 section 4.3 with SHA-1 (version 5): the namespace in network order, then the name's UTF-8.</summary>
    public static Guid NameBasedGuid(Guid space, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var text = Encoding.UTF8.GetBytes(name);
        var input = new byte[16 + text.Length];
        space.TryWriteBytes(input.AsSpan(0, 16), bigEndian: true, out _);
        text.CopyTo(input, 16);
#pragma warning disable CA5350 // SHA-1 is what RFC 4122 version 5 specifies; this makes a name, not a security measure.
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    /// <summary>
    /// A default Azure name from the component's name: A-Z a-z 0-9 - _, starting with a letter or digit, 3 to
    /// <paramref name="max"/> characters, cut with a hash of the whole name when longer.
    /// </summary>
    public static string DefaultName(string name, int max)
    {
        ArgumentNullException.ThrowIfNull(name);
        var id = new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]).TrimStart('-', '_');
        if (id.Length < 3)
        {
            id = "registryinfra-" + id;
        }
        return id.Length <= max ? id : id[..(max - 11)] + "-" + KubernetesNames.ShortHash(name);
    }

    // Known inputs are checked even when others are unknown (preview).
    private static void Validate(AcrPullAccessArgs args)
    {
        if (args.OidcIssuerUrl.TryGetKnown(out var issuer))
        {
            if (issuer.Length == 0)
            {
                throw new ComponentInputException("oidcIssuerUrl", "required: the cluster's OIDC issuer URL (AKS: oidcIssuerProfile.issuerURL)");
            }
            if (!Uri.TryCreate(issuer, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            {
                throw new ComponentInputException("oidcIssuerUrl", $"'{Redact(issuer)}' is not an https issuer URL without query, fragment or user information");
            }
        }
        if (args.ServiceAccountNamespace.TryGetKnown(out var ns))
        {
            KubernetesNames.RequireLabel(ns, "serviceAccountNamespace");
        }
        if (args.ServiceAccountName.TryGetKnown(out var sa))
        {
            KubernetesNames.RequireSubdomain(sa, "serviceAccountName");
        }
        if (args.RegistryIds.TryGetKnown(out var registries))
        {
            if (registries.Length == 0)
            {
                throw new ComponentInputException("registryIds", "list at least one registry's resource id");
            }
            var names = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < registries.Length; i++)
            {
                var match = RegistryIdPattern().Match(registries[i]);
                if (!match.Success)
                {
                    throw new ComponentInputException($"registryIds[{i}]", $"'{Redact(registries[i])}' is not a container registry's resource id (/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.ContainerRegistry/registries/NAME)");
                }
                if (!names.TryAdd(match.Groups[3].Value, i))
                {
                    throw new ComponentInputException($"registryIds[{i}]", $"names the registry '{match.Groups[3].Value}' again (registryIds[{names[match.Groups[3].Value]}])");
                }
            }
        }
        var existingKnown = args.IdentityResourceId.TryGetKnown(out var existing);
        if (existing is not null && !IdentityIdPattern().IsMatch(existing))
        {
            throw new ComponentInputException("identityResourceId", $"'{Redact(existing)}' is not a user-assigned identity's resource id (/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME)");
        }
        RequireGuid(args.ClientId, "clientId");
        RequireGuid(args.PrincipalId, "principalId");
        RequireGuid(args.TenantId, "tenantId");
        if (args.ResourceGroupName.TryGetKnown(out var group) && group is not null && !ResourceGroupPattern().IsMatch(group))
        {
            throw new ComponentInputException("resourceGroupName", $"'{Redact(group)}' is not a resource group name (1-90 of letters, digits, - _ . ( ), not ending with '.')");
        }
        if (args.IdentityName.TryGetKnown(out var identityName) && identityName is not null && !IdentityNamePattern().IsMatch(identityName))
        {
            throw new ComponentInputException("identityName", $"'{Redact(identityName)}' is not a user-assigned identity name (3-128 of A-Z a-z 0-9 - _, starting with a letter or digit)");
        }
        if (args.FederatedCredentialName.TryGetKnown(out var credentialName) && credentialName is not null && !CredentialNamePattern().IsMatch(credentialName))
        {
            throw new ComponentInputException("federatedCredentialName", $"'{Redact(credentialName)}' is not a federated identity credential name (3-120 of A-Z a-z 0-9 - _, starting with a letter or digit)");
        }
        if (args.Location.TryGetKnown(out var location) && location is not null && !LocationPattern().IsMatch(location))
        {
            throw new ComponentInputException("location", $"'{Redact(location)}' is not an Azure location name (such as westeurope)");
        }
        if (!existingKnown)
        {
            return;
        }
        if (existing is null)
        {
            foreach (var (value, field) in new[] { (args.ClientId, "clientId"), (args.PrincipalId, "principalId"), (args.TenantId, "tenantId") })
            {
                if (!value.TryGetKnown(out var given) || given is not null)
                {
                    throw new ComponentInputException(field, "only with identityResourceId (an existing identity); a created identity has its own");
                }
            }
            if (args.ResourceGroupName.TryGetKnown(out var rg) && rg is null)
            {
                throw new ComponentInputException("resourceGroupName", "required to create the identity (or name an existing one with identityResourceId, clientId and principalId)");
            }
            return;
        }
        foreach (var (value, field) in new[] { (args.ClientId, "clientId"), (args.PrincipalId, "principalId") })
        {
            if (value.TryGetKnown(out var given) && given is null)
            {
                throw new ComponentInputException(field, "required with identityResourceId (the existing identity's)");
            }
        }
        foreach (var (value, field) in new[] { (args.ResourceGroupName, "resourceGroupName"), (args.IdentityName, "identityName"), (args.Location, "location") })
        {
            if (!value.TryGetKnown(out var given) || given is not null)
            {
                throw new ComponentInputException(field, "only used when the identity is created; identityResourceId names an existing one");
            }
        }
        if (args.Tags is { } tags && (!tags.TryGetKnown(out var entries) || entries.Count > 0))
        {
            throw new ComponentInputException("tags", "only used when the identity is created; identityResourceId names an existing one");
        }
    }

    private static void RequireGuid(Output<string?> value, string field)
    {
        if (value.TryGetKnown(out var text) && text is not null && !GuidPattern().IsMatch(text))
        {
            throw new ComponentInputException(field, $"'{Redact(text)}' is not a GUID");
        }
    }

    // A value quoted in an error: cut, control characters replaced.
    private static string Redact(string text)
    {
        var clean = new string([.. text.Take(200).Select(c => char.IsControl(c) ? '?' : c)]);
        return text.Length > 200 ? clean + "…" : clean;
    }
}
