using System.Runtime.CompilerServices;
using LinuxNetns.Interop;

namespace LinuxNetns.Threads;

/// <summary>
/// The namespace links of one thread (its <c>/proc/PID/task/TID/ns</c> directory, opened by the thread itself), read
/// with one readlinkat(2) each: a worker compares them after every item, and is not reused once they changed.
/// </summary>
/// <remarks>
/// Covers what unshare(2) and setns(2) can change on a thread of a multithreaded process: net, mnt, uts, ipc,
/// cgroup, and the pid and time namespaces for children. Reading through an open directory descriptor avoids
/// resolving <c>/proc/thread-self</c> each time, which costs about as much as the readlink itself.
/// </remarks>
internal sealed unsafe class ThreadNamespaceLinks : IDisposable
{
    private static readonly byte[][] Names =
    [
        "net\0"u8.ToArray(), "mnt\0"u8.ToArray(), "uts\0"u8.ToArray(), "ipc\0"u8.ToArray(),
        "cgroup\0"u8.ToArray(), "pid_for_children\0"u8.ToArray(), "time_for_children\0"u8.ToArray(),
    ];

    private readonly SafeFdHandle _directory;
    private readonly string[] _snapshot;

    internal ThreadNamespaceLinks(SafeFdHandle directory)
    {
        _directory = directory;
        _snapshot = new string[Names.Length];
        Span<byte> buffer = stackalloc byte[64];
        for (int i = 0; i < Names.Length; i++)
        {
            int n = ReadLink(i, buffer);
            _snapshot[i] = n < 0 ? "" : System.Text.Encoding.ASCII.GetString(buffer[..n]);
        }
    }

    /// <summary>True when the thread's namespaces are still those it had when this was opened.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Unchanged()
    {
        Span<byte> buffer = stackalloc byte[64];
        for (int i = 0; i < Names.Length; i++)
        {
            int n = ReadLink(i, buffer);
            string expected = _snapshot[i];
            if (n < 0 ? expected.Length != 0 : n != expected.Length) return false;
            for (int j = 0; j < n; j++)
            {
                if (buffer[j] != expected[j]) return false;
            }
        }
        return true;
    }

    public void Dispose() => _directory.Dispose();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ReadLink(int index, Span<byte> buffer)
    {
        if (_directory.IsInvalid) return -1;
        fixed (byte* name = Names[index])
        {
            // Raw: read on the switched worker (Switched); the worker owns the directory and closes it last.
            return Switched.ReadlinkAt(_directory.Fd, name, buffer);
        }
    }
}
