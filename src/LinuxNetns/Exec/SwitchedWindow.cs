using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxNetns.Interop;
using LinuxNetns.Nsfs;
using LinuxNetns.Threads;

namespace LinuxNetns.Exec;

/// <summary>
/// The only code of an exec that runs in another namespace (docs/exec.md): on the library's window thread (born at
/// home, kept between execs while busy), a window that switches, makes its syscalls and switches back. Inside a window there
/// is no managed call, no allocation and nothing the runtime could compile: only loads and stores on a plan in
/// unmanaged memory, prepared at home, and calls through <see cref="SwitchedCalls"/>. So nothing in it can start a
/// garbage collection (and with it the background GC thread), call-count a method (and start the tiered-compilation
/// worker), or make the runtime create any other thread, which would be born in the switched namespaces.
/// </summary>
internal static unsafe class SwitchedWindow
{
    /// <summary>The step of a window that failed.</summary>
    public enum Step
    {
        None,
        SaveNamespaces,
        SetnsNetwork,
        UnshareMount,
        Propagation,
        MountSysfs,
        OpenMountNamespace,
        UnshareFilesystem,
        SetnsMount,
        ChangeDirectory,
        Spawn,
    }

    private const int ORdOnly = 0;
    private const int OCloexec = 0x80000;

    /// <summary>What the build window needs and returns: it makes a prepared mount namespace.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BuildPlan
    {
        public SwitchedCalls Calls;
        public Strings* Strings;
        public int NetFd;
        public nuint PropagationFlags;
        public nuint SysfsFlags;
        public byte* SysfsSource;
        public int BindCount;
        public byte** BindSources;
        public byte** BindTargets;
        public int* BindErrnos;

        // results
        public Step FailedStep;
        public int Errno;
        public int Restored;
        public int MountFd;
        public int EventsFd;
    }

    /// <summary>What the spawn window needs and returns: it starts a child in a prepared mount namespace.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SpawnPlan
    {
        public SwitchedCalls Calls;
        public Strings* Strings;
        public int NetFd;
        public int MountFd;
        public byte* WorkingDirectory;
        public byte* Path;
        public void* FileActions;
        public void* Attributes;
        public byte** Argv;
        public byte** Envp;

        // results
        public Step FailedStep;
        public int Errno;
        public int Restored;
        public int Pid;
    }

    /// <summary>The constant C strings the windows use, in unmanaged memory for the life of the process.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Strings
    {
        public byte* ThreadNet;
        public byte* ThreadMount;
        public byte* ThreadMountInfo;
        public byte* Root;
        public byte* Sys;
        public byte* Sysfs;
        public byte* None;
        public byte* Empty;
    }

    private static readonly Strings* Constants = MakeConstants();
    private static volatile bool s_warm;

    /// <summary>The constant strings, for plans.</summary>
    public static Strings* ConstantStrings => Constants;

    /// <summary>Runs the build window on the window thread and waits for it.</summary>
    public static void Build(BuildPlan* plan) => Run(plan, null);

    /// <summary>Runs the spawn window on the window thread and waits for it.</summary>
    public static void Spawn(SpawnPlan* plan) => Run(null, plan);

    // One window at a time, on one thread kept between execs (starting a thread costs about as much as the rest of
    // a warm exec's overhead). It is born at home, waits at home, and ends after a second without work, or after a
    // window that could not switch back.
    private static readonly object RunLock = new();
    private static WindowThread? s_thread;

    private static void Run(BuildPlan* build, SpawnPlan* spawn)
    {
        lock (RunLock)
        {
            WindowThread thread = s_thread ??= WindowThread.Start();
            bool restored = false;
            try
            {
                restored = thread.Run(build, spawn);
            }
            finally
            {
                if (!restored || thread.Ended) s_thread = null;
            }
        }
    }

    /// <summary>The library's window thread (<c>netns:exec</c>).</summary>
    private sealed class WindowThread
    {
        private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(1);
        private readonly SemaphoreSlim _go = new(0);
        private readonly SemaphoreSlim _done = new(0);
        private BuildPlan* _build;
        private SpawnPlan* _spawn;
        private int _restored;
        private NamespaceId? _bornIn;

        /// <summary>True once the thread has ended (idle, or after a failed switch back).</summary>
        public bool Ended { get; private set; }

        public static WindowThread Start()
        {
            var window = new WindowThread();
            var thread = new Thread(window.Main) { IsBackground = true, Name = "netns:exec" };
            // Born at home: started by the caller when it is at home (no hand-off), else by the home thread (the
            // caller may be inside a scope or a Run item).
            if (ThreadNamespaces.CallerIsAtHome()) thread.Start();
            else HomeThreadStarter.Start(thread);
            return window;
        }

        /// <summary>Runs one window (under <see cref="RunLock"/>); false when the thread could not switch back.</summary>
        public bool Run(BuildPlan* build, SpawnPlan* spawn)
        {
            _build = build;
            _spawn = spawn;
            _go.Release();
            _done.Wait();
            if (_bornIn != ThreadNamespaces.HomeId)
            {
                throw new InvalidOperationException($"The exec's window thread was born in network namespace {_bornIn?.ToString() ?? "(unknown)"}, " +
                    $"not in the process's home namespace {ThreadNamespaces.HomeId}: nothing was started. This is a defect of the library: please report it.");
            }
            return _restored != 0;
        }

