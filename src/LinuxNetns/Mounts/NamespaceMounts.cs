using LinuxNetns.Interop;
using LinuxNetns.Logging;
using Microsoft.Extensions.Logging;
using LinuxNetns.Exec;
using LinuxNetns.Threads;

namespace LinuxNetns.Mounts;

/// <summary>
/// The iproute2 sequences that pin a namespace under a name, and remove it (docs/design.md §10): run directory made
/// shared, an empty placeholder made with O_EXCL, a bind mount of an nsfs file onto it; umount + unlink to delete.
/// </summary>
internal static unsafe class NamespaceMounts
{
    /// <summary>
    /// <c>ip netns add</c>: a new namespace pinned at <paramref name="path"/>; returns an open handle to it. With
    /// <paramref name="onCallingThread"/> it is unshared on the calling thread, as ip does, instead of on the home thread:
    /// only for a caller on the process's main thread whose process ends after this call (the netns tool's own
    /// <c>add</c>), which then pays for no home thread. Should the switch back fail, nothing can retire that thread:
    /// <see cref="NamespaceRestoreException"/> says so, and the caller must not go on to use the thread.
    /// </summary>
    public static SafeFdHandle CreatePinned(string name, string path, NetworkNamespaceOptions options, bool onCallingThread = false)
    {
        ILogger log = options.Logger;
        RunDirectory.Prepare(options.RunDirectory, log);
        using SafeFdHandle placeholder = CreatePlaceholder(name, path, log);
        // The bind goes onto our placeholder through its descriptor, not the path: a delete and another create of the
        // same name in between would otherwise get our mount stacked on theirs (see DiscardPlaceholder).
        var item = new CreateItem(PlaceholderTarget(placeholder), path, onCallingThread ? "the calling thread" : null);
        try
        {
            // A caller elsewhere (in a scope, in another mount namespace) gets the home thread after all: a namespace made
            // from there would be bound into the wrong mount namespace, or the switch back would strand it.
            bool here = onCallingThread && ThreadNamespaces.CallerIsAtHome();
            if (here) item.Execute();
            else HomeThread.Execute(item);
            item.ThrowIfFailed();
            var fd = new SafeFdHandle(item.NewNamespaceFd);
            log.Step($"unshare(CLONE_NEWNET) + mount --bind /proc/thread-self/ns/net on the {(here ? "calling" : "home")} thread", path);
            return fd;
        }
        catch (Exception e)
        {
            if (!item.Mounted)
            {
                DiscardPlaceholder("add", name, path, placeholder, log);
                throw LostToDelete(e, name, path);
            }
            Discard("add", path, log);
            throw;
        }
    }

    /// <summary>
    /// A new namespace held only by the returned descriptor: unshared on the home thread, which keeps an fd to it and
    /// switches back. Nothing is mounted; the kernel frees the namespace when the last reference (this fd, a socket,
    /// a thread, a process) goes, also when the process dies.
    /// </summary>
    public static SafeFdHandle CreateAnonymous(string description, ILogger log)
    {
        var item = new CreateItem(null, description);
        HomeThread.Execute(item);
        item.ThrowIfFailed();
        var fd = new SafeFdHandle(item.NewNamespaceFd);
        log.Step("unshare(CLONE_NEWNET) + open /proc/thread-self/ns/net", description);
        return fd;
    }

