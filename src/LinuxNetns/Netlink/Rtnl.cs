namespace LinuxNetns.Netlink;

/// <summary>Numbers from linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h, linux/net_namespace.h and
/// linux/pkt_sched.h.</summary>
internal static class Rtnl
{
    // nlmsghdr.nlmsg_type: control messages
    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLMSG_OVERRUN = 4;

    // nlmsghdr.nlmsg_flags
    public const ushort NLM_F_REQUEST = 0x1;
    public const ushort NLM_F_MULTI = 0x2;
    public const ushort NLM_F_ACK = 0x4;
    public const ushort NLM_F_DUMP_INTR = 0x10;
    public const ushort NLM_F_ROOT = 0x100;
    public const ushort NLM_F_MATCH = 0x200;
    public const ushort NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    public const ushort NLM_F_REPLACE = 0x100;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;

    // flags of an NLMSG_ERROR / NLMSG_DONE reply
    public const ushort NLM_F_CAPPED = 0x100;
    public const ushort NLM_F_ACK_TLVS = 0x200;

    // extended ACK attributes (enum nlmsgerr_attrs)
    public const ushort NLMSGERR_ATTR_MSG = 1;
    public const ushort NLMSGERR_ATTR_OFFS = 2;

    // nlattr.nla_type flag bits
    public const ushort NLA_F_NESTED = 0x8000;
    public const ushort NLA_F_NET_BYTEORDER = 0x4000;
    public const ushort NLA_TYPE_MASK = 0x3fff;

    public const int HeaderLength = 16; // sizeof(struct nlmsghdr)
    public const int AttributeHeaderLength = 4; // sizeof(struct nlattr)

    /// <summary>NLMSG_ALIGN / NLA_ALIGN: both round up to 4 bytes.</summary>
    public static int Align(int length) => (length + 3) & ~3;

    // rtnetlink message types
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_DELLINK = 17;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_NEWADDR = 20;
    public const ushort RTM_DELADDR = 21;
    public const ushort RTM_GETADDR = 22;
    public const ushort RTM_NEWROUTE = 24;
    public const ushort RTM_DELROUTE = 25;
    public const ushort RTM_GETROUTE = 26;
    public const ushort RTM_NEWQDISC = 36;
    public const ushort RTM_DELQDISC = 37;
    public const ushort RTM_GETQDISC = 38;
    public const ushort RTM_NEWNSID = 88;
    public const ushort RTM_DELNSID = 89;
    public const ushort RTM_GETNSID = 90;

    // address families
    public const byte AF_UNSPEC = 0;
    public const byte AF_INET = 2;
    public const byte AF_INET6 = 10;

    // net_namespace.h: NETNSA_*
    public const ushort NETNSA_NSID = 1;
    public const ushort NETNSA_PID = 2;
    public const ushort NETNSA_FD = 3;
    public const ushort NETNSA_TARGET_NSID = 4;
    public const ushort NETNSA_CURRENT_NSID = 5;
    public const int NETNSA_NSID_NOT_ASSIGNED = -1;

    // if_link.h: IFLA_*
    public const ushort IFLA_ADDRESS = 1;
    public const ushort IFLA_BROADCAST = 2;
    public const ushort IFLA_IFNAME = 3;
    public const ushort IFLA_MTU = 4;
    public const ushort IFLA_LINK = 5;
    public const ushort IFLA_QDISC = 6;
    public const ushort IFLA_MASTER = 10;
    public const ushort IFLA_TXQLEN = 13;
    public const ushort IFLA_OPERSTATE = 16;
    public const ushort IFLA_LINKINFO = 18;
    public const ushort IFLA_NET_NS_PID = 19;
    public const ushort IFLA_GROUP = 27;
    public const ushort IFLA_NET_NS_FD = 28;
    public const ushort IFLA_EXT_MASK = 29;
    public const ushort IFLA_LINK_NETNSID = 37;

    // IFLA_EXT_MASK bits (rtnetlink.h: RTEXT_FILTER_*)
    public const uint RTEXT_FILTER_VF = 1;
    public const uint RTEXT_FILTER_SKIP_STATS = 1 << 3;

    // IFLA_LINKINFO nested
    public const ushort IFLA_INFO_KIND = 1;
    public const ushort IFLA_INFO_DATA = 2;

    // veth.h
    public const ushort VETH_INFO_PEER = 1;

    // if_link.h: IFLA_BR_* (IFLA_INFO_DATA of a bridge)
    public const ushort IFLA_BR_MCAST_SNOOPING = 23;

    // rtnetlink.h: TCA_* (attributes of a tcmsg); pkt_sched.h: TCA_TBF_*, TC_H_ROOT, TC_LINKLAYER_*
    public const ushort TCA_KIND = 1;
    public const ushort TCA_OPTIONS = 2;
    public const ushort TCA_TBF_PARMS = 1;
    public const ushort TCA_TBF_RATE64 = 4;
    public const ushort TCA_TBF_BURST = 6;
    public const uint TC_H_ROOT = 0xFFFFFFFF;
    public const byte TC_LINKLAYER_ETHERNET = 1;
    public const int PschedTickNs = 64; // 1 << PSCHED_SHIFT nanoseconds: the unit of tc_tbf_qopt.buffer

    // if_addr.h: IFA_*
    public const ushort IFA_ADDRESS = 1;
    public const ushort IFA_LOCAL = 2;
    public const ushort IFA_LABEL = 3;
    public const ushort IFA_BROADCAST = 4;
    public const ushort IFA_FLAGS = 8;
    public const byte IFA_F_NODAD = 0x02;

    // rtnetlink.h: RTA_*
    public const ushort RTA_DST = 1;
    public const ushort RTA_SRC = 2;
    public const ushort RTA_OIF = 4;
    public const ushort RTA_GATEWAY = 5;
    public const ushort RTA_PRIORITY = 6;
    public const ushort RTA_PREFSRC = 7;
    public const ushort RTA_TABLE = 15;

    public const byte RT_TABLE_MAIN = 254;
    public const byte RTPROT_BOOT = 3;
    public const byte RTN_UNICAST = 1;
    public const byte RT_SCOPE_UNIVERSE = 0;
    public const byte RT_SCOPE_LINK = 253;
    public const byte RT_SCOPE_HOST = 254;
    public const byte RT_SCOPE_NOWHERE = 255;

    // net/if.h
    public const uint IFF_UP = 0x1;

    /// <summary>The symbolic name of a message type, for errors and logs.</summary>
    public static string TypeName(ushort type) => type switch
    {
        RTM_NEWLINK => "RTM_NEWLINK",
        RTM_DELLINK => "RTM_DELLINK",
        RTM_GETLINK => "RTM_GETLINK",
        RTM_NEWADDR => "RTM_NEWADDR",
        RTM_DELADDR => "RTM_DELADDR",
        RTM_GETADDR => "RTM_GETADDR",
        RTM_NEWROUTE => "RTM_NEWROUTE",
        RTM_DELROUTE => "RTM_DELROUTE",
        RTM_GETROUTE => "RTM_GETROUTE",
        RTM_NEWQDISC => "RTM_NEWQDISC",
        RTM_DELQDISC => "RTM_DELQDISC",
        RTM_GETQDISC => "RTM_GETQDISC",
        RTM_NEWNSID => "RTM_NEWNSID",
        RTM_DELNSID => "RTM_DELNSID",
        RTM_GETNSID => "RTM_GETNSID",
        _ => $"message type {type}",
    };
}
