using System.Net;
using System.Net.NetworkInformation;
using LinuxNetns.Netlink;
using static LinuxNetns.Tests.Netlink.Wire;

namespace LinuxNetns.Tests.Netlink;

/// <summary>
/// Replies as the kernel sends them, put together by hand, read into the public types; and what a truncated or
/// malformed attribute, a short header or a message of another type does. Pure: no socket, no kernel, no root.
/// </summary>
public sealed class RtnlRepliesTests
{
    private static readonly Dictionary<int, string> Names = new() { [5] = "veth0" };

    /// <summary>ifinfomsg: family 0, ARPHRD_ETHER, index 5, UP|BROADCAST|MULTICAST|LOWER_UP.</summary>
    private static byte[] VethIfInfoMsg() => Hex("00 00 0100 05000000 03100100 00000000");

    private static byte[] IfAddrMsg(byte family, byte prefix, byte flags, byte scope, int index) =>
        Concat([family, prefix, flags, scope], BitConverter.GetBytes(index));

    [Fact]
    public void A_veth_link_is_read_with_every_field()
    {
        NetworkLink link = RtnlReplies.Link(Concat(VethIfInfoMsg(),
            Attr(Rtnl.IFLA_IFNAME, "veth0"),
            Attr(Rtnl.IFLA_MTU, 1500),
            Attr(Rtnl.IFLA_TXQLEN, 1000),
            Attr(Rtnl.IFLA_QDISC, "noqueue"),
            Attr(Rtnl.IFLA_OPERSTATE, [6]),
            Attr(Rtnl.IFLA_ADDRESS, Hex("02 00 00 00 00 01")),
            Attr(Rtnl.IFLA_LINK, 4),
            Attr(Rtnl.IFLA_LINK_NETNSID, 0),
            Attr(Rtnl.IFLA_MASTER, 0),
            // The kernel marks nests with NLA_F_NESTED; the type is read without it.
            Nest((ushort)(Rtnl.IFLA_LINKINFO | Rtnl.NLA_F_NESTED), Attr(Rtnl.IFLA_INFO_KIND, "veth"), Nest(Rtnl.IFLA_INFO_DATA))));

        link.Index.Should().Be(5);
        link.Name.Should().Be("veth0");
        link.Kind.Should().Be("veth");
        link.Flags.Should().Be(LinkFlags.Up | LinkFlags.Broadcast | LinkFlags.Multicast | LinkFlags.LowerUp);
        link.IsUp.Should().BeTrue();
        link.Mtu.Should().Be(1500);
        link.TransmitQueueLength.Should().Be(1000);
        link.Qdisc.Should().Be("noqueue");
        link.OperationalState.Should().Be(LinkOperationalState.Up);
        link.HardwareAddress.Should().Be(PhysicalAddress.Parse("02-00-00-00-00-01"));
        link.LinkType.Should().Be(1);
        link.ParentIndex.Should().Be(4);
        link.LinkNetnsId.Should().Be(0, "nsid 0 is a real id");
        link.MasterIndex.Should().BeNull("index 0 means no master");
        link.ToString().Should().Be("5: veth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP veth");
    }

    [Fact]
    public void An_attribute_that_claims_more_bytes_than_remain_ends_the_attributes()
    {
        byte[] truncated = Concat(VethIfInfoMsg(), Attr(Rtnl.IFLA_IFNAME, "veth0"), Hex("2800 0400 dc050000"), Attr(Rtnl.IFLA_TXQLEN, 1000));
        NetworkLink link = RtnlReplies.Link(truncated);
        link.Name.Should().Be("veth0", "what came before the bad attribute is kept");
        link.Mtu.Should().Be(0, "the attribute claiming 40 bytes is not read");
        link.TransmitQueueLength.Should().Be(0, "nothing after it is read either");
    }

