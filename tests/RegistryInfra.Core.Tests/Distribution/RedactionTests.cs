using System.Text;

namespace RegistryInfra.Core.Tests.Distribution;

/// <summary>What may be quoted from untrusted text: secrets in every form, look-alikes and control characters removed, cut.</summary>
public sealed class RedactionTests
{
    private const string Password = "hunter2-Secret";

    [Fact]
    public void Secrets_are_removed_in_every_form_they_travel_in()
    {
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("robot:" + Password));
        var text = $"a {Password} b {basic} c {Convert.ToBase64String(Encoding.UTF8.GetBytes(Password))} d {Uri.EscapeDataString(Password)}";

        var excerpt = Redaction.Excerpt(text, Redaction.BasicForms("robot", Password), 1000);

        Assert.DoesNotContain(Password, excerpt, StringComparison.Ordinal);
        Assert.DoesNotContain(basic, excerpt, StringComparison.Ordinal);
        Assert.False(Redaction.Contains(excerpt, [Password]));
        Assert.StartsWith("a *** b *** c *** d ***", excerpt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Authorization: Basic cm9ib3Q6cGFzcw== seen", "Basic ***")]
    [InlineData("got bearer abc.def.ghi", "bearer ***")]
    [InlineData("password=letmein&x=1", "password=***")]
    [InlineData("{\"token\": \"opaque\"}", "\"token\": \"***")]
    [InlineData("key AKIAabcdefghijklmnop1234567890XYZ end", "key *** end")]
    [InlineData("got 'https://user:hunter2@vpce.example.com/path'", "got 'https://***@vpce.example.com/path'")]
    [InlineData("proxy http://hunter2@proxy:3128 refused", "proxy http://***@proxy:3128 refused")]
    public void Credential_look_alikes_are_removed(string text, string expected)
    {
        Assert.Contains(expected, Redaction.Excerpt(text), StringComparison.Ordinal);
    }

    [Fact]
    public void Digests_host_names_and_paths_survive()
    {
        var digest = "sha256:" + new string('a', 32) + new string('0', 32);
        var text = $"registry registry-1.docker.io, repository library/some-long-repository-name, digest {digest}";

        Assert.Equal(text, Redaction.Excerpt(text, maxLength: 1000));
    }

    [Fact]
    public void Control_characters_go_and_the_text_is_cut()
    {
        var excerpt = Redaction.Excerpt("line1\nFAKE LOG\r\u001b[31m" + new string('x', 10_000), maxLength: 100);

        Assert.DoesNotContain('\n', excerpt);
        Assert.DoesNotContain('\u001b', excerpt);
        Assert.True(excerpt.Length <= 101);
        Assert.EndsWith("…", excerpt, StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_is_removed_before_the_cut_so_no_prefix_of_it_remains()
    {
        var text = new string('x', 90) + " " + Password;

        var excerpt = Redaction.Excerpt(text, [Password], 95);

        Assert.DoesNotContain("hunt", excerpt, StringComparison.Ordinal);
    }
}
