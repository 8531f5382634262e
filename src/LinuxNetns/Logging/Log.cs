using Microsoft.Extensions.Logging;

namespace LinuxNetns.Logging;

/// <summary>The library's log messages (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "{Step} {Target}")]
    public static partial void Step(this ILogger logger, string step, string target);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Run directory {RunDirectory} was not a mount point: bind-mounted it onto itself and made it shared")]
    public static partial void RunDirectoryBound(this ILogger logger, string runDirectory);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Created network namespace {Name} at {Path} ({Id})")]
    public static partial void Created(this ILogger logger, string name, string path, NamespaceId id);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Pinned network namespace {Id} as {Name} at {Path}")]
    public static partial void Pinned(this ILogger logger, NamespaceId id, string name, string path);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Deleted network namespace {Name} ({Path})")]
    public static partial void Deleted(this ILogger logger, string name, string path);

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Cleanup after a failed {Operation} of {Path} failed too: {Error}")]
    public static partial void CleanupFailed(this ILogger logger, string operation, string path, string error);
}
