using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinuxNetns.Interop;

/// <summary>
/// Our own small libc binding (see docs/design.md §11: why not Tmds.LibC). The P/Invokes are private; the
/// helpers below return raw results and leave errno in <see cref="Marshal.GetLastPInvokeError"/>, or wrap
/// descriptors in <see cref="SafeFdHandle"/>. Every descriptor is opened with O_CLOEXEC.
/// </summary>
/// <remarks>
/// Nothing here may be called while a thread is switched into another namespace: the generated wrappers run
/// framework code (errno handling, SafeHandle reference counts) that is call-counted for tiering and may be compiled
/// on first use. Switched code calls <see cref="SwitchedCalls"/> instead.
/// </remarks>
internal static unsafe partial class Libc
{
    private const string LibraryName = "libc";

    private static readonly bool IsArm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

    // open(2) flags. Most are the same on x86_64 and aarch64; O_DIRECTORY and O_NOFOLLOW are not (on arm64,
    // x86's O_DIRECTORY value means O_DIRECT).
    public const int O_RDONLY = 0x0;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public static readonly int O_NOFOLLOW = IsArm ? 0x8000 : 0x20000;
    public static readonly int O_DIRECTORY = IsArm ? 0x4000 : 0x10000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_NONBLOCK = 0x800;
    public const int O_PATH = 0x200000;
    public const int O_NOCTTY = 0x100;

    // flock(2)
    public const int LOCK_EX = 2;
    public const int LOCK_UN = 8;

    // mount(2)
    public const ulong MS_RDONLY = 0x1;
    public const ulong MS_NOSUID = 0x2;
    public const ulong MS_NODEV = 0x4;
    public const ulong MS_NOEXEC = 0x8;
    public const ulong MS_BIND = 0x1000;
    public const ulong MS_REC = 0x4000;
    public const ulong MS_PRIVATE = 0x40000;
    public const ulong MS_SLAVE = 0x80000;
    public const ulong MS_SHARED = 0x100000;

    // umount2(2)
    public const int MNT_DETACH = 0x2;
    public const int UMOUNT_NOFOLLOW = 0x8;

    // clone(2) / setns(2) namespace types
    public const int CLONE_FS = 0x200;
    public const int CLONE_NEWNS = 0x20000;
    public const int CLONE_NEWNET = 0x40000000;

    // ioctl_ns(2): _IO(0xb7, 0x3)
    public const nuint NS_GET_NSTYPE = 0xb703;

    // statfs(2) magic numbers
    public const long NSFS_MAGIC = 0x6e736673;
    public const long PROC_SUPER_MAGIC = 0x9fa0;

    // statx(2)
    public const int AT_FDCWD = -100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_BASIC_STATS = 0x7ff;
    public const uint S_IFMT = 0xf000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFIFO = 0x1000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFSOCK = 0xc000;

    // statfs f_flags
    public const long ST_RDONLY = 1;

    // errno values used for decisions (asm-generic, x86_64 and aarch64 agree).
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int ENXIO = 6;
    public const int ENOEXEC = 8;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ENOTTY = 25;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ELOOP = 40;

    /// <summary>The kernel's struct statx (fixed layout on every architecture).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct StatX
    {
        public uint Mask;
        public uint BlkSize;
        public ulong Attributes;
        public uint NLink;
        public uint Uid;
        public uint Gid;
        public ushort Mode;
        private ushort _spare0;
        public ulong Ino;
        public ulong Size;
        public ulong Blocks;
        public ulong AttributesMask;
        private fixed byte _accessAndBirthTimes[32];
        /// <summary>stx_ctime: the last change of the inode (for a placeholder: when it was made).</summary>
        public long ChangeTimeSeconds;
        public uint ChangeTimeNanoseconds;
        private int _ctimeReserved;
        private fixed byte _modificationTime[16];
        public uint RdevMajor;
        public uint RdevMinor;
        public uint DevMajor;
        public uint DevMinor;
        private fixed ulong _spare2[14];

        /// <summary>st_dev as glibc's makedev() composes it.</summary>
        public readonly ulong Dev =>
            ((ulong)(DevMajor & 0x00000fffu) << 8) | ((ulong)(DevMajor & 0xfffff000u) << 32) |
            (DevMinor & 0x000000ffu) | ((ulong)(DevMinor & 0xffffff00u) << 12);
    }

