using System.Runtime.CompilerServices;
using LinuxNetns.Interop;

namespace LinuxNetns.Threads;

/// <summary>
/// A dedicated OS thread that lives in one network namespace and runs work items for callers, one at a time.
/// It switches itself into the namespace as the first thing it does, so it never depends on the namespace of the
/// thread that started it (threads are born in their creator's namespaces, docs/design.md §2). It ends when idle for
/// the configured time, when stopped, or as soon as an item leaves it in other namespaces than it started in:
/// such a thread is never reused.
/// </summary>
/// <remarks>
/// Hand-off uses two <see cref="ManualResetEventSlim"/>s, which spin briefly before blocking: a caller that runs
/// items in a loop pays no futex round trip on a machine with a spare core.
/// </remarks>
internal sealed class NamespaceThread
{
    private readonly object _callers = new();     // one caller at a time
    private readonly object _gate = new();        // guards the state below; held only briefly
    private readonly ManualResetEventSlim _workReady;
    private readonly ManualResetEventSlim _workDone;
    private const int SpinCount = 100;
    private readonly TimeSpan _idleTimeout;
    private readonly Thread _thread;
    private WorkItem? _queued;
    private bool _stopRequested;
    private bool _ended;
    private int _startErrno;
    private readonly string _nameForErrors;
    private NamespaceThread? _queuedBy;           // the worker whose item queued _queued, or null for any other thread
    private NamespaceThread? _servingFor;         // the same for the item running now; read only along a wait chain

    [ThreadStatic] private static NamespaceThread? t_self;

    private readonly WorkerSwitch.Target _target;
    private bool _ownMounts;                      // the thread left the process's mount namespace (LikeExec)
    private NamespaceOperation _startFailed;

    private NamespaceThread(string name, TimeSpan idleTimeout, SafeFdHandle target, SafeFdHandle? mounts, bool spin, string nameForErrors)
    {
        _nameForErrors = nameForErrors;
        _workReady = new(false, spin ? SpinCount : 0);
        _workDone = new(false, spin ? SpinCount : 0);
        _idleTimeout = idleTimeout;
        _target = WorkerSwitch.For(target, mounts);
        _thread = new Thread(Main) { IsBackground = true, Name = name };
    }

    /// <summary>True when the calling thread is this worker.</summary>
    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <summary>
    /// Starts a worker in the namespace of <paramref name="target"/> (and, with <paramref name="mounts"/>, in that mount
    /// namespace: <see cref="WorkerMounts.LikeExec"/>) and waits until it is there.
    /// </summary>
    // spin: spin briefly before blocking, on both sides of the hand-off. Right for items that come in quick succession
    // (Run in a loop); wasted CPU for items that take long or come alone (namespace creation, starting a thread), which
    // on a small machine competes with the very work the caller waits for.
    public static NamespaceThread Start(SafeFdHandle target, string name, TimeSpan idleTimeout, string nameForErrors,
        bool spin = true, SafeFdHandle? mounts = null)
    {
        var worker = new NamespaceThread(name, idleTimeout, target, mounts, spin, nameForErrors);
        bool added = false;
        try
        {
            // Held here until the worker is in the namespace: it switches with the raw number (Switched).
            target.DangerousAddRef(ref added);
            worker._thread.Start();
            worker._workDone.Wait(); // set once the thread is in the namespace, or has failed to get there
        }
        finally
        {
            if (added) target.DangerousRelease();
        }
        worker._workDone.Reset();
        if (worker._startErrno != 0)
        {
            worker._thread.Join();
            throw WorkerSwitch.StartFailed(worker._startFailed, worker._startErrno, nameForErrors);
        }
        return worker;
    }

    /// <summary>
    /// Runs <paramref name="item"/> on this thread and waits for it. Returns false, without running it, when the
    /// thread has ended (idle, stopped or retired): the caller then starts a new one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryExecute(WorkItem item)
    {
        if (IsCurrentThread)
        {
            // Re-entrant call from an item running on this thread: run inline instead of waiting on ourselves, but
            // only while the thread is where it belongs. Inside a scope of the item's it is in another namespace.
            if (ScopeStack.IsActive)
            {
                throw new InvalidOperationException(
                    "Run or CreateSocket of a namespace was called from its own worker thread while that thread is inside an Enter() scope, " +
                    "i.e. in another namespace. Leave the scope first, or call it on the other namespace's handle.");
            }
            item.Execute();
            item.Completed = true;
            return true;
        }
        NamespaceThread? caller = t_self;
        ThrowIfWaitingOnCaller(caller);
        lock (_callers)
        {
            lock (_gate)
            {
                if (_ended || _stopRequested) return false;
                _queued = item;
                _queuedBy = caller;
            }
            _workReady.Set();
            _workDone.Wait();
            _workDone.Reset();
        }
        return item.Completed;
    }

