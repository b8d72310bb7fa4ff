using RegistryInfra.Testing.Aws;

namespace RegistryInfra.Core.Tests.Credentials;

public sealed class SigV4VerifierTests
{
    // AWS's published Signature Version 4 example (IAM ListUsers, 2015-08-30).
    private const string ExampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string ExampleSignature = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

    private static SignedRequest Example(string signature = ExampleSignature, string query = "Action=ListUsers&Version=2010-05-08") =>
        new("GET", "/", query,
        [
            new("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            new("Host", "iam.amazonaws.com"),
            new("X-Amz-Date", "20150830T123600Z"),
            new("Authorization", $"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature={signature}"),
        ], []);

    private static SigV4Verifier Verifier(string secret = ExampleSecret, string region = "us-east-1", string service = "iam") =>
        new(region, [service], id => id == "AKIDEXAMPLE" ? (secret, null) : null,
            new FixedClock(new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero)));

    [Fact]
    public void Accepts_the_published_AWS_example()
    {
        var verdict = Verifier().Verify(Example());

        Assert.True(verdict.Valid, verdict.Reason);
        Assert.Equal("iam", verdict.Service);
    }

    [Fact]
    public void Rejects_the_example_with_another_secret_key()
    {
        var verdict = Verifier(secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ").Verify(Example());

        Assert.False(verdict.Valid);
        Assert.Equal("InvalidSignatureException", verdict.ErrorCode);
    }

    [Fact]
    public void Rejects_the_example_with_a_changed_query()
    {
        Assert.Equal("InvalidSignatureException", Verifier().Verify(Example(query: "Action=ListUsers&Version=2010-05-09")).ErrorCode);
    }

    [Fact]
    public void Rejects_the_example_in_another_region_or_service()
    {
        Assert.Equal("InvalidSignatureException", Verifier(region: "eu-west-1").Verify(Example()).ErrorCode);
        Assert.Equal("InvalidSignatureException", Verifier(service: "ecr").Verify(Example()).ErrorCode);
    }

    [Fact]
    public void Rejects_the_example_six_minutes_later()
    {
        var verifier = new SigV4Verifier("us-east-1", ["iam"], _ => (ExampleSecret, null),
            new FixedClock(new DateTimeOffset(2015, 8, 30, 12, 42, 0, TimeSpan.Zero)));

        var verdict = verifier.Verify(Example());

        Assert.Equal("InvalidSignatureException", verdict.ErrorCode);
        Assert.Contains("expired", verdict.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Rejects_an_unknown_access_key()
    {
        var verifier = new SigV4Verifier("us-east-1", ["iam"], _ => null, new FixedClock(new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero)));

        Assert.Equal("UnrecognizedClientException", verifier.Verify(Example()).ErrorCode);
    }
}

internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
