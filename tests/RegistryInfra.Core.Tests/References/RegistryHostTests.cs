using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Tests.References;

public sealed class RegistryHostTests
{
    [Theory]
    [InlineData("docker.io")]
    [InlineData("index.docker.io")]
    [InlineData("registry-1.docker.io")]
    [InlineData("registry.hub.docker.com")]
    [InlineData("https://index.docker.io/v1/")]
    [InlineData("HTTPS://Index.Docker.IO/v1")]
    [InlineData("http://docker.io/")]
    public void Docker_Hub_aliases_are_one_host(string input)
    {
        var host = RegistryHost.Parse(input);

        Assert.Equal(RegistryHost.DockerHub, host);
        Assert.Equal("docker.io", host.Name);
        Assert.Equal("registry-1.docker.io", host.ApiHost);
        Assert.Equal("https://index.docker.io/v1/", host.DockerConfigKey);
        Assert.Equal(RegistryKind.DockerHub, host.Kind);
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
        Assert.Equal(name, host.DockerConfigKey);
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
    public void Invalid_hosts_are_rejected_with_the_reason(string input, string reason)
    {
        var error = Assert.Throws<RegistryException>(() => RegistryHost.Parse(input));

        Assert.Equal(RegistryErrorKind.InvalidInput, error.Kind);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.False(RegistryHost.TryParse(input, out _));
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
    public void Ecr_private_hosts_yield_account_and_region(string input, string account, string region, string partition, bool fips, bool dualStack)
    {
        var details = RegistryHost.Parse(input).Details;

        Assert.Equal(new RegistryKindDetails(RegistryKind.EcrPrivate, account, region, null, partition, fips, dualStack), details);
        Assert.True(details.UsesShortLivedTokens);
    }

    [Theory]
    [InlineData("12345678901.dkr.ecr.eu-west-1.amazonaws.com")]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.org")]
    [InlineData("123456789012.dkr-ecr.eu-west-1.amazonaws.com")]
    [InlineData("123456789012.dkr.ecr.eu-west-1.on.aws")]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com:443")]
    [InlineData("evil.123456789012.dkr.ecr.eu-west-1.amazonaws.com")]
    public void Look_alike_ecr_hosts_are_generic(string input)
    {
        Assert.Equal(RegistryKind.Generic, RegistryHost.Parse(input).Kind);
    }

    [Theory]
    [InlineData("public.ecr.aws", RegistryKind.EcrPublic, true)]
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
