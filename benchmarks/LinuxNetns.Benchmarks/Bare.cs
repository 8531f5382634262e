using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// The floor: bare P/Invokes of libc, written here and not borrowed from the library, so that the floor rows show
/// what the kernel work itself costs from .NET. Blittable <c>DllImport</c>s with <c>SetLastError</c>, as the
/// library's <c>LibraryImport</c>s are; no SafeHandles, no strings on the hot path (paths are prepared once as
/// pinned NUL-terminated bytes).
/// </summary>
internal static unsafe class Bare
{
    public const int O_RDONLY = 0x0, O_CREAT = 0x40, O_EXCL = 0x80, O_DIRECTORY = 0x10000, O_CLOEXEC = 0x80000;
    public const int LOCK_EX = 2, LOCK_UN = 8;
    public const nuint MS_RDONLY = 0x1, MS_NOSUID = 0x2, MS_NODEV = 0x4, MS_NOEXEC = 0x8, MS_BIND = 0x1000,
        MS_REC = 0x4000, MS_PRIVATE = 0x40000, MS_SHARED = 0x100000;
    public const int MNT_DETACH = 0x2, UMOUNT_NOFOLLOW = 0x8;
    public const int CLONE_NEWNS = 0x20000, CLONE_NEWNET = 0x40000000;
    public const nuint NS_GET_NSTYPE = 0xb703;
    public const long NSFS_MAGIC = 0x6e736673;
    public const int AT_EMPTY_PATH = 0x1000;
    public const uint STATX_BASIC_STATS = 0x7ff;
    public const int AF_INET = 2, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000;
    public const int EEXIST = 17, EINVAL = 22;

