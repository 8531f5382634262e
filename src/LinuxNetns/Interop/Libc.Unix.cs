using System.Runtime.InteropServices;

namespace LinuxNetns.Interop;

// Unix sockets that carry descriptors (SCM_RIGHTS): the channel to the helper that holds the namespaces of a network
// made without root (docs/rootless.md).
internal static unsafe partial class Libc
{
    public const int AF_UNIX = 1;
    public const int SOCK_SEQPACKET = 5;
    public const int SCM_RIGHTS = 1;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;
    public const int MSG_CTRUNC = 0x8;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int EMSGSIZE = 90;

    /// <summary>The most descriptors one message carries.</summary>
    public const int MaxPassedDescriptors = 8;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    // CMSG_SPACE(MaxPassedDescriptors * sizeof(int)) on 64-bit Linux: the header (16) and the ints, 8-aligned.
    private const int ControlSpace = 16 + MaxPassedDescriptors * sizeof(int);

    [LibraryImport(LibraryName, EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SocketPairImport(int domain, int type, int protocol, int* fds);

    [LibraryImport(LibraryName, EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsgImport(SafeHandle fd, MsgHdr* message, int flags);

    [LibraryImport(LibraryName, EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsgImport(SafeHandle fd, MsgHdr* message, int flags);

    [LibraryImport(LibraryName, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlImport(int fd, int command, int argument);

    /// <summary>A connected pair of SOCK_SEQPACKET Unix sockets, both close-on-exec; -1 on failure (errno kept).</summary>
    public static int SeqpacketPair(out int first, out int second)
    {
        int* fds = stackalloc int[2];
        int result = SocketPairImport(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
        first = fds[0];
        second = fds[1];
        return result;
    }

    /// <summary>A close-on-exec duplicate of <paramref name="fd"/>, or -1 (errno kept).</summary>
    public static int DuplicateCloseOnExec(int fd) => FcntlImport(fd, F_DUPFD_CLOEXEC, 0);

    /// <summary>sendmsg(2) of one message with <paramref name="fds"/> attached (SCM_RIGHTS); the byte count or -1 (errno kept).</summary>
    public static long SendWithDescriptors(SafeHandle socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        if (fds.Length > MaxPassedDescriptors) throw new ArgumentOutOfRangeException(nameof(fds));
        byte* control = stackalloc byte[ControlSpace];
        new Span<byte>(control, ControlSpace).Clear();
        fixed (byte* p = data)
        {
            var iov = new IoVec { Base = p, Length = (nuint)data.Length };
            var message = new MsgHdr { Iov = &iov, IovLength = 1 };
            if (fds.Length > 0)
            {
                var header = (CmsgHdr*)control;
                header->Length = (nuint)(sizeof(CmsgHdr) + fds.Length * sizeof(int));
                header->Level = SOL_SOCKET;
                header->Type = SCM_RIGHTS;
                fds.CopyTo(new Span<int>(control + sizeof(CmsgHdr), fds.Length));
                message.Control = control;
                message.ControlLength = (nuint)(sizeof(CmsgHdr) + ((fds.Length * sizeof(int) + 7) & ~7));
            }
            return SendMsgImport(socket, &message, MSG_NOSIGNAL);
        }
    }

    /// <summary>
    /// recvmsg(2) of one message; the descriptors that came with it are returned close-on-exec in <paramref name="fds"/>
    /// (<paramref name="fdCount"/> of them; the caller owns them). The byte count (0 at end of file) or -1 (errno kept).
    /// A message with more descriptors than fit is refused (EMSGSIZE) after closing what arrived.
    /// </summary>
    public static long ReceiveWithDescriptors(SafeHandle socket, Span<byte> buffer, Span<int> fds, out int fdCount)
    {
        fdCount = 0;
        byte* control = stackalloc byte[ControlSpace];
        new Span<byte>(control, ControlSpace).Clear();
        fixed (byte* p = buffer)
        {
            var iov = new IoVec { Base = p, Length = (nuint)buffer.Length };
            var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlSpace };
            nint received;
            do
            {
                received = RecvMsgImport(socket, &message, MSG_CMSG_CLOEXEC);
            }
            while (received < 0 && LastErrno == EINTR);
            if (received < 0) return -1;
            var header = (CmsgHdr*)control;
            if (message.ControlLength >= (nuint)sizeof(CmsgHdr) && header->Level == SOL_SOCKET && header->Type == SCM_RIGHTS)
            {
                int count = (int)((header->Length - (nuint)sizeof(CmsgHdr)) / sizeof(int));
                var arrived = new ReadOnlySpan<int>(control + sizeof(CmsgHdr), count);
                if (count > fds.Length || (message.Flags & MSG_CTRUNC) != 0)
                {
                    foreach (int fd in arrived) CloseRaw(fd);
                    Marshal.SetLastPInvokeError(EMSGSIZE);
                    return -1;
                }
                arrived.CopyTo(fds);
                fdCount = count;
            }
            return received;
        }
    }
}
