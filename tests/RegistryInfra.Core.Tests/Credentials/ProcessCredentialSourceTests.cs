using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Core.Tests.Credentials;

public sealed class DockerCredentialHelperSourceTests : IDisposable
{
    private readonly ScriptDirectory _scripts = new();

    public void Dispose() => _scripts.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Runs_get_with_the_server_url_on_stdin()
    {
        _scripts.Write("docker-credential-test", """
            [ "$1" = get ] || { echo "bad verb $1" >&2; exit 2; }
            url=$(cat)
            printf '{"ServerURL":"%s","Username":"user-for-%s","Secret":"helper-secret"}' "$url" "$url"
            """);
        var source = new DockerCredentialHelperSource("test", "registry.example.com", environment: _scripts.Environment);

        var credential = await source.GetCredentialAsync(Ct);

        Assert.Equal("user-for-registry.example.com", credential.Username);
        Assert.Equal("helper-secret", credential.Password);
        Assert.Null(credential.IdentityToken);
        Assert.Equal("credential-helper(docker-credential-test, registry.example.com)", source.Description);
    }

    [Fact]
    public async Task A_token_user_means_an_identity_token()
    {
        _scripts.Write("docker-credential-test", """cat >/dev/null; echo '{"ServerURL":"x","Username":"<token>","Secret":"refresh-token-value"}'""");

        var credential = await new DockerCredentialHelperSource("test", "x.azurecr.io", environment: _scripts.Environment).GetCredentialAsync(Ct);

        Assert.Equal("<token>", credential.Username);
        Assert.Equal("refresh-token-value", credential.IdentityToken);
    }

