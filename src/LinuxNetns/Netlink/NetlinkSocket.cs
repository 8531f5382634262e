using System.Globalization;
using LinuxNetns.Exec;
using LinuxNetns.Interop;
using LinuxNetns.Logging;
using LinuxNetns.Networking;
using LinuxNetns.Nsfs;
using Microsoft.Extensions.Logging;

namespace LinuxNetns.Netlink;

/// <summary>
/// A NETLINK_ROUTE socket. A socket belongs for its whole life to the network namespace it was created in, so it is
/// created there (on the namespace's worker thread unless the caller is already in it) and can then be used from
/// any thread. One request at a time: requests are serialized by a lock and matched to replies by sequence number.
/// </summary>
internal sealed class NetlinkSocket : IDisposable
{
    /// <summary>How long a request waits for the kernel's next datagram; the kernel answers at once, so this only
    /// bounds a wait that would otherwise hang every user of the socket.</summary>
    public static readonly TimeSpan DefaultReceiveTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How many times a dump that the kernel marks interrupted is sent before giving up.</summary>
    public const int DumpAttempts = 3;

    private readonly SafeFdHandle _fd;
    private readonly object _lock = new();
    private readonly ILogger _log;
    private readonly TimeSpan _receiveTimeout;
    private byte[] _receiveBuffer;
    private uint _sequence;
    private uint? _abandonedDump;   // sequence of a dump left midway, whose rest the kernel still sends (see DrainAbandonedDump)

    private NetlinkSocket(SafeFdHandle fd, uint portId, string target, ILogger log, int receiveBufferSize, TimeSpan receiveTimeout)
    {
        _receiveTimeout = receiveTimeout;
        // Uninitialized: only what the kernel writes is ever read, and zeroing 32 KiB costs a short process its pages.
        _receiveBuffer = GC.AllocateUninitializedArray<byte>(receiveBufferSize);
        _fd = fd;
        PortId = portId;
        Target = target;
        _log = log;
        // Like iproute2, start from a time-derived number so replies to an earlier socket's port are never mistaken for ours.
        _sequence = (uint)Environment.TickCount;
    }

    /// <summary>The port id the kernel bound this socket to.</summary>
    public uint PortId { get; }

    /// <summary>The namespace the socket lives in, for messages.</summary>
    public string Target { get; }

    /// <summary>Opens a socket in <paramref name="ns"/>; directly when the calling thread is already there.</summary>
    public static NetlinkSocket OpenIn(NetworkNamespace ns)
    {
        string target = ns.ToString();
        ILogger log = ns.Options.Logger;
        if (ns.Agent is { } agent) return Configure(agent.OpenRouteNetlink(), target, log); // made inside by another process
        // Made on the calling thread first: a socket lives in the namespace of the thread that creates it, and the
        // socket itself says which that is (SIOCGSKNS), cheaper than a walk through /proc/thread-self.
        SafeFdHandle here = CreateHere(target);
        if (IsIn(here, ns.Id)) return Configure(here, target, log);
        here.Dispose();
        return ns.Run(() => OpenHere(target, log));
    }

    /// <summary>Whether the socket <paramref name="fd"/> was made in namespace <paramref name="id"/>.</summary>
    private static bool IsIn(SafeFdHandle fd, NamespaceId id)
    {
        // SIOCGSKNS needs CAP_NET_ADMIN over the namespace; without it, the calling thread's link says the same.
        using SafeFdHandle socketNamespace = Libc.OpenSocketNamespace(fd);
        if (socketNamespace.IsInvalid) return NamespaceFile.TryIdOfPath("/proc/thread-self/ns/net") == id;
        return Libc.FStat(socketNamespace, out Libc.StatX st) == 0 && new NamespaceId(st.Dev, st.Ino) == id;
    }

    /// <summary>Datagrams received so far (diagnostics and tests: a multi-part dump takes several).</summary>
    public int DatagramsReceived { get; private set; }

    /// <summary>Tests only: runs after each datagram of a dump is received, before the kernel fills the next part.</summary>
    internal Action? AfterDumpDatagram { get; set; }