    [DllImport("libc", SetLastError = true)] public static extern int open(byte* path, int flags, uint mode);
    [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] public static extern int mkdir(byte* path, uint mode);
    [DllImport("libc", SetLastError = true)] public static extern int unlink(byte* path);
    [DllImport("libc", SetLastError = true)] public static extern int flock(int fd, int operation);
    [DllImport("libc", SetLastError = true)] public static extern int mount(byte* source, byte* target, byte* fstype, nuint flags, void* data);
    [DllImport("libc", SetLastError = true)] public static extern int umount2(byte* target, int flags);
    [DllImport("libc", SetLastError = true)] public static extern int unshare(int flags);
    [DllImport("libc", SetLastError = true)] public static extern int setns(int fd, int nstype);
    [DllImport("libc", SetLastError = true)] public static extern int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);
    [DllImport("libc", SetLastError = true)] public static extern int fstatfs(int fd, long* buffer);
    [DllImport("libc", SetLastError = true)] public static extern int ioctl(int fd, nuint request);
    [DllImport("libc", SetLastError = true)] public static extern int socket(int domain, int type, int protocol);
    [DllImport("libc", SetLastError = true)] public static extern nint getdents64(int fd, byte* buffer, nuint count);
    [DllImport("libc", SetLastError = true)] public static extern int kill(int pid, int signal);

    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>A NUL-terminated UTF-8 copy in memory that never moves (lives for the process).</summary>
    public static byte* Z(string s)
    {
        int n = System.Text.Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        System.Text.Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return p;
    }

    public static void Check(int result, string what)
    {
        if (result < 0) throw new InvalidOperationException($"{what} failed: errno {Errno}");
    }

    public static readonly byte* ThreadSelfNet = Z("/proc/thread-self/ns/net");
    public static readonly byte* Empty = Z("");
    public static readonly byte* None = Z("none");

    // ---- create, delete, open, list ------------------------------------------------------------------

    /// <summary>
    /// iproute2's run-directory preparation: mkdir, open, flock, make it a shared mount (binding it onto itself
    /// first if it is not a mount point yet), unlock, close.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PrepareRunDirectory(byte* runDir)
    {
        if (mkdir(runDir, 0b111_101_101) != 0 && Errno != EEXIST) Check(-1, "mkdir");
        int dir = open(runDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        Check(dir, "open run dir");
        Check(flock(dir, LOCK_EX), "flock");
        if (mount(Empty, runDir, None, MS_SHARED | MS_REC, null) != 0)
        {
            if (Errno != EINVAL) Check(-1, "mount shared");
            Check(mount(runDir, runDir, None, MS_BIND | MS_REC, null), "mount rbind");
            Check(mount(Empty, runDir, None, MS_PRIVATE | MS_REC, null), "mount rprivate");
            Check(mount(Empty, runDir, None, MS_SHARED | MS_REC, null), "mount rshared");
        }
        flock(dir, LOCK_UN);
        close(dir);
    }

    /// <summary>
    /// <c>ip netns add</c>, bare: prepare the run directory, placeholder with O_EXCL, then on a dedicated thread
    /// unshare(CLONE_NEWNET), bind-mount /proc/thread-self/ns/net onto the placeholder, keep an fd to the new
    /// namespace and setns back; fstat the fd for the namespace's identity. Returns the fd (the caller closes it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int CreatePinned(byte* runDir, byte* path, BareThread home)
    {
        PrepareRunDirectory(runDir);
        int placeholder = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
        Check(placeholder, "create placeholder");
        close(placeholder);
        var work = new CreateWork { Path = path, HomeFd = home.HomeFd };
        home.Execute(&DoCreate, &work);
        if (work.Errno != 0)
        {
            umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
            unlink(path);
            throw new InvalidOperationException($"create failed: errno {work.Errno}");
        }
        Stat(work.NewFd, out _, out _);
        return work.NewFd;
    }

    private struct CreateWork
    {
        public byte* Path;
        public int HomeFd;
        public int NewFd;
        public int Errno;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DoCreate(void* state)
    {
        var w = (CreateWork*)state;
        w->NewFd = -1;
        if (unshare(CLONE_NEWNET) != 0)
        {
            w->Errno = Errno;
            return;
        }
        if (mount(ThreadSelfNet, w->Path, None, MS_BIND, null) != 0) w->Errno = Errno;
        else w->NewFd = open(ThreadSelfNet, O_RDONLY | O_CLOEXEC, 0);
        if (setns(w->HomeFd, CLONE_NEWNET) != 0) Environment.FailFast("floor: setns back failed");
    }

    /// <summary><c>ip netns delete</c>, bare: umount2(MNT_DETACH|UMOUNT_NOFOLLOW), unlink.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Delete(byte* path)
    {
        umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
        Check(unlink(path), "unlink");
    }

    /// <summary>Open a namespace file and check it as the library does: fstatfs magic, NS_GET_NSTYPE, fstat for the id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int OpenChecked(byte* path)
    {
        int fd = open(path, O_RDONLY | O_CLOEXEC, 0);
        Check(fd, "open");
        long* fs = stackalloc long[16];
        Check(fstatfs(fd, fs), "fstatfs");
        if (fs[0] != NSFS_MAGIC) throw new InvalidOperationException("not nsfs");
        if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) throw new InvalidOperationException("not a net namespace");
        Stat(fd, out _, out _);
        return fd;
    }

    /// <summary>statx(fd, "", AT_EMPTY_PATH): the (dev major/minor, ino) identity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Stat(int fd, out ulong ino, out ulong dev)
    {
        byte* buffer = stackalloc byte[256];
        Check(statx(fd, Empty, AT_EMPTY_PATH, STATX_BASIC_STATS, buffer), "statx");
        ino = *(ulong*)(buffer + 32);
        dev = ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140);
    }

    /// <summary>The names in a directory (readdir order, without . and ..): open, getdents64 until empty, close.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static List<string> ListNames(byte* dir)
    {
        var names = new List<string>();
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        Check(fd, "open dir");
        byte* buffer = stackalloc byte[32768];
        while (true)
        {
            nint n = getdents64(fd, buffer, 32768);
            if (n <= 0) break;
            for (nint offset = 0; offset < n;)
            {
                // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                byte* entry = buffer + offset;
                ushort reclen = *(ushort*)(entry + 16);
                byte* name = entry + 19;
                if (!(name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))))
                    names.Add(new string((sbyte*)name));
                offset += reclen;
            }
        }
        close(fd);
        return names;
    }

    // ---- switching ------------------------------------------------------------------------------------

    /// <summary>Enter and leave a namespace on the calling thread: save the current one, setns in, setns back, close.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void EnterExit(int targetFd)
    {
        int saved = open(ThreadSelfNet, O_RDONLY | O_CLOEXEC, 0);
        if (saved < 0) Check(saved, "open thread-self");
        if (setns(targetFd, CLONE_NEWNET) != 0) Check(-1, "setns in");
        if (setns(saved, CLONE_NEWNET) != 0) Environment.FailFast("floor: setns back failed");
        close(saved);
    }

    /// <summary>A UDP socket created on the calling thread (which must be in the namespace).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Socket(void* state) => *(int*)state = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}
