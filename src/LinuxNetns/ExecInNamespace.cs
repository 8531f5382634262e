using System.Diagnostics;
using LinuxNetns.Exec;
using LinuxNetns.Interop;
using LinuxNetns.Logging;
using LinuxNetns.Mounts;
using LinuxNetns.Threads;
using Microsoft.Extensions.Logging;

namespace LinuxNetns;

/// <summary>
/// Starts a process inside a network namespace exactly as <c>ip netns exec</c> does: the child runs in the namespace,
/// in a mount namespace where <c>/sys</c> is a fresh sysfs of that namespace (so <c>/sys/class/net</c> lists its
/// interfaces) and the entries of <c>/etc/netns/NAME</c> are bind-mounted over <c>/etc</c> (e.g. its own
/// <c>resolv.conf</c>). Nothing changes for the calling thread or the host's mount table.
/// </summary>
/// <remarks>
/// <para>The child is a <see cref="NamespaceProcess"/>: redirected streams, environment, working directory,
/// <see cref="NamespaceProcess.WaitForExitAsync"/>, <see cref="NamespaceProcess.Kill(bool)"/> and exit codes work as
/// with <see cref="Process"/>. No managed code of this process ever runs in the namespace: the library's window thread
/// makes only raw syscalls there (setns into the namespace and into a mount namespace prepared once for it, then
/// posix_spawn) and switches back, so no runtime thread can be born inside (docs/exec.md).</para>
/// <para>Needs CAP_SYS_ADMIN (root) and Linux 5.3 (pidfd). See docs/exec.md for the kernel behaviour it relies on. A host
/// of a virtual network built without root is the exception: its helper process starts the child inside, and the
/// child is its child, not this process's (docs/rootless.md).</para>
/// </remarks>
public static class ExecInNamespace
{
    /// <summary>Starts <paramref name="startInfo"/> inside <paramref name="ns"/>.</summary>
    /// <param name="ns">The namespace: named, opened by path or pid, or anonymous. It must stay open during the call.</param>
    /// <param name="startInfo">What to start. <see cref="ProcessStartInfo.UseShellExecute"/> must be false.</param>
    /// <param name="options">Mount propagation, the <c>/etc/netns</c> entry, logging; null for the defaults.</param>
    /// <returns>The started process; dispose it when done (that closes its redirected streams; it keeps running).</returns>
    /// <exception cref="ArgumentException"><paramref name="startInfo"/> has no file name, uses shell execute, or sets a user name.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="startInfo"/> sets both Arguments and ArgumentList.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="ns"/> was disposed.</exception>
    /// <exception cref="NamespacePermissionException">Not running with CAP_SYS_ADMIN (not root).</exception>
    /// <exception cref="NetworkNamespaceException">The program or working directory does not exist, or a kernel step
    /// failed (the message names it, with errno). No child was started.</exception>
    public static NamespaceProcess Start(NetworkNamespace ns, ProcessStartInfo startInfo, ExecOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(startInfo);
        options ??= ExecOptions.Default;
        return StartCore(ns, startInfo, options, options.NamespaceOptions ?? ns.Options, byName: false);
    }

    /// <summary>Starts <paramref name="startInfo"/> inside the named namespace <c>/run/netns/<paramref name="name"/></c>
    /// (<c>ip netns exec NAME</c>).</summary>
    /// <param name="name">The namespace's name.</param>
    /// <param name="startInfo">What to start. <see cref="ProcessStartInfo.UseShellExecute"/> must be false.</param>
    /// <param name="options">Mount propagation, the <c>/etc/netns</c> entry, run directory, logging; null for the defaults.</param>
    /// <returns>The started process; dispose it when done (that closes its redirected streams; it keeps running).</returns>
    /// <exception cref="NamespaceNotFoundException">No namespace of that name exists.</exception>
    /// <inheritdoc cref="Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)" path="/exception"/>
    public static NamespaceProcess Start(string name, ProcessStartInfo startInfo, ExecOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        options ??= ExecOptions.Default;
        NetworkNamespaceOptions nsOptions = options.NamespaceOptions ?? NetworkNamespaceOptions.Default;
        using NetworkNamespace ns = NetworkNamespace.Open(name, nsOptions);
        return StartCore(ns, startInfo, options, nsOptions, byName: true);
    }

