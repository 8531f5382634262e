using LinuxNetns.Interop;
using LinuxNetns.Logging;
using Microsoft.Extensions.Logging;

namespace LinuxNetns.Kernel;

/// <summary>
/// The iproute2 sequences that pin a namespace under a name, and remove it (DESIGN.md §3): run directory made
/// shared, an empty placeholder made with O_EXCL, a bind mount of an nsfs file onto it; umount + unlink to delete.
/// </summary>
internal static unsafe class NamespaceMounts
{
    /// <summary><c>ip netns add</c>: a new namespace pinned at <paramref name="path"/>; returns an open handle to it.</summary>
    public static SafeFdHandle CreatePinned(string name, string path, NetworkNamespaceOptions options)
    {
        ILogger log = options.Logger;
        RunDirectory.Prepare(options.RunDirectory, log);
        CreatePlaceholder(name, path, log);
        var item = new CreateItem(path, path);
        try
        {
            HomeThread.Execute(item);
            item.ThrowIfFailed();
            var fd = new SafeFdHandle(item.NewNamespaceFd);
            log.Step("unshare(CLONE_NEWNET) + mount --bind /proc/thread-self/ns/net", path);
            return fd;
        }
        catch
        {
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
        CreatePlaceholder(name, path, log);
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            // The fd's magic link names the nsfs file itself, whatever path it was opened by.
            string source = $"/proc/thread-self/fd/{fd.Fd}";
            log.Step("mount --bind " + source, path);
            if (Libc.Mount(source, path, "none", Libc.MS_BIND) != 0)
                throw Errno.Exception("mount --bind namespace onto", path, Libc.LastErrno);
        }
        catch
        {
            Discard("attach", path, log);
            throw;
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    /// <summary><c>ip netns delete</c>: detach the mount (ignoring "not mounted", as iproute2 does), then unlink.</summary>
    public static void Unpin(string name, string path, ILogger log)
    {
        log.Step("umount2 MNT_DETACH|UMOUNT_NOFOLLOW", path);
        if (Libc.Umount2(path, Libc.MNT_DETACH | Libc.UMOUNT_NOFOLLOW) != 0)
        {
            int errno = Libc.LastErrno;
            // EINVAL: not a mount point (a stale placeholder); ENOENT: handled by unlink below.
            if (errno is Libc.EPERM) throw Errno.Exception("umount2", path, errno);
        }
        log.Step("unlink", path);
        if (Libc.Unlink(path) != 0)
        {
            int errno = Libc.LastErrno;
            if (errno == Libc.ENOENT)
            {
                throw new NamespaceNotFoundException("Cannot remove namespace file", path, errno,
                    $"Cannot remove namespace file \"{path}\" failed: {Errno.Describe(errno)}. No namespace named \"{name}\" exists; see NetworkNamespace.List() or `ip netns list`.");
            }
            string advice = errno switch
            {
                Libc.EBUSY => "Something else is still mounted on it (a second bind mount?); unmount it, or retry the delete.",
                _ => "",
            };
            throw Errno.Exception("Cannot remove namespace file", path, errno, advice.Length == 0 ? null : advice);
        }
    }

    private static void CreatePlaceholder(string name, string path, ILogger log)
    {
        log.Step("create placeholder O_CREAT|O_EXCL", path);
        using SafeFdHandle placeholder = Libc.Open(path, Libc.O_RDONLY | Libc.O_CREAT | Libc.O_EXCL, 0);
        if (placeholder.IsInvalid)
        {
            int errno = Libc.LastErrno;
            throw Errno.Exception("Cannot create namespace file", path, errno,
                errno == Libc.EEXIST ? $"A namespace named \"{name}\" already exists: open it, or delete it first." : null);
        }
    }

    /// <summary>Best-effort undo of a pin after a failed <paramref name="operation"/>: unmount and unlink, log a failure.</summary>
    public static void Discard(string operation, string path, ILogger log)
    {
        Libc.Umount2(path, Libc.MNT_DETACH | Libc.UMOUNT_NOFOLLOW);
        if (Libc.Unlink(path) != 0 && Libc.LastErrno != Libc.ENOENT)
            log.CleanupFailed(operation, path, Errno.Describe(Libc.LastErrno));
    }

    /// <summary>
    /// Runs on the home thread: unshare a new network namespace, bind it onto the placeholder (unless
    /// <paramref name="path"/> is null: an anonymous namespace), keep an fd to it, and switch the thread back home.
    /// Only raw syscalls run while switched; errors become exceptions after.
    /// </summary>
    private sealed class CreateItem(string? path, string description) : WorkItem
    {
        public int NewNamespaceFd = -1;

        // It switches back itself, and poisons the thread when it cannot.
        public override bool KeepsNamespaces => true;

        protected override void Run()
        {
            byte[]? target = path is null ? null : NulTerminated(path);
            byte[] source = NulTerminated("/proc/thread-self/ns/net");
            byte[] none = NulTerminated("none");
            SafeFdHandle home = ThreadNamespaces.Home;
            bool added = false;
            home.DangerousAddRef(ref added);
            try
            {
                (string step, int errno) = Switched(target, source, none, home.Fd, out NewNamespaceFd, out bool restored);
                if (!restored)
                {
                    PoisonsThread = true;
                    if (NewNamespaceFd >= 0) Libc.CloseRaw(NewNamespaceFd);
                    NewNamespaceFd = -1;
                    throw new NamespaceRestoreException("setns back to the home namespace", description, errno,
                        $"The library's home thread could not switch back to the home namespace: {Errno.Describe(errno)}. The thread has been retired; retry the operation.");
                }
                if (step.Length != 0)
                {
                    throw Errno.Exception(step, description, errno);
                }
            }
            finally
            {
                if (added) home.DangerousRelease();
            }
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static (string Step, int Errno) Switched(byte[]? target, byte[] source, byte[] none, int homeFd, out int newFd, out bool restored)
        {
            newFd = -1;
            restored = true;
            fixed (byte* t = target, s = source, n = none)
            {
                if (Libc.Unshare(Libc.CLONE_NEWNET) != 0) return ("unshare(CLONE_NEWNET)", Libc.LastErrno);
                string step = "";
                int errno = 0;
                if (t != null && Libc.Mount(s, t, n, Libc.MS_BIND) != 0)
                {
                    (step, errno) = ("mount --bind /proc/thread-self/ns/net onto", Libc.LastErrno);
                }
                else
                {
                    newFd = Libc.OpenRaw(s, Libc.O_RDONLY);
                    if (newFd < 0) (step, errno) = ("open /proc/thread-self/ns/net", Libc.LastErrno);
                }
                if (Libc.Setns(homeFd, Libc.CLONE_NEWNET) != 0)
                {
                    restored = false;
                    return ("setns", Libc.LastErrno);
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
