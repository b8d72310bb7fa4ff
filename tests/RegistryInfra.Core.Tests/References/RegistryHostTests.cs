using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Tests.References;

public sealed class RegistryHostTests
{
    [Theory]
    [InlineData("docker.io")]
    [InlineData("index.docker.io")]
    [InlineData("https://index.docker.io/v1/")]
    [InlineData("HTTPS://Index.Docker.IO/v1")]
    [InlineData("http://docker.io/")]
    public void Index_docker_io_folds_into_docker_io_as_distribution_folds_it(string input)
    {
        var host = RegistryHost.Parse(input);

        Assert.Equal(RegistryHost.DockerHub, host);
        Assert.Equal("docker.io", host.Name);
        Assert.Equal("registry-1.docker.io", host.ApiHost);
        Assert.Equal("https://index.docker.io/v1/", host.DockerConfigKey);
        Assert.Equal(RegistryKind.DockerHub, host.Kind);
    }

    // Issue 12, Docker Hub aliases: distribution folds only index.docker.io, so the kubelet looks images on these
    // hosts up under their own names; they serve Docker Hub (same kind, same tokens) but are hosts of their own.
    [Theory]
    [InlineData("registry-1.docker.io")]
    [InlineData("registry.hub.docker.com")]
    [InlineData("https://registry-1.docker.io/v2/")]
    public void Docker_Hub_serving_hosts_are_their_own_hosts(string input)
    {
        var host = RegistryHost.Parse(input);

        Assert.NotEqual(RegistryHost.DockerHub, host);
        Assert.False(host.IsDockerHub);
        Assert.True(host.IsDockerHubAlias);
        Assert.Equal(RegistryKind.DockerHub, host.Kind);
        Assert.Equal(host.Name, host.DockerConfigKey);
        Assert.Equal(host.Name, host.ApiHost);
    }

    [Theory]
    [InlineData("Registry.Example.COM", "Registry.Example.COM", "registry.example.com")]
    [InlineData("http://[FE80::1]/v2/", "[FE80::1]", "[fe80::1]")]
    [InlineData("REGISTRY-1.docker.io", "REGISTRY-1.docker.io", "registry-1.docker.io")]
    public void Host_case_is_kept_as_written_for_keys_and_ignored_for_equality(string input, string spelling, string name)
    {
        var host = RegistryHost.Parse(input);

        Assert.Equal(spelling, host.Spelling);
        Assert.Equal(name, host.Name);
        Assert.Equal(spelling, host.DockerConfigKey);
        Assert.Equal(RegistryHost.Parse(name), host);
    }

    [Theory]
    [InlineData("Registry.Example.COM", "registry.example.com", "registry.example.com", null)]
    [InlineData("https://registry.example.com:5000/", "registry.example.com:5000", "registry.example.com", 5000)]
    [InlineData("localhost:5000", "localhost:5000", "localhost", 5000)]
    [InlineData("127.0.0.1:5000", "127.0.0.1:5000", "127.0.0.1", 5000)]
    [InlineData("[::1]:5000", "[::1]:5000", "::1", 5000)]
    [InlineData("http://[FE80::1]/v2/", "[fe80::1]", "fe80::1", null)]
    [InlineData("docker.io:443", "docker.io:443", "docker.io", 443)]
    public void Hosts_are_normalised(string input, string name, string hostname, int? port)
    {
        var host = RegistryHost.Parse(input);

        Assert.Equal(name, host.Name);
        Assert.Equal(hostname, host.Hostname);
        Assert.Equal(port, host.Port);
        Assert.Equal(name, host.DockerConfigKey.ToLowerInvariant());
        Assert.Equal(name, host.ApiHost);
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("registry.example.com/team", "must not contain a path")]
    [InlineData("https://registry.example.com/v3/", "must not contain a path")]
    [InlineData("registry.example.com?x=1", "must not contain a query")]
    [InlineData("registry.example.com#frag", "must not contain a fragment")]
    [InlineData("ftp://registry.example.com", "unsupported scheme")]
    [InlineData("registry.example.com:", "invalid port")]
    [InlineData("registry.example.com:65536", "invalid port")]
    [InlineData("registry.example.com:0", "invalid port")]
    [InlineData("registry.example.com:http", "invalid port")]
    [InlineData("-registry.example.com", "not a valid host name")]
    [InlineData("registry..example.com", "not a valid host name")]
    [InlineData("regi_stry.example.com", "not a valid host name")]
    [InlineData("::1", "IPv6 address must be written in brackets")]
    [InlineData("[::1", "closing")]
    [InlineData("[::g]:5000", "invalid IPv6 address")]
    [InlineData("registry .example.com", "whitespace")]
    [InlineData("a b", "whitespace")]
    [InlineData("registry\u0000.example.com", "control characters")]
    [InlineData("256.256.256.256", "not a valid IPv4 address")]
    [InlineData("1.2.3", "not a valid IPv4 address")]
    [InlineData("010.1.1.1", "not a valid IPv4 address")]
    [InlineData("registry.example.123", "its last label is numeric")]
    public void Invalid_hosts_are_rejected_with_the_reason(string input, string reason)
    {
        var error = Assert.Throws<RegistryException>(() => RegistryHost.Parse(input));

        Assert.Equal(RegistryErrorKind.InvalidInput, error.Kind);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.False(RegistryHost.TryParse(input, out _));
    }

