using System.Diagnostics;
using System.Net.Sockets;
using LinuxNetns;
using LinuxNetns.Exec;
using LinuxNetns.Interop;
using LinuxNetns.Netlink;
using LinuxNetns.Testing.Rootless;
using static LinuxNetns.Testing.Rootless.HelperProtocol;

// The helper of a network built without root (docs/rootless.md). Usage: LinuxNetns.Testing.Helper SOCKET_PATH.
// It runs as root of a user namespace of its own (util-linux unshare made it, with a network, mount and pid namespace),
// so the library works here as it does for root: it makes the network's namespaces and, inside them, sockets and
// processes, and sends the descriptors to its client. It ends when the client's end of the socket closes (the client
// disposed the network, or died); it is pid 1 of its pid namespace, so the kernel then kills every process it started.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: LinuxNetns.Testing.Helper SOCKET_PATH (started by LinuxNetns.Testing, not by hand)");
    return 2;
}

// A /proc of its own pid namespace, so that the processes it starts find themselves there. Where the kernel refuses
// one (a container that masks parts of its /proc), they see the enclosing /proc, which works but shows other pids.
Libc.Mount("proc", "/proc", "proc", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC);

using var channel = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
AtSocketPath(args[0], channel.Connect);
var helper = new Helper(channel);
helper.Serve();
return 0;

internal sealed class Helper(Socket channel)
{
    private readonly List<NetworkNamespace> _namespaces = [];

    public void Serve()
    {
        var buffer = new byte[MaxMessage];
        var fds = new int[Libc.MaxPassedDescriptors];
        while (true)
        {
            long length = Libc.ReceiveWithDescriptors(channel.SafeHandle, buffer, fds, out int count);
            if (length <= 0) return; // end of file (or a broken channel): the client is gone
            var received = new List<SafeFdHandle>(count);
            for (int i = 0; i < count; i++) received.Add(new SafeFdHandle(fds[i]));
            var replyFds = new List<SafeFdHandle>();
            byte[] reply;
            try
            {
                int result = Handle(Reader(buffer, (int)length), received, replyFds);
                reply = Encode(w =>
                {
                    w.Write(Succeeded);
                    w.Write(result);
                });
            }
            catch (Exception e)
            {
                foreach (SafeFdHandle fd in replyFds) fd.Dispose();
                replyFds.Clear();
                reply = EncodeFailure(e);
            }
            try
            {
                int[] raw = replyFds.Select(f => f.Fd).ToArray();
                if (Libc.SendWithDescriptors(channel.SafeHandle, reply, raw) < 0) return; // the client is gone
            }
            finally
            {
                foreach (SafeFdHandle fd in replyFds) fd.Dispose();
                foreach (SafeFdHandle fd in received) fd.Dispose();
            }
        }
    }

    private int Handle(BinaryReader request, List<SafeFdHandle> received, List<SafeFdHandle> reply)
    {
        var kind = (Request)request.ReadByte();
        if (kind == Request.NewNamespace)
        {
            NetworkNamespace ns = NetworkNamespace.CreateTemporary();
            _namespaces.Add(ns);
            reply.Add(Duplicate(ns.Fd, "the nsfs descriptor of a new namespace"));
            return _namespaces.Count - 1;
        }
        NetworkNamespace target = Namespace(request.ReadInt32());
        switch (kind)
        {
            case Request.OpenRouteNetlink:
                reply.Add(target.RunLibraryCode(() => NetlinkSocket.CreateHere(target.ToString())));
                return 0;
            case Request.CreateSocket:
            {
                var family = (AddressFamily)request.ReadInt32();
                var type = (SocketType)request.ReadInt32();
                var protocol = (ProtocolType)request.ReadInt32();
                using Socket socket = target.CreateSocket(family, type, protocol);
                reply.Add(Duplicate(socket.SafeHandle, "a socket made inside"));
                return 0;
            }
            case Request.WriteSysctl:
                target.WriteSysctl(request.ReadString(), request.ReadString());
                return 0;
            case Request.Exec:
                reply.Add(Exec(target, request, received));
                return 0;
            default:
                throw new ArgumentException($"Unknown request {(byte)kind}: the helper and LinuxNetns.Testing are of different versions.");
        }
    }

    private SafeFdHandle Exec(NetworkNamespace ns, BinaryReader request, List<SafeFdHandle> received)
    {
        if (received.Count != 4) throw new ArgumentException($"An exec request carries 4 descriptors, not {received.Count}.");
        var startInfo = new ProcessStartInfo(request.ReadString()) { UseShellExecute = false };
        foreach (string argument in ReadList(request)) startInfo.ArgumentList.Add(argument);
        startInfo.Environment.Clear();
        foreach (string entry in ReadList(request))
        {
            int equals = entry.IndexOf('=');
            startInfo.Environment[entry[..equals]] = entry[(equals + 1)..];
        }
        startInfo.WorkingDirectory = request.ReadString();
        var propagation = (MountPropagation)request.ReadInt32();
        string etcName = request.ReadString();
        var options = new ExecOptions
        {
            MountPropagation = propagation,
            EtcName = etcName.Length == 0 ? null : etcName,
            BindEtc = etcName.Length > 0,
        };
        int[] streams = [received[0].Fd, received[1].Fd, received[2].Fd];
        // Not reaped until watched: the pidfd below, and the pid the client reads from it, are the child's even if it
        // has exited already. The client says when it has read the pid (a byte on the status socket, or its end of
        // file); then the child may be reaped, and its exit is reported on that socket.
        NamespaceProcess process = ExecInNamespace.StartWithStreams(ns, startInfo, options, streams);
        int pidfd = Libc.PidfdOpen(process.Id);
        int errno = Libc.LastErrno;
        int raw = (int)received[3].DangerousGetHandle();
        received[3].SetHandleAsInvalid();
        received.RemoveAt(3);
        var status = new Socket(new SafeSocketHandle(raw, ownsHandle: true));
        _ = ReportExit(process, status);
        if (pidfd < 0)
        {
            process.Kill();
            throw NamespaceErrors.Failed(NamespaceOperation.OpenProcess, $"pidfd_open of the started process {process.Id} in", ns.ToString(), (Errno)errno);
        }
        return new SafeFdHandle(pidfd);
    }

    private static async Task ReportExit(NamespaceProcess process, Socket status)
    {
        using (status)
        using (process)
        {
            try
            {
                await status.ReceiveAsync(new byte[1], SocketFlags.None).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // the client is gone: reap the child all the same
            }
            ChildMonitor.Watch(process);
            await process.WaitForExitAsync().ConfigureAwait(false);
            try
            {
                status.Send(WriteExit(process.ExitCode, process.KilledBySignal));
            }
            catch (SocketException)
            {
            }
        }
    }

    private NetworkNamespace Namespace(int number) =>
        number >= 0 && number < _namespaces.Count
            ? _namespaces[number]
            : throw new ArgumentException($"No namespace number {number} in this helper (it has {_namespaces.Count}).");

    private static SafeFdHandle Duplicate(System.Runtime.InteropServices.SafeHandle handle, string what)
    {
        int fd = Libc.DuplicateCloseOnExec((int)handle.DangerousGetHandle());
        if (fd < 0) throw NamespaceErrors.Failed(NamespaceOperation.UserNamespace, $"fcntl(F_DUPFD_CLOEXEC) of {what} in", "the helper", (Errno)Libc.LastErrno);
        return new SafeFdHandle(fd);
    }
}
