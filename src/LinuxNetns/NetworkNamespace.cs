using System.Runtime.InteropServices;
using LinuxNetns.Delegated;
using LinuxNetns.Exec;
using LinuxNetns.Interop;
using LinuxNetns.Logging;
using LinuxNetns.Mounts;
using LinuxNetns.Networking;
using LinuxNetns.Nsfs;
using LinuxNetns.Threads;

namespace LinuxNetns;

/// <summary>
/// An open network namespace: a handle on its nsfs file that keeps it alive while open. Named namespaces live
/// under the run directory (<c>/run/netns</c>) exactly as <c>ip netns</c> makes them, so both tools see and use
/// each other's namespaces.
/// </summary>
/// <remarks>
/// Disposing the handle closes the file and ends the library's worker thread for this namespace; a named
/// namespace stays pinned under its name until <see cref="Delete(string)"/>.
/// </remarks>
public sealed partial class NetworkNamespace : IDisposable
{
    private readonly SafeFdHandle _fd;
    private readonly NetworkNamespaceOptions _options;
    private readonly WorkerSlot _worker;
    private readonly string _threadName;
    private readonly Func<PreparedMountNamespace>? _prepareMounts; // WorkerMounts.LikeExec
    private readonly NamespaceAgent? _agent; // FromAgent: a namespace this process cannot enter

    private NetworkNamespace(SafeFdHandle fd, NamespaceId id, string? name, string path, NetworkNamespaceOptions options,
        NamespaceAgent? agent = null)
    {
        _fd = fd;
        _agent = agent;
        Id = id;
        Name = name;
        Path = path;
        _options = options;
        _threadName = $"netns:{name ?? id.Inode.ToString()}";
        _prepareMounts = options.WorkerMounts == WorkerMounts.LikeExec ? PrepareWorkerMounts : null;
        _worker = new WorkerSlot(_threadName, name ?? path, prepareMounts: _prepareMounts);
        Network = new NetworkConfiguration(this);
    }

    /// <summary>
    /// Wraps an open nsfs descriptor in a handle; if that fails (reading its identity), closes the descriptor and
    /// runs <paramref name="undo"/> (e.g. removes the pin just made) before the exception propagates.
    /// </summary>
    private static NetworkNamespace Wrap(SafeFdHandle fd, string? name, string path, NetworkNamespaceOptions options, Action? undo = null,
        NamespaceAgent? agent = null)
    {
        try
        {
            return new NetworkNamespace(fd, NamespaceFile.IdOf(fd, path), name, path, options, agent);
        }
        catch
        {
            fd.Dispose();
            undo?.Invoke();
            throw;
        }
    }

    /// <summary>
    /// Wraps the nsfs descriptor of a namespace that this process cannot enter (it belongs to a user namespace where this
    /// process has no capabilities): sockets, netlink and exec go through <paramref name="agent"/>, which works inside;
    /// what would switch one of this process's threads throws <see cref="NotSupportedException"/>. Takes ownership of
    /// <paramref name="fd"/> (closed on failure).
    /// </summary>
    internal static NetworkNamespace FromAgent(SafeFdHandle fd, NamespaceAgent agent, NetworkNamespaceOptions options) =>
        // /proc/PID/fd/N names the namespace for as long as this handle holds it open.
        Wrap(fd, null, $"/proc/{Environment.ProcessId}/fd/{fd.Fd}", options, agent: agent);

    /// <summary>The agent that works inside for this process (<see cref="FromAgent"/>), or null for an enterable namespace.</summary>
    internal NamespaceAgent? Agent => _agent;

    /// <summary>
    /// Refuses <paramref name="operation"/> for a namespace made with <see cref="FromAgent"/>: it would switch a thread
    /// of this process into it, which the kernel does not allow here.
    /// </summary>
    internal void ThrowIfNotEnterable(string operation)
    {
        if (_agent is null) return;
        throw new NotSupportedException(
            $"{operation} cannot be used on {this}: {_agent.WhyNotEnterable}, so no thread of this process can switch into it " +
            "(setns needs CAP_SYS_ADMIN over the namespace and in this process's own user namespace). What works: CreateSocket " +
            "(sockets made inside, usable from any thread, async included), ExecInNamespace (processes inside) and Network " +
            "(links, addresses, routes). Code that must itself run inside needs root.");
    }

    /// <summary>The namespace's identity (st_dev, st_ino of its nsfs file).</summary>
    public NamespaceId Id { get; }

    /// <summary>The name it was opened or created by, or null for a namespace opened by path, pid or thread.</summary>
    public string? Name { get; }

    /// <summary>
    /// The path it was opened by: <c>/run/netns/NAME</c>, the given path, <c>/proc/PID/ns/net</c>, or for
    /// <see cref="OpenCurrentThread()"/> <c>/proc/PID/task/TID/ns/net</c> (which follows that thread, not the namespace:
    /// it names another namespace once the thread switches, and nothing once it ends).
    /// </summary>
    public string Path { get; }

