using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using LinuxNetns.Exec;
using LinuxNetns.Interop;
using LinuxNetns.Logging;
using LinuxNetns.Threads;

namespace LinuxNetns;

// The three ways to do work inside a namespace: Enter (the calling thread), Run (a library-owned thread),
// CreateSocket (a socket that belongs to the namespace and can be used from any thread).
public sealed partial class NetworkNamespace
{
    private ActionWorkItem? _actionItem;

    /// <summary>
    /// Switches the CALLING thread into this namespace until the returned scope is disposed. Synchronous code only:
    /// the scope cannot be held across an <c>await</c>. Entering the namespace the thread is already in makes no switch.
    /// </summary>
    /// <exception cref="NamespacePermissionException">Not running with CAP_SYS_ADMIN.</exception>
    /// <exception cref="NamespaceRestoreException">This thread failed to switch back earlier and must not be used.</exception>
    /// <exception cref="NotSupportedException">The namespace cannot be entered by this process (a host of a network
    /// built without root): the message says what works instead.</exception>
    public NamespaceScope Enter()
    {
        ThrowIfNotEnterable("Enter()");
        return ScopeStack.Enter(this);
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a library-owned thread inside this namespace and waits for it. The calling
    /// thread never switches; exceptions are rethrown with their original stack trace. Do not start threads or
    /// tasks from <paramref name="action"/>: they would be born inside the namespace. Calling Run on the same namespace
    /// from inside <paramref name="action"/> runs inline.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from another namespace's worker whose item is itself waiting
    /// for this namespace's worker (<c>a.Run(() => b.Run(() => a.Run(...)))</c>), which would wait for ever: nothing
    /// is run, the message names both namespaces. Also when called from this namespace's worker inside an
    /// <see cref="Enter"/> scope of another namespace.</exception>
    /// <exception cref="ObjectDisposedException">The handle is, or while the call was waiting to run, was disposed.</exception>
    /// <exception cref="NotSupportedException">No thread of this process can enter the namespace (a host of a network
    /// built without root): the message says what works instead.</exception>
    public void Run(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        // One reusable item per handle (taken atomically; a concurrent or nested call makes its own).
        ActionWorkItem item = Interlocked.Exchange(ref _actionItem, null) ?? new ActionWorkItem();
        item.Reset(action);
        ExecuteOnWorker(item);
        ExceptionDispatchInfo? error = item.Error;
        if (item.Completed)
        {
            // Only once the worker is done with it: then nothing else refers to it.
            item.Reset(null);
            Volatile.Write(ref _actionItem, item);
        }
        error?.Throw();
    }

    /// <summary>
    /// Runs <paramref name="func"/> on a library-owned thread inside this namespace and returns its result.
    /// </summary>
    /// <inheritdoc cref="Run(Action)"/>
    public T Run<T>(Func<T> func)
    {
        ArgumentNullException.ThrowIfNull(func);
        var item = new FuncWorkItem<T>(func);
        ExecuteOnWorker(item);
        item.ThrowIfFailed();
        return item.Result!;
    }

    /// <summary>
    /// Creates a socket inside this namespace. A socket belongs to the namespace it was created in for its whole
    /// life, so it can then be used from any thread, with async methods included (e.g. in a
    /// <see cref="System.Net.Http.SocketsHttpHandler.ConnectCallback"/>). For a namespace this process cannot enter
    /// (a host of a network built without root), the process that can makes the socket and hands it over.
    /// </summary>
    public Socket CreateSocket(AddressFamily addressFamily, SocketType socketType, ProtocolType protocolType)
    {
        if (_agent is null) return RunLibraryCode(() => new Socket(addressFamily, socketType, protocolType));
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        SafeFdHandle fd = _agent.CreateSocket((int)addressFamily, (int)socketType, (int)protocolType);
        int raw = (int)fd.DangerousGetHandle();
        fd.SetHandleAsInvalid(); // owned by the socket from here on
        return new Socket(new SafeSocketHandle(raw, ownsHandle: true));
    }

    /// <summary>
    /// Writes <paramref name="value"/> to <c>/proc/sys/<paramref name="path"/></c> of this namespace (a <c>net/</c>
    /// setting, e.g. <c>net/ipv4/ip_forward</c>): /proc/sys/net shows the namespace of the thread that opens it.
    /// </summary>
    internal void WriteSysctl(string path, string value)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        if (_agent is not null) _agent.WriteSysctl(path, value);
        else RunLibraryCode(() =>
        {
            File.WriteAllText(System.IO.Path.Combine("/proc/sys", path), value);
            return true;
        });
    }

    /// <summary>Like <see cref="Run{T}"/>, for the library's own code that leaves the worker's namespaces alone.</summary>
    internal T RunLibraryCode<T>(Func<T> func)
    {
        var item = new LibraryWorkItem<T>(func);
        ExecuteOnWorker(item);
        item.ThrowIfFailed();
        return item.Result!;
    }

    /// <summary>
    /// Hands <paramref name="item"/> to this namespace's worker and waits. First, at home: the runtime's lazily started
    /// threads must already run, and the tiered-compilation worker and a pool worker must be running, so that the
    /// item's code (often new, e.g. a first Socket constructor or a user's delegate) makes the runtime start none of them
    /// on the worker, inside.
    /// </summary>
    private void ExecuteOnWorker(WorkItem item) => ExecuteOn(_worker, item);

    /// <summary><see cref="ExecuteOnWorker"/> on <paramref name="slot"/>'s worker (e.g. the resolver's).</summary>
    private void ExecuteOn(WorkerSlot slot, WorkItem item)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        ThrowIfNotEnterable("Run");
        RuntimeThreadGuards.BeforeSwitchedUserCode();
        slot.Execute(item, _fd, _options.WorkerIdleTimeout);
    }

    /// <summary>
    /// The mount namespace of a worker with <see cref="WorkerMounts.LikeExec"/>: the one exec prepares for this namespace
    /// (the same sysfs and <c>/etc/netns/NAME</c> binds, made once and shared), returned with a reference on its
    /// descriptor. A failed bind is logged, as exec warns; the worker then sees the host's file there.
    /// </summary>
    private PreparedMountNamespace PrepareWorkerMounts()
    {
        string? etcDirectory = Name is null ? null : System.IO.Path.Combine(_options.EtcDirectory, Name);
        bool added = false;
        try
        {
            _fd.DangerousAddRef(ref added); // the build's plan carries the raw number
            PreparedMountNamespace prepared = PreparedMountNamespace.Cache.Acquire(this, _fd.Fd, etcDirectory, Name ?? "sysfs",
                MountPropagation.Slave, byName: false, _options.Logger);
            for (int i = 0; i < prepared.BindErrnos.Length; i++)
            {
                if (prepared.BindErrnos[i] == 0) continue;
                _options.Logger.ExecBindFailed(prepared.Etc.Entries[i].Source, prepared.Etc.Entries[i].Target,
                    NamespaceErrors.Describe((Errno)prepared.BindErrnos[i]));
            }
            return prepared;
        }
        finally
        {
            if (added) _fd.DangerousRelease();
        }
    }

    /// <summary>What a use of a disposed handle throws: names the namespace.</summary>
    private ObjectDisposedException Disposed() =>
        new(nameof(NetworkNamespace), $"The namespace handle of {Name ?? Path} was disposed.");
}