    /// <summary><c>ip netns attach</c>: bind-mounts the open namespace <paramref name="fd"/> at <paramref name="path"/>.</summary>
    public static void Pin(SafeFdHandle fd, string name, string path, NetworkNamespaceOptions options)
    {
        ILogger log = options.Logger;
        RunDirectory.Prepare(options.RunDirectory, log);
        using SafeFdHandle placeholder = CreatePlaceholder(name, path, log);
        bool added = false;
        try
        {
            // Held explicitly: its number goes into a path, which no marshaller sees.
            fd.DangerousAddRef(ref added);
            // The fd's magic link names the nsfs file itself, whatever path it was opened by; the target is our
            // placeholder by its descriptor, as in CreatePinned.
            string source = $"/proc/thread-self/fd/{fd.Fd}";
            log.Step("mount --bind " + source, path);
            if (Libc.Mount(source, PlaceholderTarget(placeholder), "none", Libc.MS_BIND) != 0)
                throw NamespaceErrors.Failed(NamespaceOperation.BindNamespace, "mount --bind namespace onto", path, (Errno)Libc.LastErrno);
        }
        catch (Exception e)
        {
            DiscardPlaceholder("attach", name, path, placeholder, log);
            throw LostToDelete(e, name, path);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    /// <summary><c>ip netns delete</c>: detach the mount (ignoring "not mounted", as iproute2 does), then unlink.</summary>
    public static void Unpin(string name, string path, ILogger log)
    {
        // A second round only when nothing was mounted at first but the unlink then met a mount: an add in flight
        // bound its namespace onto the placeholder between our umount and unlink. That add has completed, so this
        // delete comes after it and removes it. A mount stacked on another (umount worked, unlink still busy) is
        // NamespaceBusyException, as with iproute2.
        for (int round = 0; ; round++)
        {
            log.Step("umount2 MNT_DETACH|UMOUNT_NOFOLLOW", path);
            bool wasMounted = Libc.Umount2(path, Libc.MNT_DETACH | Libc.UMOUNT_NOFOLLOW) == 0;
            if (!wasMounted)
            {
                int umountErrno = Libc.LastErrno;
                // EINVAL: not a mount point (a stale placeholder, or an add in flight); ENOENT: handled by unlink below.
                if (umountErrno is Libc.EPERM) throw NamespaceErrors.Failed(NamespaceOperation.Unmount, "umount2", path, Errno.EPERM);
            }
            log.Step("unlink", path);
            if (Libc.Unlink(path) == 0) return;
            if (Libc.LastErrno == Libc.EBUSY && !wasMounted && round == 0) continue;
            int errno = Libc.LastErrno;
            string? advice = errno switch
            {
                Libc.ENOENT => $"No namespace named \"{name}\" exists; see NetworkNamespace.List() or `ip netns list`.",
                Libc.EBUSY => "Something else is still mounted on it (a second bind mount?); unmount it, or retry the delete.",
                _ => null,
            };
            throw NamespaceErrors.Failed(NamespaceOperation.Unlink, "Cannot remove namespace file", path, (Errno)errno, advice);
        }
    }

    /// <summary>The O_EXCL placeholder, kept open: its descriptor names this call's file even after the path changes hands.</summary>
    private static SafeFdHandle CreatePlaceholder(string name, string path, ILogger log)
    {
        log.Step("create placeholder O_CREAT|O_EXCL", path);
        SafeFdHandle placeholder = Libc.Open(path, Libc.O_RDONLY | Libc.O_CREAT | Libc.O_EXCL, 0);
        if (placeholder.IsInvalid)
        {
            int errno = Libc.LastErrno;
            placeholder.Dispose();
            throw NamespaceErrors.Failed(NamespaceOperation.CreatePlaceholder, "Cannot create namespace file", path, (Errno)errno,
                errno == Libc.EEXIST ? $"A namespace named \"{name}\" already exists: open it, or delete it first." : null);
        }
        return placeholder;
    }

    /// <summary>
    /// The placeholder's magic link: mount(2) follows it to the file this call created, not whatever the path now names.
    /// <c>/proc/self</c>, not <c>/proc/PID</c>: in a pid namespace whose <c>/proc</c> is the parent's, our own pid names
    /// another process there. Concatenated, not interpolated: see NetworkNamespace.Open.
    /// </summary>
    private static string PlaceholderTarget(SafeFdHandle placeholder) =>
        string.Concat("/proc/self/fd/", placeholder.Fd.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Undo of a failed add/attach before anything was mounted: unlink the path only while it is still our
    /// placeholder (same st_dev/st_ino as the descriptor). If a delete removed it and another create made the name
    /// again, that one's file is left alone.
    /// </summary>
    private static void DiscardPlaceholder(string operation, string name, string path, SafeFdHandle placeholder, ILogger log)
    {
        if (Libc.LStat(path, out Libc.StatX now) != 0) return;
        if (Libc.FStat(placeholder, out Libc.StatX ours) != 0) return;
        if (now.Dev != ours.Dev || now.Ino != ours.Ino) return;
        if (Libc.Unlink(path) != 0 && Libc.LastErrno != Libc.ENOENT)
            log.CleanupFailed(operation, path, NamespaceErrors.Describe(Libc.LastErrno));
    }

    /// <summary>
    /// A bind onto a placeholder that a concurrent delete has unlinked fails with ENOENT: this add lost the name to
    /// that delete, which is what the caller is told (as if the delete had come right after the add).
    /// </summary>
    private static Exception LostToDelete(Exception e, string name, string path) =>
        e is NetworkNamespaceException { Operation: NamespaceOperation.BindNamespace, Errno: Errno.ENOENT }
            ? new NamespaceNotFoundException(NamespaceOperation.BindNamespace, path, Errno.ENOENT,
                $"Cannot create namespace file \"{path}\": the name \"{name}\" was deleted while it was being created (a concurrent delete). Create it again if it is still wanted.")
            : e;

    /// <summary>Best-effort undo of a pin after a failed <paramref name="operation"/>: unmount and unlink, log a failure.</summary>
    public static void Discard(string operation, string path, ILogger log)
    {
        Libc.Umount2(path, Libc.MNT_DETACH | Libc.UMOUNT_NOFOLLOW);
        if (Libc.Unlink(path) != 0 && Libc.LastErrno != Libc.ENOENT)
            log.CleanupFailed(operation, path, NamespaceErrors.Describe(Libc.LastErrno));
    }

    /// <summary>
    /// Runs on the home thread (or, with <paramref name="callingThread"/>, on the caller's: see CreatePinned): unshare a
    /// new network namespace, bind it onto the placeholder (unless <paramref name="path"/> is null: an anonymous
    /// namespace), keep an fd to it, and switch the thread back home. Only raw syscalls run while switched; errors become
    /// exceptions after.
    /// </summary>
    private sealed class CreateItem(string? path, string description, string? callingThread = null) : WorkItem
    {
        public int NewNamespaceFd = -1;

        /// <summary>Whether the bind mount was made (so a failure after it must unmount).</summary>
        public bool Mounted;

        // It switches back itself, and poisons the thread when it cannot.
        public override bool KeepsNamespaces => true;

        protected override void Run()
        {
            byte[]? target = path is null ? null : NulTerminated(path);
            byte[] source = NulTerminated("/proc/thread-self/ns/net");
            byte[] none = NulTerminated("none");
            // Raw: the home descriptor is never closed (it lives as long as the process), and Switched takes numbers.
            int homeFd = ThreadNamespaces.Home.Fd;
            (NamespaceOperation? step, int errno) = WhileSwitched(target, source, none, homeFd, out NewNamespaceFd, out Mounted, out bool restored);
            if (!restored)
            {
                PoisonsThread = true;
                if (NewNamespaceFd >= 0) Libc.CloseRaw(NewNamespaceFd);
                NewNamespaceFd = -1;
                throw new NamespaceRestoreException(NamespaceOperation.RestoreNamespace, description, (Errno)errno, callingThread is null
                    ? $"The library's home thread could not switch back to the home namespace: {NamespaceErrors.Describe(errno)}. The thread has been retired; retry the operation."
                    : $"{callingThread} could not switch back to the home namespace after creating the namespace: {NamespaceErrors.Describe(errno)}. The thread is left in the new namespace: end the process.");
            }
            if (step is NamespaceOperation failed)
            {
                string doing = failed switch
                {
                    NamespaceOperation.UnshareNetwork => "unshare(CLONE_NEWNET)",
                    NamespaceOperation.BindNamespace => "mount --bind /proc/thread-self/ns/net onto",
                    _ => "open /proc/thread-self/ns/net",
                };
                throw NamespaceErrors.Failed(failed, doing, description, (Errno)errno);
            }
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static (NamespaceOperation? Step, int Errno) WhileSwitched(byte[]? target, byte[] source, byte[] none, int homeFd, out int newFd, out bool mounted, out bool restored)
        {
            newFd = -1;
            mounted = false;
            restored = true;
            fixed (byte* t = target, s = source, n = none)
            {
                if (Switched.Unshare(Libc.CLONE_NEWNET) != 0) return (NamespaceOperation.UnshareNetwork, Libc.LastErrno);
                NamespaceOperation? step = null;
                int errno = 0;
                if (t != null && Switched.Mount(s, t, n, Libc.MS_BIND) != 0)
                {
                    (step, errno) = (NamespaceOperation.BindNamespace, Libc.LastErrno);
                }
                else
                {
                    mounted = t != null;
                    newFd = Switched.Open(s, Libc.O_RDONLY);
                    if (newFd < 0) (step, errno) = (NamespaceOperation.OpenThreadNamespace, Libc.LastErrno);
                }
                if (Switched.Setns(homeFd, Libc.CLONE_NEWNET) != 0)
                {
                    restored = false;
                    return (NamespaceOperation.RestoreNamespace, Libc.LastErrno);
                }
                return (step, errno);
            }
        }
    }

    private static byte[] NulTerminated(string s)
    {
        byte[] bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(s) + 1];
        System.Text.Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
