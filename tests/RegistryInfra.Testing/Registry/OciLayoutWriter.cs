using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RegistryInfra.Testing.Registry;

/// <summary>A tiny test image: one layer holding a text file, for one platform.</summary>
/// <param name="Os">The os, such as linux.</param>
/// <param name="Architecture">The architecture, such as amd64.</param>
/// <param name="Variant">The variant, such as v8, or null.</param>
/// <param name="Content">Text written into the layer, so that images differ.</param>
public sealed record TestImage(string Os, string Architecture, string? Variant, string Content);

/// <summary>
/// Writes OCI image layouts (the format skopeo reads as <c>oci:DIR:REF</c>): a single image, or an index of
/// several platforms. Deterministic, so the same input gives the same digests.
/// </summary>
public static class OciLayoutWriter
{
    public const string ManifestType = "application/vnd.oci.image.manifest.v1+json";
    public const string IndexType = "application/vnd.oci.image.index.v1+json";

    /// <summary>Writes <paramref name="images"/> under reference <paramref name="reference"/>: one image, or an index when several.</summary>
    /// <returns>The digest of the top manifest or index as written.</returns>
    public static string Write(string directory, string reference, IReadOnlyList<TestImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(directory, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        var manifests = images.Select(image => (image, descriptor: WriteImage(directory, image))).ToList();
        object top;
        if (manifests.Count == 1)
        {
            top = manifests[0].descriptor;
        }
        else
        {
            var index = new
            {
                schemaVersion = 2,
                mediaType = IndexType,
                manifests = manifests.Select(m => new
                {
                    mediaType = ManifestType,
                    digest = m.descriptor.Digest,
                    size = m.descriptor.Size,
                    platform = Platform(m.image),
                }).ToArray(),
            };
            var (digest, size) = WriteBlob(directory, JsonSerializer.SerializeToUtf8Bytes(index));
            top = new Descriptor(IndexType, digest, size);
        }
        var d = (Descriptor)top;
        var layoutIndex = new
        {
            schemaVersion = 2,
            manifests = new[]
            {
                new Dictionary<string, object>
                {
                    ["mediaType"] = d.MediaType,
                    ["digest"] = d.Digest,
                    ["size"] = d.Size,
                    ["annotations"] = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = reference },
                },
            },
        };
        File.WriteAllBytes(Path.Combine(directory, "index.json"), JsonSerializer.SerializeToUtf8Bytes(layoutIndex));
        return d.Digest;
    }

    private sealed record Descriptor(string MediaType, string Digest, long Size);

    private static Dictionary<string, string> Platform(TestImage image)
    {
        var platform = new Dictionary<string, string> { ["os"] = image.Os, ["architecture"] = image.Architecture };
        if (image.Variant is not null)
        {
            platform["variant"] = image.Variant;
        }
        return platform;
    }

    private static Descriptor WriteImage(string directory, TestImage image)
    {
        var tar = LayerTar(image.Content);
        var diffId = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(tar));
        var (layerDigest, layerSize) = WriteBlob(directory, Gzip(tar));
        var config = new Dictionary<string, object>
        {
            ["architecture"] = image.Architecture,
            ["os"] = image.Os,
            ["config"] = new Dictionary<string, object> { ["Cmd"] = new[] { "/hello.txt" } },
            ["rootfs"] = new { type = "layers", diff_ids = new[] { diffId } },
        };
        if (image.Variant is not null)
        {
            config["variant"] = image.Variant;
        }
        var (configDigest, configSize) = WriteBlob(directory, JsonSerializer.SerializeToUtf8Bytes(config));
        var manifest = new
        {
            schemaVersion = 2,
            mediaType = ManifestType,
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = configDigest, size = configSize },
            layers = new[] { new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = layerDigest, size = layerSize } },
        };
        var (digest, size) = WriteBlob(directory, JsonSerializer.SerializeToUtf8Bytes(manifest));
        return new Descriptor(ManifestType, digest, size);
    }

    private static byte[] LayerTar(string content)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "hello.txt")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                ModificationTime = DateTimeOffset.UnixEpoch,
                Mode = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            };
            writer.WriteEntry(entry);
        }
        return buffer.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }
        return buffer.ToArray();
    }

    private static (string Digest, long Size) WriteBlob(string directory, byte[] content)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(content));
        File.WriteAllBytes(Path.Combine(directory, "blobs", "sha256", hex), content);
        return ("sha256:" + hex, content.Length);
    }
}
