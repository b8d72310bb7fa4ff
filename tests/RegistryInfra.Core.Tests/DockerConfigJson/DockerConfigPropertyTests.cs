using CsCheck;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Tests.DockerConfigJson;

/// <summary>Serialise → parse → serialise and merge properties over generated documents.</summary>
public sealed class DockerConfigPropertyTests
{
    private static readonly Gen<string> Secret = Gen.Frequency(
        (3, Gen.Char["abcXYZ019:+/=\"\\ é€\u00a0"].Array[0, 24].Select(c => new string(c))),
        (1, Gen.String.Where(IsValidUnicode)));

    private static bool IsValidUnicode(string text) => text.EnumerateRunes().All(r => r != System.Text.Rune.ReplacementChar) && !text.Contains('\uFFFD', StringComparison.Ordinal);

    private static readonly Gen<string> Username = Gen.Char["abcdefXYZ0189-_.@é"].Array[0, 12].Select(c => new string(c));

    private static readonly Gen<string> Key = Gen.Select(
        Gen.OneOf("ghcr.io", "docker.io", "https://index.docker.io/v1/", "registry.example.com", "http://registry.example.com/",
            "registry.example.com:5000", "localhost:5000", "[::1]:5000", "quay.io", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        Gen.OneOf("", "/team", "/team/app", "/te", "/v1/"),
        (host, path) => host.EndsWith('/') ? host.TrimEnd('/') + path : host + path);

    private static readonly Gen<DockerConfigEntry> Entry = Gen.Select(
        Key, Username, Secret, Secret.Null(0.7), Gen.Char["abc@."].Array[1, 8].Select(c => new string(c)).Null(0.8),
        (key, user, password, identityToken, email) =>
            DockerConfigEntry.Create(key, new RegistryCredential(user, password, IdentityToken: identityToken), email));

    private static readonly Gen<string> ExtraJson = Gen.OneOf(
        """{"credsStore":"desktop"}""",
        """{"credHelpers":{"gcr.io":"gcloud","public.ecr.aws":"ecr-login"},"HttpHeaders":{"X-Meta":"v"}}""",
        """{"experimental":"enabled","n":[1,2.0,-3e5,{"z":null,"a":true}]}""",
        "{}");

    private static readonly Gen<DockerConfig> Config = Gen.Select(ExtraJson, Entry.Array[0, 6],
        (extra, entries) => DockerConfig.Parse(extra).Merge(entries));

    [Fact]
    public void Serialise_parse_serialise_is_the_identity()
    {
        Config.Sample(config =>
        {
            var text = config.Serialize();
            var parsed = DockerConfig.Parse(text);

            Assert.Equal(text, parsed.Serialize());
            Assert.Equal(config, parsed);
            Assert.Equal(config.Entries, parsed.Entries);
            foreach (var entry in config.Entries.Where(e => e.Password!.Length >= 6))
            {
                Assert.DoesNotContain(entry.Password!, entry.ToString().Replace("***", "", StringComparison.Ordinal), StringComparison.Ordinal);
            }
        }, iter: 500);
    }

    [Fact]
    public void Unpaired_surrogates_are_rejected_instead_of_silently_replaced()
    {
        var error = Assert.Throws<RegistryException>(() => DockerConfigEntry.Create("ghcr.io", new RegistryCredential("u", "pass\uD800word")));

        Assert.Equal("dockerconfigjson entry \"ghcr.io\": password is not valid Unicode (unpaired surrogate)", error.Message);
    }

    [Fact]
    public void Built_entries_give_back_their_credentials()
    {
        Entry.Sample(entry =>
        {
            var parsed = DockerConfig.Parse(DockerConfig.FromEntries([entry]).Serialize()).Entries.Single();

            Assert.Equal(entry.ToCredential(), parsed.ToCredential());
            Assert.Equal(entry.Email, parsed.Email);
        }, iter: 500);
    }

    [Fact]
    public void Merge_leaves_other_entries_untouched_and_is_idempotent()
    {
        Gen.Select(Config, Entry.Array[0, 4]).Sample((config, entries) =>
        {
            var merged = config.Merge(entries);

            Assert.Equal(merged, merged.Merge(entries));
            Assert.Equal(config.OtherFieldNames, merged.OtherFieldNames);
            var replaced = entries.Select(e => (e.Registry, e.RepositoryPrefix)).ToHashSet();
            foreach (var entry in config.Entries.Where(e => !replaced.Contains((e.Registry, e.RepositoryPrefix))))
            {
                Assert.Contains(entry, merged.Entries);
            }

            // For each server the last given entry wins, under its own key.
            foreach (var last in entries.GroupBy(e => (e.Registry, e.RepositoryPrefix)).Select(g => g.Last()))
            {
                Assert.Equal(last, Assert.Single(merged.Entries, e => (e.Registry, e.RepositoryPrefix) == (last.Registry, last.RepositoryPrefix)));
            }
        }, iter: 500);
    }

    [Fact]
    public void Matching_picks_the_longest_key_whose_host_is_spelled_as_the_image_and_whose_path_prefixes_it()
    {
        var image = Gen.OneOf("registry.example.com/team/app", "registry.example.com/te/app", "registry.example.com/tea",
            "nginx", "ghcr.io/team/app:1", "localhost:5000/team", "[::1]:5000/x").Select(ImageReference.Parse);

        Gen.Select(Config, image).Sample((config, reference) =>
        {
            var found = config.FindEntry(reference);
            var covering = config.Entries
                // The kubelet: host labels as written, the key's path a string prefix of the image's (keyring.go URLsMatch).
                .Where(e => e.Registry is { } registry && registry.Spelling == reference.Registry.Spelling
                    && reference.Repository.StartsWith(e.RepositoryPrefix, StringComparison.Ordinal))
                .ToList();

            if (covering.Count == 0)
            {
                Assert.Null(found);
            }
            else
            {
                Assert.NotNull(found);
                Assert.Contains(found, covering);
                Assert.Equal(covering.Max(e => e.RepositoryPrefix.Length), found.RepositoryPrefix.Length);
            }
        }, iter: 500);
    }
}
