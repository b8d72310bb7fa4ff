using RegistryInfra.Core.Distribution;

namespace RegistryInfra.Core.Tests.Distribution;

public sealed class ImagePlatformTests
{
    [Theory]
    [InlineData("linux/amd64", "linux/amd64")]
    [InlineData("linux/x86_64", "linux/amd64")]
    [InlineData("linux/x86-64", "linux/amd64")]
    [InlineData("linux/amd64/v1", "linux/amd64")]
    [InlineData("linux/amd64/v3", "linux/amd64/v3")]
    [InlineData("linux/aarch64", "linux/arm64")]
    [InlineData("linux/arm64/v8", "linux/arm64")]
    [InlineData("linux/arm64/8", "linux/arm64")]
    [InlineData("linux/arm64/v9.0", "linux/arm64/v9")]
    [InlineData("linux/arm", "linux/arm/v7")]
    [InlineData("linux/arm/7", "linux/arm/v7")]
    [InlineData("linux/arm/6", "linux/arm/v6")]
    [InlineData("linux/armhf", "linux/arm/v7")]
    [InlineData("linux/armel", "linux/arm/v6")]
    [InlineData("linux/i386", "linux/386")]
    [InlineData("macos/arm64", "darwin/arm64")]
    [InlineData("Windows/AMD64", "windows/amd64")]
    public void Parse_normalises_like_containerd(string text, string normal)
    {
        Assert.Equal(normal, ImagePlatform.Parse(text).ToString());
    }

    [Fact]
    public void Equal_after_normalisation()
    {
        Assert.Equal(ImagePlatform.Parse("linux/aarch64"), new ImagePlatform("linux", "arm64", "v8"));
        Assert.NotEqual(ImagePlatform.Parse("linux/arm/v6"), ImagePlatform.Parse("linux/arm/v7"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("linux")]
    [InlineData("linux/")]
    [InlineData("linux/amd64/v2/x")]
    [InlineData("linux/am d64")]
    [InlineData("linux/amd64\n")]
    [InlineData(" linux/amd64")]
    [InlineData("linux/amd64\r\nX-Injected: 1")]
    [InlineData("linux/amd64\0")]
    public void Invalid_platforms_are_InvalidInput_naming_the_format(string text)
    {
        var error = Assert.Throws<RegistryException>(() => ImagePlatform.Parse(text));

        Assert.Equal(RegistryErrorKind.InvalidInput, error.Kind);
        Assert.Contains("os/architecture", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_platform_with_a_trailing_newline_is_refused_as_containerd_refuses_it_and_the_message_holds_no_newline()
    {
        var error = Assert.Throws<RegistryException>(() => ImagePlatform.Parse("linux/amd64\n"));

        Assert.StartsWith("platform must not contain whitespace or control characters", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