    /// <summary>Opens a socket in the calling thread's namespace.</summary>
    /// <param name="target">The namespace, for messages.</param>
    /// <param name="log">Where to log.</param>
    /// <param name="receiveBufferSize">The initial receive buffer; the kernel sizes dump parts to what we read with
    /// (up to 32 KiB), and the buffer grows for any larger datagram.</param>
    /// <param name="receiveTimeout">How long to wait for a datagram (SO_RCVTIMEO); null for <see cref="DefaultReceiveTimeout"/>.</param>
    public static NetlinkSocket OpenHere(string target, ILogger log, int receiveBufferSize = 32 * 1024, TimeSpan? receiveTimeout = null) =>
        Configure(CreateHere(target), target, log, receiveBufferSize, receiveTimeout);

    /// <summary>A bare NETLINK_ROUTE socket in the calling thread's namespace (close-on-exec), not yet configured: what
    /// the helper of a network built without root hands out (<see cref="Delegated.NamespaceAgent"/>).</summary>
    /// <param name="target">The namespace, for messages.</param>
    public static SafeFdHandle CreateHere(string target)
    {
        SafeFdHandle fd = Libc.OpenRouteNetlinkSocket();
        if (fd.IsInvalid)
        {
            int errno = Libc.LastErrno;
            fd.Dispose();
            throw NamespaceErrors.Failed(NamespaceOperation.NetlinkSocket, "socket(AF_NETLINK, NETLINK_ROUTE)", target, (Errno)errno);
        }
        return fd;
    }

