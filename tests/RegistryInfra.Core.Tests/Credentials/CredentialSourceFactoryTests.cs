using RegistryInfra.Core.Credentials;

namespace RegistryInfra.Core.Tests.Credentials;

public sealed class CredentialSourceFactoryTests
{
    [Theory]
    [InlineData("""{"static":{"username":"u","password":"p"}}""", typeof(StaticCredentialSource), "static(u)")]
    [InlineData("""{"static":{"token":"ghp_x"}}""", typeof(StaticCredentialSource), "static(token)")]
    [InlineData("""{"ecr":{"region":"eu-west-1","accountId":"123456789012"}}""", typeof(EcrCredentialSource), "ecr(123456789012, eu-west-1)")]
    [InlineData("""{"ecr":{"public":true}}""", typeof(EcrCredentialSource), "ecr-public(us-east-1)")]
    [InlineData("""{"gcpAccessToken":{}}""", typeof(GcpAccessTokenSource), "gcp-token(application-default)")]
    [InlineData("""{"acr":{"registry":"r.azurecr.io","tenantId":"72f988bf-86f1-41af-91ab-2d7cd011db47"}}""", typeof(AcrCredentialSource), "acr(r.azurecr.io)")]
    [InlineData("""{"credentialHelper":{"helper":"ecr-login","serverUrl":"x.io"}}""", typeof(DockerCredentialHelperSource), "credential-helper(docker-credential-ecr-login, x.io)")]
    [InlineData("""{"exec":{"command":["/bin/get-creds","--registry","x"],"lifetimeSeconds":3600}}""", typeof(ExecCredentialSource), "exec(get-creds)")]
    public void Each_kind_builds_its_source(string json, Type type, string description)
    {
        var source = CredentialSourceFactory.Create(CredentialSourceSpec.FromJson(json));

        Assert.IsType(type, source);
        Assert.Equal(description, source.Description);
    }

    [Theory]
    [InlineData("https://vpce-1.api.ecr.eu-west-1.vpce.amazonaws.com")]
    [InlineData("http://127.0.0.1:4566")]
    [InlineData("http://[::1]:4566")]
    public void An_ecr_endpoint_is_https_or_loopback_http(string endpoint)
    {
        var source = CredentialSourceFactory.Create(new CredentialSourceSpec { Ecr = new EcrCredentialSpec { Region = "eu-west-1", Endpoint = endpoint } });

        Assert.IsType<EcrCredentialSource>(source);
    }

    [Fact]
    public void A_service_account_key_spec_builds_the_json_key_source()
    {
        var spec = new CredentialSourceSpec { GcpServiceAccountKey = new GcpServiceAccountKeySpec { Key = GcpServiceAccountKeySourceTests.KeyJson(), Base64 = true } };

        var source = Assert.IsType<GcpServiceAccountKeySource>(CredentialSourceFactory.Create(CredentialSourceSpec.FromJson(spec.ToJson())));

        Assert.Equal("puller@demo-project.iam.gserviceaccount.com", source.Key.ClientEmail);
    }

