using LinuxNetns.Interop;

namespace LinuxNetns.Kernel;

/// <summary>
/// A dedicated OS thread that lives in one network namespace and runs work items for callers, one at a time.
/// It switches itself into the namespace as the first thing it does, so it never depends on the namespace of the
/// thread that started it (threads are born in their creator's namespaces, DESIGN.md §2.2). It ends when idle for
/// the configured time, when stopped, or as soon as an item leaves it in other namespaces than it started in:
/// such a thread is never reused.
/// </summary>
internal sealed class NamespaceThread
{
    private readonly object _gate = new();
    private readonly TimeSpan _idleTimeout;
    private readonly Thread _thread;
    private WorkItem? _queued;
    private bool _busy;
    private bool _stopRequested;
    private bool _ended;
    private bool _ready;
    private int _startErrno;

    private NamespaceThread(string name, TimeSpan idleTimeout, SafeFdHandle target)
    {
        _idleTimeout = idleTimeout;
        _thread = new Thread(() => Main(target)) { IsBackground = true, Name = name };
    }

    /// <summary>The kernel thread id, once started.</summary>
    public int ThreadId { get; private set; }

    /// <summary>True when the calling thread is this worker.</summary>
    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <summary>Starts a worker in the namespace of <paramref name="target"/> and waits until it is there.</summary>
    public static NamespaceThread Start(SafeFdHandle target, string name, TimeSpan idleTimeout, string nameForErrors)
    {
        var worker = new NamespaceThread(name, idleTimeout, target);
        worker._thread.Start();
        lock (worker._gate)
        {
            while (!worker._ready && !worker._ended) Monitor.Wait(worker._gate);
        }
        if (worker._startErrno != 0)
        {
            worker._thread.Join();
            throw Errno.Exception("setns(CLONE_NEWNET) of a worker thread", nameForErrors, worker._startErrno);
        }
        return worker;
    }

    /// <summary>
    /// Runs <paramref name="item"/> on this thread and waits for it. Returns false, without running it, when the
    /// thread has ended (idle, stopped or retired): the caller then starts a new one.
    /// </summary>
    public bool TryExecute(WorkItem item)
    {
        if (IsCurrentThread)
        {
            // Re-entrant call from an item running on this thread: run inline instead of waiting on ourselves.
            item.Execute();
            item.Completed = true;
            return true;
        }
        lock (_gate)
        {
            while (_busy || _queued is not null)
            {
                if (_ended || _stopRequested) return false;
                Monitor.Wait(_gate);
            }
            if (_ended || _stopRequested) return false;
            _queued = item;
            Monitor.PulseAll(_gate);
            while (!item.Completed) Monitor.Wait(_gate);
        }
        return true;
    }

    /// <summary>Asks the thread to end after the current item and waits for it, unless called from the thread itself.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopRequested = true;
            Monitor.PulseAll(_gate);
        }
        if (!IsCurrentThread) _thread.Join();
    }

    private static void ReturnHome()
    {
        SafeFdHandle home = ThreadNamespaces.Home;
        bool added = false;
        try
        {
            home.DangerousAddRef(ref added);
            Libc.Setns(home.Fd, Libc.CLONE_NEWNET);
        }
        finally
        {
            if (added) home.DangerousRelease();
        }
    }

    private void Main(SafeFdHandle target)
    {
        ThreadId = Libc.GetThreadId();
        string[] snapshot;
        bool added = false;
        try
        {
            target.DangerousAddRef(ref added);
            if (Libc.Setns(target.Fd, Libc.CLONE_NEWNET) != 0)
            {
                int errno = Libc.LastErrno;
                lock (_gate)
                {
                    _startErrno = errno;
                    _ended = true;
                    Monitor.PulseAll(_gate);
                }
                return;
            }
        }
        finally
        {
            if (added) target.DangerousRelease();
        }
        snapshot = ThreadNamespaces.Snapshot();
        lock (_gate)
        {
            _ready = true;
            Monitor.PulseAll(_gate);
        }

        while (true)
        {
            WorkItem item;
            lock (_gate)
            {
                while (_queued is null && !_stopRequested)
                {
                    if (!Monitor.Wait(_gate, _idleTimeout) && _queued is null) break;
                }
                if (_queued is null)
                {
                    // Leave the namespace before ending: the OS thread outlives Thread.Join by a little, and must not
                    // be seen in (nor keep alive) the namespace after its handle was disposed.
                    ReturnHome();
                    _ended = true;
                    Monitor.PulseAll(_gate);
                    return;
                }
                item = _queued;
                _queued = null;
                _busy = true;
            }

            item.Execute();
            bool reusable = !item.PoisonsThread && ThreadNamespaces.Matches(snapshot);

            lock (_gate)
            {
                _busy = false;
                item.Completed = true;
                if (!reusable) _ended = true;
                Monitor.PulseAll(_gate);
            }
            // A thread left in other namespaces than it started in ends here; the kernel drops its references.
            if (!reusable) return;
        }
    }
}
