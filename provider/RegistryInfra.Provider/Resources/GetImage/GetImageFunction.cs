using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Distribution;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.References;
using RegistryInfra.Protocol.Resources;

namespace RegistryInfra.Provider.Resources.GetImage;

/// <summary>Resolves an image reference to its digest, for pinning deployments and safe rollbacks.</summary>
internal sealed class GetImageFunction(RegistryConnections connections) : IFunction<GetImageArgs, GetImageResult>
{
    public const string Token = "registryinfra:index:getImage";

    public const string Description =
        "Resolves an image reference to its digest (platform-aware for multi-platform indexes) with the given credentials, " +
        "and fails saying whether the registry was unreachable, the credentials unauthorised or forbidden, or the repository or tag missing.";

    public async Task<GetImageResult> InvokeAsync(GetImageArgs args, bool preview, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (!ImageReference.TryParse(args.Image, out var image, out var error))
        {
            throw new ArgumentException($"image: {error}");
        }
        var (credential, pullSecretKey) = Credential(args, image);
        ImagePlatform? platform = null;
        if (args.Platform is { } platformText)
        {
            try
            {
                platform = ImagePlatform.Parse(platformText);
            }
            catch (RegistryException e)
            {
                throw new ArgumentException($"platform: {e.Message}", e);
            }
        }
        var (tls, failures) = RegistryTls.Parse(args.CaCertificates, args.Insecure ?? false, image.Registry.ApiHost);
        if (tls is null)
        {
            throw new ArgumentException(string.Join("; ", failures.Select(f => $"{f.Field}: {f.Reason}")));
        }
        ResolvedImage resolved;
        using var deadline = connections.StartDeadline(cancellationToken);
        try
        {
            resolved = await connections.For(tls).ResolveAsync(image.Registry.ApiHost, image.Repository, image.ManifestReference, platform, credential, deadline.Token);
        }
        catch (Exception e) when (deadline.Cut(e))
        {
            throw new TimeoutException($"getImage {image}: did not finish resolving within {deadline.Described}");
        }
        catch (RegistryException e)
        {
            var who = credential is null ? "anonymously" : $"as '{credential.Username}'";
            throw new RegistryException(e.Kind, $"getImage {image}: {RegistryFailures.Describe(e.Kind)} (pulling {who}): {e.Message}", e);
        }
        return new GetImageResult(
            resolved.Manifest.Digest,
            resolved.Manifest.MediaType,
            [.. resolved.Platforms.Select(p => p.ToString())],
            image.WithoutTagOrDigest().WithDigest(resolved.Manifest.Digest).ToString(),
            resolved.Selected?.Manifest.Digest,
            pullSecretKey);
    }

    /// <summary>The credential to pull with and the key the kubelet would find it under (both null: anonymous).</summary>
    private static (RegistryCredential? Credential, string? Key) Credential(GetImageArgs args, ImageReference image)
    {
        if (args.DockerConfigJson is not null && (args.Username is not null || args.Password is not null))
        {
            throw new ArgumentException("dockerConfigJson: give either username and password or dockerConfigJson, not both");
        }
        if (args.DockerConfigJson is { } json)
        {
            if (!DockerConfig.TryParse(json, out var config, out var error))
            {
                throw new ArgumentException($"dockerConfigJson: {error}");
            }
            // No matching entry: pull anonymously, as the kubelet does.
            var entry = config.FindEntry(image);
            return (entry?.ToCredential(), entry?.Key);
        }
        if (args.Username is null && args.Password is null)
        {
            return (null, null);
        }
        if (string.IsNullOrEmpty(args.Username))
        {
            throw new ArgumentException("username: is required when a password is given");
        }
        if (string.IsNullOrEmpty(args.Password))
        {
            throw new ArgumentException("password: is required when a username is given");
        }
        return (new RegistryCredential(args.Username, args.Password), PullSecretKeys.For(image.Registry.Spelling, [args.Image], "image").PrimaryKey);
    }
}