        private void Main()
        {
            // A window thread that was not born at home would itself be a thread born elsewhere: it runs no window.
            _bornIn = NamespaceFile.TryIdOfPath("/proc/thread-self/ns/net");
            bool atHome = _bornIn == ThreadNamespaces.HomeId;
            // At home: the first window thread runs both windows once with calls that do nothing, so that every call
            // site has run before one runs switched.
            if (atHome && !s_warm) Warm();
            while (true)
            {
                if (!_go.Wait(IdleTimeout))
                {
                    // Idle: end, unless a caller is handing over work right now (it holds the lock while it does).
                    if (!Monitor.TryEnter(RunLock)) continue;
                    try
                    {
                        if (_go.CurrentCount > 0) continue;
                        Ended = true;
                        if (s_thread == this) s_thread = null;
                        return;
                    }
                    finally
                    {
                        Monitor.Exit(RunLock);
                    }
                }
                _restored = 0;
                if (atHome)
                {
                    if (_build is not null) BuildWindow(_build);
                    else SpawnWindow(_spawn);
                    _restored = _build is not null ? _build->Restored : _spawn->Restored;
                }
                bool end = _restored == 0;
                Ended = end;
                _done.Release();
                if (end) return; // not back home, or never at home: this thread runs nothing more
            }
        }
    }

    private static void Warm()
    {
        byte* dummy = Constants->Empty;
        int bindErrno;
        var build = new BuildPlan
        {
            Calls = SwitchedCalls.DryRun,
            Strings = Constants,
            SysfsSource = dummy,
            BindCount = 1,
            BindSources = &dummy,
            BindTargets = &dummy,
            BindErrnos = &bindErrno,
        };
        BuildWindow(&build);
        var spawn = new SpawnPlan { Calls = SwitchedCalls.DryRun, Strings = Constants, WorkingDirectory = dummy, Path = dummy };
        SpawnWindow(&spawn);
        s_warm = true;
    }

    /// <summary>
    /// The build window: <see cref="MakeMounts"/> on the window thread, then open the new mount namespace and its
    /// mountinfo (whose poll reports any later change) → back to the saved namespaces.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void BuildWindow(BuildPlan* p)
    {
        SwitchedCalls* c = &p->Calls;
        Strings* s = p->Strings;
        bool unshared = false;
        Step failed = Save(c, s, out int savedNet, out int savedMount, out int error);
        if (failed == Step.None) failed = MakeMounts(p, out unshared, out error);
        int e;
        if (failed == Step.None)
        {
            p->MountFd = c->Open(s->ThreadMount, ORdOnly | OCloexec, 0);
            e = *c->ErrnoLocation();
            if (p->MountFd < 0) { failed = Step.OpenMountNamespace; error = e; }
        }
        if (failed == Step.None)
        {
            p->EventsFd = c->Open(s->ThreadMountInfo, ORdOnly | OCloexec, 0);
            e = *c->ErrnoLocation();
            if (p->EventsFd < 0) { failed = Step.OpenMountNamespace; error = e; }
        }

        p->Restored = Restore(c, savedNet, savedMount, unshared);
        p->FailedStep = failed;
        p->Errno = error;
    }

    /// <summary>
    /// The same mount namespace made on the calling thread, which stays in it and in the plan's network namespace:
    /// for <see cref="ProcessReplacer"/>, whose thread calls execve next (<c>ip netns exec</c>'s own sequence). No
    /// window thread, nothing opened, no way back. <see cref="BuildPlan.Restored"/> stays 0.
    /// </summary>
    public static void BuildHere(BuildPlan* p)
    {
        p->FailedStep = MakeMounts(p, out _, out int error);
        p->Errno = error;
    }

    /// <summary>
    /// setns(net) → unshare(CLONE_NEWNS) (which gives the thread a filesystem context of its own) → make <c>/</c>
    /// recursively private or slave (before any mount, so that nothing mounted next reaches the host) → a fresh sysfs
    /// of the namespace → the <c>/etc/netns</c> binds (their failures are only recorded, as iproute2 only warns).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Step MakeMounts(BuildPlan* p, out bool unshared, out int error)
    {
        SwitchedCalls* c = &p->Calls;
        Strings* s = p->Strings;
        unshared = false;
        error = 0;
        int r = c->Setns(p->NetFd, Libc.CLONE_NEWNET);
        int e = *c->ErrnoLocation();
        if (r != 0) { error = e; return Step.SetnsNetwork; }

        r = c->Unshare(Libc.CLONE_NEWNS);
        e = *c->ErrnoLocation();
        if (r != 0) { error = e; return Step.UnshareMount; }
        unshared = true;

        r = c->Mount(s->Empty, s->Root, s->None, p->PropagationFlags, null);
        e = *c->ErrnoLocation();
        if (r != 0) { error = e; return Step.Propagation; }

        // A failed detach is fine: maybe no sysfs was mounted (iproute2).
        c->Umount2(s->Sys, Libc.MNT_DETACH);
        r = c->Mount(p->SysfsSource, s->Sys, s->Sysfs, p->SysfsFlags, null);
        e = *c->ErrnoLocation();
        if (r != 0) { error = e; return Step.MountSysfs; }

        for (int i = 0; i < p->BindCount; i++)
        {
            r = c->Mount(p->BindSources[i], p->BindTargets[i], s->None, (nuint)Libc.MS_BIND, null);
            e = *c->ErrnoLocation();
            p->BindErrnos[i] = r == 0 ? 0 : e;
        }
        return Step.None;
    }

