using RegistryInfra.Core.Distribution;

namespace RegistryInfra.Core.Tests.Distribution;

public sealed class AuthenticationChallengeTests
{
    [Fact]
    public void Bearer_with_quoted_parameters()
    {
        var c = AuthenticationChallenge.Parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/nginx:pull\"").Single();

        Assert.Equal("Bearer", c.Scheme);
        Assert.Equal("https://auth.docker.io/token", c["realm"]);
        Assert.Equal("registry.docker.io", c["service"]);
        Assert.Equal("repository:library/nginx:pull", c["scope"]);
    }

    [Fact]
    public void Unquoted_values_including_urls()
    {
        var c = AuthenticationChallenge.Parse("Bearer realm=https://ghcr.io/token,service=ghcr.io,scope=repository:a/b:pull").Single();

        Assert.Equal("https://ghcr.io/token", c["realm"]);
        Assert.Equal("ghcr.io", c["service"]);
        Assert.Equal("repository:a/b:pull", c["scope"]);
    }

    [Fact]
    public void Basic_with_realm()
    {
        var c = AuthenticationChallenge.Parse("Basic realm=\"Registry Realm\"").Single();

        Assert.True(c.IsScheme("basic"));
        Assert.Equal("Registry Realm", c["realm"]);
    }

    [Fact]
    public void Escaped_quotes_and_backslashes_inside_quoted_values()
    {
        var c = AuthenticationChallenge.Parse("Basic realm=\"say \\\"hi\\\" \\\\ bye\"").Single();

        Assert.Equal("say \"hi\" \\ bye", c["realm"]);
    }

    [Fact]
    public void Commas_inside_quoted_values_do_not_split()
    {
        var c = AuthenticationChallenge.Parse("Bearer realm=\"https://a/token\",scope=\"repository:x:pull,push repository:y:pull\"").Single();

        Assert.Equal("repository:x:pull,push repository:y:pull", c["scope"]);
    }

    [Fact]
    public void Several_challenges_in_one_header()
    {
        var cs = AuthenticationChallenge.Parse("Basic realm=\"r1\", Bearer realm=\"https://t/token\", service=\"s\"");

        Assert.Equal(["Basic", "Bearer"], cs.Select(c => c.Scheme));
        Assert.Equal("r1", cs[0]["realm"]);
        Assert.Null(cs[0]["service"]);
        Assert.Equal("https://t/token", cs[1]["realm"]);
        Assert.Equal("s", cs[1]["service"]);
    }

    [Fact]
    public void Several_headers()
    {
        var cs = AuthenticationChallenge.Parse(["Bearer realm=\"https://t/token\",service=\"s\"", "Basic realm=\"r\""]);

        Assert.Equal(["Bearer", "Basic"], cs.Select(c => c.Scheme));
    }

    [Fact]
    public void A_scheme_without_parameters_followed_by_another_challenge()
    {
        var cs = AuthenticationChallenge.Parse("Negotiate, Basic realm=\"r\"");

        Assert.Equal(["Negotiate", "Basic"], cs.Select(c => c.Scheme));
        Assert.Empty(cs[0].Parameters);
    }

    [Fact]
    public void Token68_form()
    {
        var cs = AuthenticationChallenge.Parse("Negotiate abc+/def==, Basic realm=r");

        Assert.Equal("abc+/def==", cs[0].Token68);
        Assert.Equal("r", cs[1]["realm"]);
    }

    [Fact]
    public void Parameter_names_are_case_insensitive_and_spaces_around_equals_are_allowed()
    {
        var c = AuthenticationChallenge.Parse("bearer  Realm = \"https://t/token\" ,  SERVICE=s").Single();

        Assert.Equal("https://t/token", c["realm"]);
        Assert.Equal("s", c["service"]);
    }

    [Fact]
    public void Error_parameters_of_an_insufficient_scope_answer()
    {
        var c = AuthenticationChallenge.Parse("Bearer realm=\"https://t/token\",service=\"s\",scope=\"repository:x:pull\",error=\"insufficient_scope\"").Single();

        Assert.Equal("insufficient_scope", c["error"]);
    }

    [Fact]
    public void Empty_quoted_value_and_empty_header()
    {
        Assert.Equal("", AuthenticationChallenge.Parse("Basic realm=\"\"").Single()["realm"]);
        Assert.Empty(AuthenticationChallenge.Parse(""));
        Assert.Empty(AuthenticationChallenge.Parse(" , "));
    }

    [Theory]
    [InlineData("Bearer realm=\"unterminated")]
    [InlineData("Bearer realm=\"a\" service=\"b\"")]
    [InlineData("=realm")]
    [InlineData("Bearer realm=\"a\",=b")]
    public void Malformed_headers_are_rejected_with_the_position(string header)
    {
        var error = Assert.Throws<FormatException>(() => AuthenticationChallenge.Parse(header));

        Assert.Contains("WWW-Authenticate", error.Message, StringComparison.Ordinal);
        Assert.False(AuthenticationChallenge.TryParse([header], out _));
    }
}
