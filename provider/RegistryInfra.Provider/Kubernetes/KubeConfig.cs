using System.Collections.Immutable;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace RegistryInfra.Provider.Kubernetes;

/// <summary>How the client proves who it is to the API server.</summary>
internal abstract record KubeCredential
{
    /// <summary>No credential (a cluster that allows anonymous requests, or a proxy that adds one).</summary>
    public sealed record None : KubeCredential;

    /// <summary>A bearer token given in the kubeconfig.</summary>
    public sealed record Token(string Value) : KubeCredential
    {
        public override string ToString() => "Token { Value = [secret] }";
    }

    /// <summary>A bearer token read from a file on every request (projected service-account tokens rotate).</summary>
    public sealed record TokenFile(string Path) : KubeCredential;

    /// <summary>A client certificate and its key, in PEM.</summary>
    public sealed record ClientCertificate(string CertificatePem, string KeyPem) : KubeCredential
    {
        public override string ToString() => "ClientCertificate { KeyPem = [secret] }";
    }

    /// <summary>HTTP basic authentication (deprecated in Kubernetes, still accepted by some proxies).</summary>
    public sealed record Basic(string Username, string Password) : KubeCredential
    {
        public override string ToString() => $"Basic {{ Username = {Username}, Password = [secret] }}";
    }

    /// <summary>A client-go credential plugin (<c>users[].user.exec</c>): a command that prints an ExecCredential.</summary>
    public sealed record Exec(string ApiVersion, string Command, ImmutableArray<string> Arguments, ImmutableArray<KeyValuePair<string, string>> Environment,
        string? WorkingDirectory) : KubeCredential;
}

/// <summary>
/// One cluster's API server and the credential to reach it with: the current (or the named) context of a kubeconfig,
/// or the in-cluster configuration of a pod.
/// </summary>
internal sealed record KubeConnection(string ContextName, Uri Server, string? TlsServerName, string? CertificateAuthorityPem, bool InsecureSkipTlsVerify,
    KubeCredential Credential)
{
    public override string ToString() => $"KubeConnection {{ Context = {ContextName}, Server = {Server} }}";
}

/// <summary>A kubeconfig that cannot be used: the message names the file or field and what is wrong, never a credential.</summary>
internal sealed class KubeConfigException(string message) : Exception(message);

