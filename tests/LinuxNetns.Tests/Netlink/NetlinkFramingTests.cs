using LinuxNetns.Netlink;
using static LinuxNetns.Tests.Netlink.Wire;

namespace LinuxNetns.Tests.Netlink;

/// <summary>
/// The framing under every request and reply: attribute alignment and nesting in the builder, splitting a datagram
/// into messages, and reading an NLMSG_ERROR (ACK, refusal, extended ACK). Pure: no socket, no kernel, no root.
/// </summary>
public sealed class NetlinkFramingTests
{
    [Fact]
    public void Request_builder_aligns_attributes_and_closes_nested_ones()
    {
        var r = new NetlinkRequest(Rtnl.RTM_NEWLINK, Rtnl.NLM_F_CREATE);
        r.Header(new IfInfoMsg());
        r.AttributeString(Rtnl.IFLA_IFNAME, "ab"); // 4 + 3 -> padded to 8
        r.BeginNested(Rtnl.IFLA_LINKINFO);
        r.AttributeString(Rtnl.IFLA_INFO_KIND, "veth"); // 4 + 5 -> 12
        r.EndNested();
        byte[] bytes = r.Complete(77).ToArray();

        bytes.Length.Should().Be(16 + 16 + 8 + 4 + 12);
        BitConverter.ToUInt32(bytes, 0).Should().Be((uint)bytes.Length);
        BitConverter.ToUInt16(bytes, 4).Should().Be(Rtnl.RTM_NEWLINK);
        BitConverter.ToUInt16(bytes, 6).Should().Be(Rtnl.NLM_F_CREATE | Rtnl.NLM_F_REQUEST);
        BitConverter.ToUInt32(bytes, 8).Should().Be(77u);
        BitConverter.ToUInt16(bytes, 32).Should().Be((ushort)7, "nla_len excludes the padding");
        BitConverter.ToUInt16(bytes, 40).Should().Be((ushort)16, "a nested length covers its padded children");

        var message = new NetlinkMessage(Rtnl.RTM_NEWLINK, 0, 77, 0, bytes[16..]);
        var seen = new List<(ushort, string)>();
        foreach (AttributeReader a in message.Attributes<IfInfoMsg>())
        {
            if (a.Type == Rtnl.IFLA_IFNAME) seen.Add((a.Type, a.String));
            if (a.Type == Rtnl.IFLA_LINKINFO)
            {
                foreach (AttributeReader n in a.Nested) seen.Add((n.Type, n.String));
            }
        }
        seen.Should().Equal((Rtnl.IFLA_IFNAME, "ab"), (Rtnl.IFLA_INFO_KIND, "veth"));
    }

    [Fact]
    public void The_family_headers_have_their_uapi_sizes()
    {
        System.Runtime.InteropServices.Marshal.SizeOf<IfInfoMsg>().Should().Be(16);
        System.Runtime.InteropServices.Marshal.SizeOf<IfAddrMsg>().Should().Be(8);
        System.Runtime.InteropServices.Marshal.SizeOf<RtMsg>().Should().Be(12);
        System.Runtime.InteropServices.Marshal.SizeOf<RtGenMsg>().Should().Be(1, "padded to 4 by NLMSG_ALIGN on the wire");
    }

    [Fact]
    public void A_datagram_splits_into_its_aligned_messages()
    {
        byte[] datagram = Hex(
            "15000000 1000 0200 07000000 2a000000 0102030405 000000" + // 21 bytes (5 of payload), padded to 24
            "14000000 0300 0200 07000000 2a000000 00000000");          // NLMSG_DONE, errno 0
        var messages = new List<NetlinkMessage>();
        NetlinkMessage.Split(datagram, messages).Should().BeNull();
        messages.Select(m => (m.Type, m.Flags, m.Sequence, m.PortId, m.Payload.Length))
            .Should().Equal(((ushort)16, (ushort)2, 7u, 42u, 5), ((ushort)3, (ushort)2, 7u, 42u, 4));
        messages[0].Payload.Should().Equal(1, 2, 3, 4, 5);
    }

