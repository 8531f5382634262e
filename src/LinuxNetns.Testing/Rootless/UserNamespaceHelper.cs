using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using LinuxNetns.Interop;
using static LinuxNetns.Testing.Rootless.HelperProtocol;

namespace LinuxNetns.Testing.Rootless;

/// <summary>
/// The client of one helper process: the helper of a network built without root (docs/rootless.md). Started through
/// util-linux <c>unshare</c>, the one single-threaded step that can create a user namespace (a multithreaded process,
/// as every .NET process is, cannot), it is root there and makes the network's namespaces, owned by that user
/// namespace, and sockets and processes inside them. This process then holds each namespace by its nsfs descriptor and
/// configures it through a netlink socket the helper made inside: the kernel checks those requests against the socket's
/// opener (root in the user namespace) and against this process, which owns the user namespace.
/// </summary>
/// <remarks>
/// The helper ends when this side of the socket closes: at <see cref="Dispose"/>, or when this process dies, however
/// it dies. It is pid 1 of a pid namespace, so the kernel then kills every process it started; the namespaces go with
/// the last descriptor.
/// </remarks>
internal sealed class UserNamespaceHelper : IDisposable
{
    /// <summary>How long the helper may take to start (a .NET start-up, on a busy machine).</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a request waits for the helper's answer (SO_RCVTIMEO).</summary>
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _unshare;
    private readonly Socket _channel;
    private readonly StringBuilder _errors;
    private readonly object _lock = new();
    private readonly byte[] _buffer = new byte[MaxMessage];
    private bool _disposed;

    private UserNamespaceHelper(Process unshare, Socket channel, StringBuilder errors)
    {
        _unshare = unshare;
        _channel = channel;
        _errors = errors;
    }

    /// <summary>The pid of the <c>unshare</c> process, the helper's parent (the helper is pid 1 of its own pid namespace).</summary>
    public int ProcessId => _unshare.Id;

