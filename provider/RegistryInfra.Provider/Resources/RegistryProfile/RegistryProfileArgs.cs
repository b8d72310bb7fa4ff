using RegistryInfra.Core.References;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Resources.RegistryProfile;

/// <summary>Inputs of <c>registryinfra:index:RegistryProfile</c>.</summary>
[PulumiModel]
public sealed partial record RegistryProfileArgs(
    [property: PulumiProperty("server", Description = "The registry host, e.g. `ghcr.io`, `registry.example.com:5000` or `docker.io`. A scheme and a trailing slash are accepted and removed.")]
    [property: ReplaceOnChanges]
    string Server,
    [property: PulumiProperty("kind", Description = "The registry family. Detected from the server; set it only to confirm the detection or to name the family of a registry behind a custom host name.")]
    [property: ReplaceOnChanges]
    RegistryProfileKind? Kind = null,
    [property: PulumiProperty("username", Description = "Static credentials: the user name to authenticate with.")]
    string? Username = null,
    [property: PulumiProperty("password", Description = "Static credentials: the password or token to authenticate with.")]
    [property: Secret]
    string? Password = null,
    [property: PulumiProperty("email", Description = "An e-mail address, written into the auth entry for tools that still read it.")]
    string? Email = null,
    [property: PulumiProperty("ecr", Description = "Amazon ECR: a token from `GetAuthorizationToken` (valid 12 hours).")]
    EcrCredentialArgs? Ecr = null,
    [property: PulumiProperty("gcpServiceAccountKey", Description = "Google Artifact Registry or GCR: a service-account key used as the password (`_json_key`).")]
    GcpServiceAccountKeyArgs? GcpServiceAccountKey = null,
    [property: PulumiProperty("gcpAccessToken", Description = "Google Artifact Registry or GCR: an OAuth2 access token (`oauth2accesstoken`, valid 1 hour).")]
    GcpAccessTokenArgs? GcpAccessToken = null,
    [property: PulumiProperty("acr", Description = "Azure Container Registry: a refresh token exchanged for a Microsoft Entra identity.")]
    AcrCredentialArgs? Acr = null,
    [property: PulumiProperty("credentialHelper", Description = "A docker credential helper (`docker-credential-NAME`) run by the provider.")]
    CredentialHelperArgs? CredentialHelper = null,
    [property: PulumiProperty("exec", Description = "A command run by the provider that prints `user:password` or `{\"username\",\"password\",\"expiresAt\"}`.")]
    ExecCredentialArgs? Exec = null,
    [property: PulumiProperty("validate", Description = "When to check the credentials (and that every image in `images` exists and can be pulled) against the registry: `onChange` (default) in each preview and update whose inputs the registry would answer differently to, `always` in every preview and update (a credential revoked since the last change fails the next preview), `never` (outputs are still computed at `pulumi up`). Unless `never`, `pulumi refresh` checks them too and fails, naming the field, when the registry no longer accepts them; refresh writes nothing.")]
    RegistryProfileValidation? Validate = null,
    [property: PulumiProperty("images", Description = "Image references on this registry to check and resolve to digests (outputs `imageDigests` and `resolvedImages`).")]
    IReadOnlyList<string>? Images = null,
    [property: PulumiProperty("platform", Description = "The platform (`os/arch[/variant]`) whose manifest `images` resolve to when they are multi-platform indexes.")]
    string? Platform = null,
    [property: PulumiProperty("caCertificates", Description = "PEM certificates of the certificate authorities that issued the registry's TLS certificate (a self-hosted registry's private CA). Trusted for this registry only.")]
    string? CaCertificates = null,
    [property: PulumiProperty("insecure", Description = "Reach the registry over plain HTTP. Only for registries on a trusted network; credentials travel unencrypted.")]
    bool? Insecure = null);

