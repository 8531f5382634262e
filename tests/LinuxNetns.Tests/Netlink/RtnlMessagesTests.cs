using System.Net;
using LinuxNetns.Netlink;
using static LinuxNetns.Tests.Netlink.Wire;

namespace LinuxNetns.Tests.Netlink;

/// <summary>
/// The exact bytes of every request, written out by hand from the uapi structs: nlmsghdr (len u32, type u16,
/// flags u16, seq u32, pid u32), then ifinfomsg (family u8, pad u8, type u16, index s32, flags u32, change u32),
/// ifaddrmsg (family, prefixlen, flags, scope: u8 each, index u32), rtmsg (family, dst_len, src_len, tos, table,
/// protocol, scope, type: u8 each, flags u32) or rtgenmsg (family u8, padded to 4), then nlattrs (len u16 without
/// padding, type u16, value padded to 4). Flags here are the builder's; NLM_F_ACK or NLM_F_DUMP are added by the
/// socket when it sends. Pure: no socket, no kernel, no root.
/// </summary>
public sealed class RtnlMessagesTests
{
    // nlmsghdr flags, little-endian: REQUEST = 0100, REQUEST|EXCL|CREATE = 0106.
    private const string ZeroIfInfoMsg = "00 00 0000 00000000 00000000 00000000";
    private const string LinkDumpMask = "0800 1d00 09000000"; // IFLA_EXT_MASK (29) = RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS

    [Fact]
    public void Get_links_is_an_empty_ifinfomsg_with_the_stats_filter()
    {
        Sent(RtnlMessages.GetLinks()).Should().Be(HexOf(
            "28000000 1200 0100 01000000 00000000" + // 40 bytes, RTM_GETLINK (18), NLM_F_REQUEST, seq 1, pid 0
            ZeroIfInfoMsg + LinkDumpMask));
    }

    [Fact]
    public void Get_link_by_name_pads_the_name_to_four_bytes()
    {
        Sent(RtnlMessages.GetLink("lo")).Should().Be(HexOf(
            "30000000 1200 0100 01000000 00000000" + ZeroIfInfoMsg +
            "0700 0300 6c6f00 00" + // IFLA_IFNAME (3): 4 + "lo\0" = 7, one byte of padding
            LinkDumpMask));
    }

    [Fact]
    public void A_veth_pair_nests_the_peer_with_its_own_ifinfomsg_namespace_and_name()
    {
        Sent(RtnlMessages.NewVethPair("a0", "b0", peerNamespaceFd: 5)).Should().Be(HexOf(
            "60000000 1000 0106 01000000 00000000" + // 96 bytes, RTM_NEWLINK (16), REQUEST|EXCL|CREATE
            ZeroIfInfoMsg +
            "0700 0300 613000 00" +                  // IFLA_IFNAME "a0"
            "3800 1200" +                            // IFLA_LINKINFO (18), 56 bytes
            "  0900 0100 76657468 00 000000" +       //   IFLA_INFO_KIND "veth": 9, padded to 12
            "  2800 0200" +                          //   IFLA_INFO_DATA (2), 40 bytes
            "    2400 0100" +                        //     VETH_INFO_PEER (1), 36 bytes: ifinfomsg + 2 attributes
            "    " + ZeroIfInfoMsg +
            "    0700 0300 623000 00" +              //     IFLA_IFNAME "b0"
            "    0800 1c00 05000000"));              //     IFLA_NET_NS_FD (28) = 5
    }

    [Fact]
    public void A_bridge_is_created_with_its_multicast_snooping_and_ports_join_by_index()
    {
        Sent(RtnlMessages.NewBridge("br0", multicastSnooping: false)).Should().Be(HexOf(
            "44000000 1000 0106 01000000 00000000" + // 68 bytes, RTM_NEWLINK (16), REQUEST|EXCL|CREATE
            ZeroIfInfoMsg +
            "0800 0300 62723000" +                   // IFLA_IFNAME "br0"
            "1c00 1200" +                            // IFLA_LINKINFO (18), 28 bytes
            "  0b00 0100 62726964676500 00" +        //   IFLA_INFO_KIND "bridge": 11, padded to 12
            "  0c00 0200" +                          //   IFLA_INFO_DATA (2), 12 bytes
            "    0500 1700 00 000000"));             //     IFLA_BR_MCAST_SNOOPING (23) = 0
        Sent(RtnlMessages.SetLinkMaster(7, 9)).Should().Be(HexOf(
            "28000000 1000 0100 01000000 00000000 00 00 0000 07000000 00000000 00000000 0800 0a00 09000000")); // IFLA_MASTER (10)
    }

