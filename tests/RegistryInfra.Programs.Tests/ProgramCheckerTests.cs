namespace RegistryInfra.Programs.Tests;

public sealed class ProgramCheckerTests
{
    private static readonly ProgramChecker Checker =
        ProgramChecker.FromFile(Path.Combine(AppContext.BaseDirectory, "Fixtures", "schema.json"));

    private const string Valid = """
        name: demo
        runtime: yaml
        config:
          registryPassword:
            type: string
            secret: true
        resources:
          profile:
            type: registryinfra:index:RegistryProfile
            properties:
              server: registry.example.com
              username: robot
              password: ${registryPassword}
              validate: false
              images: [registry.example.com/team/app:1.0, "${other}"]
              kind: Generic
              ecr:
                region: eu-west-1
              labels:
                team: platform
              timeoutSeconds: 30
          fromSecret:
            type: registryinfra:index:RegistryProfile
            properties:
              server: ghcr.io
              password:
                fn::secret: not-a-real-token
          other:
            type: kubernetes:core/v1:Namespace
            properties:
              anything: goes
        variables:
          image:
            fn::invoke:
              function: registryinfra:index:getImage
              arguments:
                image: registry.example.com/team/app:1.0
              return: pinned
        """;

    [Fact]
    public void A_valid_program_has_no_problems_and_counts_what_it_checked()
    {
        var result = Checker.Check("Pulumi.yaml", Valid);

        Assert.Empty(result.Problems);
        Assert.Equal(2, result.PackageResources);
        Assert.Equal(1, result.PackageCalls);
    }

    [Theory]
    [InlineData("username: robot", "usrname: robot", "resource 'profile' (registryinfra:index:RegistryProfile): property 'usrname' is not an input of registryinfra:index:RegistryProfile (did you mean 'username'?)")]
    [InlineData("server: registry.example.com\n      username: robot", "username: robot", "resource 'profile' (registryinfra:index:RegistryProfile): required property 'server' is missing")]
    [InlineData("validate: false", "validate: [false]", "resource 'profile' (registryinfra:index:RegistryProfile): property 'validate': expected true or false, got a list")]
    [InlineData("timeoutSeconds: 30", "timeoutSeconds: 2.5", "property 'timeoutSeconds': expected an integer, got '2.5'")]
    [InlineData("timeoutSeconds: 30", "timeoutSeconds: soon", "property 'timeoutSeconds': expected an integer, got a string")]
    [InlineData("kind: Generic", "kind: Harbour", "property 'kind': 'Harbour' is not one of 'DockerHub', 'Ecr', 'Generic'")]
    [InlineData("region: eu-west-1", "regoin: eu-west-1", "property 'ecr': property 'regoin' is not an input of registryinfra:index:EcrSource (did you mean 'region'?)")]
    [InlineData("team: platform", "team: [platform]", "property 'labels'.team: expected a string, got a list")]
    [InlineData("images: [registry.example.com/team/app:1.0, \"${other}\"]", "images: registry.example.com/team/app:1.0", "property 'images': expected a list, got a string")]
    [InlineData("type: registryinfra:index:RegistryProfile\n    properties:\n      server: registry", "type: registryinfra:index:RegistryProfil\n    properties:\n      server: registry", "the package has no resource 'registryinfra:index:RegistryProfil' (did you mean 'registryinfra:index:RegistryProfile'?)")]
    [InlineData("return: pinned", "return: pined", "call of registryinfra:index:getImage: 'return: pined' is not an output of registryinfra:index:getImage (did you mean 'pinned'?)")]
    [InlineData("image: registry.example.com/team/app:1.0\n      return", "platform: linux/amd64\n      return", "call of registryinfra:index:getImage: required property 'image' is missing")]
    [InlineData("fn::secret: not-a-real-token", "fn::secret: [1]", "resource 'fromSecret' (registryinfra:index:RegistryProfile): property 'password': expected a string, got a list")]
    public void A_broken_program_fails_with_a_message_naming_the_resource_and_property(string original, string broken, string expected)
    {
        var program = Valid.Replace(original, broken, StringComparison.Ordinal);
        Assert.NotEqual(Valid, program);

        var problems = Checker.Check("Pulumi.yaml", program).Problems;

        var problem = Assert.Single(problems, p => p.Message.Contains(expected, StringComparison.Ordinal));
        Assert.Equal("Pulumi.yaml", problem.File);
        Assert.True(problem.Line > 1, problem.ToString());
    }

    [Fact]
    public void Resources_of_other_packages_are_not_checked()
    {
        var result = Checker.Check("Pulumi.yaml", """
            resources:
              ns:
                type: kubernetes:core/v1:Namespace
                properties: { whatever: 1 }
            """);

        Assert.Empty(result.Problems);
        Assert.Equal(0, result.PackageResources);
    }

    [Fact]
    public void Invalid_yaml_is_reported_with_its_position()
    {
        var problem = Assert.Single(Checker.Check("Pulumi.yaml", "resources:\n  a: [unclosed\n").Problems);

        Assert.StartsWith("not valid YAML", problem.Message, StringComparison.Ordinal);
    }
}
