using System.Diagnostics;
using System.Runtime.InteropServices;
using LinuxNetns;

namespace Netns;

// exec NAME cmd… and -all exec cmd…: the library's ExecInNamespace, with iproute2's mount propagation (rslave); alone,
// exec NAME cmd… replaces this process with the command, as ip does.
internal sealed partial class NetnsCli
{
    /// <summary>iproute2 exits 255 when the namespace cannot be entered, 1 when the command cannot be started.</summary>
    private const int SwitchFailure = 255;

    /// <summary><c>exec NAME cmd…</c> exits with the command's exit code; <c>-all exec cmd…</c> runs it in every namespace, exit 0.</summary>
    private int Exec(string[] args)
    {
        if (args.Length < 1 && !_all) return Fail("No netns name specified");
        if ((args.Length < 2 && !_all) || (args.Length < 1 && _all)) return Fail("No command specified");
        if (!_all) return ExecIn(args[0], args[1..], single: true);

        foreach (string name in NetworkNamespace.List(_options))
        {
            Stdio.Out($"\nnetns: {name}\n");
            ExecIn(name, args);
        }
        return 0;
    }

    private int ExecIn(string name, string[] command, bool single = false)
    {
        // Like iproute2's exec options: iproute2 marks the child's mounts rslave (the library's default is rprivate),
        // and /etc/netns warnings go to stderr in iproute2's words.
        var options = new ExecOptions
        {
            MountPropagation = MountPropagation.Slave,
            NamespaceOptions = new NetworkNamespaceOptions
            {
                RunDirectory = _options.RunDirectory,
                EtcDirectory = _options.EtcDirectory,
            },
            EtcBindFailed = ReportBindFailure,
            // ip's execvp runs a file the kernel cannot execute (a script without #!) with /bin/sh.
            ShellForUnknownFormats = true,
        };

        // ip opens RUNDIR/NAME whatever NAME is; only -n NAME gets here with a name the library refuses.
        bool nameOnlyIpOpens = IpSyntax.IsInvalidName(name);
        NetworkNamespace ns;
        try
        {
            ns = nameOnlyIpOpens
                ? NetworkNamespace.OpenPath(PathOf(name), options.NamespaceOptions)
                : NetworkNamespace.Open(name, options.NamespaceOptions);
        }
        catch (NotANetworkNamespaceException)
        {
            // What setns says about a file that is no namespace (a stale placeholder).
            Error($"setting the network namespace \"{name}\" failed: {StrError(Errno.EINVAL)}");
            return SwitchFailed(single);
        }
        catch (NetworkNamespaceException e)
        {
            Error($"Cannot open network namespace \"{name}\": {StrError(e)}");
            return SwitchFailed(single);
        }

        if (!nameOnlyIpOpens) ReportMissingEtcTargets(name);
        var startInfo = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (string argument in command.AsSpan(1)) startInfo.ArgumentList.Add(argument);

        // exec NAME cmd, alone: ip becomes the command (execvp after switching); so does this process, which has nothing
        // left to do. In a batch ip forks and waits, as the child below is waited for.
        bool replace = single && _batchLine is null;
        NamespaceProcess child;
        using (ns)
        {
            try
            {
                if (replace) ExecInNamespace.ReplaceProcess(ns, startInfo, options); // returns only by throwing
                child = ExecInNamespace.Start(ns, startInfo, options);
            }
            catch (NetworkNamespaceException e) when (e.Operation is NamespaceOperation.ResolveProgram or NamespaceOperation.ChangeDirectory or NamespaceOperation.Spawn)
            {
                Error($"exec of \"{command[0]}\" failed: {StrError(e)}");
                return Failure;
            }
            catch (NetworkNamespaceException e)
            {
                string error = StrError(e);
                Error(e.Operation switch
                {
                    // Without CAP_SYS_ADMIN the library refuses before trying (Exec); iproute2 learns it from setns.
                    NamespaceOperation.SetnsNetwork or NamespaceOperation.Exec => $"setting the network namespace \"{name}\" failed: {error}",
                    NamespaceOperation.UnshareMount or NamespaceOperation.UnshareFilesystem => $"unshare failed: {error}",
                    NamespaceOperation.SetMountPropagation => $"\"mount --make-rslave /\" failed: {error}",
                    NamespaceOperation.MountSysfs => $"mount of /sys failed: {error}",
                    // A step iproute2 does not have (the prepared mount namespace, pidfd): the library's message says what and why.
                    _ => e.Message,
                });
                return SwitchFailed(single);
            }
        }
        using (child)
        {
            int code = WaitForChild(child);
            // In a batch ip forks for exec and waits; a child killed by a signal makes it exit(1), -force or not.
            if (single && _batchLine is not null && child.KilledBySignal) throw new ExitException(Failure);
            return code;
        }
    }

