using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace LinuxNetns.Kernel;

/// <summary>A unit of work handed to a <see cref="NamespaceThread"/>; the caller waits for it to complete.</summary>
internal abstract class WorkItem
{
    /// <summary>Set by the worker under its lock when <see cref="Execute"/> has returned.</summary>
    public bool Completed;

    /// <summary>What <see cref="Run"/> threw, with its original stack trace.</summary>
    public ExceptionDispatchInfo? Error;

    /// <summary>Set by <see cref="Run"/> when the thread must not be reused (e.g. a switch back failed).</summary>
    public bool PoisonsThread;

    protected abstract void Run();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute()
    {
        try
        {
            Run();
        }
        catch (Exception e)
        {
            Error = ExceptionDispatchInfo.Capture(e);
        }
    }

    /// <summary>Rethrows what <see cref="Run"/> threw, keeping its stack trace.</summary>
    public void ThrowIfFailed() => Error?.Throw();
}

/// <summary>Runs a delegate and keeps its result.</summary>
internal sealed class FuncWorkItem<T>(Func<T> func) : WorkItem
{
    public T? Result;

    protected override void Run() => Result = func();
}
