using System.Runtime.InteropServices;

namespace LinuxNetns.Interop;

// chdir, execve and what a process resets before it (its signal mask, ignored signals): the netns tool's exec, which replaces
// itself with the command as ip does (Exec/ProcessReplacer.cs).
internal static unsafe partial class Libc
{
    private const int SIG_SETMASK = 2;
    private static readonly nint SIG_DFL = 0;

    /// <summary>The highest signal number (SIGRTMAX on Linux).</summary>
    private const int SignalCount = 64;

    [LibraryImport(LibraryName, EntryPoint = "execve", SetLastError = true)]
    public static partial int Execve(byte* path, byte** argv, byte** envp);

    [LibraryImport(LibraryName, EntryPoint = "chdir", SetLastError = true)]
    public static partial int Chdir(byte* path);

    [LibraryImport(LibraryName, EntryPoint = "pthread_sigmask")]
    private static partial int PthreadSigmaskImport(int how, void* set, void* old);

    [LibraryImport(LibraryName, EntryPoint = "signal")]
    private static partial nint SignalImport(int signal, nint handler);

    /// <summary>
    /// What a program must not inherit from the runtime across execve: the runtime ignores SIGPIPE (an ignored signal
    /// stays ignored after exec) and may block signals on this thread (the mask is inherited). Every signal back to
    /// its default action, none blocked, as posix_spawn's SETSIGDEF and SETSIGMASK give a child.
    /// </summary>
    public static void ResetSignalsForExec()
    {
        byte* none = stackalloc byte[SigsetSize];
        SigEmptySet(none);
        PthreadSigmaskImport(SIG_SETMASK, none, null);
        for (int signal = 1; signal <= SignalCount; signal++)
        {
            if (signal is 9 or 19) continue; // SIGKILL, SIGSTOP: cannot be changed
            SignalImport(signal, SIG_DFL); // glibc's own (32, 33) refuse with EINVAL: they are not ours to change
        }
    }
}