    /// <summary>
    /// The open nsfs file descriptor, valid until this handle is disposed (e.g. for your own <c>setns</c>). It belongs
    /// to this object: do not dispose it — dispose the <see cref="NetworkNamespace"/>, which also ends its worker thread
    /// and closes its netlink socket.
    /// </summary>
    public SafeHandle Handle => _fd;

    internal SafeFdHandle Fd => _fd;

    internal NetworkNamespaceOptions Options => _options;

    // ---- named namespaces -----------------------------------------------------------------------

    /// <summary>Creates a namespace pinned at <c>/run/netns/<paramref name="name"/></c> (<c>ip netns add</c>).</summary>
    /// <param name="name">The name: 1 to 255 bytes, no '/', not "." or "..".</param>
    /// <returns>An open handle on the new namespace.</returns>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="NamespaceAlreadyExistsException">A namespace of that name exists.</exception>
    /// <exception cref="NamespaceNotFoundException">A concurrent <see cref="Delete(string)"/> of the same name removed it
    /// while it was being made: this create lost (exactly one create wins each time the name exists).</exception>
    /// <exception cref="NamespacePermissionException">Not running with CAP_SYS_ADMIN.</exception>
    public static NetworkNamespace Create(string name) => Create(name, NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="Create(string)"/>
    /// <param name="name">The name: 1 to 255 bytes, no '/', not "." or "..".</param>
    /// <param name="options">Run directory and logging.</param>
    public static NetworkNamespace Create(string name, NetworkNamespaceOptions options) => Create(name, options, onCallingThread: false);

    /// <summary>
    /// <see cref="Create(string, NetworkNamespaceOptions)"/> made on the calling thread, as ip does, for a process that
    /// ends right after it on its main thread (the netns tool's <c>add</c>): no home thread is started for it. A failed
    /// switch back leaves the thread in the new namespace (<see cref="NamespaceRestoreException"/>): end the process then.
    /// </summary>
    internal static NetworkNamespace CreateBeforeExit(string name, NetworkNamespaceOptions options) => Create(name, options, onCallingThread: true);

    private static NetworkNamespace Create(string name, NetworkNamespaceOptions options, bool onCallingThread)
    {
        NamespaceName.Validate(name);
        ArgumentNullException.ThrowIfNull(options);
        string path = options.PathOf(name);
        SafeFdHandle fd = NamespaceMounts.CreatePinned(name, path, options, onCallingThread);
        NetworkNamespace ns = Wrap(fd, name, path, options, undo: () => NamespaceMounts.Discard("add", path, options.Logger));
        options.Logger.Created(name, path, ns.Id);
        return ns;
    }

    /// <summary>Opens the named namespace <c>/run/netns/<paramref name="name"/></c>.</summary>
    /// <exception cref="NamespaceNotFoundException">No namespace of that name exists.</exception>
    /// <exception cref="NotANetworkNamespaceException">The name's file is not a namespace (stale, or its mount is not visible here).</exception>
    public static NetworkNamespace Open(string name) => Open(name, NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="Open(string)"/>
    public static NetworkNamespace Open(string name, NetworkNamespaceOptions options)
    {
        NamespaceName.Validate(name);
        ArgumentNullException.ThrowIfNull(options);
        string path = options.PathOf(name);
        // Concatenated, not interpolated: an interpolated string rents from the shared array pool, whose first use
        // (per-thread buckets, a trimming callback, a random seed read from /dev/urandom) a short process pays for.
        SafeFdHandle fd = NamespaceFile.OpenNetwork(path, "open network namespace",
            string.Concat("No namespace named \"", name, "\" exists: create it with NetworkNamespace.Create or `ip netns add ", name, "`."));
        return Wrap(fd, name, path, options);
    }

    /// <summary>Deletes the named namespace (<c>ip netns delete</c>): unmounts and removes its file. The namespace
    /// itself lives on while anything still uses it (a process, a thread, an open handle).</summary>
    /// <exception cref="NamespaceNotFoundException">No namespace of that name exists.</exception>
    /// <exception cref="NamespaceBusyException">Something else is still mounted on its file.</exception>
    public static void Delete(string name) => Delete(name, NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="Delete(string)"/>
    public static void Delete(string name, NetworkNamespaceOptions options)
    {
        NamespaceName.Validate(name);
        ArgumentNullException.ThrowIfNull(options);
        string path = options.PathOf(name);
        NamespaceMounts.Unpin(name, path, options.Logger);
        options.Logger.Deleted(name, path);
    }

    /// <summary>The names in the run directory, in directory order (<c>ip netns list</c>); empty when it does not exist.</summary>
    /// <exception cref="NetworkNamespaceException">The run directory exists but cannot be read (e.g. EACCES).</exception>
    public static IReadOnlyList<string> List() => List(NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="List()"/>
    public static IReadOnlyList<string> List(NetworkNamespaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return TryList(options) ?? [];
    }

    /// <summary>
    /// <see cref="List(NetworkNamespaceOptions)"/>, or null when there is no run directory (the netns tool prints
    /// nothing then, not even an empty JSON array, as iproute2).
    /// </summary>
    internal static List<string>? TryList(NetworkNamespaceOptions options)
    {
        // readdir order, unsorted, as iproute2 prints it; every entry, dot-names included.
        List<string>? names = Libc.ReadDirectoryNames(options.RunDirectory, out int errno);
        // No directory (or something else by that name): nothing to list, as for iproute2, whose opendir fails.
        if (names is not null || errno is Libc.ENOENT or Libc.ENOTDIR) return names;
        throw NamespaceErrors.Failed(NamespaceOperation.OpenRunDirectory, "list the run directory", options.RunDirectory, (Errno)errno);
    }

    /// <summary>True when the run directory has an entry of that name.</summary>
    public static bool Exists(string name) => Exists(name, NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="Exists(string)"/>
    public static bool Exists(string name, NetworkNamespaceOptions options)
    {
        NamespaceName.Validate(name);
        ArgumentNullException.ThrowIfNull(options);
        return Libc.LStat(options.PathOf(name), out _) == 0;
    }

    // ---- any namespace --------------------------------------------------------------------------

    /// <summary>Opens any nsfs file of a network namespace, e.g. a bind mount or <c>/proc/PID/ns/net</c>.</summary>
    public static NetworkNamespace OpenPath(string path) => OpenPath(path, NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="OpenPath(string)"/>
    public static NetworkNamespace OpenPath(string path, NetworkNamespaceOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        SafeFdHandle fd = NamespaceFile.OpenNetwork(path, "open network namespace", "Check the path.");
        return Wrap(fd, null, path, options);
    }

    /// <summary>Opens the network namespace of process <paramref name="pid"/> (<c>/proc/PID/ns/net</c>).</summary>
    /// <remarks>
    /// Never the namespace of another process that reused the pid: a pidfd of the process is opened first, then its
    /// namespace, then the pidfd is checked to refer to a live process (a live process keeps its pid). Without
    /// <c>pidfd_open</c> (Linux before 5.3) or for a thread id that is not a process, the namespace file is opened directly.
    /// </remarks>
    /// <exception cref="NamespaceNotFoundException">No such process, or it exited while its namespace was being opened.</exception>
    public static NetworkNamespace OpenProcess(int pid) => OpenProcess(pid, NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="OpenProcess(int)"/>
    public static NetworkNamespace OpenProcess(int pid, NetworkNamespaceOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        ArgumentNullException.ThrowIfNull(options);
        string path = $"/proc/{pid}/ns/net";
        SafeFdHandle fd = ProcessNamespace.Open(pid, path, "open network namespace of process",
            $"No process with pid {pid} exists (or it has exited).");
        return Wrap(fd, null, path, options);
    }

    /// <summary>Opens the calling thread's current network namespace (<c>/proc/thread-self/ns/net</c>).</summary>
    public static NetworkNamespace OpenCurrentThread() => OpenCurrentThread(NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="OpenCurrentThread()"/>
    public static NetworkNamespace OpenCurrentThread(NetworkNamespaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string path = $"/proc/{Environment.ProcessId}/task/{Libc.GetThreadId()}/ns/net";
        SafeFdHandle fd = NamespaceFile.OpenNetwork("/proc/thread-self/ns/net", "open the current thread's network namespace", "Is /proc mounted?");
        return Wrap(fd, null, path, options);
    }

    /// <summary>
    /// Pins this namespace under <paramref name="name"/> in the run directory (<c>ip netns attach</c>), with a bind
    /// mount (never a symlink: pids are reused). Works for any open namespace: a process's (a container's, so that
    /// <c>ip netns</c> sees it), a path's, a thread's.
    /// </summary>
    /// <exception cref="NamespaceAlreadyExistsException">The name is taken.</exception>
    /// <exception cref="NamespaceNotFoundException">A concurrent <see cref="Delete(string)"/> of the same name removed it while it was being pinned.</exception>
    public void Pin(string name)
    {
        NamespaceName.Validate(name);
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        ThrowIfNotEnterable("Pin");
        string path = _options.PathOf(name);
        NamespaceMounts.Pin(_fd, name, path, _options);
        _options.Logger.Pinned(Id, name, path);
    }

    /// <summary>Closes the handle and ends this namespace's worker thread, if any.</summary>
    public void Dispose()
    {
        _worker.Close();
        CloseEventLoop();
        CloseResolver();
        DisposeNetlink();
        ReleaseTemporaryPin();
        PreparedMountNamespace.Cache.ReleaseHandleOf(Id);
        _fd.Dispose();
    }

    /// <summary><c>net:[inode]</c>, with the name if it has one.</summary>
    /// <remarks>Concatenated, not interpolated, for the reason <see cref="NamespaceId.ToString"/> gives.</remarks>
    public override string ToString() => Name is null ? Id.ToString() : string.Concat(Name, " (", Id.ToString(), ")");
}
