using System.Runtime.InteropServices;

namespace LinuxNetns.Interop;

/// <summary>
/// The libc functions that <see cref="Exec.SwitchedWindow"/> calls while its thread is in another namespace, as
/// unmanaged function pointers resolved at home: a call through one is an inline transition to native code, with
/// no managed wrapper that could be counted for tiering, no marshalling stub to generate and nothing to allocate
/// (docs/exec.md, "No managed code while switched").
/// </summary>
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

    /// <summary>errno of the calling thread; no transition, so nothing runs between the call and the read.</summary>
    public delegate* unmanaged[SuppressGCTransition]<int*> ErrnoLocation;

    private static readonly SwitchedCalls Resolved = Resolve();

    /// <summary>The real functions.</summary>
    public static SwitchedCalls Real => Resolved;

    /// <summary>
    /// Every call replaced by <c>sched_yield</c> (which takes nothing and returns 0): a dry run through a window
    /// executes every call site once, at home, so that whatever the runtime does the first time a call site runs
    /// (in a Debug build, generating its marshalling stub) never happens on a switched thread.
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
                ErrnoLocation = Resolved.ErrnoLocation,
            };
        }
    }

    private static SwitchedCalls Resolve() => new()
    {
        Setns = (delegate* unmanaged<int, int, int>)Export("setns"),
        Unshare = (delegate* unmanaged<int, int>)Export("unshare"),
        Mount = (delegate* unmanaged<byte*, byte*, byte*, nuint, void*, int>)Export("mount"),
        Umount2 = (delegate* unmanaged<byte*, int, int>)Export("umount2"),
        Open = (delegate* unmanaged<byte*, int, int, int>)Export("open"),
        Close = (delegate* unmanaged<int, int>)Export("close"),
        Chdir = (delegate* unmanaged<byte*, int>)Export("chdir"),
        PosixSpawn = (delegate* unmanaged<int*, byte*, void*, void*, byte**, byte**, int>)Export("posix_spawn"),
        ErrnoLocation = (delegate* unmanaged[SuppressGCTransition]<int*>)Export("__errno_location"),
    };

    private static nint s_libc;

    private static nint Export(string name)
    {
        if (s_libc == 0) s_libc = NativeLibrary.Load("libc.so.6");
        return NativeLibrary.GetExport(s_libc, name);
    }
}
