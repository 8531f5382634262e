using System.Diagnostics;
using LinuxNetns.Interop;

namespace LinuxNetns.Exec;

/// <summary>
/// The netns tool's exec (<see cref="ExecInNamespace.ReplaceProcess"/>): this process becomes the program, inside the
/// namespace, as <c>ip netns exec</c> makes ip become it. The calling thread has made the exec's mount namespace on
/// itself (<see cref="PreparedMountNamespace.MakeHere"/>: joined the network namespace, unshared its mounts, fresh
/// sysfs, binds); here it changes to the working directory and calls execve, which ends every other thread. This
/// breaks the library's rule that no managed code runs switched (docs/exec.md) on purpose: nothing of this process
/// outlives the execve, and if it fails, the process only reports it and exits.
/// </summary>
internal static unsafe class ProcessReplacer
{
    /// <summary>Returns only by throwing: the step that failed, with errno.</summary>
    public static void Exec(ProcessStartInfo startInfo, string program, IReadOnlyList<string> arguments, string workingDirectory, string where)
    {
        using var memory = new NativeAllocations();
        ChildSpawner.ArgvAndEnvp(memory, startInfo, arguments, out byte** argv, out byte** envp);
        byte* path = memory.Utf8(program);
        byte* directory = memory.Utf8(workingDirectory);

        // Resolved again in the new mount namespace, as for a child: under /sys or an /etc bind it is the namespace's.
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
