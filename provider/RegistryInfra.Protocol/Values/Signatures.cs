namespace RegistryInfra.Protocol.Values;

/// <summary>
/// The special key and values that mark an encoded object on the wire as something other than a plain
/// object (from the Go SDK, <c>sdk/go/common/resource/sig/sig.go</c>).
/// </summary>
public static class Signatures
{
    /// <summary>The key holding the signature in an encoded object.</summary>
    public const string Key = "4dabf18193072939515e22adb298388d";

    /// <summary>A secret: <c>{sig, value}</c>.</summary>
    public const string Secret = "1b47061264138c4ac30d75fd1eb44270";

    /// <summary>A resource reference: <c>{sig, urn, id?, packageVersion?, name?, type?}</c>.</summary>
    public const string ResourceReference = "5cf8f73096256a8f31e491e813e4eb8e";

    /// <summary>An output value: <c>{sig, value?, secret?, dependencies?}</c>.</summary>
    public const string OutputValue = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

    /// <summary>An asset.</summary>
    public const string Asset = "c44067f5952c0a294b673a41bacd8c17";

    /// <summary>An archive.</summary>
    public const string Archive = "0def7320c3a5731c473e5ecbe6d01bc7";
}
