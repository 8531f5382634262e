using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using LinuxNetns.Delegated;
using LinuxNetns.Exec;
using LinuxNetns.Interop;

namespace LinuxNetns.Testing.Rootless;

/// <summary>The agent of one namespace of a network built without root: what must happen inside, its helper does.</summary>
internal sealed class HelperNamespaceAgent(UserNamespaceHelper helper, int number, string host) : NamespaceAgent
{
    public override string WhyNotEnterable =>
        $"it is host \"{host}\" of a network built without root, and belongs to that network's user namespace (its helper runs under unshare, pid {helper.ProcessId})";

    public override SafeFdHandle OpenRouteNetlink() => helper.OpenRouteNetlink(number);

    public override SafeFdHandle CreateSocket(int family, int type, int protocol) => helper.CreateSocket(number, family, type, protocol);

    public override void WriteSysctl(string path, string value) => helper.WriteSysctl(number, path, value);

    public override NamespaceProcess Start(ProcessStartInfo startInfo, string program, IReadOnlyList<string> arguments,
        string workingDirectory, ExecOptions options)
    {
        string where = $"host \"{host}\"";
        var pipes = new List<(int Parent, int Child, int Target)>();
        int[] childStreams = [0, 1, 2]; // not redirected: this process's own, as for a child of ours
        int statusHere = -1, statusThere = -1;
        SafeFdHandle? pidfd = null;
        try
        {
            ChildSpawner.AddRedirectPipes(pipes, startInfo, where);
            foreach ((_, int child, int target) in pipes) childStreams[target] = child;
            if (Libc.SeqpacketPair(out statusHere, out statusThere) != 0)
                throw NamespaceErrors.Failed(NamespaceOperation.PrepareSpawn, "socketpair for the exit report of an exec in", where, (Errno)Libc.LastErrno);
            List<string> environment = startInfo.Environment.Where(e => e.Value is not null).Select(e => $"{e.Key}={e.Value}").ToList();
            pidfd = helper.Exec(number, program, arguments, environment, workingDirectory, options, childStreams, statusThere);
            int pid = PidOf(pidfd);

            (StreamWriter? input, StreamReader? output, StreamReader? error) = ChildSpawner.TakeParentStreams(startInfo, pipes);
            var process = new NamespaceProcess(pid, pidfd, startInfo, input, output, error);
            pidfd = null;
            var status = new Socket(new SafeSocketHandle(statusHere, ownsHandle: true));
            statusHere = -1;
            status.Send([1]); // the pid is read: the helper may reap the child now
            _ = WatchExit(status, process);
            return process;
        }
        finally
        {
            foreach ((int parent, int child, _) in pipes)
            {
                if (parent >= 0) Libc.CloseRaw(parent);
                Libc.CloseRaw(child); // the helper's child has its own copy
            }
            if (statusHere >= 0) Libc.CloseRaw(statusHere);
            if (statusThere >= 0) Libc.CloseRaw(statusThere);
            pidfd?.Dispose();
        }
    }

    /// <summary>Completes <paramref name="process"/> with the exit the helper reports once it reaped the child (-1 if the helper ended first).</summary>
    private static async Task WatchExit(Socket status, NamespaceProcess process)
    {
        var buffer = new byte[64];
        int length = 0;
        try
        {
            length = await status.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
        }
        catch (SocketException)
        {
        }
        finally
        {
            status.Dispose();
        }
        if (length == 0)
        {
            process.ReportExit(-1, killedBySignal: false);
            return;
        }
        using BinaryReader reader = HelperProtocol.Reader(buffer, length);
        int code = reader.ReadInt32();
        process.ReportExit(code, reader.ReadBoolean());
    }

    /// <summary>The pid of a pidfd's process in this process's pid namespace (the <c>Pid:</c> line of its fdinfo).</summary>
    private static int PidOf(SafeFdHandle pidfd)
    {
        foreach (string line in File.ReadLines($"/proc/self/fdinfo/{pidfd.Fd}"))
        {
            if (line.StartsWith("Pid:", StringComparison.Ordinal))
                return int.Parse(line.AsSpan(4).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        throw new NetworkNamespaceException(NamespaceOperation.OpenProcess, $"/proc/self/fdinfo/{pidfd.Fd}", Errno.None,
            "The pidfd of a process the user-namespace helper started has no Pid line in its fdinfo (Linux 5.3 or later needed).");
    }
}
