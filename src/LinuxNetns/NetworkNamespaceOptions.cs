using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LinuxNetns;

/// <summary>Where named namespaces live and where diagnostics go. The defaults are those of <c>ip netns</c>.</summary>
public sealed class NetworkNamespaceOptions
{
    private ILogger? _logger;

    /// <summary>The options the static entry points use: <c>/run/netns</c>, <c>/etc/netns</c>, no logging.</summary>
    public static NetworkNamespaceOptions Default { get; } = new();

    /// <summary>The directory of named namespaces (iproute2's NETNS_RUN_DIR). Default <c>/run/netns</c>.</summary>
    public string RunDirectory { get; init; } = "/run/netns";

    /// <summary>The directory whose <c>NAME/</c> subfolders are bind-mounted over <c>/etc</c> on exec. Default <c>/etc/netns</c>.</summary>
    public string EtcDirectory { get; init; } = "/etc/netns";

    /// <summary>Where the library logs: Debug for each kernel step, Information for created and deleted namespaces,
    /// Warning for what iproute2 only warns about. Default: no logging.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>How long a library-owned worker thread (used by <see cref="NetworkNamespace.Run(Action)"/> and
    /// <see cref="NetworkNamespace.CreateSocket"/>) waits for more work before it ends. Default 5 seconds.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive (or <see cref="Timeout.InfiniteTimeSpan"/>), or over
    /// <see cref="int.MaxValue"/> milliseconds.</exception>
    public TimeSpan WorkerIdleTimeout
    {
        get => _workerIdleTimeout;
        init
        {
            if (value != Timeout.InfiniteTimeSpan && (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue))
            {
                throw new ArgumentOutOfRangeException(nameof(WorkerIdleTimeout), value,
                    "WorkerIdleTimeout must be positive and at most int.MaxValue milliseconds, or Timeout.InfiniteTimeSpan.");
            }
            _workerIdleTimeout = value;
        }
    }

    private readonly TimeSpan _workerIdleTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The mounts the namespace's worker threads see: the process's (<see cref="LinuxNetns.WorkerMounts.Host"/>, the
    /// default) or those <c>ip netns exec</c> would give a program (<see cref="LinuxNetns.WorkerMounts.LikeExec"/>:
    /// the namespace's own sysfs, the <c>/etc/netns/NAME</c> files), for in-process code that must see what such a
    /// program sees (<c>NetworkInterface</c> details, <c>/sys/class/net</c>, the resolver's files).
    /// </summary>
    public WorkerMounts WorkerMounts { get; init; } = WorkerMounts.Host;

    internal ILogger Logger => _logger ??= LoggerFactory.CreateLogger("LinuxNetns");

    internal string PathOf(string name) => System.IO.Path.Combine(RunDirectory, name);
}