    /// <summary>
    /// Refuses a call that would wait for ever: the calling worker runs an item for a worker that waits for it (and so
    /// on), and this thread is one of those waiting. E.g. <c>a.Run(() => b.Run(() => a.Run(...)))</c>: a's worker is
    /// busy with the outer call until b's returns. The chain is stable while read: every worker on it is blocked in
    /// <see cref="TryExecute"/>, waiting for the next.
    /// </summary>
    private void ThrowIfWaitingOnCaller(NamespaceThread? caller)
    {
        for (NamespaceThread? waiting = caller; waiting is not null; waiting = waiting._servingFor)
        {
            if (waiting != this) continue;
            throw new InvalidOperationException(
                $"Run or CreateSocket of namespace '{_nameForErrors}' was called from the worker thread of namespace '{caller!._nameForErrors}', " +
                $"inside a Run of '{_nameForErrors}' that is waiting for it: the worker of '{_nameForErrors}' is busy with that outer call, " +
                "so this one would wait for ever. Nothing was run. Do that work in the outer delegate itself, or use Enter() there.");
        }
    }

    /// <summary>Asks the thread to end after the current item and waits for it, unless called from the thread itself.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopRequested = true;
        }
        _workReady.Set();
        if (!IsCurrentThread) _thread.Join();
    }

    private void Main()
    {
        t_self = this;
        // Raw numbers: Start holds target's reference, and the slot mounts', until this thread is in the namespaces.
        using ThreadNamespaceLinks? links = WorkerSwitch.Enter(_target, out _ownMounts, out _startFailed, out _startErrno);
        if (links is null) _ended = true;
        _workDone.Set();
        if (links is null) return;
        try
        {
            Serve(links);
        }
        finally
        {
            // The OS thread outlives Join() by a moment: leave the namespace now, so that nothing of ours is seen
            // in it, or holds it, once Stop() has returned.
            WorkerSwitch.LeaveToHome(_ownMounts ? _target.HomeMountFd : -1);
        }
    }

    // Not tiered (AggressiveOptimization): this loop runs inside the namespace, and a tiering promotion requested
    // from here could make the runtime start its tiered-compilation worker on this thread.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Serve(ThreadNamespaceLinks links)
    {
        while (true)
        {
            bool signalled = _workReady.Wait(_idleTimeout);
            WorkItem? item;
            lock (_gate)
            {
                item = _queued;
                _queued = null;
                _servingFor = _queuedBy;
                _queuedBy = null;
                // A stop request stays signalled: were it reset here, with an item taken in the same wake-up, the
                // next Wait would sleep through the stop (for ever, with an infinite idle time).
                if (!_stopRequested) _workReady.Reset();
                if (item is null && (!signalled || _stopRequested))
                {
                    _ended = true;
                    return;
                }
            }
            if (item is null) continue;

            item.Execute();
            if (item.PoisonsThread)
            {
                Retire(item);
                return;
            }
            bool check = !item.KeepsNamespaces; // read before the caller is released: it may reuse the item
            item.Completed = true;
            _workDone.Set();

            // Checked after the caller was released, off its path: a thread that user code left in other
            // namespaces than it started in takes no further item; it ends, and the kernel drops its references.
            // The library's own items are known to leave them alone.
            if (check && !links.Unchanged())
            {
                Retire(null);
                return;
            }
        }
    }

    /// <summary>Marks the thread ended; an item that was queued meanwhile goes back to its caller unrun.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs switched
    private void Retire(WorkItem? ranItem)
    {
        WorkItem? unrun;
        lock (_gate)
        {
            _ended = true;
            unrun = _queued;
            _queued = null;
        }
        if (ranItem is not null) ranItem.Completed = true;
        if (ranItem is not null || unrun is not null) _workDone.Set();
    }
}
