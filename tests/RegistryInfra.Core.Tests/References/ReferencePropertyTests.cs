using CsCheck;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Tests.References;

/// <summary>Parse → format → parse round-trips over generated references and hosts.</summary>
public sealed class ReferencePropertyTests
{
    private static readonly Gen<string> Alnum = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789"].Array[1, 6].Select(c => new string(c));

    private static readonly Gen<string> PathComponent =
        Gen.Select(Alnum, Gen.OneOf(".", "_", "__", "-", "--").Select(Alnum, (s, a) => s + a).Array[0, 2], (head, tail) => head + string.Concat(tail));

    private static readonly Gen<string> Label = Gen.Select(
        Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"].Array[1, 5],
        Gen.Char["abcdefghijklmnopqrstuvwxyz-0123456789"].Array[0, 3],
        Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789"],
        (a, b, c) => new string(a) + new string(b) + c);

    private static readonly Gen<string> Domain = Gen.Frequency(
        // A numeric last label is an IPv4 literal or nothing (the core refuses 1.2.example.63), so the top label has a letter.
        (4, Gen.Select(Label.Array[1, 3], Label, (labels, top) => string.Join('.', labels) + "." + top + "x")),
        (1, Gen.Const("localhost")),
        (1, Gen.Select(Gen.Int[0, 255].Array[4], octets => string.Join('.', octets))),
        (1, Gen.OneOf("[::1]", "[2001:db8::1]", "[fe80::a:b]")),
        (1, Gen.OneOf("docker.io", "index.docker.io", "registry-1.docker.io", "ghcr.io", "123456789012.dkr.ecr.eu-west-1.amazonaws.com")));

    private static readonly Gen<string?> Port = Gen.Int[1, 65535].Select(p => ":" + p).Null(0.6);

    private static readonly Gen<string?> Tag = Gen.Select(
        Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"],
        Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"].Array[0, 20],
        (first, rest) => first + new string(rest)).Null(0.4);

    private static readonly Gen<string?> Digest = Gen.Frequency(
        (2, Gen.Char["0123456789abcdef"].Array[64].Select(h => "sha256:" + new string(h))),
        (1, Gen.Char["0123456789abcdef"].Array[128].Select(h => "sha512:" + new string(h)))).Null(0.6);

    private static readonly Gen<string> Reference = Gen.Select(
        Gen.Select(Domain, Port, (d, p) => d + p).Null(0.4),
        Alnum,
        PathComponent.Array[0, 3],
        Tag,
        Digest,
        (domain, first, path, tag, digest) =>
            // Without a domain, a first component with '.' would be taken for one: keep that one to letters and digits.
            (domain is null ? first : domain + "/" + first) + string.Concat(path.Select(p => "/" + p))
            + (tag is null ? "" : ":" + tag) + (digest is null ? "" : "@" + digest));

    [Fact]
    public void Parse_format_parse_is_stable()
    {
        Reference.Sample(input =>
        {
            var reference = ImageReference.Parse(input);
            var canonical = reference.ToString();
            var again = ImageReference.Parse(canonical);

            Assert.Equal(canonical, again.ToString());
            Assert.Equal(reference, ImageReference.Parse(reference.ToFamiliarString()));
            Assert.Equal(reference.Registry, RegistryHost.Parse(reference.Registry.Name));
            Assert.Equal(reference.Registry, RegistryHost.Parse("https://" + reference.Registry.Name + "/"));
            // The host keeps its case as written (the kubelet compares it so); the canonical name is lower-case.
            Assert.Equal(reference.Registry.Spelling, canonical[..canonical.IndexOf('/', StringComparison.Ordinal)]);
            Assert.DoesNotContain(reference.Registry.Name, c => char.IsAsciiLetterUpper(c));
        }, iter: 2000);
    }

    [Fact]
    public void Arbitrary_text_never_throws_anything_but_an_input_error()
    {
        var text = Gen.Char["aA0:/@.-_[]%+ \t\nsha256ffFF"].Array[0, 40].Select(c => new string(c));

        text.Sample(input =>
        {
            if (ImageReference.TryParse(input, out var reference, out var error))
            {
                Assert.Equal(reference, ImageReference.Parse(reference.ToString()));
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
                Assert.Equal(RegistryErrorKind.InvalidInput, Assert.Throws<RegistryException>(() => ImageReference.Parse(input)).Kind);
            }

            if (RegistryHost.TryParse(input, out var host))
            {
                Assert.Equal(host, RegistryHost.Parse(host.Name));
            }
        }, iter: 3000);
    }
}
