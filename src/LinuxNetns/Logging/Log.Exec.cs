using Microsoft.Extensions.Logging;

namespace LinuxNetns.Logging;

// ExecInNamespace: EventIds 30-39.
internal static partial class Log
{
    [LoggerMessage(EventId = 30, Level = LogLevel.Debug,
        Message = "exec {Program} in {Namespace}: unshare(CLONE_FS), setns(CLONE_NEWNET), setns(CLONE_NEWNS) into the prepared mount namespace {MountNamespace}, chdir, posix_spawn")]
    public static partial void ExecSequence(this ILogger logger, string program, string @namespace, NamespaceId mountNamespace);

    [LoggerMessage(EventId = 38, Level = LogLevel.Debug,
        Message = "Prepared mount namespace {MountNamespace} for execs in {Namespace}: setns(CLONE_NEWNET), unshare(CLONE_NEWNS), mount --make-r{Propagation} /, fresh sysfs{ReadOnly}, {BindCount} bind mount(s) from {EtcDirectory}")]
    public static partial void ExecPrepared(this ILogger logger, string @namespace, NamespaceId mountNamespace, string propagation, string readOnly, int bindCount, string etcDirectory);

    [LoggerMessage(EventId = 33, Level = LogLevel.Debug,
        Message = "exec {Program} in {Namespace}, replacing this process: setns(CLONE_NEWNET), unshare(CLONE_NEWNS), mount --make-r{Propagation} /, fresh sysfs{ReadOnly}, {BindCount} bind mount(s) from {EtcDirectory}, chdir, execve")]
    public static partial void ExecReplacing(this ILogger logger, string program, string @namespace, string propagation, string readOnly, int bindCount, string etcDirectory);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Bind {Source} -> {Target} failed: {Error}")]
    public static partial void ExecBindFailed(this ILogger logger, string source, string target, string error);

    [LoggerMessage(EventId = 32, Level = LogLevel.Debug, Message = "Started process {Pid} ({Program}) in {Namespace}")]
    public static partial void ExecStarted(this ILogger logger, int pid, string program, string @namespace);

    [LoggerMessage(EventId = 34, Level = LogLevel.Debug, Message = "Cancelled: killed process {Pid} ({Program}) and its descendants, and reaped it")]
    public static partial void ExecCancelled(this ILogger logger, int pid, string program);

    [LoggerMessage(EventId = 35, Level = LogLevel.Warning, Message = "Failed to open directory {Directory}: {Error}")]
    public static partial void EtcDirectoryUnreadable(this ILogger logger, string directory, string error);
}
