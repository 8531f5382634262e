using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinuxNetns.Interop;

/// <summary>
/// Everything the library calls while a thread is switched into another namespace: libc functions as unmanaged
/// function pointers, resolved at home. <see cref="Exec.SwitchedWindow"/> calls them on a plan in unmanaged memory;
/// the rest of the library's switched code (<c>Enter</c>/<c>Dispose</c>, the <c>Run</c> workers' switch and
/// namespace check, creating a namespace on the home thread) calls them through <see cref="Switched"/>.
/// </summary>
/// <remarks>
/// The rule: between leaving home and coming back, library code calls libc only through this table. A call through
/// a function pointer is an inline transition to native code: no generated wrapper that could be counted for tiering,
/// no framework errno or SafeHandle code, nothing to allocate. So descriptors are raw numbers here, kept open by the
/// caller (a reference taken at home, or a descriptor that is never closed). At home, use <see cref="Libc"/>
/// (docs/runtime-threads.md, "What may run while switched").
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SwitchedCalls
{
    public delegate* unmanaged<int, int, int> Setns;
    public delegate* unmanaged<int, int> Unshare;
    public delegate* unmanaged<byte*, byte*, byte*, nuint, void*, int> Mount;
    public delegate* unmanaged<byte*, int, int> Umount2;
    public delegate* unmanaged<byte*, int, int, int> Open;
    public delegate* unmanaged<int, int> Close;
    public delegate* unmanaged<byte*, int> Chdir;
    public delegate* unmanaged<int*, byte*, void*, void*, byte**, byte**, int> PosixSpawn;
    public delegate* unmanaged<int, byte*, byte*, nuint, nint> Readlinkat;
    public delegate* unmanaged<int, byte*, int, uint, Libc.StatX*, int> Statx;

    /// <summary>errno of the calling thread; no transition, so nothing runs between the call and the read.</summary>
    public delegate* unmanaged[SuppressGCTransition]<int*> ErrnoLocation;

    /// <summary>The real functions.</summary>
    public static SwitchedCalls Real => Resolution.Functions;

    /// <summary>
    /// How a statically linked executable supplies these functions by name (the netns tool sets it first thing in
    /// <c>Main</c>). Asked only for a name that the process's own lookup does not find, which in a dynamically linked
    /// process never happens: there they are libc's exports.
    /// </summary>
    /// <remarks>
    /// A static executable has its own C library linked in and no dynamic symbols: looking the names up in the process
    /// finds nothing, and loading libc.so.6 would put a second C library, with its own errno and heap, into the process
    /// (docs/netns-tool.md, "Statically linked"). Read once, at the first use of <see cref="Real"/>.
    /// </remarks>
    public static Func<string, nint>? LinkedFunctions { get; set; }

    /// <summary>
    /// Every call replaced by <c>sched_yield</c> (which takes nothing and returns 0): a dry run executes every call
    /// site once, at home, so that whatever the runtime does the first time a call site runs (in a Debug build,
    /// generating its marshalling stub) never happens on a switched thread.
    /// </summary>
    public static SwitchedCalls DryRun
    {
        get
        {
            nint yield = Export("sched_yield");
            return new SwitchedCalls
            {
                Setns = (delegate* unmanaged<int, int, int>)yield,
                Unshare = (delegate* unmanaged<int, int>)yield,
                Mount = (delegate* unmanaged<byte*, byte*, byte*, nuint, void*, int>)yield,
                Umount2 = (delegate* unmanaged<byte*, int, int>)yield,
                Open = (delegate* unmanaged<byte*, int, int, int>)yield,
                Close = (delegate* unmanaged<int, int>)yield,
                Chdir = (delegate* unmanaged<byte*, int>)yield,
                PosixSpawn = (delegate* unmanaged<int*, byte*, void*, void*, byte**, byte**, int>)yield,
                Readlinkat = (delegate* unmanaged<int, byte*, byte*, nuint, nint>)yield,
                Statx = (delegate* unmanaged<int, byte*, int, uint, Libc.StatX*, int>)yield,
                ErrnoLocation = Real.ErrnoLocation,
            };
        }
    }

    /// <summary>Every function the table holds, by its libc name.</summary>
    public static readonly string[] FunctionNames =
    [
        "setns", "unshare", "mount", "umount2", "open", "close", "chdir", "posix_spawn", "readlinkat", "statx",
        "__errno_location", "sched_yield",
    ];

    // A class of its own, so that setting LinkedFunctions does not run the resolution before it is set.
    private static class Resolution
    {
        public static readonly SwitchedCalls Functions = new()
        {
            Setns = (delegate* unmanaged<int, int, int>)Export("setns"),
            Unshare = (delegate* unmanaged<int, int>)Export("unshare"),
            Mount = (delegate* unmanaged<byte*, byte*, byte*, nuint, void*, int>)Export("mount"),
            Umount2 = (delegate* unmanaged<byte*, int, int>)Export("umount2"),
            Open = (delegate* unmanaged<byte*, int, int, int>)Export("open"),
            Close = (delegate* unmanaged<int, int>)Export("close"),
            Chdir = (delegate* unmanaged<byte*, int>)Export("chdir"),
            PosixSpawn = (delegate* unmanaged<int*, byte*, void*, void*, byte**, byte**, int>)Export("posix_spawn"),
            Readlinkat = (delegate* unmanaged<int, byte*, byte*, nuint, nint>)Export("readlinkat"),
            Statx = (delegate* unmanaged<int, byte*, int, uint, Libc.StatX*, int>)Export("statx"),
            ErrnoLocation = (delegate* unmanaged[SuppressGCTransition]<int*>)Export("__errno_location"),
        };
    }

    // The process's own view of libc (the symbols its P/Invokes bind to): nothing is loaded for it. Only a statically
    // linked executable finds nothing there.
    private static nint Export(string name)
    {
        Debug.Assert(Array.IndexOf(FunctionNames, name) >= 0, name + " is missing from FunctionNames");
        if (NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), name, out nint export)) return export;
        if (LinkedFunctions is { } linked)
        {
            nint address = linked(name);
            if (address != 0) return address;
            throw new PlatformNotSupportedException(
                "LinuxNetns: the executable's linked-in libc functions have no '" + name + "' (SwitchedCalls.LinkedFunctions): " +
                "add it to the table the executable is linked with (the netns tool's LinkedLibc.c).");
        }
        throw new PlatformNotSupportedException(
            "LinuxNetns: libc's '" + name + "' cannot be found in this process (dlsym on the main program finds nothing: " +
            "a statically linked executable?). Run it as a dynamically linked program: the library does not load " +
            "libc.so.6 beside a C library that is linked in.");
    }
}

