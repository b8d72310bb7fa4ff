using RegistryInfra.Testing;

namespace RegistryInfra.Programs.Tests;

/// <summary>Every Pulumi YAML program of the repository: the root quick start and each folder of <c>programs/</c>.</summary>
public static class RepositoryPrograms
{
    // Build output, installed packages and release folders hold copies or nothing of ours.
    private static readonly HashSet<string> Skipped = new(StringComparer.Ordinal) { "bin", "obj", "node_modules", "artifacts", ".git" };

    public static string SchemaPath => Path.Combine(Requirements.RepositoryRoot, "schema", "schema.json");

    /// <summary>Paths relative to the repository root, with '/' separators, sorted.</summary>
    public static IReadOnlyList<string> All()
    {
        var root = Requirements.RepositoryRoot;
        var found = new List<string>();
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            var program = Path.Combine(dir, "Pulumi.yaml");
            if (File.Exists(program))
            {
                found.Add(Path.GetRelativePath(root, program).Replace(Path.DirectorySeparatorChar, '/'));
            }
            foreach (var sub in Directory.EnumerateDirectories(dir))
            {
                if (!Skipped.Contains(Path.GetFileName(sub)))
                {
                    pending.Push(sub);
                }
            }
        }
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    public static string Read(string relative) => File.ReadAllText(Path.Combine(Requirements.RepositoryRoot, relative));
}
