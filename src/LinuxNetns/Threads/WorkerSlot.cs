using LinuxNetns.Interop;

namespace LinuxNetns.Threads;

/// <summary>
/// At most one <see cref="NamespaceThread"/> for one namespace, started on demand and replaced when it has ended
/// (idle, or retired after an item left it in the wrong namespaces).
/// </summary>
internal sealed class WorkerSlot(string threadName, string nameForErrors, bool spin = true)
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
                worker = _current ??= NamespaceThread.Start(target, threadName, idleTimeout, nameForErrors, spin);
            }
            if (worker.TryExecute(item)) return;
            lock (_lock)
            {
                if (_current == worker) _current = null;
            }
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
