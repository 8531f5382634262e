using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace LinuxNetns.Threads;

/// <summary>A unit of work handed to a <see cref="NamespaceThread"/>; the caller waits for it to complete.</summary>
internal abstract class WorkItem
{
    /// <summary>Set by the worker under its lock when <see cref="Execute"/> has returned.</summary>
    public bool Completed;

    /// <summary>What <see cref="Run"/> threw, with its original stack trace.</summary>
    public ExceptionDispatchInfo? Error;

    /// <summary>Set by <see cref="Run"/> when the thread must not be reused (e.g. a switch back failed).</summary>
    public bool PoisonsThread;

    /// <summary>
    /// True for the library's own items, whose code is known to leave the thread's namespaces as they were (or to
    /// switch back itself and set <see cref="PoisonsThread"/> when it cannot): the worker skips its check of the
    /// thread's namespace links after them, seven readlinks that cost more than most items. Never for user code.
    /// </summary>
    public virtual bool KeepsNamespaces
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // read on the switched worker
        get => false;
    }

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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs on a switched worker: never call-counted
    protected override void Run() => Result = func();
}

/// <summary>Runs a user's <see cref="Action"/>; reusable, so that <see cref="NetworkNamespace.Run(Action)"/> allocates nothing.</summary>
internal sealed class ActionWorkItem : WorkItem
{
    public Action? Action;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Run() => Action!();

    /// <summary>Clears the last run's state before the item is reused.</summary>
    public void Reset(Action? action)
    {
        Action = action;
        Completed = false;
        Error = null;
        PoisonsThread = false;
    }
}

/// <summary>Library code known to leave the thread's namespaces alone (e.g. creating a socket).</summary>
internal sealed class LibraryWorkItem<T>(Func<T> func) : WorkItem
{
    public T? Result;

    public override bool KeepsNamespaces
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        get => true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Run() => Result = func();
}