    [Fact]
    public async Task A_missing_helper_is_named()
    {
        var e = await Assert.ThrowsAsync<RegistryException>(async () =>
            await new DockerCredentialHelperSource("absent", "x", environment: _scripts.Environment).GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Contains("'docker-credential-absent' was not found on PATH", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credentials_not_found_is_reported_as_such()
    {
        _scripts.Write("docker-credential-test", "cat >/dev/null; echo 'credentials not found in native keychain'; exit 1");

        var e = await Assert.ThrowsAsync<RegistryException>(async () =>
            await new DockerCredentialHelperSource("test", "ghcr.io", environment: _scripts.Environment).GetCredentialAsync(Ct));

        Assert.Contains("no credentials stored for 'ghcr.io'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_helper_is_summarised_from_its_stderr()
    {
        _scripts.Write("docker-credential-test", "cat >/dev/null; echo 'keychain locked' >&2; exit 3");

        var e = await Assert.ThrowsAsync<RegistryException>(async () =>
            await new DockerCredentialHelperSource("test", "ghcr.io", environment: _scripts.Environment).GetCredentialAsync(Ct));

        Assert.Contains("exited with code 3: keychain locked", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_output_is_described_not_quoted()
    {
        _scripts.Write("docker-credential-test", "cat >/dev/null; echo 'Secret=half-printed-secret'");

        var e = await Assert.ThrowsAsync<RegistryException>(async () =>
            await new DockerCredentialHelperSource("test", "ghcr.io", environment: _scripts.Environment).GetCredentialAsync(Ct));

        Assert.Contains("not JSON", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("half-printed-secret", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hanging_helper_is_killed_with_its_children()
    {
        var pidFile = Path.Combine(_scripts.Path, "child.pid");
        _scripts.Write("docker-credential-test", $"sleep 300 & echo $! > '{pidFile}'; wait");
        var source = new DockerCredentialHelperSource("test", "ghcr.io", TimeSpan.FromMilliseconds(500), _scripts.Environment);

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await source.GetCredentialAsync(Ct));

        Assert.Contains("did not finish within 0.5 s and was killed", e.Message, StringComparison.Ordinal);
        var child = int.Parse(await File.ReadAllTextAsync(pidFile, Ct), System.Globalization.CultureInfo.InvariantCulture);
        await WaitForExitAsync(child);
    }

    internal static async Task WaitForExitAsync(int pid)
    {
        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return; // already gone
        }
        using (process)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            limit.CancelAfter(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(limit.Token);
        }
    }
}

public sealed class ExecCredentialSourceTests : IDisposable
{
    private readonly ScriptDirectory _scripts = new();

    public void Dispose() => _scripts.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_user_password_line_with_a_configured_lifetime()
    {
        var script = _scripts.Write("creds", "echo \"robot:$1:with-colons\"");
        var clock = new FixedClock(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
        var source = new ExecCredentialSource([script, "pw"], lifetime: TimeSpan.FromHours(1), clock: clock);

        var credential = await source.GetCredentialAsync(Ct);

        Assert.Equal(new RegistryCredential("robot", "pw:with-colons", clock.Now.AddHours(1)), credential);
    }

    [Fact]
    public async Task A_json_object_with_its_own_expiry()
    {
        var script = _scripts.Write("creds", """echo '{"username":"u","password":"p","expiresAt":"2096-11-23T18:00:00Z"}'""");

        var credential = await new ExecCredentialSource([script], lifetime: TimeSpan.FromHours(1)).GetCredentialAsync(Ct);

        Assert.Equal(new DateTimeOffset(2096, 11, 23, 18, 0, 0, TimeSpan.Zero), credential.ExpiresAt);
    }

    [Fact]
    public async Task Epoch_seconds_are_accepted_and_no_lifetime_means_no_expiry()
    {
        var epoch = _scripts.Write("epoch", """echo '{"username":"u","password":"p","expiresAt":4090000000}'""");
        var line = _scripts.Write("line", "echo u:p");

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(4090000000), (await new ExecCredentialSource([epoch]).GetCredentialAsync(Ct)).ExpiresAt);
        Assert.Null((await new ExecCredentialSource([line]).GetCredentialAsync(Ct)).ExpiresAt);
    }

    [Fact]
    public async Task Arguments_are_not_interpreted_by_a_shell()
    {
        var script = _scripts.Write("creds", "echo \"u:$1\"");

        var credential = await new ExecCredentialSource([script, "$(whoami) ; rm -rf /"]).GetCredentialAsync(Ct);

        Assert.Equal("$(whoami) ; rm -rf /", credential.Password);
    }

    [Theory]
    [InlineData("echo 'no colon here'", "neither 'user:password'")]
    [InlineData("echo '{\"username\":\"u\"}'", "no 'password'")]
    [InlineData("echo '{\"username\":\"u\",\"password\":\"p\",\"expiresAt\":\"soon\"}'", "'expiresAt'")]
    [InlineData("true", "printed nothing")]
    [InlineData("echo 'u:leaked-password'; echo 'failed for leaked-password' >&2; exit 4", "exited with code 4: failed for ***")]
    public async Task Bad_runs_fail_clearly_without_the_secret(string body, string expected)
    {
        var script = _scripts.Write("creds", body);

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await new ExecCredentialSource([script]).GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("leaked-password", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hanging_command_is_killed_with_its_children()
    {
        var pidFile = Path.Combine(_scripts.Path, "child.pid");
        var script = _scripts.Write("creds", $"sleep 300 & echo $! > '{pidFile}'; wait");

        var e = await Assert.ThrowsAsync<RegistryException>(async () =>
            await new ExecCredentialSource([script], timeout: TimeSpan.FromMilliseconds(500)).GetCredentialAsync(Ct));

        Assert.Contains("was killed", e.Message, StringComparison.Ordinal);
        var child = int.Parse(await File.ReadAllTextAsync(pidFile, Ct), System.Globalization.CultureInfo.InvariantCulture);
        await DockerCredentialHelperSourceTests.WaitForExitAsync(child);
    }

    [Fact]
    public void An_empty_command_names_the_field()
    {
        var e = Assert.Throws<RegistryException>(() => new ExecCredentialSource([]));

        Assert.Contains("'command'", e.Message, StringComparison.Ordinal);
    }
}
