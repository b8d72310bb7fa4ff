using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Tests.References;

public sealed class ImageReferenceTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public void Parts_are_exposed()
    {
        var reference = ImageReference.Parse("Registry.Example.com:5000/team/app:1.2@" + Digest);

        Assert.Equal(RegistryHost.Parse("registry.example.com:5000"), reference.Registry);
        Assert.Equal("team/app", reference.Repository);
        Assert.Equal("Registry.Example.com:5000/team/app", reference.Name);
        Assert.Equal(ImageReference.Parse("registry.example.com:5000/team/app:1.2@" + Digest), reference);
        Assert.Equal("1.2", reference.Tag);
        Assert.Equal(Digest, reference.Digest);
        Assert.Equal(Digest, reference.ManifestReference);
    }

    [Theory]
    [InlineData("nginx", "latest")]
    [InlineData("nginx:1.27", "1.27")]
    [InlineData("nginx@" + Digest, Digest)]
    public void The_manifest_reference_is_the_digest_else_the_tag_else_latest(string input, string expected)
    {
        Assert.Equal(expected, ImageReference.Parse(input).ManifestReference);
    }

    [Fact]
    public void WithDigest_keeps_the_tag_and_validates_the_digest()
    {
        var pinned = ImageReference.Parse("ghcr.io/org/app:1.0").WithDigest(Digest);

        Assert.Equal("ghcr.io/org/app:1.0@" + Digest, pinned.ToString());
        var error = Assert.Throws<RegistryException>(() => pinned.WithDigest("sha256:abc"));
        Assert.Contains("invalid digest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithTag_and_WithoutTagOrDigest_rebuild_the_reference()
    {
        var reference = ImageReference.Parse("nginx@" + Digest);

        Assert.Equal("docker.io/library/nginx:stable@" + Digest, reference.WithTag("stable").ToString());
        Assert.Equal("docker.io/library/nginx", reference.WithoutTagOrDigest().ToString());
        Assert.Throws<RegistryException>(() => reference.WithTag("-bad"));
    }

    [Fact]
    public void Equality_follows_the_canonical_form()
    {
        Assert.Equal(ImageReference.Parse("nginx"), ImageReference.Parse("index.docker.io/library/nginx"));
        Assert.True(ImageReference.Parse("ghcr.io/a/b:1") == ImageReference.Parse("GHCR.io/a/b:1"));
        Assert.NotEqual(ImageReference.Parse("nginx"), ImageReference.Parse("nginx:latest"));
        Assert.Equal(ImageReference.Parse("nginx").GetHashCode(), ImageReference.Parse("docker.io/nginx").GetHashCode());
    }

    [Fact]
    public void The_registry_kind_comes_with_the_reference()
    {
        var reference = ImageReference.Parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1");

        Assert.Equal(RegistryKind.EcrPrivate, reference.Registry.Kind);
        Assert.Equal("eu-west-1", reference.Registry.Details.Region);
    }

    [Theory]
    [InlineData("alice:hunter2-s3cr3t@ghcr.io/org/app")]
    [InlineData("https://alice:hunter2-s3cr3t@ghcr.io/org/app")]
    [InlineData("alice:hunter2-s3cr3t@ghcr.io")]
    public void Errors_do_not_repeat_user_information(string input)
    {
        var error = Assert.Throws<RegistryException>(() => ImageReference.Parse(input));

        Assert.DoesNotContain("hunter2-s3cr3t", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_reports_without_throwing()
    {
        Assert.False(ImageReference.TryParse(null, out _));
        Assert.False(ImageReference.TryParse("UPPER", out var reference, out var error));
        Assert.Null(reference);
        Assert.Contains("must be lowercase", error, StringComparison.Ordinal);
        Assert.True(ImageReference.TryParse("nginx", out reference));
        Assert.Equal("docker.io/library/nginx", reference.ToString());
    }
}