    [Fact]
    public void An_attribute_shorter_than_its_own_header_ends_the_attributes()
    {
        NetworkLink link = RtnlReplies.Link(Concat(VethIfInfoMsg(), Hex("0200 0300"), Attr(Rtnl.IFLA_MTU, 1500)));
        link.Name.Should().BeEmpty();
        link.Mtu.Should().Be(0);
        RtnlReplies.Link(Concat(VethIfInfoMsg(), Hex("08"))).Index.Should().Be(5, "a stray tail byte is ignored");
    }

    [Fact]
    public void Values_too_short_for_their_type_read_as_nothing()
    {
        NetworkLink link = RtnlReplies.Link(Concat(VethIfInfoMsg(),
            Attr(Rtnl.IFLA_MTU, [0xdc, 0x05]),   // 2 of 4 bytes
            Attr(Rtnl.IFLA_OPERSTATE, []),
            Attr(Rtnl.IFLA_ADDRESS, []),
            Attr(Rtnl.IFLA_IFNAME, [(byte)'a', (byte)'b']))); // no terminating NUL
        link.Mtu.Should().Be(0);
        link.OperationalState.Should().Be(LinkOperationalState.Unknown);
        link.HardwareAddress.Should().BeNull();
        link.Name.Should().Be("ab");

        LinkAddress? address = RtnlReplies.Address(Concat(IfAddrMsg(2, 24, 0, 0, 5), Attr(Rtnl.IFA_LOCAL, Hex("0a0000"))), Names);
        address.Should().BeNull("a 3-byte address is no address");
    }

    [Fact]
    public void A_payload_shorter_than_its_fixed_header_reads_as_zeros()
    {
        RtnlReplies.Link([]).Should().BeEquivalentTo(new { Index = 0, Name = "", Mtu = 0 });
        RtnlReplies.Link(Hex("00 00 0100 05")).Index.Should().Be(5, "the index's first byte is there, the rest is zero-filled");
        RtnlReplies.Route(Hex("02 18"), Names)!.Destination.Should().Be(IPNetwork.Parse("0.0.0.0/24"));
    }

    [Fact]
    public void Links_are_the_RTM_NEWLINK_messages_in_index_order()
    {
        byte[] Link(int index, string name) => Concat(Hex("00 00 0100"), BitConverter.GetBytes(index), new byte[8], Attr(Rtnl.IFLA_IFNAME, name));
        List<NetworkLink> links = RtnlReplies.Links([
            Message(Rtnl.RTM_NEWLINK, Link(3, "c")),
            Message(Rtnl.NLMSG_DONE, new byte[4]),
            Message(Rtnl.RTM_NEWLINK, Link(1, "lo")),
            Message(Rtnl.RTM_DELLINK, Link(2, "gone")),
        ]);
        links.Select(l => (l.Index, l.Name)).Should().Equal((1, "lo"), (3, "c"));
        RtnlReplies.FirstLink([Message(Rtnl.NLMSG_DONE, new byte[4])]).Should().BeNull();
    }

    [Fact]
    public void An_IPv4_address_is_read_with_its_broadcast_label_and_link_name()
    {
        LinkAddress a = RtnlReplies.Address(Concat(IfAddrMsg(2, 24, 0x80, 0, 5),
            Attr(Rtnl.IFA_ADDRESS, Hex("0a000001")),
            Attr(Rtnl.IFA_LOCAL, Hex("0a000001")),
            Attr(Rtnl.IFA_BROADCAST, Hex("0a0000ff")),
            Attr(Rtnl.IFA_LABEL, "veth0")), Names)!;
        a.Should().BeEquivalentTo(new
        {
            LinkIndex = 5,
            LinkName = "veth0",
            Address = IPAddress.Parse("10.0.0.1"),
            PrefixLength = 24,
            Peer = (IPAddress?)null,
            Broadcast = IPAddress.Parse("10.0.0.255"),
            Scope = AddressScope.Global,
            Flags = AddressFlags.Permanent,
            Label = "veth0",
        });
        a.ToString().Should().Be("10.0.0.1/24");
    }

