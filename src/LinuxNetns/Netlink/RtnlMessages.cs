using System.Net;
using System.Net.Sockets;

namespace LinuxNetns.Netlink;

/// <summary>
/// The rtnetlink requests the library sends, each built from what it means (a link index, an address and prefix, a
/// namespace descriptor): the message types, flags, family headers and attributes live here and nowhere else.
/// Pure: nothing here touches a socket or the kernel.
/// </summary>
internal static class RtnlMessages
{
    // What ip link asks for: VF details would bloat every message, statistics are never read.
    private const uint LinkDumpFilter = Rtnl.RTEXT_FILTER_VF | Rtnl.RTEXT_FILTER_SKIP_STATS;

    // ---- links --------------------------------------------------------------------------------------

    /// <summary>RTM_GETLINK for every link (send as a dump).</summary>
    public static NetlinkRequest GetLinks()
    {
        NetlinkRequest request = Link(Rtnl.RTM_GETLINK, 0);
        request.AttributeU32(Rtnl.IFLA_EXT_MASK, LinkDumpFilter);
        return request;
    }

    /// <summary>RTM_GETLINK for the link named <paramref name="name"/>.</summary>
    public static NetlinkRequest GetLink(string name)
    {
        NetlinkRequest request = Link(Rtnl.RTM_GETLINK, 0);
        request.AttributeString(Rtnl.IFLA_IFNAME, name);
        request.AttributeU32(Rtnl.IFLA_EXT_MASK, LinkDumpFilter);
        return request;
    }

    /// <summary>
    /// RTM_NEWLINK (create, exclusive) of a veth named <paramref name="name"/> in the socket's namespace whose peer
    /// <paramref name="peerName"/> is created directly in the namespace open as <paramref name="peerNamespaceFd"/>.
    /// </summary>
    public static NetlinkRequest NewVethPair(string name, string peerName, int peerNamespaceFd)
    {
        NetlinkRequest request = Link(Rtnl.RTM_NEWLINK, 0, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL);
        request.AttributeString(Rtnl.IFLA_IFNAME, name);
        request.BeginNested(Rtnl.IFLA_LINKINFO);
        request.AttributeString(Rtnl.IFLA_INFO_KIND, "veth");
        request.BeginNested(Rtnl.IFLA_INFO_DATA);
        // VETH_INFO_PEER: an ifinfomsg, then the peer's own attributes.
        request.BeginNested(Rtnl.VETH_INFO_PEER);
        request.Header(new IfInfoMsg { Family = Rtnl.AF_UNSPEC });
        request.AttributeString(Rtnl.IFLA_IFNAME, peerName);
        request.AttributeU32(Rtnl.IFLA_NET_NS_FD, (uint)peerNamespaceFd);
        request.EndNested();
        request.EndNested();
        request.EndNested();
        return request;
    }

    /// <summary>
    /// RTM_NEWLINK (create, exclusive) of a bridge named <paramref name="name"/> (<c>ip link add NAME type bridge
    /// mcast_snooping 0|1</c>).
    /// </summary>
    public static NetlinkRequest NewBridge(string name, bool multicastSnooping)
    {
        NetlinkRequest request = Link(Rtnl.RTM_NEWLINK, 0, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL);
        request.AttributeString(Rtnl.IFLA_IFNAME, name);
        request.BeginNested(Rtnl.IFLA_LINKINFO);
        request.AttributeString(Rtnl.IFLA_INFO_KIND, "bridge");
        request.BeginNested(Rtnl.IFLA_INFO_DATA);
        request.AttributeU8(Rtnl.IFLA_BR_MCAST_SNOOPING, multicastSnooping ? (byte)1 : (byte)0);
        request.EndNested();
        request.EndNested();
        return request;
    }

    /// <summary>RTM_NEWLINK that enslaves link <paramref name="index"/> to <paramref name="masterIndex"/>, or frees it
    /// (0; <c>ip link set dev NAME master BRIDGE | nomaster</c>).</summary>
    public static NetlinkRequest SetLinkMaster(int index, int masterIndex)
    {
        NetlinkRequest request = Link(Rtnl.RTM_NEWLINK, index);
        request.AttributeU32(Rtnl.IFLA_MASTER, (uint)masterIndex);
        return request;
    }

