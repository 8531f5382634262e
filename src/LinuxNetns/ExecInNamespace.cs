using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using LinuxNetns.Interop;
using LinuxNetns.Kernel;
using LinuxNetns.Logging;
using Microsoft.Extensions.Logging;

namespace LinuxNetns;

/// <summary>
/// Starts a <see cref="Process"/> inside a network namespace exactly as <c>ip netns exec</c> does: the child runs in
/// the namespace, in a private mount namespace of its own where <c>/sys</c> is a fresh sysfs of that namespace
/// (so <c>/sys/class/net</c> lists its interfaces) and the entries of <c>/etc/netns/NAME</c> are bind-mounted over
/// <c>/etc</c> (e.g. its own <c>resolv.conf</c>). Nothing changes for the calling thread or the host's mount table.
/// </summary>
/// <remarks>
/// <para>The returned <see cref="Process"/> is an ordinary child of this process: redirected streams, environment,
/// working directory, <see cref="Process.WaitForExitAsync"/>, <see cref="Process.Kill()"/> and exit codes work as
/// usual. Each exec runs on a new thread that switches, calls <see cref="Process.Start(ProcessStartInfo)"/> (which forks
/// on the calling thread, so the child inherits the namespaces), switches back and ends.</para>
/// <para>Needs CAP_SYS_ADMIN (root). See docs/exec.md for the kernel behaviour it relies on.</para>
/// </remarks>
public static class ExecInNamespace
{
    /// <summary>Starts <paramref name="startInfo"/> inside <paramref name="ns"/>.</summary>
    /// <param name="ns">The namespace: named, opened by path or pid, or anonymous. It must stay open during the call.</param>
    /// <param name="startInfo">What to start. <see cref="ProcessStartInfo.UseShellExecute"/> must be false.</param>
    /// <param name="options">Mount propagation, the <c>/etc/netns</c> entry, logging; null for the defaults.</param>
    /// <returns>The started process; dispose it when done.</returns>
    /// <exception cref="ArgumentException"><paramref name="startInfo"/> has no file name, or uses shell execute.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="ns"/> was disposed.</exception>
    /// <exception cref="NamespacePermissionException">Not running with CAP_SYS_ADMIN (not root).</exception>
    /// <exception cref="NetworkNamespaceException">The program or working directory does not exist, or a kernel step
    /// failed (the message names it, with errno). No child was started.</exception>
    public static Process Start(NetworkNamespace ns, ProcessStartInfo startInfo, ExecOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(startInfo);
        options ??= ExecOptions.Default;
        return StartCore(ns, startInfo, options, options.NamespaceOptions ?? ns.Options);
    }