    /// <summary>struct statfs on 64-bit Linux: the fields we read come first.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct StatFs
    {
        public long Type;
        public long BlockSize;
        public ulong Blocks, BlocksFree, BlocksAvailable, Files, FilesFree;
        public ulong FsId;
        public long NameLength;
        public long FragmentSize;
        public long Flags;
        private fixed long _spare[4];
    }

    // ---- imports --------------------------------------------------------------------------------
    // One import per function. A descriptor the caller owns is passed as its SafeFdHandle: the generated marshaller
    // holds a reference for the call, so a concurrent Dispose cannot close (and the kernel reuse) the number mid-call.
    // What a switched thread calls is not here but in SwitchedCalls (their rule is in its comment).

    // Descriptors come back as int, wrapped by the helper: a SafeHandle return would read the C int as a pointer-sized
    // value, and -1 would not be -1.
    [LibraryImport(LibraryName, EntryPoint = "open", SetLastError = true)]
    private static partial int OpenImport(byte* path, int flags, uint mode);

    // Raw: SafeFdHandle.ReleaseHandle closes through it, and exec closes pipe ends it has not wrapped.
    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    private static partial int CloseImport(int fd);

    [LibraryImport(LibraryName, EntryPoint = "mkdir", SetLastError = true)]
    private static partial int MkdirImport(byte* path, uint mode);

    [LibraryImport(LibraryName, EntryPoint = "unlink", SetLastError = true)]
    private static partial int UnlinkImport(byte* path);

