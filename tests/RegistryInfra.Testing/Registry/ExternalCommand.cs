using System.Diagnostics;
using System.Text;

namespace RegistryInfra.Testing.Registry;

/// <summary>Runs a tool to completion and returns its stdout; a non-zero exit throws with its stderr.</summary>
internal static class ExternalCommand
{
    public static async Task<byte[]> RunAsync(string path, IReadOnlyList<string> arguments, CancellationToken cancellationToken, string? redact = null)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {path}");
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout, cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
            await copy;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        if (process.ExitCode != 0)
        {
            var shown = string.Join(' ', arguments.Select(a => redact is not null && a.Contains(redact, StringComparison.Ordinal) ? "***" : a));
            throw new InvalidOperationException($"{Path.GetFileName(path)} {shown} exited with {process.ExitCode}: {(await stderr).Trim()}");
        }
        return stdout.ToArray();
    }

    public static async Task<string> RunTextAsync(string path, IReadOnlyList<string> arguments, CancellationToken cancellationToken, string? redact = null) =>
        Encoding.UTF8.GetString(await RunAsync(path, arguments, cancellationToken, redact)).Trim();
}
