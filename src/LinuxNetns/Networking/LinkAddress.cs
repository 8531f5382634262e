using System.Net;

namespace LinuxNetns.Networking;

/// <summary>An address's scope (<c>RT_SCOPE_*</c>), what <c>ip addr</c> prints after <c>scope</c>.</summary>
public enum AddressScope : byte
{
    /// <summary>global (universe).</summary>
    Global = 0,
    /// <summary>site.</summary>
    Site = 200,
    /// <summary>link (e.g. IPv6 fe80::/64).</summary>
    Link = 253,
    /// <summary>host (e.g. 127.0.0.1, ::1).</summary>
    Host = 254,
    /// <summary>nowhere.</summary>
    Nowhere = 255,
}

/// <summary>Address flags (<c>IFA_F_*</c>), what <c>ip addr</c> prints after the scope.</summary>
[Flags]
public enum AddressFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>secondary (IPv4) / temporary (IPv6).</summary>
    Secondary = 0x1,
    /// <summary>nodad: no duplicate address detection (IPv6).</summary>
    NoDad = 0x2,
    /// <summary>optimistic (IPv6).</summary>
    Optimistic = 0x4,
    /// <summary>dadfailed (IPv6).</summary>
    DadFailed = 0x8,
    /// <summary>home (IPv6 mobility).</summary>
    HomeAddress = 0x10,
    /// <summary>deprecated (IPv6).</summary>
    Deprecated = 0x20,
    /// <summary>tentative: duplicate address detection still runs; the address cannot be bound yet (IPv6).</summary>
    Tentative = 0x40,
    /// <summary>permanent: added by hand, not by autoconfiguration.</summary>
    Permanent = 0x80,
    /// <summary>mngtmpaddr (IPv6).</summary>
    ManageTemporaryAddress = 0x100,
    /// <summary>noprefixroute.</summary>
    NoPrefixRoute = 0x200,
    /// <summary>autojoin.</summary>
    MulticastAutoJoin = 0x400,
    /// <summary>stable-privacy (IPv6).</summary>
    StablePrivacy = 0x800,
}

/// <summary>An IP address on a link, as <c>ip addr show</c> lists it.</summary>
public sealed class LinkAddress
{
    internal LinkAddress()
    {
    }

    /// <summary>The index of the link the address is on.</summary>
    public int LinkIndex { get; internal init; }

    /// <summary>The name of the link the address is on.</summary>
    public string LinkName { get; internal init; } = "";

    /// <summary>The address (the local one, <c>IFA_LOCAL</c>, where it differs from <see cref="Peer"/>).</summary>
    public IPAddress Address { get; internal init; } = IPAddress.None;

    /// <summary>The prefix length, e.g. 24.</summary>
    public int PrefixLength { get; internal init; }

    /// <summary>The peer address of a point-to-point address, or null.</summary>
    public IPAddress? Peer { get; internal init; }

    /// <summary>The IPv4 broadcast address, or null.</summary>
    public IPAddress? Broadcast { get; internal init; }

    /// <summary>The scope.</summary>
    public AddressScope Scope { get; internal init; }

    /// <summary>The flags.</summary>
    public AddressFlags Flags { get; internal init; }

    /// <summary>The IPv4 label (usually the link name), or null.</summary>
    public string? Label { get; internal init; }

    /// <summary><c>ADDRESS/PREFIX</c>, e.g. <c>10.0.0.1/24</c>.</summary>
    public override string ToString() => $"{Address}/{PrefixLength}";
}
