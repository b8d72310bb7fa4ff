using RegistryInfra.Protocol.Model;

namespace RegistryInfra.Provider.Components.Kubernetes;

/// <summary>The recommended labels, so objects made by a component can be found and told apart.</summary>
internal static class KubernetesLabels
{
    public static Dictionary<string, string> For(string component, string instance, IReadOnlyDictionary<string, string>? extra = null)
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

    /// <summary>The labels with a user's extra labels that may not be known yet (preview).</summary>
    public static Output<IReadOnlyDictionary<string, string>> Of(string component, string instance, InputMap<string>? extra) =>
        extra is null
            ? Output.Create<IReadOnlyDictionary<string, string>>(For(component, instance, (IReadOnlyDictionary<string, string>?)null))
            : extra.Entries.Apply(entries => (IReadOnlyDictionary<string, string>)For(component, instance, (IReadOnlyDictionary<string, string>)entries));

    /// <summary>Metadata of a namespaced or cluster object.</summary>
    public static ObjectMetaInputs Metadata(string name, string? @namespace, Output<IReadOnlyDictionary<string, string>> labels,
        IReadOnlyDictionary<string, string>? annotations = null) => new()
        {
            Name = name,
            Namespace = @namespace is null ? null : Output.Create(@namespace),
            Labels = labels,
            Annotations = annotations is null ? null : Output.Create(annotations),
        };

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
