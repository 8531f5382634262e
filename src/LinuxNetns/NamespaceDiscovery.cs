using System.Collections;
using LinuxNetns.Discovery;
using LinuxNetns.Exec;
using LinuxNetns.Mounts;
using LinuxNetns.Threads;

namespace LinuxNetns;

/// <summary>Where <see cref="NamespaceDiscovery.Discover(NetworkNamespaceOptions, DiscoverySources)"/> looks.</summary>
[Flags]
public enum DiscoverySources
{
    /// <summary>The names in the run directory.</summary>
    RunDirectory = 1,

    /// <summary>Each process's network namespace (<c>/proc/PID/ns/net</c>).</summary>
    Processes = 2,

    /// <summary>Each thread's (<c>/proc/PID/task/TID/ns/net</c>), reported where it differs from its process's.</summary>
    Threads = 4,

    /// <summary>Open descriptors of network namespaces (<c>/proc/PID/fd/*</c> linking to <c>net:[…]</c>).</summary>
    Descriptors = 8,

    /// <summary>nsfs bind mounts in every mount namespace a visible process is in (<c>/proc/PID/mountinfo</c>, once per mount namespace).</summary>
    BindMounts = 16,

    /// <summary>Each found namespace's nsid in the caller's namespace and its owning user namespace (one open of each namespace).</summary>
    Details = 32,

    /// <summary>Everything (the default).</summary>
    All = RunDirectory | Processes | Threads | Descriptors | BindMounts | Details,
}

/// <summary>
/// What a discovery skipped rather than failed on. Every count is of entries (a file or directory under <c>/proc</c>
/// or the run directory), not of processes: one process whose <c>/proc</c> entries may not be read counts once per entry tried.
/// </summary>
/// <param name="Vanished">Entries gone while they were read: a process or thread that exited, a descriptor closed, a mount
/// namespace left (ENOENT, ESRCH).</param>
/// <param name="Denied">Entries the kernel refused to show (EACCES, EPERM: ptrace access rules, a security module, a process
/// of another user namespace; in some sandboxes even root's reads of <c>/proc/1/ns/*</c>).</param>
/// <param name="Unrecognized">Entries that are not what they should be: a name in the run directory that is no network
/// namespace (a stale placeholder, another namespace type, an ordinary file), an unparsable <c>mountinfo</c> line.</param>
/// <param name="Failed">Entries that failed for any other reason (another errno, a netlink refusal of an nsid query).</param>
public readonly record struct DiscoverySkips(int Vanished, int Denied, int Unrecognized, int Failed)
{
    /// <summary>All skipped entries.</summary>
    public int Total => Vanished + Denied + Unrecognized + Failed;
}

/// <summary>The namespaces a discovery found (each once, in order of first sighting), and what it had to skip.</summary>
public sealed class DiscoveryResult : IReadOnlyList<DiscoveredNamespace>
{
    private readonly List<DiscoveredNamespace> _namespaces;

    internal DiscoveryResult(List<DiscoveredNamespace> namespaces, DiscoverySkips skipped, int processesScanned, int mountNamespacesScanned)
    {
        _namespaces = namespaces;
        Skipped = skipped;
        ProcessesScanned = processesScanned;
        MountNamespacesScanned = mountNamespacesScanned;
    }

    /// <summary>What was skipped (never thrown): vanished processes, unreadable entries, odd files.</summary>
    public DiscoverySkips Skipped { get; }

    /// <summary>How many <c>/proc/PID</c> directories were looked at.</summary>
    public int ProcessesScanned { get; }

    /// <summary>How many distinct mount namespaces' mount tables were read.</summary>
    public int MountNamespacesScanned { get; }

    /// <inheritdoc/>
    public DiscoveredNamespace this[int index] => _namespaces[index];

    /// <inheritdoc/>
    public int Count => _namespaces.Count;

    /// <summary>The namespace with this identity, or null when it was not found.</summary>
    public DiscoveredNamespace? Find(NamespaceId id) => _namespaces.Find(n => n.Id == id);

    /// <inheritdoc/>
    public IEnumerator<DiscoveredNamespace> GetEnumerator() => _namespaces.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// Finds every network namespace reachable from this host, not only the named ones <c>ip netns</c> sees: those of
/// processes and threads, those held open by a descriptor, those bind-mounted anywhere (a container runtime's, a
/// process-private mount namespace's), and the run directory's names. See docs/design.md §13.
/// </summary>
public static class NamespaceDiscovery
{
    /// <summary>
    /// Scans <c>/proc</c> and the run directory and returns each network namespace once (by identity), with its holders,
    /// its nsid in the caller's namespace and its owning user namespace. Never throws for what it meets on the way:
    /// processes that exit during the scan, entries it may not read and odd files are skipped and counted in
    /// <see cref="DiscoveryResult.Skipped"/>.
    /// </summary>
    /// <remarks>
    /// Needs root (CAP_SYS_ADMIN and CAP_SYS_PTRACE) to see other users' processes; without it the scan still works and
    /// reports what it could see. Namespaces held only by something no visible process reaches (a bind mount in a mount
    /// namespace no process is in any more, a descriptor passed in a unix socket's queue) cannot be found from
    /// <c>/proc</c>.
    /// </remarks>
    public static DiscoveryResult Discover() => Discover(NetworkNamespaceOptions.Default, DiscoverySources.All);

    /// <inheritdoc cref="Discover()"/>
    /// <param name="options">The run directory whose names are reported and used by <see cref="DiscoveredNamespace.Open()"/>.</param>
    public static DiscoveryResult Discover(NetworkNamespaceOptions options) => Discover(options, DiscoverySources.All);

    /// <inheritdoc cref="Discover()"/>
    /// <param name="options">The run directory whose names are reported and used by <see cref="DiscoveredNamespace.Open()"/>.</param>
    /// <param name="sources">Where to look (fewer sources, faster scan).</param>
    public static DiscoveryResult Discover(NetworkNamespaceOptions options, DiscoverySources sources)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new DiscoveryScan(options, sources).Run();
    }
}