    [Fact]
    public void A_token_bucket_is_sent_as_tc_sends_it()
    {
        // tc qdisc replace dev (index 3) root tbf rate 8mbit burst 10kb latency 50ms, as strace shows tc 6.1 send it,
        // less the rate table that a rate with a link layer does not need.
        Sent(RtnlMessages.ReplaceTokenBucket(3, bytesPerSecond: 1_000_000, burstBytes: 10240, limitBytes: 60240)).Should().Be(HexOf(
            "60000000 2400 0105 01000000 00000000" + // 96 bytes, RTM_NEWQDISC (36), REQUEST|REPLACE|CREATE
            "00 00 0000 03000000 00000000 ffffffff 00000000" + // tcmsg: link 3, parent TC_H_ROOT
            "0800 0100 74626600" +                   // TCA_KIND "tbf"
            "3400 0200" +                            // TCA_OPTIONS (2), 52 bytes
            "  2800 0100" +                          //   TCA_TBF_PARMS (1): tc_tbf_qopt
            "    03 01 0000 ffff 0000 40420f00" +    //     rate: cell_log 3, linklayer ethernet, cell_align -1, 1,000,000 B/s
            "    000000000000000000000000" +         //     no peak rate
            "    50eb0000 00710200 00000000" +       //     limit 60240, buffer 160000 ticks (10.24 ms), mtu 0
            "  0800 0600 00280000"));                //   TCA_TBF_BURST (6) = 10240
        // 5 GB/s does not fit the struct's 32 bits: all ones there, and the rate in TCA_TBF_RATE64 (4).
        Sent(RtnlMessages.ReplaceTokenBucket(3, bytesPerSecond: 5_000_000_000, burstBytes: 1 << 20, limitBytes: 1 << 21))
            .Should().Contain(HexOf("03 01 0000 ffff 0000 ffffffff")).And.Contain(HexOf("0c00 0400 00f2052a01000000"));
        Sent(RtnlMessages.DeleteRootQdisc(3)).Should().Be(HexOf("24000000 2500 0100 01000000 00000000 00 00 0000 03000000 00000000 ffffffff 00000000"));
    }

    [Fact]
    public void Link_changes_address_the_link_by_index()
    {
        Sent(RtnlMessages.DeleteLink(7)).Should().Be(HexOf(
            "20000000 1100 0100 01000000 00000000 00 00 0000 07000000 00000000 00000000")); // RTM_DELLINK (17)
        Sent(RtnlMessages.SetLinkMtu(7, 1400)).Should().Be(HexOf(
            "28000000 1000 0100 01000000 00000000 00 00 0000 07000000 00000000 00000000 0800 0400 78050000")); // IFLA_MTU (4)
        Sent(RtnlMessages.RenameLink(7, "new0")).Should().Be(HexOf(
            "2c000000 1000 0100 01000000 00000000 00 00 0000 07000000 00000000 00000000 0900 0300 6e657730 00 000000"));
    }

    [Fact]
    public void Up_and_down_change_only_IFF_UP()
    {
        Sent(RtnlMessages.SetLinkUp(7, up: true)).Should().Be(HexOf(
            "20000000 1000 0100 01000000 00000000 00 00 0000 07000000 01000000 01000000")); // flags IFF_UP, change IFF_UP
        Sent(RtnlMessages.SetLinkUp(7, up: false)).Should().Be(HexOf(
            "20000000 1000 0100 01000000 00000000 00 00 0000 07000000 00000000 01000000"));
    }

    [Fact]
    public void Moving_a_link_names_the_destination_by_descriptor_and_renames_only_when_asked()
    {
        const string header = "1000 0100 01000000 00000000 00 00 0000 07000000 00000000 00000000 0800 1c00 05000000";
        Sent(RtnlMessages.MoveLink(7, 5, newName: null)).Should().Be(HexOf("28000000 " + header));
        Sent(RtnlMessages.MoveLink(7, 5, newName: "x")).Should().Be(HexOf("30000000 " + header + " 0600 0300 7800 0000"));
    }

