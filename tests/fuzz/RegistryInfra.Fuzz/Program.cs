using System.Text;
using Google.Protobuf.WellKnownTypes;
using RegistryInfra.Core;
using RegistryInfra.Core.Distribution;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.References;
using RegistryInfra.Protocol.Values;
using RegistryInfra.Refresher.Configuration;
using SharpFuzz;

namespace RegistryInfra.Fuzz;

/// <summary>
/// One harness per parser of untrusted input. Each calls the parser as production does and lets through only
/// the failures the parser documents (its error type, with a message); anything else (an unexpected exception
/// type, a stack overflow, a hang) is a crash that afl-fuzz keeps. `RegistryInfra.Fuzz NAME` serves afl-fuzz;
/// `RegistryInfra.Fuzz NAME --replay FILE...` runs inputs once, as the regression tests do.
/// </summary>
internal static class Program
{
    private static readonly Dictionary<string, Action<byte[]>> Harnesses = new(StringComparer.Ordinal)
    {
        ["reference"] = Reference,
        ["challenge"] = Challenge,
        ["dockerconfig"] = DockerConfigDocument,
        ["refresher-config"] = RefresherConfig,
        ["property-value"] = PropertyValueDecoder,
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Harnesses.TryGetValue(args[0], out var harness))
        {
            Console.Error.WriteLine($"usage: RegistryInfra.Fuzz {string.Join('|', Harnesses.Keys)} [--replay FILE...]");
            return 2;
        }
        if (args.Length > 1 && args[1] == "--replay")
        {
            foreach (var file in args.Skip(2))
            {
                harness(File.ReadAllBytes(file));
            }
            return 0;
        }
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            harness(buffer.ToArray());
        });
        return 0;
    }

    private static string Text(byte[] input) => Encoding.UTF8.GetString(input);

    /// <summary>Image references and registry hosts, as users write them in programs.</summary>
    private static void Reference(byte[] input)
    {
        var text = Text(input);
        if (ImageReference.TryParse(text, out var reference, out var error))
        {
            // What parses must print and parse back to itself.
            if (!ImageReference.TryParse(reference.ToString(), out var again, out _) || again != reference)
            {
                throw new InvalidOperationException("an image reference does not round-trip");
            }
            _ = reference.ToFamiliarString();
        }
        else if (string.IsNullOrEmpty(error))
        {
            throw new InvalidOperationException("an image reference was refused without a reason");
        }
        if (RegistryHost.TryParse(text, out var host, out var hostError))
        {
            _ = host.ApiHost + host.DockerConfigKey + host.Kind;
        }
        else if (string.IsNullOrEmpty(hostError))
        {
            throw new InvalidOperationException("a registry host was refused without a reason");
        }
    }

    /// <summary>WWW-Authenticate headers, as registries send them.</summary>
    private static void Challenge(byte[] input)
    {
        try
        {
            foreach (var challenge in AuthenticationChallenge.Parse(Text(input).Split('\n')))
            {
                _ = challenge["realm"] + challenge["service"] + challenge.Scheme;
            }
        }
        catch (FormatException e) when (e.Message.Length > 0)
        {
        }
    }

    /// <summary>dockerconfigjson documents, as found in Secrets.</summary>
    private static void DockerConfigDocument(byte[] input)
    {
        try
        {
            var config = DockerConfig.Parse(input);
            _ = config.ToString();
        }
        catch (RegistryException e) when (e.Kind == RegistryErrorKind.InvalidInput && e.Message.Length > 0)
        {
        }
    }

    /// <summary>The refresher's configuration file (YAML): read, overridden (no environment) and validated as the refresher loads it.</summary>
    private static void RefresherConfig(byte[] input)
    {
        try
        {
            _ = ConfigurationFile.Parse(Text(input), "fuzz.yaml", new System.Collections.Hashtable());
        }
        catch (ConfigurationException e) when (e.Message.Length > 0)
        {
        }
    }

    /// <summary>Property values as the engine sends them: a protobuf Struct, decoded into the property value model.</summary>
    private static void PropertyValueDecoder(byte[] input)
    {
        Struct properties;
        try
        {
            properties = Struct.Parser.ParseFrom(input);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return;
        }
        try
        {
            var values = PropertyValueSerializer.Deserialize(properties);
            _ = PropertyValueSerializer.Serialize(values);
        }
        catch (Exception e) when (e is ArgumentException or FormatException && e.Message.Length > 0)
        {
        }
    }
}
