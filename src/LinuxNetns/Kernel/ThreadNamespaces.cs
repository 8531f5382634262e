using System.Runtime.CompilerServices;
using LinuxNetns.Interop;

namespace LinuxNetns.Kernel;

/// <summary>
/// The calling thread's namespaces. Always <c>/proc/thread-self</c>: <c>setns</c> and <c>unshare</c> change only the
/// calling thread, and <c>/proc/self</c> is the thread-group leader (DESIGN.md §2.1).
/// </summary>
internal static unsafe class ThreadNamespaces
{
    /// <summary>NUL-terminated path of the calling thread's network namespace.</summary>
    public static ReadOnlySpan<byte> ThreadSelfNet => "/proc/thread-self/ns/net\0"u8;

    private static readonly Lazy<(SafeFdHandle Fd, NamespaceId Id)> HomeNamespace = new(OpenHome);

    /// <summary>
    /// The process's home network namespace: the thread-group leader's at the library's first use. This is the one
    /// place where <c>/proc/self</c> is meant: it names the process, not the calling thread.
    /// </summary>
    public static SafeFdHandle Home => HomeNamespace.Value.Fd;

    /// <summary>The identity of <see cref="Home"/>.</summary>
    public static NamespaceId HomeId => HomeNamespace.Value.Id;

    private static (SafeFdHandle, NamespaceId) OpenHome()
    {
        const string path = "/proc/self/ns/net";
        SafeFdHandle fd = NamespaceFile.OpenNetwork(path, "open the process's network namespace", "Is /proc mounted?");
        return (fd, NamespaceFile.IdOf(fd, path));
    }

    /// <summary>Opens the calling thread's network namespace; returns the raw fd or -1 (errno kept).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int OpenCurrentRaw()
    {
        fixed (byte* p = ThreadSelfNet)
        {
            return Libc.OpenRaw(p, Libc.O_RDONLY);
        }
    }

    /// <summary>
    /// The links of the calling thread's namespaces that a worker thread must keep unchanged; read with one
    /// readlink(2) each, no descriptor.
    /// </summary>
    public static string[] Snapshot()
    {
        var result = new string[WatchedLinks.Length];
        Span<byte> buffer = stackalloc byte[64];
        for (int i = 0; i < WatchedLinks.Length; i++)
        {
            int n = ReadLink(WatchedLinks[i], buffer);
            result[i] = n < 0 ? "" : System.Text.Encoding.ASCII.GetString(buffer[..n]);
        }
        return result;
    }

    /// <summary>True when the calling thread's namespaces still match <paramref name="snapshot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Matches(string[] snapshot)
    {
        Span<byte> buffer = stackalloc byte[64];
        for (int i = 0; i < WatchedLinks.Length; i++)
        {
            int n = ReadLink(WatchedLinks[i], buffer);
            if (n < 0 || n != snapshot[i].Length) return false;
            for (int j = 0; j < n; j++)
            {
                if (buffer[j] != snapshot[i][j]) return false;
            }
        }
        return true;
    }

    // net, mnt, uts, ipc, cgroup and the pid namespace for children: what unshare(2) can change on a thread of a
    // multithreaded process. A worker whose links change after user code ran is not reused.
    private static readonly byte[][] WatchedLinks =
    [
        "/proc/thread-self/ns/net\0"u8.ToArray(),
        "/proc/thread-self/ns/mnt\0"u8.ToArray(),
        "/proc/thread-self/ns/uts\0"u8.ToArray(),
        "/proc/thread-self/ns/ipc\0"u8.ToArray(),
        "/proc/thread-self/ns/cgroup\0"u8.ToArray(),
        "/proc/thread-self/ns/pid_for_children\0"u8.ToArray(),
    ];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ReadLink(byte[] path, Span<byte> buffer)
    {
        fixed (byte* p = path)
        {
            return Libc.Readlink(p, buffer);
        }
    }
}
