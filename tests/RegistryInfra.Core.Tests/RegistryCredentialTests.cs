using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Core.Tests;

public sealed class RegistryCredentialTests
{
    [Fact]
    public void ToString_never_shows_the_password_or_identity_token()
    {
        var credential = new RegistryCredential("AWS", "s3cr3t-token-value", DateTimeOffset.UnixEpoch, "refresh-t0ken");

        var text = credential.ToString();

        Assert.Contains("AWS", text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-token-value", text, StringComparison.Ordinal);
        Assert.DoesNotContain("refresh-t0ken", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(30, 60, true)]
    [InlineData(90, 60, false)]
    public void ExpiresWithin_compares_expiry_with_now_plus_margin(int expiresInMinutes, int marginMinutes, bool expected)
    {
        var now = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        var credential = new RegistryCredential("u", "p", now.AddMinutes(expiresInMinutes));

        Assert.Equal(expected, credential.ExpiresWithin(now, TimeSpan.FromMinutes(marginMinutes)));
    }

    [Fact]
    public void A_credential_without_expiry_never_expires()
    {
        Assert.False(new RegistryCredential("u", "p").ExpiresWithin(DateTimeOffset.MaxValue.AddDays(-1), TimeSpan.Zero));
    }
}
