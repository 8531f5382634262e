using LinuxNetns.Interop;
using LinuxNetns.Logging;
using LinuxNetns.Netlink;

namespace LinuxNetns;

/// <summary>An nsid entry of a namespace (<c>ip netns list-id</c>).</summary>
/// <param name="Nsid">The id the listed namespace has assigned to one of its peers.</param>
/// <param name="CurrentNsid">
/// Only for <see cref="NetworkNamespace.ListNsids(int)"/>: the id under which the namespace that was asked knows that
/// same peer, or null when it has none for it (<c>ip netns list-id target-nsid N</c> prints it as <c>current-nsid</c>).
/// </param>
public readonly record struct NsidEntry(int Nsid, int? CurrentNsid);

// The rtnetlink socket of this namespace, and the nsid operations (ip netns set / list-id, the ids in ip netns list).
public sealed partial class NetworkNamespace
{
    private NetlinkSocket? _netlink;
    private int _netlinkDisposed;

    /// <summary>This namespace's rtnetlink socket, created inside it on first use and closed by <see cref="Dispose"/>.</summary>
    /// <remarks>
    /// No lock is held while the socket is opened: opening may hand work to this namespace's worker, and an item
    /// already running there may itself ask for the socket. Two first uses may both open one; the loser closes its own.
    /// </remarks>
    internal NetlinkSocket Netlink
    {
        get
        {
            NetlinkSocket? socket = Volatile.Read(ref _netlink);
            if (socket is not null) return socket;
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _netlinkDisposed) != 0 || _fd.IsClosed, this);
            NetlinkSocket opened = NetlinkSocket.OpenIn(this);
            NetlinkSocket? winner = Interlocked.CompareExchange(ref _netlink, opened, null);
            if (winner is not null)
            {
                opened.Dispose();
                return winner;
            }
            // Dispose sets its flag before taking the socket out, and we read the flag after putting ours in: either
            // Dispose finds our socket and closes it, or we see the flag here and take it back out ourselves.
            if (Volatile.Read(ref _netlinkDisposed) != 0)
            {
                Interlocked.Exchange(ref _netlink, null)?.Dispose();
                ObjectDisposedException.ThrowIf(true, this);
            }
            return opened;
        }
    }

    private void DisposeNetlink()
    {
        Interlocked.Exchange(ref _netlinkDisposed, 1);
        Interlocked.Exchange(ref _netlink, null)?.Dispose();
    }

    /// <summary>
    /// The nsid under which this namespace knows <paramref name="peer"/> (what <c>ip netns list</c> prints as
    /// <c>(id: N)</c> when this is the caller's namespace), or null when none is assigned.
    /// </summary>
    /// <param name="peer">Any open namespace, this one included.</param>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public int? GetNsid(NetworkNamespace peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return WithPeerFd(peer, fd => QueryNsid(Netlink, fd, peer.ToString()));
    }

    /// <summary>
    /// Assigns an nsid to <paramref name="peer"/> in this namespace (<c>ip netns set NAME NSID</c>, run in this
    /// namespace) and returns it. With <paramref name="nsid"/> null the kernel picks the lowest free id
    /// (<c>ip netns set NAME auto</c>). An nsid, once assigned, stays until one of the two namespaces dies.
    /// </summary>
    /// <param name="peer">The namespace to name; any open namespace.</param>
    /// <param name="nsid">The id (0 or more), or null for any free one.</param>
    /// <returns>The nsid <paramref name="peer"/> now has in this namespace.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nsid"/> is negative.</exception>
    /// <exception cref="NetlinkException">The kernel refused: EEXIST when <paramref name="peer"/> already has an
    /// nsid here or <paramref name="nsid"/> is taken by another namespace (<see cref="NetlinkException.KernelMessage"/> says which).</exception>
    public int SetNsid(NetworkNamespace peer, int? nsid = null)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (nsid is < 0) throw new ArgumentOutOfRangeException(nameof(nsid), nsid, "An nsid is 0 or more; pass null to let the kernel choose one.");
        WithPeerFd(peer, fd =>
        {
            var request = new NetlinkRequest(Rtnl.RTM_NEWNSID, 0);
            request.Header(new RtGenMsg { Family = Rtnl.AF_UNSPEC });
            request.AttributeU32(Rtnl.NETNSA_FD, (uint)fd);
            request.AttributeS32(Rtnl.NETNSA_NSID, nsid ?? Rtnl.NETNSA_NSID_NOT_ASSIGNED);
            Netlink.Request(request, $"set nsid {(nsid?.ToString() ?? "auto")} of {peer} (RTM_NEWNSID)", errno => errno == Libc.EEXIST
                ? "An nsid is assigned once and never changed: either the peer already has one here (see GetNsid), or that number is taken by another namespace (see ListNsids)."
                : null);
            return true;
        });
        int assigned = GetNsid(peer) ?? throw new NetlinkException("set nsid", ToString(), Errno.None, null,
            $"set nsid of {peer} in \"{this}\": the kernel accepted the request but reports no nsid for the peer afterwards.");
        _options.Logger.NsidAssigned(assigned, peer.ToString(), ToString());
        return assigned;
    }

    /// <summary>The nsids this namespace has assigned to its peers (<c>ip netns list-id</c> run in this namespace).</summary>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public IReadOnlyList<NsidEntry> ListNsids() => DumpNsids(null);

    /// <summary>
    /// The nsids assigned by the namespace that this one knows as <paramref name="targetNsid"/>, each with the id this
    /// namespace has for the same peer (<c>ip netns list-id target-nsid N</c>).
    /// </summary>
    /// <param name="targetNsid">An nsid assigned in this namespace (see <see cref="ListNsids()"/>).</param>
    /// <exception cref="NetlinkException">No namespace has that nsid here, or the kernel refused the request.</exception>
    public IReadOnlyList<NsidEntry> ListNsids(int targetNsid)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(targetNsid);
        return DumpNsids(targetNsid);
    }

    private List<NsidEntry> DumpNsids(int? target)
    {
        string operation = target is null ? "list nsids (RTM_GETNSID dump)" : $"list nsids of target-nsid {target} (RTM_GETNSID dump)";
        List<NetlinkMessage> replies = Netlink.Dump(() =>
        {
            var request = new NetlinkRequest(Rtnl.RTM_GETNSID, 0);
            request.Header(new RtGenMsg { Family = Rtnl.AF_UNSPEC });
            if (target is not null) request.AttributeS32(Rtnl.NETNSA_TARGET_NSID, target.Value);
            return request;
        }, operation, errno => errno is Libc.EINVAL or Libc.ENOENT && target is not null
            ? $"No namespace has nsid {target} in \"{this}\": see ListNsids()."
            : null);

        var result = new List<NsidEntry>(replies.Count);
        foreach (NetlinkMessage reply in replies)
        {
            if (reply.Type != Rtnl.RTM_NEWNSID) continue;
            int? id = null, current = null;
            foreach (AttributeReader a in reply.Attributes<RtGenMsg>())
            {
                if (a.Type == Rtnl.NETNSA_NSID) id = a.S32;
                else if (a.Type == Rtnl.NETNSA_CURRENT_NSID) current = a.S32 < 0 ? null : a.S32;
            }
            if (id is not null) result.Add(new NsidEntry(id.Value, current));
        }
        return result;
    }

    /// <summary>RTM_GETNSID for the namespace open as <paramref name="peerFd"/>, asked on <paramref name="socket"/>: the nsid the
    /// socket's namespace has for it, or null.</summary>
    internal static int? QueryNsid(NetlinkSocket socket, int peerFd, string peer)
    {
        var request = new NetlinkRequest(Rtnl.RTM_GETNSID, 0);
        request.Header(new RtGenMsg { Family = Rtnl.AF_UNSPEC });
        request.AttributeU32(Rtnl.NETNSA_FD, (uint)peerFd);
        List<NetlinkMessage> replies = socket.Request(request, $"get nsid of {peer} (RTM_GETNSID)");
        foreach (NetlinkMessage reply in replies)
        {
            if (reply.Type != Rtnl.RTM_NEWNSID) continue;
            foreach (AttributeReader a in reply.Attributes<RtGenMsg>())
            {
                if (a.Type == Rtnl.NETNSA_NSID) return a.S32 < 0 ? null : a.S32;
            }
        }
        return null;
    }

    /// <summary>Runs <paramref name="use"/> with <paramref name="peer"/>'s descriptor kept open for the kernel to resolve.</summary>
    private static T WithPeerFd<T>(NetworkNamespace peer, Func<int, T> use)
    {
        bool added = false;
        try
        {
            peer._fd.DangerousAddRef(ref added);
            return use(peer._fd.Fd);
        }
        finally
        {
            if (added) peer._fd.DangerousRelease();
        }
    }
}