    [Fact]
    public void A_truncated_or_lying_message_header_is_malformed_and_keeps_what_came_before()
    {
        var messages = new List<NetlinkMessage>();
        NetlinkMessage.Split(Hex("14000000 0300 0000 01000000 00000000 00000000 0800"), messages)
            .Should().Be("2 stray bytes at offset 20 of the datagram, too few for a message header");
        messages.Should().ContainSingle();

        NetlinkMessage.Split(Hex("40000000 0300 0000 01000000 00000000 00000000"), messages = [])
            .Should().Be("a message at offset 0 claims 64 bytes, of 20 left in the datagram");
        messages.Should().BeEmpty();
        NetlinkMessage.Split(Hex("08000000 0300 0000 01000000 00000000"), [])
            .Should().Contain("claims 8 bytes", "a length below the header's own 16 is refused too");
    }

    [Fact]
    public void An_error_message_shorter_than_struct_nlmsgerr_is_malformed_not_an_ack()
    {
        var shortError = new NetlinkMessage(Rtnl.NLMSG_ERROR, 0, 1, 0, new byte[4]); // errno 0 and nothing else
        shortError.ParseError().Malformed.Should().Contain("shorter than struct nlmsgerr");

        var ack = new NetlinkMessage(Rtnl.NLMSG_ERROR, 0, 1, 0, new byte[4 + Rtnl.HeaderLength]);
        ack.ParseError().Should().Be((0, (string?)null, (string?)null), "a complete nlmsgerr with errno 0 is the ACK");
        var done = new NetlinkMessage(Rtnl.NLMSG_DONE, 0, 1, 0, new byte[4]);
        done.ParseError().Malformed.Should().BeNull("NLMSG_DONE carries only the errno");
    }

    [Fact]
    public void A_refusal_carries_the_negative_errno_and_the_extended_ack_text()
    {
        byte[] echoedHeader = Hex("20000000 1000 0506 01000000 00000000"); // our request's nlmsghdr (capped: no payload)
        byte[] errno = BitConverter.GetBytes(-17);                          // EEXIST
        byte[] text = Attr(Rtnl.NLMSGERR_ATTR_MSG, "File exists");
        var capped = new NetlinkMessage(Rtnl.NLMSG_ERROR, Rtnl.NLM_F_CAPPED | Rtnl.NLM_F_ACK_TLVS, 1, 0,
            Concat(errno, echoedHeader, Attr(Rtnl.NLMSGERR_ATTR_OFFS, 32), text));
        capped.ParseError().Should().Be((17, "File exists", (string?)null));

        // Not capped: the whole request is echoed (its nlmsg_len says how much) before the attributes.
        byte[] echoedRequest = Hex("18000000 1000 0506 01000000 00000000 aabbccdd eeff0011");
        var uncapped = new NetlinkMessage(Rtnl.NLMSG_ERROR, Rtnl.NLM_F_ACK_TLVS, 1, 0, Concat(errno, echoedRequest, text));
        uncapped.ParseError().Text.Should().Be("File exists");

        var plain = new NetlinkMessage(Rtnl.NLMSG_ERROR, 0, 1, 0, Concat(errno, echoedHeader, text));
        plain.ParseError().Should().Be((17, (string?)null, (string?)null), "without NLM_F_ACK_TLVS what follows is not read");
        var doneWithText = new NetlinkMessage(Rtnl.NLMSG_DONE, Rtnl.NLM_F_ACK_TLVS, 1, 0, Concat(BitConverter.GetBytes(-16), text));
        doneWithText.ParseError().Should().Be((16, "File exists", (string?)null), "NLMSG_DONE's attributes follow the errno directly");
    }

    [Fact]
    public void Attribute_types_are_read_without_the_nested_and_byte_order_bits()
    {
        byte[] attributes = Concat(
            Attr((ushort)(Rtnl.IFLA_LINKINFO | Rtnl.NLA_F_NESTED), Attr(Rtnl.IFLA_INFO_KIND, "veth")),
            Attr((ushort)(Rtnl.IFLA_MTU | Rtnl.NLA_F_NET_BYTEORDER), 1500));
        var types = new List<ushort>();
        foreach (AttributeReader a in new AttributeReader(attributes)) types.Add(a.Type);
        types.Should().Equal(Rtnl.IFLA_LINKINFO, Rtnl.IFLA_MTU);
    }
}
