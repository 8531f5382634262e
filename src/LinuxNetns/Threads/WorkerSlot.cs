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
    private readonly object _lock = new();
    private NamespaceThread? _current;
    private bool _closed;

    /// <summary>True when the calling thread is this slot's worker.</summary>
    public bool IsCurrentThread => Volatile.Read(ref _current)?.IsCurrentThread == true;

    /// <summary>Runs <paramref name="item"/> on the worker inside <paramref name="target"/>'s namespace and waits for it.</summary>
    public void Execute(WorkItem item, SafeFdHandle target, TimeSpan idleTimeout)
    {
        while (true)
        {
            NamespaceThread worker;
            lock (_lock)
            {
                if (_closed) throw new ObjectDisposedException(nameForErrors, "The namespace handle was disposed.");
                worker = _current ??= StartWorker(target, idleTimeout);
            }
            if (worker.TryExecute(item)) return;
            lock (_lock)
            {
                if (_current == worker) _current = null;
            }
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
    public void Close()
    {
        NamespaceThread? worker;
        lock (_lock)
        {
            _closed = true;
            worker = _current;
            _current = null;
        }
        worker?.Stop();
    }
}