    // Issue 13 item 4: DNS bounds that distribution's grammar does not check.
    [Fact]
    public void A_label_over_63_characters_is_rejected_naming_its_length()
    {
        var error = Assert.Throws<RegistryException>(() => RegistryHost.Parse(new string('a', 300) + ".example.com"));

        Assert.Contains("label of 300 characters", error.Message, StringComparison.Ordinal);
        Assert.Contains("at most 63", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 400, "the message quotes a shortened host");
        Assert.True(RegistryHost.TryParse(new string('a', 63) + ".example.com", out _));
    }

    [Fact]
    public void A_host_over_253_characters_is_rejected_and_a_1_MB_host_gives_a_short_message()
    {
        var longest = string.Join('.', Enumerable.Repeat(new string('a', 49), 5)) + ".example"; // 258
        var error = Assert.Throws<RegistryException>(() => RegistryHost.Parse(longest));
        Assert.Contains("at most 253", error.Message, StringComparison.Ordinal);

        var huge = Assert.Throws<RegistryException>(() => RegistryHost.Parse(string.Join('.', Enumerable.Repeat("abcdefgh", 120_000))));
        Assert.True(huge.Message.Length < 400, $"message of {huge.Message.Length} characters");
        Assert.True(RegistryHost.TryParse("192.168.0.1", out _));
        Assert.True(RegistryHost.TryParse("0.0.0.0:5000", out _));
    }

