using System.Runtime.InteropServices;
using LinuxNetns;
using Microsoft.Win32.SafeHandles;

namespace Netns;

/// <summary>
/// The syscalls the tool makes itself: where iproute2's behaviour differs from the library's on purpose, and
/// output (<see cref="Stdio"/>).
/// </summary>
internal static unsafe partial class Native
{
    public const int SIGHUP = 1;
    public const int SIGTERM = 15;
    private const int EINTR = 4;

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkImport(string path);

    private const int O_RDONLY = 0;
    private const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenImport(string path, int flags);

    private const int F_GETFD = 1;
    private const int FD_CLOEXEC = 1;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlImport(int fd, int command);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillImport(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteImport(int fd, byte* buffer, nint count);

    /// <summary>write(2), retried on EINTR: the bytes written, or -1 on any other error.</summary>
    public static int Write(int fd, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            while (true)
            {
                nint n = WriteImport(fd, p, bytes.Length);
                if (n >= 0) return (int)n;
                if (Marshal.GetLastPInvokeError() != EINTR) return -1;
            }
        }
    }

    /// <summary>unlink(2): 0, or errno.</summary>
    public static int Unlink(string path) => UnlinkImport(path) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>kill(2), to pass a signal on to a child.</summary>
    public static void Kill(int pid, int signal) => KillImport(pid, signal);

    /// <summary>
    /// open(2) read-only and close-on-exec, as ip's freopen(FILE, "r") opens its batch file (a directory opens too;
    /// reading it fails later, which ends a batch as end-of-file does). The handle is invalid when errno is set.
    /// </summary>
    public static SafeFileHandle OpenReadOnly(string path, out Errno errno)
    {
        int fd = OpenImport(path, O_RDONLY | O_CLOEXEC);
        errno = fd < 0 ? (Errno)Marshal.GetLastPInvokeError() : Errno.None;
        return new SafeFileHandle(fd, ownsHandle: fd >= 0);
    }

    /// <summary>
    /// Whether <paramref name="fd"/> is open and was inherited: a descriptor that survived our exec cannot be
    /// close-on-exec, so one that is was opened by the runtime itself, in a slot the parent left closed (the .NET
    /// runtime's own pipes take fd 0 when standard input is closed).
    /// </summary>
    public static bool IsInherited(int fd)
    {
        int flags = FcntlImport(fd, F_GETFD);
        return flags >= 0 && (flags & FD_CLOEXEC) == 0;
    }
}
