using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Core.Tests.Credentials;

public sealed class GcpServiceAccountKeySourceTests
{
    // Generating RSA keys is slow on a busy machine: tests that do not verify signatures share one.
    private static readonly RSA SharedKey = RSA.Create(2048);

    internal static string KeyJson(RSA? rsa = null, string tokenUri = "https://oauth2.googleapis.com/token", Action<Dictionary<string, object?>>? edit = null)
    {
        rsa ??= SharedKey;
        var key = new Dictionary<string, object?>
        {
            ["type"] = "service_account",
            ["project_id"] = "demo-project",
            ["private_key_id"] = "0123abcd",
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = "puller@demo-project.iam.gserviceaccount.com",
            ["client_id"] = "1234567890",
            ["token_uri"] = tokenUri,
        };
        edit?.Invoke(key);
        return JsonSerializer.Serialize(key);
    }

    [Fact]
    public async Task Json_key_is_the_password_of_json_key()
    {
        var json = KeyJson();

        var credential = await new GcpServiceAccountKeySource(json).GetCredentialAsync(TestContext.Current.CancellationToken);

        Assert.Equal("_json_key", credential.Username);
        Assert.Equal(json, credential.Password);
        Assert.Null(credential.ExpiresAt);
    }

    [Fact]
    public async Task Base64_form_encodes_the_key()
    {
        var json = KeyJson();

        var credential = await new GcpServiceAccountKeySource(json, base64: true).GetCredentialAsync(TestContext.Current.CancellationToken);

        Assert.Equal("_json_key_base64", credential.Username);
        Assert.Equal(json, Encoding.UTF8.GetString(Convert.FromBase64String(credential.Password)));
    }

    [Theory]
    [InlineData("type", "'type'")]
    [InlineData("client_email", "'client_email'")]
    [InlineData("private_key", "'private_key'")]
    public void A_missing_field_is_named_and_the_key_is_not_echoed(string field, string expected)
    {
        var json = KeyJson(edit: k => k.Remove(field));

        var e = Assert.Throws<RegistryException>(() => new GcpServiceAccountKeySource(json, field: "credentials.gcpServiceAccountKey.key"));

        Assert.Equal(RegistryErrorKind.InvalidInput, e.Kind);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains("credentials.gcpServiceAccountKey.key", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_user_credential_file_is_rejected_by_type()
    {
        var e = Assert.Throws<RegistryException>(() => new GcpServiceAccountKeySource(KeyJson(edit: k => k["type"] = "authorized_user")));

        Assert.Contains("\"authorized_user\", expected \"service_account\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Broken_json_is_rejected_without_quoting_it()
    {
        var json = KeyJson()[..200];

        var e = Assert.Throws<RegistryException>(() => new GcpServiceAccountKeySource(json));

        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("BEGIN", e.ToString(), StringComparison.Ordinal);
        Assert.Null(e.InnerException);
    }

    [Fact]
    public void Description_names_the_service_account()
    {
        var source = new GcpServiceAccountKeySource(KeyJson());

        Assert.Equal("gcp-key(puller@demo-project.iam.gserviceaccount.com)", source.ToString());
        Assert.Equal("demo-project", source.Key.ProjectId);
    }
}
