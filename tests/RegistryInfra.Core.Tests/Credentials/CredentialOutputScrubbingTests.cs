using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Core.Tests.Credentials;

/// <summary>What a failing credential program printed is quoted only scrubbed and cut; an already expired exec credential is refused.</summary>
public sealed class CredentialOutputScrubbingTests : IDisposable
{
    private const string Secret = "Zx9-helper-SECRET-4471";
    private readonly ScriptDirectory _scripts = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_helper_that_printed_its_answer_and_failed_is_quoted_without_the_secret()
    {
        _scripts.Write("docker-credential-leaky", $$"""
            cat >/dev/null
            echo '{"ServerURL":"r","Username":"u","Secret":"{{Secret}}"}'
            echo "failed after reading {{Secret}}" >&2
            exit 3
            """);
        var source = new DockerCredentialHelperSource("leaky", "r.example", environment: _scripts.Environment);

        var error = await Assert.ThrowsAsync<RegistryException>(async () => await source.GetCredentialAsync(Ct));

        Assert.Contains("exited with code 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("failed after reading", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_helper_error_on_stdout_is_quoted_without_credential_look_alikes_and_cut()
    {
        _scripts.Write("docker-credential-chatty", """
            cat >/dev/null
            echo "keychain locked: Authorization: Basic cm9ib3Q6c2VjcmV0cGFzc3dvcmQ= token=abcdef123 $(head -c 100000 /dev/zero | tr '\0' x)"
            exit 1
            """);
        var source = new DockerCredentialHelperSource("chatty", "r.example", environment: _scripts.Environment);

        var error = await Assert.ThrowsAsync<RegistryException>(async () => await source.GetCredentialAsync(Ct));

        Assert.Contains("keychain locked", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("cm9ib3Q6c2VjcmV0cGFzc3dvcmQ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdef123", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 600, $"message of {error.Message.Length} characters");
    }

    [Theory]
    [InlineData("{\"username\":\"u\",\"password\":\"p4ssword\",\"expiresAt\":\"2001-01-01T00:00:00Z\"}", "already passed")]
    [InlineData("{\"username\":\"u\",\"password\":\"p4ssword\",\"expiresAt\":1}", "already passed")]
    [InlineData("{\"username\":\"u\",\"password\":\"p4ssword\",\"expiresAt\":1e300}", "outside 1970..9999")]
    [InlineData("{\"username\":\"u\",\"password\":\"p4ssword\",\"expiresAt\":-5}", "outside 1970..9999")]
    public async Task An_exec_credential_that_is_already_expired_or_expires_at_no_real_time_is_refused(string printed, string expected)
    {
        var script = _scripts.Write("creds", $"echo '{printed}'");
        var source = new ExecCredentialSource([script]);

        var error = await Assert.ThrowsAsync<RegistryException>(async () => await source.GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, error.Kind);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("expiresAt", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("p4ssword", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _scripts.Dispose();
}
