namespace LinuxNetns.Networking;

/// <summary>
/// The kernel refused an rtnetlink request (a link, address, route or nsid operation). Carries errno, the request,
/// the namespace it was sent in and, when the kernel gave one, its extended-ACK text
/// (<see cref="KernelMessage"/>), which usually says exactly which part of the request was wrong.
/// </summary>
public sealed class NetlinkException : NetworkNamespaceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="operation">What was attempted, e.g. <c>create veth pair "a0"/"b0" (RTM_NEWLINK)</c>.</param>
    /// <param name="target">The namespace the request was sent in.</param>
    /// <param name="errorCode">The errno the kernel answered with.</param>
    /// <param name="kernelMessage">The extended-ACK message (NLMSGERR_ATTR_MSG), or null.</param>
    /// <param name="message">The full message, including what to do.</param>
    public NetlinkException(string operation, string? target, int errorCode, string? kernelMessage, string message)
        : base(operation, target, errorCode, message)
    {
        KernelMessage = kernelMessage;
    }

    /// <summary>The kernel's own explanation (extended ACK, e.g. <c>"Invalid prefix for given prefix length"</c>), or null.</summary>
    public string? KernelMessage { get; }
}
