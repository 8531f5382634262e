using System.Diagnostics;
using System.Runtime.CompilerServices;
using LinuxNetns.Interop;

namespace LinuxNetns.Kernel;

/// <summary>
/// A fresh thread per exec: it switches into the target network namespace and a new mount namespace
/// (<see cref="ExecMountNamespace"/>), calls <see cref="Process.Start(ProcessStartInfo)"/> — which forks on the calling
/// thread (docs/kernel.md §3), so the child inherits both namespaces — switches back and ends. It is never reused: it
/// unshared its filesystem context from the process. It is started from the home thread, so it is born in the home
/// namespaces whatever namespace the caller is in, and so is anything the runtime starts from it before it switches.
/// </summary>
internal sealed unsafe class ExecThread
{
    private readonly int _netFd;
    private readonly ExecMountNamespace _plan;
    private readonly ProcessStartInfo _startInfo;
    private ExecMountNamespace.SavedNamespaces _saved = ExecMountNamespace.SavedNamespaces.None;

    private ExecThread(int netFd, ExecMountNamespace plan, ProcessStartInfo startInfo)
    {
        _netFd = netFd;
        _plan = plan;
        _startInfo = startInfo;
        BindErrnos = new int[plan.BindCount];
    }

    // Fields, not properties: they are written while the thread is switched, where only code that is compiled
    // once and never tiered should run (see TieringWorkerGuard).

    /// <summary>The step that failed before <c>Process.Start</c>, or <see cref="ExecMountNamespace.Step.None"/>.</summary>
    public ExecMountNamespace.Step FailedStep;

    /// <summary>errno of <see cref="FailedStep"/>.</summary>
    public int Errno;

    /// <summary>errno of each bind mount, 0 when it worked.</summary>
    public readonly int[] BindErrnos;

    /// <summary>The started process, when everything worked.</summary>
    public Process? Process;

    /// <summary>What <c>Process.Start</c> threw, unchanged.</summary>
    public Exception? StartError;

    /// <summary>False when the thread could not switch back before ending (it ended anyway).</summary>
    public bool Restored;

    /// <summary>The exec's private mount namespace (unique to this exec), valid when no step failed.</summary>
    public Libc.StatX MountNamespaceStat;

    /// <summary>The kernel thread id the exec ran on.</summary>
    public int ThreadId;

    /// <summary>The exec thread's network namespace before it switched (where it was born), when statx worked.</summary>
    public Libc.StatX StartNetworkNamespaceStat;

    /// <summary>True when <see cref="StartNetworkNamespaceStat"/> is valid.</summary>
    public bool StartNetworkNamespaceKnown;

    /// <summary>The network namespace the exec thread started in (it should be the home one), or null if unknown.</summary>
    public NamespaceId? StartNetworkNamespace => StartNetworkNamespaceKnown
        ? new NamespaceId(StartNetworkNamespaceStat.Dev, StartNetworkNamespaceStat.Ino)
        : null;

    /// <summary>The identity of the exec's private mount namespace, when it was made.</summary>
    public NamespaceId? MountNamespace =>
        FailedStep == ExecMountNamespace.Step.None ? new NamespaceId(MountNamespaceStat.Dev, MountNamespaceStat.Ino) : null;

    /// <summary>Runs one exec on a new thread and waits until that thread has ended.</summary>
    /// <param name="netFd">The target namespace's fd; the caller keeps it open until this returns.</param>
    /// <param name="plan">The prepared namespace sequence.</param>
    /// <param name="startInfo">What to start.</param>
    public static ExecThread Run(int netFd, ExecMountNamespace plan, ProcessStartInfo startInfo)
    {
        var exec = new ExecThread(netFd, plan, startInfo);
        var thread = new Thread(exec.Main)
        {
            IsBackground = true,
            Name = "netns:exec",
        };
        // Started from the home thread, not the caller's (which may be inside a scope or a Run item). The spark runs
        // there too: if it starts the JIT's worker, that worker is born at home (see TieringWorkerGuard).
        HomeThreadStarter.Start(thread, TieringWorkerGuard.Ensure);
        thread.Join();
        return exec;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Main()
    {
        ThreadId = Libc.GetThreadId();
        fixed (byte* threadNet = "/proc/thread-self/ns/net\0"u8)
        fixed (Libc.StatX* st = &StartNetworkNamespaceStat)
        {
            StartNetworkNamespaceKnown = Libc.SwitchedStatx(Libc.AT_FDCWD, threadNet, 0, Libc.STATX_BASIC_STATS, st) == 0;
        }
        FailedStep = _plan.Apply(_netFd, ref _saved, BindErrnos, out Errno, out MountNamespaceStat);
        if (FailedStep == ExecMountNamespace.Step.None)
        {
            try
            {
                Process = Process.Start(_startInfo);
            }
            catch (Exception e)
            {
                StartError = e;
            }
        }
        Restored = ExecMountNamespace.Restore(ref _saved);
    }
}
