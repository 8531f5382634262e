using System.Net;
using System.Text;

namespace LinuxNetns.Networking;

/// <summary>A route of a namespace's routing tables, as <c>ip route show table all</c> lists it.</summary>
public sealed class NetworkRoute
{
    internal NetworkRoute()
    {
    }

    /// <summary>The destination network (<c>0.0.0.0/0</c> or <c>::/0</c> for a default route).</summary>
    public IPNetwork Destination { get; internal init; }

    /// <summary>The next hop, or null for a directly connected route.</summary>
    public IPAddress? Gateway { get; internal init; }

    /// <summary>The index of the outgoing link, or null.</summary>
    public int? OutputLinkIndex { get; internal init; }

    /// <summary>The name of the outgoing link, or null.</summary>
    public string? OutputLinkName { get; internal init; }

    /// <summary>The preferred source address, or null.</summary>
    public IPAddress? PreferredSource { get; internal init; }

    /// <summary>The routing table (254 = main, 255 = local).</summary>
    public int Table { get; internal init; }

    /// <summary>The route's scope.</summary>
    public AddressScope Scope { get; internal init; }

    /// <summary>The RTPROT_* origin (2 = kernel, 3 = boot, i.e. added by hand).</summary>
    public int Protocol { get; internal init; }

    /// <summary>The RTN_* route type (1 = unicast, 2 = local, 3 = broadcast, 5 = multicast).</summary>
    public int Type { get; internal init; }

    /// <summary>The metric (priority), or null.</summary>
    public int? Metric { get; internal init; }

    /// <summary>In the manner of <c>ip route</c>: <c>10.0.0.0/24 via 10.0.0.1 dev veth0</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Destination.PrefixLength == 0 ? "default" : Destination.ToString());
        if (Gateway is not null) sb.Append(" via ").Append(Gateway);
        if (OutputLinkName is not null) sb.Append(" dev ").Append(OutputLinkName);
        if (Table != 254) sb.Append(" table ").Append(Table);
        return sb.ToString();
    }
}