    [Fact]
    public void A_point_to_point_address_has_the_local_one_as_address_and_the_other_as_peer()
    {
        LinkAddress a = RtnlReplies.Address(Concat(IfAddrMsg(2, 32, 0, 0, 5),
            Attr(Rtnl.IFA_ADDRESS, Hex("0a000002")), Attr(Rtnl.IFA_LOCAL, Hex("0a000001"))), Names)!;
        a.Address.Should().Be(IPAddress.Parse("10.0.0.1"));
        a.Peer.Should().Be(IPAddress.Parse("10.0.0.2"));
    }

    [Fact]
    public void IFA_FLAGS_replaces_the_8_bit_header_flags_and_an_unknown_link_is_named_by_index()
    {
        LinkAddress a = RtnlReplies.Address(Concat(IfAddrMsg(10, 64, 0x80, 253, 9),
            Attr(Rtnl.IFA_ADDRESS, Hex("fe800000 00000000 00000000 00000001")),
            Attr(Rtnl.IFA_FLAGS, 0x880)), Names)!;
        a.Address.Should().Be(IPAddress.Parse("fe80::1"));
        a.Flags.Should().Be(AddressFlags.Permanent | AddressFlags.StablePrivacy);
        a.Scope.Should().Be(AddressScope.Link);
        a.LinkName.Should().Be("if9");
    }

    [Fact]
    public void Addresses_skip_other_messages_and_messages_without_an_address()
    {
        List<LinkAddress> addresses = RtnlReplies.Addresses([
            Message(Rtnl.RTM_NEWADDR, IfAddrMsg(2, 8, 0, 254, 1), Attr(Rtnl.IFA_LOCAL, Hex("7f000001"))),
            Message(Rtnl.RTM_NEWADDR, IfAddrMsg(2, 8, 0, 0, 1), Attr(Rtnl.IFA_LABEL, "lo")),
            Message(Rtnl.RTM_NEWLINK, IfAddrMsg(2, 8, 0, 0, 1), Attr(Rtnl.IFA_LOCAL, Hex("7f000002"))),
        ], Names);
        addresses.Should().ContainSingle().Which.Should().Match<LinkAddress>(a => a.Address.Equals(IPAddress.Loopback) && a.Scope == AddressScope.Host);
    }

    /// <summary>rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.</summary>
    private static byte[] RtMsg(byte family, byte destinationLength, byte table, byte protocol, byte scope, byte type) =>
        Concat([family, destinationLength, 0, 0, table, protocol, scope, type], new byte[4]);

    [Fact]
    public void A_connected_IPv4_route_is_read_with_its_link_name()
    {
        NetworkRoute r = RtnlReplies.Route(Concat(RtMsg(2, 24, 254, 2, 253, 1),
            Attr(Rtnl.RTA_TABLE, 254), Attr(Rtnl.RTA_DST, Hex("0a000000")), Attr(Rtnl.RTA_PREFSRC, Hex("0a000001")), Attr(Rtnl.RTA_OIF, 5)), Names)!;
        r.Should().BeEquivalentTo(new
        {
            Destination = IPNetwork.Parse("10.0.0.0/24"),
            Gateway = (IPAddress?)null,
            OutputLinkIndex = 5,
            OutputLinkName = "veth0",
            PreferredSource = IPAddress.Parse("10.0.0.1"),
            Table = 254,
            Scope = AddressScope.Link,
            Protocol = 2,
            Type = 1,
            Metric = (int?)null,
        });
        r.ToString().Should().Be("10.0.0.0/24 dev veth0");
    }

