using LinuxNetns.Interop;

namespace LinuxNetns.Nsfs;

/// <summary>
/// Opens a process's network namespace so that a reused pid can never hand out another process's namespace
/// (docs/design.md §13): a pidfd first, then <c>/proc/PID/ns/net</c>, then a check that the pidfd's process is still
/// alive. While it lives its pid cannot be reused, so the namespace opened in between is that process's.
/// </summary>
/// <remarks>
/// Fallback, documented: a kernel without <c>pidfd_open</c> (before 5.3, ENOSYS) and a thread id that is not a thread-group
/// leader (EINVAL) get the plain open of <c>/proc/PID/ns/net</c>, which is only as good as the pid the caller passed.
/// </remarks>
internal static class ProcessNamespace
{
    public static SafeFdHandle Open(int pid, string path, string operation, string notFoundAdvice)
    {
        int pidfd = Libc.PidfdOpen(pid);
        if (pidfd < 0)
        {
            int errno = Libc.LastErrno;
            if (errno is Libc.ENOSYS or Libc.EINVAL) return NamespaceFile.OpenNetwork(path, operation, notFoundAdvice);
            throw NamespaceErrors.Failed(NamespaceOperation.OpenProcess, $"{operation}: pidfd_open({pid})", path, (Errno)errno,
                errno is Libc.ESRCH or Libc.ENOENT ? notFoundAdvice : "Close descriptors (EMFILE) or retry.");
        }
        using var pidHandle = new SafeFdHandle(pidfd);
        SafeFdHandle fd = NamespaceFile.OpenNetwork(path, operation, notFoundAdvice);
        if (!IsAlive(pidHandle))
        {
            fd.Dispose();
            throw new NamespaceNotFoundException(NamespaceOperation.OpenProcess, path, Errno.ESRCH,
                $"{operation} \"{path}\" failed: process {pid} exited while its namespace was being opened, so what was opened may belong to a process that reused the pid; it was closed. {notFoundAdvice}");
        }
        return fd;
    }

    /// <summary>Opens <c>/proc/PID/ns/net</c> the same way without throwing: null when the process is gone or it is unreadable.</summary>
    public static SafeFdHandle? TryOpen(int pid, string path, out int errno)
    {
        int pidfd = Libc.PidfdOpen(pid);
        if (pidfd < 0)
        {
            errno = Libc.LastErrno;
            if (errno is not (Libc.ENOSYS or Libc.EINVAL)) return null;
            return NamespaceFile.TryOpenNetwork(path, out errno);
        }
        using var pidHandle = new SafeFdHandle(pidfd);
        SafeFdHandle? fd = NamespaceFile.TryOpenNetwork(path, out errno);
        if (fd is not null && !IsAlive(pidHandle))
        {
            fd.Dispose();
            errno = Libc.ESRCH;
            return null;
        }
        return fd;
    }

    /// <summary>pidfd_send_signal(0): ESRCH once the process has exited. EPERM (not ours to signal) still means alive.</summary>
    private static bool IsAlive(SafeFdHandle pidfd) => Libc.PidfdSendSignal(pidfd, 0) == 0 || Libc.LastErrno != Libc.ESRCH;
}
