using System.Collections.Immutable;
using Grpc.Core;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Provider.Tests.Hardening;

/// <summary>The one error path of the plugin: capped status messages, clear statuses for our own bugs, deep values and unknown configuration keys refused.</summary>
public sealed class ErrorPathTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void A_status_message_is_capped_whatever_the_exception()
    {
        var huge = new string('é', 200_000);

        foreach (var exception in (Exception[])[new ArgumentException(huge), new RpcException(new Status(StatusCode.NotFound, huge)), new InvalidOperationException(huge), new UnknownTokenException("resource", huge)])
        {
            var status = ProviderErrors.ToStatus(exception);

            Assert.InRange(status.Detail.Length, StatusText.MaxStatusLength, StatusText.MaxStatusLength + 64);
            Assert.Contains("more characters cut", status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_cut_never_splits_a_surrogate_pair_and_NUL_is_replaced()
    {
        var text = new string('a', StatusText.MaxStatusLength - 1) + "😀" + "tail";

        var capped = StatusText.Cap(text);

        Assert.False(char.IsHighSurrogate(capped[StatusText.MaxStatusLength - 2]) && !char.IsLowSurrogate(capped[StatusText.MaxStatusLength - 1]));
        Assert.Equal("a b", StatusText.Cap("a\0b"));
    }

    [Fact]
    public void Our_own_bugs_are_Internal_and_say_so()
    {
        var status = ProviderErrors.ToStatus(new KeyNotFoundException("The given key 'x' was not present in the dictionary."));

        Assert.Equal(StatusCode.Internal, status.StatusCode);
        Assert.Contains("KeyNotFoundException", status.Detail, StringComparison.Ordinal);
        Assert.Contains("please report it", status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(32, null)]
    [InlineData(33, "a")]
    [InlineData(200, "a")]
    public void Values_nested_deeper_than_32_levels_are_found_with_their_path(int depth, string? start)
    {
        var properties = new Google.Protobuf.WellKnownTypes.Struct();
        properties.Fields["a"] = BadInputCases.Deep(depth - 1);

        var path = StatusText.TooDeep(properties);

        if (start is null)
        {
            Assert.Null(path);
        }
        else
        {
            Assert.StartsWith(start, path, StringComparison.Ordinal);
            Assert.Contains("[0]", path, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("verison", "did you mean 'version'?")]
    [InlineData("region", "takes no configuration")]
    public async Task An_unknown_provider_configuration_key_is_refused(string key, string expected)
    {
        var provider = new ConfiguredProvider();
        var news = ImmutableDictionary<string, PropertyValue>.Empty.Add(key, PropertyValue.Create("x"));

        var response = await provider.CheckConfigAsync(new CheckRequest("urn", "pulumi:providers:registryinfra", "default", ImmutableDictionary<string, PropertyValue>.Empty, news, []), Ct);

        var failure = Assert.Single(response.Failures);
        Assert.Equal(key, failure.Property);
        Assert.Contains(expected, failure.Reason, StringComparison.Ordinal);
        Assert.Null(response.Inputs);
    }

    [Fact]
    public async Task The_engine_keys_and_known_keys_are_accepted()
    {
        var provider = new ConfiguredProvider();
        var news = ImmutableDictionary<string, PropertyValue>.Empty.Add("version", PropertyValue.Create("0.1.0")).Add("__internal", PropertyValue.Create("x"));

        var response = await provider.CheckConfigAsync(new CheckRequest("urn", "pulumi:providers:registryinfra", "default", ImmutableDictionary<string, PropertyValue>.Empty, news, []), Ct);

        Assert.Empty(response.Failures);
    }

    [Fact]
    public void Did_you_mean_suggests_only_what_is_near()
    {
        Assert.Equal("version", StatusText.Closest("verison", ["version", "region"]));
        Assert.Equal("renewBefore", StatusText.Closest("renewbefore", ["renewBefore", "deadline"]));
        Assert.Null(StatusText.Closest("zzzzzz", ["version", "region"]));
    }

    private sealed class ConfiguredProvider : RegistryInfra.Protocol.Hosting.Provider;
}
