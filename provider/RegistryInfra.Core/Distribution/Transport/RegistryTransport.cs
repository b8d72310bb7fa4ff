using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace RegistryInfra.Core.Distribution.Transport;

/// <summary>A response with its body read (bounded), where it finally came from, and whether a redirect left the origin asked.</summary>
internal sealed record RegistryResponse(HttpResponseMessage Message, byte[] Body, Uri Final, bool CrossedOrigin) : IDisposable
{
    public HttpStatusCode StatusCode => Message.StatusCode;

    public void Dispose() => Message.Dispose();
}

/// <summary>
/// The HTTP layer under the client (go-containerregistry's <c>pkg/v1/remote/transport</c>): one pooled
/// handler, TLS with the extra trusted roots, a timeout per exchange, bounded bodies, and redirects followed
/// by hand under <see cref="RedirectPolicy"/> so that Authorization never crosses origins.
/// </summary>
internal sealed class RegistryTransport : IDisposable
{
    /// <summary>Error bodies are read up to this bound, whatever the success limit.</summary>
    public const int MaxErrorBodyBytes = 64 * 1024;

    private static readonly System.Security.Cryptography.Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    private readonly DistributionClientOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;

    public RegistryTransport(DistributionClientOptions options, TimeProvider time, DelegatingHandler? outerHandler)
    {
        _options = options;
        _time = time;
        Endpoints = new RegistryEndpoints(options.InsecureRegistries);
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // followed by hand so that Authorization never crosses hosts
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = true,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = ValidateServerCertificate },
        };
        HttpMessageHandler handler = sockets;
        if (outerHandler is not null)
        {
            outerHandler.InnerHandler = sockets;
            handler = outerHandler;
        }
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
    }

    public RegistryEndpoints Endpoints { get; }

    /// <summary>
    /// Sends the request <paramref name="build"/> makes to <paramref name="uri"/>, following redirects when asked;
    /// <paramref name="authorization"/> goes only to <paramref name="uri"/>'s origin.
    /// </summary>
    public async Task<RegistryResponse> SendAsync(
        RegistryOperation operation,
        Func<HttpRequestMessage> build,
        Uri uri,
        AuthenticationHeaderValue? authorization,
        bool followRedirects,
        int maxBody,
        CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var current = uri;
        try
        {
            for (var hop = 0; ; hop++)
            {
                using var request = build();
                request.RequestUri = current;
                var sameOrigin = RedirectPolicy.SameOrigin(uri, current);
                if (!sameOrigin)
                {
                    // A builder may have put credentials in the request itself (a token request's Basic header): never on another origin.
                    request.Headers.Authorization = null;
                }
                else if (authorization is not null)
                {
                    request.Headers.Authorization = authorization;
                }
                var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
                if (followRedirects && RedirectPolicy.IsRedirect(response.StatusCode))
                {
                    var location = response.Headers.Location;
                    response.Dispose();
                    if (hop >= _options.MaxRedirects)
                    {
                        throw new RegistryException(RegistryErrorKind.InvalidResponse,
                            $"{operation.Describe()}: more than {_options.MaxRedirects} redirects");
                    }
                    current = RedirectPolicy.NextHop(operation, Endpoints, current, location);
                    continue;
                }
                try
                {
                    var body = await ReadBodyAsync(operation, response, maxBody, linked.Token).ConfigureAwait(false);
                    return new RegistryResponse(response, body, current, !RedirectPolicy.SameOrigin(uri, current));
                }
                catch
                {
                    response.Dispose();
                    throw;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable,
                $"{operation.Describe()}: no answer from {current.Authority} within {_options.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable, $"{operation.Describe()}: cannot reach {current.Authority}: {RegistryErrors.Describe(ex, operation)}", ex);
        }
    }

    private static async Task<byte[]> ReadBodyAsync(RegistryOperation operation, HttpResponseMessage response, int maxBody, CancellationToken cancellationToken)
    {
        var limit = response.IsSuccessStatusCode ? maxBody : MaxErrorBodyBytes;
        if (limit == 0)
        {
            return [];
        }
        if (response.Content.Headers.ContentLength is { } declared && declared > limit && response.IsSuccessStatusCode)
        {
            throw new RegistryException(RegistryErrorKind.InvalidResponse,
                $"{operation.Describe()}: response of {declared.ToString(CultureInfo.InvariantCulture)} bytes is larger than the limit of {limit.ToString(CultureInfo.InvariantCulture)}");
        }
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    if (!response.IsSuccessStatusCode)
                    {
                        // An error body only needs its start; the rest is never read.
                        buffer.Write(chunk, 0, (int)(limit - buffer.Length));
                        break;
                    }
                    throw new RegistryException(RegistryErrorKind.InvalidResponse,
                        $"{operation.Describe()}: response is larger than the limit of {limit.ToString(CultureInfo.InvariantCulture)} bytes");
                }
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
    }

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        // Only an untrusted chain can be rescued by the extra roots; a wrong host name or no certificate never is.
        if (certificate is not X509Certificate2 leaf || _options.TrustedRootCertificates.Count == 0 || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_options.TrustedRootCertificates);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        custom.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        if (chain is not null)
        {
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        }
        return custom.Build(leaf);
    }

    public void Dispose() => _http.Dispose();
}
