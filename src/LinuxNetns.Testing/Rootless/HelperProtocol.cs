using System.Net.Sockets;
using System.Text;
using LinuxNetns.Interop;

namespace LinuxNetns.Testing.Rootless;

/// <summary>
/// The messages between <see cref="UserNamespaceHelper"/> and its helper process (docs/rootless.md). One SOCK_SEQPACKET
/// message per request and per reply, descriptors attached with SCM_RIGHTS; one request at a time. Compiled into both
/// assemblies, so the two sides cannot disagree.
/// </summary>
internal static class HelperProtocol
{
    /// <summary>The largest message (an exec with a large environment); the kernel allows a little over 200 KiB.</summary>
    public const int MaxMessage = 192 * 1024;

    /// <summary>What the client asks.</summary>
    public enum Request : byte
    {
        /// <summary>A new network namespace, <c>lo</c> down as the kernel makes it. Reply: its number; its nsfs descriptor.</summary>
        NewNamespace = 1,

        /// <summary>Namespace number. Reply: a NETLINK_ROUTE socket made inside.</summary>
        OpenRouteNetlink = 2,

        /// <summary>Namespace number, family, type, protocol. Reply: a socket made inside.</summary>
        CreateSocket = 3,

        /// <summary>Namespace number, path under /proc/sys, value. Reply: nothing.</summary>
        WriteSysctl = 4,

        /// <summary>
        /// Namespace number, program, arguments, environment (NAME=VALUE), working directory, mount propagation, the
        /// /etc/netns entry or "", with four descriptors: the child's standard input, output, error, and a socket on which
        /// the exit is reported (<see cref="WriteExit"/>). Reply: a pidfd of the child. The child is not reaped (so the
        /// pidfd still shows its pid) until the client sends one byte on the exit socket, or closes it.
        /// </summary>
        Exec = 5,
    }

    /// <summary>The reply's first byte.</summary>
    public const byte Succeeded = 0, Failed = 1;

    public static byte[] Encode(Action<BinaryWriter> write)
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true)) write(writer);
        return memory.ToArray();
    }

    public static BinaryReader Reader(byte[] buffer, int length) => new(new MemoryStream(buffer, 0, length, writable: false), Encoding.UTF8);

    public static void WriteList(BinaryWriter writer, IReadOnlyCollection<string> items)
    {
        writer.Write(items.Count);
        foreach (string item in items) writer.Write(item);
    }

    public static List<string> ReadList(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        var items = new List<string>(count);
        for (int i = 0; i < count; i++) items.Add(reader.ReadString());
        return items;
    }

    /// <summary>A failure: the exception's kind, operation, errno, target and message, rebuilt on the client's side.</summary>
    public static byte[] EncodeFailure(Exception error) => Encode(w =>
    {
        w.Write(Failed);
        w.Write(error.GetType().Name);
        NetworkNamespaceException? ns = error as NetworkNamespaceException;
        w.Write((int)(ns?.Operation ?? NamespaceOperation.UserNamespace));
        w.Write((int)(ns?.Errno ?? Errno.None));
        w.Write(ns?.Target ?? "");
        w.Write(error.Message);
    });

    /// <summary>The exception of a failed reply, thrown in the client with the helper's message.</summary>
    public static Exception ReadFailure(BinaryReader reader)
    {
        string type = reader.ReadString();
        var operation = (NamespaceOperation)reader.ReadInt32();
        var errno = (Errno)reader.ReadInt32();
        string target = reader.ReadString();
        string message = reader.ReadString();
        return type switch
        {
            nameof(ArgumentException) => new ArgumentException(message),
            nameof(NotSupportedException) => new NotSupportedException(message),
            nameof(NamespacePermissionException) => new NamespacePermissionException(operation, target, errno, message),
            _ when type.EndsWith("NamespaceException", StringComparison.Ordinal) || type == NetlinkExceptionName =>
                new NetworkNamespaceException(operation, target, errno, message),
            _ => new NetworkNamespaceException(NamespaceOperation.UserNamespace, target, errno, $"The user-namespace helper failed ({type}): {message}"),
        };
    }

    private const string NetlinkExceptionName = "NetlinkException";

    /// <summary>
    /// Runs <paramref name="bindOrConnect"/> with an address for the Unix socket at <paramref name="socketPath"/> that fits
    /// in sun_path (108 bytes) however long the temporary directory's path is: <c>/proc/self/fd/N/NAME</c>, N a descriptor
    /// of the socket's directory, held for the call. Both sides take this way, so a long TMPDIR works for both.
    /// </summary>
    public static void AtSocketPath(string socketPath, Action<UnixDomainSocketEndPoint> bindOrConnect)
    {
        string directory = Path.GetDirectoryName(socketPath)!;
        using SafeFdHandle handle = Libc.Open(directory, Libc.O_PATH | Libc.O_DIRECTORY);
        if (handle.IsInvalid)
        {
            throw NamespaceErrors.Failed(NamespaceOperation.UserNamespace, "Opening the directory of the user-namespace helper's socket (open O_PATH)",
                directory, (Errno)Libc.LastErrno, "It is made in the temporary directory (TMPDIR) and removed once the helper is connected: was it removed before?");
        }
        bindOrConnect(new UnixDomainSocketEndPoint($"/proc/self/fd/{handle.DangerousGetHandle()}/{Path.GetFileName(socketPath)}"));
    }

    /// <summary>The exit report: the code (128 + signal for a signal) and whether a signal ended it.</summary>
    public static byte[] WriteExit(int code, bool killedBySignal) => Encode(w =>
    {
        w.Write(code);
        w.Write(killedBySignal);
    });
}
