using LinuxNetns.Interop;
using LinuxNetns.Logging;
using LinuxNetns.Netlink;

namespace LinuxNetns.Networking;

// The nsid operations (ip netns set / list-id, the ids in ip netns list).
public sealed partial class NetworkConfiguration
{
    /// <summary>
    /// The nsid under which this namespace knows <paramref name="peer"/> (what <c>ip netns list</c> prints as
    /// <c>(id: N)</c> when this is the caller's namespace), or null when none is assigned.
    /// </summary>
    /// <param name="peer">Any open namespace, this one included.</param>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public int? GetNsid(NetworkNamespace peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return peer.WithDescriptor(fd => QueryNsid(Netlink, fd, peer.ToString()));
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
        peer.WithDescriptor(fd =>
        {
            Netlink.Request(RtnlMessages.NewNsid(fd, nsid), $"set nsid {(nsid?.ToString() ?? "auto")} of {peer} (RTM_NEWNSID)", errno => errno == Libc.EEXIST
                ? "An nsid is assigned once and never changed: either the peer already has one here (see GetNsid), or that number is taken by another namespace (see ListNsids)."
                : null);
            return true;
        });
        int assigned = GetNsid(peer) ?? throw new NetlinkException("set nsid", _namespace.ToString(), Errno.None, null,
            $"set nsid of {peer} in \"{_namespace}\": the kernel accepted the request but reports no nsid for the peer afterwards.");
        _namespace.Options.Logger.NsidAssigned(assigned, peer.ToString(), _namespace.ToString());
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

    // ip netns list-id nsid N [target-nsid T]: one nsid looked up with a plain RTM_GETNSID (NETNSA_NSID), not a dump, so
    // that the kernel's answer (and its refusal text) is exactly the one iproute2 gets.
    /// <summary>
    /// Looks up the peer that this namespace knows as <paramref name="nsid"/> (<c>ip netns list-id nsid N</c>). Without
    /// a target the entry is simply (<paramref name="nsid"/>, null). With <paramref name="targetNsid"/> it is the id that
    /// the namespace this one knows as <paramref name="targetNsid"/> has for the same peer (-1 when it has none), with
    /// <see cref="NsidEntry.CurrentNsid"/> = <paramref name="nsid"/> (<c>ip netns list-id target-nsid T nsid N</c>).
    /// </summary>
    /// <param name="nsid">An nsid assigned in this namespace.</param>
    /// <param name="targetNsid">Optionally, the nsid (in this namespace) of the namespace whose view is wanted.</param>
    /// <exception cref="NetlinkException">No peer has <paramref name="nsid"/> here ("Peer netns reference is invalid"),
    /// no namespace has <paramref name="targetNsid"/> here, or the kernel refused the request.</exception>
    public NsidEntry LookupNsid(int nsid, int? targetNsid = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nsid);
        if (targetNsid is < 0) throw new ArgumentOutOfRangeException(nameof(targetNsid), targetNsid, "An nsid is 0 or more.");

        NetlinkRequest request = RtnlMessages.GetNsid(nsid, targetNsid);
        string operation = targetNsid is null
            ? $"look up nsid {nsid} (RTM_GETNSID)"
            : $"look up nsid {nsid} in target-nsid {targetNsid} (RTM_GETNSID)";
        List<NetlinkMessage> replies = Netlink.Request(request, operation, errno => errno is Libc.ENOENT or Libc.EINVAL
            ? $"No namespace has nsid {nsid}{(targetNsid is null ? "" : $" (or {targetNsid})")} in \"{_namespace}\": see ListNsids()."
            : null);
        return RtnlReplies.NsidLookup(replies)
            ?? throw new NetlinkException(operation, _namespace.ToString(), Errno.None, null, $"{operation} in \"{_namespace}\": the kernel sent no RTM_NEWNSID answer.");
    }

    private List<NsidEntry> DumpNsids(int? target)
    {
        string operation = target is null ? "list nsids (RTM_GETNSID dump)" : $"list nsids of target-nsid {target} (RTM_GETNSID dump)";
        List<NetlinkMessage> replies = Netlink.Dump(() => RtnlMessages.GetNsids(target), operation, errno => errno is Libc.EINVAL or Libc.ENOENT && target is not null
            ? $"No namespace has nsid {target} in \"{_namespace}\": see ListNsids()."
            : null);
        return RtnlReplies.NsidEntries(replies);
    }

    /// <summary>RTM_GETNSID for the namespace open as <paramref name="peerFd"/>, asked on <paramref name="socket"/>: the nsid the
    /// socket's namespace has for it, or null.</summary>
    internal static int? QueryNsid(NetlinkSocket socket, int peerFd, string peer) =>
        RtnlReplies.NsidOf(socket.Request(RtnlMessages.GetNsidOf(peerFd), $"get nsid of {peer} (RTM_GETNSID)"));
}
