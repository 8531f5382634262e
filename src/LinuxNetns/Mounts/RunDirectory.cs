using LinuxNetns.Interop;
using LinuxNetns.Logging;
using Microsoft.Extensions.Logging;
using LinuxNetns.Exec;

namespace LinuxNetns.Mounts;

/// <summary>
/// Makes the run directory a shared mount point, as iproute2 does before every add and attach: mounts made
/// under it then propagate into every mount namespace copied from ours (each <c>unshare -m</c>, each exec),
/// and so do their unmounts, so a delete really frees the namespace everywhere.
/// </summary>
internal static class RunDirectory
{
    public static void Prepare(string directory, ILogger logger)
    {
        CreateDirectories(directory);
        using SafeFdHandle dir = Libc.Open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY);
        if (dir.IsInvalid) throw NamespaceErrors.Failed(NamespaceOperation.OpenRunDirectory, "open run directory", directory, (Errno)Libc.LastErrno);

        // The lock serializes the check-then-mount below between concurrent adds (ours and iproute2's).
        if (Libc.Flock(dir, Libc.LOCK_EX) != 0) throw NamespaceErrors.Failed(NamespaceOperation.LockRunDirectory, "flock run directory", directory, (Errno)Libc.LastErrno);
        try
        {
            logger.Step("mount MS_SHARED|MS_REC", directory);
            if (Libc.Mount("", directory, "none", Libc.MS_SHARED | Libc.MS_REC) == 0) return;
            int errno = Libc.LastErrno;
            if (errno != Libc.EINVAL) throw NamespaceErrors.Failed(NamespaceOperation.ShareRunDirectory, "mount --make-rshared", directory, (Errno)errno);

            // EINVAL: not a mount point yet. Make it one (bind onto itself), then retry the shared remount
            // once, exactly as iproute2 does. No private step in between: the self-bind joins the peer group
            // of the mount it sits on (/run), so its copies already exist in every mount namespace sharing
            // /run; making it private would cut them off (README, "Interoperability with ip netns").
            if (Libc.Mount(directory, directory, "none", Libc.MS_BIND | Libc.MS_REC) != 0)
                throw NamespaceErrors.Failed(NamespaceOperation.BindRunDirectory, "mount --rbind", directory, (Errno)Libc.LastErrno);
            if (Libc.Mount("", directory, "none", Libc.MS_SHARED | Libc.MS_REC) != 0)
                throw UndoShare(directory);
            logger.RunDirectoryBound(directory);
        }
        finally
        {
            Libc.Flock(dir, Libc.LOCK_UN);
        }
    }

    /// <summary>The error of the shared remount after the self-bind, which is undone first: nothing half-made stays.</summary>
    private static NetworkNamespaceException UndoShare(string directory)
    {
        NetworkNamespaceException error = NamespaceErrors.Failed(NamespaceOperation.ShareRunDirectory, "mount --make-rshared", directory, (Errno)Libc.LastErrno);
        Libc.Umount2(directory, Libc.MNT_DETACH);
        return error;
    }

    /// <summary>mkdir -p with mode 0755; an existing directory is fine.</summary>
    internal static void CreateDirectories(string directory)
    {
        if (Libc.Mkdir(directory, 0b111_101_101 /* 0755 */) == 0) return;
        int errno = Libc.LastErrno;
        if (errno == Libc.EEXIST) return;
        if (errno == Libc.ENOENT)
        {
            string? parent = Path.GetDirectoryName(directory.TrimEnd('/'));
            if (!string.IsNullOrEmpty(parent) && parent != directory)
            {
                CreateDirectories(parent);
                if (Libc.Mkdir(directory, 0b111_101_101 /* 0755 */) == 0 || Libc.LastErrno == Libc.EEXIST) return;
                errno = Libc.LastErrno;
            }
        }
        throw NamespaceErrors.Failed(NamespaceOperation.MakeRunDirectory, "mkdir run directory", directory, (Errno)errno);
    }
}
