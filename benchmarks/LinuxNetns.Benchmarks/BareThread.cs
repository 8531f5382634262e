using System.Runtime.CompilerServices;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// The floor's dedicated thread: optionally switched into one namespace when it starts, then runs one function
/// pointer at a time for a caller and signals it. The hand-off is the same kind the library uses (two
/// ManualResetEventSlims that spin before they block) but with nothing else around it: no delegate, no work-item
/// object, no check after each item.
/// </summary>
internal sealed unsafe class BareThread : IDisposable
{
    private readonly ManualResetEventSlim _ready = new(false, 100);
    private readonly ManualResetEventSlim _done = new(false, 100);
    private readonly Thread _thread;
    private delegate*<void*, void> _work;
    private void* _state;
    private volatile bool _stop;

    /// <summary>The thread's namespace at start (before any switch): an fd to go back to.</summary>
    public int HomeFd { get; private set; } = -1;

    /// <param name="targetFd">A namespace to switch into when the thread starts, or -1 to stay home.</param>
    public BareThread(string name, int targetFd)
    {
        _thread = new Thread(() => Main(targetFd)) { IsBackground = true, Name = name };
        _thread.Start();
        _done.Wait();
        _done.Reset();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(delegate*<void*, void> work, void* state)
    {
        _work = work;
        _state = state;
        _ready.Set();
        _done.Wait();
        _done.Reset();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Main(int targetFd)
    {
        HomeFd = Bare.open(Bare.ThreadSelfNet, Bare.O_RDONLY | Bare.O_CLOEXEC, 0);
        if (targetFd >= 0) Bare.Check(Bare.setns(targetFd, Bare.CLONE_NEWNET), "setns worker");
        _done.Set();
        while (true)
        {
            _ready.Wait();
            _ready.Reset();
            if (_stop) break;
            _work(_state);
            _done.Set();
        }
        if (targetFd >= 0) Bare.setns(HomeFd, Bare.CLONE_NEWNET);
        Bare.close(HomeFd);
    }

    public void Dispose()
    {
        _stop = true;
        _ready.Set();
        _thread.Join();
    }
}