    /// <summary>Starts <paramref name="startInfo"/> inside the named namespace <c>/run/netns/<paramref name="name"/></c>
    /// (<c>ip netns exec NAME</c>).</summary>
    /// <param name="name">The namespace's name.</param>
    /// <param name="startInfo">What to start. <see cref="ProcessStartInfo.UseShellExecute"/> must be false.</param>
    /// <param name="options">Mount propagation, the <c>/etc/netns</c> entry, run directory, logging; null for the defaults.</param>
    /// <returns>The started process; dispose it when done.</returns>
    /// <exception cref="NamespaceNotFoundException">No namespace of that name exists.</exception>
    /// <inheritdoc cref="Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)" path="/exception"/>
    public static Process Start(string name, ProcessStartInfo startInfo, ExecOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        options ??= ExecOptions.Default;
        NetworkNamespaceOptions nsOptions = options.NamespaceOptions ?? NetworkNamespaceOptions.Default;
        using NetworkNamespace ns = NetworkNamespace.Open(name, nsOptions);
        return StartCore(ns, startInfo, options, nsOptions);
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
        return RunCore(() => StartCore(ns, Captured(startInfo, standardInput), options, nsOptions), standardInput, nsOptions.Logger, cancellationToken);
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
            return StartCore(ns, Captured(startInfo, standardInput), options, nsOptions);
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

    private static Process StartCore(NetworkNamespace ns, ProcessStartInfo startInfo, ExecOptions options, NetworkNamespaceOptions nsOptions)
    {
        if (string.IsNullOrEmpty(startInfo.FileName))
            throw new ArgumentException("ProcessStartInfo.FileName is empty: name the program to start.", nameof(startInfo));
        if (startInfo.UseShellExecute)
            throw new ArgumentException("ProcessStartInfo.UseShellExecute must be false: exec starts a program, as `ip netns exec` does.", nameof(startInfo));
        string where = ns.Name ?? ns.Path;
        string? etcName = options.BindEtc ? options.EtcName ?? ns.Name : null;
        if (etcName is not null) NamespaceName.Validate(etcName, nameof(ExecOptions.EtcName));

        // Everything that can be checked is checked before any thread switches: a failure here starts nothing.
        CheckPrivilege(where);
        CheckProgram(startInfo, where);
        ILogger log = nsOptions.Logger;
        string? etcDirectory = etcName is null ? null : Path.Combine(nsOptions.EtcDirectory, etcName);
        ExecMountNamespace plan = ExecMountNamespace.Prepare(etcDirectory, etcName ?? ns.Name ?? "sysfs", options.MountPropagation, log);
        log.ExecSequence(startInfo.FileName, where, options.MountPropagation == MountPropagation.Slave ? "slave" : "private",
            plan.SysfsReadOnly ? " (read-only)" : "", plan.BindCount, etcDirectory ?? "(none)");

        // No runtime thread may be born on the exec thread: start them (and the Process machinery) from home first.
        ProcessWarmup.Ensure();

        // Threads already in the target namespace (its worker, callers inside a scope) are not the exec's doing.
        bool checkStrays = log.IsEnabled(LogLevel.Warning);
        HashSet<int>? alreadyThere = checkStrays
            ? ThreadNamespaces.ThreadsWhere("net", id => id == ns.Id).Select(t => t.ThreadId).ToHashSet()
            : null;

        ExecThread exec;
        SafeFdHandle fd = ns.Fd;
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added); // ObjectDisposedException for a disposed namespace
            exec = ExecThread.Run(fd.Fd, plan, startInfo);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(nameof(NetworkNamespace), $"The namespace handle of {where} was disposed.");
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }

        if (!exec.Restored) log.ExecRestoreFailed(exec.ThreadId);
        if (exec.StartNetworkNamespace is { } start && start != ThreadNamespaces.HomeId)
            log.ExecThreadNotAtHome(exec.ThreadId, startInfo.FileName, start, ThreadNamespaces.HomeId);
        for (int i = 0; i < exec.BindErrnos.Length; i++)
        {
            if (exec.BindErrnos[i] != 0) log.ExecBindFailed(plan.BindSourcePaths[i], plan.BindTargetPaths[i], Errno.Describe(exec.BindErrnos[i]));
        }
        if (exec.FailedStep != ExecMountNamespace.Step.None) throw StepFailed(exec.FailedStep, exec.Errno, where, options.MountPropagation);
        if (exec.StartError is not null) throw StartFailed(exec.StartError, startInfo, where);
        Process process = exec.Process ?? throw new NetworkNamespaceException("start process", startInfo.FileName, 0,
            $"Starting \"{startInfo.FileName}\" in {where} failed: Process.Start started no process.");

