using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using LinuxNetns.Interop;
using LinuxNetns.Netlink;

namespace LinuxNetns;

// Links, addresses and routes of this namespace, through its rtnetlink socket (ip -n NAME link / addr / route).
public sealed partial class NetworkNamespace
{
    private const int IfNameMax = 15; // IFNAMSIZ - 1
    private const uint RTEXT_FILTER_VF = 1;
    private const uint RTEXT_FILTER_SKIP_STATS = 1 << 3;

    // ---- links --------------------------------------------------------------------------------------

    /// <summary>The links of this namespace, in index order (<c>ip -n NAME link show</c>).</summary>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public IReadOnlyList<NetworkLink> GetLinks()
    {
        List<NetlinkMessage> replies = Netlink.Dump(() =>
        {
            var request = new NetlinkRequest(Rtnl.RTM_GETLINK, 0);
            request.Header(new IfInfoMsg { Family = Rtnl.AF_UNSPEC });
            request.AttributeU32(Rtnl.IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);
            return request;
        }, "list links (RTM_GETLINK dump)");
        var links = new List<NetworkLink>(replies.Count);
        foreach (NetlinkMessage m in replies)
        {
            if (m.Type == Rtnl.RTM_NEWLINK) links.Add(ParseLink(m));
        }
        links.Sort((a, b) => a.Index.CompareTo(b.Index));
        return links;
    }

    /// <summary>The link named <paramref name="name"/>, or null when this namespace has none of that name.</summary>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public NetworkLink? FindLink(string name)
    {
        ValidateLinkName(name);
        var request = new NetlinkRequest(Rtnl.RTM_GETLINK, 0);
        request.Header(new IfInfoMsg { Family = Rtnl.AF_UNSPEC });
        request.AttributeString(Rtnl.IFLA_IFNAME, name);
        request.AttributeU32(Rtnl.IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);
        try
        {
            List<NetlinkMessage> replies = Netlink.Request(request, $"get link \"{name}\" (RTM_GETLINK)");
            NetlinkMessage? reply = replies.Find(m => m.Type == Rtnl.RTM_NEWLINK);
            return reply is null ? null : ParseLink(reply);
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENODEV)
        {
            return null;
        }
    }

    /// <summary>
    /// Creates a veth pair: <paramref name="name"/> in this namespace and its peer <paramref name="peerName"/> directly
    /// in <paramref name="peerNamespace"/> (<c>ip link add NAME netns THIS type veth peer PEER netns PEER_NS</c>).
    /// Neither end ever appears in any other namespace. Both ends start down; when either namespace dies, the kernel
    /// deletes the pair.
    /// </summary>
    /// <param name="name">The end in this namespace (1 to 15 bytes, no '/', ':' or whitespace).</param>
    /// <param name="peerNamespace">Where the other end goes; may be this namespace.</param>
    /// <param name="peerName">The other end's name.</param>
    /// <exception cref="ArgumentException">A name is not a valid interface name.</exception>
    /// <exception cref="NetlinkException">The kernel refused (EEXIST: a link of that name exists; the message says where).</exception>
    public void CreateVethPair(string name, NetworkNamespace peerNamespace, string peerName)
    {
        ValidateLinkName(name);
        ValidateLinkName(peerName, nameof(peerName));
        ArgumentNullException.ThrowIfNull(peerNamespace);
        WithPeerFd(peerNamespace, peerFd =>
        {
            var request = new NetlinkRequest(Rtnl.RTM_NEWLINK, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL);
            request.Header(new IfInfoMsg { Family = Rtnl.AF_UNSPEC });
            request.AttributeString(Rtnl.IFLA_IFNAME, name);
            request.BeginNested(Rtnl.IFLA_LINKINFO);
            request.AttributeString(Rtnl.IFLA_INFO_KIND, "veth");
            request.BeginNested(Rtnl.IFLA_INFO_DATA);
            // VETH_INFO_PEER: an ifinfomsg, then the peer's own attributes.
            request.BeginNested(Rtnl.VETH_INFO_PEER);
            request.Header(new IfInfoMsg { Family = Rtnl.AF_UNSPEC });
            request.AttributeString(Rtnl.IFLA_IFNAME, peerName);
            request.AttributeU32(Rtnl.IFLA_NET_NS_FD, (uint)peerFd);
            request.EndNested();
            request.EndNested();
            request.EndNested();
            Netlink.Request(request, $"create veth pair \"{name}\" / \"{peerName}\" in {peerNamespace} (RTM_NEWLINK)", errno => errno switch
            {
                Libc.EEXIST => $"A link named \"{name}\" exists in \"{this}\", or one named \"{peerName}\" in \"{peerNamespace}\": pick other names or delete it.",
                Libc.EOPNOTSUPP => "The kernel has no veth support (CONFIG_VETH): load the veth module (modprobe veth).",
                _ => null,
            });
            return true;
        });
    }

