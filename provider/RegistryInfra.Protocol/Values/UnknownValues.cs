namespace RegistryInfra.Protocol.Values;

/// <summary>
/// The strings the engine sends in place of a value that is not known yet, one per expected type
/// (from the Go SDK, <c>sdk/go/common/resource/plugin/rpc.go</c>).
/// </summary>
public static class UnknownValues
{
    /// <summary>The sentinel for an unknown string (and the one this library writes).</summary>
    public const string String = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

    /// <summary>The sentinel for an unknown bool.</summary>
    public const string Bool = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7";

    /// <summary>The sentinel for an unknown number.</summary>
    public const string Number = "3eeb2bf0-c639-47a8-9e75-3b44932eb421";

    /// <summary>The sentinel for an unknown array.</summary>
    public const string Array = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2";

    /// <summary>The sentinel for an unknown asset.</summary>
    public const string Asset = "030794c1-ac77-496b-92df-f27374a8bd58";

    /// <summary>The sentinel for an unknown archive.</summary>
    public const string Archive = "e48ece36-62e2-4504-bad9-02848725956a";

    /// <summary>The sentinel for an unknown object.</summary>
    public const string Object = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff";

    /// <summary>Whether <paramref name="value"/> is one of the unknown sentinels.</summary>
    public static bool IsSentinel(string value) => value is String or Bool or Number or Array or Asset or Archive or Object;
}