/// <summary>When a profile checks its credentials and images against the registry.</summary>
[PulumiType("registryinfra:index:ValidationMode", Description = "When a RegistryProfile checks its credentials and images against the registry.")]
public enum RegistryProfileValidation
{
    /// <summary>When the inputs the registry answers to change (the default).</summary>
    [EnumValue("onChange", Description = "In the preview (Check) of a change to the server, credentials, images, platform or TLS settings; an unchanged profile costs no request.")]
    OnChange,
    /// <summary>In every preview.</summary>
    [EnumValue("always", Description = "In every preview and update, changed or not: a credential revoked since the last change fails the next preview.")]
    Always,
    /// <summary>Never in preview or refresh.</summary>
    [EnumValue("never", Description = "Never in preview or refresh; `pulumi up` still fetches the credential and resolves `images` for the outputs.")]
    Never,
}

/// <summary>The registry families a profile may name: the schema's projection of Core's <see cref="RegistryKind"/>
/// (each member has the Core kind's value, so a cast converts; names and descriptions are checked against
/// <see cref="RegistryKindFacts.All"/> by a test).</summary>
[PulumiType("registryinfra:index:RegistryKind", Description = "The family of a container registry.")]
public enum RegistryProfileKind
{
    /// <summary>Any other registry (Harbor, Nexus, Artifactory, distribution).</summary>
    [EnumValue("generic", Description = "Any other registry (Harbor, Nexus, Artifactory, distribution).")]
    Generic = (int)RegistryKind.Generic,
    /// <summary>Docker Hub.</summary>
    [EnumValue("dockerHub", Description = "Docker Hub.")]
    DockerHub = (int)RegistryKind.DockerHub,
    /// <summary>Amazon ECR (private).</summary>
    [EnumValue("ecr", Description = "Amazon ECR (private).")]
    Ecr = (int)RegistryKind.EcrPrivate,
    /// <summary>Amazon ECR Public.</summary>
    [EnumValue("ecrPublic", Description = "Amazon ECR Public.")]
    EcrPublic = (int)RegistryKind.EcrPublic,
    /// <summary>Google Container Registry.</summary>
    [EnumValue("gcr", Description = "Google Container Registry.")]
    Gcr = (int)RegistryKind.Gcr,
    /// <summary>Google Artifact Registry.</summary>
    [EnumValue("artifactRegistry", Description = "Google Artifact Registry.")]
    ArtifactRegistry = (int)RegistryKind.ArtifactRegistry,
    /// <summary>Azure Container Registry.</summary>
    [EnumValue("acr", Description = "Azure Container Registry.")]
    Acr = (int)RegistryKind.Acr,
    /// <summary>GitHub Container Registry.</summary>
    [EnumValue("ghcr", Description = "GitHub Container Registry.")]
    Ghcr = (int)RegistryKind.Ghcr,
    /// <summary>Quay.</summary>
    [EnumValue("quay", Description = "Quay.")]
    Quay = (int)RegistryKind.Quay,
    /// <summary>Microsoft Container Registry.</summary>
    [EnumValue("mcr", Description = "Microsoft Container Registry.")]
    Mcr = (int)RegistryKind.Mcr,
}

/// <summary>Amazon ECR credentials.</summary>
[PulumiType("registryinfra:index:EcrCredentials", Description = "Amazon ECR credentials: `GetAuthorizationToken` signed with the AWS SDK's credential chain (environment, IRSA web identity, EKS Pod Identity, instance role) or explicit keys.")]
public sealed partial record EcrCredentialArgs(
    [property: PulumiProperty("region", Description = "The registry's region. Default: the region in the server's host name.")]
    string? Region = null,
    [property: PulumiProperty("accountId", Description = "The 12-digit registry account. Default: the account in the server's host name.")]
    string? AccountId = null,
    [property: PulumiProperty("endpoint", Description = "An ECR API endpoint override (a VPC endpoint).")]
    string? Endpoint = null,
    [property: PulumiProperty("accessKeyId", Description = "An explicit AWS access key id. Default: the AWS SDK's credential chain.")]
    string? AccessKeyId = null,
    [property: PulumiProperty("secretAccessKey", Description = "The secret access key that goes with `accessKeyId`.")]
    [property: Secret]
    string? SecretAccessKey = null,
    [property: PulumiProperty("sessionToken", Description = "A session token for temporary AWS keys.")]
    [property: Secret]
    string? SessionToken = null);

