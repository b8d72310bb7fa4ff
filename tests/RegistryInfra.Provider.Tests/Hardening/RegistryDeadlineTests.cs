using System.Collections.Immutable;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Resources.RegistryProfile;
using RegistryInfra.Testing.Registry;

namespace RegistryInfra.Provider.Tests.Hardening;

/// <summary>
/// The provider-level deadline (provider configuration <c>registryDeadlineSeconds</c>) over the images of a profile,
/// against a loopback registry whose manifests answer late: the whole Check or Create ends within it, naming the
/// images that did not finish, and the images are resolved concurrently.
/// </summary>
public sealed class RegistryDeadlineTests
{
    private const string Type = RegistryProfileResource.Token;
    private const string Urn = "urn:pulumi:test::project::" + Type + "::p";
    private static readonly byte[] Manifest = Encoding.UTF8.GetBytes(
        """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}""");
    private static readonly string ManifestDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Manifest));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Manifest requests being answered now, and the most there were at once.</summary>
    private sealed class InFlight
    {
        private int _now;
        private int _most;

        public int Most => Volatile.Read(ref _most);

        public IDisposable Enter()
        {
            var now = Interlocked.Increment(ref _now);
            int most;
            while (now > (most = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, now, most) != most)
            {
            }
            return new Exit(this);
        }

        private sealed class Exit(InFlight owner) : IDisposable
        {
            public void Dispose() => Interlocked.Decrement(ref owner._now);
        }
    }

    /// <summary>A registry that answers /v2/ at once and every manifest <paramref name="late"/> late.</summary>
    private static Task<HostileRegistry> LateManifestsAsync(TimeSpan late, InFlight? inFlight = null) => HostileRegistry.StartAsync(async (_, context) =>
    {
        if (!context.Request.Path.Value!.Contains("/manifests/", StringComparison.Ordinal))
        {
            await HostileRegistry.JsonAsync(context, 200, "{}");
            return;
        }
        using (inFlight?.Enter())
        {
            await Task.Delay(late, context.RequestAborted);
        }
        context.Response.ContentType = "application/vnd.oci.image.manifest.v1+json";
        context.Response.Headers["Docker-Content-Digest"] = ManifestDigest;
        context.Response.ContentLength = Manifest.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(Manifest, context.RequestAborted);
        }
    });

    private static Dictionary<string, PropertyValue> Profile(HostileRegistry registry, bool validate, params string[] repositories) => new()
    {
        ["server"] = PropertyValue.Create(registry.Authority),
        ["insecure"] = PropertyValue.Create(true),
        ["validate"] = PropertyValue.Create(validate),
        ["username"] = PropertyValue.Create("robot"),
        ["password"] = PropertyValue.CreateSecret(PropertyValue.Create("deadline-canary-pw")),
        ["images"] = PropertyValue.CreateArray(repositories.Select(r => PropertyValue.Create($"{registry.Authority}/{r}:1.0"))),
    };

    private static async Task<PackageProvider> ProviderWithDeadlineAsync(int seconds)
    {
        var provider = RegistryInfraPackage.CreateProvider(new RegistryConnections());
        var config = new Dictionary<string, PropertyValue> { [ProviderSettings.DeadlineKey] = PropertyValue.Create(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        Assert.Empty((await provider.CheckConfigAsync(new CheckRequest("urn:provider", "", "default", ImmutableDictionary<string, PropertyValue>.Empty, config, []), Ct)).Failures);
        await provider.ConfigureAsync(new ConfigureRequest(config, ImmutableDictionary<string, string>.Empty), Ct);
        return provider;
    }

    [Fact]
    public async Task Create_of_a_profile_whose_three_images_answer_10_s_late_ends_at_the_deadline_naming_every_image()
    {
        await using var registry = await LateManifestsAsync(TimeSpan.FromSeconds(10));
        var provider = await ProviderWithDeadlineAsync(3);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<TimeoutException>(() =>
            provider.CreateAsync(new CreateRequest(Urn, Type, "p", Profile(registry, validate: false, "a/one", "a/two", "a/three"), TimeSpan.Zero, Preview: false), Ct));

        // Without the overall deadline: three images, each cut only by its own 60 s operation deadline.
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(8));
        Assert.Contains("images[0] " + registry.Authority + "/a/one:1.0", error.Message, StringComparison.Ordinal);
        Assert.Contains("images[1] " + registry.Authority + "/a/two:1.0", error.Message, StringComparison.Ordinal);
        Assert.Contains("images[2] " + registry.Authority + "/a/three:1.0", error.Message, StringComparison.Ordinal);
        Assert.Contains("registry deadline of 3 s (provider configuration 'registryDeadlineSeconds')", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("deadline-canary-pw", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_of_a_profile_whose_images_answer_late_fails_each_image_within_the_deadline()
    {
        await using var registry = await LateManifestsAsync(TimeSpan.FromSeconds(10));
        var provider = await ProviderWithDeadlineAsync(3);
        var clock = Stopwatch.StartNew();

        var check = await provider.CheckAsync(new CheckRequest(Urn, Type, "p", ImmutableDictionary<string, PropertyValue>.Empty, Profile(registry, validate: true, "a/one", "a/two", "a/three"), []), Ct);

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(8));
        Assert.Equal(["images[0]", "images[1]", "images[2]"], check.Failures.Select(f => f.Property));
        Assert.All(check.Failures, f => Assert.Contains("did not finish resolving within the registry deadline of 3 s", f.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_images_of_one_profile_are_resolved_concurrently_so_three_2_s_answers_fit_a_5_s_deadline()
    {
        var inFlight = new InFlight();
        await using var registry = await LateManifestsAsync(TimeSpan.FromSeconds(2), inFlight);
        var provider = await ProviderWithDeadlineAsync(5);
        var clock = Stopwatch.StartNew();

        var created = await provider.CreateAsync(new CreateRequest(Urn, Type, "p", Profile(registry, validate: false, "a/one", "a/two", "a/three"), TimeSpan.Zero, Preview: false), Ct);

        // One after another they would take 6 s and more, past the deadline: the three were answered at the same time
        // (counted by the registry, not by a clock that a loaded machine stretches).
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Equal(3, inFlight.Most);
        var digests = created.Properties["imageDigests"].ObjectValue;
        Assert.Equal(3, digests.Count);
        Assert.All(digests.Values, d => Assert.Equal(ManifestDigest, d.StringValue));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("3601")]
    [InlineData("1.5")]
    [InlineData("soon")]
    public async Task A_deadline_that_is_not_1_to_3600_whole_seconds_is_refused_at_CheckConfig_naming_the_key(string value)
    {
        var provider = RegistryInfraPackage.CreateProvider(new RegistryConnections());
        var config = new Dictionary<string, PropertyValue> { [ProviderSettings.DeadlineKey] = PropertyValue.Create(value) };

        var check = await provider.CheckConfigAsync(new CheckRequest("urn:provider", "", "default", ImmutableDictionary<string, PropertyValue>.Empty, config, []), Ct);

        var failure = Assert.Single(check.Failures);
        Assert.Equal(ProviderSettings.DeadlineKey, failure.Property);
        Assert.Contains("whole number of seconds from 1 to 3600", failure.Reason, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => provider.ConfigureAsync(new ConfigureRequest(config, ImmutableDictionary<string, string>.Empty), Ct));
    }

    [Fact]
    public async Task The_deadline_is_declared_in_the_schema_with_its_default()
    {
        var schema = System.Text.Json.Nodes.JsonNode.Parse(await RegistryInfraPackage.CreateProvider().GetSchemaAsync(Ct))!;

        var variable = schema["config"]!["variables"]![ProviderSettings.DeadlineKey]!;
        Assert.Equal("integer", variable["type"]!.GetValue<string>());
        Assert.Equal(ProviderSettings.DefaultDeadlineSeconds, variable["default"]!.GetValue<int>());
        Assert.NotNull(schema["provider"]!["inputProperties"]![ProviderSettings.DeadlineKey]);
    }
}
