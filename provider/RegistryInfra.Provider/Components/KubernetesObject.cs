using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace RegistryInfra.Provider.Components;

/// <summary>
/// Turns KubernetesClient's typed models into the inputs of a <c>kubernetes:*</c> resource, through the
/// client's own JSON settings (<see cref="KubernetesModelJson"/>) so every field name is Kubernetes' own.
/// </summary>
internal static class KubernetesObject
{
    public static JsonObject ToInputs<T>(T model)
        where T : IKubernetesObject
    {
        var typeInfo = KubernetesModelJson.Default.GetTypeInfo(typeof(T))
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not listed in {nameof(KubernetesModelJson)}");
        return JsonSerializer.SerializeToNode(model, typeInfo)?.AsObject()
            ?? throw new InvalidOperationException("a Kubernetes model serialised to null");
    }

    /// <summary>The recommended labels, so objects made by a component can be found and told apart.</summary>
    public static Dictionary<string, string> Labels(string component, string instance, IReadOnlyDictionary<string, string>? extra = null)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (extra is not null)
        {
            foreach (var (key, value) in extra)
            {
                labels[key] = value;
            }
        }
        labels["app.kubernetes.io/name"] = "registryinfra";
        labels["app.kubernetes.io/instance"] = LabelValue(instance);
        labels["app.kubernetes.io/managed-by"] = "pulumi";
        labels["app.kubernetes.io/component"] = component;
        labels["app.kubernetes.io/part-of"] = "registryinfra";
        return labels;
    }

    public static V1ObjectMeta Metadata(string name, string? @namespace, Dictionary<string, string> labels, IDictionary<string, string>? annotations = null) =>
        new() { Name = name, NamespaceProperty = @namespace, Labels = labels, Annotations = annotations };

    // A label value is at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric.
    private static string LabelValue(string value)
    {
        var chars = value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray();
        var text = new string(chars);
        if (text.Length > 63)
        {
            text = text[..63];
        }
        return text.Trim('.', '_', '-');
    }
}
