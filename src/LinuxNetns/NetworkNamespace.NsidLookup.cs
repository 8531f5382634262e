using LinuxNetns.Interop;
using LinuxNetns.Netlink;

namespace LinuxNetns;

// ip netns list-id nsid N [target-nsid T]: one nsid looked up with a plain RTM_GETNSID (NETNSA_NSID), not a dump, so
// that the kernel's answer (and its refusal text) is exactly the one iproute2 gets.
public sealed partial class NetworkNamespace
{
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

        var request = new NetlinkRequest(Rtnl.RTM_GETNSID, 0);
        request.Header(new RtGenMsg { Family = Rtnl.AF_UNSPEC });
        request.AttributeS32(Rtnl.NETNSA_NSID, nsid);
        if (targetNsid is not null) request.AttributeS32(Rtnl.NETNSA_TARGET_NSID, targetNsid.Value);
        string operation = targetNsid is null
            ? $"look up nsid {nsid} (RTM_GETNSID)"
            : $"look up nsid {nsid} in target-nsid {targetNsid} (RTM_GETNSID)";
        List<NetlinkMessage> replies = Netlink.Request(request, operation, errno => errno is Libc.ENOENT or Libc.EINVAL
            ? $"No namespace has nsid {nsid}{(targetNsid is null ? "" : $" (or {targetNsid})")} in \"{this}\": see ListNsids()."
            : null);

        foreach (NetlinkMessage reply in replies)
        {
            if (reply.Type != Rtnl.RTM_NEWNSID) continue;
            int id = Rtnl.NETNSA_NSID_NOT_ASSIGNED;
            int? current = null;
            foreach (AttributeReader a in reply.Attributes<RtGenMsg>())
            {
                if (a.Type == Rtnl.NETNSA_NSID) id = a.S32;
                else if (a.Type == Rtnl.NETNSA_CURRENT_NSID) current = a.S32 < 0 ? null : a.S32;
            }
            return new NsidEntry(id < 0 ? Rtnl.NETNSA_NSID_NOT_ASSIGNED : id, current);
        }
        throw new NetlinkException(operation, ToString(), Errno.None, null, $"{operation} in \"{this}\": the kernel sent no RTM_NEWNSID answer.");
    }
}
