using System.Runtime.InteropServices;
using LinuxNetns.Interop;
using LinuxNetns.Logging;
using Microsoft.Extensions.Logging;
using LinuxNetns.Nsfs;
using LinuxNetns.Threads;

namespace LinuxNetns.Exec;

/// <summary>
/// The mount namespace an exec's child runs in (docs/exec.md, "The prepared mount namespace"): made once per network
/// namespace and exec settings by <see cref="SwitchedWindow"/> (its own propagation, a fresh sysfs of the network
/// namespace, the <c>/etc/netns/NAME</c> binds), kept by a descriptor and entered by every exec, so that an exec does
/// not copy the host's mount table. <see cref="Cache"/> decides when one may be reused.
/// </summary>
internal sealed class PreparedMountNamespace : IDisposable
{
    private PreparedMountNamespace(SafeFdHandle mount, SafeFdHandle events, NamespaceId id, long generation,
        EtcSnapshot etc, int[] bindErrnos, bool sysfsReadOnly)
    {
        Mount = mount;
        Events = events;
        Id = id;
        Generation = generation;
        Etc = etc;
        BindErrnos = bindErrnos;
        SysfsReadOnly = sysfsReadOnly;
    }

    /// <summary>The mount namespace (an nsfs descriptor).</summary>
    public SafeFdHandle Mount { get; }

    /// <summary>Its <c>mountinfo</c>, opened from inside it: poll reports any mount or unmount in it since.</summary>
    public SafeFdHandle Events { get; }

    /// <summary>Its identity.</summary>
    public NamespaceId Id { get; }

    /// <summary>The host mount-table generation it was made from.</summary>
    public long Generation { get; }

    /// <summary>The <c>/etc/netns/NAME</c> entries it binds, as they were when it was made.</summary>
    public EtcSnapshot Etc { get; }

    /// <summary>errno of each bind, 0 when it worked (in <see cref="Etc"/>'s order).</summary>
    public int[] BindErrnos { get; }

    /// <summary>True when its sysfs is mounted read-only (the host's is).</summary>
    public bool SysfsReadOnly { get; }

    /// <summary>Set once a change inside it was seen (a child mounted something): it is never reused then.</summary>
    public bool Changed { get; set; }

    /// <summary>True once it was reached by a namespace's name: it then outlives the handles used with it.</summary>
    public bool Named { get; set; }

    public void Dispose()
    {
        Events.Dispose();
        Mount.Dispose();
    }

    /// <summary>
    /// Makes one: on the window thread (born at home), the build window switches into <paramref name="netFd"/>'s namespace,
    /// unshares a mount namespace, sets its propagation, mounts a fresh sysfs, binds the <c>/etc/netns</c> entries and
    /// opens the result; the thread switches back.
    /// </summary>
    public static unsafe PreparedMountNamespace Build(int netFd, EtcSnapshot etc, string sysfsSource,
        MountPropagation propagation, long generation, string where)
    {
        using var memory = new NativeAllocations();
        SwitchedWindow.BuildPlan* plan = Plan(memory, netFd, etc, sysfsSource, propagation, out bool readOnly);
        int* errnos = plan->BindErrnos;
        int binds = plan->BindCount;

        SwitchedWindow.Build(plan);

        var mount = new SafeFdHandle(plan->MountFd);
        var events = new SafeFdHandle(plan->EventsFd);
        if (plan->FailedStep != SwitchedWindow.Step.None)
        {
            mount.Dispose();
            events.Dispose();
            throw ExecErrors.StepFailed(plan->FailedStep, plan->Errno, where, propagation);
        }
        NamespaceId id;
        try
        {
            id = NamespaceFile.IdOf(mount, "/proc/thread-self/ns/mnt");
        }
        catch
        {
            mount.Dispose();
            events.Dispose();
            throw;
        }
        return new PreparedMountNamespace(mount, events, id, generation, etc,
            new ReadOnlySpan<int>(errnos, binds).ToArray(), readOnly);
    }

    /// <summary>
    /// The same mount namespace made on the calling thread, which is left in it and in <paramref name="netFd"/>'s
    /// network namespace: for <see cref="ProcessReplacer"/>, which calls execve next, as <c>ip netns exec</c> makes
    /// its mounts on its own thread. Nothing is kept. Returns the errno of each bind (0 when it worked); a failed step
    /// throws, with the thread possibly half-way (the process then only reports it and exits).
    /// </summary>
    public static unsafe int[] MakeHere(int netFd, EtcSnapshot etc, string sysfsSource, MountPropagation propagation, string where,
        out bool sysfsReadOnly)
    {
        using var memory = new NativeAllocations();
        SwitchedWindow.BuildPlan* plan = Plan(memory, netFd, etc, sysfsSource, propagation, out sysfsReadOnly);
        SwitchedWindow.BuildHere(plan);
        if (plan->FailedStep != SwitchedWindow.Step.None) throw ExecErrors.StepFailed(plan->FailedStep, plan->Errno, where, propagation);
        return new ReadOnlySpan<int>(plan->BindErrnos, plan->BindCount).ToArray();
    }

