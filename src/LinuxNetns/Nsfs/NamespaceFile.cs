using LinuxNetns.Interop;
using LinuxNetns.Mounts;
using LinuxNetns.Threads;

namespace LinuxNetns.Nsfs;

/// <summary>Opens nsfs files and checks that they are what they claim to be (docs/design.md §8, §9).</summary>
internal static class NamespaceFile
{
    /// <summary>
    /// Opens <paramref name="path"/> and checks that it is an nsfs file of a network namespace.
    /// </summary>
    /// <param name="path">The file to open.</param>
    /// <param name="operation">What the caller is doing, in words for the error message.</param>
    /// <param name="notFoundAdvice">What to tell the user when the path does not exist.</param>
    public static SafeFdHandle OpenNetwork(string path, string operation, string notFoundAdvice)
    {
        // An add makes its placeholder a moment before it binds the namespace onto it. An open that meets that moment
        // waits a little for the mount rather than calling the add's placeholder stale; past the wait it says so.
        for (int wait = 1; ; wait *= 2)
        {
            bool lastTry = wait > AddWaitMilliseconds;
            try
            {
                return OpenNetworkOnce(path, operation, notFoundAdvice, lastTry);
            }
            catch (NotANetworkNamespaceException e) when (e.Problem == PlaceholderProblem.AddInProgress && !lastTry)
            {
                Thread.Sleep(wait);
            }
        }
    }

    /// <summary>How long, in all, an open waits for an add in progress to mount its namespace (1 + 2 + … + 256 ms).</summary>
    private const int AddWaitMilliseconds = 256;

    /// <summary>A placeholder younger than this with nothing on it is taken for an add in progress, not a crashed one
    /// (an add binds its namespace within milliseconds; seconds only on a host that is badly overloaded).</summary>
    internal const int AddInProgressSeconds = 2;

