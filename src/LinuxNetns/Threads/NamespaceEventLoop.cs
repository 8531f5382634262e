using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using LinuxNetns.Interop;

namespace LinuxNetns.Threads;

/// <summary>
/// The thread that runs <see cref="NetworkNamespace.RunAsync(Func{Task}, CancellationToken)"/> flows: a library-owned
/// thread inside one namespace with a single-threaded <see cref="SynchronizationContext"/> and
/// <see cref="TaskScheduler"/> of its own, so that every <c>await</c> of a flow resumes here, inside. Many flows share
/// it, interleaved at their awaits. It ends when it has had no flow and nothing queued for the idle time, when
/// stopped once its flows are done, or at once when code of a flow left it in other namespaces than it started in
/// (the flows still running are then failed: their continuations could run nowhere else).
/// </summary>
/// <remarks>
/// The loop starts no thread itself. A flow's result never completes the caller's task here (<see cref="Complete"/>):
/// that would queue the caller's continuation to the thread pool from this thread, and a pool request from a switched
/// thread can make the pool create its next worker here, inside. The step that finishes a flow whose task completed
/// on the loop is itself queued to the pool from here, though (its <c>ConfigureAwait(false)</c> continuation cannot
/// run inline under the loop's context): covered by <see cref="PoolWorkerGuard"/> like a flow's own pool work, not
/// when every worker is busy (docs/runtime-threads.md, "RunAsync", with what closing that costs).
/// </remarks>
internal sealed class NamespaceEventLoop
{
    private readonly object _gate = new();
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly HashSet<IFlow> _flows = new();
    private readonly TimeSpan _idleTimeout;
    private readonly WorkerSwitch.Target _target;
    private bool _ownMounts;
    private readonly string _nameForErrors;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _started = new(false, 0);
    private int _operations;     // async void operations started on the context and not yet completed
    private bool _stopRequested;
    private bool _ended;
    private bool _waiting;
    private NamespaceOperation _startFailed;
    private int _startErrno;

    private readonly Func<NamespaceEventLoop?> _successor;
    private bool _retired;

    private NamespaceEventLoop(string name, TimeSpan idleTimeout, SafeFdHandle target, SafeFdHandle? mounts, string nameForErrors,
        Func<NamespaceEventLoop?> successor)
    {
        _successor = successor;
        _idleTimeout = idleTimeout;
        _nameForErrors = nameForErrors;
        _target = WorkerSwitch.For(target, mounts);
        Context = new LoopContext(this);
        Scheduler = new LoopScheduler(this);
        _runBatch = RunBatch;
        _thread = new Thread(Main) { IsBackground = true, Name = name };
    }

    /// <summary>The context every flow runs under; <c>await</c> captures it.</summary>
    public SynchronizationContext Context { get; }

    /// <summary>The scheduler every flow runs under (<see cref="TaskScheduler.Current"/> inside a flow).</summary>
    public TaskScheduler Scheduler { get; }

    /// <summary>True once the loop has ended (idle, stopped or retired): it takes no more work.</summary>
    public bool HasEnded
    {
        get
        {
            lock (_gate) return _ended;
        }
    }

    /// <summary>True when the calling thread is this loop.</summary>
    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <summary>
    /// Starts a loop in <paramref name="target"/>'s namespace (and <paramref name="mounts"/>' mount namespace) and waits
    /// until it is there. <paramref name="successor"/> gives the namespace's loop of the moment (starting one if need
    /// be, null once the handle is disposed): work posted to this context after the loop ended idle goes there.
    /// </summary>
    public static NamespaceEventLoop Start(SafeFdHandle target, SafeFdHandle? mounts, string name, TimeSpan idleTimeout, string nameForErrors,
        Func<NamespaceEventLoop?> successor)
    {
        var loop = new NamespaceEventLoop(name, idleTimeout, target, mounts, nameForErrors, successor);
        bool added = false;
        try
        {
            target.DangerousAddRef(ref added); // the thread switches with the raw number
            loop._thread.Start();
            loop._started.Wait();
        }
        finally
        {
            if (added) target.DangerousRelease();
        }
        if (loop._startErrno != 0)
        {
            loop._thread.Join();
            throw WorkerSwitch.StartFailed(loop._startFailed, loop._startErrno, nameForErrors);
        }
        return loop;
    }

