using System.Diagnostics;
using System.Globalization;
using LinuxNetns.Interop;

namespace LinuxNetns;

/// <summary>
/// A process started inside a network namespace by <see cref="ExecInNamespace.Start(NetworkNamespace, ProcessStartInfo, ExecOptions?)"/>:
/// a child of this process, with what <see cref="Process"/> offers for a child: its redirected streams, waiting
/// (blocking or asynchronous), its exit code and killing it (or its whole tree).
/// </summary>
/// <remarks>
/// It is not a <see cref="Process"/>: the runtime can only start a <see cref="Process"/> from a thread in the
/// namespace, which the library never lets run managed code (docs/exec.md). The child is watched through a pidfd, so
/// <see cref="Kill()"/> never signals a reused pid, and the library reaps it when it exits, whether or not this object
/// is still referenced or disposed. Disposing closes this side of the redirected streams; the child keeps running.
/// In a host of a network built without root, the child is the network's helper's; the helper reaps it and reports
/// its exit (-1 when the network was disposed first, which kills it), and <see cref="Kill()"/> works the same.
/// </remarks>
public sealed class NamespaceProcess : IDisposable
{
    private readonly SafeFdHandle _pidfd;
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StreamWriter? _standardInput;
    private readonly StreamReader? _standardOutput;
    private readonly StreamReader? _standardError;

    internal NamespaceProcess(int pid, SafeFdHandle pidfd, ProcessStartInfo startInfo,
        StreamWriter? standardInput, StreamReader? standardOutput, StreamReader? standardError)
    {
        Id = pid;
        _pidfd = pidfd;
        StartInfo = startInfo;
        _standardInput = standardInput;
        _standardOutput = standardOutput;
        _standardError = standardError;
    }

    /// <summary>The child's process id (in this process's pid namespace).</summary>
    public int Id { get; }

    /// <summary>What it was started with.</summary>
    public ProcessStartInfo StartInfo { get; }

    /// <summary>Writes to the child's standard input (auto-flushed); close it to send end-of-file.</summary>
    /// <exception cref="InvalidOperationException"><see cref="ProcessStartInfo.RedirectStandardInput"/> was false.</exception>
    public StreamWriter StandardInput => _standardInput ?? throw NotRedirected("StandardInput", "RedirectStandardInput");

    /// <summary>Reads the child's standard output.</summary>
    /// <exception cref="InvalidOperationException"><see cref="ProcessStartInfo.RedirectStandardOutput"/> was false.</exception>
    public StreamReader StandardOutput => _standardOutput ?? throw NotRedirected("StandardOutput", "RedirectStandardOutput");

    /// <summary>Reads the child's standard error.</summary>
    /// <exception cref="InvalidOperationException"><see cref="ProcessStartInfo.RedirectStandardError"/> was false.</exception>
    public StreamReader StandardError => _standardError ?? throw NotRedirected("StandardError", "RedirectStandardError");

    /// <summary>True once the child has exited and been reaped.</summary>
    public bool HasExited => _exit.Task.IsCompleted;

    /// <summary>
    /// The exit status; 128 + the signal number when a signal killed it (as <see cref="Process.ExitCode"/> and a
    /// shell report it); -1 when its status was collected by someone else (a SIGCHLD handler reaping every child).
    /// </summary>
    /// <exception cref="InvalidOperationException">It has not exited yet.</exception>
    public int ExitCode => _exit.Task.IsCompleted
        ? _exit.Task.Result
        : throw new InvalidOperationException($"Process {Id} ({StartInfo.FileName}) has not exited yet: wait for it first (WaitForExit, WaitForExitAsync).");

    /// <summary>Waits until the child has exited.</summary>
    public void WaitForExit() => _exit.Task.GetAwaiter().GetResult();

    /// <summary>Waits at most <paramref name="timeout"/>; true when the child has exited.</summary>
    public bool WaitForExit(TimeSpan timeout) => _exit.Task.Wait(timeout);

