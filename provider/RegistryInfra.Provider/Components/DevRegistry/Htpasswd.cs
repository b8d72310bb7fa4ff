using System.Security.Cryptography;
using System.Text;

namespace RegistryInfra.Provider.Components.DevRegistry;

/// <summary>
/// The htpasswd file of the distribution registry's <c>htpasswd</c> authentication: one line <c>USER:BCRYPT</c>.
/// The registry accepts bcrypt only (distribution registry/auth/htpasswd: "Only bcrypt is supported"), read with
/// golang.org/x/crypto/bcrypt, which takes any <c>$2?$</c> revision; this writes <c>$2y$</c> as Apache's
/// <c>htpasswd -B</c> does, with BCrypt.Net-Next.
/// </summary>
/// <remarks>
/// A component runs on every preview and update and keeps no state of its own, so a random salt would change the
/// Secret on every run and no preview of an unchanged program would be clean. The salt is therefore derived: the
/// first 16 bytes of SHA-256 over a fixed label, the component, namespace, user and password. It is unique per
/// registry and user (what a salt is for: no precomputed table serves two registries) and changes with the
/// password; it is public in the hash, as every bcrypt salt is.
/// </remarks>
public static class Htpasswd
{
    /// <summary>bcrypt's cost: 2^10 rounds, golang.org/x/crypto/bcrypt's DefaultCost.</summary>
    public const int Cost = 10;

    /// <summary>bcrypt reads at most this many bytes of the password.</summary>
    public const int MaxPasswordBytes = 72;

    private const string StandardAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    private const string BcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>The htpasswd line for <paramref name="username"/> (no line break).</summary>
    public static string Line(string component, string @namespace, string username, string password)
    {
        ArgumentNullException.ThrowIfNull(username);
        ArgumentNullException.ThrowIfNull(password);
        var salt = SHA256.HashData(Encoding.UTF8.GetBytes($"registryinfra DevRegistry htpasswd salt v1\n{component}\n{@namespace}\n{username}\n{password}"))
            .AsSpan(0, 16).ToArray();
        return username + ":" + Hash(password, salt);
    }

    /// <summary>The bcrypt hash of <paramref name="password"/> with the 16-byte <paramref name="salt"/>, <c>$2y$10$SALTHASH</c>.</summary>
    public static string Hash(string password, byte[] salt)
    {
        ArgumentNullException.ThrowIfNull(salt);
        if (salt.Length != 16)
        {
            throw new ArgumentException("a bcrypt salt is 16 bytes", nameof(salt));
        }
        var setting = $"$2y${Cost:D2}${Encode(salt)}";
        return BCrypt.Net.BCrypt.HashPassword(password, setting);
    }

    /// <summary>Whether <paramref name="password"/> matches the hash of an htpasswd <paramref name="line"/>.</summary>
    public static bool Verify(string line, string password)
    {
        ArgumentNullException.ThrowIfNull(line);
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && BCrypt.Net.BCrypt.Verify(password, line[(colon + 1)..]);
    }

    // bcrypt's base64: the standard bit order with its own alphabet and no padding (16 bytes are 22 characters).
    private static string Encode(byte[] bytes)
    {
        var standard = Convert.ToBase64String(bytes).TrimEnd('=');
        return string.Create(standard.Length, standard, static (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                span[i] = BcryptAlphabet[StandardAlphabet.IndexOf(text[i], StringComparison.Ordinal)];
            }
        });
    }
}