    /// <summary>Sets the options of a new NETLINK_ROUTE socket and binds it; takes ownership of <paramref name="fd"/>
    /// (closed on failure). The socket may have been made by another process (<see cref="Delegated.NamespaceAgent"/>).</summary>
    private static NetlinkSocket Configure(SafeFdHandle fd, string target, ILogger log, int receiveBufferSize = 32 * 1024, TimeSpan? receiveTimeout = null)
    {
        TimeSpan timeout = receiveTimeout ?? DefaultReceiveTimeout;
        try
        {
            // Extended ACK: the kernel explains its refusals in text. Capped ACK: it does not echo our request back.
            // Strict checking: dump filters (e.g. NETNSA_TARGET_NSID) are honoured, malformed requests refused.
            // All three are optional (older kernels): a failure only costs detail.
            Libc.SetSocketOption(fd, Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, 1);
            Libc.SetSocketOption(fd, Libc.SOL_NETLINK, Libc.NETLINK_CAP_ACK, 1);
            Libc.SetSocketOption(fd, Libc.SOL_NETLINK, Libc.NETLINK_GET_STRICT_CHK, 1);
            // A receive timeout is not optional: without it a reply that never comes would block every later user
            // of the socket, which waits for the lock held by the blocked one.
            if (Libc.SetReceiveTimeout(fd, timeout) != 0) throw NamespaceErrors.Failed(NamespaceOperation.NetlinkSocket, "setsockopt(SO_RCVTIMEO) on netlink socket", target, (Errno)Libc.LastErrno);
            long portId = Libc.BindNetlink(fd);
            if (portId < 0) throw NamespaceErrors.Failed(NamespaceOperation.NetlinkSocket, "bind netlink socket", target, (Errno)Libc.LastErrno);
            log.NetlinkSocketOpened(target, (uint)portId);
            return new NetlinkSocket(fd, (uint)portId, target, log, receiveBufferSize, timeout);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends a request with NLM_F_ACK and waits for the kernel's answer: returns the reply messages that came before
    /// the ACK (none for most changes, one for a get). A refusal becomes a <see cref="NetlinkException"/>.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="operation">What it does, for messages.</param>
    /// <param name="advice">What to tell the user for a given errno, or null for the default.</param>
    public List<NetlinkMessage> Request(NetlinkRequest request, string operation, Func<int, string?>? advice = null)
    {
        request.AddFlags(Rtnl.NLM_F_ACK);
        return Transact(request, operation, advice, dump: false, out _);
    }

    /// <summary>
    /// Sends a dump request (NLM_F_DUMP) and collects every message of the multi-part reply until NLMSG_DONE. A dump
    /// that the kernel marks interrupted (the table changed meanwhile, so the parts may not fit together) is repeated,
    /// up to <see cref="DumpAttempts"/> times in all; then it fails rather than return possibly inconsistent data.
    /// </summary>
    public List<NetlinkMessage> Dump(Func<NetlinkRequest> request, string operation, Func<int, string?>? advice = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            NetlinkRequest r = request();
            r.AddFlags(Rtnl.NLM_F_DUMP);
            List<NetlinkMessage> replies = Transact(r, operation, advice, dump: true, out bool interrupted);
            if (!interrupted) return replies;
            if (attempt == DumpAttempts)
            {
                throw Fail(operation, Libc.EINTR, null, _ =>
                    $"The kernel marked the dump interrupted (NLM_F_DUMP_INTR) {DumpAttempts} times in a row: the table kept changing " +
                    "while it was read, so the result could be inconsistent and none is returned. Retry the operation, once the changes have settled.");
            }
            _log.NetlinkDumpInterrupted(operation, Target, attempt);
        }
    }

    private List<NetlinkMessage> Transact(NetlinkRequest request, string operation, Func<int, string?>? advice, bool dump, out bool interrupted)
    {
        interrupted = false;
        var replies = new List<NetlinkMessage>();
        var batch = new List<NetlinkMessage>();
        lock (_lock)
        {
            DrainAbandonedDump(operation);
            uint sequence = ++_sequence;
            ReadOnlySpan<byte> bytes = request.Complete(sequence);
            _log.NetlinkRequest(operation, Rtnl.TypeName(request.Type), Target, sequence, bytes.Length);
            long sent;
            do sent = Libc.Send(_fd, bytes);
            while (sent < 0 && Libc.LastErrno == Libc.EINTR);
            if (sent < 0) throw Fail(operation, Libc.LastErrno, null, advice);

            // From here the kernel runs the dump until it has sent NLMSG_DONE (or an error): if we stop reading
            // before that, whatever the reason, its rest is still to come and a new dump on the socket gets EBUSY.
            if (dump) _abandonedDump = sequence;
            while (true)
            {
                batch.Clear();
                ReceiveDatagram(batch, operation);
                foreach (NetlinkMessage m in batch)
                {
                    // Replies to an earlier request that was abandoned half-way (e.g. an exception mid-dump) are skipped.
                    if (m.Sequence != sequence || (m.PortId != PortId && m.PortId != 0)) continue;
                    switch (m.Type)
                    {
                        case Rtnl.NLMSG_NOOP:
                            continue;
                        case Rtnl.NLMSG_ERROR:
                        case Rtnl.NLMSG_DONE:
                        {
                            // Either ends the dump on the kernel's side, a malformed one included.
                            _abandonedDump = null;
                            // The kernel may flag the interruption on the closing message alone.
                            if ((m.Flags & Rtnl.NLM_F_DUMP_INTR) != 0) interrupted = true;
                            (int errno, string? text, string? malformed) = m.ParseError();
                            if (malformed is not null) throw Malformed(operation, malformed);
                            if (errno != 0) throw Fail(operation, errno, text, advice);
                            return replies; // after NLMSG_ERROR: the ACK
                        }
                        case Rtnl.NLMSG_OVERRUN:
                            throw Fail(operation, Libc.ENOBUFS, "netlink data overrun", advice);
                        default:
                            if ((m.Flags & Rtnl.NLM_F_DUMP_INTR) != 0) interrupted = true;
                            replies.Add(m);
                            // A single (non-multipart) reply to a non-dump request is followed by the ACK we asked for.
                            continue;
                    }
                }
                if (dump) AfterDumpDatagram?.Invoke();
            }
        }
    }

    /// <summary>
    /// Reads and drops the rest of a dump that an earlier request left midway (a timeout, an exception while its parts
    /// were read), up to its end: the kernel keeps one dump per socket and refuses another (EBUSY) until this one has
    /// been read to the end. Each read makes the kernel queue the next part, so this ends with the dump's last part.
    /// </summary>
    private void DrainAbandonedDump(string operation)
    {
        if (_abandonedDump is not uint abandoned) return;
        var batch = new List<NetlinkMessage>();
        while (true)
        {
            batch.Clear();
            ReceiveDatagram(batch, operation); // a timeout here leaves the mark: the next request tries again
            foreach (NetlinkMessage m in batch)
            {
                if (m.Sequence != abandoned || m.Type is not (Rtnl.NLMSG_DONE or Rtnl.NLMSG_ERROR)) continue;
                _abandonedDump = null;
                return;
            }
        }
    }

    /// <summary>Receives one datagram and splits it into <paramref name="into"/>; waits at most the receive timeout.</summary>
    internal void ReceiveDatagram(List<NetlinkMessage> into, string operation)
    {
        while (true)
        {
            // Peek first to learn the datagram's size: a dump part can exceed any fixed buffer.
            long size = Libc.Receive(_fd, _receiveBuffer, Libc.MSG_PEEK | Libc.MSG_TRUNC);
            if (size < 0)
            {
                int errno = Libc.LastErrno;
                if (errno == Libc.EINTR) continue;
                throw errno == Libc.EAGAIN ? TimedOut(operation) : Fail(operation, errno, null, null);
            }
            if (size > _receiveBuffer.Length) _receiveBuffer = GC.AllocateUninitializedArray<byte>((int)Math.Max(size, _receiveBuffer.Length * 2L));
            long n = Libc.Receive(_fd, _receiveBuffer, 0);
            if (n < 0)
            {
                int errno = Libc.LastErrno;
                if (errno == Libc.EINTR) continue;
                throw errno == Libc.EAGAIN ? TimedOut(operation) : Fail(operation, errno, null, null);
            }
            DatagramsReceived++;
            string? malformed = NetlinkMessage.Split(_receiveBuffer.AsSpan(0, (int)n), into);
            if (malformed is not null) throw Malformed(operation, malformed);
            return;
        }
    }

    private NetlinkException Malformed(string operation, string what) => Fail(operation, Libc.EBADMSG, null, _ =>
        $"A datagram received on the socket could not be parsed ({what}); nothing of it was used. Retry the operation; " +
        "if it keeps failing, report it with the kernel version (uname -r).");

    private NetlinkException Fail(string operation, int errno, string? kernelMessage, Func<int, string?>? advice)
    {
        string? extra = advice?.Invoke(errno) ?? DefaultAdvice(errno);
        string kernel = string.IsNullOrEmpty(kernelMessage) ? "" : $" The kernel says: \"{kernelMessage}\".";
        string message = $"{operation} in \"{Target}\" failed: {NamespaceErrors.Describe(errno)}.{kernel}{(extra is null ? "" : " " + extra)}";
        _log.NetlinkFailed(operation, Target, NamespaceErrors.Describe(errno), kernelMessage ?? "");
        return new NetlinkException(operation, Target, (Errno)errno, string.IsNullOrEmpty(kernelMessage) ? null : kernelMessage, message);
    }

    private NetlinkException TimedOut(string operation)
    {
        string seconds = _receiveTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        string message = $"{operation} in \"{Target}\" failed: no reply from the kernel within {seconds} s " +
            $"(recv timed out: {NamespaceErrors.Describe(Libc.EAGAIN)}). Retry the operation; a late reply to this request is ignored.";
        _log.NetlinkFailed(operation, Target, NamespaceErrors.Describe(Libc.EAGAIN), "timed out");
        return new NetlinkException(operation, Target, Errno.EAGAIN, null, message);
    }

    private static string? DefaultAdvice(int errno) => errno switch
    {
        Libc.EPERM or Libc.EACCES => "This requires CAP_NET_ADMIN over the namespace: run as root.",
        Libc.ENOBUFS => "The socket's receive buffer overflowed; retry the operation.",
        _ => null,
    };

    public void Dispose() => _fd.Dispose();
}
