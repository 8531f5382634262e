using System.Runtime.CompilerServices;
using LinuxNetns.Interop;
using LinuxNetns.Mounts;
using LinuxNetns.Nsfs;

namespace LinuxNetns;

// The questions `ip netns identify`, `pids` and `monitor` answer. Identity is (st_dev, st_ino), never a path or
// an fd number (docs/design.md §8).
public sealed partial class NetworkNamespace
{
    /// <summary>
    /// The names in the run directory under which this namespace is pinned, in directory order (usually one, none
    /// for an anonymous namespace, several after more than one <see cref="Pin(string)"/>).
    /// </summary>
    /// <remarks><c>ip netns identify</c> prints the last of them (an empty line when there is none).</remarks>
    public IReadOnlyList<string> GetNames()
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        return NamesOf(Id, _options);
    }

    /// <summary>The names under which process <paramref name="pid"/>'s network namespace is pinned (<c>ip netns identify PID</c>).</summary>
    /// <exception cref="NamespaceNotFoundException">No such process.</exception>
    public static IReadOnlyList<string> Identify(int pid) => Identify(pid, NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="Identify(int)"/>
    public static IReadOnlyList<string> Identify(int pid, NetworkNamespaceOptions options)
    {
        using NetworkNamespace ns = OpenProcess(pid, options);
        return ns.GetNames();
    }

    /// <summary>
    /// The processes whose network namespace is this one, in <c>/proc</c> order (<c>ip netns pids</c>). Like iproute2,
    /// this looks at each process's main thread (<c>/proc/PID/ns/net</c>); a single thread switched into the
    /// namespace does not make its process count (see <see cref="NamespaceDiagnostics.FindStrayThreads"/> for threads).
    /// </summary>
    public IReadOnlyList<int> GetProcessIds()
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        var pids = new List<int>();
        List<string> entries = Libc.ReadDirectoryNames("/proc", out int errno)
            ?? throw new IOException($"Cannot list the processes in /proc: {NamespaceErrors.Describe(errno)}. Is /proc mounted?");
        foreach (string entry in entries)
        {
            if (!int.TryParse(entry, System.Globalization.NumberStyles.None, null, out int pid)) continue;
            // A process that ended meanwhile, or that we may not inspect, is skipped, as iproute2 does.
            if (NamespaceFile.TryIdOfPath($"/proc/{entry}/ns/net") == Id) pids.Add(pid);
        }
        return pids;
    }

    /// <summary>The processes inside the named namespace (<c>ip netns pids NAME</c>).</summary>
    /// <exception cref="NamespaceNotFoundException">No namespace of that name exists.</exception>
    public static IReadOnlyList<int> GetProcessIds(string name) => GetProcessIds(name, NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="GetProcessIds(string)"/>
    public static IReadOnlyList<int> GetProcessIds(string name, NetworkNamespaceOptions options)
    {
        using NetworkNamespace ns = Open(name, options);
        return ns.GetProcessIds();
    }

    /// <summary>
    /// Reports names added to and removed from the run directory, as <c>ip netns monitor</c> does (inotify, IN_CREATE
    /// and IN_DELETE), until <paramref name="cancellationToken"/> is cancelled or the enumeration is disposed (e.g. by
    /// leaving an <c>await foreach</c>). The watch is in place once the first <c>MoveNextAsync</c> has been called;
    /// changes made by any tool are reported, the library's and iproute2's alike.
    /// </summary>
    /// <remarks>
    /// Creates the run directory if it does not exist, as iproute2 does. Cancellation ends the enumeration with an
    /// <see cref="OperationCanceledException"/>; the sequence also ends, normally, when the directory is removed or
    /// unmounted. A dedicated background thread (started in the process's home namespace) waits for the events.
    /// </remarks>
    /// <param name="cancellationToken">Stops the monitor.</param>
    public static IAsyncEnumerable<NamespaceEvent> Monitor(CancellationToken cancellationToken = default) =>
        Monitor(NetworkNamespaceOptions.Default, cancellationToken);

    /// <inheritdoc cref="Monitor(CancellationToken)"/>
    /// <param name="options">The run directory to watch, and logging.</param>
    /// <param name="cancellationToken">Stops the monitor.</param>
    public static IAsyncEnumerable<NamespaceEvent> Monitor(NetworkNamespaceOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return MonitorCore(options, cancellationToken);
    }

    private static async IAsyncEnumerable<NamespaceEvent> MonitorCore(NetworkNamespaceOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using RunDirectoryWatcher watcher = RunDirectoryWatcher.Start(options.RunDirectory, options.Logger);
        while (await watcher.Events.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (watcher.Events.TryRead(out NamespaceEvent e)) yield return e;
        }
    }

    /// <summary>Names in the run directory whose file (followed, like <c>stat</c>) has identity <paramref name="id"/>.</summary>
    internal static IReadOnlyList<string> NamesOf(NamespaceId id, NetworkNamespaceOptions options)
    {
        var names = new List<string>();
        foreach (string name in List(options))
        {
            if (Libc.Stat(options.PathOf(name), out Libc.StatX st) == 0 && new NamespaceId(st.Dev, st.Ino) == id) names.Add(name);
        }
        return names;
    }
}
