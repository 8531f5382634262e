using System.Runtime.CompilerServices;
using System.Text;
using LinuxNetns.Interop;
using LinuxNetns.Logging;
using Microsoft.Extensions.Logging;

namespace LinuxNetns.Kernel;

/// <summary>
/// The namespace half of <c>ip netns exec</c> (docs/kernel.md §4, §10), prepared before any thread switches and then
/// applied by <see cref="Apply"/> on the exec thread with raw syscalls only: setns(CLONE_NEWNET) →
/// unshare(CLONE_NEWNS) → make <c>/</c> recursively private (or slave) → detach <c>/sys</c> and mount a fresh sysfs
/// → bind each entry of <c>/etc/netns/NAME</c> over <c>/etc</c>.
/// </summary>
/// <remarks>
/// The propagation change comes before any mount: until then every mount of the thread's new mount namespace would
/// propagate to the host's (shared) mounts. Only the bind mounts may fail without failing the exec, as in iproute2.
/// </remarks>
internal sealed unsafe class ExecMountNamespace
{
    /// <summary>The step of <see cref="Apply"/> that failed.</summary>
    public enum Step
    {
        None,
        SaveNamespaces,
        SetnsNetwork,
        UnshareMount,
        Propagation,
        MountSysfs,
    }

    private readonly byte[] _strings;   // every path, NUL-terminated, back to back
    private readonly int _sysfsSource;
    private readonly int[] _bindSources;
    private readonly int[] _bindTargets;
    private readonly ulong _propagationFlags;
    private readonly ulong _sysfsFlags;

    private ExecMountNamespace(byte[] strings, int sysfsSource, int[] bindSources, int[] bindTargets,
        string[] bindSourcePaths, string[] bindTargetPaths, ulong propagationFlags, ulong sysfsFlags)
    {
        _strings = strings;
        _sysfsSource = sysfsSource;
        _bindSources = bindSources;
        _bindTargets = bindTargets;
        BindSourcePaths = bindSourcePaths;
        BindTargetPaths = bindTargetPaths;
        _propagationFlags = propagationFlags;
        _sysfsFlags = sysfsFlags;
    }

    /// <summary>The bind sources (<c>/etc/netns/NAME/E</c>), for messages.</summary>
    public string[] BindSourcePaths { get; }

    /// <summary>The bind targets (<c>/etc/E</c>), for messages.</summary>
    public string[] BindTargetPaths { get; }

    /// <summary>True when the fresh sysfs is mounted read-only (the current one is).</summary>
    public bool SysfsReadOnly => _sysfsFlags != 0;

    /// <summary>
    /// Prepares everything that needs memory, files or managed code: the <c>/etc/netns/NAME</c> listing (readdir
    /// order, hidden entries included, as iproute2), whether <c>/sys</c> is read-only, the C strings.
    /// </summary>
    /// <param name="etcDirectory">The <c>/etc/netns/NAME</c> directory, or null for no bind mounts.</param>
    /// <param name="sysfsSource">The sysfs "device" name shown in mountinfo (iproute2 uses the namespace name).</param>
    /// <param name="propagation">How the new mount namespace is cut off from the host's.</param>
    /// <param name="log">Where to warn about an unreadable directory.</param>
    public static ExecMountNamespace Prepare(string? etcDirectory, string sysfsSource, MountPropagation propagation, ILogger log)
    {
        var sources = new List<string>();
        var targets = new List<string>();
        if (etcDirectory is not null)
        {
            try
            {
                foreach (string entry in Directory.EnumerateFileSystemEntries(etcDirectory))
                {
                    string file = Path.GetFileName(entry);
                    sources.Add(entry);
                    targets.Add("/etc/" + file);
                }
            }
            catch (DirectoryNotFoundException)
            {
                // No /etc/netns/NAME: nothing to bind, silently (iproute2).
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.EtcDirectoryUnreadable(etcDirectory, e.Message);
            }
        }

        // A read-only sysfs cannot be replaced by a writable one (iproute2 checks this when it cannot detach the old
        // one); we keep read-only whenever the current /sys is, which also holds after a successful detach.
        ulong sysfsFlags = Libc.StatFsPath("/sys", out Libc.StatFs fs) == 0 && (fs.Flags & Libc.ST_RDONLY) != 0
            ? Libc.MS_RDONLY
            : 0;

        var buffer = new List<byte>(256);
        int Add(string s)
        {
            int offset = buffer.Count;
            buffer.AddRange(Encoding.UTF8.GetBytes(s));
            buffer.Add(0);
            return offset;
        }
        int sysfs = Add(sysfsSource);
        int[] bindSources = sources.Select(Add).ToArray();
        int[] bindTargets = targets.Select(Add).ToArray();
        ulong propagationFlags = Libc.MS_REC | (propagation == MountPropagation.Slave ? Libc.MS_SLAVE : Libc.MS_PRIVATE);
        return new ExecMountNamespace(buffer.ToArray(), sysfs, bindSources, bindTargets,
            sources.ToArray(), targets.ToArray(), propagationFlags, sysfsFlags);
    }

