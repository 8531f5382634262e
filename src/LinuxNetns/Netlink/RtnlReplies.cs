using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using LinuxNetns.Networking;

namespace LinuxNetns.Netlink;

/// <summary>
/// Reads the kernel's rtnetlink replies into the public types. Pure: each message's payload (what follows its
/// nlmsghdr) is read as bytes; messages of other types are skipped, a truncated or malformed attribute ends the
/// attributes read (see <see cref="AttributeReader"/>), a short fixed header reads as zeros.
/// </summary>
internal static class RtnlReplies
{
    // ---- links --------------------------------------------------------------------------------------

    /// <summary>The links among <paramref name="replies"/> (RTM_NEWLINK), in index order.</summary>
    public static List<NetworkLink> Links(IEnumerable<NetlinkMessage> replies)
    {
        List<NetworkLink> links = Read(replies, Rtnl.RTM_NEWLINK, payload => Link(payload));
        links.Sort((a, b) => a.Index.CompareTo(b.Index));
        return links;
    }

    /// <summary>The first link among <paramref name="replies"/>, or null.</summary>
    public static NetworkLink? FirstLink(IEnumerable<NetlinkMessage> replies)
    {
        foreach (NetlinkMessage m in replies)
        {
            if (m.Type == Rtnl.RTM_NEWLINK) return Link(m.Payload);
        }
        return null;
    }