    /// <summary>Creates a veth pair with both ends in this namespace.</summary>
    /// <inheritdoc cref="CreateVethPair(string, NetworkNamespace, string)"/>
    public void CreateVethPair(string name, string peerName) => CreateVethPair(name, this, peerName);

    /// <summary>Deletes a link (<c>ip link delete NAME</c>); deleting one end of a veth pair deletes both.</summary>
    /// <exception cref="NetlinkException">No such link (ENODEV), or the kernel refused.</exception>
    public void DeleteLink(string name)
    {
        int index = ResolveLink(name, "delete link");
        var request = new NetlinkRequest(Rtnl.RTM_DELLINK, 0);
        request.Header(new IfInfoMsg { Family = Rtnl.AF_UNSPEC, Index = index });
        Netlink.Request(request, $"delete link \"{name}\" (RTM_DELLINK)", errno => errno == Libc.EOPNOTSUPP
            ? $"\"{name}\" cannot be deleted (e.g. lo, or a physical device)."
            : null);
    }

    /// <summary>Renames a link (<c>ip link set dev NAME name NEWNAME</c>). The kernel renames only links that are down.</summary>
    /// <exception cref="NetlinkException">No such link, the new name is taken (EEXIST), or the link is up (EBUSY).</exception>
    public void RenameLink(string name, string newName)
    {
        ValidateLinkName(newName, nameof(newName));
        int index = ResolveLink(name, "rename link");
        var request = new NetlinkRequest(Rtnl.RTM_NEWLINK, 0);
        request.Header(new IfInfoMsg { Family = Rtnl.AF_UNSPEC, Index = index });
        request.AttributeString(Rtnl.IFLA_IFNAME, newName);
        Netlink.Request(request, $"rename link \"{name}\" to \"{newName}\" (RTM_NEWLINK)", errno => errno switch
        {
            Libc.EBUSY => $"\"{name}\" is up: set it down first (SetLinkDown), rename, then set it up again.",
            Libc.EEXIST => $"A link named \"{newName}\" already exists in \"{this}\".",
            _ => null,
        });
    }

    /// <summary>Sets a link administratively up (<c>ip link set dev NAME up</c>).</summary>
    /// <exception cref="NetlinkException">No such link, or the kernel refused.</exception>
    public void SetLinkUp(string name) => SetLinkFlags(name, Rtnl.IFF_UP, "up");

    /// <summary>Sets a link administratively down (<c>ip link set dev NAME down</c>).</summary>
    /// <exception cref="NetlinkException">No such link, or the kernel refused.</exception>
    public void SetLinkDown(string name) => SetLinkFlags(name, 0, "down");

    /// <summary>Sets the loopback link <c>lo</c> up, which a new namespace starts without (<c>ip link set lo up</c>).</summary>
    public void BringLoopbackUp() => SetLinkUp("lo");

