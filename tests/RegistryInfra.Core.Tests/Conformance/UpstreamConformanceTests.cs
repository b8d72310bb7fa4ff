using System.Globalization;
using System.Text.Json;
using RegistryInfra.Core.Distribution;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Tests.Conformance;

/// <summary>
/// The test tables of the projects whose behaviour the core must match, ported as data
/// (<c>Fixtures/upstream/*.json</c>: each row names the repository, commit, file and test it came from, its
/// input and the upstream result). Each row is run through the core: it agrees, or it carries a
/// <c>differs</c> reason saying why the project decides otherwise on purpose. A disagreement without a
/// reason fails, and so does a reason on a row that agrees (it would hide a later regression).
/// </summary>
public sealed class UpstreamConformanceTests(ITestOutputHelper output)
{
    [Fact]
    public void Distribution_reference_tables() => Run("distribution-reference.json", CheckReference);

    [Fact]
    public void Kubernetes_keyring_tables() => Run("kubernetes-keyring.json", CheckKeyring);

    [Fact]
    public void Ecr_host_tables() => Run("ecr-hosts.json", CheckEcrHost);

    [Fact]
    public void Containerd_platform_tables() => Run("containerd-platforms.json", CheckPlatform);

    [Fact]
    public void Challenge_tables() => Run("challenges.json", CheckChallenge);

    [Fact]
    public void Docker_cli_config_tables() => Run("docker-cli-config.json", CheckDockerCliHostname);

    [Fact]
    public void Containers_image_config_tables() => Run("containers-image-config.json", CheckContainersImageAuth);