        log.ExecStarted(process.Id, startInfo.FileName, where);
        if (checkStrays)
        {
            // A thread born from the exec thread while it was switched: in its private mount namespace, or (born between
            // setns(net) and unshare(NEWNS), or between restoring mnt and net) with home mnt but the target's net.
            var strays = new Dictionary<int, StrayThread>();
            if (exec.MountNamespace is { } mnt)
            {
                foreach (StrayThread t in ThreadNamespaces.ThreadsWhere("mnt", id => id == mnt)) strays[t.ThreadId] = t;
            }
            foreach (StrayThread t in ThreadNamespaces.ThreadsWhere("net", id => id == ns.Id))
            {
                // The library's own threads ("netns:…": a concurrent exec, the namespace's worker) are there on purpose.
                if (!alreadyThere!.Contains(t.ThreadId) && !t.Name.StartsWith("netns:", StringComparison.Ordinal)) strays.TryAdd(t.ThreadId, t);
            }
            foreach (StrayThread t in strays.Values) log.ExecStrayThread(t.ThreadId, t.Name, startInfo.FileName, where);
        }
        return process;
    }

    private static void CheckPrivilege(string where)
    {
        if (Libc.HasEffectiveCapability(Libc.CAP_SYS_ADMIN) == false)
        {
            throw new NamespacePermissionException("exec in network namespace", where, Libc.EPERM,
                $"exec in network namespace \"{where}\" failed: {Errno.Describe(Libc.EPERM)}. It needs CAP_SYS_ADMIN (setns, unshare and mount, as `ip netns exec`): run as root.");
        }
    }

    /// <summary>The program and working directory must exist: the same lookup as Process.Start (path as given, the
    /// host executable's directory, the current directory, then PATH).</summary>
    private static void CheckProgram(ProcessStartInfo startInfo, string where)
    {
        string file = startInfo.FileName;
        if (!string.IsNullOrWhiteSpace(startInfo.WorkingDirectory) && !Directory.Exists(startInfo.WorkingDirectory))
        {
            throw new NetworkNamespaceException("exec", startInfo.WorkingDirectory, Libc.ENOENT,
                $"exec \"{file}\" in {where} failed: the working directory \"{startInfo.WorkingDirectory}\" does not exist.");
        }

        string? resolved = Resolve(file);
        if (resolved is null)
        {
            throw new NetworkNamespaceException("exec", file, Libc.ENOENT,
                Path.IsPathRooted(file)
                    ? $"exec \"{file}\" in {where} failed: {Errno.Describe(Libc.ENOENT)}. Check the path."
                    : $"exec \"{file}\" in {where} failed: program not found in the current directory or PATH ({Environment.GetEnvironmentVariable("PATH")}). Pass a full path.");
        }
        if (Directory.Exists(resolved))
        {
            throw new NetworkNamespaceException("exec", resolved, Libc.EISDIR,
                $"exec \"{file}\" in {where} failed: \"{resolved}\" is a directory, not a program.");
        }
        if (Libc.Access(resolved, Libc.X_OK) != 0)
        {
            int errno = Libc.LastErrno;
            throw new NetworkNamespaceException("exec", resolved, errno,
                $"exec \"{file}\" in {where} failed: \"{resolved}\" is not executable: {Errno.Describe(errno)}.");
        }
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

    private static NetworkNamespaceException StepFailed(ExecMountNamespace.Step step, int errno, string where, MountPropagation propagation)
    {
        (string operation, string? advice) = step switch
        {
            ExecMountNamespace.Step.SaveNamespaces => ("open /proc/thread-self/ns of the exec thread", "Is /proc mounted?"),
            ExecMountNamespace.Step.SetnsNetwork => ("setns(CLONE_NEWNET) into", null),
            ExecMountNamespace.Step.UnshareMount => ("unshare(CLONE_NEWNS) for an exec in", null),
            ExecMountNamespace.Step.Propagation => (propagation == MountPropagation.Slave
                ? "mount --make-rslave / for an exec in" : "mount --make-rprivate / for an exec in", null),
            _ => ("mount of /sys for an exec in", null),
        };
        return Errno.Exception(operation, where, errno, advice);
    }

    private static Exception StartFailed(Exception error, ProcessStartInfo startInfo, string where)
    {
        if (error is Win32Exception w)
        {
            return new NetworkNamespaceException("start process", startInfo.FileName, w.NativeErrorCode,
                $"Starting \"{startInfo.FileName}\" in {where} failed: {w.Message}", w);
        }
        ExceptionDispatchInfo.Capture(error).Throw();
        return error; // not reached
    }

    private static async Task<ExecResult> RunCore(Func<Process> start, string? standardInput, ILogger log, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using Process process = start();
        // Process.Dispose leaves streams that were read synchronously open, and their pipes with them until a
        // garbage collection: close all three here, whatever happens.
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
            catch (Exception e) when (e is InvalidOperationException or Win32Exception)
            {
                // It exited on its own meanwhile.
            }
            // Reaped: Process waits for the child's exit status (the runtime's SIGCHLD handling collects it).
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
