using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinuxNetns.Interop;

// Sockets for rtnetlink: socket, bind, getsockname, setsockopt (options, receive timeout), send, recv.
internal static unsafe partial class Libc
{
    // socket(2)
    public const int AF_NETLINK = 16;
    public const int SOCK_RAW = 3;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int NETLINK_ROUTE = 0;

    // setsockopt(2) levels and netlink options (linux/netlink.h)
    public const int SOL_SOCKET = 1;
    public const int SO_RCVBUF = 8;
    public const int SO_RCVTIMEO = 20;
    public const int SOL_NETLINK = 270;
    public const int NETLINK_CAP_ACK = 10;
    public const int NETLINK_EXT_ACK = 11;
    public const int NETLINK_GET_STRICT_CHK = 12;

    // recv(2) flags
    public const int MSG_PEEK = 0x2;
    public const int MSG_TRUNC = 0x20;

    public const int ENODEV = 19;
    public const int EBADMSG = 74;
    public const int ENOPROTOOPT = 92;
    public const int EOPNOTSUPP = 95;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETUNREACH = 101;
    public const int ENOBUFS = 105;

    /// <summary>struct sockaddr_nl.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockAddrNetlink
    {
        public ushort Family;
        private ushort _pad;
        public uint PortId;
        public uint Groups;
    }

    // AggressiveOptimization: a socket is opened on a namespace's Run worker (NetlinkSocket.OpenIn), whose library
    // code is never call-counted; the framework code the wrappers call is covered there by TieringWorkerGuard.
    [LibraryImport(LibraryName, EntryPoint = "socket", SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static partial int SocketImport(int domain, int type, int protocol);

    [LibraryImport(LibraryName, EntryPoint = "bind", SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static partial int BindImport(SafeFdHandle fd, SockAddrNetlink* address, uint length);

    [LibraryImport(LibraryName, EntryPoint = "getsockname", SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static partial int GetsocknameImport(SafeFdHandle fd, SockAddrNetlink* address, uint* length);

    [LibraryImport(LibraryName, EntryPoint = "setsockopt", SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static partial int SetsockoptImport(SafeFdHandle fd, int level, int name, void* value, uint length);

    [LibraryImport(LibraryName, EntryPoint = "send", SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static partial nint SendImport(SafeFdHandle fd, byte* buffer, nuint length, int flags);

    [LibraryImport(LibraryName, EntryPoint = "recv", SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static partial nint RecvImport(SafeFdHandle fd, byte* buffer, nuint length, int flags);

    /// <summary>A NETLINK_ROUTE socket in the calling thread's network namespace (SOCK_CLOEXEC); invalid on failure.</summary>
    public static SafeFdHandle OpenRouteNetlinkSocket() =>
        new(SocketImport(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));

    /// <summary>Binds a netlink socket to a kernel-chosen port id and returns that id; -1 on failure (errno kept).</summary>
    public static long BindNetlink(SafeFdHandle fd)
    {
        var address = new SockAddrNetlink { Family = AF_NETLINK };
        if (BindImport(fd, &address, (uint)sizeof(SockAddrNetlink)) != 0) return -1;
        uint length = (uint)sizeof(SockAddrNetlink);
        if (GetsocknameImport(fd, &address, &length) != 0) return -1;
        return address.PortId;
    }

    /// <summary>setsockopt(2) with an int value.</summary>
    public static int SetSocketOption(SafeFdHandle fd, int level, int name, int value) =>
        SetsockoptImport(fd, level, name, &value, sizeof(int));

    /// <summary>struct timeval (time_t and suseconds_t are C longs).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct TimeVal
    {
        public nint Seconds;
        public nint Microseconds;
    }

    /// <summary>SO_RCVTIMEO: recv(2) fails with EAGAIN when nothing arrives within <paramref name="timeout"/>.</summary>
    public static int SetReceiveTimeout(SafeFdHandle fd, TimeSpan timeout)
    {
        long micros = (long)(timeout.Ticks / TimeSpan.TicksPerMicrosecond);
        var value = new TimeVal { Seconds = (nint)(micros / 1_000_000), Microseconds = (nint)(micros % 1_000_000) };
        return SetsockoptImport(fd, SOL_SOCKET, SO_RCVTIMEO, &value, (uint)sizeof(TimeVal));
    }

    /// <summary>send(2) of a whole buffer; returns the byte count or -1 (errno kept).</summary>
    public static long Send(SafeFdHandle fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return SendImport(fd, p, (nuint)data.Length, 0);
        }
    }

    /// <summary>recv(2); with MSG_TRUNC returns the datagram's real length even if larger than the buffer.</summary>
    public static long Receive(SafeFdHandle fd, Span<byte> buffer, int flags)
    {
        fixed (byte* p = buffer)
        {
            return RecvImport(fd, p, (nuint)buffer.Length, flags);
        }
    }
}