/// <summary>
/// <see cref="SwitchedCalls"/> for managed callers that run switched (<c>Enter</c>/<c>Dispose</c>, the <c>Run</c>
/// workers, namespace creation on the home thread). Each method is one call through the table; a failure's errno is
/// left in <see cref="Libc.LastErrno"/> (an internal call of the runtime: no managed code). Every descriptor opened
/// here is O_CLOEXEC.
/// </summary>
/// <remarks>
/// All are <see cref="MethodImplOptions.AggressiveOptimization"/> (compiled once, never call-counted), and the static
/// constructor runs each once, at home, on <see cref="SwitchedCalls.DryRun"/>: they are compiled, and their call
/// sites have run, before any switched thread calls them. <see cref="Threads.HomeThread.EnsureRuntimeThreadsStarted"/>
/// runs that constructor on the home thread before the first switch.
/// </remarks>
internal static unsafe class Switched
{
    private static readonly SwitchedCalls* Calls = (SwitchedCalls*)NativeMemory.AllocZeroed((nuint)sizeof(SwitchedCalls));

    static Switched()
    {
        // Other threads wait for a static constructor, so none sees the dry table.
        *Calls = SwitchedCalls.DryRun;
        byte* empty = stackalloc byte[1];
        Libc.StatX st;
        Setns(0, 0);
        Unshare(0);
        Mount(empty, empty, empty, 0);
        Open(empty, 0);
        Close(-1);
        ReadlinkAt(Libc.AT_FDCWD, empty, new Span<byte>(empty, 1));
        FStat(-1, out st);
        Errno(-1);
        Errno((nint)(-1));
        *Calls = SwitchedCalls.Real;
    }

    /// <summary>Runs the static constructor (at home) if it has not run yet.</summary>
    public static void EnsureReady()
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Setns(int fd, int nsType) => Errno(Calls->Setns(fd, nsType));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Unshare(int flags) => Errno(Calls->Unshare(flags));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Mount(byte* source, byte* target, byte* fsType, ulong flags) =>
        Errno(Calls->Mount(source, target, fsType, (nuint)flags, null));

    /// <summary>open(2) with O_CLOEXEC added; the raw descriptor or -1. The caller closes it with <see cref="Close"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Open(byte* path, int flags) => Errno(Calls->Open(path, flags | Libc.O_CLOEXEC, 0));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Close(int fd) => Errno(Calls->Close(fd));

    /// <summary>readlinkat(2) into <paramref name="buffer"/>; the length or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int ReadlinkAt(int dirfd, byte* path, Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            return (int)Errno(Calls->Readlinkat(dirfd, path, b, (nuint)buffer.Length));
        }
    }

    /// <summary>statx(2) of an open descriptor (fstat).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int FStat(int fd, out Libc.StatX result)
    {
        fixed (Libc.StatX* r = &result)
        fixed (byte* empty = Libc.EmptyString)
        {
            return Errno(Calls->Statx(fd, empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, r));
        }
    }

    // errno is read before anything else runs on the thread, and only on failure, as SetLastError would.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Errno(int result)
    {
        if (result < 0) Marshal.SetLastPInvokeError(*Calls->ErrnoLocation());
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static nint Errno(nint result)
    {
        if (result < 0) Marshal.SetLastPInvokeError(*Calls->ErrnoLocation());
        return result;
    }
}