    /// <summary>Starts a helper and waits until it is connected.</summary>
    /// <exception cref="NetworkNamespaceException">It could not be started: the message names the cause (e.g. the kernel
    /// setting that disables unprivileged user namespaces) and what to do.</exception>
    public static UserNamespaceHelper Start()
    {
        string helper = HelperLocation.Assembly();
        string dotnet = HelperLocation.DotnetHost();
        string unshare = HelperLocation.Unshare();
        DirectoryInfo directory = Directory.CreateTempSubdirectory("linuxnetns-userns-"); // 0700, ours
        try
        {
            string socketPath = Path.Combine(directory.FullName, "helper.sock");
            string runtimeConfig = Path.Combine(directory.FullName, "helper.runtimeconfig.json");
            // The helper runs on the runtime this process runs on (the same version is installed, then).
            Version v = Environment.Version;
            File.WriteAllText(runtimeConfig, FormattableString.Invariant(
                $"{{\"runtimeOptions\":{{\"tfm\":\"net{v.Major}.{v.Minor}\",\"framework\":{{\"name\":\"Microsoft.NETCore.App\",\"version\":\"{v}\"}},") +
                "\"configProperties\":{\"System.GC.Concurrent\":false,\"System.Globalization.Invariant\":true}}}");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
            HelperProtocol.AtSocketPath(socketPath, listener.Bind);
            listener.Listen(1);

            var startInfo = new ProcessStartInfo(unshare)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            // A user namespace where we are root; a network namespace of its own, so that the helper's threads can
            // always switch back home (the host's belongs to a user namespace where it has no capability); a mount
            // namespace for its own /proc (mounted by the helper); a pid namespace of which it is pid 1, killed with unshare.
            foreach (string argument in (string[])["--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child",
                         dotnet, "exec", "--runtimeconfig", runtimeConfig, helper, socketPath])
                startInfo.ArgumentList.Add(argument);
            // What a test host adds for its own process (a coverage profiler, startup hooks) is not for the helper.
            foreach (string name in startInfo.Environment.Keys.Where(k => k is "DOTNET_STARTUP_HOOKS" || k.StartsWith("CORECLR_", StringComparison.Ordinal)).ToList())
                startInfo.Environment.Remove(name);
            // No debugger pipes or diagnostic socket in TMPDIR: a helper that is killed (by unshare when this process dies
            // abruptly, or by anyone) could not remove them, and they would stay there.
            startInfo.Environment["DOTNET_EnableDiagnostics"] = "0";
            Process process = Process.Start(startInfo)
                ?? throw new NetworkNamespaceException(NamespaceOperation.UserNamespace, unshare, Errno.None, $"Starting \"{unshare}\" failed.");
            var errors = new StringBuilder();
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (errors)
                {
                    if (errors.Length < 8192) errors.AppendLine(e.Data);
                }
            };
            process.OutputDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            try
            {
                Socket channel = Accept(listener, process, errors);
                // The helper answers at once; the bound only keeps a hung one from blocking every caller for ever.
                channel.ReceiveTimeout = (int)AnswerTimeout.TotalMilliseconds;
                return new UserNamespaceHelper(process, channel, errors);
            }
            catch
            {
                Stop(process);
                throw;
            }
        }
        finally
        {
            // The helper has read its runtime configuration and is connected: neither file is needed any more.
            directory.Delete(recursive: true);
        }
    }

    private static Socket Accept(Socket listener, Process process, StringBuilder errors)
    {
        var clock = Stopwatch.StartNew();
        while (!listener.Poll(TimeSpan.FromMilliseconds(50), SelectMode.SelectRead))
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // the rest of its standard error
                throw UserNamespaceSupport.StartFailed(process.ExitCode, Said(errors));
            }
            if (clock.Elapsed > StartTimeout)
            {
                throw new NetworkNamespaceException(NamespaceOperation.UserNamespace, "unshare", Errno.ETIMEDOUT,
                    $"The user-namespace helper (pid {process.Id}) did not connect within {StartTimeout.TotalSeconds:0} s. Is the machine overloaded?");
            }
        }
        return listener.Accept();
    }

    /// <summary>A new network namespace, owned by the helper's user namespace: its number there and its nsfs descriptor.</summary>
    public (int Number, SafeFdHandle Descriptor) NewNamespace()
    {
        (int number, List<SafeFdHandle> fds) = Ask(w => w.Write((byte)Request.NewNamespace), [], "make a namespace", expectedFds: 1);
        return (number, fds[0]);
    }

    /// <summary>A NETLINK_ROUTE socket made inside namespace <paramref name="number"/>.</summary>
    public SafeFdHandle OpenRouteNetlink(int number) =>
        Ask(w =>
        {
            w.Write((byte)Request.OpenRouteNetlink);
            w.Write(number);
        }, [], "open a netlink socket", expectedFds: 1).Fds[0];

    /// <summary>A socket made inside namespace <paramref name="number"/>.</summary>
    public SafeFdHandle CreateSocket(int number, int family, int type, int protocol) =>
        Ask(w =>
        {
            w.Write((byte)Request.CreateSocket);
            w.Write(number);
            w.Write(family);
            w.Write(type);
            w.Write(protocol);
        }, [], "create a socket", expectedFds: 1).Fds[0];

    /// <summary>Writes <c>/proc/sys/<paramref name="path"/></c> inside namespace <paramref name="number"/>.</summary>
    public void WriteSysctl(int number, string path, string value) =>
        Ask(w =>
        {
            w.Write((byte)Request.WriteSysctl);
            w.Write(number);
            w.Write(path);
            w.Write(value);
        }, [], $"write /proc/sys/{path}", expectedFds: 0);

    /// <summary>
    /// Starts <paramref name="program"/> inside namespace <paramref name="number"/> with <paramref name="streams"/> as its
    /// standard input, output and error and <paramref name="statusSocket"/> for its exit report; returns its pidfd.
    /// </summary>
    public SafeFdHandle Exec(int number, string program, IReadOnlyList<string> argv, IReadOnlyList<string> environment,
        string workingDirectory, ExecOptions options, ReadOnlySpan<int> streams, int statusSocket)
    {
        int[] fds = [streams[0], streams[1], streams[2], statusSocket];
        return Ask(w =>
        {
            w.Write((byte)Request.Exec);
            w.Write(number);
            w.Write(program);
            WriteList(w, argv.ToList());
            WriteList(w, environment.ToList());
            w.Write(workingDirectory);
            w.Write((int)options.MountPropagation);
            w.Write(options.BindEtc ? options.EtcName ?? "" : "");
        }, fds, $"start \"{program}\"", expectedFds: 1).Fds[0];
    }

    private (int Result, List<SafeFdHandle> Fds) Ask(Action<BinaryWriter> write, int[] sendFds, string doing, int expectedFds)
    {
        byte[] request = Encode(write);
        if (request.Length > MaxMessage)
            throw new ArgumentException($"The request to {doing} is {request.Length} bytes, more than the helper takes ({MaxMessage}): a smaller environment?");
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Libc.SendWithDescriptors(_channel.SafeHandle, request, sendFds) < 0) throw Broken(doing, Libc.LastErrno);
            Span<int> fds = stackalloc int[Libc.MaxPassedDescriptors];
            long length = Libc.ReceiveWithDescriptors(_channel.SafeHandle, _buffer, fds, out int count);
            if (length <= 0) throw Broken(doing, length < 0 ? Libc.LastErrno : 0);
            var received = new List<SafeFdHandle>(count);
            for (int i = 0; i < count; i++) received.Add(new SafeFdHandle(fds[i]));
            using BinaryReader reply = Reader(_buffer, (int)length);
            if (reply.ReadByte() == Succeeded && received.Count == expectedFds) return (reply.ReadInt32(), received);
            foreach (SafeFdHandle fd in received) fd.Dispose();
            reply.BaseStream.Position = 0;
            if (reply.ReadByte() == Failed) throw ReadFailure(reply);
            throw new NetworkNamespaceException(NamespaceOperation.UserNamespace, "helper", Errno.EBADMSG,
                $"The user-namespace helper answered the request to {doing} with {received.Count} descriptors, not {expectedFds}: are LinuxNetns.Testing and its helper of one version?");
        }
    }

    private NetworkNamespaceException Broken(string doing, int errno)
    {
        if (errno == (int)Errno.EAGAIN)
        {
            return new NetworkNamespaceException(NamespaceOperation.UserNamespace, "helper", Errno.EAGAIN,
                $"The user-namespace helper (under unshare, pid {_unshare.Id}) did not answer the request to {doing} within {AnswerTimeout.TotalSeconds:0} s. Is it stopped (SIGSTOP, a debugger)?");
        }
        string said = Said(_errors);
        return new NetworkNamespaceException(NamespaceOperation.UserNamespace, "helper", (Errno)errno,
            $"The user-namespace helper (under unshare, pid {_unshare.Id}) is gone; it could not {doing}" +
            (said.Length > 0 ? $". It said: {said}" : ".") + " Was it killed? Build the network again.");
    }

    /// <summary>What unshare and the helper wrote to standard error so far (collected by the process's reader).</summary>
    private static string Said(StringBuilder errors)
    {
        lock (errors) return errors.ToString().Trim();
    }

    /// <summary>Closes the channel: the helper ends, and with it every process it started. Waits for it.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _channel.Dispose();
        }
        Stop(_unshare);
    }

    private static void Stop(Process process)
    {
        // The helper sees end of file and exits, and unshare with it; a helper stuck for long is killed.
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }
}