    /// <summary>How many bind mounts <see cref="Apply"/> makes.</summary>
    public int BindCount => _bindSources.Length;

    /// <summary>
    /// Switches the calling thread: saves its network and mount namespaces into <paramref name="saved"/> (raw fds
    /// for <see cref="Restore"/>), then applies the sequence. Raw syscalls only: nothing here may make the runtime
    /// start a thread, which would be born in the switched namespaces. Returns the failed step (errno in
    /// <paramref name="errno"/>) or <see cref="Step.None"/>; bind failures go to <paramref name="bindErrnos"/>.
    /// On failure the thread may be half switched: the caller lets it end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Step Apply(int netFd, ref SavedNamespaces saved, int[] bindErrnos, out int errno, out Libc.StatX mountNamespace)
    {
        mountNamespace = default;
        errno = 0;
        fixed (byte* strings = _strings)
        fixed (byte* threadNet = "/proc/thread-self/ns/net\0"u8)
        fixed (byte* threadMnt = "/proc/thread-self/ns/mnt\0"u8)
        fixed (byte* root = "/\0"u8)
        fixed (byte* sys = "/sys\0"u8)
        fixed (byte* sysfs = "sysfs\0"u8)
        fixed (byte* none = "none\0"u8)
        fixed (byte* empty = "\0"u8)
        {
            saved.Net = Libc.OpenRaw(threadNet, Libc.O_RDONLY);
            if (saved.Net < 0) return Fail(Step.SaveNamespaces, out errno);
            saved.Mount = Libc.OpenRaw(threadMnt, Libc.O_RDONLY);
            if (saved.Mount < 0) return Fail(Step.SaveNamespaces, out errno);

            if (Libc.SwitchedSetns(netFd, Libc.CLONE_NEWNET) != 0) return Fail(Step.SetnsNetwork, out errno);
            if (Libc.SwitchedUnshare(Libc.CLONE_NEWNS) != 0) return Fail(Step.UnshareMount, out errno);
            saved.Unshared = true;

            // Before any mount: from here on nothing this thread mounts can reach the host's mount table.
            if (Libc.SwitchedMount(empty, root, none, (nuint)_propagationFlags, null) != 0) return Fail(Step.Propagation, out errno);

            // Detach the sysfs of the old network namespace (failure is fine: maybe none was mounted, iproute2),
            // then mount one that belongs to the namespace this thread is in now (docs/kernel.md §4).
            Libc.SwitchedUmount2(sys, Libc.MNT_DETACH);
            if (Libc.SwitchedMount(strings + _sysfsSource, sys, sysfs, (nuint)_sysfsFlags, null) != 0) return Fail(Step.MountSysfs, out errno);

            for (int i = 0; i < _bindSources.Length; i++)
            {
                bindErrnos[i] = Libc.SwitchedMount(strings + _bindSources[i], strings + _bindTargets[i], none, (nuint)Libc.MS_BIND, null) == 0
                    ? 0
                    : Libc.LastErrno;
            }

            fixed (Libc.StatX* st = &mountNamespace)
            {
                Libc.SwitchedStatx(Libc.AT_FDCWD, threadMnt, 0, Libc.STATX_BASIC_STATS, st);
            }
        }
        return Step.None;
    }

    /// <summary>
    /// Puts the thread back into the namespaces saved by <see cref="Apply"/>, then closes the saved fds. The thread
    /// keeps its own filesystem context (cwd, root) and must still end; this only makes sure that whatever the runtime
    /// does while the thread ends happens in the home namespaces. Both switches come before any other call, so the
    /// window with one namespace restored and the other not is as short as it can be. Returns false if a switch back failed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Restore(ref SavedNamespaces saved)
    {
        bool ok = true;
        // setns into a mount namespace needs an unshared filesystem context, which unshare(CLONE_NEWNS) gave us.
        if (saved.Mount >= 0 && saved.Unshared && Libc.SwitchedSetns(saved.Mount, Libc.CLONE_NEWNS) != 0) ok = false;
        if (saved.Net >= 0 && Libc.SwitchedSetns(saved.Net, Libc.CLONE_NEWNET) != 0) ok = false;
        if (saved.Mount >= 0)
        {
            Libc.CloseRaw(saved.Mount);
            saved.Mount = -1;
        }
        if (saved.Net >= 0)
        {
            Libc.CloseRaw(saved.Net);
            saved.Net = -1;
        }
        return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Step Fail(Step step, out int errno)
    {
        errno = Libc.LastErrno;
        return step;
    }

    /// <summary>The exec thread's namespaces before it switched.</summary>
    internal struct SavedNamespaces
    {
        public int Net;
        public int Mount;
        public bool Unshared;

        public static SavedNamespaces None => new() { Net = -1, Mount = -1 };
    }
}
