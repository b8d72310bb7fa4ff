using RegistryInfra.Core;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Resources.GetImage;
using RegistryInfra.Provider.Resources.RegistryProfile;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Provider.Tests.Registry;

/// <summary>getImage against a real docker-registry on 127.0.0.1; digests compared with <c>skopeo inspect</c>.</summary>
public sealed class GetImageTests(SharedRegistries registries)
{
    private const string WrongPassword = "wrong-p4ssw0rd-canary";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, PropertyValue> Args(LocalRegistry registry, string image, TestAccount? account, string? password = null)
    {
        var args = new Dictionary<string, PropertyValue>
        {
            ["image"] = PropertyValue.Create(image),
            ["caCertificates"] = PropertyValue.Create(registry.Ca!.Root.ExportCertificatePem()),
        };
        if (account is not null)
        {
            args["username"] = PropertyValue.Create(account.Username);
            args["password"] = PropertyValue.CreateSecret(PropertyValue.Create(password ?? account.Password));
        }
        return args;
    }

    private static async Task<IReadOnlyDictionary<string, PropertyValue>> InvokeAsync(Dictionary<string, PropertyValue> args)
    {
        var response = await RegistryInfraPackage.CreateProvider().InvokeAsync(new InvokeRequest(GetImageFunction.Token, args, Preview: false), Ct);
        Assert.Empty(response.Failures);
        // A secret argument makes the result secret; unwrap for the assertions.
        return response.Return!.ToDictionary(e => e.Key, e => e.Value.IsSecret ? e.Value.SecretValue : e.Value);
    }

    [Theory]
    [InlineData(LocalRegistryMode.HtpasswdTls)]
    [InlineData(LocalRegistryMode.TokenTls)]
    public async Task Single_platform_image_digest_equals_skopeo(LocalRegistryMode mode)
    {
        var registry = await registries.GetAsync(mode);
        var account = mode == LocalRegistryMode.TokenTls ? registry.Reader : registry.Admin;

        var result = await InvokeAsync(Args(registry, $"{registry.Authority}/{SharedRegistries.SingleRepo}:{SharedRegistries.Tag}", account));

        var expected = await registry.InspectDigestAsync(SharedRegistries.SingleRepo, SharedRegistries.Tag, Ct);
        Assert.Equal(expected, result["digest"].StringValue);
        Assert.Equal($"{registry.Authority}/{SharedRegistries.SingleRepo}@{expected}", result["pinned"].StringValue);
        Assert.StartsWith("application/vnd.oci.image.manifest.v1+json", result["mediaType"].StringValue, StringComparison.Ordinal);
        Assert.Empty(result["platforms"].ArrayValue);
        Assert.False(result.ContainsKey("platformDigest"));
    }

    // Issue 10 item 2 / issue 12 item 5: a secret password makes no output secret that carries no secret data, and
    // pullSecretKey names the key the kubelet would use for the image.
    [Fact]
    public async Task Digest_and_pinned_are_not_secret_with_a_secret_password_and_pullSecretKey_is_the_kubelet_key()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        var image = $"{registry.Authority}/{SharedRegistries.SingleRepo}:{SharedRegistries.Tag}";

        var response = await RegistryInfraPackage.CreateProvider().InvokeAsync(new InvokeRequest(GetImageFunction.Token, Args(registry, image, registry.Admin), Preview: false), Ct);

        Assert.Empty(response.Failures);
        var result = response.Return!;
        Assert.False(result["digest"].IsSecret);
        Assert.False(result["pinned"].IsSecret);
        Assert.Equal(registry.Authority, result["pullSecretKey"].StringValue);
        Assert.DoesNotContain(result.Values, v => v.ContainsSecrets());
    }

    [Fact]
    public async Task Multi_platform_index_lists_platforms_and_picks_the_asked_one()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.TokenTls);
        var args = Args(registry, $"{registry.Authority}/{SharedRegistries.MultiRepo}:{SharedRegistries.Tag}", registry.Reader);
        args["platform"] = PropertyValue.Create("linux/arm64/v8");

        var result = await InvokeAsync(args);

        var index = await registry.InspectDigestAsync(SharedRegistries.MultiRepo, SharedRegistries.Tag, Ct);
        Assert.Equal(index, result["digest"].StringValue);
        Assert.Equal($"{registry.Authority}/{SharedRegistries.MultiRepo}@{index}", result["pinned"].StringValue);
        Assert.Equal(["linux/amd64", "linux/arm64"], result["platforms"].ArrayValue.Select(p => p.StringValue).Order());
        Assert.Equal(await RegistryProfileRegistryTests.PlatformDigestAsync(registry, SharedRegistries.MultiRepo, "arm64"), result["platformDigest"].StringValue);
    }

    [Fact]
    public async Task DockerConfigJson_of_a_profile_authenticates_the_pull()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        var profile = RegistryProfileRegistryTests.Profile(registry, registry.Admin.Username, registry.Admin.Password);
        profile["validate"] = PropertyValue.Create(false);
        var created = await RegistryInfraPackage.CreateProvider().CreateAsync(
            new CreateRequest("urn:x", RegistryProfileResource.Token, "p", profile, TimeSpan.Zero, Preview: false), Ct);
        var args = Args(registry, $"{registry.Authority}/{SharedRegistries.MultiRepo}:{SharedRegistries.Tag}", null);
        args["dockerConfigJson"] = created.Properties["dockerConfigJson"];

        var result = await InvokeAsync(args);

        Assert.Equal(await registry.InspectDigestAsync(SharedRegistries.MultiRepo, SharedRegistries.Tag, Ct), result["digest"].StringValue);
        Assert.Equal(registry.Authority, result["pullSecretKey"].StringValue);
    }

    [Theory]
    [InlineData(SharedRegistries.SingleRepo, "no-such-tag", null, RegistryErrorKind.ManifestNotFound, "tag missing")]
    [InlineData("team/no-such-repo", SharedRegistries.Tag, null, RegistryErrorKind.RepositoryNotFound, "repository missing")]
    [InlineData(SharedRegistries.SingleRepo, SharedRegistries.Tag, WrongPassword, RegistryErrorKind.Unauthorized, "unauthorised")]
    public async Task Errors_say_what_went_wrong_and_name_the_image(string repository, string tag, string? password, RegistryErrorKind kind, string words)
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        var image = $"{registry.Authority}/{repository}:{tag}";

        var error = await Assert.ThrowsAsync<RegistryException>(() => InvokeAsync(Args(registry, image, registry.Admin, password)));

        Assert.Equal(kind, error.Kind);
        Assert.Contains(words, error.Message, StringComparison.Ordinal);
        Assert.Contains(image, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongPassword, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(registry.Admin.Password, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_registry_is_reported_as_such()
    {
        var registry = await registries.GetAsync(LocalRegistryMode.HtpasswdTls);
        // A port that was just free: nothing listens on it.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var error = await Assert.ThrowsAsync<RegistryException>(() => InvokeAsync(Args(registry, $"127.0.0.1:{port}/team/app:1", registry.Admin)));

        Assert.Equal(RegistryErrorKind.Unreachable, error.Kind);
        Assert.Contains("unreachable", error.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}/team/app:1", error.Message, StringComparison.Ordinal);
    }
}
