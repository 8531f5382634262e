using System.Diagnostics;
using System.Runtime.InteropServices;
using LinuxNetns;
using Microsoft.Extensions.Logging;

namespace Netns;

// exec NAME cmd… and -all exec cmd…: the library's ExecInNamespace, with iproute2's mount propagation (rslave).
internal sealed partial class NetnsCli
{
    /// <summary>iproute2 exits 255 when the namespace cannot be entered, 1 when the command cannot be started.</summary>
    private const int SwitchFailure = 255;

    /// <summary><c>exec NAME cmd…</c> exits with the command's exit code; <c>-all exec cmd…</c> runs it in every namespace, exit 0.</summary>
    private int Exec(string[] args)
    {
        if (args.Length < 1 && !_all) return Fail("No netns name specified");
        if ((args.Length < 2 && !_all) || (args.Length < 1 && _all)) return Fail("No command specified");
        if (!_all) return ExecIn(args[0], args[1..]);

        if (!Directory.Exists(RunDirectory)) return 0;
        foreach (string name in NetworkNamespace.List(_options))
        {
            Console.Out.Write($"\nnetns: {name}\n");
            ExecIn(name, args);
        }
        return 0;
    }

    private int ExecIn(string name, string[] command)
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
                LoggerFactory = IpWarnings.Instance,
            },
        };

        NetworkNamespace ns;
        try
        {
            ns = NetworkNamespace.Open(name, options.NamespaceOptions);
        }
        catch (NotANetworkNamespaceException)
        {
            // What setns says about a file that is no namespace (a stale placeholder).
            Error($"setting the network namespace \"{name}\" failed: {StrError(Errno.EINVAL)}");
            return SwitchFailure;
        }
        catch (NetworkNamespaceException e)
        {
            Error($"Cannot open network namespace \"{name}\": {StrError(e)}");
            return SwitchFailure;
        }

        ReportMissingEtcTargets(name);
        var startInfo = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (string argument in command.AsSpan(1)) startInfo.ArgumentList.Add(argument);

        NamespaceProcess child;
        using (ns)
        {
            try
            {
                child = ExecInNamespace.Start(ns, startInfo, options);
            }
            catch (NetworkNamespaceException e) when (e.Operation is "exec" or "start process")
            {
                Error($"exec of \"{command[0]}\" failed: {StrError(e)}");
                return Failure;
            }
            catch (NetworkNamespaceException e)
            {
                string error = StrError(e);
                Error(e.Operation switch
                {
                    // Without CAP_SYS_ADMIN the library refuses before trying; iproute2 learns it from setns.
                    var op when op.StartsWith("setns", StringComparison.Ordinal) || op == "exec in network namespace" =>
                        $"setting the network namespace \"{name}\" failed: {error}",
                    var op when op.StartsWith("unshare", StringComparison.Ordinal) => $"unshare failed: {error}",
                    var op when op.StartsWith("mount --make-r", StringComparison.Ordinal) => $"\"mount --make-rslave /\" failed: {error}",
                    var op when op.StartsWith("mount of /sys", StringComparison.Ordinal) => $"mount of /sys failed: {error}",
                    _ => e.Message,
                });
                return SwitchFailure;
            }
        }
        using (child)
        {
            return WaitForChild(child);
        }
    }

    /// <summary>
    /// iproute2 warns about an <c>/etc/netns/NAME</c> entry it cannot bind before the command runs; the library learns
    /// of it inside the exec and logs it after the command has started. The usual cause, a missing <c>/etc</c> target,
    /// is found here first so that the warning comes first; the library's own warning for it is then not repeated.
    /// </summary>
    private void ReportMissingEtcTargets(string name)
    {
        IpWarnings.Instance.Reported.Clear();
        string dir = Path.Combine(_options.EtcDirectory, name);
        if (!Directory.Exists(dir)) return;
        foreach (string entry in Directory.EnumerateFileSystemEntries(dir))
        {
            string target = "/etc/" + Path.GetFileName(entry);
            if (File.Exists(target) || Directory.Exists(target)) continue;
            Error($"Bind {entry} -> {target} failed: {StrError(Errno.ENOENT)}");
            IpWarnings.Instance.Reported.Add(target);
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

    /// <summary>Prints the library's warning about a failed <c>/etc/netns</c> bind as iproute2 prints it.</summary>
    private sealed class IpWarnings : ILoggerFactory, ILogger
    {
        public static readonly IpWarnings Instance = new();

        /// <summary>Bind targets already reported by <see cref="ReportMissingEtcTargets"/>.</summary>
        public readonly HashSet<string> Reported = new(StringComparer.Ordinal);

        // LinuxNetns's EventId for "Bind {Source} -> {Target} failed: {Error}".
        private const int BindFailed = 31;

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id != BindFailed || state is not IReadOnlyList<KeyValuePair<string, object?>> values) return;
            string? Value(string key) => values.FirstOrDefault(v => v.Key == key).Value?.ToString();
            // The library appends the errno name, "(ENOENT)"; iproute2 prints strerror alone.
            if (Value("Target") is { } reported && Reported.Contains(reported)) return;
            string error = Value("Error") ?? "";
            int paren = error.LastIndexOf(" (", StringComparison.Ordinal);
            if (paren > 0 && error.EndsWith(')')) error = error[..paren];
            Error($"Bind {Value("Source")} -> {Value("Target")} failed: {error}");
        }

        public void Dispose()
        {
        }
    }
}