    /// <summary>
    /// unshare(CLONE_FS) (setns into a mount namespace needs a filesystem context of its own) → setns(net) →
    /// setns(the prepared mount namespace) → chdir to the working directory → posix_spawn, whose child inherits all
    /// three → back to the saved namespaces.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SpawnWindow(SpawnPlan* p)
    {
        SwitchedCalls* c = &p->Calls;
        Strings* s = p->Strings;
        bool ownFilesystem = false;
        Step failed = Save(c, s, out int savedNet, out int savedMount, out int error);
        int e;
        if (failed == Step.None)
        {
            int r = c->Unshare(Libc.CLONE_FS);
            e = *c->ErrnoLocation();
            if (r != 0) { failed = Step.UnshareFilesystem; error = e; }
            else ownFilesystem = true;
        }
        if (failed == Step.None)
        {
            int r = c->Setns(p->NetFd, Libc.CLONE_NEWNET);
            e = *c->ErrnoLocation();
            if (r != 0) { failed = Step.SetnsNetwork; error = e; }
        }
        if (failed == Step.None)
        {
            int r = c->Setns(p->MountFd, Libc.CLONE_NEWNS);
            e = *c->ErrnoLocation();
            if (r != 0) { failed = Step.SetnsMount; error = e; }
        }
        if (failed == Step.None)
        {
            // setns into a mount namespace moved this thread to its root.
            int r = c->Chdir(p->WorkingDirectory);
            e = *c->ErrnoLocation();
            if (r != 0) { failed = Step.ChangeDirectory; error = e; }
        }
        if (failed == Step.None)
        {
            int pid = 0;
            // posix_spawn returns the error number itself; with glibc it includes the exec's failure.
            int r = c->PosixSpawn(&pid, p->Path, p->FileActions, p->Attributes, p->Argv, p->Envp);
            if (r != 0) { failed = Step.Spawn; error = r; }
            else p->Pid = pid;
        }

        p->Restored = Restore(c, savedNet, savedMount, ownFilesystem);
        p->FailedStep = failed;
        p->Errno = error;
    }

    /// <summary>Opens the calling thread's network and mount namespaces, for <see cref="Restore"/>; -1 for one not opened.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Step Save(SwitchedCalls* c, Strings* s, out int savedNet, out int savedMount, out int error)
    {
        savedMount = -1;
        error = 0;
        savedNet = c->Open(s->ThreadNet, ORdOnly | OCloexec, 0);
        int e = *c->ErrnoLocation();
        if (savedNet < 0)
        {
            error = e;
            return Step.SaveNamespaces;
        }
        savedMount = c->Open(s->ThreadMount, ORdOnly | OCloexec, 0);
        e = *c->ErrnoLocation();
        if (savedMount < 0)
        {
            error = e;
            return Step.SaveNamespaces;
        }
        return Step.None;
    }

    /// <summary>Back to the saved mount namespace (only possible, and only needed, with a filesystem context of its
    /// own), then the saved network namespace; then closes both. 1 when both switches worked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Restore(SwitchedCalls* c, int savedNet, int savedMount, bool mountMayHaveChanged)
    {
        int ok = 1;
        if (savedMount >= 0 && mountMayHaveChanged && c->Setns(savedMount, Libc.CLONE_NEWNS) != 0) ok = 0;
        if (savedNet >= 0 && c->Setns(savedNet, Libc.CLONE_NEWNET) != 0) ok = 0;
        if (savedMount >= 0) c->Close(savedMount);
        if (savedNet >= 0) c->Close(savedNet);
        return ok;
    }

    private static Strings* MakeConstants()
    {
        var s = (Strings*)NativeMemory.AllocZeroed((nuint)sizeof(Strings));
        s->ThreadNet = NativeAllocations.CopyUtf8("/proc/thread-self/ns/net");
        s->ThreadMount = NativeAllocations.CopyUtf8("/proc/thread-self/ns/mnt");
        s->ThreadMountInfo = NativeAllocations.CopyUtf8("/proc/thread-self/mountinfo");
        s->Root = NativeAllocations.CopyUtf8("/");
        s->Sys = NativeAllocations.CopyUtf8("/sys");
        s->Sysfs = NativeAllocations.CopyUtf8("sysfs");
        s->None = NativeAllocations.CopyUtf8("none");
        s->Empty = NativeAllocations.CopyUtf8("");
        return s;
    }
}