    /// <summary>The plan of a build, in <paramref name="memory"/>.</summary>
    private static unsafe SwitchedWindow.BuildPlan* Plan(NativeAllocations memory, int netFd, EtcSnapshot etc, string sysfsSource,
        MountPropagation propagation, out bool readOnly)
    {
        // A read-only sysfs cannot be replaced by a writable one (iproute2 checks this when it cannot detach the old
        // one); we keep read-only whenever the current /sys is, which also holds after a successful detach.
        readOnly = Libc.StatFsPath("/sys", out Libc.StatFs fs) == 0 && (fs.Flags & Libc.ST_RDONLY) != 0;
        int binds = etc.Entries.Length;
        SwitchedWindow.BuildPlan* plan = memory.Alloc<SwitchedWindow.BuildPlan>();
        var sources = (byte**)memory.Alloc<nint>(binds);
        var targets = (byte**)memory.Alloc<nint>(binds);
        for (int i = 0; i < binds; i++)
        {
            sources[i] = memory.Utf8(etc.Entries[i].Source);
            targets[i] = memory.Utf8(etc.Entries[i].Target);
        }
        plan->Calls = SwitchedCalls.Real;
        plan->Strings = SwitchedWindow.ConstantStrings;
        plan->NetFd = netFd;
        plan->PropagationFlags = (nuint)(Libc.MS_REC | (propagation == MountPropagation.Slave ? Libc.MS_SLAVE : Libc.MS_PRIVATE));
        plan->SysfsFlags = readOnly ? (nuint)Libc.MS_RDONLY : 0;
        plan->SysfsSource = memory.Utf8(sysfsSource);
        plan->BindCount = binds;
        plan->BindSources = sources;
        plan->BindTargets = targets;
        plan->BindErrnos = memory.Alloc<int>(binds);
        plan->MountFd = -1;
        plan->EventsFd = -1;
        return plan;
    }

    /// <summary>
    /// The prepared mount namespaces of the process, by network namespace and exec settings. One is reused only
    /// while it is exactly what a new one would be: the host's mount table has not changed since it was made (poll
    /// on <c>/proc/thread-self/mountinfo</c> of the home thread), nothing was mounted or unmounted inside it, and the
    /// <c>/etc/netns/NAME</c> entries and their <c>/etc</c> targets are the same files. Released when stale (at the
    /// next exec, or at once on a host mount change, seen by <see cref="ChildMonitor"/>), when a handle of its
    /// network namespace is disposed (unless it was reached by name), and never needed to keep anything alive:
    /// see docs/exec.md.
    /// </summary>
    internal static class Cache
    {
        private readonly record struct Key(NamespaceId Network, MountPropagation Propagation, string? EtcDirectory, string SysfsSource);

        private static readonly object Gate = new();
        private static readonly Dictionary<Key, PreparedMountNamespace> Table = new();
        private static SafeFdHandle? s_homeEvents;
        private static long s_generation;

        /// <summary>How many are kept now (for tests).</summary>
        public static int Count
        {
            get
            {
                lock (Gate) return Table.Count;
            }
        }

        /// <summary>
        /// A prepared mount namespace for an exec, with a reference added to its descriptor (release it with
        /// <see cref="SafeHandle.DangerousRelease"/> after the spawn): the cached one if still exact, else a new one.
        /// </summary>
        public static PreparedMountNamespace Acquire(NetworkNamespace ns, int netFd, string? etcDirectory, string sysfsSource,
            MountPropagation propagation, bool byName, ILogger log)
        {
            EtcSnapshot etc = EtcSnapshot.Read(etcDirectory, log);
            var key = new Key(ns.Id, propagation, etcDirectory, sysfsSource);
            long generation;
            lock (Gate)
            {
                generation = ObserveHost();
                if (Table.TryGetValue(key, out PreparedMountNamespace? kept))
                {
                    if (IsExact(kept, generation, etc))
                    {
                        if (byName) kept.Named = true;
                        AddRef(kept);
                        return kept;
                    }
                    Table.Remove(key);
                    kept.Dispose(); // an exec using it now holds a reference: the descriptor closes after it
                }
            }

            PreparedMountNamespace made = Build(netFd, etc, sysfsSource, propagation, generation, ns.Name ?? ns.Path);
            made.Named = byName;
            log.ExecPrepared(ns.Name ?? ns.Path, made.Id, propagation == MountPropagation.Slave ? "slave" : "private",
                made.SysfsReadOnly ? " (read-only)" : "", etc.Entries.Length, etcDirectory ?? "(none)");
            lock (Gate)
            {
                AddRef(made);
                if (Table.Remove(key, out PreparedMountNamespace? raced)) raced.Dispose();
                Table[key] = made;
            }
            return made;
        }

        /// <summary>Drops those of <paramref name="network"/> not reached by name: one of its handles was disposed.</summary>
        public static void ReleaseHandleOf(NamespaceId network)
        {
            lock (Gate)
            {
                if (Table.Count == 0) return;
                foreach (Key key in Table.Keys.Where(k => k.Network == network && !Table[k].Named).ToList())
                {
                    Table.Remove(key, out PreparedMountNamespace? entry);
                    entry!.Dispose();
                }
            }
        }

