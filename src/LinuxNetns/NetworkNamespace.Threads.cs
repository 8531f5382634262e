using System.Net.Sockets;
using LinuxNetns.Kernel;

namespace LinuxNetns;

// The three ways to do work inside a namespace: Enter (the calling thread), Run (a library-owned thread),
// CreateSocket (a socket that belongs to the namespace and can be used from any thread).
public sealed partial class NetworkNamespace
{
    /// <summary>
    /// Switches the CALLING thread into this namespace until the returned scope is disposed. Synchronous code only:
    /// the scope cannot be held across an <c>await</c>. Entering the namespace the thread is already in makes no switch.
    /// </summary>
    /// <exception cref="NamespacePermissionException">Not running with CAP_SYS_ADMIN.</exception>
    /// <exception cref="NamespaceRestoreException">This thread failed to switch back earlier and must not be used.</exception>
    public NamespaceScope Enter() => ScopeStack.Enter(this);

    /// <summary>
    /// Runs <paramref name="action"/> on a library-owned thread inside this namespace and waits for it. The calling
    /// thread never switches; exceptions are rethrown with their original stack trace. Do not start threads or
    /// tasks from <paramref name="action"/>: they would be born inside the namespace.
    /// </summary>
    public void Run(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Run(() =>
        {
            action();
            return true;
        });
    }

    /// <summary>
    /// Runs <paramref name="func"/> on a library-owned thread inside this namespace and returns its result.
    /// </summary>
    /// <inheritdoc cref="Run(Action)"/>
    public T Run<T>(Func<T> func)
    {
        ArgumentNullException.ThrowIfNull(func);
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        HomeThread.EnsureRuntimeThreadsStarted();
        // The delegate is often new code: make sure its first-call JIT finds the tiered-compilation worker running,
        // so the runtime does not start that worker from our thread inside the namespace.
        TieringWorkerGuard.Ensure();
        var item = new FuncWorkItem<T>(func);
        _worker.Execute(item, _fd, _options.WorkerIdleTimeout);
        item.ThrowIfFailed();
        return item.Result!;
    }

    /// <summary>
    /// Creates a socket inside this namespace. A socket belongs to the namespace it was created in for its whole
    /// life, so it can then be used from any thread, with async methods included (e.g. in a
    /// <see cref="System.Net.Http.SocketsHttpHandler.ConnectCallback"/>).
    /// </summary>
    public Socket CreateSocket(AddressFamily addressFamily, SocketType socketType, ProtocolType protocolType) =>
        Run(() => new Socket(addressFamily, socketType, protocolType));
}
