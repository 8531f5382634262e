using LinuxNetns.Exec;
using LinuxNetns.Interop;

namespace LinuxNetns.Threads;

/// <summary>
/// At most one <see cref="NamespaceThread"/> for one namespace, started on demand and replaced when it has ended
/// (idle, or retired after an item left it in the wrong namespaces). With <paramref name="prepareMounts"/>, each
/// worker also enters the mount namespace it returns (<see cref="WorkerMounts.LikeExec"/>).
/// </summary>
internal sealed class WorkerSlot(string threadName, string nameForErrors, bool spin = true,
    Func<PreparedMountNamespace>? prepareMounts = null)
{
    private readonly LazySlot<NamespaceThread> _worker = new();

    /// <summary>True when the calling thread is this slot's worker.</summary>
    public bool IsCurrentThread => _worker.Current?.IsCurrentThread == true;

    /// <summary>Runs <paramref name="item"/> on the worker inside <paramref name="target"/>'s namespace and waits for it.</summary>
    public void Execute(WorkItem item, SafeFdHandle target, TimeSpan idleTimeout)
    {
        while (true)
        {
            NamespaceThread worker = _worker.GetOrMake(static s => s.Slot.StartWorker(s.Target, s.IdleTimeout), (Slot: this, Target: target, IdleTimeout: idleTimeout))
                ?? throw new ObjectDisposedException(nameForErrors, "The namespace handle was disposed.");
            if (worker.TryExecute(item)) return;
            _worker.Forget(worker); // it ended (idle, stopped or retired) before taking the item: start another
        }
    }

    private NamespaceThread StartWorker(SafeFdHandle target, TimeSpan idleTimeout) =>
        WithMounts(prepareMounts, mounts => NamespaceThread.Start(target, threadName, idleTimeout, nameForErrors, spin, mounts));

    /// <summary>
    /// Starts a library thread through <paramref name="start"/>, giving it the mount namespace <paramref name="prepareMounts"/>
    /// returns (null without), whose reference is held until the thread is in it.
    /// </summary>
    public static T WithMounts<T>(Func<PreparedMountNamespace>? prepareMounts, Func<SafeFdHandle?, T> start)
    {
        if (prepareMounts is null) return start(null);
        PreparedMountNamespace mounts = prepareMounts(); // its descriptor comes with a reference for us
        try
        {
            return start(mounts.Mount);
        }
        finally
        {
            mounts.Mount.DangerousRelease();
        }
    }

    /// <summary>Ends the worker (waiting for it, unless called from it) and refuses further work.</summary>
    public void Close() => _worker.Close()?.Stop();
}