    private void Run(string file, Func<JsonElement, string?> check)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "upstream", file)));
        var rows = document.RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(rows);
        var problems = new List<string>();
        foreach (var source in rows.GroupBy(r => $"{Text(r, "repository")} {Text(r, "file")} @{Text(r, "commit")![..12]}"))
        {
            int agree = 0, byDesign = 0;
            foreach (var row in source)
            {
                string? disagreement;
                try
                {
                    disagreement = check(row);
                }
                catch (Exception e) when (e is RegistryException or FormatException or ArgumentException)
                {
                    disagreement = $"threw {e.GetType().Name}: {e.Message}";
                }

                var reason = Text(row, "differs");
                var where = $"{Text(row, "test")} {JsonSerializer.Serialize(Text(row, "input") ?? Text(row, "image") ?? Text(row, "platform") ?? Text(row, "header"))}";
                switch (disagreement, reason)
                {
                    case (null, null):
                        agree++;
                        break;
                    case (null, not null):
                        problems.Add($"{source.Key} {where}: agrees now, but the row says it differs by design ({reason}); remove the reason");
                        break;
                    case (not null, null):
                        problems.Add($"{source.Key} {where}: {disagreement}");
                        break;
                    default:
                        byDesign++;
                        break;
                }
            }

            var count = source.Count();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{source.Key}: rows {count}, agree {agree}, differ by design {byDesign}, unexplained {count - agree - byDesign}"));
        }

        Assert.True(problems.Count == 0, "unexplained disagreements with upstream:\n" + string.Join("\n", problems));
    }

    private static string? Text(JsonElement row, string name) =>
        row.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool Flag(JsonElement row, string name) => row.GetProperty(name).GetBoolean();

    private static bool Flag(JsonElement row, string name, bool absent) => row.TryGetProperty(name, out var value) ? value.GetBoolean() : absent;

    private static string? Compare(string what, string? expected, string? actual) =>
        string.Equals(expected, actual, StringComparison.Ordinal) ? null : $"{what}: upstream \"{expected}\", core \"{actual}\"";

    // distribution/reference: Parse and the regexps split a name without normalising it; the kubelet and
    // containerd read images through ParseNormalizedNamed, as the core does. The upstream domain/path pair is
    // normalised with normalize.go's own rule (splitDockerDomain) before comparing.
    private static (string Domain, string Path) Normalise(string domain, string path)
    {
        var isDomain = domain.Contains('.', StringComparison.Ordinal) || domain.Contains(':', StringComparison.Ordinal)
            || domain == "localhost" || domain.Any(char.IsAsciiLetterUpper);
        if (domain.Length == 0 || !isDomain)
        {
            path = domain.Length == 0 ? path : $"{domain}/{path}";
            domain = RegistryHost.DockerHubName;
        }

        if (domain == RegistryHost.LegacyDockerHubName)
        {
            domain = RegistryHost.DockerHubName;
        }

        if (domain == RegistryHost.DockerHubName && !path.Contains('/', StringComparison.Ordinal))
        {
            path = "library/" + path;
        }

        return (domain, path);
    }

    private static string? CheckParsed(string input, string domain, string path, string? tag = null, string? digest = null)
    {
        if (!ImageReference.TryParse(input, out var reference, out var error))
        {
            return $"upstream accepts, core rejects: {error}";
        }

        var (expectedDomain, expectedPath) = Normalise(domain, path);
        return Compare("domain", expectedDomain, reference.Registry.Spelling)
            ?? Compare("path", expectedPath, reference.Repository)
            ?? (tag is null ? null : Compare("tag", tag.Length == 0 ? null : tag, reference.Tag))
            ?? (digest is null ? null : Compare("digest", digest.Length == 0 ? null : digest, reference.Digest));
    }

    private static string? CheckValidity(string input, bool valid) =>
        ImageReference.TryParse(input, out var reference, out var error) == valid
            ? null
            : valid ? $"upstream accepts, core rejects: {error}" : $"upstream rejects, core accepts as {reference}";

    private static string? CheckReference(JsonElement row)
    {
        var input = Text(row, "input")!;
        switch (Text(row, "test"))
        {
            case "TestReferenceParse":
                if (!Flag(row, "valid"))
                {
                    return CheckValidity(input, false);
                }

                var domain = Text(row, "domain")!;
                var repository = Text(row, "name")!;
                return CheckParsed(input, domain, domain.Length == 0 ? repository : repository[(domain.Length + 1)..], Text(row, "tag"), Text(row, "digest"));
            case "TestDomainAndPath":
                return CheckParsed(input, Text(row, "domain")!, Text(row, "path")!);
            case "TestParseNamed":
                // ParseNamed fails with ErrNameNotCanonical unless the normalised name prints as the input.
                var canonical = Flag(row, "canonical");
                if (!ImageReference.TryParse(input, out var named, out var namedError))
                {
                    return $"core rejects: {namedError}";
                }

                return (named.ToString() == input) == canonical ? null : $"canonical upstream: {canonical}, core prints {named}";
            case "TestValidateReferenceName" or "TestValidateRemoteName":
                return CheckValidity(input, Flag(row, "valid"));
            case "TestParseRepositoryInfo":
                if (!ImageReference.TryParse(input, out var info, out var infoError))
                {
                    return $"upstream accepts, core rejects: {infoError}";
                }

                return Compare("full name", Text(row, "fullName"), info.Name)
                    ?? Compare("familiar name", Text(row, "familiarName"), info.ToFamiliarString())
                    ?? Compare("domain", Text(row, "domain"), info.Registry.Spelling)
                    ?? Compare("path", Text(row, "path"), info.Repository);
            case "TestNormalizedSplitHostname":
                if (!ImageReference.TryParse(input, out var split, out var splitError))
                {
                    return $"upstream accepts, core rejects: {splitError}";
                }

                return Compare("domain", Text(row, "domain"), split.Registry.Spelling) ?? Compare("path", Text(row, "path"), split.Repository);
            case "TestParseDockerRef":
                // ParseDockerRef: normalised, a missing tag is latest, a digest drops the tag.
                var docker = ImageReference.Parse(input);
                var dockerRef = docker.Digest is { } d ? $"{docker.Name}@{d}" : $"{docker.Name}:{docker.Tag ?? ImageReference.DefaultTag}";
                return Compare("docker ref", Text(row, "dockerRef"), dockerRef);
            case "TestDomainRegexp":
                var matches = Flag(row, "match");
                return RegistryHost.TryParseDomain(input, out _, out var hostError) == matches
                    ? null
                    : matches ? $"upstream matches, core rejects: {hostError}" : "upstream does not match, core accepts";
            case "TestFullNameRegexp":
                if (!Flag(row, "match"))
                {
                    return CheckValidity(input, false);
                }

                var subs = row.TryGetProperty("subs", out var s) ? s.EnumerateArray().Select(e => e.GetString()!).ToArray() : [];
                return subs.Length == 2 ? CheckParsed(input, subs[0], subs[1]) : CheckValidity(input, true);
            case "TestReferenceRegexp":
                if (!Flag(row, "match"))
                {
                    return CheckValidity(input, false);
                }

                var parts = row.GetProperty("subs").EnumerateArray().Select(e => e.GetString()!).ToArray();
                if (!ImageReference.TryParse(input, out var full, out var fullError))
                {
                    return $"upstream matches, core rejects: {fullError}";
                }

                var name = ImageReference.Parse(parts[0]);
                return Compare("name", name.Name, full.Name)
                    ?? Compare("tag", parts[1].Length == 0 ? null : parts[1], full.Tag)
                    ?? Compare("digest", parts[2].Length == 0 ? null : parts[2], full.Digest);
            default:
                return $"no check for test {Text(row, "test")}";
        }
    }

    // keyring_test.go calls Lookup with the raw strings it lists; KubeletKeyring takes the image name as the kubelet passes it.
    private static string? CheckKeyring(JsonElement row)
    {
        var image = Text(row, "image")!;
        if (Text(row, "test") == "TestIsDefaultRegistryMatch")
        {
            var expected = Flag(row, "defaultRegistryMatch");
            return KubeletKeyring.IsDefaultRegistryMatch(image) == expected ? null : $"default registry match upstream {expected}";
        }

        var keys = row.GetProperty("keys").EnumerateArray().Select(e => e.GetString()!).ToList();
        var want = row.GetProperty("expected").EnumerateArray().Select(e => e.GetString()!).ToList();
        var got = KubeletKeyring.KeysFor(keys, image);
        return want.SequenceEqual(got, StringComparer.Ordinal)
            ? null
            : $"keys upstream [{string.Join(", ", want)}], core [{string.Join(", ", got)}]";
    }

    private static string? CheckEcrHost(JsonElement row)
    {
        var input = Text(row, "input")!;
        switch (Text(row, "test"))
        {
            case "TestExtractRegistry":
                // ExtractRegistry reads the host of https://INPUT (scheme dropped, path ignored).
                var hostText = input.StartsWith("https://", StringComparison.Ordinal) ? input[8..] : input;
                hostText = hostText.Split('/')[0];
                var parsed = RegistryHost.TryParse(hostText, out var host);
                var kind = parsed ? host!.Kind : RegistryKind.Generic;
                var ecr = row.GetProperty("ecr");
                if (ecr.ValueKind == JsonValueKind.Null)
                {
                    return kind is RegistryKind.EcrPrivate or RegistryKind.EcrPublic ? $"upstream: not ECR, core: {kind}" : null;
                }

                var isPublic = Text(ecr, "service") == "ecr-public";
                if (kind != (isPublic ? RegistryKind.EcrPublic : RegistryKind.EcrPrivate))
                {
                    return $"upstream: {Text(ecr, "service")}, core: {(parsed ? kind.ToString() : "not a host")}";
                }

                return isPublic
                    ? null
                    : Compare("registry id", Text(ecr, "registryId"), host!.Details.AccountId)
                      ?? Compare("region", Text(ecr, "region"), host.Details.Region)
                      ?? (Flag(ecr, "fips") == host.Details.IsFips ? null : "fips differs");
            case "TestRegistryPatternMatch":
                var expected = Flag(row, "privateEcr");
                var isEcr = RegistryHost.TryParse(input, out var patternHost) && patternHost.Kind == RegistryKind.EcrPrivate;
                return isEcr == expected ? null : $"private ECR upstream {expected}, core {isEcr}";
            case "Test_parseRegionFromECRPrivateHost":
                var region = RegistryHost.TryParse(input, out var regionHost) && regionHost.Kind == RegistryKind.EcrPrivate ? regionHost.Details.Region : "";
                return Compare("region", Text(row, "region"), region);
            case "Test_parseHostFromImageReference":
                var imageHost = ImageReference.TryParse(input, out var image) ? image.Registry.Spelling : "";
                return Compare("host", Text(row, "host"), imageHost);
            default:
                return $"no check for test {Text(row, "test")}";
        }
    }

    // compare_test.go TestOnly: Only(platform).Match(candidate), which is what selection ranks.
    private static string? CheckPlatform(JsonElement row) => Text(row, "test") switch
    {
        "TestParseSelector" => CheckPlatformParse(row),
        "TestParseSelectorInvalid" => TryPlatform(Text(row, "input")!, out var accepted, out _) ? $"upstream rejects, core accepts as {accepted}" : null,
        _ => CheckPlatformOnly(row),
    };

    private static bool TryPlatform(string text, out ImagePlatform? platform, out string? error)
    {
        try
        {
            (platform, error) = (ImagePlatform.Parse(text), null);
            return true;
        }
        catch (RegistryException e)
        {
            (platform, error) = (null, e.Message);
            return false;
        }
    }

    // platforms_test.go TestParseSelector: Parse normalises the input to the expected platform, NewMatcher(p) matches
    // each listed spelling (after normalising both, as matcher.Match does), and the formatted text parses back to it.
    // The core's ImagePlatform equality is that normalised comparison.
    private static string? CheckPlatformParse(JsonElement row)
    {
        var input = Text(row, "input")!;
        if (!TryPlatform(input, out var parsed, out var error))
        {
            var filled = Text(row, "default") is { } part ? $" (filling the {part} from the machine it runs on)" : "";
            return $"upstream accepts{filled}, core rejects: {error}";
        }

        if (Text(row, "default") is not null || Flag(row, "formatAll", false))
        {
            return $"upstream fills the {Text(row, "default")} from the machine it runs on, core accepts as {parsed}";
        }

        var variant = Text(row, "variant")!;
        var expected = ImagePlatform.Parse($"{Text(row, "os")}/{Text(row, "architecture")}{(variant.Length == 0 ? "" : "/" + variant)}");
        if (parsed != expected)
        {
            return $"upstream parses to {expected}, core to {parsed}";
        }

        foreach (var match in row.TryGetProperty("matches", out var m) ? m.EnumerateArray().Select(e => e.GetString()!) : [])
        {
            if (ImagePlatform.Parse(match) != parsed)
            {
                return $"upstream matches {match}, core reads it as {ImagePlatform.Parse(match)}, not {parsed}";
            }
        }

        var formatted = Text(row, "formatted")!;
        return ImagePlatform.Parse(formatted) == parsed ? null : $"upstream formats as {formatted}, which the core reads as {ImagePlatform.Parse(formatted)}";
    }

    // docker/cli ConvertToHostname: the host[:port] a credential store files a server address under. The core's
    // counterpart is the key PullSecretKeys writes for a server.
    private static string? CheckDockerCliHostname(JsonElement row)
    {
        var input = Text(row, "input")!;
        return PullSecretKeys.TryFor(input, null, "server", out var keys, out var error)
            ? Compare("key", Text(row, "hostname"), keys.PrimaryKey)
            : $"upstream files it under \"{Text(row, "hostname")}\", core refuses: {error.Message}";
    }

    // containers/image getCredentials(sys, key): which entry of the auth file (the row's fixture keys) serves a
    // registry, repository or image. The core decides as the kubelet does (KubeletKeyring), the reader of pull Secrets,
    // which only ever looks up image names: a registry-only query is asked as an image on that registry ("/app"
    // appended), since keyring.go reads a bare name without '/' as a Docker Hub image (isDefaultRegistryMatch).
    private static string? CheckContainersImageAuth(JsonElement row)
    {
        var auths = row.GetProperty("auths").EnumerateArray().Select(e => e.GetString()!).ToList();
        var input = Text(row, "input")!;
        var image = input.Contains('/', StringComparison.Ordinal) ? input : input + "/app";
        return Compare("entry", Text(row, "key"), KubeletKeyring.KeysFor(auths, image) is [var first, ..] ? first : null);
    }

    private static string? CheckPlatformOnly(JsonElement row)
    {
        var platform = ImagePlatform.Parse(Text(row, "platform")!);
        var candidate = ImagePlatform.Parse(Text(row, "candidate")!);
        var expected = Flag(row, "match");
        return platform.Runs(candidate) == expected ? null : $"match upstream {expected}, core {!expected}";
    }

    private static string? CheckChallenge(JsonElement row)
    {
        var header = Text(row, "header")!;
        var want = row.GetProperty("challenges").EnumerateArray().Select(c => (
            Scheme: Text(c, "scheme")!,
            Parameters: c.GetProperty("parameters").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal))).ToList();
        var got = AuthenticationChallenge.Parse(header);
        if (want.Count != got.Count)
        {
            return $"{want.Count} challenges upstream, {got.Count} in core";
        }

        for (var i = 0; i < want.Count; i++)
        {
            if (!string.Equals(want[i].Scheme, got[i].Scheme, StringComparison.OrdinalIgnoreCase))
            {
                return $"challenge {i}: scheme upstream \"{want[i].Scheme}\", core \"{got[i].Scheme}\"";
            }

            foreach (var (name, value) in want[i].Parameters)
            {
                if (!got[i].Parameters.TryGetValue(name, out var actual) || actual != value)
                {
                    return $"challenge {i}: parameter {name} upstream \"{value}\", core \"{actual}\"";
                }
            }

            if (got[i].Parameters.Count != want[i].Parameters.Count)
            {
                return $"challenge {i}: {want[i].Parameters.Count} parameters upstream, {got[i].Parameters.Count} in core";
            }
        }

        return null;
    }
}