    /// <summary>
    /// Runs <paramref name="startInfo"/> inside <paramref name="ns"/> to completion and returns its exit code and
    /// output. Standard output and error are always captured (this sets their <c>Redirect…</c> flags on
    /// <paramref name="startInfo"/>).
    /// </summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="startInfo">What to run.</param>
    /// <param name="standardInput">Text written to the child's standard input, which is then closed; null leaves
    /// standard input as <paramref name="startInfo"/> says (if it is redirected, it is closed at once).</param>
    /// <param name="options">Mount propagation, the <c>/etc/netns</c> entry, logging; null for the defaults.</param>
    /// <param name="cancellationToken">Kills the child and its descendants, waits until it is reaped, then throws
    /// <see cref="OperationCanceledException"/>.</param>
    /// <returns>Exit code, standard output and standard error.</returns>
    /// <inheritdoc cref="Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)" path="/exception"/>
    public static Task<ExecResult> RunAsync(NetworkNamespace ns, ProcessStartInfo startInfo, string? standardInput = null,
        ExecOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(startInfo);
        options ??= ExecOptions.Default;
        NetworkNamespaceOptions nsOptions = options.NamespaceOptions ?? ns.Options;
        return RunCore(() => StartCore(ns, Captured(startInfo, standardInput), options, nsOptions, byName: false), standardInput, nsOptions.Logger, cancellationToken);
    }