    /// <summary>
    /// ip exits 255 when it cannot enter the namespace. In a batch, ip has forked first: the child fails, ends its
    /// copy of the batch with "Command failed FILE:LINE" and exit 1, and the parent, seeing exit 1, reports the same
    /// line again (what is reproduced here; with -force ip's child would also run the rest of the batch, which is
    /// not: docs/netns-tool.md).
    /// </summary>
    private int SwitchFailed(bool single)
    {
        if (!single || _batchLine is not int line) return SwitchFailure;
        Error($"Command failed {_batchFile}:{line}");
        return Failure;
    }

    /// <summary>
    /// iproute2 warns about an <c>/etc/netns/NAME</c> entry it cannot bind before the command runs; the library reports
    /// it through <see cref="ExecOptions.EtcBindFailed"/> from inside the exec. The usual cause, a missing <c>/etc</c>
    /// target, is found here first so that the warning comes first; the library's report of it is then not repeated.
    /// </summary>
    private void ReportMissingEtcTargets(string name)
    {
        _reportedEtcTargets.Clear();
        string dir = Path.Combine(_options.EtcDirectory, name);
        if (!Directory.Exists(dir)) return;
        foreach (string entry in Directory.EnumerateFileSystemEntries(dir))
        {
            string target = "/etc/" + Path.GetFileName(entry);
            if (File.Exists(target) || Directory.Exists(target)) continue;
            Error($"Bind {entry} -> {target} failed: {StrError(Errno.ENOENT)}");
            _reportedEtcTargets.Add(target);
        }
    }

    /// <summary>
    /// Waits like a parent that is not there: ip netns exec replaces itself with the command, so signals meant for
    /// "ip" reach the command. Ctrl+C and Ctrl+\ already reach it through the terminal's process group (we ignore
    /// them); SIGTERM and SIGHUP sent to us are passed on.
    /// </summary>
    private static int WaitForChild(NamespaceProcess child)
    {
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Forward(c, child, Native.SIGTERM));
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => Forward(c, child, Native.SIGHUP));
        child.WaitForExit();
        // 128 + signal when the command was killed by a signal: what a shell reports for ip in that case.
        return child.ExitCode;
    }

    private static void Forward(PosixSignalContext context, NamespaceProcess child, int signal)
    {
        context.Cancel = true;
        Native.Kill(child.Id, signal);
    }

    /// <summary>Bind targets already reported by <see cref="ReportMissingEtcTargets"/>.</summary>
    private readonly HashSet<string> _reportedEtcTargets = new(StringComparer.Ordinal);

    /// <summary>The library's report of a failed <c>/etc/netns</c> bind, printed as iproute2 prints it (unless already reported).</summary>
    private void ReportBindFailure(EtcBindException e)
    {
        if (e.Target is { } target && _reportedEtcTargets.Contains(target)) return;
        Error($"Bind {e.Entry} -> {e.Target} failed: {StrError(e)}");
    }
}
