using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Testing.Monitor;

/// <summary>
/// The outputs that a provider of another package computes on create and that components read back: what the
/// engine answers a RegisterResource with in an update, beyond the inputs. Values are stable stand-ins derived from
/// the resource's name, of the form the real provider gives (GUIDs for Entra ids).
/// </summary>
/// <remarks>
/// azure-native:managedidentity:UserAssignedIdentity outputs clientId, principalId and tenantId (all strings,
/// <c>readonly clientId: pulumi.Output&lt;string&gt;</c> and so on in @pulumi/azure-native 3.28.0's
/// managedidentity/userAssignedIdentity.d.ts).
/// </remarks>
public static class ProviderAnswers
{
    /// <summary>The computed outputs of a custom resource of <paramref name="type"/> named <paramref name="name"/> after its create.</summary>
    public static ImmutableSortedDictionary<string, PropertyValue> Computed(string type, string name) => type switch
    {
        "azure-native:managedidentity:UserAssignedIdentity" => ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, PropertyValue>
        {
            ["clientId"] = PropertyValue.Create(GuidOf("client", name)),
            ["principalId"] = PropertyValue.Create(GuidOf("principal", name)),
            ["tenantId"] = PropertyValue.Create("72f988bf-86f1-41af-91ab-2d7cd011db47"),
        }),
        _ => ImmutableSortedDictionary<string, PropertyValue>.Empty.WithComparers(StringComparer.Ordinal),
    };

    /// <summary>A stand-in GUID, the same for the same <paramref name="kind"/> and <paramref name="name"/>.</summary>
    public static string GuidOf(string kind, string name) =>
        new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(kind + "/" + name)).AsSpan(0, 16)).ToString("D");
}