    private static SafeFdHandle OpenNetworkOnce(string path, string operation, string notFoundAdvice, bool lastTry)
    {
        // O_NONBLOCK: a FIFO in the run directory would block open(2) forever (iproute2 hangs there); with it the
        // open returns at once and the nsfs check below rejects the file. O_NOCTTY: a terminal never becomes ours.
        SafeFdHandle fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_NOCTTY);
        if (fd.IsInvalid)
        {
            int errno = Libc.LastErrno;
            fd.Dispose();
            // ENXIO: a socket, or a device without a driver: something that cannot be a namespace file.
            if (errno == Libc.ENXIO) throw NotANamespace(operation, path, Libc.Stat(path, out Libc.StatX st) == 0 ? st.Mode : 0u);
            throw NamespaceErrors.Failed(NamespaceOperation.OpenNamespaceFile, operation, path, (Errno)errno, errno is Libc.ENOENT or Libc.ESRCH ? notFoundAdvice : null);
        }
        try
        {
            Check(fd, path, operation, lastTry);
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> if it is an nsfs file of a network namespace, else null with errno (EINVAL for a file
    /// that is no network namespace). Never waits and never throws: for discovery.
    /// </summary>
    public static SafeFdHandle? TryOpenNetwork(string path, out int errno)
    {
        SafeFdHandle fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_NOCTTY);
        if (fd.IsInvalid)
        {
            errno = Libc.LastErrno;
            fd.Dispose();
            return null;
        }
        if (Libc.FStatFs(fd, out Libc.StatFs fs) != 0 || fs.Type != Libc.NSFS_MAGIC || Libc.Ioctl(fd, Libc.NS_GET_NSTYPE) != Libc.CLONE_NEWNET)
        {
            errno = Libc.EINVAL;
            fd.Dispose();
            return null;
        }
        errno = 0;
        return fd;
    }

    /// <summary>The (st_dev, st_ino) identity of an open nsfs file.</summary>
    public static NamespaceId IdOf(SafeFdHandle fd, string path)
    {
        if (Libc.FStat(fd, out Libc.StatX st) != 0) throw NamespaceErrors.Failed(NamespaceOperation.OpenNamespaceFile, "fstat", path, (Errno)Libc.LastErrno);
        return new NamespaceId(st.Dev, st.Ino);
    }

    /// <summary>The identity of the namespace at a path (following magic links, like <c>stat -L</c>); null if it cannot be read.</summary>
    public static NamespaceId? TryIdOfPath(string path) =>
        Libc.Stat(path, out Libc.StatX st) == 0 ? new NamespaceId(st.Dev, st.Ino) : null;

    private static void Check(SafeFdHandle fd, string path, string operation, bool lastTry)
    {
        if (Libc.FStatFs(fd, out Libc.StatFs fs) != 0) throw NamespaceErrors.Failed(NamespaceOperation.OpenNamespaceFile, "fstatfs", path, (Errno)Libc.LastErrno);
        if (fs.Type != Libc.NSFS_MAGIC) throw Diagnose(fd, path, operation, lastTry);

        int type = Libc.Ioctl(fd, Libc.NS_GET_NSTYPE);
        if (type < 0) throw NamespaceErrors.Failed(NamespaceOperation.OpenNamespaceFile, "ioctl NS_GET_NSTYPE", path, (Errno)Libc.LastErrno);
        if (type != Libc.CLONE_NEWNET)
        {
            throw new NotANetworkNamespaceException(NamespaceOperation.OpenNamespaceFile, path, PlaceholderProblem.WrongNamespaceType,
                $"{operation} \"{path}\" failed: it is a namespace file, but not of a network namespace (type 0x{type:x}). Pass a net namespace, e.g. /proc/PID/ns/net.");
        }
    }

    private static NotANetworkNamespaceException NotANamespace(string operation, string path, uint mode) =>
        new(NamespaceOperation.OpenNamespaceFile, path, PlaceholderProblem.NotANamespace,
            $"{operation} \"{path}\" failed: it is not a namespace file ({KindOf(mode)}, nothing of type nsfs is there). Pass a namespace file such as /run/netns/NAME or /proc/PID/ns/net.");

    private static string KindOf(uint mode) => (mode & Libc.S_IFMT) switch
    {
        Libc.S_IFREG => "a regular file",
        Libc.S_IFDIR => "a directory",
        Libc.S_IFIFO => "a FIFO",
        Libc.S_IFSOCK => "a socket",
        Libc.S_IFCHR => "a character device",
        Libc.S_IFBLK => "a block device",
        _ => "a file of unknown type",
    };

    /// <summary>
    /// Tells an add in progress from a mount that exists elsewhere but did not propagate here, and both from a stale
    /// placeholder. Before the last try, a young placeholder is always "in progress", so that the caller waits for it.
    /// </summary>
    private static NotANetworkNamespaceException Diagnose(SafeFdHandle fd, string path, string operation, bool lastTry)
    {
        bool statted = Libc.FStat(fd, out Libc.StatX st) == 0;
        bool emptyFile = statted && (st.Mode & Libc.S_IFMT) == Libc.S_IFREG && st.Size == 0;
        if (!emptyFile) return NotANamespace(operation, path, statted ? st.Mode : 0u);
        long ageSeconds = Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - st.ChangeTimeSeconds);
        bool young = ageSeconds < AddInProgressSeconds;
        if (young && !lastTry) return AddInProgress(operation, path, ageSeconds);
        if (MountTable.IsMountedInAnotherMountNamespace(path))
        {
            return new NotANetworkNamespaceException(NamespaceOperation.OpenNamespaceFile, path, PlaceholderProblem.MountNotVisible,
                $"{operation} \"{path}\" failed: a namespace is mounted there in another mount namespace, but the mount did not propagate into this process's mount namespace. " +
                "Run in the mount namespace where it was created, or make sure the run directory is a shared mount point before namespaces are added (NetworkNamespace.Create and `ip netns add` both do this).");
        }
        if (young) return AddInProgress(operation, path, ageSeconds);
        return new NotANetworkNamespaceException(NamespaceOperation.OpenNamespaceFile, path, PlaceholderProblem.Stale,
            $"{operation} \"{path}\" failed: it is an empty placeholder with no namespace mounted on it, made {ageSeconds} s ago: most likely left by an add that crashed. " +
            "Remove it with NetworkNamespace.Delete or `ip netns delete`, then create the namespace again.");
    }

    private static NotANetworkNamespaceException AddInProgress(string operation, string path, long ageSeconds) =>
        new(NamespaceOperation.OpenNamespaceFile, path, PlaceholderProblem.AddInProgress,
            $"{operation} \"{path}\" failed: it is an empty placeholder made {ageSeconds} s ago with no namespace mounted on it yet: an add of this name is most likely still in progress. " +
            $"Retry in a moment; do not delete it. If it is still like this {AddInProgressSeconds} s after it was made, the add crashed: then remove it with NetworkNamespace.Delete or `ip netns delete`.");
}
