using System.Runtime.CompilerServices;
using LinuxNetns.Exec;
using LinuxNetns.Threads;

namespace LinuxNetns;

/// <summary>
/// The calling thread, switched into a network namespace by <see cref="NetworkNamespace.Enter"/>. Disposing it
/// switches the thread back to the namespace it was in. Use it with <c>using</c>, on one thread, and keep it short.
/// </summary>
/// <remarks>
/// <para>It is a <c>ref struct</c> so that the compiler refuses to keep it across an <c>await</c> (error CS4007):
/// after an await the code may continue on another thread, which is not the one that was switched.</para>
/// <para>Disposing it on another thread than the one that entered throws <see cref="InvalidOperationException"/>
/// and changes no thread. Nested scopes must be disposed innermost first. If switching back fails, the thread is
/// switched to the process's home namespace instead and Dispose throws <see cref="NamespaceRestoreException"/>, which
/// names the thread and where it is. If that fails too (or outer scopes are open), every later
/// <see cref="NetworkNamespace.Enter"/> on it throws; end the thread, or the process, rather than go on using it.</para>
/// <para>While switched, do not start threads, <c>Task.Run</c>, timers or first uses of runtime services: threads are
/// born in the namespace of the thread that creates them and would stay there.</para>
/// </remarks>
public ref struct NamespaceScope
{
    private readonly int _depth;
    private readonly int _token;
    private readonly int _threadId;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // made while switched: never call-counted
    internal NamespaceScope(int depth, int token, int threadId)
    {
        _depth = depth;
        _token = token;
        _threadId = threadId;
    }

    /// <summary>Switches the thread back to the namespace it was in before this scope.</summary>
    /// <exception cref="InvalidOperationException">Called on another thread, or before an inner scope was disposed.</exception>
    /// <exception cref="NamespaceRestoreException">The switch back failed; the message says where the thread is now.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs while switched: never counted for tiering
    public void Dispose()
    {
        if (_token != 0) ScopeStack.Exit(_depth, _token, _threadId);
    }
}
