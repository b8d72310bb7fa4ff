using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using RegistryInfra.Core.References;

namespace RegistryInfra.Refresher.Configuration;

/// <summary>Checks the configuration at start; every message names the field (as a path in the file) and what is wrong.</summary>
internal sealed partial class RefresherOptionsValidator : IValidateOptions<RefresherOptions>
{
    internal static readonly string[] SourceTypes = ["ecr", "gcp", "acr", "static", "exec"];

    public ValidateOptionsResult Validate(string? name, RefresherOptions options)
    {
        var errors = new List<string>();
        // A configuration of attach-only targets alone (a cluster of static registries) obtains no token at all.
        if (options.Registries.Count == 0 && (options.Targets.Count == 0 || options.Targets.Any(t => !t.AttachOnly)))
        {
            errors.Add("registries: at least one registry is required (only a configuration whose targets are all attachOnly may have none)");
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Registries.Count; i++)
        {
            var r = options.Registries[i];
            var at = $"registries[{i}]";
            if (string.IsNullOrWhiteSpace(r.Server))
            {
                errors.Add($"{at}.server: required (a registry host such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com)");
            }
            else if (!RegistryHost.TryParse(r.Server, out _, out var hostError))
            {
                errors.Add($"{at}.server: {hostError}");
            }
            if (!keys.Add(r.Key))
            {
                errors.Add($"{at}.name: '{r.Key}' is used by another registry");
            }
            ValidateSource(r, $"{at}.source", errors);
        }
        if (options.Targets.Count == 0)
        {
            errors.Add("targets: at least one target is required");
        }
        for (var i = 0; i < options.Targets.Count; i++)
        {
            var t = options.Targets[i];
            var at = $"targets[{i}]";
            if (!IsDnsSubdomain(t.SecretName))
            {
                errors.Add($"{at}.secretName: '{t.SecretName}' is not a valid Secret name (lower-case DNS subdomain, at most 253 characters)");
            }
            var ways = (t.Namespaces.Count > 0 ? 1 : 0) + (string.IsNullOrWhiteSpace(t.NamespaceSelector) ? 0 : 1) + (t.AllNamespaces ? 1 : 0);
            if (ways != 1)
            {
                errors.Add($"{at}: give exactly one of namespaces, namespaceSelector or allNamespaces (got {ways})");
            }
            for (var n = 0; n < t.Namespaces.Count; n++)
            {
                if (!IsDnsLabel(t.Namespaces[n]))
                {
                    errors.Add($"{at}.namespaces[{n}]: '{t.Namespaces[n]}' is not a valid namespace name");
                }
            }
            for (var n = 0; n < t.ServiceAccounts.Count; n++)
            {
                if (!IsDnsSubdomain(t.ServiceAccounts[n]))
                {
                    errors.Add($"{at}.serviceAccounts[{n}]: '{t.ServiceAccounts[n]}' is not a valid service account name");
                }
            }
            if (t.AttachOnly)
            {
                ValidateAttachOnly(options, i, errors);
                continue;
            }
            for (var n = 0; n < t.Registries.Count; n++)
            {
                if (!keys.Contains(t.Registries[n]))
                {
                    errors.Add($"{at}.registries[{n}]: no registry is named '{t.Registries[n]}'");
                }
            }
        }
        if (options.Concurrency is < 1 or > 256)
        {
            errors.Add($"concurrency: {options.Concurrency} must be between 1 and 256");
        }
        if (options.Deadline <= TimeSpan.Zero)
        {
            errors.Add($"deadline: {options.Deadline} must be positive");
        }
        if (options.RenewBefore < TimeSpan.Zero)
        {
            errors.Add($"renewBefore: {options.RenewBefore} must not be negative");
        }
        if (options.ConflictRetries is < 0 or > 50)
        {
            errors.Add($"conflictRetries: {options.ConflictRetries} must be between 0 and 50");
        }
        if (options.TransientRetries is < 0 or > 50)
        {
            errors.Add($"transientRetries: {options.TransientRetries} must be between 0 and 50");
        }
        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add($"requestTimeout: {options.RequestTimeout} must be positive");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateAttachOnly(RefresherOptions options, int index, List<string> errors)
    {
        var t = options.Targets[index];
        var at = $"targets[{index}]";
        if (t.Registries.Count > 0)
        {
            errors.Add($"{at}.registries: an attachOnly target names no registries (its secret's data is owned by whoever created it, such as Pulumi); remove registries or attachOnly");
        }
        if (t.ServiceAccounts.Count == 0)
        {
            errors.Add($"{at}.serviceAccounts: required for an attachOnly target, which only makes these service accounts name the secret");
        }
        // The same secret as a token target's would have its data rewritten by that target: two owners.
        var writer = options.Targets.FindIndex(o => !o.AttachOnly && o.SecretName == t.SecretName);
        if (writer >= 0)
        {
            errors.Add($"{at}.secretName: '{t.SecretName}' is also the secret of targets[{writer}], which writes its data; an attachOnly secret's data must have one owner outside the refresher");
        }
    }

    private static void ValidateSource(RegistryOptions registry, string at, List<string> errors)
    {
        var s = registry.Source;
        if (!SourceTypes.Contains(s.Type))
        {
            errors.Add($"{at}.type: '{s.Type}' must be one of {string.Join(", ", SourceTypes)}");
            return;
        }
        switch (s.Type)
        {
            case "ecr":
                if (RegistryHost.TryParse(registry.Server, out var host) && host.Kind is not (RegistryKind.EcrPrivate or RegistryKind.EcrPublic) && string.IsNullOrWhiteSpace(s.Region))
                {
                    errors.Add($"{at}.region: required for an ecr source whose server ('{registry.Server}') is not an ECR host name");
                }
                if (s.Endpoint is not null && !(Uri.TryCreate(s.Endpoint, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "https" or "http"))
                {
                    errors.Add($"{at}.endpoint: '{s.Endpoint}' must be an absolute http(s) URL");
                }
                if (s.AccountId is not null && !AccountId().IsMatch(s.AccountId))
                {
                    errors.Add($"{at}.accountId: '{s.AccountId}' must be 12 digits");
                }
                break;
            case "exec":
                if (string.IsNullOrWhiteSpace(s.Command))
                {
                    errors.Add($"{at}.command: required for an exec source");
                }
                break;
            case "acr":
                if (RegistryHost.TryParse(registry.Server, out var acrHost) && acrHost.Port is not null)
                {
                    errors.Add($"{at}: an acr source needs a login server without a port, got '{registry.Server}'");
                }
                break;
            case "static":
                if (string.IsNullOrWhiteSpace(s.Username))
                {
                    errors.Add($"{at}.username: required for a static source");
                }
                if (string.IsNullOrWhiteSpace(s.PasswordFile) == string.IsNullOrWhiteSpace(s.PasswordEnv))
                {
                    errors.Add($"{at}: give exactly one of passwordFile or passwordEnv for a static source");
                }
                break;
        }
        if (s.Lifetime is { } lifetime && lifetime <= TimeSpan.Zero)
        {
            errors.Add($"{at}.lifetime: {lifetime} must be positive");
        }
    }

    private static bool IsDnsSubdomain(string value) => value.Length is > 0 and <= 253 && DnsSubdomain().IsMatch(value);

    private static bool IsDnsLabel(string value) => value.Length is > 0 and <= 63 && DnsLabel().IsMatch(value);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[0-9]{12}$")]
    private static partial Regex AccountId();
}
