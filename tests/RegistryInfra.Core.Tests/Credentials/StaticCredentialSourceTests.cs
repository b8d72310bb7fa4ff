using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Core.Tests.Credentials;

public sealed class StaticCredentialSourceTests
{
    [Fact]
    public async Task Returns_the_given_user_and_password_without_expiry()
    {
        var source = new StaticCredentialSource("robot$ci", "p4ssw0rd-value");

        var credential = await source.GetCredentialAsync(TestContext.Current.CancellationToken);

        Assert.Equal(new RegistryCredential("robot$ci", "p4ssw0rd-value"), credential);
        Assert.Null(credential.ExpiresAt);
    }

    [Fact]
    public async Task A_token_gets_the_conventional_user_name_unless_one_is_given()
    {
        Assert.Equal("token", (await StaticCredentialSource.ForToken("ghp_abc").GetCredentialAsync(TestContext.Current.CancellationToken)).Username);
        Assert.Equal("octocat", (await StaticCredentialSource.ForToken("ghp_abc", "octocat").GetCredentialAsync(TestContext.Current.CancellationToken)).Username);
    }

    [Theory]
    [InlineData("", "p", "'username'")]
    [InlineData("a:b", "p", "'username'")]
    [InlineData("u", "", "'password'")]
    public void Bad_input_names_the_field_and_not_the_password(string username, string password, string field)
    {
        var e = Assert.Throws<RegistryException>(() => new StaticCredentialSource(username, password));

        Assert.Equal(RegistryErrorKind.InvalidInput, e.Kind);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Description_and_ToString_show_the_user_only()
    {
        var source = new StaticCredentialSource("user", "s3cr3t-value");

        Assert.Equal("static(user)", source.Description);
        Assert.DoesNotContain("s3cr3t-value", source.ToString(), StringComparison.Ordinal);
    }
}
