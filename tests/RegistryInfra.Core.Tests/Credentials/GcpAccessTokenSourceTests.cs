using System.Security.Cryptography;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Testing.Google;

namespace RegistryInfra.Core.Tests.Credentials;

public sealed class GcpAccessTokenSourceTests : IAsyncLifetime
{
    private readonly RSA _rsa = RSA.Create(2048);
    private FakeGoogleOAuth _oauth = null!;

    public async ValueTask InitializeAsync()
    {
        using var publicKey = RSA.Create();
        publicKey.ImportSubjectPublicKeyInfo(_rsa.ExportSubjectPublicKeyInfo(), out _);
        var verifier = RSA.Create();
        verifier.ImportSubjectPublicKeyInfo(_rsa.ExportSubjectPublicKeyInfo(), out _);
        _oauth = await FakeGoogleOAuth.StartAsync(verifier, "puller@demo-project.iam.gserviceaccount.com", cancellationToken: Ct);
    }

    public async ValueTask DisposeAsync()
    {
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
        Assert.Equal(GcpAccessTokenSource.CloudPlatformScope, request.Scope);
        Assert.Equal("gcp-token(puller@demo-project.iam.gserviceaccount.com)", source.Description);
    }

    [Fact]
    public async Task Concurrent_calls_share_one_cached_token()
    {
        var source = GcpAccessTokenSource.FromServiceAccountKey(Key());

        var credentials = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => source.GetCredentialAsync(Ct).AsTask()));

        Assert.Single(credentials.Select(c => c.Password).Distinct());
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
    }

    [Fact]
    public async Task A_single_throttled_answer_is_retried_by_Google_Apis_Auth()
    {
        _oauth.EnqueueError(429, "rate_limit_exceeded");

        var credential = await GcpAccessTokenSource.FromServiceAccountKey(Key()).GetCredentialAsync(Ct);

        Assert.Equal(_oauth.IssuedTokens.Single(), credential.Password);
        Assert.Equal(2, _oauth.Requests.Count);
    }

    [Fact]
    public void An_invalid_key_names_the_field()
    {
        var e = Assert.Throws<RegistryException>(() => GcpAccessTokenSource.FromServiceAccountKey("{\"type\":\"service_account\"}"));

        Assert.Contains("serviceAccountKey: the service-account key has no 'client_email'", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>Application Default Credentials from GOOGLE_APPLICATION_CREDENTIALS (changes the process environment).</summary>
[Collection(nameof(ProcessEnvironment))]
public sealed class GcpApplicationDefaultTests
{
    [Fact]
    public async Task Application_default_credentials_from_a_key_file()
    {
        var ct = TestContext.Current.CancellationToken;
        using var rsa = RSA.Create(2048);
        var verifier = RSA.Create();
        verifier.ImportSubjectPublicKeyInfo(rsa.ExportSubjectPublicKeyInfo(), out _);
        await using var oauth = await FakeGoogleOAuth.StartAsync(verifier, "puller@demo-project.iam.gserviceaccount.com", cancellationToken: ct);
        var file = Path.Combine(Path.GetTempPath(), $"registryinfra-adc-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, GcpServiceAccountKeySourceTests.KeyJson(rsa, oauth.TokenUri.ToString()), ct);
        var saved = Environment.GetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS");
        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", file);
        try
        {
            var source = new GcpAccessTokenSource();

            var credential = await source.GetCredentialAsync(ct);

            Assert.Equal(oauth.IssuedTokens.Single(), credential.Password);
            Assert.Equal("gcp-token(application-default)", source.Description);
            Assert.NotNull(credential.ExpiresAt);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", saved);
            File.Delete(file);
        }
    }
}
