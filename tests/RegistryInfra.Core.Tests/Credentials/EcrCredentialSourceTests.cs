using System.Net.Http.Headers;
using Amazon.Runtime;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Testing.Aws;

namespace RegistryInfra.Core.Tests.Credentials;

public sealed class EcrCredentialSourceTests : IAsyncLifetime
{
    private FakeEcr _ecr = null!;

    public async ValueTask InitializeAsync() => _ecr = await FakeEcr.StartAsync(cancellationToken: TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _ecr.DisposeAsync();

    private EcrCredentialSource Source(AWSCredentials? credentials = null, string? region = null, TimeProvider? clock = null, TimeSpan? timeout = null) =>
        new(region ?? _ecr.Region, "123456789012", credentials ?? new BasicAWSCredentials(_ecr.AccessKeyId, _ecr.SecretAccessKey),
            _ecr.Endpoint, timeout: timeout, clock: clock);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Obtains_and_decodes_the_token_and_reports_its_expiry()
    {
        var before = DateTimeOffset.UtcNow;

        var credential = await Source().GetCredentialAsync(Ct);

        Assert.Equal("AWS", credential.Username);
        Assert.Equal(_ecr.IssuedPasswords.Single(), credential.Password);
        Assert.NotNull(credential.ExpiresAt);
        Assert.InRange(credential.ExpiresAt!.Value, before.AddHours(12).AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(12).AddSeconds(1));
        var request = Assert.Single(_ecr.Requests);
        Assert.True(request.SignatureValid, request.Reason);
        Assert.Equal(FakeEcr.PrivateTarget, request.Target);
    }

    [Fact]
    public async Task Temporary_credentials_send_their_session_token_under_the_signature()
    {
        _ecr.AddCredentials("ASIATEMPORARY", "temporary-secret", "session-token-value");

        var credential = await Source(new SessionAWSCredentials("ASIATEMPORARY", "temporary-secret", "session-token-value")).GetCredentialAsync(Ct);

        Assert.Equal("AWS", credential.Username);
        Assert.True(_ecr.Requests.Single().SignatureValid);
    }

    [Fact]
    public async Task A_wrong_session_token_is_rejected()
    {
        _ecr.AddCredentials("ASIATEMPORARY", "temporary-secret", "session-token-value");

        var e = await Assert.ThrowsAsync<RegistryException>(async () =>
            await Source(new SessionAWSCredentials("ASIATEMPORARY", "temporary-secret", "other-token")).GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Contains("UnrecognizedClientException", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("other-token", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_body_is_rejected_by_the_endpoint()
    {
        var client = new EcrAuthorizationClient(_ecr.Region, endpoint: _ecr.Endpoint);
        using var request = client.BuildSignedRequest(new ImmutableCredentials(_ecr.AccessKeyId, _ecr.SecretAccessKey, null));
        request.Content = new StringContent("{\"registryIds\":[\"210987654321\"]}");
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-amz-json-1.1");
        using var http = new HttpClient();

        using var response = await http.SendAsync(request, Ct);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("InvalidSignatureException", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.False(_ecr.Requests.Single().SignatureValid);
    }

    [Fact]
    public async Task A_wrong_secret_key_is_rejected_and_never_shown()
    {
        const string wrongSecret = "wrong-secret-key-0123456789abcdefghijklmn";

        var e = await Assert.ThrowsAsync<RegistryException>(async () =>
            await Source(new BasicAWSCredentials(_ecr.AccessKeyId, wrongSecret)).GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Contains("InvalidSignatureException", e.Message, StringComparison.Ordinal);
        Assert.Contains("eu-west-1", e.Message, StringComparison.Ordinal);
        Assert.Contains("123456789012", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongSecret, e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_ecr.SecretAccessKey, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signature_for_another_region_is_rejected()
    {
        var e = await Assert.ThrowsAsync<RegistryException>(async () => await Source(region: "us-east-1").GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Equal("InvalidSignatureException", _ecr.Requests.Single().RejectedWith);
    }

    [Fact]
    public void A_signature_for_another_service_is_rejected()
    {
        var client = new EcrAuthorizationClient("eu-west-1", EcrApi.Public, new Uri("http://127.0.0.1:9/"));
        using var request = client.BuildSignedRequest(new ImmutableCredentials("AKIDEXAMPLE", "secret", null));
        var verifier = new SigV4Verifier("eu-west-1", ["ecr"], _ => ("secret", null));
        var correct = new SigV4Verifier("eu-west-1", ["ecr-public"], _ => ("secret", null));

        Assert.Equal("InvalidSignatureException", verifier.Verify(ToSigned(request)).ErrorCode);
        Assert.True(correct.Verify(ToSigned(request)).Valid);
    }

    [Fact]
    public async Task A_signature_dated_ten_minutes_ago_is_rejected()
    {
        var clock = new FixedClock(DateTimeOffset.UtcNow.AddMinutes(-10));

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await Source(clock: clock).GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Contains("expired", _ecr.Requests.Single().Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_unknown_access_key_is_rejected_as_unrecognized_client()
    {
        var e = await Assert.ThrowsAsync<RegistryException>(async () =>
            await Source(new BasicAWSCredentials("AKIANOTKNOWN", "x")).GetCredentialAsync(Ct));

        Assert.Contains("UnrecognizedClientException", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, RegistryErrorKind, string> Faults => new()
    {
        { "throttling", RegistryErrorKind.RateLimited, "ThrottlingException" },
        { "expired", RegistryErrorKind.CredentialSource, "ExpiredTokenException" },
        { "denied", RegistryErrorKind.CredentialSource, "AccessDeniedException" },
        { "500", RegistryErrorKind.Unreachable, "HTTP 500" },
        { "503", RegistryErrorKind.Unreachable, "HTTP 503" },
        { "429", RegistryErrorKind.RateLimited, "throttled" },
        { "garbage", RegistryErrorKind.InvalidResponse, "not JSON" },
        { "wrong-shape", RegistryErrorKind.InvalidResponse, "authorizationData" },
        { "bad-token", RegistryErrorKind.InvalidResponse, "base64" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task Each_fault_maps_to_its_kind(string fault, RegistryErrorKind kind, string text)
    {
        _ecr.EnqueueFault(fault switch
        {
            "throttling" => EcrFault.Throttling,
            "expired" => EcrFault.ExpiredToken,
            "denied" => EcrFault.AccessDenied,
            "500" => EcrFault.ServerError(),
            "503" => EcrFault.ServerError(503),
            "429" => new EcrFault.Error(429, "TooManyRequests", "slow down"),
            "garbage" => new EcrFault.Garbage("<html>proxy error</html>"),
            "wrong-shape" => new EcrFault.Garbage("{\"authorizationData\":[]}"),
            "bad-token" => new EcrFault.Garbage("{\"authorizationData\":[{\"authorizationToken\":\"%%%\",\"expiresAt\":1.5}]}"),
            _ => throw new ArgumentOutOfRangeException(nameof(fault)),
        });

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await Source().GetCredentialAsync(Ct));

        Assert.Equal(kind, e.Kind);
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_ecr.SecretAccessKey, e.ToString(), StringComparison.Ordinal);
        // The fault is consumed: the next call succeeds.
        Assert.Equal("AWS", (await Source().GetCredentialAsync(Ct)).Username);
        Assert.Equal(2, _ecr.Requests.Count);
    }

    [Fact]
    public async Task A_slow_endpoint_times_out_as_unreachable()
    {
        _ecr.EnqueueFault(new EcrFault.Slow(TimeSpan.FromMinutes(1)));

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await Source(timeout: TimeSpan.FromMilliseconds(300)).GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.Unreachable, e.Kind);
        Assert.True(e.IsTransient);
        Assert.Contains("no answer within", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closed_port_is_unreachable()
    {
        var source = new EcrCredentialSource("eu-west-1", credentials: new BasicAWSCredentials("AKID", "secret"), endpoint: new Uri("http://127.0.0.1:9/"));

        var e = await Assert.ThrowsAsync<RegistryException>(async () => await source.GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.Unreachable, e.Kind);
    }

    [Fact]
    public async Task Concurrent_calls_each_get_a_valid_token()
    {
        var source = Source();

        var credentials = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => source.GetCredentialAsync(Ct).AsTask()));

        Assert.Equal(8, _ecr.Requests.Count);
        Assert.All(_ecr.Requests, r => Assert.True(r.SignatureValid));
        Assert.Equal(8, credentials.Select(c => c.Password).Distinct().Count());
    }

    [Fact]
    public async Task Ecr_public_tokens_come_from_us_east_1_with_the_public_target()
    {
        await using var ecr = await FakeEcr.StartAsync(new FakeEcrOptions { Region = "us-east-1" }, Ct);
        var source = EcrCredentialSource.ForPublic(new BasicAWSCredentials(ecr.AccessKeyId, ecr.SecretAccessKey), ecr.Endpoint);

        var credential = await source.GetCredentialAsync(Ct);

        Assert.Equal("AWS", credential.Username);
        Assert.Equal(ecr.IssuedPasswords.Single(), credential.Password);
        Assert.Equal(FakeEcr.PublicTarget, ecr.Requests.Single().Target);
        Assert.Equal("ecr-public(us-east-1)", source.Description);
    }

    [Theory]
    [InlineData("eu-west-1", EcrApi.Private, false, "https://api.ecr.eu-west-1.amazonaws.com/")]
    [InlineData("cn-north-1", EcrApi.Private, false, "https://api.ecr.cn-north-1.amazonaws.com.cn/")]
    [InlineData("us-gov-west-1", EcrApi.Private, true, "https://ecr-fips.us-gov-west-1.amazonaws.com/")]
    [InlineData("us-east-1", EcrApi.Public, false, "https://api.ecr-public.us-east-1.amazonaws.com/")]
    [InlineData("us-iso-east-1", EcrApi.Private, false, "https://api.ecr.us-iso-east-1.c2s.ic.gov/")]
    [InlineData("eusc-de-east-1", EcrApi.Private, false, "https://api.ecr.eusc-de-east-1.amazonaws.eu/")]
    public void Default_endpoints_follow_the_partition(string region, EcrApi api, bool fips, string expected)
    {
        Assert.Equal(new Uri(expected), EcrAuthorizationClient.DefaultEndpoint(region, api, fips));
    }

    [Theory]
    [InlineData("EU-WEST-1", null, "'region'")]
    [InlineData("", null, "'region'")]
    [InlineData("eu-west-1", "1234", "'accountId'")]
    public void Bad_input_names_the_field(string region, string? account, string field)
    {
        var e = Assert.Throws<RegistryException>(() => new EcrCredentialSource(region, account));

        Assert.Equal(RegistryErrorKind.InvalidInput, e.Kind);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Description_names_account_and_region_only()
    {
        var source = Source();

        Assert.Equal("ecr(123456789012, eu-west-1)", source.Description);
        Assert.Equal(source.Description, source.ToString());
    }

    internal static SignedRequest ToSigned(HttpRequestMessage request)
    {
        var headers = request.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v))).ToList();
        headers.Add(new("Host", request.RequestUri!.Authority));
        if (request.Content is not null)
        {
            headers.AddRange(request.Content.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v))));
        }
        var body = request.Content?.ReadAsByteArrayAsync().GetAwaiter().GetResult() ?? [];
        return new SignedRequest(request.Method.Method, request.RequestUri.AbsolutePath, request.RequestUri.Query, headers, body);
    }
}
