using System.Net;

namespace RegistryInfra.Refresher.KubernetesApi;

/// <summary>
/// Reads every API answer into memory asynchronously before the Kubernetes client sees it. The client asks for
/// headers only (<c>HttpCompletionOption.ResponseHeadersRead</c>) and then deserialises the body with a synchronous
/// <c>KubernetesJson.Deserialize&lt;T&gt;(Stream)</c> (kubernetes-client/csharp, src/KubernetesClient/Kubernetes.cs,
/// <c>CreateResultAsync</c>, commit 005cb11f): each answer blocked a thread-pool thread on the network until its last
/// byte arrived, which over TLS and HTTP/2 at concurrency 32 starved the pool. Buffered here, that read is a copy
/// from memory. It also bounds what one answer may cost: a larger body is refused, failing that request only.
/// </summary>
internal sealed class BufferedResponses(long maxBytes) : DelegatingHandler
{
    /// <summary>Far above any answer of the refresher's (a 500-namespace page is a few hundred KB).</summary>
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    public BufferedResponses() : this(DefaultMaxBytes)
    {
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            response.Dispose();
            throw new HttpRequestException($"the API server's answer is larger than {maxBytes} bytes", null, HttpStatusCode.InsufficientStorage);
        }
        try
        {
            await response.Content.LoadIntoBufferAsync(maxBytes, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            response.Dispose();
            throw;
        }
        return response;
    }
}
