using System.Net;

namespace RegistryInfra.Core.Distribution.Transport;

/// <summary>
/// Which redirects are followed and what travels with them. Credentials are bound to the origin they were
/// given for (go-containerregistry's bearer transport sets Authorization only when <c>matchesHost</c>, and
/// Go's http.Client drops it on a redirect to another host): a hop to another scheme, host or port gets no
/// Authorization header, and a challenge it sends is never taken for the registry's own.
/// </summary>
internal static class RedirectPolicy
{
    public static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> are one origin (scheme, host, port).</summary>
    public static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    /// <summary>The next hop, or an error when the redirect is missing its target or downgrades to plain HTTP.</summary>
    public static Uri NextHop(RegistryOperation operation, RegistryEndpoints endpoints, Uri current, Uri? location)
    {
        if (location is null)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse, $"{operation.Describe()}: redirect without a Location header");
        }
        var next = location.IsAbsoluteUri ? location : new Uri(current, location);
        // A plain HTTP hop is allowed only to a host the user declared insecure, never as a downgrade to another host.
        if (next.Scheme == Uri.UriSchemeHttps || (next.Scheme == Uri.UriSchemeHttp && endpoints.IsInsecure(next.Authority)))
        {
            return next;
        }
        throw new RegistryException(RegistryErrorKind.InvalidResponse,
            $"{operation.Describe()}: refused a redirect to {RegistryErrors.Shorten(next.Scheme)}://{RegistryErrors.Shorten(next.Authority)} (only HTTPS, or HTTP to a host listed in InsecureRegistries)");
    }
}