    /// <summary>Completes when the child has exited.</summary>
    /// <param name="cancellationToken">Stops waiting (the child keeps running).</param>
    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _exit.Task.WaitAsync(cancellationToken);

    /// <summary>Kills the child with SIGKILL; nothing when it has already exited.</summary>
    public void Kill() => Kill(entireProcessTree: false);

    /// <summary>Kills the child with SIGKILL, and with <paramref name="entireProcessTree"/> all its descendants too;
    /// nothing when it has already exited.</summary>
    public void Kill(bool entireProcessTree)
    {
        // The descendants first found, then the child killed (through its pidfd), then them: killed first, the
        // child's children would be re-parented and no longer found below it.
        List<int> descendants = entireProcessTree ? Descendants(Id) : [];
        try
        {
            if (Libc.PidfdSendSignal(_pidfd, Libc.SIGKILL) != 0)
            {
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno != Libc.ESRCH) throw NamespaceErrors.Failed(NamespaceOperation.SignalProcess, "kill (pidfd_send_signal SIGKILL)", $"process {Id}", (Errno)errno);
            }
        }
        catch (ObjectDisposedException)
        {
            return; // reaped: it has exited
        }
        foreach (int pid in descendants) Libc.Kill(pid, Libc.SIGKILL);
    }

    /// <summary>Closes this side of the redirected streams. The child is not killed, and is still reaped when it exits.</summary>
    public void Dispose()
    {
        _standardInput?.Dispose();
        _standardOutput?.Dispose();
        _standardError?.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Id} ({StartInfo.FileName})";

    /// <summary>
    /// True once the child was found killed (or dumped) by a signal rather than exited; its <see cref="ExitCode"/> is
    /// then 128 + the signal. For the netns tool, whose batch mode ends when a command dies of a signal, as ip's does.
    /// </summary>
    internal bool KilledBySignal { get; private set; }

    /// <summary>
    /// For a child that another process started and reaps (<see cref="Delegated.NamespaceAgent"/>): it reports the exit
    /// here, as <see cref="Reap"/> would have found it. Closes the pidfd.
    /// </summary>
    internal void ReportExit(int code, bool killedBySignal)
    {
        KilledBySignal = killedBySignal;
        _pidfd.Dispose();
        _exit.TrySetResult(code);
    }

    /// <summary>The pidfd, for the monitor's poll (valid until <see cref="Reap"/>).</summary>
    internal int PidfdForMonitor => _pidfd.Fd;

    /// <summary>Called by the monitor once the pidfd is readable: collects the exit status and closes the pidfd.</summary>
    internal void Reap()
    {
        int code = Libc.WaitExited(Id, out Libc.SigInfo info) != 0
            ? -1 // ECHILD: someone else reaped it
            : info.Code == Libc.CLD_EXITED ? info.Status : 128 + info.Status;
        KilledBySignal = code >= 0 && info.Code != Libc.CLD_EXITED;
        _pidfd.Dispose();
        _exit.TrySetResult(code);
    }

    private InvalidOperationException NotRedirected(string stream, string flag) =>
        new($"{stream} of process {Id} ({StartInfo.FileName}) was not redirected: set ProcessStartInfo.{flag} = true before the start.");

    /// <summary>All descendants of <paramref name="root"/>, from the parent pid in each <c>/proc/PID/stat</c>.</summary>
    private static List<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // gone meanwhile
            }
            // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses; the last ')' ends it.
            int close = stat.LastIndexOf(')');
            if (close < 0) continue;
            string[] fields = stat[(close + 2)..].Split(' ', 3);
            if (fields.Length < 2 || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int ppid)) continue;
            if (!children.TryGetValue(ppid, out List<int>? list)) children[ppid] = list = [];
            list.Add(pid);
        }
        var found = new List<int>();
        var queue = new Queue<int>();
        queue.Enqueue(root);
        while (queue.Count > 0)
        {
            if (!children.TryGetValue(queue.Dequeue(), out List<int>? list)) continue;
            foreach (int child in list)
            {
                found.Add(child);
                queue.Enqueue(child);
            }
        }
        return found;
    }
}
