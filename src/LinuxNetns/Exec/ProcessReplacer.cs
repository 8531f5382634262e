using System.Diagnostics;
using LinuxNetns.Interop;

namespace LinuxNetns.Exec;

/// <summary>
/// The netns tool's exec (<see cref="ExecInNamespace.ReplaceProcess"/>): this process becomes the program, inside the
/// namespace, as <c>ip netns exec</c> makes ip become it. The calling thread joins the network namespace and the mount
/// namespace prepared for it (the same one a child gets), changes to the working directory and calls execve, which ends
/// every other thread. This breaks the library's rule that no managed code runs switched (docs/exec.md) on purpose:
/// nothing of this process outlives the execve, and if it fails, the process only reports it and exits.
/// </summary>
internal static unsafe class ProcessReplacer
{
    /// <summary>Returns only by throwing: the step that failed, with errno.</summary>
    public static void Exec(ProcessStartInfo startInfo, string program, IReadOnlyList<string> arguments, string workingDirectory,
        int netFd, int mountFd, string where)
    {
        using var memory = new NativeAllocations();
        ChildSpawner.ArgvAndEnvp(memory, startInfo, arguments, out byte** argv, out byte** envp);
        byte* path = memory.Utf8(program);
        byte* directory = memory.Utf8(workingDirectory);

        if (Switched.Setns(netFd, Libc.CLONE_NEWNET) != 0)
            throw NamespaceErrors.Failed(NamespaceOperation.SetnsNetwork, "setns(CLONE_NEWNET) before exec into", where, (Errno)Libc.LastErrno);
        // setns(CLONE_NEWNS) refuses a thread that shares its filesystem context, as all threads of a process do.
        if (Switched.Unshare(Libc.CLONE_FS) != 0)
            throw NamespaceErrors.Failed(NamespaceOperation.UnshareFilesystem, "unshare(CLONE_FS) before exec into", where, (Errno)Libc.LastErrno);
        if (Switched.Setns(mountFd, Libc.CLONE_NEWNS) != 0)
            throw NamespaceErrors.Failed(NamespaceOperation.SetnsMount, "setns(CLONE_NEWNS) into the exec mount namespace of", where, (Errno)Libc.LastErrno);
        // Joining a mount namespace moves the thread to its root; the program starts where this process was.
        if (Libc.Chdir(directory) != 0)
        {
            throw new NetworkNamespaceException(NamespaceOperation.ChangeDirectory, workingDirectory, (Errno)Libc.LastErrno,
                $"exec \"{startInfo.FileName}\" in {where} failed: chdir to the working directory \"{workingDirectory}\": {NamespaceErrors.Describe(Libc.LastErrno)}.");
        }
        Libc.ResetSignalsForExec();
        Libc.Execve(path, argv, envp);
        int errno = Libc.LastErrno;
        throw new NetworkNamespaceException(NamespaceOperation.Spawn, startInfo.FileName, (Errno)errno,
            $"Starting \"{startInfo.FileName}\" ({program}) in {where} failed: execve: {NamespaceErrors.Describe(errno)}.");
    }
}
