using Grpc.Core;

namespace RegistryInfra.Protocol.Hosting;

/// <summary>The one mapping from exceptions thrown by a provider to gRPC status codes.</summary>
public static class ProviderErrors
{
    /// <summary>The gRPC status for <paramref name="exception"/>; messages are the exception's own.</summary>
    public static Status ToStatus(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            RpcException rpc => rpc.Status,
            UnknownTokenException e => new Status(StatusCode.NotFound, e.Message),
            NotImplementedException e => new Status(StatusCode.Unimplemented, $"{e.Message} is not implemented by this provider"),
            NotSupportedException e => new Status(StatusCode.Unimplemented, e.Message),
            OperationCanceledException => new Status(StatusCode.Cancelled, "the operation was cancelled"),
            ArgumentException or FormatException => new Status(StatusCode.InvalidArgument, exception.Message),
            TimeoutException => new Status(StatusCode.DeadlineExceeded, exception.Message),
            _ => new Status(StatusCode.Unknown, exception.Message),
        };
    }
}