    [Fact]
    public void An_IPv4_address_is_sent_as_local_and_address_and_nodad_is_ignored_for_it()
    {
        string expected = HexOf(
            "28000000 1400 0106 01000000 00000000" + // RTM_NEWADDR (20), REQUEST|EXCL|CREATE
            "02 18 00 00 03000000" +                 // AF_INET, /24, no flags, scope 0, index 3
            "0800 0200 0a000001" +                   // IFA_LOCAL (2) 10.0.0.1, network order
            "0800 0100 0a000001");                   // IFA_ADDRESS (1)
        Sent(RtnlMessages.NewAddress(3, IPAddress.Parse("10.0.0.1"), 24)).Should().Be(expected);
        Sent(RtnlMessages.NewAddress(3, IPAddress.Parse("10.0.0.1"), 24, duplicateAddressDetection: false)).Should().Be(expected);
    }

    [Fact]
    public void An_IPv6_address_without_duplicate_address_detection_carries_IFA_F_NODAD()
    {
        const string address = "fd000000 00000000 00000000 00000001";
        Sent(RtnlMessages.NewAddress(3, IPAddress.Parse("fd00::1"), 64, duplicateAddressDetection: false)).Should().Be(HexOf(
            "40000000 1400 0106 01000000 00000000" +
            "0a 40 02 00 03000000" +                 // AF_INET6, /64, IFA_F_NODAD, scope 0, index 3
            "1400 0200 " + address + "1400 0100 " + address));
        Sent(RtnlMessages.NewAddress(3, IPAddress.Parse("fd00::1"), 64)).Should().Contain("0a400000" + "03000000", "with DAD no flag is set");
    }

    [Fact]
    public void Deleting_an_address_neither_creates_nor_is_exclusive()
    {
        Sent(RtnlMessages.DeleteAddress(3, IPAddress.Parse("10.0.0.1"), 24)).Should().Be(HexOf(
            "28000000 1500 0100 01000000 00000000 02 18 00 00 03000000 0800 0200 0a000001 0800 0100 0a000001")); // RTM_DELADDR (21)
    }

    [Fact]
    public void A_route_via_a_gateway_is_a_universe_scope_unicast_boot_route_in_main()
    {
        Sent(RtnlMessages.NewRoute(IPNetwork.Parse("10.1.0.0/16"), IPAddress.Parse("10.0.0.2"), outputLinkIndex: null)).Should().Be(HexOf(
            "2c000000 1800 0106 01000000 00000000" + // RTM_NEWROUTE (24)
            "02 10 00 00 fe 03 00 01 00000000" +     // AF_INET, dst /16, table main (254), RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST
            "0800 0100 0a010000" +                   // RTA_DST (1)
            "0800 0500 0a000002"));                  // RTA_GATEWAY (5)
    }

    [Fact]
    public void A_route_on_a_link_alone_is_link_scope_for_IPv4_and_universe_for_IPv6()
    {
        Sent(RtnlMessages.NewRoute(IPNetwork.Parse("10.2.0.0/24"), gateway: null, outputLinkIndex: 4)).Should().Be(HexOf(
            "2c000000 1800 0106 01000000 00000000 02 18 00 00 fe 03 fd 01 00000000" + // RT_SCOPE_LINK (253)
            "0800 0100 0a020000 0800 0400 04000000"));                                 // RTA_DST, RTA_OIF (4)
        Sent(RtnlMessages.NewRoute(IPNetwork.Parse("fd00:1::/64"), gateway: null, outputLinkIndex: 4)).Should().Be(HexOf(
            "38000000 1800 0106 01000000 00000000 0a 40 00 00 fe 03 00 01 00000000" +
            "1400 0100 fd000001 00000000 00000000 00000000 0800 0400 04000000"));
    }

    [Fact]
    public void A_default_route_has_no_destination_attribute()
    {
        Sent(RtnlMessages.NewRoute(IPNetwork.Parse("0.0.0.0/0"), IPAddress.Parse("10.0.0.1"), outputLinkIndex: null)).Should().Be(HexOf(
            "24000000 1800 0106 01000000 00000000 02 00 00 00 fe 03 00 01 00000000 0800 0500 0a000001"));
    }

