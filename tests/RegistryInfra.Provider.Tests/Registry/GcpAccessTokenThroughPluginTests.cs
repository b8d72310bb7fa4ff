using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Provider.Resources.RegistryProfile;
using RegistryInfra.Testing;
using RegistryInfra.Testing.Google;
using RegistryInfra.Testing.Plugin;

namespace RegistryInfra.Provider.Tests.Registry;

/// <summary>Changes the process environment (the token-endpoint allowance): not run beside other tests.</summary>
[CollectionDefinition(nameof(GcpTokenEnvironment), DisableParallelization = true)]
public sealed class GcpTokenEnvironment;

/// <summary>
/// RegistryProfile <c>gcpAccessToken.serviceAccountKey</c> validated in Check, in process and in the shipped NativeAOT
/// plugin, with the same result: the key's <c>token_uri</c> is a fake Google token endpoint on 127.0.0.1 (allowed
/// explicitly with <see cref="GcpTokenEndpoints.AllowEnvironmentVariable"/>) that verifies the RS256 assertion, and the
/// registry is a stub that accepts only <c>oauth2accesstoken</c> with a token that endpoint issued. The key is given
/// as <c>serviceAccountKey</c>, or found by Application Default Credentials through <c>GOOGLE_APPLICATION_CREDENTIALS</c>.
/// </summary>
[Collection(nameof(GcpTokenEnvironment))]
public sealed class GcpAccessTokenThroughPluginTests
{
    private const string Type = RegistryProfileResource.Token;
    private const string Email = "puller@demo-project.iam.gserviceaccount.com";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Service_account_key_gets_a_token_that_the_registry_accepts(bool plugin, bool applicationDefault)
    {
        using var rsa = RSA.Create(2048);
        var verifier = RSA.Create();
        verifier.ImportSubjectPublicKeyInfo(rsa.ExportSubjectPublicKeyInfo(), out _);
        await using var oauth = await FakeGoogleOAuth.StartAsync(verifier, Email, cancellationToken: Ct);
        var seen = new ConcurrentQueue<string>();
        await using var registry = await LoopbackHttpServer.StartAsync(context => Registry(context, oauth, seen), Ct);
        var key = FakeGoogleOAuth.ServiceAccountKeyJson(rsa, Email, oauth.TokenUri.ToString());
        var keyFile = Path.Combine(Path.GetTempPath(), $"registryinfra-adc-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(keyFile, key, Ct);
        var news = new Dictionary<string, PropertyValue>
        {
            ["server"] = PropertyValue.Create(registry.BaseAddress.Authority),
            ["insecure"] = PropertyValue.Create(true),
            // Application Default Credentials: the same key, named by GOOGLE_APPLICATION_CREDENTIALS.
            ["gcpAccessToken"] = PropertyValue.CreateObject(applicationDefault
                ? new Dictionary<string, PropertyValue>()
                : new Dictionary<string, PropertyValue> { ["serviceAccountKey"] = PropertyValue.CreateSecret(PropertyValue.Create(key)) }),
        };
        var environment = new Dictionary<string, string> { [GcpTokenEndpoints.AllowEnvironmentVariable] = oauth.TokenUri.ToString() };
        if (applicationDefault)
        {
            environment["GOOGLE_APPLICATION_CREDENTIALS"] = keyFile;
        }

        CheckResponse check;
        try
        {
            check = await CheckAsync(plugin, environment, news);
        }
        finally
        {
            File.Delete(keyFile);
        }

        Assert.Empty(check.Failures.Select(f => $"{f.Property}: {f.Reason}"));
        var request = Assert.Single(oauth.Requests);
        Assert.Equal("urn:ietf:params:oauth:grant-type:jwt-bearer", request.GrantType);
        Assert.True(request.SignatureValid, request.Rejected);
        Assert.Equal(GcpAccessTokenSource.CloudPlatformScope, request.Scope);
        Assert.Contains("oauth2accesstoken:" + oauth.IssuedTokens.Single(), seen);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_token_uri_off_googleapis_is_refused_in_check_without_a_request(bool plugin)
    {
        using var rsa = RSA.Create(2048);
        var verifier = RSA.Create();
        verifier.ImportSubjectPublicKeyInfo(rsa.ExportSubjectPublicKeyInfo(), out _);
        await using var oauth = await FakeGoogleOAuth.StartAsync(verifier, Email, cancellationToken: Ct);
        var news = new Dictionary<string, PropertyValue>
        {
            ["server"] = PropertyValue.Create("europe-docker.pkg.dev"),
            ["gcpAccessToken"] = PropertyValue.CreateObject(new Dictionary<string, PropertyValue>
            {
                ["serviceAccountKey"] = PropertyValue.CreateSecret(PropertyValue.Create(FakeGoogleOAuth.ServiceAccountKeyJson(rsa, Email, oauth.TokenUri.ToString()))),
            }),
        };

        var check = await CheckAsync(plugin, new Dictionary<string, string>(), news);

        var failure = Assert.Single(check.Failures);
        Assert.Equal("gcpAccessToken.serviceAccountKey", failure.Property);
        Assert.Contains("'token_uri'", failure.Reason, StringComparison.Ordinal);
        Assert.Contains(GcpTokenEndpoints.AllowEnvironmentVariable, failure.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", failure.Reason, StringComparison.Ordinal);
        Assert.Empty(oauth.Requests);
    }

    private static async Task<CheckResponse> CheckAsync(bool plugin, IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, PropertyValue> news)
    {
        var request = new CheckRequest("urn:pulumi:test::project::" + Type + "::gcp", Type, "gcp", ImmutableDictionary<string, PropertyValue>.Empty, news, []);
        if (plugin)
        {
            // The shipped plugin, with the allowance in its own environment only.
            await using var process = await PluginProcess.StartAsync(PluginBinary.Path, Ct, environment);
            return await process.Provider.CheckAsync(request, Ct);
        }
        string[] names = [GcpTokenEndpoints.AllowEnvironmentVariable, "GOOGLE_APPLICATION_CREDENTIALS"];
        var saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        foreach (var name in names)
        {
            Environment.SetEnvironmentVariable(name, environment.GetValueOrDefault(name));
        }
        try
        {
            return await RegistryInfraPackage.CreateProvider().CheckAsync(request, Ct);
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    /// <summary>A distribution registry's <c>/v2/</c> that takes Basic <c>oauth2accesstoken</c> with a token the fake issued.</summary>
    private static Task Registry(HttpContext context, FakeGoogleOAuth oauth, ConcurrentQueue<string> seen)
    {
        context.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
            seen.Enqueue(pair);
            if (pair.StartsWith("oauth2accesstoken:", StringComparison.Ordinal) && oauth.IssuedTokens.Contains(pair["oauth2accesstoken:".Length..]))
            {
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync("{}", context.RequestAborted);
            }
        }
        context.Response.StatusCode = 401;
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"gcp-stub\"";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { errors = new[] { new { code = "UNAUTHORIZED", message = "authentication required" } } }), context.RequestAborted);
    }
}
