using System.Runtime.CompilerServices;
using LinuxNetns.Interop;

namespace LinuxNetns.Threads;

/// <summary>
/// How a library-owned worker thread (<see cref="NamespaceThread"/>, <see cref="NamespaceEventLoop"/>) moves into its
/// namespace as the first thing it does, and home as the last. Both run switched: raw descriptors, <see cref="Switched"/>.
/// </summary>
internal static class WorkerSwitch
{
    /// <summary>What a worker about to start needs on its way in, read at the caller: switched code allocates nothing.</summary>
    /// <param name="NetFd">The network namespace to enter (raw: the caller holds a reference until the worker is in).</param>
    /// <param name="MountFd">A mount namespace to enter (<see cref="WorkerMounts.LikeExec"/>), or -1.</param>
    /// <param name="HomeMountFd">The process's mount namespace (<see cref="ThreadNamespaces.HomeMount"/>).</param>
    /// <param name="HomeMountInode">Its inode, to see whether the new thread was born elsewhere.</param>
    public readonly record struct Target(int NetFd, int MountFd, int HomeMountFd, ulong HomeMountInode);

    /// <summary>The <see cref="Target"/> for <paramref name="net"/> and optional <paramref name="mounts"/>; call at the caller, before the thread starts.</summary>
    public static Target For(SafeFdHandle net, SafeFdHandle? mounts) =>
        new(net.Fd, mounts?.Fd ?? -1, ThreadNamespaces.HomeMount.Fd, ThreadNamespaces.HomeMountId?.Inode ?? 0);

    /// <summary>
    /// On the new thread: setns into the network namespace, then make the thread's mount namespace the one it must be:
    /// <see cref="Target.MountFd"/> (exec's prepared one: fresh sysfs, <c>/etc/netns</c> binds), or the process's when
    /// the thread was born in another (its creator had exec-like mounts: a thread is born in its creator's namespaces).
    /// Either needs the thread's own filesystem context first: setns(CLONE_NEWNS) refuses a thread that shares it with
    /// others, as all threads of a process do. Returns the thread's namespace links to watch, and whether it left the
    /// process's mount namespace; or null with the failed step and errno (then back in its birth network namespace).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ThreadNamespaceLinks? Enter(in Target target, out bool ownMounts, out NamespaceOperation failed, out int errno)
    {
        failed = NamespaceOperation.SetnsNetwork;
        errno = 0;
        ownMounts = false;
        if (Switched.Setns(target.NetFd, Libc.CLONE_NEWNET) != 0)
        {
            errno = Libc.LastErrno;
            return null;
        }
        int mountFd = target.MountFd;
        if (mountFd < 0 && target.HomeMountInode != 0 && ThreadNamespaces.CurrentInode(ThreadNamespaces.ThreadSelfMnt) != target.HomeMountInode)
        {
            mountFd = target.HomeMountFd;
        }
        if (mountFd >= 0)
        {
            failed = NamespaceOperation.UnshareFilesystem;
            bool ok = Switched.Unshare(Libc.CLONE_FS) == 0;
            if (ok)
            {
                failed = NamespaceOperation.SetnsMount;
                ok = Switched.Setns(mountFd, Libc.CLONE_NEWNS) == 0;
            }
            if (!ok)
            {
                errno = Libc.LastErrno;
                LeaveToHome(-1);
                return null;
            }
            ownMounts = mountFd != target.HomeMountFd;
        }
        return ThreadNamespaces.OpenLinks();
    }

    /// <summary>
    /// Back to the process's network namespace, and with <paramref name="homeMountFd"/> (not -1) its mount namespace:
    /// the OS thread outlives Join() by a moment, and nothing of ours should be seen in the namespace, or hold it
    /// (a mount namespace with the namespace's sysfs does), once the worker was stopped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LeaveToHome(int homeMountFd)
    {
        if (homeMountFd >= 0) Switched.Setns(homeMountFd, Libc.CLONE_NEWNS);
        Switched.Setns(ThreadNamespaces.Home.Fd, Libc.CLONE_NEWNET); // never closed: it lives as long as the process
    }

    /// <summary>The error for a worker that could not get into its namespaces (<see cref="Enter"/>'s failed step).</summary>
    public static NetworkNamespaceException StartFailed(NamespaceOperation failed, int errno, string nameForErrors) =>
        NamespaceErrors.Failed(failed, failed switch
        {
            NamespaceOperation.UnshareFilesystem => "unshare(CLONE_FS) of a worker thread with exec-like mounts",
            NamespaceOperation.SetnsMount => "setns(CLONE_NEWNS) of a worker thread into the namespace's exec mount namespace",
            _ => "setns(CLONE_NEWNET) of a worker thread",
        }, nameForErrors, (Errno)errno);
}
