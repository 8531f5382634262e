using System.Runtime.InteropServices;

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
}
