using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// <c>ip netns exec NAME /bin/true</c>, bare: iproute2's sequence for every exec, with nothing around it (the library
/// instead enters a mount namespace prepared once, see docs/exec.md, so it is faster than this floor). A new thread
/// looks for <c>/etc/netns/NAME</c> (absent here: nothing to bind) and whether <c>/sys</c> is read-only, then
/// setns(CLONE_NEWNET), unshare(CLONE_NEWNS), makes <c>/</c> recursively private, detaches <c>/sys</c>, mounts a
/// sysfs of the namespace, and starts the process (which forks on that thread, so the child inherits both
/// namespaces); the thread then ends without switching back. The caller waits for the child to exit.
/// </summary>
internal static unsafe class BareExec
{
    [DllImport("libc", SetLastError = true)] private static extern int statfs(byte* path, long* buffer);

    private static readonly byte* Root = Bare.Z("/");
    private static readonly byte* Sys = Bare.Z("/sys");
    private static readonly byte* Sysfs = Bare.Z("sysfs");

    private sealed class State
    {
        public int NetFd;
        public nint Name;      // sysfs source: the namespace's name, as iproute2
        public nint EtcDir;    // /etc/netns/NAME
        public ProcessStartInfo StartInfo = null!;
        public Process? Child;
        public string? Failed;
    }

    public static void Run(int netFd, byte* name, byte* etcDir, ProcessStartInfo startInfo)
    {
        var state = new State { NetFd = netFd, Name = (nint)name, EtcDir = (nint)etcDir, StartInfo = startInfo };
        var thread = new Thread(static s => ThreadMain((State)s!)) { IsBackground = true };
        thread.Start(state);
        thread.Join();
        if (state.Failed is not null) throw new InvalidOperationException(state.Failed);
        using Process child = state.Child!;
        child.WaitForExit();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ThreadMain(State s)
    {
        int etc = Bare.open((byte*)s.EtcDir, Bare.O_RDONLY | Bare.O_DIRECTORY | Bare.O_CLOEXEC, 0);
        if (etc >= 0) Bare.close(etc); // the benchmark's namespace has no /etc/netns entry: nothing to bind
        long* fs = stackalloc long[16];
        nuint sysfsFlags = statfs(Sys, fs) == 0 && (fs[10] & 1) != 0 ? Bare.MS_RDONLY : 0;
        if (Bare.setns(s.NetFd, Bare.CLONE_NEWNET) != 0) { s.Failed = $"setns: errno {Bare.Errno}"; return; }
        if (Bare.unshare(Bare.CLONE_NEWNS) != 0) { s.Failed = $"unshare: errno {Bare.Errno}"; return; }
        if (Bare.mount(Bare.Empty, Root, Bare.None, Bare.MS_REC | Bare.MS_PRIVATE, null) != 0) { s.Failed = $"mount private: errno {Bare.Errno}"; return; }
        Bare.umount2(Sys, Bare.MNT_DETACH);
        if (Bare.mount((byte*)s.Name, Sys, Sysfs, sysfsFlags, null) != 0) { s.Failed = $"mount sysfs: errno {Bare.Errno}"; return; }
        s.Child = Process.Start(s.StartInfo);
    }
}