/// <summary>A Google service-account key as the registry password.</summary>
[PulumiType("registryinfra:index:GcpServiceAccountKey", Description = "A Google service-account key used as the registry password.")]
public sealed partial record GcpServiceAccountKeyArgs(
    [property: PulumiProperty("key", Description = "The service-account key file's JSON content.")]
    [property: Secret]
    string Key,
    [property: PulumiProperty("base64", Description = "Send the key as `_json_key_base64` instead of `_json_key`.")]
    bool? Base64 = null);

/// <summary>A Google access token.</summary>
[PulumiType("registryinfra:index:GcpAccessToken", Description = "A Google OAuth2 access token, from a service-account key or from Application Default Credentials (Workload Identity) when no key is given.")]
public sealed partial record GcpAccessTokenArgs(
    [property: PulumiProperty("serviceAccountKey", Description = "A service-account key (JSON). Default: Application Default Credentials.")]
    [property: Secret]
    string? ServiceAccountKey = null);

/// <summary>Azure Container Registry credentials.</summary>
[PulumiType("registryinfra:index:AcrCredentials", Description = "Azure Container Registry credentials: an ACR refresh token exchanged for a Microsoft Entra token (DefaultAzureCredential: environment, workload identity, managed identity).")]
public sealed partial record AcrCredentialArgs(
    [property: PulumiProperty("tenantId", Description = "The Microsoft Entra tenant: its id (a GUID) or a verified domain such as contoso.onmicrosoft.com.")]
    string? TenantId = null,
    [property: PulumiProperty("clientId", Description = "A user-assigned managed identity or workload identity client id (a GUID).")]
    string? ClientId = null,
    [property: PulumiProperty("scope", Description = "The Entra scope. Default `https://containerregistry.azure.net/.default`.")]
    string? Scope = null);

/// <summary>A docker credential helper.</summary>
[PulumiType("registryinfra:index:CredentialHelper", Description = "A docker credential helper (`docker-credential-NAME get`).")]
public sealed partial record CredentialHelperArgs(
    [property: PulumiProperty("helper", Description = "The helper's name, such as `ecr-login`, `gcloud` or `acr-env`.")]
    string Helper,
    [property: PulumiProperty("serverUrl", Description = "The server URL given to the helper. Default: the profile's server.")]
    string? ServerUrl = null,
    [property: PulumiProperty("timeoutSeconds", Description = "Seconds the helper may run: a whole number from 1 to 3600. Default 30.")]
    double? TimeoutSeconds = null);

/// <summary>A command that prints a credential.</summary>
[PulumiType("registryinfra:index:ExecCredential", Description = "A command (no shell) that prints `user:password` or `{\"username\",\"password\",\"expiresAt\"}`.")]
public sealed partial record ExecCredentialArgs(
    [property: PulumiProperty("command", Description = "The program and its arguments.")]
    IReadOnlyList<string> Command,
    [property: PulumiProperty("lifetimeSeconds", Description = "Seconds a credential lasts when the command prints no expiry.")]
    double? LifetimeSeconds = null,
    [property: PulumiProperty("timeoutSeconds", Description = "Seconds the command may run: a whole number from 1 to 3600. Default 30.")]
    double? TimeoutSeconds = null,
    [property: PulumiProperty("environment", Description = "Extra environment variables of the command (not secret: put no secret here).")]
    IReadOnlyDictionary<string, string>? Environment = null);