    [Fact]
    public void A_default_IPv6_route_in_a_large_table_takes_the_table_from_RTA_TABLE()
    {
        NetworkRoute r = RtnlReplies.Route(Concat(RtMsg(10, 0, 252, 3, 0, 1),
            Attr(Rtnl.RTA_TABLE, 1000), Attr(Rtnl.RTA_GATEWAY, Hex("fe800000 00000000 00000000 00000001")),
            Attr(Rtnl.RTA_PRIORITY, 1024), Attr(Rtnl.RTA_OIF, 9)), Names)!;
        r.Destination.Should().Be(IPNetwork.Parse("::/0"));
        r.Gateway.Should().Be(IPAddress.Parse("fe80::1"));
        r.Table.Should().Be(1000, "the header's table byte says RT_TABLE_COMPAT for tables above 255");
        r.Metric.Should().Be(1024);
        r.OutputLinkName.Should().BeNull("index 9 is not a known link");
        r.ToString().Should().Be("default via fe80::1 table 1000");
    }

    [Fact]
    public void Routes_of_other_families_and_other_messages_are_skipped()
    {
        List<NetworkRoute> routes = RtnlReplies.Routes([
            Message(Rtnl.RTM_NEWROUTE, RtMsg(128, 0, 254, 0, 0, 5)), // RTNL_FAMILY_IPMR
            Message(Rtnl.RTM_NEWROUTE, RtMsg(0, 0, 254, 0, 0, 1)),
            Message(Rtnl.RTM_DELROUTE, RtMsg(2, 0, 254, 0, 0, 1)),
            Message(Rtnl.RTM_NEWROUTE, RtMsg(2, 0, 254, 3, 0, 1), Attr(Rtnl.RTA_GATEWAY, Hex("0a000001"))),
        ], Names);
        routes.Should().ContainSingle().Which.ToString().Should().Be("default via 10.0.0.1");
    }

    private static NetlinkMessage Nsid(params byte[][] attributes) => Message(Rtnl.RTM_NEWNSID, [new byte[4], .. attributes]);

    [Fact]
    public void An_nsid_dump_lists_entries_with_a_current_nsid_only_when_not_negative()
    {
        RtnlReplies.NsidEntries([
            Nsid(Attr(Rtnl.NETNSA_NSID, 7), Attr(Rtnl.NETNSA_CURRENT_NSID, -1)),
            Nsid(Attr(Rtnl.NETNSA_NSID, 3), Attr(Rtnl.NETNSA_CURRENT_NSID, 9)),
            Nsid(Attr(Rtnl.NETNSA_CURRENT_NSID, 4)), // no NETNSA_NSID: not an entry
            Message(Rtnl.NLMSG_DONE, new byte[4]),
        ]).Should().Equal(new NsidEntry(7, null), new NsidEntry(3, 9));
    }

    [Fact]
    public void The_nsid_of_a_peer_is_null_when_unassigned_or_missing()
    {
        RtnlReplies.NsidOf([Nsid(Attr(Rtnl.NETNSA_NSID, 4))]).Should().Be(4);
        RtnlReplies.NsidOf([Nsid(Attr(Rtnl.NETNSA_NSID, -1))]).Should().BeNull("NETNSA_NSID_NOT_ASSIGNED");
        RtnlReplies.NsidOf([Nsid(), Nsid(Attr(Rtnl.NETNSA_NSID, 2))]).Should().Be(2, "a reply without the attribute is passed over");
        RtnlReplies.NsidOf([]).Should().BeNull();
    }

    [Fact]
    public void An_nsid_lookup_reads_the_first_answer_and_says_minus_one_for_none()
    {
        RtnlReplies.NsidLookup([Nsid(Attr(Rtnl.NETNSA_NSID, 9), Attr(Rtnl.NETNSA_CURRENT_NSID, 7))]).Should().Be(new NsidEntry(9, 7));
        RtnlReplies.NsidLookup([Nsid(Attr(Rtnl.NETNSA_CURRENT_NSID, 3))]).Should().Be(new NsidEntry(-1, 3));
        RtnlReplies.NsidLookup([Nsid(Attr(Rtnl.NETNSA_NSID, -5))]).Should().Be(new NsidEntry(-1, null));
        RtnlReplies.NsidLookup([Message(Rtnl.NLMSG_DONE, new byte[4])]).Should().BeNull("no RTM_NEWNSID came");
    }
}