        /// <summary>The host's mount table changed (seen by the child monitor): every kept one is stale.</summary>
        public static void HostMountsChanged()
        {
            lock (Gate)
            {
                s_generation++;
                DisposeAll();
            }
        }

        private static void DisposeAll()
        {
            foreach (PreparedMountNamespace entry in Table.Values) entry.Dispose();
            Table.Clear();
        }

        private static void AddRef(PreparedMountNamespace entry)
        {
            // Released by the exec that acquired it, once its plan (which carries the raw number) is spent.
            bool added = false;
            entry.Mount.DangerousAddRef(ref added);
        }

        /// <summary>The current generation of the host's mount table, after asking the kernel whether it changed.</summary>
        private static long ObserveHost()
        {
            s_homeEvents ??= OpenHomeEvents();
            if (Changed(s_homeEvents.Fd))
            {
                s_generation++;
                DisposeAll();
            }
            return s_generation;
        }

        private static bool IsExact(PreparedMountNamespace entry, long generation, EtcSnapshot etc)
        {
            if (entry.Changed || entry.Generation != generation || !entry.Etc.Equals(etc)) return false;
            if (Changed(entry.Events.Fd)) entry.Changed = true;
            return !entry.Changed;
        }

        /// <summary>True when the mount namespace of this <c>mountinfo</c> descriptor changed since the last poll.</summary>
        private static bool Changed(int mountInfoFd)
        {
            Span<Libc.PollFd> fd = [new Libc.PollFd { Fd = mountInfoFd, Events = Libc.POLLPRI }];
            return Libc.Poll(fd, 0) > 0 && (fd[0].ReturnedEvents & (Libc.POLLPRI | Libc.POLLERR)) != 0;
        }

        /// <summary>The home thread's mountinfo: the host's mount namespace as this process sees it.</summary>
        internal static SafeFdHandle OpenHomeEvents()
        {
            var item = new LibraryWorkItem<SafeFdHandle>(() =>
            {
                SafeFdHandle fd = Libc.Open("/proc/thread-self/mountinfo", Libc.O_RDONLY);
                if (fd.IsInvalid)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    fd.Dispose();
                    throw NamespaceErrors.Failed(NamespaceOperation.OpenMountNamespace, "open", "/proc/thread-self/mountinfo", (Errno)errno, "Is /proc mounted?");
                }
                return fd;
            });
            HomeThread.Execute(item);
            item.ThrowIfFailed();
            return item.Result!;
        }
    }
}

/// <summary>
/// The entries of an <c>/etc/netns/NAME</c> directory (readdir order, hidden ones included, as iproute2) with the
/// identity of each entry and of its <c>/etc</c> target: equal snapshots mean the same binds. A file edited in place
/// keeps its identity and is seen through the bind; one replaced (renamed over) is a different file, and so is a
/// replaced <c>/etc</c> target, whose replacement also detaches the old bind in every mount namespace.
/// </summary>
internal sealed class EtcSnapshot : IEquatable<EtcSnapshot>
{
    /// <summary>One entry: <c>/etc/netns/NAME/E</c> → <c>/etc/E</c>, with both identities (0 when missing).</summary>
    public readonly record struct Entry(string Source, string Target, FileIdentity SourceFile, FileIdentity TargetFile);

    /// <summary>st_dev and st_ino of a file; zero when it does not exist.</summary>
    public readonly record struct FileIdentity(ulong Dev, ulong Ino);

    public static readonly EtcSnapshot Empty = new([]);

    private EtcSnapshot(Entry[] entries) => Entries = entries;

    public Entry[] Entries { get; }

    public static EtcSnapshot Read(string? directory, ILogger log)
    {
        // Most namespaces have no such directory: no exception on the path of every exec for that.
        if (directory is null || !Directory.Exists(directory)) return Empty;
        var entries = new List<Entry>();
        try
        {
            foreach (string source in Directory.EnumerateFileSystemEntries(directory))
            {
                string target = "/etc/" + Path.GetFileName(source);
                entries.Add(new Entry(source, target, Identity(source), Identity(target)));
            }
        }
        catch (DirectoryNotFoundException)
        {
            // No /etc/netns/NAME: nothing to bind, silently (iproute2).
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.EtcDirectoryUnreadable(directory, e.Message);
        }
        return entries.Count == 0 ? Empty : new EtcSnapshot(entries.ToArray());
    }

    private static FileIdentity Identity(string path) =>
        Libc.Stat(path, out Libc.StatX st) == 0 ? new FileIdentity(st.Dev, st.Ino) : default;

    public bool Equals(EtcSnapshot? other) => other is not null && Entries.AsSpan().SequenceEqual(other.Entries);

    public override bool Equals(object? obj) => Equals(obj as EtcSnapshot);

    public override int GetHashCode() => Entries.Length;
}