    /// <summary>
    /// Queues <paramref name="flow"/> to start on the loop. False when the loop has ended or is stopping: the caller
    /// then starts a new one.
    /// </summary>
    public bool TryStart(IFlow flow)
    {
        lock (_gate)
        {
            if (_ended || _stopRequested) return false;
            _flows.Add(flow);
            Enqueue(static f => ((IFlow)f!).Start(), flow);
        }
        return true;
    }

    /// <summary>Called on the loop when a flow has completed: the loop may end once none is left.</summary>
    public void FlowEnded(IFlow flow)
    {
        lock (_gate)
        {
            _flows.Remove(flow);
            if (_flows.Count == 0) Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Hands a flow's completion to its caller. On the loop (a flow abandoned or cancelled here), through the home
    /// thread, so that the caller's continuation is queued from home (see the remarks); elsewhere (the pool thread that
    /// finishes a flow) directly.
    /// </summary>
    public void Complete(Action complete)
    {
        if (!IsCurrentThread)
        {
            complete();
            return;
        }
        var item = new LibraryWorkItem<bool>(() =>
        {
            complete();
            return true;
        });
        HomeThread.Execute(item);
        item.ThrowIfFailed();
    }

    /// <summary>Ends the loop once its flows are done; waits for it only when it has none now and the caller is not the loop.</summary>
    public void Stop()
    {
        bool idle;
        lock (_gate)
        {
            _stopRequested = true;
            idle = _flows.Count == 0 && _operations == 0;
            Monitor.PulseAll(_gate);
        }
        if (idle && !IsCurrentThread) _thread.Join();
    }

    private void WaitLocked(int milliseconds)
    {
        _waiting = true;
        Monitor.Wait(_gate, milliseconds);
        _waiting = false;
    }

    private void Post(SendOrPostCallback callback, object? state)
    {
        lock (_gate)
        {
            if (!_ended)
            {
                Enqueue(callback, state);
                return;
            }
            // A continuation of a flow that was failed when the loop retired: it has nowhere to run inside.
            if (_retired) return;
        }
        // The loop ended idle while work a flow left running (not awaited) still captured its context: that work goes
        // on, inside, on the namespace's loop of now (dropped only once the handle is disposed).
        _successor()?.Post(callback, state);
    }

    private void Enqueue(SendOrPostCallback callback, object? state)
    {
        _queue.Enqueue((callback, state));
        if (_waiting) Monitor.PulseAll(_gate);
    }

    private void Main()
    {
        using ThreadNamespaceLinks? links = WorkerSwitch.Enter(_target, out _ownMounts, out _startFailed, out _startErrno);
        if (links is null) _ended = true;
        _started.Set();
        if (links is null) return;
        try
        {
            SynchronizationContext.SetSynchronizationContext(Context);
            Serve(links);
        }
        finally
        {
            WorkerSwitch.LeaveToHome(_ownMounts ? _target.HomeMountFd : -1);
        }
    }

    private readonly Action<object?> _runBatch;
    private ExceptionDispatchInfo? _unhandled;

    private void RunBatch(object? state)
    {
        foreach ((SendOrPostCallback callback, object? argument) in (List<(SendOrPostCallback, object?)>)state!)
        {
            SynchronizationContext.SetSynchronizationContext(Context); // user code may have replaced it
            try
            {
                callback(argument);
            }
            catch (Exception e)
            {
                _unhandled = ExceptionDispatchInfo.Capture(e);
                return;
            }
        }
    }

    private void Serve(ThreadNamespaceLinks links)
    {
        var batch = new List<(SendOrPostCallback Callback, object? State)>();
        while (true)
        {
            lock (_gate)
            {
                long idleSince = Environment.TickCount64;
                while (_queue.Count == 0)
                {
                    if (_flows.Count != 0 || _operations != 0)
                    {
                        // Flows wait for something: no idle time runs until the last has ended (FlowEnded pulses).
                        WaitLocked(Timeout.Infinite);
                        idleSince = Environment.TickCount64;
                        continue;
                    }
                    bool forever = _idleTimeout == Timeout.InfiniteTimeSpan;
                    long left = forever ? 0 : (long)_idleTimeout.TotalMilliseconds - (Environment.TickCount64 - idleSince);
                    if (_stopRequested || (!forever && left <= 0))
                    {
                        _ended = true;
                        return;
                    }
                    WaitLocked(forever ? Timeout.Infinite : (int)Math.Min(left, int.MaxValue));
                }
                while (_queue.Count != 0) batch.Add(_queue.Dequeue());
            }

            // User code is about to run switched, possibly for long: make sure the runtime's threads that come and go
            // exist at home (docs/runtime-threads.md).
            RuntimeThreadGuards.BeforeSwitchedUserCode();
            // The batch runs as one task of the loop's scheduler, so that TaskScheduler.Current is the loop's in every
            // continuation, not only before a flow's first await (Task.Factory.StartNew, ContinueWith stay inside).
            var runner = new Task(_runBatch, batch, CancellationToken.None, TaskCreationOptions.DenyChildAttach);
            runner.RunSynchronously(Scheduler);
            batch.Clear();
            // What a posted callback threw (an async void method's exception) is unhandled, as on any other thread.
            Interlocked.Exchange(ref _unhandled, null)?.Throw();

            if (!links.Unchanged())
            {
                Retire();
                return;
            }
        }
    }

    /// <summary>The loop was left in other namespaces by code of a flow: it ends, and the flows still running fail.</summary>
    private void Retire()
    {
        IFlow[] abandoned;
        lock (_gate)
        {
            _ended = true;
            _retired = true;
            _queue.Clear();
            abandoned = [.. _flows];
            _flows.Clear();
        }
        var error = new InvalidOperationException(
            $"A RunAsync flow of namespace '{_nameForErrors}' left the namespace's thread in other namespaces than it started in " +
            "(e.g. a setns or unshare of its own). The thread was retired and the flows that were still running on it were " +
            "stopped, since their continuations can run nowhere else. Switch with Enter() scopes, which switch back.");
        foreach (IFlow flow in abandoned) flow.Abandon(error);
    }

    /// <summary>A flow as the loop sees it.</summary>
    internal interface IFlow
    {
        /// <summary>Runs on the loop: calls the user's delegate.</summary>
        void Start();

        /// <summary>Fails the caller's task with <paramref name="error"/> (the loop retired).</summary>
        void Abandon(Exception error);
    }

    private sealed class LoopContext(NamespaceEventLoop loop) : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) => loop.Post(d, state);

        public override void Send(SendOrPostCallback d, object? state)
        {
            if (loop.IsCurrentThread)
            {
                d(state);
                return;
            }
            using var done = new ManualResetEventSlim();
            ExceptionDispatchInfo? error = null;
            loop.Post(_ =>
            {
                try
                {
                    d(state);
                }
                catch (Exception e)
                {
                    error = ExceptionDispatchInfo.Capture(e);
                }
                finally
                {
                    done.Set();
                }
            }, null);
            done.Wait();
            error?.Throw();
        }

        public override SynchronizationContext CreateCopy() => this;

        // async void methods: the loop stays while one is running.
        public override void OperationStarted()
        {
            lock (loop._gate) loop._operations++;
        }

        public override void OperationCompleted()
        {
            lock (loop._gate)
            {
                loop._operations--;
                Monitor.PulseAll(loop._gate);
            }
        }
    }

    private sealed class LoopScheduler : TaskScheduler
    {
        private readonly NamespaceEventLoop _loop;
        private readonly SendOrPostCallback _execute;

        public LoopScheduler(NamespaceEventLoop loop)
        {
            _loop = loop;
            _execute = task => TryExecuteTask((Task)task!);
        }

        public override int MaximumConcurrencyLevel => 1;

        protected override void QueueTask(Task task) => _loop.Post(_execute, task);

        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
            _loop.IsCurrentThread && TryExecuteTask(task);

        protected override IEnumerable<Task> GetScheduledTasks()
        {
            lock (_loop._gate)
            {
                return _loop._queue.Where(entry => entry.Callback == _execute).Select(entry => (Task)entry.State!).ToArray();
            }
        }
    }
}
