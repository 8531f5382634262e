using System.Runtime.InteropServices;

namespace LinuxNetns.Netlink;

/// <summary>struct rtgenmsg: just a family byte (padded to 4 on the wire).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RtGenMsg
{
    public byte Family;
}

/// <summary>struct ifinfomsg (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IfInfoMsg
{
    public byte Family;
    private byte _pad;
    public ushort Type;
    public int Index;
    public uint Flags;
    public uint Change;
}

/// <summary>struct ifaddrmsg (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IfAddrMsg
{
    public byte Family;
    public byte PrefixLength;
    public byte Flags;
    public byte Scope;
    public int Index;
}

/// <summary>struct rtmsg (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RtMsg
{
    public byte Family;
    public byte DestinationLength;
    public byte SourceLength;
    public byte Tos;
    public byte Table;
    public byte Protocol;
    public byte Scope;
    public byte Type;
    public uint Flags;
}

/// <summary>struct tcmsg (20 bytes): the header of a traffic-control (qdisc) message.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcMsg
{
    public byte Family;
    private byte _pad1;
    private ushort _pad2;
    public int Index;
    public uint Handle;
    public uint Parent;
    public uint Info;
}

/// <summary>struct tc_ratespec (12 bytes), a rate as the traffic-control messages carry it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcRateSpec
{
    public byte CellLog;
    public byte LinkLayer;
    public ushort Overhead;
    public short CellAlign;
    public ushort Mpu;
    public uint Rate; // bytes per second; 0xFFFFFFFF with TCA_TBF_RATE64 beside it for faster rates
}

/// <summary>struct tc_tbf_qopt (36 bytes): a token bucket's rate, peak rate, queue limit, bucket and peak bucket.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcTbfQopt
{
    public TcRateSpec Rate;
    public TcRateSpec PeakRate;
    public uint Limit;  // bytes the queue may hold
    public uint Buffer; // the bucket, as the time it takes to send it at Rate, in psched ticks (64 ns)
    public uint Mtu;    // the peak bucket, likewise (unused without a peak rate)
}
