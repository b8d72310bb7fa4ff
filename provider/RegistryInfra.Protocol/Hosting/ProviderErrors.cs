using Grpc.Core;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>The one mapping from exceptions thrown by a provider to gRPC status codes.</summary>
public static class ProviderErrors
{
    /// <summary>
    /// The gRPC status for <paramref name="exception"/>; messages are the exception's own, capped at
    /// <see cref="StatusText.MaxStatusLength"/> characters so the status always fits in the HTTP/2 trailers.
    /// </summary>
    public static Status ToStatus(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var status = exception switch
        {
            RpcException rpc => rpc.Status,
            UnknownTokenException e => new Status(StatusCode.NotFound, e.Message),
            NotImplementedException e => new Status(StatusCode.Unimplemented, $"{e.Message} is not implemented by this provider"),
            NotSupportedException e => new Status(StatusCode.Unimplemented, e.Message),
            OperationCanceledException => new Status(StatusCode.Cancelled, "the operation was cancelled"),
            ArgumentException or FormatException => new Status(StatusCode.InvalidArgument, exception.Message),
            TimeoutException => new Status(StatusCode.DeadlineExceeded, exception.Message),
            // A bug of ours: the type tells the maintainers what, the message may be a bare framework text.
            NullReferenceException or InvalidCastException or IndexOutOfRangeException or KeyNotFoundException or InvalidOperationException =>
                new Status(StatusCode.Internal, $"internal error ({exception.GetType().Name}): {exception.Message}; please report it"),
            _ => new Status(StatusCode.Unknown, exception.Message),
        };
        return new Status(status.StatusCode, StatusText.Cap(status.Detail));
    }
}