    /// <summary>Runs <paramref name="startInfo"/> inside the named namespace to completion (<c>ip netns exec NAME …</c>).
    /// Standard output and error are always captured (this sets their <c>Redirect…</c> flags on <paramref name="startInfo"/>).</summary>
    /// <param name="name">The namespace's name.</param>
    /// <param name="startInfo">What to run.</param>
    /// <param name="standardInput">Text written to the child's standard input, which is then closed; null leaves
    /// standard input as <paramref name="startInfo"/> says (if it is redirected, it is closed at once).</param>
    /// <param name="options">Mount propagation, the <c>/etc/netns</c> entry, run directory, logging; null for the defaults.</param>
    /// <param name="cancellationToken">Kills the child and its descendants, waits until it is reaped, then throws
    /// <see cref="OperationCanceledException"/>.</param>
    /// <returns>Exit code, standard output and standard error.</returns>
    /// <exception cref="NamespaceNotFoundException">No namespace of that name exists.</exception>
    /// <inheritdoc cref="Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)" path="/exception"/>
    public static Task<ExecResult> RunAsync(string name, ProcessStartInfo startInfo, string? standardInput = null,
        ExecOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        options ??= ExecOptions.Default;
        NetworkNamespaceOptions nsOptions = options.NamespaceOptions ?? NetworkNamespaceOptions.Default;
        return RunCore(() =>
        {
            using NetworkNamespace ns = NetworkNamespace.Open(name, nsOptions);
            return StartCore(ns, Captured(startInfo, standardInput), options, nsOptions, byName: true);
        }, standardInput, nsOptions.Logger, cancellationToken);
    }

    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/> inside <paramref name="ns"/> to completion.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="fileName">The program: a path, or a name looked up in PATH.</param>
    /// <param name="arguments">Its arguments, passed as they are (no shell parsing).</param>
    /// <param name="cancellationToken">Kills the child and its descendants, waits until it is reaped, then throws
    /// <see cref="OperationCanceledException"/>.</param>
    /// <returns>Exit code, standard output and standard error.</returns>
    /// <inheritdoc cref="Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)" path="/exception"/>
    public static Task<ExecResult> RunAsync(NetworkNamespace ns, string fileName, IEnumerable<string> arguments,
        CancellationToken cancellationToken = default) =>
        RunAsync(ns, fileName, arguments, null, cancellationToken);

    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/> inside <paramref name="ns"/> to
    /// completion, with <paramref name="options"/>.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="fileName">The program: a path, or a name looked up in PATH.</param>
    /// <param name="arguments">Its arguments, passed as they are (no shell parsing).</param>
    /// <param name="options">Mount propagation, the <c>/etc/netns</c> entry, logging; null for the defaults.</param>
    /// <param name="cancellationToken">Kills the child and its descendants, waits until it is reaped, then throws
    /// <see cref="OperationCanceledException"/>.</param>
    /// <returns>Exit code, standard output and standard error.</returns>
    /// <inheritdoc cref="Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)" path="/exception"/>
    public static Task<ExecResult> RunAsync(NetworkNamespace ns, string fileName, IEnumerable<string> arguments,
        ExecOptions? options, CancellationToken cancellationToken = default) =>
        RunAsync(ns, StartInfo(fileName, arguments), null, options, cancellationToken);

    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/> inside the named namespace to completion.</summary>
    /// <param name="name">The namespace's name.</param>
    /// <param name="fileName">The program: a path, or a name looked up in PATH.</param>
    /// <param name="arguments">Its arguments, passed as they are (no shell parsing).</param>
    /// <param name="cancellationToken">Kills the child and its descendants, waits until it is reaped, then throws
    /// <see cref="OperationCanceledException"/>.</param>
    /// <returns>Exit code, standard output and standard error.</returns>
    /// <exception cref="NamespaceNotFoundException">No namespace of that name exists.</exception>
    /// <inheritdoc cref="Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)" path="/exception"/>
    public static Task<ExecResult> RunAsync(string name, string fileName, IEnumerable<string> arguments,
        CancellationToken cancellationToken = default) =>
        RunAsync(name, fileName, arguments, null, cancellationToken);

    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/> inside the named namespace to
    /// completion, with <paramref name="options"/> (<c>ip netns exec NAME PROGRAM ARGS…</c>).</summary>
    /// <param name="name">The namespace's name.</param>
    /// <param name="fileName">The program: a path, or a name looked up in PATH.</param>
    /// <param name="arguments">Its arguments, passed as they are (no shell parsing).</param>
    /// <param name="options">Mount propagation, the <c>/etc/netns</c> entry, run directory, logging; null for the defaults.</param>
    /// <param name="cancellationToken">Kills the child and its descendants, waits until it is reaped, then throws
    /// <see cref="OperationCanceledException"/>.</param>
    /// <returns>Exit code, standard output and standard error.</returns>
    /// <exception cref="NamespaceNotFoundException">No namespace of that name exists.</exception>
    /// <inheritdoc cref="Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)" path="/exception"/>
    public static Task<ExecResult> RunAsync(string name, string fileName, IEnumerable<string> arguments,
        ExecOptions? options, CancellationToken cancellationToken = default) =>
        RunAsync(name, StartInfo(fileName, arguments), null, options, cancellationToken);

    // ---- implementation ------------------------------------------------------------------------------

