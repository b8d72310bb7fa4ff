namespace RegistryInfra.Core.References;

/// <summary>
/// The AWS partition of a region and the DNS suffixes of its endpoints, as the AWS SDKs' partitions.json names
/// them (regionRegex, dnsSuffix, dualStackDnsSuffix): commercial <c>amazonaws.com</c>, China
/// <c>amazonaws.com.cn</c>, GovCloud, the ISO partitions (<c>c2s.ic.gov</c>, <c>sc2s.sgov.gov</c>,
/// <c>cloud.adc-e.uk</c>, <c>csp.hci.ic.gov</c>) and the European Sovereign Cloud (<c>amazonaws.eu</c>).
/// </summary>
/// <param name="Name">The partition id: <c>aws</c>, <c>aws-cn</c>, <c>aws-us-gov</c>, <c>aws-iso</c>, <c>aws-iso-b</c>, <c>aws-iso-e</c>, <c>aws-iso-f</c>, <c>aws-eusc</c>.</param>
/// <param name="DnsSuffix">The suffix of the IPv4 endpoints.</param>
/// <param name="DualStackDnsSuffix">The suffix of the dual-stack endpoints, or null where the partition has none.</param>
public sealed record AwsPartition(string Name, string DnsSuffix, string? DualStackDnsSuffix)
{
    private static readonly (string Prefix, AwsPartition Partition)[] ByRegionPrefix =
    [
        ("us-gov-", new("aws-us-gov", "amazonaws.com", "api.aws")),
        ("us-isob-", new("aws-iso-b", "sc2s.sgov.gov", null)),
        ("us-isof-", new("aws-iso-f", "csp.hci.ic.gov", null)),
        ("us-iso-", new("aws-iso", "c2s.ic.gov", null)),
        ("eu-isoe-", new("aws-iso-e", "cloud.adc-e.uk", null)),
        ("eusc-", new("aws-eusc", "amazonaws.eu", null)),
        ("cn-", new("aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn")),
    ];

    private static readonly AwsPartition Commercial = new("aws", "amazonaws.com", "api.aws");

    /// <summary>The partition of <paramref name="region"/> (commercial for any region no other partition claims).</summary>
    public static AwsPartition OfRegion(string region)
    {
        ArgumentNullException.ThrowIfNull(region);
        foreach (var (prefix, partition) in ByRegionPrefix)
        {
            if (region.StartsWith(prefix, StringComparison.Ordinal))
            {
                return partition;
            }
        }

        return Commercial;
    }

    /// <summary>
    /// The endpoint of <c>GetAuthorizationToken</c> of private ECR or, with <paramref name="isPublic"/>, ECR Public:
    /// <c>api.ecr.REGION.SUFFIX</c>, <c>ecr-fips.REGION.SUFFIX</c> for FIPS, <c>ecr.REGION.DUALSTACK</c> (or
    /// <c>ecr-fips.REGION.DUALSTACK</c>) for dual-stack where the partition has it, and
    /// <c>api.ecr-public.REGION.SUFFIX</c> / <c>ecr-public.REGION.DUALSTACK</c> for ECR Public.
    /// </summary>
    public Uri EcrEndpoint(string region, bool isPublic, bool fips, bool dualStack)
    {
        ArgumentNullException.ThrowIfNull(region);
        var useDualStack = dualStack && DualStackDnsSuffix is not null;
        if (isPublic)
        {
            return new Uri(useDualStack ? $"https://ecr-public.{region}.{DualStackDnsSuffix}" : $"https://api.ecr-public.{region}.{DnsSuffix}");
        }

        return useDualStack
            ? new Uri($"https://{(fips ? "ecr-fips" : "ecr")}.{region}.{DualStackDnsSuffix}")
            : new Uri(fips ? $"https://ecr-fips.{region}.{DnsSuffix}" : $"https://api.ecr.{region}.{DnsSuffix}");
    }
}