    [LibraryImport(LibraryName, EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockImport(SafeFdHandle fd, int operation);

    [LibraryImport(LibraryName, EntryPoint = "mount", SetLastError = true)]
    private static partial int MountImport(byte* source, byte* target, byte* fstype, nuint flags, void* data);

    [LibraryImport(LibraryName, EntryPoint = "umount2", SetLastError = true)]
    private static partial int Umount2Import(byte* target, int flags);

    [LibraryImport(LibraryName, EntryPoint = "statx", SetLastError = true)]
    private static partial int StatxImport(SafeFdHandle dirfd, byte* path, int flags, uint mask, StatX* buffer);

    [LibraryImport(LibraryName, EntryPoint = "fstatfs", SetLastError = true)]
    private static partial int FstatfsImport(SafeFdHandle fd, StatFs* buffer);

    [LibraryImport(LibraryName, EntryPoint = "statfs", SetLastError = true)]
    private static partial int StatfsImport(byte* path, StatFs* buffer);

    [LibraryImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlImport(SafeFdHandle fd, nuint request);

    [LibraryImport(LibraryName, EntryPoint = "readlinkat", SetLastError = true)]
    private static partial nint ReadlinkatImport(SafeFdHandle dirfd, byte* path, byte* buffer, nuint size);

    // gettid(3) is glibc 2.30+ only (RHEL 8 has 2.28): use syscall(2) with the architecture's number.
    [LibraryImport(LibraryName, EntryPoint = "syscall")]
    private static partial nint SyscallImport(nint number);

    private static readonly nint SysGettid = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm64 => 178,
        Architecture.Arm => 224,
        _ => 186, // x86_64
    };

    /// <summary>AT_FDCWD as a handle, for the *at calls on paths: never closed, and valid (not -1) for the marshaller.</summary>
    private static readonly SafeFdHandle CurrentDirectory = new(AT_FDCWD, ownsHandle: false);

    // ---- helpers --------------------------------------------------------------------------------

    /// <summary>The calling thread's kernel thread id.</summary>
    public static int GetThreadId() => (int)SyscallImport(SysGettid);

    /// <summary>open(2) with O_CLOEXEC always added; an invalid handle on failure (errno kept).</summary>
    public static SafeFdHandle Open(string path, int flags, uint mode = 0)
    {
        using var p = new Utf8Path(path);
        return new SafeFdHandle(OpenImport(p.Pointer, flags | O_CLOEXEC, mode));
    }

    /// <summary>close(2) of a descriptor no SafeFdHandle owns.</summary>
    public static int CloseRaw(int fd) => CloseImport(fd);

    public static int Mkdir(string path, uint mode)
    {
        using var p = new Utf8Path(path);
        return MkdirImport(p.Pointer, mode);
    }

    public static int Unlink(string path)
    {
        using var p = new Utf8Path(path);
        return UnlinkImport(p.Pointer);
    }

    public static int Flock(SafeFdHandle fd, int operation) => FlockImport(fd, operation);

    /// <summary>mount(2); null strings are passed as NULL.</summary>
    public static int Mount(string? source, string target, string? fsType, ulong flags)
    {
        using var s = new Utf8Path(source);
        using var t = new Utf8Path(target);
        using var f = new Utf8Path(fsType);
        return MountImport(s.Pointer, t.Pointer, f.Pointer, (nuint)flags, null);
    }

    public static int Umount2(string target, int flags)
    {
        using var t = new Utf8Path(target);
        return Umount2Import(t.Pointer, flags);
    }

    /// <summary>statx(2) of a path (following links).</summary>
    public static int Stat(string path, out StatX result) => StatAt(CurrentDirectory, path, 0, out result);

    /// <summary>statx(2) of the link itself (not followed).</summary>
    public static int LStat(string path, out StatX result) => StatAt(CurrentDirectory, path, AT_SYMLINK_NOFOLLOW, out result);

    private static int StatAt(SafeFdHandle dir, string path, int flags, out StatX result)
    {
        using var p = new Utf8Path(path);
        fixed (StatX* r = &result)
        {
            return StatxImport(dir, p.Pointer, flags, STATX_BASIC_STATS, r);
        }
    }

    /// <summary>statx(2) of an open descriptor (fstat).</summary>
    public static int FStat(SafeFdHandle fd, out StatX result)
    {
        fixed (StatX* r = &result)
        fixed (byte* empty = EmptyString)
        {
            return StatxImport(fd, empty, AT_EMPTY_PATH, STATX_BASIC_STATS, r);
        }
    }

    /// <summary>The empty C string that AT_EMPTY_PATH takes.</summary>
    internal static ReadOnlySpan<byte> EmptyString => [0];

    public static int FStatFs(SafeFdHandle fd, out StatFs result)
    {
        fixed (StatFs* r = &result)
        {
            return FstatfsImport(fd, r);
        }
    }

    public static int StatFsPath(string path, out StatFs result)
    {
        using var p = new Utf8Path(path);
        fixed (StatFs* r = &result)
        {
            return StatfsImport(p.Pointer, r);
        }
    }

    public static int Ioctl(SafeFdHandle fd, nuint request) => IoctlImport(fd, request);

    // sockios.h: the network namespace of a socket, as a new descriptor (the kernel sets O_CLOEXEC on it). Linux 4.9.
    private const nuint SIOCGSKNS = 0x894C;

    /// <summary>ioctl(SIOCGSKNS): an nsfs descriptor of the namespace socket <paramref name="socket"/> lives in; invalid with errno on failure.</summary>
    public static SafeFdHandle OpenSocketNamespace(SafeFdHandle socket) => new(IoctlImport(socket, SIOCGSKNS));

    /// <summary>errno of the last P/Invoke on this thread.</summary>
    public static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>A pinned, NUL-terminated UTF-8 copy of a path (or NULL); a path with a NUL in it is refused.</summary>
    private readonly ref struct Utf8Path
    {
        private readonly byte[]? _owned;
        public readonly byte* Pointer;
        private readonly GCHandle _pin;

        public Utf8Path(string? value)
        {
            if (value is null)
            {
                Pointer = null;
                return;
            }
            if (value.Contains('\0'))
            {
                throw new ArgumentException($"Path \"{value.Replace("\0", "\\0")}\" contains a NUL character.", nameof(value));
            }
            _owned = new byte[System.Text.Encoding.UTF8.GetByteCount(value) + 1];
            System.Text.Encoding.UTF8.GetBytes(value, _owned);
            _pin = GCHandle.Alloc(_owned, GCHandleType.Pinned);
            Pointer = (byte*)_pin.AddrOfPinnedObject();
        }

        public void Dispose()
        {
            if (_owned is not null) _pin.Free();
        }
    }
}
