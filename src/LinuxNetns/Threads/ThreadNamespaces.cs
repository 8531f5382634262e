using System.Runtime.CompilerServices;
using LinuxNetns.Interop;
using LinuxNetns.Nsfs;

namespace LinuxNetns.Threads;

/// <summary>
/// The calling thread's namespaces. Always <c>/proc/thread-self</c>: <c>setns</c> and <c>unshare</c> change only the
/// calling thread, and <c>/proc/self</c> is the thread-group leader (docs/design.md §1).
/// </summary>
internal static unsafe class ThreadNamespaces
{
    /// <summary>NUL-terminated path of the calling thread's network namespace.</summary>
    public static ReadOnlySpan<byte> ThreadSelfNet => "/proc/thread-self/ns/net\0"u8;

    /// <summary>NUL-terminated path of the calling thread's mount namespace.</summary>
    public static ReadOnlySpan<byte> ThreadSelfMnt => "/proc/thread-self/ns/mnt\0"u8;

    private sealed record HomeHandle(SafeFdHandle Fd, NamespaceId Id);

    private static readonly object HomeLock = new();
    private static HomeHandle? s_home;

    private static SafeFdHandle? s_homeMountFd;

    // Opened once; a failure (e.g. EMFILE) is not cached, the next use tries again.
    private static T OpenedOnce<T>(ref T? slot, Func<T> open) where T : class
    {
        if (Volatile.Read(ref slot) is { } opened) return opened;
        lock (HomeLock)
        {
            return slot ??= open();
        }
    }

    private static HomeHandle HomeNamespace => OpenedOnce(ref s_home, OpenHome);

    /// <summary>
    /// The process's home network namespace: the thread-group leader's at the library's first use. This is the one
    /// place where <c>/proc/self</c> is meant: it names the process, not the calling thread.
    /// </summary>
    public static SafeFdHandle Home => HomeNamespace.Fd;

    /// <summary>The identity of <see cref="Home"/>.</summary>
    public static NamespaceId HomeId => HomeNamespace.Id;

    private static NamespaceId? s_homeMount;

    /// <summary>
    /// The process's mount namespace, opened once (never closed): a worker with exec-like mounts goes back to it before
    /// it ends, and a library thread born in another moves to it (Threads/WorkerSwitch.cs).
    /// </summary>
    public static SafeFdHandle HomeMount => OpenedOnce(ref s_homeMountFd, static () => Libc.Open("/proc/self/ns/mnt", Libc.O_RDONLY));

    /// <summary>The process's mount namespace (the thread-group leader's), as first seen.</summary>
    public static NamespaceId? HomeMountId => s_homeMount ??= NamespaceFile.TryIdOfPath("/proc/self/ns/mnt");

    /// <summary>
    /// True when the calling thread is in the process's network and mount namespaces: a thread it creates is born at
    /// home, so the library may start its own threads from it directly rather than through the home thread.
    /// </summary>
    public static bool CallerIsAtHome() =>
        NamespaceFile.TryIdOfPath("/proc/thread-self/ns/net") == HomeId
        && HomeMountId is { } mount && NamespaceFile.TryIdOfPath("/proc/thread-self/ns/mnt") == mount;

    private static HomeHandle OpenHome()
    {
        const string path = "/proc/self/ns/net";
        SafeFdHandle fd = NamespaceFile.OpenNetwork(path, "open the process's network namespace", "Is /proc mounted?");
        try
        {
            return new HomeHandle(fd, NamespaceFile.IdOf(fd, path));
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Opens the calling thread's network namespace; returns the raw fd or -1 (errno kept).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int OpenCurrentRaw()
    {
        fixed (byte* p = ThreadSelfNet)
        {
            return Switched.Open(p, Libc.O_RDONLY);
        }
    }

    /// <summary>
    /// The inode of the calling thread's network namespace, read from the <c>net:[INODE]</c> link text, or 0 when it
    /// cannot be read (errno kept). One readlink: cheaper than opening the link and fstat-ing the descriptor, and it
    /// leaves no descriptor to close. Every nsfs file has the same st_dev, so the inode alone identifies the namespace.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ulong CurrentNetInode() => CurrentInode(ThreadSelfNet);

    /// <summary>The same for the namespace link <paramref name="link"/> (NUL-terminated, e.g. <see cref="ThreadSelfMnt"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ulong CurrentInode(ReadOnlySpan<byte> link)
    {
        Span<byte> buffer = stackalloc byte[64];
        int n;
        fixed (byte* p = link)
        {
            n = Switched.ReadlinkAt(Libc.AT_FDCWD, p, buffer);
        }
        if (n <= 0) return 0;
        ulong inode = 0;
        int i = buffer[..n].IndexOf((byte)'[') + 1;
        if (i <= 0) return 0;
        for (; i < n && buffer[i] != ']'; i++)
        {
            uint digit = (uint)(buffer[i] - '0');
            if (digit > 9) return 0;
            inode = inode * 10 + digit;
        }
        return i < n ? inode : 0;
    }

    /// <summary>
    /// Opens the calling thread's <c>/proc/thread-self/ns</c> directory, for <see cref="ThreadNamespaceLinks"/>; called by
    /// a worker that has just switched, so the open goes through <see cref="Switched"/>.
    /// </summary>
    public static ThreadNamespaceLinks OpenLinks()
    {
        fixed (byte* p = "/proc/thread-self/ns\0"u8)
        {
            return new(new SafeFdHandle(Switched.Open(p, Libc.O_PATH | Libc.O_DIRECTORY)));
        }
    }

    /// <summary>
    /// The threads of this process (<c>/proc/self/task/*</c>) whose namespace of type <paramref name="type"/>
    /// (<c>net</c>, <c>mnt</c>, …) satisfies <paramref name="match"/>; threads that end meanwhile are skipped.
    /// </summary>
    public static List<StrayThread> ThreadsWhere(string type, Func<NamespaceId, bool> match)
    {
        var result = new List<StrayThread>();
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            NamespaceId? id = NamespaceFile.TryIdOfPath($"{task}/ns/{type}");
            if (id is null || !match(id.Value)) continue;
            if (!int.TryParse(Path.GetFileName(task), out int tid)) continue;
            try
            {
                result.Add(new StrayThread(tid, File.ReadAllText(task + "/comm").TrimEnd('\n'), id.Value));
            }
            catch (IOException)
            {
                // The thread ended between the two reads.
            }
        }
        return result;
    }
}
