using System.Runtime.InteropServices;
using LinuxNetns;

namespace Netns;

// list, add, attach, delete, identify, pids, monitor: the commands on names in the run directory.
internal sealed partial class NetnsCli
{
    /// <summary><c>list</c>: one line per name in directory order, with <c>(id: N)</c> where an nsid is assigned.</summary>
    private int List()
    {
        // iproute2 prints nothing at all (not even "[]") when the directory cannot be opened.
        if (NetworkNamespace.TryList(_options) is not { } names) return 0;
        int?[] ids = NsidsOf(names);

        var json = _json ? new IpJson(_pretty) : null;
        for (int i = 0; i < names.Count; i++)
        {
            string name = names[i];
            if (json is not null)
            {
                json.Object().Field("name", name);
                if (ids[i] is int id) json.Field("id", id);
            }
            else
            {
                // Concatenated: see NetworkNamespace.Open (an interpolation's first use costs a short process).
                Out(ids[i] is int id ? string.Concat(name, " (id: ", id.ToString(System.Globalization.CultureInfo.InvariantCulture), ")") : name);
            }
        }
        if (json is not null) Stdio.Out(json.ToString());
        return 0;
    }

    /// <summary><c>add NAME</c>.</summary>
    private int Add(string[] args)
    {
        if (args.Length < 1) return Fail("No netns name specified");
        string name = args[0];
        try
        {
            // A single command ends the process: the namespace is made on this thread, as ip makes it (no home thread).
            (_batchFile is null ? NetworkNamespace.CreateBeforeExit(name, _options) : NetworkNamespace.Create(name, _options)).Dispose();
            return 0;
        }
        catch (NetworkNamespaceException e)
        {
            return Fail(AddError(e, name, "/proc/self/ns/net"));
        }
    }

    /// <summary><c>attach NAME PID</c>: pins the namespace of a process under a name.</summary>
    private int Attach(string[] args)
    {
        if (args.Length < 2) return Fail("No netns name and PID specified");
        if (!IpSyntax.TryParseInt(args[1], out int pid) || pid == 0) return Fail($"Invalid PID: {args[1]}");
        string name = args[0];
        string source = $"/proc/{pid}/ns/net";

        NetworkNamespace target;
        try
        {
            target = NetworkNamespace.OpenPath(source, _options);
        }
        catch (NetworkNamespaceException e)
        {
            // iproute2 makes the name's file first and binds the pid's namespace second: report in that order.
            if (File.Exists(PathOf(name)) || Directory.Exists(PathOf(name)))
                return Fail($"Cannot create namespace file \"{PathOf(name)}\": {StrError(Errno.EEXIST)}");
            return Fail($"Bind {source} -> {PathOf(name)} failed: {StrError(e)}");
        }
        using (target)
        {
            try
            {
                target.Pin(name);
                return 0;
            }
            catch (NetworkNamespaceException e)
            {
                return Fail(AddError(e, name, source));
            }
        }
    }

    /// <summary>iproute2's texts for the failures of add and attach, by the step that failed.</summary>
    private string AddError(NetworkNamespaceException e, string name, string source)
    {
        string error = StrError(e);
        return e.Operation switch
        {
            NamespaceOperation.CreatePlaceholder => $"Cannot create namespace file \"{PathOf(name)}\": {error}",
            NamespaceOperation.UnshareNetwork => $"Failed to create a new network namespace \"{name}\": {error}",
            NamespaceOperation.BindNamespace => $"Bind {source} -> {PathOf(name)} failed: {error}",
            NamespaceOperation.MakeRunDirectory => $"mkdir {RunDirectory} failed: {error}",
            NamespaceOperation.OpenRunDirectory => $"Cannot open netns runtime directory \"{RunDirectory}\": {error}",
            NamespaceOperation.ShareRunDirectory => $"mount --make-shared {RunDirectory} failed: {error}",
            NamespaceOperation.BindRunDirectory => $"mount --bind {RunDirectory} {RunDirectory} failed: {error}",
            // A step iproute2 does not have (the lock, the switch back): the library's message says what and why.
            _ => e.Message,
        };
    }