    /// <summary>Sets a link's MTU (<c>ip link set dev NAME mtu MTU</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mtu"/> is not positive.</exception>
    /// <exception cref="NetlinkException">No such link, or the MTU is out of the device's range (the kernel's message says which bound).</exception>
    public void SetLinkMtu(string name, int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mtu);
        int index = ResolveLink(name, "set mtu of link");
        var request = new NetlinkRequest(Rtnl.RTM_NEWLINK, 0);
        request.Header(new IfInfoMsg { Family = Rtnl.AF_UNSPEC, Index = index });
        request.AttributeU32(Rtnl.IFLA_MTU, (uint)mtu);
        Netlink.Request(request, $"set mtu {mtu} of link \"{name}\" (RTM_NEWLINK)");
    }

    /// <summary>
    /// Moves a link into <paramref name="destination"/> (<c>ip link set dev NAME netns DEST</c>), optionally renaming it
    /// on the way. It keeps nothing of its addresses and comes up down. Virtual links are deleted when the namespace
    /// they are in dies; physical ones return to the initial namespace.
    /// </summary>
    /// <exception cref="NetlinkException">No such link, a link of that name exists in <paramref name="destination"/> (EEXIST), or the link cannot move (EINVAL, e.g. lo).</exception>
    public void MoveLink(string name, NetworkNamespace destination, string? newName = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (newName is not null) ValidateLinkName(newName, nameof(newName));
        int index = ResolveLink(name, "move link");
        WithPeerFd(destination, fd =>
        {
            var request = new NetlinkRequest(Rtnl.RTM_NEWLINK, 0);
            request.Header(new IfInfoMsg { Family = Rtnl.AF_UNSPEC, Index = index });
            request.AttributeU32(Rtnl.IFLA_NET_NS_FD, (uint)fd);
            if (newName is not null) request.AttributeString(Rtnl.IFLA_IFNAME, newName);
            Netlink.Request(request, $"move link \"{name}\" to {destination} (RTM_NEWLINK)", errno => errno switch
            {
                Libc.EEXIST => $"A link named \"{newName ?? name}\" already exists in \"{destination}\": pass a new name.",
                Libc.EINVAL => $"\"{name}\" cannot change namespace (lo and some devices are bound to theirs).",
                _ => null,
            });
            return true;
        });
    }

    // ---- addresses ----------------------------------------------------------------------------------

    /// <summary>The IPv4 and IPv6 addresses of this namespace's links (<c>ip -n NAME addr show</c>).</summary>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public IReadOnlyList<LinkAddress> GetAddresses()
    {
        Dictionary<int, string> names = GetLinks().ToDictionary(l => l.Index, l => l.Name);
        List<NetlinkMessage> replies = Netlink.Dump(() =>
        {
            var request = new NetlinkRequest(Rtnl.RTM_GETADDR, 0);
            request.Header(new IfAddrMsg { Family = Rtnl.AF_UNSPEC });
            return request;
        }, "list addresses (RTM_GETADDR dump)");
        var result = new List<LinkAddress>(replies.Count);
        foreach (NetlinkMessage m in replies)
        {
            if (m.Type != Rtnl.RTM_NEWADDR) continue;
            IfAddrMsg h = m.Header<IfAddrMsg>();
            IPAddress? address = null, local = null, broadcast = null;
            string? label = null;
            uint flags = h.Flags;
            foreach (AttributeReader a in m.Attributes<IfAddrMsg>())
            {
                switch (a.Type)
                {
                    case Rtnl.IFA_ADDRESS: address = a.Address; break;
                    case Rtnl.IFA_LOCAL: local = a.Address; break;
                    case Rtnl.IFA_BROADCAST: broadcast = a.Address; break;
                    case Rtnl.IFA_LABEL: label = a.String; break;
                    case Rtnl.IFA_FLAGS: flags = a.U32; break;
                }
            }
            IPAddress? own = local ?? address;
            if (own is null) continue;
            result.Add(new LinkAddress
            {
                LinkIndex = h.Index,
                LinkName = names.GetValueOrDefault(h.Index, $"if{h.Index}"),
                Address = own,
                PrefixLength = h.PrefixLength,
                Peer = local is not null && address is not null && !address.Equals(local) ? address : null,
                Broadcast = broadcast,
                Scope = (AddressScope)h.Scope,
                Flags = (AddressFlags)flags,
                Label = label,
            });
        }
        return result;
    }

    /// <summary>
    /// Adds an address to a link (<c>ip addr add ADDRESS/PREFIX dev LINK</c>). An IPv6 address normally stays
    /// <see cref="AddressFlags.Tentative"/> (unusable) for a second or more while duplicate address detection runs;
    /// pass <paramref name="duplicateAddressDetection"/> false (<c>nodad</c>) to use it at once, e.g. on a veth
    /// between test namespaces.
    /// </summary>
    /// <param name="linkName">The link.</param>
    /// <param name="address">An IPv4 or IPv6 address.</param>
    /// <param name="prefixLength">0 to 32 (IPv4) or 0 to 128 (IPv6).</param>
    /// <param name="duplicateAddressDetection">False to add an IPv6 address with <c>nodad</c>; ignored for IPv4.</param>
    /// <exception cref="ArgumentOutOfRangeException">The prefix length is out of range.</exception>
    /// <exception cref="NetlinkException">No such link, the address exists (EEXIST), or the kernel refused.</exception>
    public void AddAddress(string linkName, IPAddress address, int prefixLength, bool duplicateAddressDetection = true) =>
        ChangeAddress(Rtnl.RTM_NEWADDR, linkName, address, prefixLength, duplicateAddressDetection);

    /// <summary>Adds an address written as <c>ADDRESS/PREFIX</c>, e.g. <c>10.0.0.1/24</c> or <c>fd00::1/64</c>.</summary>
    /// <inheritdoc cref="AddAddress(string, IPAddress, int, bool)"/>
    /// <exception cref="FormatException">The text is not <c>ADDRESS/PREFIX</c>.</exception>
    public void AddAddress(string linkName, string addressWithPrefix, bool duplicateAddressDetection = true)
    {
        (IPAddress address, int prefix) = ParseAddressWithPrefix(addressWithPrefix);
        AddAddress(linkName, address, prefix, duplicateAddressDetection);
    }

    /// <summary>Removes an address from a link (<c>ip addr del ADDRESS/PREFIX dev LINK</c>).</summary>
    /// <exception cref="NetlinkException">No such link, or the link has no such address (EADDRNOTAVAIL).</exception>
    public void RemoveAddress(string linkName, IPAddress address, int prefixLength) =>
        ChangeAddress(Rtnl.RTM_DELADDR, linkName, address, prefixLength, true);

    /// <summary>Parses <c>ADDRESS/PREFIX</c>.</summary>
    /// <exception cref="FormatException">The text is not <c>ADDRESS/PREFIX</c> with a prefix in range.</exception>
    public static (IPAddress Address, int PrefixLength) ParseAddressWithPrefix(string addressWithPrefix)
    {
        ArgumentNullException.ThrowIfNull(addressWithPrefix);
        int slash = addressWithPrefix.IndexOf('/');
        if (slash > 0
            && IPAddress.TryParse(addressWithPrefix.AsSpan(0, slash), out IPAddress? address)
            && int.TryParse(addressWithPrefix.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int prefix)
            && prefix <= MaxPrefix(address))
        {
            return (address, prefix);
        }
        throw new FormatException($"\"{addressWithPrefix}\" is not ADDRESS/PREFIX (e.g. 10.0.0.1/24 or fd00::1/64).");
    }

    private void ChangeAddress(ushort type, string linkName, IPAddress address, int prefixLength, bool dad)
    {
        ArgumentNullException.ThrowIfNull(address);
        byte family = NetlinkRequest.FamilyOf(address);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, MaxPrefix(address));
        bool add = type == Rtnl.RTM_NEWADDR;
        string verb = add ? "add" : "remove";
        int index = ResolveLink(linkName, $"{verb} address {address}/{prefixLength} on link");
        var request = new NetlinkRequest(type, add ? (ushort)(Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL) : (ushort)0);
        request.Header(new IfAddrMsg
        {
            Family = family,
            PrefixLength = (byte)prefixLength,
            Flags = add && !dad && family == Rtnl.AF_INET6 ? (byte)AddressFlags.NoDad : (byte)0,
            Index = index,
        });
        request.AttributeAddress(Rtnl.IFA_LOCAL, address);
        request.AttributeAddress(Rtnl.IFA_ADDRESS, address);
        Netlink.Request(request, $"{verb} address {address}/{prefixLength} on link \"{linkName}\" ({Rtnl.TypeName(type)})", errno => errno switch
        {
            Libc.EEXIST => $"\"{linkName}\" already has {address}.",
            Libc.EADDRNOTAVAIL => $"\"{linkName}\" has no address {address}/{prefixLength}; see GetAddresses().",
            Libc.EACCES when family == Rtnl.AF_INET6 => "IPv6 is disabled on this link (net.ipv6.conf.LINK.disable_ipv6).",
            _ => null,
        });
    }

    private static int MaxPrefix(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;

    // ---- routes -------------------------------------------------------------------------------------

    /// <summary>The routes of every table of this namespace (<c>ip -n NAME route show table all</c>, both families).</summary>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public IReadOnlyList<NetworkRoute> GetRoutes()
    {
        Dictionary<int, string> names = GetLinks().ToDictionary(l => l.Index, l => l.Name);
        List<NetlinkMessage> replies = Netlink.Dump(() =>
        {
            var request = new NetlinkRequest(Rtnl.RTM_GETROUTE, 0);
            request.Header(new RtMsg { Family = Rtnl.AF_UNSPEC });
            return request;
        }, "list routes (RTM_GETROUTE dump)");
        var result = new List<NetworkRoute>(replies.Count);
        foreach (NetlinkMessage m in replies)
        {
            if (m.Type != Rtnl.RTM_NEWROUTE) continue;
            RtMsg h = m.Header<RtMsg>();
            if (h.Family is not (Rtnl.AF_INET or Rtnl.AF_INET6)) continue;
            IPAddress? destination = null, gateway = null, source = null;
            int? oif = null, metric = null;
            int table = h.Table;
            foreach (AttributeReader a in m.Attributes<RtMsg>())
            {
                switch (a.Type)
                {
                    case Rtnl.RTA_DST: destination = a.Address; break;
                    case Rtnl.RTA_GATEWAY: gateway = a.Address; break;
                    case Rtnl.RTA_PREFSRC: source = a.Address; break;
                    case Rtnl.RTA_OIF: oif = a.S32; break;
                    case Rtnl.RTA_PRIORITY: metric = a.S32; break;
                    case Rtnl.RTA_TABLE: table = a.S32; break;
                }
            }
            destination ??= h.Family == Rtnl.AF_INET6 ? IPAddress.IPv6Any : IPAddress.Any;
            result.Add(new NetworkRoute
            {
                Destination = new IPNetwork(destination, h.DestinationLength),
                Gateway = gateway,
                OutputLinkIndex = oif,
                OutputLinkName = oif is { } i ? names.GetValueOrDefault(i) : null,
                PreferredSource = source,
                Table = table,
                Scope = (AddressScope)h.Scope,
                Protocol = h.Protocol,
                Type = h.Type,
                Metric = metric,
            });
        }
        return result;
    }

    /// <summary>
    /// Adds a route to the main table (<c>ip route add DEST [via GATEWAY] [dev LINK]</c>). Give a gateway, a link or
    /// both; a route with only a link is directly connected (scope link).
    /// </summary>
    /// <exception cref="ArgumentException">Neither gateway nor link given, or the families differ.</exception>
    /// <exception cref="NetlinkException">The route exists (EEXIST), the gateway is unreachable (ENETUNREACH), or the kernel refused.</exception>
    public void AddRoute(IPNetwork destination, IPAddress? gateway = null, string? linkName = null) =>
        ChangeRoute(Rtnl.RTM_NEWROUTE, destination, gateway, linkName);

    /// <summary>Removes a route from the main table (<c>ip route del DEST [via GATEWAY] [dev LINK]</c>).</summary>
    /// <exception cref="NetlinkException">No such route (ESRCH), or the kernel refused.</exception>
    public void RemoveRoute(IPNetwork destination, IPAddress? gateway = null, string? linkName = null) =>
        ChangeRoute(Rtnl.RTM_DELROUTE, destination, gateway, linkName);

    private void ChangeRoute(ushort type, IPNetwork destination, IPAddress? gateway, string? linkName)
    {
        bool add = type == Rtnl.RTM_NEWROUTE;
        if (add && gateway is null && linkName is null)
            throw new ArgumentException("A route needs a gateway, a link, or both.", nameof(gateway));
        byte family = NetlinkRequest.FamilyOf(destination.BaseAddress);
        if (gateway is not null && NetlinkRequest.FamilyOf(gateway) != family)
            throw new ArgumentException($"The gateway {gateway} is not of the destination's family ({destination}).", nameof(gateway));
        int? index = linkName is null ? null : ResolveLink(linkName, $"{(add ? "add" : "remove")} route {destination} via link");

        var request = new NetlinkRequest(type, add ? (ushort)(Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL) : (ushort)0);
        request.Header(new RtMsg
        {
            Family = family,
            DestinationLength = (byte)destination.PrefixLength,
            Table = Rtnl.RT_TABLE_MAIN,
            Protocol = add ? Rtnl.RTPROT_BOOT : (byte)0,
            // A route without a gateway reaches its destination directly on the link (IPv4 scope link, as ip does).
            // A delete says "any scope" (RT_SCOPE_NOWHERE), as ip route del does: the kernel compares any other
            // scope exactly, so a delete with scope universe would miss the scope-link route added above.
            // Protocol and type 0 likewise match any.
            Scope = !add ? Rtnl.RT_SCOPE_NOWHERE
                : gateway is null && family == Rtnl.AF_INET ? Rtnl.RT_SCOPE_LINK
                : Rtnl.RT_SCOPE_UNIVERSE,
            Type = add ? Rtnl.RTN_UNICAST : (byte)0,
        });
        if (destination.PrefixLength > 0) request.AttributeAddress(Rtnl.RTA_DST, destination.BaseAddress);
        if (gateway is not null) request.AttributeAddress(Rtnl.RTA_GATEWAY, gateway);
        if (index is not null) request.AttributeU32(Rtnl.RTA_OIF, (uint)index.Value);
        string via = (gateway is null ? "" : $" via {gateway}") + (linkName is null ? "" : $" dev {linkName}");
        Netlink.Request(request, $"{(add ? "add" : "remove")} route {destination}{via} ({Rtnl.TypeName(type)})", errno => errno switch
        {
            Libc.EEXIST => $"A route to {destination} exists already; remove it first.",
            Libc.ESRCH => $"No route to {destination}{via} in the main table; see GetRoutes().",
            Libc.ENETUNREACH => $"The gateway {gateway} is not on any connected network of this namespace: add an address on the link first.",
            _ => null,
        });
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private void SetLinkFlags(string name, uint flags, string state)
    {
        int index = ResolveLink(name, $"set link {state}");
        var request = new NetlinkRequest(Rtnl.RTM_NEWLINK, 0);
        request.Header(new IfInfoMsg { Family = Rtnl.AF_UNSPEC, Index = index, Flags = flags, Change = Rtnl.IFF_UP });
        Netlink.Request(request, $"set link \"{name}\" {state} (RTM_NEWLINK)");
    }

    /// <summary>The index of the link named <paramref name="name"/>; a clear error listing the links there if none.</summary>
    private int ResolveLink(string name, string operation)
    {
        ValidateLinkName(name);
        NetworkLink? link = FindLink(name);
        if (link is not null) return link.Index;
        string existing = string.Join(", ", GetLinks().Select(l => l.Name));
        throw new NetlinkException(operation, ToString(), Errno.ENODEV, null,
            $"{operation} \"{name}\" in \"{this}\" failed: {NamespaceErrors.Describe(Errno.ENODEV)}. This namespace has no link of that name; its links are: {existing}.");
    }

    private static NetworkLink ParseLink(NetlinkMessage m)
    {
        IfInfoMsg h = m.Header<IfInfoMsg>();
        string name = "";
        string? kind = null, qdisc = null;
        int mtu = 0, txqlen = 0;
        int? parent = null, linkNsid = null, master = null;
        byte operstate = 0;
        PhysicalAddress? mac = null;
        foreach (AttributeReader a in m.Attributes<IfInfoMsg>())
        {
            switch (a.Type)
            {
                case Rtnl.IFLA_IFNAME: name = a.String; break;
                case Rtnl.IFLA_MTU: mtu = a.S32; break;
                case Rtnl.IFLA_TXQLEN: txqlen = a.S32; break;
                case Rtnl.IFLA_QDISC: qdisc = a.String; break;
                case Rtnl.IFLA_OPERSTATE: operstate = a.U8; break;
                case Rtnl.IFLA_ADDRESS: mac = a.Value.Length > 0 ? new PhysicalAddress(a.Value.ToArray()) : null; break;
                case Rtnl.IFLA_LINK: parent = a.S32; break;
                case Rtnl.IFLA_LINK_NETNSID: linkNsid = a.S32; break;
                case Rtnl.IFLA_MASTER: master = a.S32; break;
                case Rtnl.IFLA_LINKINFO:
                    foreach (AttributeReader info in a.Nested)
                    {
                        if (info.Type == Rtnl.IFLA_INFO_KIND) kind = info.String;
                    }
                    break;
            }
        }
        return new NetworkLink
        {
            Index = h.Index,
            Name = name,
            Kind = kind,
            Flags = (LinkFlags)h.Flags,
            Mtu = mtu,
            OperationalState = (LinkOperationalState)operstate,
            HardwareAddress = mac,
            LinkType = h.Type,
            ParentIndex = parent is 0 ? null : parent,
            LinkNetnsId = linkNsid,
            MasterIndex = master is 0 ? null : master,
            TransmitQueueLength = txqlen,
            Qdisc = qdisc,
        };
    }

    /// <summary>The kernel's dev_valid_name: 1 to 15 bytes, not "." or "..", no '/', ':' or whitespace.</summary>
    private static void ValidateLinkName(string name, string paramName = "name")
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        string? why =
            name.Length == 0 ? "it is empty" :
            Encoding.UTF8.GetByteCount(name) > IfNameMax ? $"it is longer than {IfNameMax} bytes" :
            name is "." or ".." ? "it is \".\" or \"..\"" :
            name.Any(c => c is '/' or ':' or '\0' || char.IsWhiteSpace(c)) ? "it contains '/', ':', NUL or whitespace" :
            null;
        if (why is not null)
            throw new ArgumentException($"Invalid interface name \"{name.Replace("\0", "\\0")}\": {why}. An interface name is 1 to {IfNameMax} bytes without '/', ':' or whitespace.", paramName);
    }
}