    [Fact]
    public void A_route_delete_matches_any_scope_protocol_and_type()
    {
        Sent(RtnlMessages.DeleteRoute(IPNetwork.Parse("10.1.0.0/16"), IPAddress.Parse("10.0.0.2"), outputLinkIndex: 4)).Should().Be(HexOf(
            "34000000 1900 0100 01000000 00000000" + // RTM_DELROUTE (25), no CREATE/EXCL
            "02 10 00 00 fe 00 ff 00 00000000" +     // protocol 0, RT_SCOPE_NOWHERE (255), type 0
            "0800 0100 0a010000 0800 0500 0a000002 0800 0400 04000000"));
    }

    [Fact]
    public void Nsid_requests_carry_an_rtgenmsg_padded_to_four_bytes()
    {
        const string rtgenmsg = "00 000000";
        Sent(RtnlMessages.NewNsid(peerFd: 5, nsid: 7)).Should().Be(HexOf(
            "24000000 5800 0100 01000000 00000000" + rtgenmsg + // RTM_NEWNSID (88)
            "0800 0300 05000000 0800 0100 07000000"));          // NETNSA_FD (3), NETNSA_NSID (1)
        Sent(RtnlMessages.NewNsid(peerFd: 5, nsid: null)).Should().EndWith("08000100ffffffff", "auto is NETNSA_NSID_NOT_ASSIGNED (-1)");
        Sent(RtnlMessages.GetNsidOf(5)).Should().Be(HexOf("1c000000 5a00 0100 01000000 00000000" + rtgenmsg + "0800 0300 05000000")); // RTM_GETNSID (90)
        Sent(RtnlMessages.GetNsid(7, targetNsid: null)).Should().Be(HexOf("1c000000 5a00 0100 01000000 00000000" + rtgenmsg + "0800 0100 07000000"));
        Sent(RtnlMessages.GetNsid(7, targetNsid: 3)).Should().Be(HexOf(
            "24000000 5a00 0100 01000000 00000000" + rtgenmsg + "0800 0100 07000000 0800 0400 03000000")); // NETNSA_TARGET_NSID (4)
        Sent(RtnlMessages.GetNsids()).Should().Be(HexOf("14000000 5a00 0100 01000000 00000000" + rtgenmsg));
        Sent(RtnlMessages.GetNsids(3)).Should().Be(HexOf("1c000000 5a00 0100 01000000 00000000" + rtgenmsg + "0800 0400 03000000"));
    }

    [Fact]
    public void Address_and_route_dumps_are_bare_family_headers()
    {
        Sent(RtnlMessages.GetAddresses()).Should().Be(HexOf("18000000 1600 0100 01000000 00000000 00 00 00 00 00000000")); // RTM_GETADDR (22)
        Sent(RtnlMessages.GetRoutes()).Should().Be(HexOf("1c000000 1a00 0100 01000000 00000000 00 00 00 00 00 00 00 00 00000000")); // RTM_GETROUTE (26)
    }

    [Fact]
    public void The_socket_adds_ack_or_dump_to_the_flags_it_was_built_with()
    {
        NetlinkRequest request = RtnlMessages.NewAddress(3, IPAddress.Parse("10.0.0.1"), 24);
        request.AddFlags(Rtnl.NLM_F_ACK);
        Sent(request).Should().StartWith("28000000" + "1400" + "0506", "REQUEST|ACK|EXCL|CREATE");
        NetlinkRequest dump = RtnlMessages.GetLinks();
        dump.AddFlags(Rtnl.NLM_F_DUMP);
        Sent(dump).Should().StartWith("28000000" + "1200" + "0103", "REQUEST|ROOT|MATCH");
    }

    [Fact]
    public void A_nested_attribute_left_open_is_refused_and_a_name_with_NUL_is_never_encoded()
    {
        var request = new NetlinkRequest(Rtnl.RTM_NEWLINK, 0);
        request.BeginNested(Rtnl.IFLA_LINKINFO);
        FluentActions.Invoking(() => request.Complete(1).ToArray()).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => RtnlMessages.GetLink("a\0b")).Should().Throw<ArgumentException>();
    }
}