    /// <summary>RTM_DELLINK of link <paramref name="index"/>.</summary>
    public static NetlinkRequest DeleteLink(int index) => Link(Rtnl.RTM_DELLINK, index);

    /// <summary>RTM_NEWLINK that renames link <paramref name="index"/>.</summary>
    public static NetlinkRequest RenameLink(int index, string newName)
    {
        NetlinkRequest request = Link(Rtnl.RTM_NEWLINK, index);
        request.AttributeString(Rtnl.IFLA_IFNAME, newName);
        return request;
    }

    /// <summary>RTM_NEWLINK that sets link <paramref name="index"/> administratively up or down (IFF_UP alone changes).</summary>
    public static NetlinkRequest SetLinkUp(int index, bool up) =>
        Start(Rtnl.RTM_NEWLINK, new IfInfoMsg { Family = Rtnl.AF_UNSPEC, Index = index, Flags = up ? Rtnl.IFF_UP : 0, Change = Rtnl.IFF_UP });

    /// <summary>RTM_NEWLINK that sets the MTU of link <paramref name="index"/>.</summary>
    public static NetlinkRequest SetLinkMtu(int index, int mtu)
    {
        NetlinkRequest request = Link(Rtnl.RTM_NEWLINK, index);
        request.AttributeU32(Rtnl.IFLA_MTU, (uint)mtu);
        return request;
    }

    /// <summary>RTM_NEWLINK that moves link <paramref name="index"/> into the namespace open as
    /// <paramref name="destinationFd"/>, renamed to <paramref name="newName"/> when given.</summary>
    public static NetlinkRequest MoveLink(int index, int destinationFd, string? newName)
    {
        NetlinkRequest request = Link(Rtnl.RTM_NEWLINK, index);
        request.AttributeU32(Rtnl.IFLA_NET_NS_FD, (uint)destinationFd);
        if (newName is not null) request.AttributeString(Rtnl.IFLA_IFNAME, newName);
        return request;
    }

    // ---- addresses ----------------------------------------------------------------------------------

    /// <summary>RTM_GETADDR of both families (send as a dump).</summary>
    public static NetlinkRequest GetAddresses() => Start(Rtnl.RTM_GETADDR, new IfAddrMsg { Family = Rtnl.AF_UNSPEC });

    /// <summary>RTM_NEWADDR (create, exclusive) of <paramref name="address"/>/<paramref name="prefixLength"/> on link
    /// <paramref name="index"/>; an IPv6 address without duplicate address detection is flagged <c>nodad</c>.</summary>
    public static NetlinkRequest NewAddress(int index, IPAddress address, int prefixLength, bool duplicateAddressDetection = true) =>
        Address(Rtnl.RTM_NEWADDR, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL, index, address, prefixLength,
            !duplicateAddressDetection && address.AddressFamily == AddressFamily.InterNetworkV6 ? Rtnl.IFA_F_NODAD : (byte)0);

    /// <summary>RTM_DELADDR of <paramref name="address"/>/<paramref name="prefixLength"/> from link <paramref name="index"/>.</summary>
    public static NetlinkRequest DeleteAddress(int index, IPAddress address, int prefixLength) =>
        Address(Rtnl.RTM_DELADDR, 0, index, address, prefixLength, 0);

    private static NetlinkRequest Address(ushort type, ushort flags, int index, IPAddress address, int prefixLength, byte addressFlags)
    {
        NetlinkRequest request = Start(type, new IfAddrMsg
        {
            Family = NetlinkRequest.FamilyOf(address),
            PrefixLength = (byte)prefixLength,
            Flags = addressFlags,
            Index = index,
        }, flags);
        request.AttributeAddress(Rtnl.IFA_LOCAL, address);
        request.AttributeAddress(Rtnl.IFA_ADDRESS, address);
        return request;
    }

    // ---- routes -------------------------------------------------------------------------------------

