using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RegistryInfra.Testing;
using YamlDotNet.RepresentationModel;

namespace RegistryInfra.Programs.Tests;

/// <summary>
/// The release workflow cannot run here (no GitHub runner, no Pulumi CLI, no registry accounts), so what can be
/// checked without running it is checked: its jobs and their order, that every action is pinned by commit, that its
/// steps call the image script with options the script has, that the plugin embeds the image the index step
/// pushed, and that the SDK steps generate and publish the packages under the names the schema and README give.
/// </summary>
public sealed partial class ReleaseWorkflowTests
{
    private static readonly YamlMappingNode Workflow = Load(Path.Combine(Requirements.RepositoryRoot, ".github", "workflows", "release.yml"));

    private static readonly JsonObject Schema = JsonNode.Parse(File.ReadAllText(RepositoryPrograms.SchemaPath))!.AsObject();

    private static YamlMappingNode Jobs => (YamlMappingNode)Workflow["jobs"];

    [Fact]
    public void Every_job_needs_only_jobs_that_exist_and_the_order_is_image_plugin_sdks_release_then_registries()
    {
        var names = Jobs.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names)
        {
            Assert.All(Needs(name), n => Assert.Contains(n, names));
        }
        Assert.Subset(Needs("plugin").ToHashSet(), new HashSet<string> { "refresher-image-publish" });
        Assert.Subset(Needs("sdks").ToHashSet(), new HashSet<string> { "plugin" });
        Assert.Subset(Needs("publish").ToHashSet(), new HashSet<string> { "refresher-image-publish", "plugin", "sdks" });
        Assert.Subset(Needs("publish-sdks").ToHashSet(), new HashSet<string> { "publish", "sdks" });
        Assert.Subset(Needs("refresher-image").ToHashSet(), new HashSet<string> { "test" });
    }

    [Fact]
    public void Every_action_is_pinned_by_a_full_commit_sha_with_its_version_named()
    {
        var text = File.ReadAllText(Path.Combine(Requirements.RepositoryRoot, ".github", "workflows", "release.yml"));
        var uses = UsesLine().Matches(text).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(uses);
        Assert.All(uses, u => Assert.Matches(@"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$", u));
    }

    [Fact]
    public async Task The_image_is_built_by_the_repository_script_for_amd64_and_arm64_with_options_the_script_has()
    {
        var build = Job("refresher-image");
        var arches = ((YamlSequenceNode)build["strategy"]["matrix"]["include"]).Select(i => ((YamlScalarNode)i["arch"]).Value).Order(StringComparer.Ordinal);
        Assert.Equal(["amd64", "arm64"], arches);
        var script = Path.Combine(Requirements.RepositoryRoot, "programs", "refresher", "image", "build");
        Assert.True(File.Exists(script), script);
        if (!OperatingSystem.IsWindows())
        {
            Assert.True((File.GetUnixFileMode(script) & UnixFileMode.UserExecute) != 0, "the image script must be executable");
        }

        var builds = Runs("refresher-image").Where(r => r.Contains("programs/refresher/image/build", StringComparison.Ordinal)).ToList();
        var index = Runs("refresher-image-publish").Where(r => r.Contains("programs/refresher/image/build --index", StringComparison.Ordinal)).ToList();
        Assert.Single(builds);
        Assert.Single(index);
        Assert.Contains("--arch \"${{ matrix.arch }}\"", builds[0], StringComparison.Ordinal);
        Assert.Contains("--push \"$repository:$GITHUB_REF_NAME\"", index[0], StringComparison.Ordinal);
        // The image's labels name the tagged commit and version; its time stamps are the commit's.
        Assert.Contains("--revision \"$GITHUB_SHA\"", builds[0], StringComparison.Ordinal);
        Assert.Contains("--version \"$VERSION\"", builds[0], StringComparison.Ordinal);
        Assert.Contains("SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)", builds[0], StringComparison.Ordinal);

        // Every option the workflow gives the script is one its usage documents.
        var help = await RefresherImageTests.RunAsync("bash", [script, "--help"]);
        Assert.True(help.Exit == 0, help.Stderr);
        var options = ScriptOption().Matches(Invocation(builds[0]) + " " + Invocation(index[0])).Select(m => m.Value).Distinct().ToList();
        Assert.Contains("--index", options);
        Assert.All(options, o => Assert.Contains(o, help.Stdout, StringComparison.Ordinal));
    }

    [Fact]
    public void The_plugin_carries_the_digest_the_index_step_pushed()
    {
        var publish = Job("refresher-image-publish");
        Assert.Equal("${{ steps.push.outputs.image }}", ((YamlScalarNode)publish["outputs"]["image"]).Value);
        Assert.Contains(Steps("refresher-image-publish"), s => s.Children.TryGetValue(new YamlScalarNode("id"), out var id) && ((YamlScalarNode)id).Value == "push"
            && ((YamlScalarNode)s["run"]).Value!.Contains("echo \"image=$image\" >> \"$GITHUB_OUTPUT\"", StringComparison.Ordinal));

        var package = Steps("plugin").Single(s => s.Children.ContainsKey(new YamlScalarNode("run")) && ((YamlScalarNode)s["run"]).Value!.Contains("provider/release/package", StringComparison.Ordinal));
        Assert.Equal("${{ needs.refresher-image-publish.outputs.image }}", ((YamlScalarNode)package["env"]["REFRESHER_IMAGE"]).Value);
        Assert.Contains("--aot", ((YamlScalarNode)package["run"]).Value!, StringComparison.Ordinal);
        Assert.Contains("--refresher-image \"$REFRESHER_IMAGE\"", ((YamlScalarNode)package["run"]).Value!, StringComparison.Ordinal);
    }

    [Fact]
    public void The_sdks_are_generated_from_the_released_schema_with_the_pulumi_cli_for_the_four_languages()
    {
        var runs = string.Join("\n", Runs("sdks"));
        Assert.Contains("for language in nodejs python go dotnet; do", runs, StringComparison.Ordinal);
        Assert.Contains("pulumi package gen-sdk plugin/schema.json --language \"$language\" --out sdk", runs, StringComparison.Ordinal);
        // The schema that is generated from is the one the plugin runner released (provider/release/package writes it).
        Assert.Contains(Steps("sdks"), s => s.Children.TryGetValue(new YamlScalarNode("with"), out var with)
            && ((YamlMappingNode)with).Children.TryGetValue(new YamlScalarNode("name"), out var name) && ((YamlScalarNode)name).Value == "plugin-linux-amd64");
        Assert.Contains(Steps("sdks"), s => s.Children.TryGetValue(new YamlScalarNode("uses"), out var uses) && ((YamlScalarNode)uses).Value!.StartsWith("pulumi/actions@", StringComparison.Ordinal));
    }

    [Fact]
    public void The_sdk_steps_build_and_publish_the_package_names_the_schema_and_readme_give()
    {
        var language = Schema["language"]!;
        var npm = language["nodejs"]!["packageName"]!.GetValue<string>();
        var pypi = language["python"]!["packageName"]!.GetValue<string>();
        var goImport = language["go"]!["importBasePath"]!.GetValue<string>();
        var goModule = goImport[..goImport.IndexOf("/go/", StringComparison.Ordinal)];
        const string NuGet = "RegistryInfra.Pulumi";
        Assert.Equal(NuGet, language["csharp"]!["rootNamespace"]!.GetValue<string>());

        var build = string.Join("\n", Runs("sdks"));
        Assert.Contains($".name == \"{npm}\"", build, StringComparison.Ordinal);
        Assert.Contains($"dist/{pypi}-*.whl", build, StringComparison.Ordinal);
        Assert.Contains($"module {goModule}\\n", build, StringComparison.Ordinal);
        Assert.Contains($"-p:PackageId={NuGet} ", build, StringComparison.Ordinal);
        Assert.Contains($"nupkg/{NuGet}.$VERSION.nupkg", build, StringComparison.Ordinal);

        var publish = string.Join("\n", Runs("publish-sdks"));
        Assert.Contains("npm publish --access public", publish, StringComparison.Ordinal);
        Assert.Contains("twine upload --non-interactive sdk/python/dist/*", publish, StringComparison.Ordinal);
        Assert.Contains("dotnet nuget push \"nupkg/*.nupkg\"", publish, StringComparison.Ordinal);
        Assert.Contains("git tag \"sdk/v$VERSION\"", publish, StringComparison.Ordinal);
        Assert.Equal("sdk", goModule[(goModule.LastIndexOf('/') + 1)..]);

        // README's installation section names the same four packages.
        var readme = File.ReadAllText(Path.Combine(Requirements.RepositoryRoot, "README.md"));
        var install = readme[readme.IndexOf("## Installation\n", StringComparison.Ordinal)..readme.IndexOf("## Quick start\n", StringComparison.Ordinal)];
        Assert.Contains($"npm install {npm}", install, StringComparison.Ordinal);
        Assert.Contains($"pip install {pypi}", install, StringComparison.Ordinal);
        Assert.Contains($"go get {goModule}@v", install, StringComparison.Ordinal);
        Assert.Contains($"[`{goImport}`]", install, StringComparison.Ordinal);
        Assert.Contains($"dotnet add package {NuGet}", install, StringComparison.Ordinal);
        Assert.Contains($"--server {Schema["pluginDownloadURL"]!.GetValue<string>()}", install, StringComparison.Ordinal);
    }

    [Fact]
    public void The_schema_presents_the_package_with_the_builds_version_and_where_the_release_puts_the_plugin()
    {
        var props = File.ReadAllText(Path.Combine(Requirements.RepositoryRoot, "Directory.Build.props"));
        var version = PropsVersion().Match(props).Groups[1].Value;
        Assert.Equal(version, Schema["version"]!.GetValue<string>());

        // github://api.github.com/OWNER: the engine downloads from OWNER/pulumi-NAME's release vVERSION, which is this
        // repository, where the release workflow attaches pulumi-resource-NAME-vVERSION-OS-ARCH.tar.gz.
        var repository = Schema["repository"]!.GetValue<string>();
        var match = RepositoryUrl().Match(repository);
        Assert.True(match.Success, repository);
        Assert.Equal($"pulumi-{Schema["name"]}", match.Groups[2].Value);
        Assert.Equal($"github://api.github.com/{match.Groups[1].Value}", Schema["pluginDownloadURL"]!.GetValue<string>());
        Assert.StartsWith(repository, Schema["homepage"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(Schema["publisher"]?.GetValue<string>()));
        Assert.Contains("kind/native", Schema["keywords"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.Contains(Schema["keywords"]!.AsArray().Select(k => k!.GetValue<string>()), k => k.StartsWith("category/", StringComparison.Ordinal));

        // The logo is a PNG in this repository (the C# generator downloads it as the NuGet icon).
        var logoPrefix = $"https://raw.githubusercontent.com/{match.Groups[1].Value}/{match.Groups[2].Value}/main/";
        var logo = Schema["logoUrl"]!.GetValue<string>();
        Assert.StartsWith(logoPrefix, logo, StringComparison.Ordinal);
        var file = Path.Combine(Requirements.RepositoryRoot, logo[logoPrefix.Length..]);
        Assert.True(File.Exists(file), file);
        Assert.Equal<byte>([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], File.ReadAllBytes(file)[..8]);
    }

    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlMappingNode Job(string name)
    {
        Assert.True(Jobs.Children.ContainsKey(new YamlScalarNode(name)), $"release.yml has no job {name}");
        return (YamlMappingNode)Jobs[name];
    }

    private static List<string> Needs(string job) => Job(job).Children.TryGetValue(new YamlScalarNode("needs"), out var needs)
        ? needs is YamlSequenceNode list ? [.. list.Select(n => ((YamlScalarNode)n).Value!)] : [((YamlScalarNode)needs).Value!]
        : [];

    private static List<YamlMappingNode> Steps(string job) => [.. ((YamlSequenceNode)Job(job)["steps"]).Cast<YamlMappingNode>()];

    private static List<string> Runs(string job) =>
        [.. Steps(job).Where(s => s.Children.ContainsKey(new YamlScalarNode("run"))).Select(s => ((YamlScalarNode)s["run"]).Value!)];

    /// <summary>The script's command line in a step: from its name to the end of the command (continued lines joined, up to a pipe or the closing parenthesis).</summary>
    private static string Invocation(string run)
    {
        var command = run[run.IndexOf("programs/refresher/image/build", StringComparison.Ordinal)..].Replace("\\\n", " ", StringComparison.Ordinal);
        var end = command.IndexOfAny(['\n', '|', ')']);
        return end < 0 ? command : command[..end];
    }

    [GeneratedRegex(@"^\s*(?:-\s+)?uses:\s+(.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex UsesLine();

    [GeneratedRegex(@"(?<=\s)--[a-z][a-z-]+(?=[\s=])")]
    private static partial Regex ScriptOption();

    [GeneratedRegex(@"<Version>([^<]+)</Version>")]
    private static partial Regex PropsVersion();

    [GeneratedRegex(@"^https://github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9_.-]+)$")]
    private static partial Regex RepositoryUrl();
}
