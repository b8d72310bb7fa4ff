using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Google;

namespace RegistryInfra.Core.Tests.Credentials;

/// <summary>A clock the test moves.</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// The service-account key source against a fake Google token endpoint on 127.0.0.1 that verifies the RS256 assertion.
/// The fake is not on googleapis.com, so it is allowed explicitly (<see cref="GcpTokenEndpoints.AllowEnvironmentVariable"/>),
/// which changes the process environment: these run alone.
/// </summary>
[Collection(nameof(ProcessEnvironment))]
public sealed class GcpAccessTokenSourceTests : IAsyncLifetime
{
    private const string Email = "puller@demo-project.iam.gserviceaccount.com";
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly string? _savedAllow = Environment.GetEnvironmentVariable(GcpTokenEndpoints.AllowEnvironmentVariable);
    private FakeGoogleOAuth _oauth = null!;

    public async ValueTask InitializeAsync()
    {
        _oauth = await StartOAuthAsync(_rsa);
    }

    internal static async Task<FakeGoogleOAuth> StartOAuthAsync(RSA rsa, int expiresInSeconds = 3599)
    {
        var verifier = RSA.Create();
        verifier.ImportSubjectPublicKeyInfo(rsa.ExportSubjectPublicKeyInfo(), out _);
        var oauth = await FakeGoogleOAuth.StartAsync(verifier, Email, expiresInSeconds, TestContext.Current.CancellationToken);
        Environment.SetEnvironmentVariable(GcpTokenEndpoints.AllowEnvironmentVariable, oauth.TokenUri.ToString());
        return oauth;
    }