    /// <summary>RTM_GETROUTE of every table and both families (send as a dump).</summary>
    public static NetlinkRequest GetRoutes() => Start(Rtnl.RTM_GETROUTE, new RtMsg { Family = Rtnl.AF_UNSPEC });

    /// <summary>RTM_NEWROUTE (create, exclusive) of a unicast route in the main table, as <c>ip route add</c> sends it.</summary>
    public static NetlinkRequest NewRoute(IPNetwork destination, IPAddress? gateway, int? outputLinkIndex)
    {
        byte family = NetlinkRequest.FamilyOf(destination.BaseAddress);
        return Route(Rtnl.RTM_NEWROUTE, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL, destination, gateway, outputLinkIndex,
            protocol: Rtnl.RTPROT_BOOT,
            // A route without a gateway reaches its destination directly on the link (IPv4 scope link, as ip does).
            scope: gateway is null && family == Rtnl.AF_INET ? Rtnl.RT_SCOPE_LINK : Rtnl.RT_SCOPE_UNIVERSE,
            routeType: Rtnl.RTN_UNICAST);
    }

    // A delete says "any scope" (RT_SCOPE_NOWHERE), as ip route del does: the kernel compares any other scope
    // exactly, so a delete with scope universe would miss a scope-link route. Protocol and type 0 likewise match any.
    /// <summary>RTM_DELROUTE from the main table, as <c>ip route del</c> sends it.</summary>
    public static NetlinkRequest DeleteRoute(IPNetwork destination, IPAddress? gateway, int? outputLinkIndex) =>
        Route(Rtnl.RTM_DELROUTE, 0, destination, gateway, outputLinkIndex, protocol: 0, scope: Rtnl.RT_SCOPE_NOWHERE, routeType: 0);

    private static NetlinkRequest Route(ushort type, ushort flags, IPNetwork destination, IPAddress? gateway, int? outputLinkIndex,
        byte protocol, byte scope, byte routeType)
    {
        NetlinkRequest request = Start(type, new RtMsg
        {
            Family = NetlinkRequest.FamilyOf(destination.BaseAddress),
            DestinationLength = (byte)destination.PrefixLength,
            Table = Rtnl.RT_TABLE_MAIN,
            Protocol = protocol,
            Scope = scope,
            Type = routeType,
        }, flags);
        if (destination.PrefixLength > 0) request.AttributeAddress(Rtnl.RTA_DST, destination.BaseAddress);
        if (gateway is not null) request.AttributeAddress(Rtnl.RTA_GATEWAY, gateway);
        if (outputLinkIndex is not null) request.AttributeU32(Rtnl.RTA_OIF, (uint)outputLinkIndex.Value);
        return request;
    }

    // ---- traffic control ----------------------------------------------------------------------------

    /// <summary>
    /// RTM_NEWQDISC (create or replace) of a token bucket as the root qdisc of link <paramref name="index"/>, as
    /// <c>tc qdisc replace dev LINK root tbf rate R burst B limit L</c> sends it: the rate with its link layer set
    /// (so the kernel needs no rate table), the bucket as bytes (TCA_TBF_BURST) and as time (the struct's buffer),
    /// and the rate in TCA_TBF_RATE64 as well when it does not fit 32 bits.
    /// </summary>
    public static NetlinkRequest ReplaceTokenBucket(int index, ulong bytesPerSecond, uint burstBytes, uint limitBytes)
    {
        NetlinkRequest request = Start(Rtnl.RTM_NEWQDISC, new TcMsg { Family = Rtnl.AF_UNSPEC, Index = index, Parent = Rtnl.TC_H_ROOT },
            Rtnl.NLM_F_CREATE | Rtnl.NLM_F_REPLACE);
        request.AttributeString(Rtnl.TCA_KIND, "tbf");
        request.BeginNested(Rtnl.TCA_OPTIONS);
        ulong bufferTicks = (ulong)(burstBytes * 1_000_000_000.0 / bytesPerSecond / Rtnl.PschedTickNs);
        request.AttributeStruct(Rtnl.TCA_TBF_PARMS, new TcTbfQopt
        {
            Rate = new TcRateSpec
            {
                CellLog = 3, // what tc computes for its default 2047-byte cell table; unused with a link layer set
                LinkLayer = Rtnl.TC_LINKLAYER_ETHERNET,
                CellAlign = -1,
                Rate = bytesPerSecond >= uint.MaxValue ? uint.MaxValue : (uint)bytesPerSecond,
            },
            Limit = limitBytes,
            Buffer = (uint)Math.Min(bufferTicks, uint.MaxValue),
        });
        request.AttributeU32(Rtnl.TCA_TBF_BURST, burstBytes);
        if (bytesPerSecond >= uint.MaxValue) request.AttributeU64(Rtnl.TCA_TBF_RATE64, bytesPerSecond);
        request.EndNested();
        return request;
    }

