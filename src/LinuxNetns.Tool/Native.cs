using System.Runtime.InteropServices;

namespace Netns;

/// <summary>The two syscalls the tool makes itself, where iproute2's behaviour differs from the library's on purpose.</summary>
internal static partial class Native
{
    public const int SIGHUP = 1;
    public const int SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkImport(string path);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillImport(int pid, int signal);

    /// <summary>unlink(2): 0, or errno.</summary>
    public static int Unlink(string path) => UnlinkImport(path) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>kill(2), to pass a signal on to a child.</summary>
    public static void Kill(int pid, int signal) => KillImport(pid, signal);
}