    /// <summary>An RTM_NEWLINK payload: an ifinfomsg, then IFLA_* attributes.</summary>
    public static NetworkLink Link(ReadOnlySpan<byte> payload)
    {
        IfInfoMsg h = NetlinkMessage.ReadHeader<IfInfoMsg>(payload);
        string name = "";
        string? kind = null, qdisc = null;
        int mtu = 0, txqlen = 0;
        int? parent = null, linkNsid = null, master = null;
        byte operstate = 0;
        PhysicalAddress? mac = null;
        foreach (AttributeReader a in NetlinkMessage.AttributesAfter<IfInfoMsg>(payload))
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

    // ---- addresses ----------------------------------------------------------------------------------

    /// <summary>The addresses among <paramref name="replies"/> (RTM_NEWADDR), each named after its link by
    /// <paramref name="linkNames"/> (<c>ifN</c> for an index it lacks).</summary>
    public static List<LinkAddress> Addresses(IEnumerable<NetlinkMessage> replies, IReadOnlyDictionary<int, string> linkNames) =>
        Read(replies, Rtnl.RTM_NEWADDR, payload => Address(payload, linkNames));

    /// <summary>An RTM_NEWADDR payload (an ifaddrmsg, then IFA_* attributes), or null when it carries no address.</summary>
    public static LinkAddress? Address(ReadOnlySpan<byte> payload, IReadOnlyDictionary<int, string> linkNames)
    {
        IfAddrMsg h = NetlinkMessage.ReadHeader<IfAddrMsg>(payload);
        IPAddress? address = null, local = null, broadcast = null;
        string? label = null;
        uint flags = h.Flags;
        foreach (AttributeReader a in NetlinkMessage.AttributesAfter<IfAddrMsg>(payload))
        {
            switch (a.Type)
            {
                case Rtnl.IFA_ADDRESS: address = a.Address; break;
                case Rtnl.IFA_LOCAL: local = a.Address; break;
                case Rtnl.IFA_BROADCAST: broadcast = a.Address; break;
                case Rtnl.IFA_LABEL: label = a.String; break;
                case Rtnl.IFA_FLAGS: flags = a.U32; break; // the full 32 bits; the header has only the low 8
            }
        }
        IPAddress? own = local ?? address;
        if (own is null) return null;
        return new LinkAddress
        {
            LinkIndex = h.Index,
            LinkName = linkNames.GetValueOrDefault(h.Index, $"if{h.Index}"),
            Address = own,
            PrefixLength = h.PrefixLength,
            Peer = local is not null && address is not null && !address.Equals(local) ? address : null,
            Broadcast = broadcast,
            Scope = (AddressScope)h.Scope,
            Flags = (AddressFlags)flags,
            Label = label,
        };
    }

    // ---- routes -------------------------------------------------------------------------------------

    /// <summary>The IPv4 and IPv6 routes among <paramref name="replies"/> (RTM_NEWROUTE), their output links named by
    /// <paramref name="linkNames"/> (null for an index it lacks).</summary>
    public static List<NetworkRoute> Routes(IEnumerable<NetlinkMessage> replies, IReadOnlyDictionary<int, string> linkNames) =>
        Read(replies, Rtnl.RTM_NEWROUTE, payload => Route(payload, linkNames));

    /// <summary>An RTM_NEWROUTE payload (an rtmsg, then RTA_* attributes), or null for a family other than IPv4 and IPv6.</summary>
    public static NetworkRoute? Route(ReadOnlySpan<byte> payload, IReadOnlyDictionary<int, string> linkNames)
    {
        RtMsg h = NetlinkMessage.ReadHeader<RtMsg>(payload);
        if (h.Family is not (Rtnl.AF_INET or Rtnl.AF_INET6)) return null;
        IPAddress? destination = null, gateway = null, source = null;
        int? oif = null, metric = null;
        int table = h.Table;
        foreach (AttributeReader a in NetlinkMessage.AttributesAfter<RtMsg>(payload))
        {
            switch (a.Type)
            {
                case Rtnl.RTA_DST: destination = a.Address; break;
                case Rtnl.RTA_GATEWAY: gateway = a.Address; break;
                case Rtnl.RTA_PREFSRC: source = a.Address; break;
                case Rtnl.RTA_OIF: oif = a.S32; break;
                case Rtnl.RTA_PRIORITY: metric = a.S32; break;
                case Rtnl.RTA_TABLE: table = a.S32; break; // tables above 255 exist only here
            }
        }
        destination ??= h.Family == Rtnl.AF_INET6 ? IPAddress.IPv6Any : IPAddress.Any;
        return new NetworkRoute
        {
            Destination = new IPNetwork(destination, h.DestinationLength),
            Gateway = gateway,
            OutputLinkIndex = oif,
            OutputLinkName = oif is { } i ? linkNames.GetValueOrDefault(i) : null,
            PreferredSource = source,
            Table = table,
            Scope = (AddressScope)h.Scope,
            Protocol = h.Protocol,
            Type = h.Type,
            Metric = metric,
        };
    }

    // ---- traffic control ----------------------------------------------------------------------------

    /// <summary>The token bucket that is the root qdisc of link <paramref name="index"/> among <paramref name="replies"/>
    /// (RTM_NEWQDISC), or null when that link's root qdisc is another kind or there is none.</summary>
    public static LinkRateLimit? RootTokenBucket(IEnumerable<NetlinkMessage> replies, int index)
    {
        foreach (NetlinkMessage m in replies)
        {
            if (m.Type != Rtnl.RTM_NEWQDISC) continue;
            TcMsg h = m.Header<TcMsg>();
            if (h.Index != index || h.Parent != Rtnl.TC_H_ROOT) continue;
            return TokenBucket(m.Payload);
        }
        return null;
    }

    /// <summary>An RTM_NEWQDISC payload of kind "tbf" as a rate limit (the bucket in bytes, as tc shows it: the rate
    /// times the buffer's time), or null for another kind or one without its parameters.</summary>
    public static LinkRateLimit? TokenBucket(ReadOnlySpan<byte> payload)
    {
        string? kind = null;
        TcTbfQopt? parameters = null;
        ulong? rate64 = null;
        foreach (AttributeReader a in NetlinkMessage.AttributesAfter<TcMsg>(payload))
        {
            if (a.Type == Rtnl.TCA_KIND) kind = a.String;
            else if (a.Type == Rtnl.TCA_OPTIONS)
            {
                foreach (AttributeReader o in a.Nested)
                {
                    if (o.Type == Rtnl.TCA_TBF_PARMS) parameters = NetlinkMessage.ReadHeader<TcTbfQopt>(o.Value);
                    else if (o.Type == Rtnl.TCA_TBF_RATE64 && o.Value.Length >= 8) rate64 = BinaryPrimitives.ReadUInt64LittleEndian(o.Value);
                }
            }
        }
        if (kind != "tbf" || parameters is not { } p) return null;
        ulong bytesPerSecond = rate64 ?? p.Rate.Rate;
        double burst = Math.Round(bytesPerSecond * (p.Buffer * (double)Rtnl.PschedTickNs) / 1_000_000_000.0);
        return new LinkRateLimit
        {
            BitsPerSecond = (long)(bytesPerSecond * 8),
            BurstBytes = (int)Math.Min(burst, int.MaxValue),
            QueueLimitBytes = (int)Math.Min(p.Limit, int.MaxValue),
        };
    }

    // ---- nsids --------------------------------------------------------------------------------------

    /// <summary>The entries of an nsid dump: every RTM_NEWNSID that carries an NETNSA_NSID.</summary>
    public static List<NsidEntry> NsidEntries(IEnumerable<NetlinkMessage> replies)
    {
        var result = new List<NsidEntry>();
        foreach (NetlinkMessage m in replies)
        {
            if (m.Type != Rtnl.RTM_NEWNSID) continue;
            (int? id, int? current) = NsidAttributes(m.Payload);
            if (id is not null) result.Add(new NsidEntry(id.Value, current));
        }
        return result;
    }

    /// <summary>The answer to an RTM_GETNSID for one peer: its nsid, or null when none is assigned (-1) or none was sent.</summary>
    public static int? NsidOf(IEnumerable<NetlinkMessage> replies)
    {
        foreach (NetlinkMessage m in replies)
        {
            if (m.Type != Rtnl.RTM_NEWNSID) continue;
            if (NsidAttributes(m.Payload).Nsid is { } id) return id < 0 ? null : id;
        }
        return null;
    }

    /// <summary>The answer to an RTM_GETNSID by nsid: the first RTM_NEWNSID as an entry (nsid -1 when the kernel sent
    /// none or a negative one), or null when there is no RTM_NEWNSID.</summary>
    public static NsidEntry? NsidLookup(IEnumerable<NetlinkMessage> replies)
    {
        foreach (NetlinkMessage m in replies)
        {
            if (m.Type != Rtnl.RTM_NEWNSID) continue;
            (int? id, int? current) = NsidAttributes(m.Payload);
            return new NsidEntry(id is >= 0 ? id.Value : Rtnl.NETNSA_NSID_NOT_ASSIGNED, current);
        }
        return null;
    }

    /// <summary>NETNSA_NSID (the last one, as sent) and NETNSA_CURRENT_NSID (null when negative) of an RTM_NEWNSID payload.</summary>
    private static (int? Nsid, int? Current) NsidAttributes(ReadOnlySpan<byte> payload)
    {
        int? id = null, current = null;
        foreach (AttributeReader a in NetlinkMessage.AttributesAfter<RtGenMsg>(payload))
        {
            if (a.Type == Rtnl.NETNSA_NSID) id = a.S32;
            else if (a.Type == Rtnl.NETNSA_CURRENT_NSID) current = a.S32 < 0 ? null : a.S32;
        }
        return (id, current);
    }

    private delegate T? PayloadReader<T>(ReadOnlySpan<byte> payload) where T : class;

    /// <summary>What <paramref name="read"/> makes of each message of <paramref name="type"/>, nulls left out.</summary>
    private static List<T> Read<T>(IEnumerable<NetlinkMessage> replies, ushort type, PayloadReader<T> read) where T : class
    {
        var result = new List<T>();
        foreach (NetlinkMessage m in replies)
        {
            if (m.Type == type && read(m.Payload) is { } item) result.Add(item);
        }
        return result;
    }
}
