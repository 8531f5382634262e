using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using LinuxNetns.Interop;
using Microsoft.Win32.SafeHandles;
using LinuxNetns.Threads;

namespace LinuxNetns.Exec;

/// <summary>
/// Starts an exec's child: at home, everything <c>posix_spawn</c> needs (argv, envp, the working directory, pipes for
/// the redirected streams dup'ed onto 0/1/2, an empty signal mask and every signal back to its default action, as
/// <see cref="Process"/> does for its children) is put in unmanaged memory; the spawn window then starts the child
/// inside the namespaces; the child's pipe ends are closed here and a pidfd is opened before anyone can reap it.
/// </summary>
internal static unsafe class ChildSpawner
{
    private static readonly Encoding DefaultEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
    private static volatile bool s_pidfdChecked;

    /// <summary>Refuses, before anything is started, a kernel without pidfd_open (Linux 5.3).</summary>
    public static void CheckKernel(string where)
    {
        if (s_pidfdChecked) return;
        int fd = Libc.PidfdOpen(Environment.ProcessId);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw NamespaceErrors.Failed(NamespaceOperation.OpenProcess, "pidfd_open for an exec in", where, (Errno)errno,
                errno == Libc.ENOSYS ? "Exec needs Linux 5.3 or later (pidfd_open) to watch and reap its children." : null);
        }
        Libc.CloseRaw(fd);
        s_pidfdChecked = true;
    }

    /// <summary>Starts <paramref name="startInfo"/> (program already resolved to <paramref name="program"/>, its
    /// <see cref="Arguments"/> already split into <paramref name="arguments"/>) in
    /// <paramref name="netFd"/>'s network namespace and the prepared mount namespace <paramref name="mountFd"/>. With
    /// <paramref name="streams"/>, those descriptors are dup2'd onto the child's 0, 1 and 2, in place of pipes or this
    /// process's own (<see cref="ExecInNamespace.StartWithStreams"/>). Without <paramref name="watch"/>, the child is not
    /// yet handed to <see cref="ChildMonitor"/>: it stays unreaped (its pid valid) until the caller does that.
    /// <paramref name="argv0"/>: the child's argv[0], by default the file name as given.</summary>
    public static NamespaceProcess Spawn(ProcessStartInfo startInfo, string program, IReadOnlyList<string> arguments,
        string workingDirectory, int netFd, int mountFd, string where, MountPropagation propagation, int[]? streams = null, bool watch = true,
        string? argv0 = null)
    {
        using var memory = new NativeAllocations();

        // Parent end, child end, and the child's descriptor number, for each redirected stream.
        var pipes = new List<(int Parent, int Child, int Target)>();
        void* actions = null, attributes = null;
        bool actionsInitialized = false, attributesInitialized = false;
        bool started = false;
        int pid = 0;
        try
        {
            byte** argv = Argv(memory, argv0 ?? startInfo.FileName, arguments);
            byte** envp = Envp(memory, startInfo);

            AddRedirectPipes(pipes, startInfo, where);

            actions = memory.AllocBytes(Libc.SpawnFileActionsSize);
            Check(Libc.SpawnFileActionsInit(actions), "posix_spawn_file_actions_init", where);
            actionsInitialized = true;
            foreach ((_, int child, int target) in pipes) Check(Libc.SpawnFileActionsAddDup2(actions, child, target), "posix_spawn_file_actions_adddup2", where);
            for (int target = 0; streams is not null && target < streams.Length; target++)
                Check(Libc.SpawnFileActionsAddDup2(actions, streams[target], target), "posix_spawn_file_actions_adddup2", where);

            attributes = memory.AllocBytes(Libc.SpawnAttributesSize);
            Check(Libc.SpawnAttributesInit(attributes), "posix_spawnattr_init", where);
            attributesInitialized = true;
            void* none = memory.AllocBytes(Libc.SigsetSize);
            void* all = memory.AllocBytes(Libc.SigsetSize);
            Libc.SigEmptySet(none);
            Libc.SigFillSet(all);
            Check(Libc.SpawnAttributesSetSignalMask(attributes, none), "posix_spawnattr_setsigmask", where);
            Check(Libc.SpawnAttributesSetSignalDefault(attributes, all), "posix_spawnattr_setsigdefault", where);
            Check(Libc.SpawnAttributesSetFlags(attributes, Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF), "posix_spawnattr_setflags", where);

            SwitchedWindow.SpawnPlan* plan = memory.Alloc<SwitchedWindow.SpawnPlan>();
            plan->Calls = SwitchedCalls.Real;
            plan->Strings = SwitchedWindow.ConstantStrings;
            plan->NetFd = netFd;
            plan->MountFd = mountFd;
            plan->WorkingDirectory = memory.Utf8(workingDirectory);
            plan->Path = memory.Utf8(program);
            plan->FileActions = actions;
            plan->Attributes = attributes;
            plan->Argv = argv;
            plan->Envp = envp;

            SwitchedWindow.Spawn(plan);

            if (plan->FailedStep == SwitchedWindow.Step.Spawn)
            {
                throw new NetworkNamespaceException(NamespaceOperation.Spawn, startInfo.FileName, (Errno)plan->Errno,
                    $"Starting \"{startInfo.FileName}\" ({program}) in {where} failed: posix_spawn: {NamespaceErrors.Describe(plan->Errno)}.");
            }
            if (plan->FailedStep == SwitchedWindow.Step.ChangeDirectory)
            {
                throw new NetworkNamespaceException(NamespaceOperation.ChangeDirectory, workingDirectory, (Errno)plan->Errno,
                    $"exec \"{startInfo.FileName}\" in {where} failed: chdir to the working directory \"{workingDirectory}\": {NamespaceErrors.Describe(plan->Errno)}.");
            }
            if (plan->FailedStep != SwitchedWindow.Step.None) throw ExecErrors.StepFailed(plan->FailedStep, plan->Errno, where, propagation);
            pid = plan->Pid;
            started = true;

            // Not reaped by anyone before this: the pidfd refers to our child, even if it has exited already.
            int pidfd = Libc.PidfdOpen(pid);
            if (pidfd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw NamespaceErrors.Failed(NamespaceOperation.OpenProcess, $"pidfd_open of the started process {pid} in", where, (Errno)errno,
                    "The process was killed and reaped again.");
            }
            for (int k = 0; k < pipes.Count; k++)
            {
                Libc.CloseRaw(pipes[k].Child);
                pipes[k] = pipes[k] with { Child = -1 };
            }
            (StreamWriter? input, StreamReader? output, StreamReader? error) = TakeParentStreams(startInfo, pipes);
            var process = new NamespaceProcess(pid, new SafeFdHandle(pidfd), startInfo, input, output, error);
            if (watch) ChildMonitor.Watch(process);
            return process;
        }
        catch when (started)
        {
            // A child exists but cannot be handed out: kill and reap it, so that nothing is left behind.
            Libc.Kill(pid, Libc.SIGKILL);
            Libc.WaitExited(pid, out _);
            throw;
        }
        finally
        {
            foreach ((int parent, int child, _) in pipes)
            {
                if (parent >= 0) Libc.CloseRaw(parent);
                if (child >= 0) Libc.CloseRaw(child);
            }
            if (actionsInitialized) Libc.SpawnFileActionsDestroy(actions);
            if (attributesInitialized) Libc.SpawnAttributesDestroy(attributes);
        }
    }

    /// <summary>argv (<paramref name="argv0"/>, then <paramref name="arguments"/>), null-terminated, in <paramref name="memory"/>.</summary>
    internal static byte** Argv(NativeAllocations memory, string argv0, IReadOnlyList<string> arguments)
    {
        var argv = (byte**)memory.Alloc<nint>(arguments.Count + 2);
        argv[0] = memory.Utf8(argv0);
        for (int i = 0; i < arguments.Count; i++) argv[i + 1] = memory.Utf8(arguments[i]);
        return argv;
    }

    /// <summary>envp (<paramref name="startInfo"/>'s environment), null-terminated, in <paramref name="memory"/>.</summary>
    internal static byte** Envp(NativeAllocations memory, ProcessStartInfo startInfo)
    {
        var environment = startInfo.Environment.Where(e => e.Value is not null).ToList();
        var envp = (byte**)memory.Alloc<nint>(environment.Count + 1);
        for (int i = 0; i < environment.Count; i++) envp[i] = memory.Utf8($"{environment[i].Key}={environment[i].Value}");
        return envp;
    }

    /// <summary>The shell execvp hands a file the kernel cannot execute (ENOEXEC: no <c>#!</c> line, no known format).</summary>
    internal const string Shell = "/bin/sh";

    /// <summary>
    /// The shell's arguments for such a file, as execvp gives them: the file as given when it has a slash, else the
    /// path it was found at (<paramref name="program"/>), then the program's own arguments.
    /// </summary>
    internal static List<string> ShellArguments(string fileName, string program, IReadOnlyList<string> arguments) =>
        [fileName.Contains('/') ? fileName : program, .. arguments];

    /// <summary>A pipe for each stream <paramref name="startInfo"/> redirects, added to <paramref name="pipes"/> (this
    /// side's end, the child's, the child's descriptor number), so that the caller's cleanup closes whatever was made.</summary>
    internal static void AddRedirectPipes(List<(int Parent, int Child, int Target)> pipes, ProcessStartInfo startInfo, string where)
    {
        if (startInfo.RedirectStandardInput) pipes.Add(MakePipe(childReads: true, 0, where));
        if (startInfo.RedirectStandardOutput) pipes.Add(MakePipe(childReads: false, 1, where));
        if (startInfo.RedirectStandardError) pipes.Add(MakePipe(childReads: false, 2, where));
    }

    /// <summary>
    /// This side's streams of a child's redirected standard input, output and error, made from the parent ends in
    /// <paramref name="pipes"/> with <paramref name="startInfo"/>'s encodings. The streams own those descriptors from
    /// here on: each is marked -1 in <paramref name="pipes"/>, so that the caller's cleanup leaves them alone.
    /// </summary>
    internal static (StreamWriter? Input, StreamReader? Output, StreamReader? Error) TakeParentStreams(ProcessStartInfo startInfo,
        List<(int Parent, int Child, int Target)> pipes)
    {
        int[] ends = [-1, -1, -1];
        for (int k = 0; k < pipes.Count; k++)
        {
            ends[pipes[k].Target] = pipes[k].Parent;
            pipes[k] = pipes[k] with { Parent = -1 };
        }
        return (ends[0] < 0 ? null : new StreamWriter(Pipe(ends[0], PipeDirection.Out), startInfo.StandardInputEncoding ?? DefaultEncoding, 4096) { AutoFlush = true },
                ends[1] < 0 ? null : new StreamReader(Pipe(ends[1], PipeDirection.In), startInfo.StandardOutputEncoding ?? DefaultEncoding, true, 4096),
                ends[2] < 0 ? null : new StreamReader(Pipe(ends[2], PipeDirection.In), startInfo.StandardErrorEncoding ?? DefaultEncoding, true, 4096));
    }

    /// <summary>A pipe for a redirected stream: this side's end, the child's, and the child's descriptor number.</summary>
    private static (int Parent, int Child, int Target) MakePipe(bool childReads, int target, string where)
    {
        if (Libc.Pipe(out int readEnd, out int writeEnd) != 0)
        {
            throw NamespaceErrors.Failed(NamespaceOperation.PrepareSpawn, "pipe2 for a redirected stream of an exec in", where, (Errno)Marshal.GetLastPInvokeError());
        }
        return childReads ? (writeEnd, readEnd, target) : (readEnd, writeEnd, target);
    }

    private static AnonymousPipeClientStream Pipe(int fd, PipeDirection direction) =>
        new(direction, new SafePipeHandle(fd, ownsHandle: true));

    private static void Check(int result, string operation, string where)
    {
        if (result != 0) throw NamespaceErrors.Failed(NamespaceOperation.PrepareSpawn, $"{operation} for an exec in", where, (Errno)result);
    }

    /// <summary>
    /// The arguments after argv[0]: <see cref="ProcessStartInfo.ArgumentList"/> as it is, or
    /// <see cref="ProcessStartInfo.Arguments"/> split as <see cref="Process"/> splits it.
    /// </summary>
    internal static List<string> Arguments(ProcessStartInfo startInfo)
    {
        if (startInfo.ArgumentList.Count > 0)
        {
            if (!string.IsNullOrEmpty(startInfo.Arguments))
            {
                throw new InvalidOperationException("ProcessStartInfo.Arguments and ArgumentList cannot both be used: pick one.");
            }
            return [.. startInfo.ArgumentList];
        }
        return SplitArguments(startInfo.Arguments);
    }

    /// <summary>
    /// Splits a command line by the rules <see cref="Process"/> uses on every platform: spaces and tabs separate,
    /// double quotes group (<c>""</c> inside quotes is a literal quote), and backslashes are literal except before a
    /// double quote, where each pair gives one backslash and an odd one makes the quote literal.
    /// </summary>
    internal static List<string> SplitArguments(string commandLine)
    {
        var result = new List<string>();
        var current = new StringBuilder();
        int i = 0;
        while (true)
        {
            while (i < commandLine.Length && commandLine[i] is ' ' or '\t') i++;
            if (i >= commandLine.Length) return result;
            bool quoted = false;
            current.Clear();
            while (i < commandLine.Length)
            {
                char c = commandLine[i];
                if (c == '\\')
                {
                    int start = i;
                    while (i < commandLine.Length && commandLine[i] == '\\') i++;
                    int slashes = i - start;
                    if (i < commandLine.Length && commandLine[i] == '"')
                    {
                        current.Append('\\', slashes / 2);
                        if (slashes % 2 == 1)
                        {
                            current.Append('"');
                            i++;
                        }
                    }
                    else
                    {
                        current.Append('\\', slashes);
                    }
                    continue;
                }
                if (c == '"')
                {
                    if (quoted && i + 1 < commandLine.Length && commandLine[i + 1] == '"')
                    {
                        current.Append('"');
                        i += 2;
                        continue;
                    }
                    quoted = !quoted;
                    i++;
                    continue;
                }
                if (!quoted && c is ' ' or '\t') break;
                current.Append(c);
                i++;
            }
            result.Add(current.ToString());
        }
    }
}
