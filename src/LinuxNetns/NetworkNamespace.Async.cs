using LinuxNetns.Threads;

namespace LinuxNetns;

// Async code inside a namespace: flows on the namespace's event loop (Threads/NamespaceEventLoop.cs).
public sealed partial class NetworkNamespace
{
    private readonly LazySlot<NamespaceEventLoop> _loop = new();

    /// <summary>
    /// Runs the asynchronous <paramref name="func"/> inside this namespace: on a library-owned thread that is in the
    /// namespace, under a single-threaded <see cref="SynchronizationContext"/> and <see cref="TaskScheduler"/> of that
    /// thread, so that every continuation of <paramref name="func"/> (each <c>await</c> that captures the context,
    /// the default) resumes there, inside. Many flows may run at once on one namespace: they share the thread and
    /// interleave at their awaits. The calling thread never switches; no pool thread is ever switched.
    /// </summary>
    /// <remarks>
    /// <para>What leaves the namespace's thread: <c>ConfigureAwait(false)</c> (the rest of the method runs on whichever
    /// thread completed the awaited task, usually a pool thread, outside the namespace), <c>Task.Run</c>,
    /// <c>ThreadPool</c> work, <c>Parallel</c>, a new thread (all on threads of the process's own namespaces), and
    /// <c>Dns.GetHostAddressesAsync</c>, which resolves on a pool thread: resolve with <c>Dns.GetHostAddresses</c>
    /// inside, or use <see cref="CreateHttpMessageHandler"/>. Such code is safe, it never switches a pool thread, but
    /// runs outside; a later <c>await</c> without <c>ConfigureAwait(false)</c> in the flow itself comes back inside.
    /// Sockets created inside stay in the namespace wherever they are used.</para>
    /// <para>Blocking the thread (<c>.Result</c>, <c>.Wait()</c> on work that needs it) blocks every flow of the
    /// namespace, and waits for ever on work that must come back to it. Calling <see cref="RunAsync(Func{Task}, CancellationToken)"/>
    /// of the same namespace from inside a flow runs the delegate at once, in that flow.</para>
    /// <para>With <see cref="NetworkNamespaceOptions.WorkerMounts"/> = <see cref="WorkerMounts.LikeExec"/>, the thread
    /// also sees the mounts <c>ip netns exec</c> would give a program.</para>
    /// <para>A flow allocates while switched (its state machines and tasks): set <c>System.GC.Concurrent=false</c> in a
    /// process that uses RunAsync, or a background GC triggered there creates the runtime's background GC thread inside
    /// the namespace. See docs/runtime-threads.md, "RunAsync".</para>
    /// </remarks>
    /// <param name="func">The flow. Exceptions it throws, and its cancellation, reach the returned task unchanged.</param>
    /// <param name="cancellationToken">Stops a flow that has not started yet (the returned task is then canceled
    /// with this token); a flow that has started sees it only if <paramref name="func"/> uses it.</param>
    /// <exception cref="ObjectDisposedException">The handle is disposed.</exception>
    /// <exception cref="NetworkNamespaceException">The namespace's thread could not be started inside (the task faults).</exception>
    /// <exception cref="NotSupportedException">No thread of this process can enter the namespace (a host of a network
    /// built without root).</exception>
    public Task RunAsync(Func<Task> func, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(func);
        return StartFlow<bool>(func, cancellationToken);
    }

    /// <summary>Runs the asynchronous <paramref name="func"/> inside this namespace and returns its result.</summary>
    /// <inheritdoc cref="RunAsync(Func{Task}, CancellationToken)"/>
    public Task<T> RunAsync<T>(Func<Task<T>> func, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(func);
        return StartFlow<T>(func, cancellationToken);
    }

    private Task<T> StartFlow<T>(Func<Task> func, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        ThrowIfNotEnterable("RunAsync");
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<T>(cancellationToken);
        if (_loop.Current is { IsCurrentThread: true })
        {
            // A flow of this namespace starting another: it is already where the new one must run.
            return Flow<T>.Inline(func);
        }
        HomeThread.EnsureRuntimeThreadsStarted(); // before the loop's first switch
        try
        {
            while (true)
            {
                NamespaceEventLoop loop = CurrentLoop()
                    ?? throw Disposed();
                var flow = new Flow<T>(loop, func, cancellationToken);
                if (loop.TryStart(flow)) return flow.Completion.Task;
                // It ended meanwhile (idle): the next CurrentLoop starts another.
            }
        }
        catch (NetworkNamespaceException e)
        {
            return Task.FromException<T>(e);
        }
    }

    /// <summary>The namespace's event loop, started if there is none; null once the handle is disposed.</summary>
    private NamespaceEventLoop? CurrentLoop() =>
        _loop.GetOrMake(static ns => WorkerSlot.WithMounts(ns._prepareMounts, mounts =>
            NamespaceEventLoop.Start(ns._fd, mounts, ns._threadName + "~", ns._options.WorkerIdleTimeout, ns.Name ?? ns.Path, ns.CurrentLoop)),
            this, ended: static loop => loop.HasEnded);

    private void CloseEventLoop() => _loop.Close()?.Stop();

    /// <summary>One RunAsync call: starts the user's delegate on the loop and hands its outcome to the caller's task.</summary>
    private sealed class Flow<T>(NamespaceEventLoop loop, Func<Task> func, CancellationToken cancellationToken) : NamespaceEventLoop.IFlow
    {
        // Continuations run asynchronously: never the caller's code on the loop thread.
        public readonly TaskCompletionSource<T> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static Task<T> Inline(Func<Task> func)
        {
            Task inner;
            try
            {
                inner = func();
            }
            catch (Exception e)
            {
                return Task.FromException<T>(e);
            }
            return inner as Task<T> ?? AsResult(inner);
        }

        private static async Task<T> AsResult(Task task)
        {
            await task;
            return default!;
        }

        public void Start()
        {
            if (cancellationToken.IsCancellationRequested)
            {
                Finish(() => Completion.TrySetCanceled(cancellationToken));
                return;
            }
            Task inner;
            try
            {
                inner = func();
            }
            catch (Exception e)
            {
                inner = Task.FromException(e); // a non-async delegate that throws before it returns a task
            }
            inner.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => Finish(() => Transfer(inner)));
        }

        public void Abandon(Exception error) => Finish(() => Completion.TrySetException(error));

        private void Finish(Action complete)
        {
            try
            {
                loop.Complete(complete);
            }
            finally
            {
                loop.FlowEnded(this);
            }
        }

        private void Transfer(Task inner)
        {
            if (inner.IsFaulted)
            {
                Completion.TrySetException(inner.Exception!.InnerExceptions);
            }
            else if (inner.IsCanceled)
            {
                Completion.TrySetCanceled(CanceledBy(inner));
            }
            else
            {
                Completion.TrySetResult(inner is Task<T> typed ? typed.Result : default!);
            }
        }

        private static CancellationToken CanceledBy(Task canceled)
        {
            try
            {
                canceled.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException e)
            {
                return e.CancellationToken;
            }
            return default;
        }
    }
}
