using System.Globalization;
using RegistryInfra.Core.References;

namespace RegistryInfra.Core.Tests.References;

/// <summary>Runs every case of <c>Fixtures/references.tsv</c>.</summary>
public sealed class ReferenceCorpusTests
{
    public static TheoryData<string, string, string[]> Cases()
    {
        var data = new TheoryData<string, string, string[]>();
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "references.tsv");
        foreach (var (line, index) in File.ReadLines(path).Select((l, i) => (l, i + 1)))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split('\t');
            var input = fields[1] == "<empty>" ? "" : fields[1];
            data.Add(string.Create(CultureInfo.InvariantCulture, $"{fields[0]}:{index}"), input, fields[2..]);
        }

        return data;
    }

    [Fact]
    public void The_corpus_holds_at_least_200_cases()
    {
        Assert.True(Cases().Count >= 200, $"only {Cases().Count} cases");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_case_parses_as_expected(string kindAndLine, string input, string[] expected)
    {
        if (kindAndLine.StartsWith("ref:", StringComparison.Ordinal))
        {
            CheckReference(input, expected);
        }
        else
        {
            CheckHost(input, expected);
        }
    }

    private static void CheckReference(string input, string[] expected)
    {
        if (expected[0].StartsWith('!'))
        {
            var error = Assert.Throws<RegistryException>(() => ImageReference.Parse(input));
            Assert.Equal(RegistryErrorKind.InvalidInput, error.Kind);
            Assert.Contains(expected[0][1..], error.Message, StringComparison.Ordinal);
            Assert.False(ImageReference.TryParse(input, out _));
            return;
        }

        var reference = ImageReference.Parse(input);
        Assert.Equal(expected[0], reference.ToString());
        Assert.Equal(expected[1], reference.ToFamiliarString());
        Assert.Equal(reference, ImageReference.Parse(reference.ToString()));
        Assert.Equal(reference, ImageReference.Parse(reference.ToFamiliarString()));
        Assert.Equal(reference.Registry, RegistryHost.Parse(reference.Registry.Name));
    }

    private static void CheckHost(string input, string[] expected)
    {
        if (expected[0].StartsWith('!'))
        {
            var error = Assert.Throws<RegistryException>(() => RegistryHost.Parse(input));
            Assert.Equal(RegistryErrorKind.InvalidInput, error.Kind);
            Assert.Contains(expected[0][1..], error.Message, StringComparison.Ordinal);
            Assert.False(RegistryHost.TryParse(input, out _));
            return;
        }

        var host = RegistryHost.Parse(input);
        Assert.Equal(expected[0], host.Name);
        Assert.Equal(expected[1], host.Kind.ToString());
        Assert.Equal(expected.Length > 2 ? expected[2] : "", Describe(host.Details));
        Assert.Equal(host, RegistryHost.Parse(host.Name));
        Assert.Equal(host, RegistryHost.Parse(host.DockerConfigKey));
    }

    private static string Describe(RegistryKindDetails details) => string.Join(' ', new[]
    {
        details.AccountId is null ? null : "account=" + details.AccountId,
        details.Region is null ? null : "region=" + details.Region,
        details.RegistryName is null ? null : "name=" + details.RegistryName,
        details.Partition is null ? null : "partition=" + details.Partition,
        details.IsFips ? "fips" : null,
        details.IsDualStack ? "dualstack" : null,
    }.Where(part => part is not null));
}