/// <summary>
/// Reads kubeconfig files the way kubectl does (kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/
/// #merging-kubeconfig-files, and kubernetes/kubernetes at 03ced770639fac6c1ab10764dfe290c13ebe5517,
/// <c>staging/src/k8s.io/client-go/tools/clientcmd/loader.go</c>, <c>ClientConfigLoadingRules.Load</c> and <c>ResolveLocalPaths</c>:
/// the files of <c>KUBECONFIG</c>, split as <c>filepath.SplitList</c> does, are merged with the first file to set a map entry
/// or a value such as <c>current-context</c> winning, missing files ignored; without <c>KUBECONFIG</c>, <c>~/.kube/config</c>;
/// relative paths inside a file are resolved against that file's folder), and, where neither exists, the pod's in-cluster
/// configuration (client-go <c>rest/config.go</c>, <c>InClusterConfig</c>: <c>KUBERNETES_SERVICE_HOST</c>,
/// <c>KUBERNETES_SERVICE_PORT</c>, the service-account token and <c>ca.crt</c> under
/// <c>/var/run/secrets/kubernetes.io/serviceaccount</c>). Only the fields a client needs are read; an <c>auth-provider</c>
/// (the in-tree gcp and azure ones were removed in Kubernetes 1.26) is refused with the exec plugin to use instead.
/// </summary>
internal static class KubeConfig
{
    public const string InClusterContext = "in-cluster";
    private const string ServiceAccountFolder = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>
    /// The connection for <paramref name="kubeconfig"/> (the content of a kubeconfig, YAML or JSON, or the path of one)
    /// and <paramref name="context"/> (the context to use; default the file's <c>current-context</c>); with no
    /// kubeconfig given, the ambient one.
    /// </summary>
    public static KubeConnection Load(string? kubeconfig, string? context, Func<string, string?>? environment = null, string? home = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!string.IsNullOrWhiteSpace(kubeconfig))
        {
            var trimmed = kubeconfig.Trim();
            if (!trimmed.Contains('\n') && !trimmed.Contains(':') && !trimmed.StartsWith('{') && File.Exists(trimmed))
            {
                return FromFiles([Path.GetFullPath(trimmed)], context, "kubeconfig");
            }
            return FromDocuments([(Parse(kubeconfig, "kubeconfig"), Directory.GetCurrentDirectory())], context, "kubeconfig");
        }
        if (environment("KUBECONFIG") is { Length: > 0 } list)
        {
            var files = list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
            // client-go skips files of the list that do not exist (a missing file is no error, loader.go Load).
            var present = files.Where(File.Exists).ToList();
            if (present.Count == 0)
            {
                throw new KubeConfigException($"KUBECONFIG names {string.Join(", ", files)}, and none of them exists");
            }
            return FromFiles(present, context, "KUBECONFIG");
        }
        home ??= environment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var defaultFile = Path.Combine(home, ".kube", "config");
        if (File.Exists(defaultFile))
        {
            return FromFiles([defaultFile], context, defaultFile);
        }
        if (environment("KUBERNETES_SERVICE_HOST") is { Length: > 0 } host && environment("KUBERNETES_SERVICE_PORT") is { Length: > 0 } port)
        {
            if (context is not null)
            {
                throw new KubeConfigException($"kubeContext: \"{context}\" was given, but there is no kubeconfig (only the in-cluster configuration, which has no contexts)");
            }
            var ca = Path.Combine(ServiceAccountFolder, "ca.crt");
            return new KubeConnection(InClusterContext, new Uri($"https://{(host.Contains(':') ? $"[{host}]" : host)}:{port}"), null,
                File.Exists(ca) ? File.ReadAllText(ca) : null, false, new KubeCredential.TokenFile(Path.Combine(ServiceAccountFolder, "token")));
        }
        throw new KubeConfigException($"kubeconfig: none given, KUBECONFIG is not set, {defaultFile} does not exist and this is not a pod (no KUBERNETES_SERVICE_HOST): give kubeconfig (the content of a kubeconfig, such as a cluster resource's kubeconfig output, or its path)");
    }

    private static KubeConnection FromFiles(IReadOnlyList<string> files, string? context, string source)
    {
        var documents = new List<(YamlMappingNode, string)>();
        foreach (var file in files)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (IOException e)
            {
                throw new KubeConfigException($"{source}: {file} cannot be read: {e.Message}");
            }
            catch (UnauthorizedAccessException e)
            {
                throw new KubeConfigException($"{source}: {file} cannot be read: {e.Message}");
            }
            documents.Add((Parse(text, file), Path.GetDirectoryName(file)!));
        }
        return FromDocuments(documents, context, source);
    }

    private static YamlMappingNode Parse(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            // The parser's message names a position, never the value found there.
            throw new KubeConfigException($"{source}: not a kubeconfig (YAML or JSON) at line {e.Start.Line}, column {e.Start.Column}");
        }
        if (stream.Documents.Count == 0)
        {
            return new YamlMappingNode();
        }
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new KubeConfigException($"{source}: not a kubeconfig: the document is not a mapping with clusters, users and contexts");
    }

    /// <summary>Named entries of a list (<c>clusters</c>, <c>users</c>, <c>contexts</c>) over all files, the first file's entry winning.</summary>
    private static Dictionary<string, (YamlMappingNode Entry, string Folder)> Named(List<(YamlMappingNode Root, string Folder)> documents, string list, string field, string source)
    {
        var result = new Dictionary<string, (YamlMappingNode, string)>(StringComparer.Ordinal);
        foreach (var (root, folder) in documents)
        {
            if (Child(root, list) is not YamlSequenceNode entries)
            {
                continue;
            }
            for (var i = 0; i < entries.Children.Count; i++)
            {
                if (entries.Children[i] is not YamlMappingNode entry || Scalar(entry, "name") is not { Length: > 0 } name)
                {
                    throw new KubeConfigException($"{source}: {list}[{i}] has no name");
                }
                if (Child(entry, field) is not YamlMappingNode body)
                {
                    throw new KubeConfigException($"{source}: {list}[{i}] (\"{name}\") has no {field}");
                }
                result.TryAdd(name, (body, folder));
            }
        }
        return result;
    }

    private static KubeConnection FromDocuments(List<(YamlMappingNode Root, string Folder)> documents, string? context, string source)
    {
        var contexts = Named(documents, "contexts", "context", source);
        var clusters = Named(documents, "clusters", "cluster", source);
        var users = Named(documents, "users", "user", source);
        var contextName = context ?? documents.Select(d => Scalar(d.Root, "current-context")).FirstOrDefault(c => !string.IsNullOrEmpty(c));
        if (contextName is null)
        {
            throw new KubeConfigException(contexts.Count == 0
                ? $"{source}: has no contexts"
                : $"{source}: has no current-context: give kubeContext (one of {string.Join(", ", contexts.Keys.Order(StringComparer.Ordinal))})");
        }
        if (!contexts.TryGetValue(contextName, out var chosen))
        {
            throw new KubeConfigException($"{(context is null ? $"{source}: current-context" : "kubeContext")}: \"{contextName}\" is not a context of {source} ({(contexts.Count == 0 ? "it has none" : "it has " + string.Join(", ", contexts.Keys.Order(StringComparer.Ordinal)))})");
        }
        var clusterName = Scalar(chosen.Entry, "cluster") ?? throw new KubeConfigException($"{source}: context \"{contextName}\" names no cluster");
        if (!clusters.TryGetValue(clusterName, out var cluster))
        {
            throw new KubeConfigException($"{source}: context \"{contextName}\" names the cluster \"{clusterName}\", which is not in clusters");
        }
        var where = $"{source}: cluster \"{clusterName}\"";
        var serverText = Scalar(cluster.Entry, "server") ?? throw new KubeConfigException($"{where} has no server");
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
        {
            throw new KubeConfigException($"{where}: server \"{serverText}\" is not an http(s) URL");
        }
        string? ca = null;
        if (Scalar(cluster.Entry, "certificate-authority-data") is { Length: > 0 } caData)
        {
            ca = Base64(caData, $"{where}: certificate-authority-data");
        }
        else if (Scalar(cluster.Entry, "certificate-authority") is { Length: > 0 } caFile)
        {
            ca = ReadFile(Resolve(caFile, cluster.Folder), $"{where}: certificate-authority");
        }
        var insecure = Scalar(cluster.Entry, "insecure-skip-tls-verify") is "true";
        var userName = Scalar(chosen.Entry, "user");
        KubeCredential credential = new KubeCredential.None();
        if (userName is { Length: > 0 })
        {
            if (!users.TryGetValue(userName, out var user))
            {
                throw new KubeConfigException($"{source}: context \"{contextName}\" names the user \"{userName}\", which is not in users");
            }
            credential = CredentialOf(user.Entry, user.Folder, $"{source}: user \"{userName}\"");
        }
        return new KubeConnection(contextName, server, Scalar(cluster.Entry, "tls-server-name"), ca, insecure, credential);
    }

    private static KubeCredential CredentialOf(YamlMappingNode user, string folder, string where)
    {
        if (Child(user, "auth-provider") is not null)
        {
            throw new KubeConfigException($"{where}: auth-provider plugins were removed from Kubernetes clients (v1.26); use an exec plugin (gke-gcloud-auth-plugin, kubelogin, aws eks get-token)");
        }
        if (Child(user, "exec") is YamlMappingNode exec)
        {
            var apiVersion = Scalar(exec, "apiVersion");
            if (apiVersion is not ("client.authentication.k8s.io/v1" or "client.authentication.k8s.io/v1beta1"))
            {
                throw new KubeConfigException($"{where}: exec.apiVersion must be client.authentication.k8s.io/v1 or v1beta1{(apiVersion is null ? "" : $", not {apiVersion}")}");
            }
            var command = Scalar(exec, "command") is { Length: > 0 } c ? c : throw new KubeConfigException($"{where}: exec has no command");
            // client-go resolves a command with a path separator against the file's folder, and a bare name on PATH.
            if (command.Contains('/') && !Path.IsPathRooted(command))
            {
                command = Path.GetFullPath(Path.Combine(folder, command));
            }
            var arguments = Child(exec, "args") is YamlSequenceNode args
                ? args.Children.Select(a => (a as YamlScalarNode)?.Value ?? "").ToImmutableArray()
                : [];
            var environment = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
            if (Child(exec, "env") is YamlSequenceNode env)
            {
                foreach (var entry in env.Children.OfType<YamlMappingNode>())
                {
                    if (Scalar(entry, "name") is { Length: > 0 } name)
                    {
                        environment.Add(KeyValuePair.Create(name, Scalar(entry, "value") ?? ""));
                    }
                }
            }
            return new KubeCredential.Exec(apiVersion, command, arguments, environment.ToImmutable(), folder);
        }
        var certificate = Scalar(user, "client-certificate-data") is { Length: > 0 } certData
            ? Base64(certData, $"{where}: client-certificate-data")
            : Scalar(user, "client-certificate") is { Length: > 0 } certFile ? ReadFile(Resolve(certFile, folder), $"{where}: client-certificate") : null;
        var key = Scalar(user, "client-key-data") is { Length: > 0 } keyData
            ? Base64(keyData, $"{where}: client-key-data")
            : Scalar(user, "client-key") is { Length: > 0 } keyFile ? ReadFile(Resolve(keyFile, folder), $"{where}: client-key") : null;
        if (certificate is not null || key is not null)
        {
            return certificate is not null && key is not null
                ? new KubeCredential.ClientCertificate(certificate, key)
                : throw new KubeConfigException($"{where}: has a client {(certificate is null ? "key" : "certificate")} but no client {(certificate is null ? "certificate" : "key")}");
        }
        if (Scalar(user, "token") is { Length: > 0 } token)
        {
            return new KubeCredential.Token(token);
        }
        if (Scalar(user, "tokenFile") is { Length: > 0 } tokenFile)
        {
            return new KubeCredential.TokenFile(Resolve(tokenFile, folder));
        }
        if (Scalar(user, "username") is { Length: > 0 } username)
        {
            return new KubeCredential.Basic(username, Scalar(user, "password") ?? "");
        }
        return new KubeCredential.None();
    }

    private static string Resolve(string path, string folder) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(folder, path));

    private static string ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"{what}: {path} cannot be read: {e.Message}");
        }
    }

    private static string Base64(string text, string what)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(text.Trim()));
        }
        catch (FormatException)
        {
            throw new KubeConfigException($"{what} is not base64");
        }
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? Scalar(YamlMappingNode map, string key) => Child(map, key) is YamlScalarNode { Value: var v } ? v : null;
}