    /// <summary><c>delete NAME</c>, or with <c>-all</c> every name (stopping at the first failure, still exiting 0, as iproute2).</summary>
    private int Delete(string[] args)
    {
        if (_all)
        {
            foreach (string name in NetworkNamespace.List(_options))
            {
                if (DeleteOne(name) != 0) break;
            }
            return 0;
        }
        if (args.Length < 1) return Fail("No netns name specified");
        return DeleteOne(args[0]);
    }

    private int DeleteOne(string name)
    {
        try
        {
            NetworkNamespace.Delete(name, _options);
            return 0;
        }
        catch (NamespacePermissionException e) when (e.Operation == NamespaceOperation.Unmount)
        {
            // The library stops at umount's EPERM; iproute2 ignores umount's result and reports what unlink says.
            Errno errno = (Errno)Native.Unlink(PathOf(name));
            return errno == Errno.None ? 0 : Fail($"Cannot remove namespace file \"{PathOf(name)}\": {StrError(errno)}");
        }
        catch (NetworkNamespaceException e)
        {
            return Fail($"Cannot remove namespace file \"{PathOf(name)}\": {StrError(e)}");
        }
    }

    /// <summary><c>identify [PID]</c>: the name of a process's namespace (this process's without a pid); an empty line when it has none.</summary>
    private int Identify(string[] args)
    {
        if (args.Length > 1) return Fail("extra arguments specified");
        string pid = args.Length == 0 ? "self" : args[0];
        if (pid != "self" && !IpSyntax.IsPid(pid)) return Fail($"Specified string '{pid}' is not a pid");

        IReadOnlyList<string> names;
        try
        {
            using NetworkNamespace ns = NetworkNamespace.OpenPath($"/proc/{pid}/ns/net", _options);
            names = ns.GetNames();
        }
        catch (NetworkNamespaceException e)
        {
            return Fail($"Cannot open network namespace: {StrError(e)}");
        }
        // iproute2 keeps the last match in directory order.
        Out(names.Count == 0 ? "" : names[^1]);
        return 0;
    }

    /// <summary><c>pids NAME</c>: the processes in a named namespace, one per line.</summary>
    private int Pids(string[] args)
    {
        if (args.Length < 1) return Fail("No netns name specified");
        if (args.Length > 1) return Fail("extra arguments specified");
        IReadOnlyList<int> pids;
        try
        {
            pids = NetworkNamespace.GetProcessIds(args[0], _options);
        }
        catch (NotANetworkNamespaceException)
        {
            // iproute2 compares with whatever the file is: a stale placeholder matches no process.
            return 0;
        }
        catch (NetworkNamespaceException e)
        {
            return Fail($"Cannot open network namespace: {StrError(e)}");
        }
        foreach (int pid in pids) Out(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    }

    /// <summary><c>monitor</c>: prints <c>add NAME</c> / <c>delete NAME</c> until interrupted.</summary>
    /// <remarks>The one command that waits on an async stream: the main thread blocks on it (no synchronization
    /// context here), so that every other command runs without async machinery at start-up.</remarks>
    private int Monitor() => MonitorAsync().GetAwaiter().GetResult();

    private async Task<int> MonitorAsync()
    {
        using var stop = new CancellationTokenSource();
        int signalExit = 0;
        // SIGINT/SIGTERM end the monitor through cancellation; the exit code is what a shell reports for ip killed by them.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Stop(c, 130));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Stop(c, 143));
        try
        {
            await foreach (NamespaceEvent e in NetworkNamespace.Monitor(_options, stop.Token).ConfigureAwait(false))
                Out(e.ToString());
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return signalExit;
        }
        catch (IOException)
        {
            // stdout closed (e.g. `netns monitor | head -1`): ip would die of SIGPIPE.
            return 128 + 13;
        }
        catch (NetworkNamespaceException e)
        {
            string error = StrError(e);
            return Fail(e.Operation switch
            {
                NamespaceOperation.InotifyInit => $"inotify_init failed: {error}",
                NamespaceOperation.InotifyAddWatch => $"inotify_add_watch failed: {error}",
                NamespaceOperation.MakeRunDirectory => $"mkdir {RunDirectory} failed: {error}",
                _ => $"read failed: {error}",
            });
        }

        void Stop(PosixSignalContext context, int code)
        {
            context.Cancel = true;
            signalExit = code;
            stop.Cancel();
        }
    }

    private static int Fail(string message)
    {
        Error(message);
        return Failure;
    }
}
