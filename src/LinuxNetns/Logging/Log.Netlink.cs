using Microsoft.Extensions.Logging;

namespace LinuxNetns.Logging;

// rtnetlink, links and temporary namespaces: EventIds 40-59.
internal static partial class Log
{
    [LoggerMessage(EventId = 40, Level = LogLevel.Debug, Message = "Opened a NETLINK_ROUTE socket in {Namespace} (port id {PortId})")]
    public static partial void NetlinkSocketOpened(this ILogger logger, string @namespace, uint portId);

    [LoggerMessage(EventId = 41, Level = LogLevel.Debug, Message = "{Operation}: {Type} in {Namespace}, seq {Sequence}, {Length} bytes")]
    public static partial void NetlinkRequest(this ILogger logger, string operation, string type, string @namespace, uint sequence, int length);

    [LoggerMessage(EventId = 42, Level = LogLevel.Debug, Message = "{Operation} in {Namespace} failed: {Error} {KernelMessage}")]
    public static partial void NetlinkFailed(this ILogger logger, string operation, string @namespace, string error, string kernelMessage);

    [LoggerMessage(EventId = 43, Level = LogLevel.Warning, Message = "{Operation} in {Namespace}: the dump was interrupted by a concurrent change (attempt {Attempt}); repeating it")]
    public static partial void NetlinkDumpInterrupted(this ILogger logger, string operation, string @namespace, int attempt);

    [LoggerMessage(EventId = 44, Level = LogLevel.Information, Message = "Assigned nsid {Nsid} to {Peer} in {Namespace}")]
    public static partial void NsidAssigned(this ILogger logger, int nsid, string peer, string @namespace);

    [LoggerMessage(EventId = 45, Level = LogLevel.Information, Message = "Created temporary network namespace {Id} ({Path})")]
    public static partial void TemporaryCreated(this ILogger logger, NamespaceId id, string path);

    [LoggerMessage(EventId = 46, Level = LogLevel.Information, Message = "Pruned temporary namespace name {Name}: its owner, pid {Pid}, is gone")]
    public static partial void TemporaryPruned(this ILogger logger, string name, int pid);
}
