namespace LinuxNetns.Networking;

/// <summary>
/// The kernel refused an rtnetlink request (a link, address, route or nsid operation), or did not answer it.
/// <see cref="NetworkNamespaceException.Operation"/> is <see cref="NamespaceOperation.NetlinkRequest"/>; carries
/// errno, the request (<see cref="Request"/>), the namespace it was sent in and, when the kernel gave one, its
/// extended-ACK text (<see cref="KernelMessage"/>), which usually says exactly which part of the request was wrong.
/// </summary>
public sealed class NetlinkException : NetworkNamespaceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="request">The request in words, e.g. <c>create veth pair "a0"/"b0" (RTM_NEWLINK)</c>.</param>
    /// <param name="target">The namespace the request was sent in.</param>
    /// <param name="errno">The errno the kernel answered with (<see cref="Errno.EAGAIN"/>: no answer in time), or
    /// <see cref="Errno.None"/> when the answer lacked what was asked for.</param>
    /// <param name="kernelMessage">The extended-ACK message (NLMSGERR_ATTR_MSG), or null.</param>
    /// <param name="message">The full message, including what to do.</param>
    public NetlinkException(string request, string? target, Errno errno, string? kernelMessage, string message)
        : base(NamespaceOperation.NetlinkRequest, target, errno, message)
    {
        Request = request;
        KernelMessage = kernelMessage;
    }

    /// <summary>The request in words, with its message type (e.g. <c>delete link "veth0" (RTM_DELLINK)</c>).</summary>
    public string Request { get; }

    /// <summary>The kernel's own explanation (extended ACK, e.g. <c>"Invalid prefix for given prefix length"</c>), or null.</summary>
    public string? KernelMessage { get; }
}