    /// <summary>RTM_DELQDISC of the root qdisc of link <paramref name="index"/> (<c>tc qdisc del dev LINK root</c>).</summary>
    public static NetlinkRequest DeleteRootQdisc(int index) =>
        Start(Rtnl.RTM_DELQDISC, new TcMsg { Family = Rtnl.AF_UNSPEC, Index = index, Parent = Rtnl.TC_H_ROOT });

    /// <summary>RTM_GETQDISC of every qdisc (send as a dump).</summary>
    public static NetlinkRequest GetQdiscs() => Start(Rtnl.RTM_GETQDISC, new TcMsg { Family = Rtnl.AF_UNSPEC });

    // ---- nsids --------------------------------------------------------------------------------------

    /// <summary>RTM_NEWNSID that assigns <paramref name="nsid"/> (null: any free one) to the namespace open as
    /// <paramref name="peerFd"/>.</summary>
    public static NetlinkRequest NewNsid(int peerFd, int? nsid)
    {
        NetlinkRequest request = Nsid(Rtnl.RTM_NEWNSID);
        request.AttributeU32(Rtnl.NETNSA_FD, (uint)peerFd);
        request.AttributeS32(Rtnl.NETNSA_NSID, nsid ?? Rtnl.NETNSA_NSID_NOT_ASSIGNED);
        return request;
    }

    /// <summary>RTM_GETNSID for the namespace open as <paramref name="peerFd"/>.</summary>
    public static NetlinkRequest GetNsidOf(int peerFd)
    {
        NetlinkRequest request = Nsid();
        request.AttributeU32(Rtnl.NETNSA_FD, (uint)peerFd);
        return request;
    }

    /// <summary>RTM_GETNSID for the peer known as <paramref name="nsid"/>, optionally as seen by the namespace known
    /// as <paramref name="targetNsid"/>.</summary>
    public static NetlinkRequest GetNsid(int nsid, int? targetNsid)
    {
        NetlinkRequest request = Nsid();
        request.AttributeS32(Rtnl.NETNSA_NSID, nsid);
        if (targetNsid is not null) request.AttributeS32(Rtnl.NETNSA_TARGET_NSID, targetNsid.Value);
        return request;
    }

    /// <summary>RTM_GETNSID of every nsid, of the namespace known as <paramref name="targetNsid"/> when given (send as a dump).</summary>
    public static NetlinkRequest GetNsids(int? targetNsid = null)
    {
        NetlinkRequest request = Nsid();
        if (targetNsid is not null) request.AttributeS32(Rtnl.NETNSA_TARGET_NSID, targetNsid.Value);
        return request;
    }

    // ---- the preamble -------------------------------------------------------------------------------

    /// <summary>Every request starts alike: its type and flags, then its fixed family header.</summary>
    private static NetlinkRequest Start<T>(ushort type, in T header, ushort flags = 0) where T : unmanaged
    {
        var request = new NetlinkRequest(type, flags);
        request.Header(header);
        return request;
    }

    private static NetlinkRequest Link(ushort type, int index, ushort flags = 0) =>
        Start(type, new IfInfoMsg { Family = Rtnl.AF_UNSPEC, Index = index }, flags);

    private static NetlinkRequest Nsid(ushort type = Rtnl.RTM_GETNSID) => Start(type, new RtGenMsg { Family = Rtnl.AF_UNSPEC });
}
