using System.Diagnostics;
using LinuxNetns.Interop;

namespace LinuxNetns.Exec;

/// <summary>
/// The netns tool's exec (<see cref="ExecInNamespace.ReplaceProcess"/>): this process becomes the program, inside the
/// namespace, as <c>ip netns exec</c> makes ip become it. Made at home (the argument and environment vectors, in
/// unmanaged memory); then the calling thread makes the exec's mount namespace on itself
/// (<see cref="PreparedMountNamespace.MakeHere"/>: joins the network namespace, unshares its mounts, fresh sysfs,
/// binds) and <see cref="Exec"/> changes to the working directory and calls execve, which ends every other thread.
/// This breaks the library's rule that no managed code runs switched (docs/exec.md) on purpose: nothing of this
/// process outlives the execve, and if it fails, the process only reports it and exits.
/// </summary>
internal sealed unsafe class ProcessReplacer : IDisposable
{
    private readonly NativeAllocations _memory = new();
    private readonly ProcessStartInfo _startInfo;
    private readonly string _program;
    private readonly string _workingDirectory;
    private readonly byte** _argv;
    private readonly byte** _shellArgv;
    private readonly byte** _envp;
    private readonly byte* _path;
    private readonly byte* _directory;

    public ProcessReplacer(ProcessStartInfo startInfo, string program, IReadOnlyList<string> arguments, string workingDirectory)
    {
        _startInfo = startInfo;
        _program = program;
        _workingDirectory = workingDirectory;
        _argv = ChildSpawner.Argv(_memory, startInfo.FileName, arguments);
        _envp = ChildSpawner.Envp(_memory, startInfo);
        _path = _memory.Utf8(program);
        _directory = _memory.Utf8(workingDirectory);
        // execvp's answer to a file the kernel cannot execute, which ip relies on: the shell runs it.
        _shellArgv = ChildSpawner.Argv(_memory, ChildSpawner.Shell, ChildSpawner.ShellArguments(startInfo.FileName, program, arguments));
    }

    /// <summary>Returns only by throwing: the step that failed, with errno.</summary>
    public void Exec(string where)
    {
        // Resolved again in the new mount namespace, as for a child: under /sys or an /etc bind it is the namespace's.
        if (Libc.Chdir(_directory) != 0)
        {
            int errno = Libc.LastErrno;
            throw new NetworkNamespaceException(NamespaceOperation.ChangeDirectory, _workingDirectory, (Errno)errno,
                $"exec \"{_startInfo.FileName}\" in {where} failed: chdir to the working directory \"{_workingDirectory}\": {NamespaceErrors.Describe(errno)}.");
        }
        Libc.ResetSignalsForExec();
        Libc.Execve(_path, _argv, _envp);
        int failed = Libc.LastErrno;
        if (failed == Libc.ENOEXEC)
        {
            Libc.Execve(_shellArgv[0], _shellArgv, _envp);
            failed = Libc.LastErrno;
        }
        throw new NetworkNamespaceException(NamespaceOperation.Spawn, _startInfo.FileName, (Errno)failed,
            $"Starting \"{_startInfo.FileName}\" ({_program}) in {where} failed: execve: {NamespaceErrors.Describe(failed)}.");
    }

    public void Dispose() => _memory.Dispose();
}
