using Microsoft.Extensions.Logging;

namespace LinuxNetns.Logging;

// The run-directory monitor, NetworkNamespace.Monitor (EventIds 60-69).
internal static partial class Log
{
    [LoggerMessage(EventId = 60, Level = LogLevel.Debug, Message = "Watching {RunDirectory} with inotify (IN_CREATE | IN_DELETE)")]
    public static partial void MonitorStarted(this ILogger logger, string runDirectory);

    [LoggerMessage(EventId = 61, Level = LogLevel.Debug, Message = "Stopped watching {RunDirectory}")]
    public static partial void MonitorStopped(this ILogger logger, string runDirectory);

    [LoggerMessage(EventId = 62, Level = LogLevel.Warning, Message = "The inotify queue for {RunDirectory} overflowed: some add/delete events were lost")]
    public static partial void MonitorOverflow(this ILogger logger, string runDirectory);

    [LoggerMessage(EventId = 63, Level = LogLevel.Information, Message = "The watch on {RunDirectory} ended (the directory was removed or unmounted): the monitor stops")]
    public static partial void MonitorWatchRemoved(this ILogger logger, string runDirectory);
}
