using System.Collections.Concurrent;
using System.Globalization;
using System.Security;
using Microsoft.AspNetCore.Http;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Aws;

namespace RegistryInfra.Core.Tests.Credentials;

[CollectionDefinition(nameof(ProcessEnvironment), DisableParallelization = true)]
public sealed class ProcessEnvironment;

/// <summary>
/// The ECR source with no explicit credentials, so AWSSDK.Core's default chain finds them: environment
/// keys, IRSA web identity (STS through AWSSDK.SecurityToken, sent to a loopback STS via
/// AWS_ENDPOINT_URL_STS) and EKS Pod Identity (the container credentials endpoint on loopback, which the
/// SDK allows over plain HTTP). These tests change process environment variables, so they run alone.
/// </summary>
[Collection(nameof(ProcessEnvironment))]
public sealed class EcrCredentialChainTests : IAsyncLifetime
{
    private static readonly string[] Variables =
    [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_EC2_METADATA_DISABLED",
    ];

    private readonly Dictionary<string, string?> _saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
    private readonly string _dir = Directory.CreateTempSubdirectory("registryinfra-aws-").FullName;
    private FakeEcr _ecr = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        foreach (var variable in Variables)
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
        // Keep the machine's own profile and instance metadata out of the chain.
        Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", Path.Combine(_dir, "no-credentials"));
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", Path.Combine(_dir, "no-config"));
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        Environment.SetEnvironmentVariable("AWS_REGION", "eu-west-1");
        _ecr = await FakeEcr.StartAsync(cancellationToken: Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _ecr.DisposeAsync();
        foreach (var (variable, value) in _saved)
        {
            Environment.SetEnvironmentVariable(variable, value);
        }
        Directory.Delete(_dir, recursive: true);
    }

    private EcrCredentialSource ChainSource() => new(_ecr.Region, "123456789012", credentials: null, endpoint: _ecr.Endpoint, timeout: TimeSpan.FromSeconds(20));

    [Fact]
    public async Task Keys_from_environment_variables()
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", _ecr.AccessKeyId);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", _ecr.SecretAccessKey);

        var credential = await ChainSource().GetCredentialAsync(Ct);

        Assert.Equal(_ecr.IssuedPasswords.Single(), credential.Password);
        Assert.Equal(_ecr.AccessKeyId, _ecr.Requests.Single().AccessKeyId);
    }

    [Fact]
    public async Task Web_identity_as_set_up_by_IRSA()
    {
        var stsCalls = new ConcurrentQueue<IFormCollection>();
        await using var sts = await LoopbackHttpServer.StartAsync(async context =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            stsCalls.Enqueue(form);
            if (form["Action"] != "AssumeRoleWithWebIdentity" || form["WebIdentityToken"] != "projected-sa-token")
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsync(StsError("InvalidIdentityToken"), context.RequestAborted);
                return;
            }
            context.Response.ContentType = "text/xml";
            await context.Response.WriteAsync(StsResponse("ASIAWEBIDENTITY", "web-identity-secret", "web-identity-session", DateTimeOffset.UtcNow.AddHours(1)), context.RequestAborted);
        }, Ct);
        _ecr.AddCredentials("ASIAWEBIDENTITY", "web-identity-secret", "web-identity-session");
        var tokenFile = Path.Combine(_dir, "token");
        await File.WriteAllTextAsync(tokenFile, "projected-sa-token", Ct);
        Environment.SetEnvironmentVariable("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/puller");
        Environment.SetEnvironmentVariable("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile);
        Environment.SetEnvironmentVariable("AWS_ROLE_SESSION_NAME", "refresher");
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_STS", sts.BaseAddress.ToString());

        var credential = await ChainSource().GetCredentialAsync(Ct);

        var call = Assert.Single(stsCalls);
        Assert.Equal("arn:aws:iam::123456789012:role/puller", call["RoleArn"]);
        Assert.Equal("ASIAWEBIDENTITY", _ecr.Requests.Single().AccessKeyId);
        Assert.True(_ecr.Requests.Single().SignatureValid);
        Assert.Equal(_ecr.IssuedPasswords.Single(), credential.Password);
    }

    [Fact]
    public async Task Pod_identity_container_endpoint_with_its_authorization_token_file()
    {
        var authorizations = new ConcurrentQueue<string>();
        await using var agent = await LoopbackHttpServer.StartAsync(async context =>
        {
            authorizations.Enqueue(context.Request.Headers.Authorization.ToString());
            if (context.Request.Headers.Authorization != "pod-identity-token")
            {
                context.Response.StatusCode = 401;
                return;
            }
            context.Response.ContentType = "application/json";
            var expiration = DateTimeOffset.UtcNow.AddHours(6).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            await context.Response.WriteAsync(
                $$"""{"AccessKeyId":"ASIAPODIDENTITY","SecretAccessKey":"pod-identity-secret","Token":"pod-identity-session","AccountId":"123456789012","Expiration":"{{expiration}}"}""",
                context.RequestAborted);
        }, Ct);
        _ecr.AddCredentials("ASIAPODIDENTITY", "pod-identity-secret", "pod-identity-session");
        var tokenFile = Path.Combine(_dir, "eks-pod-identity-token");
        await File.WriteAllTextAsync(tokenFile, "pod-identity-token", Ct);
        Environment.SetEnvironmentVariable("AWS_CONTAINER_CREDENTIALS_FULL_URI", new Uri(agent.BaseAddress, "v1/credentials").ToString());
        Environment.SetEnvironmentVariable("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenFile);

        var credential = await ChainSource().GetCredentialAsync(Ct);

        Assert.Contains("pod-identity-token", authorizations);
        Assert.Equal("ASIAPODIDENTITY", _ecr.Requests.Single().AccessKeyId);
        Assert.Equal(_ecr.IssuedPasswords.Single(), credential.Password);
    }

    [Fact]
    public async Task No_credentials_anywhere_is_a_credential_source_error()
    {
        var e = await Assert.ThrowsAsync<RegistryException>(async () => await ChainSource().GetCredentialAsync(Ct));

        Assert.Equal(RegistryErrorKind.CredentialSource, e.Kind);
        Assert.Empty(_ecr.Requests);
    }

    private static string StsResponse(string accessKeyId, string secret, string sessionToken, DateTimeOffset expiration) => $"""
        <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleWithWebIdentityResult>
            <SubjectFromWebIdentityToken>system:serviceaccount:registryinfra:refresher</SubjectFromWebIdentityToken>
            <Audience>sts.amazonaws.com</Audience>
            <AssumedRoleUser>
              <Arn>arn:aws:sts::123456789012:assumed-role/puller/refresher</Arn>
              <AssumedRoleId>AROAEXAMPLE:refresher</AssumedRoleId>
            </AssumedRoleUser>
            <Credentials>
              <SessionToken>{SecurityElement.Escape(sessionToken)}</SessionToken>
              <SecretAccessKey>{SecurityElement.Escape(secret)}</SecretAccessKey>
              <Expiration>{expiration.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}</Expiration>
              <AccessKeyId>{accessKeyId}</AccessKeyId>
            </Credentials>
            <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE</Provider>
          </AssumeRoleWithWebIdentityResult>
          <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000001</RequestId></ResponseMetadata>
        </AssumeRoleWithWebIdentityResponse>
        """;

    private static string StsError(string code) => $"""
        <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <Error><Type>Sender</Type><Code>{code}</Code><Message>refused</Message></Error>
          <RequestId>00000000-0000-0000-0000-000000000002</RequestId>
        </ErrorResponse>
        """;
}