    [Fact]
    public void User_information_is_rejected_without_repeating_the_password()
    {
        var error = Assert.Throws<RegistryException>(() => RegistryHost.Parse("https://alice:hunter2-secret@registry.example.com/"));

        Assert.Contains("must not contain user information", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-secret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012", "eu-west-1", "amazonaws.com", false, false)]
    [InlineData("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1", "amazonaws.com.cn", false, false)]
    [InlineData("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1", "amazonaws.com", true, false)]
    [InlineData("123456789012.dkr-ecr.ap-southeast-2.on.aws", "123456789012", "ap-southeast-2", "on.aws", false, true)]
    [InlineData("https://123456789012.dkr-ecr-fips.us-east-1.on.aws/", "123456789012", "us-east-1", "on.aws", true, true)]
    // Issue 12, ECR partitions: the ISO partitions, the EU Sovereign Cloud and China dual-stack, as the credential helper knows them.
    [InlineData("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "123456789012", "us-iso-east-1", "c2s.ic.gov", false, false)]
    [InlineData("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "123456789012", "us-isob-east-1", "sc2s.sgov.gov", false, false)]
    [InlineData("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "123456789012", "eu-isoe-west-1", "cloud.adc-e.uk", false, false)]
    [InlineData("123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "123456789012", "us-isof-south-1", "csp.hci.ic.gov", false, false)]
    [InlineData("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789012", "eusc-de-east-1", "amazonaws.eu", false, false)]
    [InlineData("123456789012.dkr.ecr.cn-north-1.on.amazonwebservices.com.cn", "123456789012", "cn-north-1", "on.amazonwebservices.com.cn", false, true)]
    public void Ecr_private_hosts_yield_account_and_region(string input, string account, string region, string partition, bool fips, bool dualStack)
    {
        var details = RegistryHost.Parse(input).Details;

        Assert.Equal(new RegistryKindDetails(RegistryKind.EcrPrivate, account, region, null, partition, fips, dualStack), details);
        Assert.True(details.UsesShortLivedTokens);
    }

    [Theory]
    [InlineData("12345678901.dkr.ecr.eu-west-1.amazonaws.com")]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.org")]
    [InlineData("123456789012.dkr.ecr.cn-north-1.on.aws.com.cn")]
    [InlineData("123456789012.dkr.ecr.us-west-2.amazonaws.com.fake.example.com")]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com:443")]
    [InlineData("evil.123456789012.dkr.ecr.eu-west-1.amazonaws.com")]
    public void Look_alike_ecr_hosts_are_generic(string input)
    {
        Assert.Equal(RegistryKind.Generic, RegistryHost.Parse(input).Kind);
    }

    // Issue 12, ECR partitions: every host form names the GetAuthorizationToken endpoint of its own partition.
    [Theory]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "https://api.ecr.eu-west-1.amazonaws.com/")]
    [InlineData("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "https://ecr-fips.us-gov-west-1.amazonaws.com/")]
    [InlineData("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "https://api.ecr.cn-north-1.amazonaws.com.cn/")]
    [InlineData("123456789012.dkr.ecr.cn-north-1.on.amazonwebservices.com.cn", "https://ecr.cn-north-1.api.amazonwebservices.com.cn/")]
    [InlineData("123456789012.dkr-ecr.us-west-2.on.aws", "https://ecr.us-west-2.api.aws/")]
    [InlineData("123456789012.dkr-ecr-fips.us-gov-east-1.on.aws", "https://ecr-fips.us-gov-east-1.api.aws/")]
    [InlineData("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "https://api.ecr.us-iso-east-1.c2s.ic.gov/")]
    [InlineData("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "https://api.ecr.us-isob-east-1.sc2s.sgov.gov/")]
    [InlineData("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "https://api.ecr.eu-isoe-west-1.cloud.adc-e.uk/")]
    [InlineData("123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "https://api.ecr.us-isof-south-1.csp.hci.ic.gov/")]
    [InlineData("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "https://api.ecr.eusc-de-east-1.amazonaws.eu/")]
    [InlineData("public.ecr.aws", "https://api.ecr-public.us-east-1.amazonaws.com/")]
    [InlineData("ecr-public.aws.com", "https://ecr-public.us-east-1.api.aws/")]
    public void Ecr_partitions_each_host_names_the_api_endpoint_of_its_partition(string input, string endpoint)
    {
        var host = RegistryHost.Parse(input);

        Assert.Equal(new Uri(endpoint), host.Details.EcrApiEndpoint);
        Assert.True(host.Kind.UsesShortLivedTokens());
    }

    [Theory]
    [InlineData("public.ecr.aws", RegistryKind.EcrPublic, true)]
    [InlineData("ecr-public.aws.com", RegistryKind.EcrPublic, true)]
    [InlineData("gcr.io", RegistryKind.Gcr, true)]
    [InlineData("eu.gcr.io", RegistryKind.Gcr, true)]
    [InlineData("us.gcr.io", RegistryKind.Gcr, true)]
    [InlineData("asia.gcr.io", RegistryKind.Gcr, true)]
    [InlineData("marketplace.gcr.io", RegistryKind.Gcr, true)]
    [InlineData("ghcr.io", RegistryKind.Ghcr, false)]
    [InlineData("quay.io", RegistryKind.Quay, false)]
    [InlineData("mcr.microsoft.com", RegistryKind.Mcr, false)]
    [InlineData("harbor.example.com", RegistryKind.Generic, false)]
    [InlineData("nexus.internal:8443", RegistryKind.Generic, false)]
    [InlineData("mycompany.jfrog.io", RegistryKind.Generic, false)]
    [InlineData("docker.io", RegistryKind.DockerHub, false)]
    public void Kinds_are_detected(string input, RegistryKind kind, bool shortLived)
    {
        var host = RegistryHost.Parse(input);

        Assert.Equal(kind, host.Kind);
        Assert.Equal(shortLived, host.Kind.UsesShortLivedTokens());
    }

    [Theory]
    [InlineData("europe-west1-docker.pkg.dev", "europe-west1")]
    [InlineData("us-docker.pkg.dev", "us")]
    [InlineData("asia-northeast1-docker.pkg.dev", "asia-northeast1")]
    public void Artifact_registry_hosts_yield_the_location(string input, string region)
    {
        Assert.Equal(new RegistryKindDetails(RegistryKind.ArtifactRegistry, Region: region), RegistryHost.Parse(input).Details);
    }

    [Theory]
    [InlineData("myregistry.azurecr.io", "myregistry")]
    [InlineData("MyRegistry.azurecr.cn", "myregistry")]
    [InlineData("govregistry.azurecr.us", "govregistry")]
    [InlineData("myregistry-abcdefgh.azurecr.io", "myregistry")]
    public void Acr_hosts_yield_the_registry_name(string input, string name)
    {
        Assert.Equal(new RegistryKindDetails(RegistryKind.Acr, RegistryName: name), RegistryHost.Parse(input).Details);
    }

    [Fact]
    public void Token_user_names_are_those_the_registries_expect()
    {
        Assert.Equal("AWS", RegistryKind.EcrPrivate.TokenUsername());
        Assert.Equal("oauth2accesstoken", RegistryKind.ArtifactRegistry.TokenUsername());
        Assert.Equal("00000000-0000-0000-0000-000000000000", RegistryKind.Acr.TokenUsername());
        Assert.Null(RegistryKind.Ghcr.TokenUsername());
    }

    [Fact]
    public void Equality_follows_the_canonical_name()
    {
        Assert.Equal(RegistryHost.Parse("Example.com:5000"), RegistryHost.Parse("https://example.com:5000/"));
        Assert.NotEqual(RegistryHost.Parse("example.com:5000"), RegistryHost.Parse("example.com"));
        Assert.True(RegistryHost.Parse("index.docker.io") == RegistryHost.DockerHub);
        Assert.Equal(RegistryHost.Parse("index.docker.io").GetHashCode(), RegistryHost.DockerHub.GetHashCode());
    }

    [Theory]
    [InlineData("localhost:5000", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("[::1]:5000", true)]
    [InlineData("registry.example.com", false)]
    public void Loopback_hosts_are_recognised(string input, bool loopback)
    {
        Assert.Equal(loopback, RegistryHost.Parse(input).IsLoopback);
    }
}
