using System.Net;
using System.Net.Sockets;

namespace LinuxNetns.Testing;

/// <summary>
/// The routes a built network needs so that hosts in different subnets reach each other through its routers: for
/// every host and router, a route to each subnet it is not on, via the first router on the way. A breadth-first search
/// over routers, per address family, so the path with the fewest routers wins and hosts never carry transit traffic.
/// </summary>
internal static class VirtualRoutes
{
    /// <summary>A link or a switch: the interfaces (of hosts and routers) that reach each other directly.</summary>
    internal sealed record Segment(List<VirtualInterface> Members);

    public static void AddAll(IReadOnlyList<VirtualHost> nodes)
    {
        List<Segment> segments = Segments(nodes);
        foreach (AddressFamily family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            foreach (VirtualHost node in nodes.Where(n => n.Kind != VirtualHostKind.Switch))
            {
                foreach ((IPNetwork destination, IPAddress gateway) in RoutesOf(node, segments, family))
                    node.Namespace.Network.AddRoute(destination, gateway);
            }
        }
    }

    /// <summary>The routes <paramref name="node"/> needs in <paramref name="family"/>, nearest subnets first.</summary>
    internal static List<(IPNetwork Destination, IPAddress Gateway)> RoutesOf(VirtualHost node, IReadOnlyList<Segment> segments, AddressFamily family)
    {
        var routes = new List<(IPNetwork, IPAddress)>();
        var known = new HashSet<IPNetwork>(Subnets(node, family));
        var visited = new HashSet<VirtualHost> { node };
        var queue = new Queue<(VirtualHost Router, IPAddress Gateway)>();
        // The first hops: routers on a segment the node is on, by their address there.
        foreach ((VirtualInterface mine, VirtualInterface theirs) in Neighbours(node, segments))
        {
            if (theirs.Host.Kind == VirtualHostKind.Router && AddressOf(mine, family) is not null
                && AddressOf(theirs, family) is { } gateway && visited.Add(theirs.Host))
                queue.Enqueue((theirs.Host, gateway));
        }
        while (queue.TryDequeue(out (VirtualHost Router, IPAddress Gateway) hop))
        {
            foreach (IPNetwork subnet in Subnets(hop.Router, family))
            {
                if (known.Add(subnet)) routes.Add((subnet, hop.Gateway));
            }
            foreach ((VirtualInterface mine, VirtualInterface theirs) in Neighbours(hop.Router, segments))
            {
                if (theirs.Host.Kind == VirtualHostKind.Router && AddressOf(mine, family) is not null
                    && AddressOf(theirs, family) is not null && visited.Add(theirs.Host))
                    queue.Enqueue((theirs.Host, hop.Gateway));
            }
        }
        return routes;
    }

    /// <summary>Each point-to-point link is a segment of two; each switch is one segment of the hosts on its ports.</summary>
    internal static List<Segment> Segments(IReadOnlyList<VirtualHost> nodes)
    {
        var segments = new List<Segment>();
        foreach (VirtualHost node in nodes)
        {
            if (node.Kind == VirtualHostKind.Switch)
            {
                segments.Add(new Segment(node.Interfaces.Select(port => port.Peer).ToList()));
                continue;
            }
            // A link between two hosts or routers, counted once: from the end whose peer is a later node.
            foreach (VirtualInterface end in node.Interfaces)
            {
                VirtualHost peer = end.Peer.Host;
                if (peer.Kind != VirtualHostKind.Switch && Index(nodes, peer) > Index(nodes, node))
                    segments.Add(new Segment([end, end.Peer]));
            }
        }
        return segments;
    }

    private static int Index(IReadOnlyList<VirtualHost> nodes, VirtualHost node)
    {
        for (int i = 0; i < nodes.Count; i++)
        {
            if (ReferenceEquals(nodes[i], node)) return i;
        }
        return -1;
    }

    /// <summary>Pairs of (the node's interface, another member's interface) of every segment the node is on.</summary>
    private static IEnumerable<(VirtualInterface Mine, VirtualInterface Theirs)> Neighbours(VirtualHost node, IReadOnlyList<Segment> segments) =>
        from segment in segments
        from mine in segment.Members
        where mine.Host == node
        from theirs in segment.Members
        where theirs.Host != node
        select (mine, theirs);

    private static IPAddress? AddressOf(VirtualInterface end, AddressFamily family) =>
        end.Addresses.Select(a => a.Address).FirstOrDefault(a => a.AddressFamily == family);

    private static IEnumerable<IPNetwork> Subnets(VirtualHost node, AddressFamily family) =>
        from end in node.Interfaces
        from address in end.Addresses
        where address.Address.AddressFamily == family
        select SubnetOf(address.Address, address.PrefixLength);

    /// <summary>The network an address is on: the address with its host bits cleared.</summary>
    internal static IPNetwork SubnetOf(IPAddress address, int prefixLength)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int bit = prefixLength; bit < bytes.Length * 8; bit++) bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPNetwork(new IPAddress(bytes), prefixLength);
    }
}
