using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace RegistryInfra.Core.Credentials;

/// <summary>What a credential process printed.</summary>
internal sealed record CredentialProcessResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// Runs a credential program (argv, no shell) with input on stdin, a timeout that kills the whole process
/// tree, and output kept in memory only. Error text built from its stderr is cut and scrubbed of anything
/// the caller names as secret.
/// </summary>
internal static class CredentialProcess
{
    public static async Task<CredentialProcessResult> RunAsync(string description, IReadOnlyList<string> argv, string? standardInput,
        TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(argv[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in argv.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }
        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
        }
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new RegistryException(RegistryErrorKind.CredentialSource, $"{description}: cannot run '{argv[0]}': {e.Message}", e);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
            try
            {
                if (standardInput is not null)
                {
                    await process.StandardInput.WriteAsync(standardInput.AsMemory(), deadline.Token).ConfigureAwait(false);
                }
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The program exited without reading its input; its exit code says what happened.
            }
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            return new CredentialProcessResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new RegistryException(RegistryErrorKind.CredentialSource,
                $"{description}: '{Path.GetFileName(argv[0])}' did not finish within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s and was killed");
        }
    }

    /// <summary>
    /// The first lines of <paramref name="text"/>, cut short, with every secret (in every form, see
    /// <see cref="Redaction"/>) and anything that looks like a credential replaced.
    /// </summary>
    public static string Summarise(string text, params string?[] secrets)
    {
        var lines = Redaction.RemoveSecrets(text, secrets).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Take(3);
        var summary = Redaction.Excerpt(string.Join(" | ", lines), secrets, 300);
        return summary.Length == 0 ? "(no output on stderr)" : summary;
    }

    /// <summary>
    /// Every longer fragment of a program's standard output: a failing credential program may still have printed
    /// a secret, and may repeat it on stderr, so each is treated as secret when its output is summarised.
    /// </summary>
    public static string[] OutputFragments(string output) =>
        output.Split([' ', '\t', '\r', '\n', ':', '"', ',', '{', '}'], StringSplitOptions.RemoveEmptyEntries)
            .Where(fragment => fragment.Length >= 6)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(fragment => fragment.Length)
            .Take(1000)
            .ToArray();

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