    public async ValueTask DisposeAsync()
    {
        Environment.SetEnvironmentVariable(GcpTokenEndpoints.AllowEnvironmentVariable, _savedAllow);
        await _oauth.DisposeAsync();
        _rsa.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Key(RSA? signer = null) => GcpServiceAccountKeySourceTests.KeyJson(signer ?? _rsa, _oauth.TokenUri.ToString());

    [Fact]
    public async Task Exchanges_a_signed_assertion_for_an_access_token_with_its_expiry()
    {
        var before = DateTimeOffset.UtcNow;
        var source = GcpAccessTokenSource.FromServiceAccountKey(Key());

        var credential = await source.GetCredentialAsync(Ct);

        Assert.Equal("oauth2accesstoken", credential.Username);
        Assert.Equal(_oauth.IssuedTokens.Single(), credential.Password);
        Assert.InRange(credential.ExpiresAt!.Value, before.AddSeconds(3599 - 5), DateTimeOffset.UtcNow.AddSeconds(3599 + 5));
        var request = _oauth.Requests.Single();
        Assert.True(request.SignatureValid, request.Rejected);
        Assert.Equal("urn:ietf:params:oauth:grant-type:jwt-bearer", request.GrantType);
        Assert.Equal(Email, request.Issuer);
        Assert.Equal(_oauth.TokenUri.ToString(), request.Audience);
        Assert.Equal(GcpAccessTokenSource.CloudPlatformScope, request.Scope);
        Assert.Equal("gcp-token(puller@demo-project.iam.gserviceaccount.com)", source.Description);
    }

    [Fact]
    public async Task Concurrent_calls_share_one_cached_token()
    {
        var source = GcpAccessTokenSource.FromServiceAccountKey(Key());

        var credentials = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => source.GetCredentialAsync(Ct).AsTask(), Ct)));

        Assert.Single(credentials.Select(c => c.Password).Distinct());
        Assert.Single(_oauth.Requests);
    }

    [Fact]
    public async Task The_token_is_reused_until_its_refresh_margin_then_refreshed_once()
    {
        // Tokens that live 400 s are refreshed at half their life (200 s), five minutes being more than half. The fake
        // checks the assertion's iat against its own clock, so the moved clock stays within its five minutes' leeway.
        await using var oauth = await StartOAuthAsync(_rsa, expiresInSeconds: 400);
        var clock = new ManualClock();
        var source = GcpAccessTokenSource.FromServiceAccountKey(GcpServiceAccountKeySourceTests.KeyJson(_rsa, oauth.TokenUri.ToString()), clock: clock);
        var first = await source.GetCredentialAsync(Ct);

        clock.Advance(TimeSpan.FromSeconds(190));
        Assert.Equal(first.Password, (await source.GetCredentialAsync(Ct)).Password);
        Assert.Single(oauth.Requests);

        clock.Advance(TimeSpan.FromSeconds(20));
        var refreshed = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => source.GetCredentialAsync(Ct).AsTask()));

        Assert.Equal(2, oauth.Requests.Count);
        Assert.Single(refreshed.Select(c => c.Password).Distinct());
        Assert.NotEqual(first.Password, refreshed[0].Password);
        Assert.Equal(clock.GetUtcNow().AddSeconds(400), refreshed[0].ExpiresAt);
    }

    [Fact]
    public async Task A_failed_refresh_is_not_cached()
    {
        _oauth.EnqueueError(400, "invalid_grant");
        var source = GcpAccessTokenSource.FromServiceAccountKey(Key());

        await Assert.ThrowsAsync<RegistryException>(async () => await source.GetCredentialAsync(Ct));
        var credential = await source.GetCredentialAsync(Ct);

        Assert.Equal(_oauth.IssuedTokens.Single(), credential.Password);
        Assert.Equal(2, _oauth.Requests.Count);
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_refresh_for_the_others()
    {
        var source = GcpAccessTokenSource.FromServiceAccountKey(Key());
        // The token endpoint answers only once the first caller has given up (under load it otherwise answered first).
        _oauth.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var impatient = new CancellationTokenSource();
        var first = source.GetCredentialAsync(impatient.Token).AsTask();
        var second = source.GetCredentialAsync(Ct).AsTask();
        await impatient.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.False(second.IsCompleted);
        _oauth.Hold.SetResult();
        var credential = await second;
        Assert.Equal(_oauth.IssuedTokens.Single(), credential.Password);
        Assert.Single(_oauth.Requests);
    }

    [Fact]
    public async Task An_assertion_signed_by_another_key_is_refused()
    {
        using var other = RSA.Create(2048);
        var source = GcpAccessTokenSource.FromServiceAccountKey(Key(other));

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await source.GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Contains("invalid_grant", e.Message, StringComparison.Ordinal);
        Assert.Equal("invalid JWT signature", _oauth.Requests.Single().Rejected);
        Assert.DoesNotContain("PRIVATE KEY", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_single_throttled_answer_is_retried()
    {
        _oauth.EnqueueError(429, "rate_limit_exceeded");

        var credential = await GcpAccessTokenSource.FromServiceAccountKey(Key()).GetCredentialAsync(Ct);

        Assert.Equal(_oauth.IssuedTokens.Single(), credential.Password);
        Assert.Equal(2, _oauth.Requests.Count);
    }

    [Fact]
    public async Task Throttling_that_lasts_is_reported_as_rate_limited()
    {
        for (var i = 0; i < 3; i++)
        {
            _oauth.EnqueueError(429, "rate_limit_exceeded");
        }

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await GcpAccessTokenSource.FromServiceAccountKey(Key()).GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.RateLimited, e.Kind);
        Assert.Equal(3, _oauth.Requests.Count);
    }

    [Fact]
    public void An_invalid_key_names_the_field()
    {
        var e = Assert.Throws<RegistryException>(() => GcpAccessTokenSource.FromServiceAccountKey("{\"type\":\"service_account\"}"));

        Assert.Contains("serviceAccountKey: the service-account key has no 'client_email'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_private_key_that_is_not_rsa_names_the_field_not_the_key()
    {
        var key = GcpServiceAccountKeySourceTests.KeyJson(_rsa, GcpTokenEndpoints.DefaultTokenUri,
            k => k["private_key"] = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");

        var e = Assert.Throws<RegistryException>(() => GcpAccessTokenSource.FromServiceAccountKey(key));

        Assert.Equal("serviceAccountKey", e.Field);
        Assert.Contains("'private_key' is not a PEM RSA private key", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("bm90IGEga2V5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_uri_that_is_not_listed_is_refused_before_anything_is_sent()
    {
        Environment.SetEnvironmentVariable(GcpTokenEndpoints.AllowEnvironmentVariable, null);

        var e = Assert.Throws<RegistryException>(() => GcpAccessTokenSource.FromServiceAccountKey(Key()));

        Assert.Equal("serviceAccountKey", e.Field);
        Assert.Contains("'token_uri' names host '127.0.0.1', which is not a Google token endpoint", e.Message, StringComparison.Ordinal);
        Assert.Contains(GcpTokenEndpoints.AllowEnvironmentVariable, e.Message, StringComparison.Ordinal);
        await Task.Delay(50, Ct);
        Assert.Empty(_oauth.Requests);
    }

    [Theory]
    [InlineData("https://oauth2.googleapis.com/token", true)]
    [InlineData("https://www.googleapis.com/oauth2/v4/token", true)]
    [InlineData("https://accounts.google.com/o/oauth2/token", true)]
    [InlineData("https://oauth2-myendpoint.p.googleapis.com/token", true)]
    [InlineData("https://OAUTH2.GOOGLEAPIS.COM:443/token", true)]
    [InlineData("http://oauth2.googleapis.com/token", false)]
    [InlineData("https://oauth2.googleapis.com:8443/token", false)]
    [InlineData("https://oauth2.googleapis.com.example.net/token", false)]
    [InlineData("https://evilgoogleapis.com/token", false)]
    [InlineData("https://user@oauth2.googleapis.com/token", false)]
    [InlineData("https://example.net/token", false)]
    [InlineData("file:///etc/passwd", false)]
    [InlineData("not a url", false)]
    public void Only_google_token_endpoints_are_allowed_by_default(string tokenUri, bool allowed)
    {
        Environment.SetEnvironmentVariable(GcpTokenEndpoints.AllowEnvironmentVariable, "https://example.org/token, http://127.0.0.1:1/token");

        Assert.Equal(allowed, GcpTokenEndpoints.Refusal(tokenUri) is null);
        Assert.Null(GcpTokenEndpoints.Refusal("https://example.org/token"));
        Assert.NotNull(GcpTokenEndpoints.Refusal("https://example.org/token2"));
    }
}

/// <summary>Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud's file, the metadata server (changes the process environment).</summary>
[Collection(nameof(ProcessEnvironment))]
public sealed class GcpApplicationDefaultTests : IAsyncLifetime
{
    private static readonly string[] Variables =
        ["GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "GCE_METADATA_HOST", "GCE_METADATA_ROOT", GcpTokenEndpoints.AllowEnvironmentVariable];

    private readonly Dictionary<string, string?> _saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
    private readonly string _dir = Directory.CreateTempSubdirectory("registryinfra-adc-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        foreach (var variable in Variables)
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
        // Keep this machine's own gcloud login out of it.
        Environment.SetEnvironmentVariable("CLOUDSDK_CONFIG", Path.Combine(_dir, "gcloud"));
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var (variable, value) in _saved)
        {
            Environment.SetEnvironmentVariable(variable, value);
        }
        Directory.Delete(_dir, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Application_default_credentials_from_a_key_file()
    {
        using var rsa = RSA.Create(2048);
        await using var oauth = await GcpAccessTokenSourceTests.StartOAuthAsync(rsa);
        var file = Path.Combine(_dir, "key.json");
        await File.WriteAllTextAsync(file, GcpServiceAccountKeySourceTests.KeyJson(rsa, oauth.TokenUri.ToString()), Ct);
        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", file);
        var source = new GcpAccessTokenSource();

        var credential = await source.GetCredentialAsync(Ct);

        Assert.Equal(oauth.IssuedTokens.Single(), credential.Password);
        Assert.Equal("gcp-token(application-default)", source.Description);
        Assert.NotNull(credential.ExpiresAt);
        Assert.True(oauth.Requests.Single().SignatureValid);
    }

    [Fact]
    public async Task Gcloud_user_credentials_in_the_well_known_file_use_the_refresh_token_grant()
    {
        using var rsa = RSA.Create(2048);
        await using var oauth = await GcpAccessTokenSourceTests.StartOAuthAsync(rsa);
        Directory.CreateDirectory(Path.Combine(_dir, "gcloud"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "gcloud", "application_default_credentials.json"), oauth.AuthorizedUserJson(), Ct);

        var credential = await new GcpAccessTokenSource().GetCredentialAsync(Ct);

        Assert.Equal(oauth.IssuedTokens.Single(), credential.Password);
        var request = oauth.Requests.Single();
        Assert.Equal("refresh_token", request.GrantType);
        Assert.True(request.SignatureValid, request.Rejected);
    }

    [Fact]
    public async Task A_rejected_refresh_token_fails_without_quoting_it()
    {
        using var rsa = RSA.Create(2048);
        await using var oauth = await GcpAccessTokenSourceTests.StartOAuthAsync(rsa);
        var file = Path.Combine(_dir, "user.json");
        await File.WriteAllTextAsync(file, oauth.AuthorizedUserJson().Replace(oauth.RefreshToken, "1//revoked-" + new string('x', 30), StringComparison.Ordinal), Ct);
        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", file);

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await new GcpAccessTokenSource().GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Contains("invalid_grant", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("revoked", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(oauth.ClientSecret, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_explicit_file_wins_over_the_well_known_file()
    {
        using var rsa = RSA.Create(2048);
        await using var oauth = await GcpAccessTokenSourceTests.StartOAuthAsync(rsa);
        Directory.CreateDirectory(Path.Combine(_dir, "gcloud"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "gcloud", "application_default_credentials.json"), oauth.AuthorizedUserJson(), Ct);
        var file = Path.Combine(_dir, "key.json");
        await File.WriteAllTextAsync(file, GcpServiceAccountKeySourceTests.KeyJson(rsa, oauth.TokenUri.ToString()), Ct);
        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", file);

        await new GcpAccessTokenSource().GetCredentialAsync(Ct);

        Assert.Equal("urn:ietf:params:oauth:grant-type:jwt-bearer", oauth.Requests.Single().GrantType);
    }

    [Fact]
    public async Task Without_files_the_metadata_server_of_GCE_METADATA_HOST_serves_the_token()
    {
        var seen = new ConcurrentQueue<(string Path, string Flavor)>();
        await using var metadata = await LoopbackHttpServer.StartAsync(context => Metadata(context, seen, flavor: true), Ct);
        Environment.SetEnvironmentVariable("GCE_METADATA_HOST", metadata.BaseAddress.Authority);
        var before = DateTimeOffset.UtcNow;

        var credential = await new GcpAccessTokenSource().GetCredentialAsync(Ct);

        Assert.Equal("oauth2accesstoken", credential.Username);
        Assert.Equal("ya29.metadata-token", credential.Password);
        Assert.InRange(credential.ExpiresAt!.Value, before.AddSeconds(1800 - 5), DateTimeOffset.UtcNow.AddSeconds(1800 + 5));
        var (path, flavor) = Assert.Single(seen);
        Assert.Equal("/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform", path);
        Assert.Equal("Google", flavor);
    }

    [Fact]
    public async Task An_answer_without_Metadata_Flavor_is_not_a_metadata_server()
    {
        await using var metadata = await LoopbackHttpServer.StartAsync(context => Metadata(context, new(), flavor: false), Ct);
        Environment.SetEnvironmentVariable("GCE_METADATA_HOST", metadata.BaseAddress.Authority);

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await new GcpAccessTokenSource().GetCredentialAsync(Ct));

        Assert.Contains("without 'Metadata-Flavor: Google'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ya29", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_found_says_where_it_looked()
    {
        // A port nothing listens on: the metadata server cannot be reached.
        Environment.SetEnvironmentVariable("GCE_METADATA_HOST", "127.0.0.1:1");

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await new GcpAccessTokenSource().GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.Unreachable, e.Kind);
        Assert.Contains("no Google Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS is not set, there is no gcloud file", e.Message, StringComparison.Ordinal);
        Assert.Contains("the metadata server 127.0.0.1:1 cannot be reached", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gdch_service_account")]
    [InlineData("impersonated_service_account")]
    [InlineData("external_account_authorized_user")]
    public async Task Unsupported_credential_types_name_the_file_and_its_type(string type)
    {
        var file = Path.Combine(_dir, "other.json");
        await File.WriteAllTextAsync(file, "{\"type\":\"" + type + "\",\"audience\":\"//iam.googleapis.com/x\",\"credential_source\":{\"file\":\"/var/run/token\"}}", Ct);
        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", file);

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await new GcpAccessTokenSource().GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Contains($"GOOGLE_APPLICATION_CREDENTIALS ('{file}'): has 'type' \"{type}\", which RegistryInfra does not support", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_named_file_that_does_not_exist_is_an_error_not_a_fallback()
    {
        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", Path.Combine(_dir, "missing.json"));

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await new GcpAccessTokenSource().GetCredentialAsync(Ct));

        Assert.Contains("cannot read the credential file (it does not exist)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task External_account_exchanges_a_file_subject_token_at_sts()
    {
        await using var google = await FakeFederation.StartAsync(Ct);
        var tokenFile = Path.Combine(_dir, "ksa-token");
        await File.WriteAllTextAsync(tokenFile, "eyJ.subject-token-from-file\n", Ct);
        UseFile(google.ExternalAccountJson(new { file = tokenFile }, impersonate: false));

        var credential = await new GcpAccessTokenSource().GetCredentialAsync(Ct);

        Assert.Equal(FakeFederation.FederatedToken, credential.Password);
        var exchange = Assert.Single(google.Exchanges);
        Assert.Equal("urn:ietf:params:oauth:grant-type:token-exchange", exchange["grant_type"]);
        Assert.Equal(FakeFederation.Audience, exchange["audience"]);
        Assert.Equal("eyJ.subject-token-from-file", exchange["subject_token"]);
        Assert.Equal("urn:ietf:params:oauth:token-type:jwt", exchange["subject_token_type"]);
        Assert.Equal("urn:ietf:params:oauth:token-type:access_token", exchange["requested_token_type"]);
        Assert.Equal(GcpAccessTokenSource.CloudPlatformScope, exchange["scope"]);
        Assert.Empty(google.Impersonations);
        Assert.InRange(credential.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddSeconds(3590), DateTimeOffset.UtcNow.AddSeconds(3610));
    }

    [Fact]
    public async Task External_account_with_impersonation_asks_iam_credentials_with_the_federated_token()
    {
        await using var google = await FakeFederation.StartAsync(Ct);
        UseFile(google.ExternalAccountJson(new
        {
            url = google.SubjectUrl,
            headers = new Dictionary<string, string> { ["Metadata"] = "true" },
            format = new { type = "json", subject_token_field_name = "access_token" },
        }, impersonate: true));

        var credential = await new GcpAccessTokenSource().GetCredentialAsync(Ct);

        Assert.Equal(FakeFederation.ImpersonatedToken, credential.Password);
        Assert.Equal("eyJ.subject-token-from-url", Assert.Single(google.Exchanges)["subject_token"]);
        var (authorization, body) = Assert.Single(google.Impersonations);
        Assert.Equal("Bearer " + FakeFederation.FederatedToken, authorization);
        Assert.Equal("""{"scope":["https://www.googleapis.com/auth/cloud-platform"],"lifetime":"1800s"}""", body);
        Assert.Equal("true", Assert.Single(google.SubjectHeaders));
        Assert.InRange(credential.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddSeconds(1790), DateTimeOffset.UtcNow.AddSeconds(1810));
    }

    [Fact]
    public async Task A_refused_impersonation_says_what_IAM_said_without_the_federated_token()
    {
        await using var google = await FakeFederation.StartAsync(Ct);
        google.DenyImpersonation = true;
        var tokenFile = Path.Combine(_dir, "ksa-token");
        await File.WriteAllTextAsync(tokenFile, "eyJ.subject-token-from-file", Ct);
        UseFile(google.ExternalAccountJson(new { file = tokenFile }, impersonate: true));

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await new GcpAccessTokenSource().GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Contains("refused the request: PERMISSION_DENIED (Permission 'iam.serviceAccounts.getAccessToken' denied", e.Message, StringComparison.Ordinal);
        Assert.Contains("(HTTP 403)", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeFederation.FederatedToken, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("subject-token", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"environment_id":"aws1","region_url":"http://169.254.169.254/latest/meta-data/placement/availability-zone"}""", "'credential_source.environment_id'")]
    [InlineData("""{"executable":{"command":"/bin/token"}}""", "'credential_source.executable'")]
    [InlineData("""{}""", "neither 'credential_source.file' nor 'credential_source.url'")]
    [InlineData("""{"file":"/x","format":{"type":"json"}}""", "without 'subject_token_field_name'")]
    public async Task External_accounts_RegistryInfra_cannot_serve_name_the_member(string credentialSource, string named)
    {
        var file = Path.Combine(_dir, "external.json");
        await File.WriteAllTextAsync(file, "{\"type\":\"external_account\",\"audience\":\"//iam.googleapis.com/x\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\"," +
            "\"token_url\":\"https://sts.googleapis.com/v1/token\",\"credential_source\":" + credentialSource + "}", Ct);
        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", file);

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await new GcpAccessTokenSource().GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Contains($"GOOGLE_APPLICATION_CREDENTIALS ('{file}'): the external_account credentials", e.Message, StringComparison.Ordinal);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task External_account_urls_off_googleapis_are_refused_before_the_subject_token_is_read()
    {
        await using var google = await FakeFederation.StartAsync(Ct);
        Environment.SetEnvironmentVariable(GcpTokenEndpoints.AllowEnvironmentVariable, null);
        UseFile(google.ExternalAccountJson(new { file = Path.Combine(_dir, "never-read") }, impersonate: false));

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await new GcpAccessTokenSource().GetCredentialAsync(Ct));

        Assert.Contains("have a 'token_url' that names host '127.0.0.1', which is not a Google token endpoint", e.Message, StringComparison.Ordinal);
        Assert.Empty(google.Exchanges);
    }

    private void UseFile(string json)
    {
        var file = Path.Combine(_dir, "external.json");
        File.WriteAllText(file, json);
        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", file);
    }

    private static Task Metadata(HttpContext context, ConcurrentQueue<(string, string)> seen, bool flavor)
    {
        seen.Enqueue((context.Request.Path + context.Request.QueryString, context.Request.Headers["Metadata-Flavor"].ToString()));
        if (flavor)
        {
            context.Response.Headers["Metadata-Flavor"] = "Google";
        }
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync("""{"access_token":"ya29.metadata-token","expires_in":1800,"token_type":"Bearer"}""", context.RequestAborted);
    }
}

/// <summary>Google STS, IAM Credentials generateAccessToken and a subject-token URL on 127.0.0.1, allowed as token URLs.</summary>
internal sealed class FakeFederation : IAsyncDisposable
{
    public const string Audience = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/aks/providers/cluster";
    public const string FederatedToken = "ya29.federated-fake";
    public const string ImpersonatedToken = "ya29.impersonated-fake";

    private LoopbackHttpServer _server = null!;

    public ConcurrentQueue<Dictionary<string, string>> Exchanges { get; } = new();

    public ConcurrentQueue<(string Authorization, string Body)> Impersonations { get; } = new();

    public ConcurrentQueue<string> SubjectHeaders { get; } = new();

    public bool DenyImpersonation { get; set; }

    public string StsUrl => new Uri(_server.BaseAddress, "v1/token").ToString();

    public string ImpersonationUrl => new Uri(_server.BaseAddress, "v1/projects/-/serviceAccounts/puller@demo.iam.gserviceaccount.com:generateAccessToken").ToString();

    public string SubjectUrl => new Uri(_server.BaseAddress, "subject").ToString();

    public static async Task<FakeFederation> StartAsync(CancellationToken cancellationToken)
    {
        var fake = new FakeFederation();
        fake._server = await LoopbackHttpServer.StartAsync(fake.HandleAsync, cancellationToken);
        Environment.SetEnvironmentVariable(GcpTokenEndpoints.AllowEnvironmentVariable, fake.StsUrl + "," + fake.ImpersonationUrl);
        return fake;
    }

    public string ExternalAccountJson(object credentialSource, bool impersonate) => System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["type"] = "external_account",
        ["audience"] = Audience,
        ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
        ["token_url"] = StsUrl,
        ["service_account_impersonation_url"] = impersonate ? ImpersonationUrl : null,
        ["service_account_impersonation"] = impersonate ? new { token_lifetime_seconds = 1800 } : null,
        ["credential_source"] = credentialSource,
    });

    private async Task HandleAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        if (context.Request.Path == "/subject")
        {
            SubjectHeaders.Enqueue(context.Request.Headers["Metadata"].ToString());
            await context.Response.WriteAsync("""{"access_token":"eyJ.subject-token-from-url","expires_in":"86399"}""", context.RequestAborted);
        }
        else if (context.Request.Path == "/v1/token")
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            Exchanges.Enqueue(form.ToDictionary(f => f.Key, f => f.Value.ToString()));
            await context.Response.WriteAsync($$"""{"access_token":"{{FederatedToken}}","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3600}""", context.RequestAborted);
        }
        else
        {
            using var reader = new StreamReader(context.Request.Body);
            Impersonations.Enqueue((context.Request.Headers.Authorization.ToString(), await reader.ReadToEndAsync(context.RequestAborted)));
            if (DenyImpersonation)
            {
                context.Response.StatusCode = 403;
                await context.Response.WriteAsync("""{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED"}}""", context.RequestAborted);
                return;
            }
            var expires = DateTimeOffset.UtcNow.AddSeconds(1800).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsync($$"""{"accessToken":"{{ImpersonatedToken}}","expireTime":"{{expires}}"}""", context.RequestAborted);
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
