using System.Runtime.InteropServices;

namespace LinuxNetns.Interop;

// inotify(7) on the run directory (ip netns monitor), and what a watcher thread needs to wait on it and be woken:
// poll(2), an eventfd(2), read(2)/write(2).
internal static unsafe partial class Libc
{
    public const int EMFILE = 24;

    // inotify_init1(2) flags (the same values as O_NONBLOCK / O_CLOEXEC).
    public const int IN_NONBLOCK = O_NONBLOCK;
    public const int IN_CLOEXEC = O_CLOEXEC;

    // inotify event masks (linux/inotify.h).
    public const uint IN_CREATE = 0x100;
    public const uint IN_DELETE = 0x200;
    public const uint IN_UNMOUNT = 0x2000;
    public const uint IN_Q_OVERFLOW = 0x4000;
    public const uint IN_IGNORED = 0x8000;
    public const uint IN_ONLYDIR = 0x1000000;

    // eventfd(2) flags.
    public const int EFD_CLOEXEC = O_CLOEXEC;
    public const int EFD_NONBLOCK = O_NONBLOCK;

    // poll(2) events.
    public const short POLLIN = 0x1;
    public const short POLLPRI = 0x2;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    /// <summary>struct inotify_event without its trailing name: 16 bytes.</summary>
    public const int InotifyEventHeaderSize = 16;

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport(LibraryName, EntryPoint = "inotify_init1", SetLastError = true)]
    private static partial int InotifyInit1Import(int flags);

    [LibraryImport(LibraryName, EntryPoint = "inotify_add_watch", SetLastError = true)]
    private static partial int InotifyAddWatchImport(SafeFdHandle fd, byte* path, uint mask);

    [LibraryImport(LibraryName, EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventfdImport(uint initval, int flags);

    [LibraryImport(LibraryName, EntryPoint = "poll", SetLastError = true)]
    private static partial int PollImport(PollFd* fds, nuint count, int timeout);

    [LibraryImport(LibraryName, EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadImport(SafeFdHandle fd, byte* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteImport(SafeFdHandle fd, byte* buffer, nuint count);

    /// <summary>inotify_init1(2) with IN_CLOEXEC always added.</summary>
    public static SafeFdHandle InotifyInit(int flags) => new(InotifyInit1Import(flags | IN_CLOEXEC));

    /// <summary>inotify_add_watch(2); the watch descriptor or -1 (errno kept).</summary>
    public static int InotifyAddWatch(SafeFdHandle fd, string path, uint mask)
    {
        using var p = new Utf8Path(path);
        return InotifyAddWatchImport(fd, p.Pointer, mask);
    }

    /// <summary>eventfd(2) with EFD_CLOEXEC always added.</summary>
    public static SafeFdHandle EventFd(int flags) => new(EventfdImport(0, flags | EFD_CLOEXEC));

    /// <summary>poll(2); the number of ready descriptors or -1. struct pollfd holds raw numbers: the caller keeps their handles open.</summary>
    public static int Poll(Span<PollFd> fds, int timeoutMilliseconds)
    {
        fixed (PollFd* p = fds)
        {
            return PollImport(p, (nuint)fds.Length, timeoutMilliseconds);
        }
    }

    /// <summary>read(2); the byte count or -1.</summary>
    public static int Read(SafeFdHandle fd, Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            return (int)ReadImport(fd, b, (nuint)buffer.Length);
        }
    }

    /// <summary>Adds 1 to an eventfd counter (wakes whoever polls it); the byte count or -1.</summary>
    public static int SignalEventFd(SafeFdHandle fd)
    {
        ulong one = 1;
        return (int)WriteImport(fd, (byte*)&one, sizeof(ulong));
    }
}
