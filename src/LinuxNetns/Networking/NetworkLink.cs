using System.Net.NetworkInformation;
using System.Text;

namespace LinuxNetns.Networking;

/// <summary>Interface flags (<c>IFF_*</c> of net/if.h), as <c>ip link</c> prints them in angle brackets.</summary>
[Flags]
public enum LinkFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>IFF_UP: administratively up (<c>ip link set dev X up</c>).</summary>
    Up = 0x1,
    /// <summary>IFF_BROADCAST.</summary>
    Broadcast = 0x2,
    /// <summary>IFF_DEBUG.</summary>
    Debug = 0x4,
    /// <summary>IFF_LOOPBACK.</summary>
    Loopback = 0x8,
    /// <summary>IFF_POINTOPOINT.</summary>
    PointToPoint = 0x10,
    /// <summary>IFF_NOTRAILERS.</summary>
    NoTrailers = 0x20,
    /// <summary>IFF_RUNNING: operationally up.</summary>
    Running = 0x40,
    /// <summary>IFF_NOARP.</summary>
    NoArp = 0x80,
    /// <summary>IFF_PROMISC.</summary>
    Promiscuous = 0x100,
    /// <summary>IFF_ALLMULTI.</summary>
    AllMulticast = 0x200,
    /// <summary>IFF_MASTER.</summary>
    Master = 0x400,
    /// <summary>IFF_SLAVE.</summary>
    Slave = 0x800,
    /// <summary>IFF_MULTICAST.</summary>
    Multicast = 0x1000,
    /// <summary>IFF_PORTSEL.</summary>
    PortSelect = 0x2000,
    /// <summary>IFF_AUTOMEDIA.</summary>
    AutoMedia = 0x4000,
    /// <summary>IFF_DYNAMIC.</summary>
    Dynamic = 0x8000,
    /// <summary>IFF_LOWER_UP: the carrier is on (for a veth: its peer is up).</summary>
    LowerUp = 0x10000,
    /// <summary>IFF_DORMANT.</summary>
    Dormant = 0x20000,
    /// <summary>IFF_ECHO.</summary>
    Echo = 0x40000,
}

/// <summary>The RFC 2863 operational state (<c>IF_OPER_*</c>), what <c>ip link</c> prints after <c>state</c>.</summary>
public enum LinkOperationalState : byte
{
    /// <summary>UNKNOWN (e.g. <c>lo</c>).</summary>
    Unknown = 0,
    /// <summary>NOTPRESENT.</summary>
    NotPresent = 1,
    /// <summary>DOWN.</summary>
    Down = 2,
    /// <summary>LOWERLAYERDOWN (e.g. a veth whose peer is down).</summary>
    LowerLayerDown = 3,
    /// <summary>TESTING.</summary>
    Testing = 4,
    /// <summary>DORMANT.</summary>
    Dormant = 5,
    /// <summary>UP.</summary>
    Up = 6,
}

/// <summary>A network interface of a namespace, as <c>ip link show</c> lists it.</summary>
public sealed class NetworkLink
{
    internal NetworkLink()
    {
    }

    /// <summary>The interface index (unique within its namespace only).</summary>
    public int Index { get; internal init; }

    /// <summary>The interface name, e.g. <c>veth0</c>.</summary>
    public string Name { get; internal init; } = "";

    /// <summary>The link kind (<c>IFLA_INFO_KIND</c>: <c>veth</c>, <c>bridge</c>, …), or null (e.g. <c>lo</c>, physical devices).</summary>
    public string? Kind { get; internal init; }

    /// <summary>The interface flags.</summary>
    public LinkFlags Flags { get; internal init; }

    /// <summary>True when administratively up (<see cref="LinkFlags.Up"/>).</summary>
    public bool IsUp => (Flags & LinkFlags.Up) != 0;

    /// <summary>The MTU in bytes.</summary>
    public int Mtu { get; internal init; }

    /// <summary>The operational state.</summary>
    public LinkOperationalState OperationalState { get; internal init; }

    /// <summary>The hardware (MAC) address, or null when the link has none.</summary>
    public PhysicalAddress? HardwareAddress { get; internal init; }

    /// <summary>The ARPHRD_* link type (1 = Ethernet, 772 = loopback).</summary>
    public int LinkType { get; internal init; }

    /// <summary>
    /// The index of the link this one is tied to (<c>IFLA_LINK</c>; for a veth: its peer), in the namespace given by
    /// <see cref="LinkNetnsId"/> when that is set, or null. <c>ip link</c> prints it as <c>NAME@ifINDEX</c>.
    /// </summary>
    public int? ParentIndex { get; internal init; }

    /// <summary>The nsid (as seen from this namespace) of the namespace of <see cref="ParentIndex"/>'s link when it is
    /// another one (<c>link-netnsid</c> in <c>ip link</c>), or null.</summary>
    public int? LinkNetnsId { get; internal init; }

    /// <summary>The index of the master device (e.g. a bridge), or null.</summary>
    public int? MasterIndex { get; internal init; }

    /// <summary>The transmit queue length.</summary>
    public int TransmitQueueLength { get; internal init; }

    /// <summary>The queueing discipline (e.g. <c>noqueue</c>), or null.</summary>
    public string? Qdisc { get; internal init; }

    /// <summary>One line in the manner of <c>ip -o link</c>: <c>2: veth0@if3: &lt;UP,LOWER_UP&gt; mtu 1500 state UP</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Index).Append(": ").Append(Name);
        if (ParentIndex is { } parent) sb.Append("@if").Append(parent);
        sb.Append(": <").Append(FlagNames(Flags)).Append("> mtu ").Append(Mtu).Append(" state ").Append(StateName(OperationalState));
        if (Kind is not null) sb.Append(' ').Append(Kind);
        return sb.ToString();
    }

    private static string FlagNames(LinkFlags flags)
    {
        var names = new List<string>();
        foreach ((LinkFlags flag, string name) in FlagTable)
        {
            if ((flags & flag) != 0) names.Add(name);
        }
        return string.Join(',', names);
    }

    private static readonly (LinkFlags, string)[] FlagTable =
    [
        (LinkFlags.Loopback, "LOOPBACK"), (LinkFlags.Broadcast, "BROADCAST"), (LinkFlags.PointToPoint, "POINTOPOINT"),
        (LinkFlags.Multicast, "MULTICAST"), (LinkFlags.NoArp, "NOARP"), (LinkFlags.AllMulticast, "ALLMULTI"),
        (LinkFlags.Promiscuous, "PROMISC"), (LinkFlags.Master, "MASTER"), (LinkFlags.Slave, "SLAVE"),
        (LinkFlags.Up, "UP"), (LinkFlags.LowerUp, "LOWER_UP"), (LinkFlags.Dormant, "DORMANT"),
    ];

    private static string StateName(LinkOperationalState state) => state switch
    {
        LinkOperationalState.NotPresent => "NOTPRESENT",
        LinkOperationalState.LowerLayerDown => "LOWERLAYERDOWN",
        _ => state.ToString().ToUpperInvariant(),
    };
}