    [Theory]
    [InlineData("{}", "credentials: exactly one of 'static', 'gcpServiceAccountKey', 'ecr'")]
    [InlineData("""{"static":{"username":"u","password":"p"},"ecr":{"region":"eu-west-1"}}""", "got 'static' and 'ecr'")]
    [InlineData("""{"static":{"username":"u"}}""", "credentials.static.password: is required with a username (or set 'token')")]
    [InlineData("""{"static":{"password":"p","token":"t"}}""", "credentials.static: set either 'password' or 'token'")]
    [InlineData("""{"ecr":{}}""", "credentials.ecr.region: is required")]
    [InlineData("""{"ecr":{"region":"Europe"}}""", "credentials.ecr.region: must be an AWS region")]
    [InlineData("""{"ecr":{"region":"eu-west-1","secretAccessKey":"s3cr3t"}}""", "credentials.ecr.accessKeyId: is required")]
    [InlineData("""{"ecr":{"region":"eu-west-1","endpoint":"http://vpce.example.com"}}""", "credentials.ecr.endpoint: must be an absolute https:// URL")]
    [InlineData("""{"ecr":{"region":"eu-west-1","endpoint":"https://user:s3cr3t@vpce.example.com"}}""", "credentials.ecr.endpoint: must be an absolute https:// URL without user information")]
    [InlineData("""{"ecr":{"region":"eu-west-1","endpoint":"vpce.example.com"}}""", "credentials.ecr.endpoint: must be an absolute https:// URL")]
    [InlineData("""{"gcpServiceAccountKey":{"key":"{\"type\":\"service_account\"}"}}""", "credentials.gcpServiceAccountKey.key: the service-account key has no 'client_email'")]
    [InlineData("""{"acr":{}}""", "credentials.acr.registry: is required")]
    [InlineData("""{"credentialHelper":{"helper":"ecr-login"}}""", "credentials.credentialHelper.serverUrl: is required")]
    [InlineData("""{"exec":{"command":[]}}""", "credentials.exec.command: must list")]
    [InlineData("""{"exec":{"command":["x"],"timeoutSeconds":-1}}""", "credentials.exec.timeoutSeconds: must be a whole number of seconds from 1 to 3600")]
    public void Invalid_specs_name_the_field(string json, string expected)
    {
        var e = Assert.Throws<RegistryException>(() => CredentialSourceFactory.Create(CredentialSourceSpec.FromJson(json)));

        Assert.Equal(RegistryErrorKind.InvalidInput, e.Kind);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"static":{"username":"a\nb","password":"p"}}""", "credentials.static.username", "control characters")]
    [InlineData("""{"static":{"username":"a\u0000b","password":"p"}}""", "credentials.static.username", "control characters")]
    [InlineData("""{"static":{"username":"a:b","password":"p"}}""", "credentials.static.username", "must not contain ':'")]
    [InlineData("""{"exec":{"command":["x"],"timeoutSeconds":0.5}}""", "credentials.exec.timeoutSeconds", "whole number of seconds")]
    [InlineData("""{"credentialHelper":{"helper":"ecr-login","serverUrl":"x.io","timeoutSeconds":1.5}}""", "credentials.credentialHelper.timeoutSeconds", "whole number of seconds")]
    [InlineData("""{"exec":{"command":[" "]}}""", "credentials.exec.command[0]", "is required")]
    [InlineData("""{"acr":{"registry":"r.azurecr.io","tenantId":"not-a-guid"}}""", "credentials.acr.tenantId", "a GUID")]
    [InlineData("""{"acr":{"registry":"r.azurecr.io","clientId":"x"}}""", "credentials.acr.clientId", "a GUID")]
    [InlineData("""{"acr":{"registry":"r.azurecr.io","scope":"not a url"}}""", "credentials.acr.scope", "Entra scope URL")]
    [InlineData("""{"ecr":{"region":"eu-west-1","accountId":"12"}}""", "credentials.ecr.accountId", "12 digits")]
    public void Failures_carry_a_typed_field_path_and_reason(string json, string field, string reason)
    {
        var e = Assert.Throws<RegistryException>(() => CredentialSourceFactory.Create(CredentialSourceSpec.FromJson(json)));

        Assert.Equal(field, e.Field);
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
        Assert.Equal($"{field}: {e.Reason}", e.Message);
    }

    [Fact]
    public void A_user_name_of_a_megabyte_is_refused_by_its_length_without_being_quoted()
    {
        var spec = new StaticCredentialSpec { Username = new string('u', 1 << 20), Password = "p" };

        var e = Assert.Throws<RegistryException>(() => CredentialSourceFactory.Create(spec, new CredentialSourceContext(), ""));

        Assert.Equal("username", e.Field);
        Assert.True(e.Message.Length < 200, e.Message);
    }

    [Fact]
    public void A_tenant_may_be_named_by_its_verified_domain()
    {
        var source = CredentialSourceFactory.Create(new AcrCredentialSpec { Registry = "r.azurecr.io", TenantId = "contoso.onmicrosoft.com" }, new CredentialSourceContext(), "acr");

        Assert.IsType<AcrCredentialSource>(source);
    }

    [Fact]
    public void Each_set_member_is_the_spec_of_its_kind_in_the_kind_table()
    {
        ICredentialSpec[] specs = [new StaticCredentialSpec(), new GcpServiceAccountKeySpec(), new EcrCredentialSpec(), new GcpAccessTokenSpec(),
            new AcrCredentialSpec(), new CredentialHelperSpec(), new ExecCredentialSpec()];

        Assert.Equal(CredentialKinds.All.Select(k => k.Name), specs.Select(s => s.Kind));
        Assert.All(specs, s => Assert.Equal(s.Kind, CredentialSourceSpec.Of(s).Kind));
        // Only the fixed values a user gives are static: Pulumi can own them in a pull Secret.
        Assert.Equal(["static", "gcpServiceAccountKey"], CredentialKinds.All.Where(k => !k.TokenBased).Select(k => k.Name));
    }

    [Fact]
    public void Unknown_members_and_bad_json_are_refused_with_their_path()
    {
        var unknown = Assert.Throws<RegistryException>(() => CredentialSourceSpec.FromJson("""{"ecr":{"regoin":"eu-west-1"}}"""));
        var broken = Assert.Throws<RegistryException>(() => CredentialSourceSpec.FromJson("""{"static":{"password":"hunter2"""));

        Assert.Contains("$.ecr", unknown.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_context_server_is_the_default_helper_url()
    {
        var spec = CredentialSourceSpec.FromJson("""{"credentialHelper":{"helper":"gcloud"}}""");

        var source = CredentialSourceFactory.Create(spec, new CredentialSourceContext { Server = "europe-docker.pkg.dev", Field = "profiles[0].credentials" });

        Assert.Equal("credential-helper(docker-credential-gcloud, europe-docker.pkg.dev)", source.Description);
    }

    [Fact]
    public void Specs_round_trip_through_json_and_never_show_secrets_in_ToString()
    {
        var spec = new CredentialSourceSpec
        {
            Ecr = new EcrCredentialSpec { Region = "eu-west-1", AccessKeyId = "AKIDEXAMPLE", SecretAccessKey = "secret-key-value", SessionToken = "session-token-value" },
        };

        var json = spec.ToJson();
        var back = CredentialSourceSpec.FromJson(json);

        Assert.Equal("""{"ecr":{"region":"eu-west-1","public":false,"fips":false,"accessKeyId":"AKIDEXAMPLE","secretAccessKey":"secret-key-value","sessionToken":"session-token-value"}}""", json);
        Assert.Equal(spec, back);
        Assert.Equal("ecr", back.Kind);
        foreach (var text in new[] { spec.ToString(), new CredentialSourceSpec { Static = new StaticCredentialSpec { Username = "u", Password = "secret-key-value" } }.ToString(),
                     new CredentialSourceSpec { GcpServiceAccountKey = new GcpServiceAccountKeySpec { Key = "secret-key-value" } }.ToString(),
                     new CredentialSourceSpec { GcpAccessToken = new GcpAccessTokenSpec { ServiceAccountKey = "secret-key-value" } }.ToString() })
        {
            Assert.DoesNotContain("secret-key-value", text, StringComparison.Ordinal);
            Assert.DoesNotContain("session-token-value", text, StringComparison.Ordinal);
        }
        Assert.Contains("AKIDEXAMPLE", spec.ToString(), StringComparison.Ordinal);
    }
}