    private static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        var psi = new ProcessStartInfo(fileName) { UseShellExecute = false };
        foreach (string a in arguments) psi.ArgumentList.Add(a);
        return psi;
    }

    private static ProcessStartInfo Captured(ProcessStartInfo startInfo, string? standardInput)
    {
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        if (standardInput is not null) startInfo.RedirectStandardInput = true;
        return startInfo;
    }

    /// <summary>
    /// <see cref="Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)"/> with the child's standard streams given as
    /// descriptors (dup2'd onto 0, 1 and 2; the caller keeps its own): the helper of a network built without root
    /// starts processes with the streams its client sent (docs/rootless.md). The child is not yet watched: it is not
    /// reaped, so its pid stays valid however soon it exits, until the caller hands it to <see cref="ChildMonitor.Watch"/>.
    /// </summary>
    internal static NamespaceProcess StartWithStreams(NetworkNamespace ns, ProcessStartInfo startInfo, ExecOptions options, int[] streams) =>
        StartCore(ns, startInfo, options, options.NamespaceOptions ?? ns.Options, byName: false, streams);

    /// <summary>
    /// Replaces this process with <paramref name="startInfo"/>'s program inside <paramref name="ns"/>, as
    /// <c>ip netns exec NAME cmd</c> makes ip become the command: the same checks, mount namespace and /etc/netns binds as
    /// <see cref="Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)"/>, then the calling thread joins them and calls
    /// execve (<see cref="ProcessReplacer"/>). For the netns tool: nothing of this process runs after it. Returns only by
    /// throwing. Redirections of <paramref name="startInfo"/> are ignored: the program has this process's streams.
    /// </summary>
    internal static void ReplaceProcess(NetworkNamespace ns, ProcessStartInfo startInfo, ExecOptions options) =>
        StartCore(ns, startInfo, options, options.NamespaceOptions ?? ns.Options, byName: false, replace: true);

    private static NamespaceProcess StartCore(NetworkNamespace ns, ProcessStartInfo startInfo, ExecOptions options,
        NetworkNamespaceOptions nsOptions, bool byName, int[]? streams = null, bool replace = false)
    {
        if (string.IsNullOrEmpty(startInfo.FileName))
            throw new ArgumentException("ProcessStartInfo.FileName is empty: name the program to start.", nameof(startInfo));
        if (startInfo.UseShellExecute)
            throw new ArgumentException("ProcessStartInfo.UseShellExecute must be false: exec starts a program, as `ip netns exec` does.", nameof(startInfo));
        if (!string.IsNullOrEmpty(startInfo.UserName))
            throw new ArgumentException("ProcessStartInfo.UserName is not supported by exec: start the program through a tool that changes the user (setpriv, runuser).", nameof(startInfo));
        string where = ns.Name ?? ns.Path;
        string? etcName = options.BindEtc ? options.EtcName ?? ns.Name : null;
        if (etcName is not null) NamespaceName.Validate(etcName, nameof(ExecOptions.EtcName));

        // Everything that can be checked is checked before any thread switches: a failure here starts nothing.
        List<string> arguments = ChildSpawner.Arguments(startInfo);
        if (ns.Agent is null) CheckPrivilege(where);
        string program = CheckProgram(startInfo, where);
        string workingDirectory = string.IsNullOrEmpty(startInfo.WorkingDirectory)
            ? Directory.GetCurrentDirectory()
            : Path.GetFullPath(startInfo.WorkingDirectory);
        if (!replace) ChildSpawner.CheckKernel(where); // pidfds, to watch a child: a replaced process has none
        ILogger log = nsOptions.Logger;
        if (ns.Agent is { } agent)
        {
            // A namespace this process cannot enter: its agent starts the child from inside (docs/rootless.md).
            ObjectDisposedException.ThrowIf(ns.Fd.IsClosed, ns);
            NamespaceProcess started = agent.Start(startInfo, program, arguments, workingDirectory, options);
            log.ExecStarted(started.Id, startInfo.FileName, where);
            return started;
        }
        string? etcDirectory = etcName is null ? null : Path.Combine(nsOptions.EtcDirectory, etcName);

        SafeFdHandle fd = ns.Fd;
        bool added = false;
        NamespaceProcess process;
        try
        {
            // Held for the whole exec: the windows' unmanaged plans carry its raw number.
            fd.DangerousAddRef(ref added); // ObjectDisposedException for a disposed namespace
            string sysfsSource = etcName ?? ns.Name ?? "sysfs";
            if (replace) ReplaceWith(startInfo, program, arguments, workingDirectory, fd.Fd, etcDirectory, sysfsSource, where, options, log);
            PreparedMountNamespace prepared = PreparedMountNamespace.Cache.Acquire(ns, fd.Fd, etcDirectory, sysfsSource,
                options.MountPropagation, byName, log);
            try
            {
                for (int i = 0; i < prepared.BindErrnos.Length; i++)
                {
                    if (prepared.BindErrnos[i] != 0) ReportBindFailure(prepared.Etc.Entries[i].Source, prepared.Etc.Entries[i].Target, (Errno)prepared.BindErrnos[i], options, log);
                }
                log.ExecSequence(startInfo.FileName, where, prepared.Id);
                try
                {
                    process = ChildSpawner.Spawn(startInfo, program, arguments, workingDirectory, fd.Fd, prepared.Mount.Fd, where, options.MountPropagation, streams, watch: streams is null);
                }
                catch (NetworkNamespaceException e) when (options.ShellForUnknownFormats && e.Operation == NamespaceOperation.Spawn && e.Errno == Errno.ENOEXEC)
                {
                    // Nothing was started: the shell gets the file, as execvp does (ExecOptions.ShellForUnknownFormats).
                    process = ChildSpawner.Spawn(startInfo, ChildSpawner.Shell, ChildSpawner.ShellArguments(startInfo.FileName, program, arguments),
                        workingDirectory, fd.Fd, prepared.Mount.Fd, where, options.MountPropagation, streams, watch: streams is null, argv0: ChildSpawner.Shell);
                }
            }
            finally
            {
                prepared.Mount.DangerousRelease();
            }
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(nameof(NetworkNamespace), $"The namespace handle of {where} was disposed.");
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }

        log.ExecStarted(process.Id, startInfo.FileName, where);
        return process;
    }

    /// <summary>
    /// <see cref="ReplaceProcess"/>: the calling thread makes the exec's mount namespace itself, reports failed binds,
    /// and becomes the program (<see cref="ProcessReplacer"/>). No prepared namespace is kept and no library thread is
    /// started for it: nothing of this process runs afterwards. Returns only by throwing.
    /// </summary>
    private static void ReplaceWith(ProcessStartInfo startInfo, string program, List<string> arguments, string workingDirectory,
        int netFd, string? etcDirectory, string sysfsSource, string where, ExecOptions options, ILogger log)
    {
        EtcSnapshot etc = EtcSnapshot.Read(etcDirectory, log);
        using var replacer = new ProcessReplacer(startInfo, program, arguments, workingDirectory); // made at home
        RuntimeEndpoints.Remove(); // the runtime's own files in TMPDIR, which its shutdown would have removed
        int[] bindErrnos = PreparedMountNamespace.MakeHere(netFd, etc, sysfsSource, options.MountPropagation, where, out bool readOnly);
        for (int i = 0; i < bindErrnos.Length; i++)
        {
            if (bindErrnos[i] != 0) ReportBindFailure(etc.Entries[i].Source, etc.Entries[i].Target, (Errno)bindErrnos[i], options, log);
        }
        log.ExecReplacing(startInfo.FileName, where, options.MountPropagation == MountPropagation.Slave ? "slave" : "private",
            readOnly ? " (read-only)" : "", bindErrnos.Length, etcDirectory ?? "(none)");
        replacer.Exec(where);
    }

    /// <summary>A failed <c>/etc/netns</c> bind is a warning, as with iproute2: logged, handed to the caller's handler, and the program still starts.</summary>
    private static void ReportBindFailure(string entry, string target, Errno errno, ExecOptions options, ILogger log)
    {
        log.ExecBindFailed(entry, target, NamespaceErrors.Describe(errno));
        string advice = errno == Errno.ENOENT
            ? $"A bind needs an existing target: create \"{target}\" on the host, or remove \"{entry}\"."
            : $"Check \"{entry}\" and \"{target}\".";
        options.EtcBindFailed?.Invoke(new EtcBindException(entry, target, errno,
            $"Bind \"{entry}\" -> \"{target}\" failed: {NamespaceErrors.Describe(errno)}. The program sees the host's \"{target}\". {advice}"));
    }

    private static void CheckPrivilege(string where)
    {
        if (Libc.HasEffectiveCapability(Libc.CAP_SYS_ADMIN) == false)
        {
            throw new NamespacePermissionException(NamespaceOperation.Exec, where, Errno.EPERM,
                $"exec in network namespace \"{where}\" failed: {NamespaceErrors.Describe(Errno.EPERM)}. It needs CAP_SYS_ADMIN (setns, unshare and mount, as `ip netns exec`): run as root.");
        }
    }

    /// <summary>The program and working directory must exist: the same lookup as Process.Start (path as given, the
    /// host executable's directory, the current directory, then PATH).</summary>
    private static string CheckProgram(ProcessStartInfo startInfo, string where)
    {
        string file = startInfo.FileName;
        if (!string.IsNullOrWhiteSpace(startInfo.WorkingDirectory) && !Directory.Exists(startInfo.WorkingDirectory))
        {
            throw new NetworkNamespaceException(NamespaceOperation.ResolveProgram, startInfo.WorkingDirectory, Errno.ENOENT,
                $"exec \"{file}\" in {where} failed: the working directory \"{startInfo.WorkingDirectory}\" does not exist.");
        }

        string? resolved = Resolve(file);
        if (resolved is null)
        {
            throw new NetworkNamespaceException(NamespaceOperation.ResolveProgram, file, Errno.ENOENT,
                Path.IsPathRooted(file)
                    ? $"exec \"{file}\" in {where} failed: {NamespaceErrors.Describe(Errno.ENOENT)}. Check the path."
                    : $"exec \"{file}\" in {where} failed: program not found in the current directory or PATH ({Environment.GetEnvironmentVariable("PATH")}). Pass a full path.");
        }
        if (Directory.Exists(resolved))
        {
            throw new NetworkNamespaceException(NamespaceOperation.ResolveProgram, resolved, Errno.EISDIR,
                $"exec \"{file}\" in {where} failed: \"{resolved}\" is a directory, not a program.");
        }
        if (Libc.Access(resolved, Libc.X_OK) != 0)
        {
            int errno = Libc.LastErrno;
            throw new NetworkNamespaceException(NamespaceOperation.ResolveProgram, resolved, (Errno)errno,
                $"exec \"{file}\" in {where} failed: \"{resolved}\" is not executable: {NamespaceErrors.Describe(errno)}.");
        }
        return Path.GetFullPath(resolved);
    }

    private static string? Resolve(string file)
    {
        if (Path.IsPathRooted(file)) return File.Exists(file) || Directory.Exists(file) ? file : null;
        if (Environment.ProcessPath is { } exe && Path.GetDirectoryName(exe) is { } exeDir)
        {
            string beside = Path.Combine(exeDir, file);
            if (File.Exists(beside)) return beside;
        }
        string inCwd = Path.Combine(Directory.GetCurrentDirectory(), file);
        if (File.Exists(inCwd)) return inCwd;
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, file);
            if (File.Exists(candidate) && Libc.Access(candidate, Libc.X_OK) == 0) return candidate;
        }
        return null;
    }

    private static async Task<ExecResult> RunCore(Func<NamespaceProcess> start, string? standardInput, ILogger log, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using NamespaceProcess process = start();
        // Closed here whatever happens, with their pipes.
        using StreamReader output = process.StandardOutput, error = process.StandardError;
        using StreamWriter? input = process.StartInfo.RedirectStandardInput ? process.StandardInput : null;
        Task<string> stdout = output.ReadToEndAsync(CancellationToken.None);
        Task<string> stderr = error.ReadToEndAsync(CancellationToken.None);
        Task stdin = input is null ? Task.CompletedTask : WriteInput(input, standardInput);
        try
        {
            await Task.WhenAll(process.WaitForExitAsync(CancellationToken.None), stdout, stderr, stdin).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (NetworkNamespaceException)
            {
                // Not killable (it cannot be, as our own child): waiting below still ends when it exits.
            }
            // Reaped by the library's child monitor.
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            log.ExecCancelled(process.Id, process.StartInfo.FileName);
            _ = stdout.ContinueWith(static t => t.Exception, TaskScheduler.Default);
            _ = stderr.ContinueWith(static t => t.Exception, TaskScheduler.Default);
            throw;
        }
        return new ExecResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static async Task WriteInput(StreamWriter input, string? text)
    {
        try
        {
            if (text is not null) await input.WriteAsync(text).ConfigureAwait(false);
            input.Close();
        }
        catch (IOException)
        {
            // The child exited (or closed its stdin) without reading everything: not an error of the run.
        }
    }
}
